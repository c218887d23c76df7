#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# conn_mem.sh - server memory per idle connection: corio's echo_server
# (and http_server) next to the raw liburing and epoll echo baselines,
# measured in the same run, results as name=value lines.
#
# Usage: bench/conn_mem.sh [--conns "1000 10000"] [--runs 5] [--size 64]
#            [--warmup 1024] [--port BASE] [--bindir DIR]
#            [--servers "uring epoll"] [--corio ECHO_SERVER]
#            [--http HTTP_SERVER] [--backends "uring epoll"] [--table]
#
# --bindir DIR  holds echo_uring, echo_epoll and conn_mem; without it they
#               are built from bench/ with ${CC:-cc} -O2 into a temporary
#               directory.
# --corio BIN   adds corio's echo_server once per backend of --backends:
#               "corio" (io_uring, buffer ring) and "corio_epoll"
#               (CORIO_BACKEND=epoll: the fallback, a buffer per
#               connection).
# --http BIN    adds samples/http_server the same way ("http",
#               "http_epoll"); a round trip is then GET /hello.
# --table       after the name=value lines, a Markdown table of the medians.
#
# Per server, connection count and run: the server starts pinned to CPU 0
# on a fresh port, the script polls until the port accepts connections,
# conn_mem runs pinned to CPU 1: one warm-up connection, VmRSS of the
# server, N connections with one round trip each, VmRSS again (see
# bench/conn_mem.c); then the server gets SIGTERM and must exit 0.  A
# connection count the descriptor limit cannot hold (RLIMIT_NOFILE, raised
# here when allowed; the servers inherit it) is skipped with a message.
#
# Output (medians over the runs) per server NAME and connection count N:
#   conn_mem.NAME.cN.bytes_per_conn   server RSS growth / N
#   conn_mem.NAME.cN.ratio_vs_uring   that over the raw liburing loop's
#   conn_mem.NAME.cN.kernel_bytes_per_conn   Slab growth / N: both ends of
#                                    the connection, system-wide (noisy)
#   conn_mem.NAME.cN.failed_runs      when a run failed
#   conn_mem.cN.skipped=REASON        when N cannot be opened
# Progress goes to stderr. Exit status 1 if any run failed.

set -euo pipefail

conns_list="1000 10000"
runs=5
size=64
warmup=1024
port=23000
bindir=
baselines="uring epoll"
corio_bin=
http_bin=
backends="uring epoll"
table=0

prog=conn_mem
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '7,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case $1 in
	--conns) conns_list=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--bindir) bindir=$2; shift 2 ;;
	--servers) baselines=$2; shift 2 ;;
	--corio) corio_bin=$2; shift 2 ;;
	--http) http_bin=$2; shift 2 ;;
	--backends) backends=$2; shift 2 ;;
	--table) table=1; shift ;;
	-h | --help) usage ;;
	*) echo "conn_mem: unknown argument '$1'" >&2; usage ;;
	esac
done

for v in "$runs" "$size" "$warmup" "$port" $conns_list; do
	[[ $v =~ ^[0-9]+$ ]] || die "bad number '$v'"
done
((runs > 0)) || die "--runs must be > 0"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmpdir=$(mktemp -d)
server_pid=
load_pid=

install_traps

if [[ -z $bindir ]]; then
	bindir=$tmpdir
	for b in echo_uring echo_epoll; do
		"${CC:-cc}" -O2 -std=gnu11 -o "$bindir/$b" \
			"$here/baselines/$b.c" -luring -lpthread
	done
	"${CC:-cc}" -O2 -std=gnu11 -o "$bindir/conn_mem" "$here/conn_mem.c"
fi
for b in echo_uring echo_epoll conn_mem; do
	[[ -x $bindir/$b ]] || die "no $bindir/$b"
done

servers=()
declare -A cmd
# conn_mem options per server: -H for the HTTP servers.
declare -A mode
for s in $baselines; do
	[[ $s == @(uring|epoll) ]] || die "no baseline server '$s'"
	cmd[$s]="exec $(printf %q "$bindir/echo_$s") {port}"
	servers+=("$s")
done
# add_corio NAME BIN ARGS MODE: one server per backend of --backends.
add_corio() {
	local name=$1 bin=$2 args=$3 m=$4 b n
	[[ -x $bin ]] || die "no $bin"
	for b in $backends; do
		case $b in
		uring) n=$name ;;
		epoll) n=${name}_epoll ;;
		*) die "no backend '$b' (uring or epoll)" ;;
		esac
		cmd[$n]="CORIO_BACKEND=$b exec $(printf %q "$bin") $args"
		mode[$n]=$m
		servers+=("$n")
	done
}
[[ -z $corio_bin ]] || add_corio corio "$corio_bin" "{port}" ""
[[ -z $http_bin ]] || add_corio http "$http_bin" "--port {port}" "-H"

# Raise the descriptor limit for the largest count (plus slack for the
# server's own descriptors); counts above what it allows are skipped.
max_conns=0
for c in $conns_list; do
	((c > max_conns)) && max_conns=$c
done
ulimit -n $((max_conns + 256)) 2>/dev/null || true
nofile=$(ulimit -n)

# Results of the successful runs, space-separated, keyed "server.cN.field".
declare -A res
declare -A failed
declare -A skipped
any_failed=0

# One run; on success appends its figures to res[].  Returns 2 on a skip.
run_once() {
	local name=$1 c=$2 out=$tmpdir/load.out log=$tmpdir/server.log
	local lrc=0 src=0 key val per='' kernel=''

	start_server "$name" 0 "${cmd[$name]}" "$log" || return 1

	# shellcheck disable=SC2086  # mode: zero or one option
	taskset -c 1 "$bindir/conn_mem" -c "$c" -s "$size" -w "$warmup" \
		-p "$port" -P "$server_pid" ${mode[$name]:-} >"$out" 2>&1 &
	load_pid=$!
	wait "$load_pid" || lrc=$?
	load_pid=
	stop_proc "$server_pid" || src=$?
	server_pid=
	port=$((port + 1))

	if ((lrc == 77)); then
		skipped[c$c]=$(sed -n 's/^skip: //p' "$out")
		return 2
	fi
	while IFS='=' read -r key val; do
		case $key in
		bytes_per_conn) per=$val ;;
		kernel_bytes_per_conn) kernel=$val ;;
		esac
	done <"$out"
	if ((lrc != 0 || src != 0)) || [[ -z $per ]]; then
		echo "conn_mem: $name c$c failed" \
		     "(load status $lrc, server status $src):" >&2
		cat "$out" "$log" >&2
		return 1
	fi
	res[$name.c$c.bytes_per_conn]+=" $per"
	[[ -z $kernel ]] || res[$name.c$c.kernel_bytes_per_conn]+=" $kernel"
	echo "conn_mem: $name c$c: bytes_per_conn=$per" \
	     "kernel_bytes_per_conn=${kernel:-?}" >&2
}

for c in $conns_list; do
	if ((c + 128 > nofile)); then
		skipped[c$c]="$c connections need more descriptors"
		skipped[c$c]+=" than the limit of $nofile"
		echo "conn_mem: skipping c$c: ${skipped[c$c]}" >&2
		continue
	fi
	for name in "${servers[@]}"; do
		for ((r = 0; r < runs; r++)); do
			rc=0
			run_once "$name" "$c" || rc=$?
			((rc == 0)) && continue
			if ((rc == 2)); then
				echo "conn_mem: skipping c$c:" \
				     "${skipped[c$c]}" >&2
				continue 3
			fi
			failed[$name.c$c]=$((${failed[$name.c$c]:-0} + 1))
			any_failed=1
		done
	done
done

# Medians, and the ratio to the liburing loop, keyed "server.cN".
declare -A per ratio kernel
for c in $conns_list; do
	for name in "${servers[@]}"; do
		k=$name.c$c
		[[ -n ${res[$k.bytes_per_conn]:-} ]] || continue
		per[$k]=$(median "${res[$k.bytes_per_conn]}")
		[[ -z ${res[$k.kernel_bytes_per_conn]:-} ]] ||
			kernel[$k]=$(median "${res[$k.kernel_bytes_per_conn]}")
	done
	for name in "${servers[@]}"; do
		k=$name.c$c
		[[ -n ${per[$k]:-} && -n ${per[uring.c$c]:-} ]] || continue
		ratio[$k]=$(awk -v a="${per[$k]}" -v b="${per[uring.c$c]}" \
			'BEGIN { printf "%.3f", a / b }')
	done
done

for c in $conns_list; do
	if [[ -n ${skipped[c$c]:-} ]]; then
		echo "conn_mem.c$c.skipped=${skipped[c$c]}"
		continue
	fi
	for name in "${servers[@]}"; do
		k=$name.c$c
		if [[ -n ${failed[$k]:-} ]]; then
			echo "conn_mem.$k.failed_runs=${failed[$k]}"
		fi
		[[ -n ${per[$k]:-} ]] || continue
		printf 'conn_mem.%s.bytes_per_conn=%.1f\n' "$k" "${per[$k]}"
		[[ $name == uring || -z ${ratio[$k]:-} ]] ||
			echo "conn_mem.$k.ratio_vs_uring=${ratio[$k]}"
		[[ -z ${kernel[$k]:-} ]] ||
			printf 'conn_mem.%s.kernel_bytes_per_conn=%.0f\n' "$k" \
				"${kernel[$k]}"
	done
done

if ((table)); then
	echo
	printf 'Server RSS growth per connection, median of %s runs: one\n' \
		"$runs"
	printf '%s-byte round trip (GET /hello for http) on each, then all\n' \
		"$size"
	echo "idle; ratio to the raw liburing echo loop; kernel = Slab growth"
	echo "for both ends of the connections, system-wide."
	echo
	echo "| server | conns | bytes/conn | vs uring | kernel bytes/conn |"
	echo "|---|---:|---:|---:|---:|"
	for c in $conns_list; do
		[[ -z ${skipped[c$c]:-} ]] || continue
		for name in "${servers[@]}"; do
			k=$name.c$c
			if [[ -z ${per[$k]:-} ]]; then
				echo "| $name | $c | failed | | |"
				continue
			fi
			printf '| %s | %s | %.0f | %s | %s |\n' "$name" "$c" \
				"${per[$k]}" "${ratio[$k]:-}" \
				"${kernel[$k]:+$(printf %.0f "${kernel[$k]}")}"
		done
	done
fi
exit "$any_failed"
