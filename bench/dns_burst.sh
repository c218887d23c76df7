#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# dns_burst.sh - a burst of 1,000 concurrent corio_resolve calls against
# dnsmasq (bench/dns_burst.c), by address family: AF_INET (1,000 queries)
# and AF_UNSPEC (2,000: A and AAAA).  Goal: a median under 1 s; without
# the resolver's window, lost datagrams made it 15 s and more.
#
# dnsmasq (Debian package dnsmasq-base) runs on a free port of 127.0.0.1
# with a fixed configuration: no upstream server, no resolv.conf, no
# /etc/hosts; it answers nI.bench from a hosts file written here, and
# NXDOMAIN for anything else under .bench.  It runs pinned to CPU 0, the
# resolving loop to CPU 1.
#
# Usage: bench/dns_burst.sh --bindir BUILD_DIR [--names N] [--runs N]
#                           [--max-queries N] [--timeout-ms MS]
# --max-queries sets the resolver's window (corio_resolver_opts; a huge
# one turns it off), --timeout-ms c-ares's first-try timeout.
# Output: name=value lines, medians of --runs runs (default 5).
set -euo pipefail
prog=dns_burst
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bindir=
names=1000
runs=5
max_queries=0
timeout_ms=0
while [ $# -gt 0 ]; do
	case $1 in
	--bindir) bindir=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--max-queries) max_queries=$2; shift 2 ;;
	--timeout-ms) timeout_ms=$2; shift 2 ;;
	*) die "unknown option '$1'" ;;
	esac
done
[ -n "$bindir" ] || die "usage: dns_burst.sh --bindir BUILD_DIR"
burst=$bindir/bench/dns_burst
[ -x "$burst" ] || die "$burst is not built (c-ares missing?)"
dnsmasq=$(PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v dnsmasq) ||
	die "dnsmasq is not installed (Debian package dnsmasq-base)"

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/corio-dns-bench.XXXXXX")
server_pid=
install_traps
for ((i = 0; i < names; i++)); do
	echo "10.1.$((i >> 8 & 255)).$((i & 255)) n$i.bench"
done >"$tmpdir/hosts"
cat >"$tmpdir/conf" <<CONF
no-resolv
no-hosts
addn-hosts=$tmpdir/hosts
local=/bench/
CONF
pin0=() pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin0=(taskset -c 0) pin1=(taskset -c 1)
fi

# A random port below the ephemeral range; another program may hold it,
# so try a few.  dnsmasq's complaints go to its log.
for ((try = 0; try < 5; try++)); do
	port=$((20000 + RANDOM % 12000))
	# As root dnsmasq would switch to "nobody", which may not exist.
	"${pin0[@]}" "$dnsmasq" --conf-file="$tmpdir/conf" \
		--keep-in-foreground --port="$port" \
		--listen-address=127.0.0.1 --bind-interfaces \
		--user="$(id -un)" --pid-file= \
		--log-facility="$tmpdir/log" 2>>"$tmpdir/log" &
	server_pid=$!
	wait_listening "$server_pid" "$port" && break
	stop_proc "$server_pid" || true
	server_pid=
done
[ -n "$server_pid" ] || die "dnsmasq would not start: $(tail -3 "$tmpdir/log")"

echo "dns_burst.dnsmasq=$("$dnsmasq" --version | head -1)"
for family in inet unspec; do
	"${pin1[@]}" "$burst" --server "127.0.0.1:$port" --names "$names" \
		--runs "$runs" --family "$family" --max-queries "$max_queries" \
		--timeout-ms "$timeout_ms"
done
