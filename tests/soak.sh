#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# soak.sh - churn soak of samples/echo_server --loops 2: thousands of
# connections that close and reopen for the whole run, every echo checked
# byte for byte (bench/echo_load -r), then the server's descriptors and
# memory compared with the start.
#
# Usage: tests/soak.sh [SECONDS] [--bindir DIR] [--conns N] [--trips N]
#                      [--loops N] [--rss-growth-kib K]
#
# SECONDS          length of the load (default 60; CI runs 60).
# --bindir DIR     build directory holding samples/echo_server and
#                  bench/echo_load (default build).
# --conns N        connections open at once (default 2000).
# --trips N        round trips per connection before it is replaced
#                  (default 10; closes alternate graceful / reset).
# --loops N        the server's loops (default 2).
# --rss-growth-kib K  most the server's RSS may grow between a quarter of
#                  the run (every connection up, its caches warm) and the
#                  end of the load (default 4096).
#
# The server runs pinned to CPU 0, the load to CPU 1 (when there are two),
# on a port the server picks, on 127.0.0.1 only.  Checks, each failing the
# run: the load saw no error (short, wrong or missing echo, refused or
# dropped connection, data after a close); the server's open descriptors
# (/proc/PID/fd) fall back to their count before the load within 10 s;
# its RSS grew by at most K KiB over the last three quarters of the load;
# it exits 0 on SIGTERM.  Prints soak.* name=value lines (RSS in KiB).
# Exit status 0 pass, 1 fail, 2 bad usage or missing programs.
set -euo pipefail

duration=60
bindir=build
conns=2000
trips=10
loops=2
rss_growth=4096

prog=soak
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../bench/lib.sh"

while (($#)); do
	case $1 in
	--bindir) bindir=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--trips) trips=$2; shift 2 ;;
	--loops) loops=$2; shift 2 ;;
	--rss-growth-kib) rss_growth=$2; shift 2 ;;
	[0-9]*) duration=$1; shift ;;
	*) sed -n '9,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
server_bin=$bindir/samples/echo_server
load_bin=$bindir/bench/echo_load
[[ -x $server_bin && -x $load_bin ]] ||
	die "$server_bin and $load_bin must be built"
((duration >= 4)) || die "SECONDS must be 4 or more"

# Both sides raise their own soft limit to the hard one; say so early when
# even that is short of the connections plus a margin.
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= conns + 64)) ||
	die "$conns connections need more than $(ulimit -n) descriptors"

server_cpu=0 load_cpu=1
if (($(nproc) < 2)); then
	load_cpu=0
fi

tmpdir=$(mktemp -d)
install_traps

fd_count() { local fds=("/proc/$1/fd"/*); echo "${#fds[@]}"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fail() { echo "$prog: FAIL: $*" >&2; exit 1; }

: >"$tmpdir/server.out"	# polled before the server may have opened it
taskset -c "$server_cpu" "$server_bin" --loops "$loops" 0 \
	>"$tmpdir/server.out" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 200); do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
		"$tmpdir/server.out")
	[[ -n $port ]] && break
	alive "$server_pid" || fail "echo_server died: $(cat "$tmpdir/server.out")"
	sleep 0.05
done
[[ -n $port ]] || fail "echo_server never said where it listens"

fds_start=$(fd_count "$server_pid")
rss_start=$(rss_kib "$server_pid")
echo "$prog: echo_server --loops $loops (pid $server_pid) on port $port:" \
	"$conns connections, $trips round trips each, ${duration} s" >&2

taskset -c "$load_cpu" "$load_bin" -c "$conns" -d "$duration" -w 0 \
	-r "$trips" -p "$port" >"$tmpdir/load.out" 2>"$tmpdir/load.err" &
load_pid=$!

# RSS once a second; the reference is taken a quarter into the run.
warm_at=$((duration / 4))
rss_warm=
rss_peak=$rss_start
rss_last=$rss_start
for ((t = 1; ; t++)); do
	sleep 1
	alive "$load_pid" || break
	alive "$server_pid" || fail "echo_server died under load"
	rss_last=$(rss_kib "$server_pid")
	((rss_last > rss_peak)) && rss_peak=$rss_last
	((t == warm_at)) && rss_warm=$rss_last
	((t > duration + 60)) && fail "echo_load still runs after $t s"
done
load_status=0
wait "$load_pid" || load_status=$?
load_pid=
cat "$tmpdir/load.err" >&2
[[ -n $rss_warm ]] || fail "the load ended before ${warm_at} s"

# The load's sockets are closed; the server closes its ends as it reads
# the EOFs and resets.
fds_end=$(fd_count "$server_pid")
for _ in $(seq 1 200); do
	((fds_end <= fds_start)) && break
	sleep 0.05
	fds_end=$(fd_count "$server_pid")
done
rss_end=$(rss_kib "$server_pid")

server_status=0
stop_proc "$server_pid" || server_status=$?
server_pid=

val() { sed -n "s/^$1=//p" "$tmpdir/load.out"; }
errors=$(val errors)
cat <<EOF
soak.duration_s=$duration
soak.conns=$conns
soak.opened=$(val opened)
soak.closed_graceful=$(val closed_graceful)
soak.closed_reset=$(val closed_reset)
soak.round_trips=$(val requests)
soak.rps=$(val rps)
soak.errors=${errors:-missing}
soak.fds_start=$fds_start
soak.fds_end=$fds_end
soak.rss_start=$rss_start
soak.rss_warm=$rss_warm
soak.rss_peak=$rss_peak
soak.rss_load_end=$rss_last
soak.rss_end=$rss_end
EOF

((load_status == 0)) || fail "echo_load exited with status $load_status"
[[ $errors == 0 ]] || fail "echo_load counted ${errors:-no} errors"
((fds_end == fds_start)) ||
	fail "echo_server has $fds_end descriptors open, $fds_start at start"
((rss_last - rss_warm <= rss_growth)) ||
	fail "echo_server's RSS grew by $((rss_last - rss_warm)) KiB" \
		"after the first quarter (at most $rss_growth)"
((server_status == 0)) ||
	fail "echo_server exited with status $server_status on SIGTERM"
echo "$prog: ok" >&2
