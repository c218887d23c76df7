#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# echo_compare.sh - echo benchmark: baseline servers (and extra ones) under
# the same closed-loop load in one run, results as name=value lines.
#
# Usage: bench/echo_compare.sh [--conns "1 50 500 5000"] [--duration 5]
#            [--runs 3] [--warmup 1] [--size 64] [--rate RPS] [--port BASE]
#            [--bindir DIR]
#            [--servers "uring epoll threads"] [--extra NAME=COMMAND ...]
#            [--corio ECHO_SERVER [--loops "1 2"]] [--table]
#
# --rate RPS    paced load instead of a closed loop (echo_load -R): the
#               connections together send RPS requests per second.  Below
#               every server's capacity, CPU per request then compares
#               servers and connection counts at the same load, without the
#               queueing of a saturated closed loop (with 10,000 connections
#               a round trip waits ~75 ms and the kernel's delayed-ACK
#               timers fire: more kernel work per request in every server).
# --servers     which baselines to run (ratios need uring / epoll among them).
# --bindir DIR  holds echo_uring, echo_epoll, echo_threads and echo_load;
#               without it they are built from bench/ with ${CC:-cc} -O2
#               into a temporary directory.
# --extra       adds a server; COMMAND must contain {port} (replaced by the
#               port to listen on, 127.0.0.1 only) and must run the server
#               as one process, e.g. --extra corio="build/echo_server {port}".
# --corio BIN   adds corio's echo_server once per loop count of --loops:
#               "corio" (one loop, `BIN {port}`) and "corio_Nloops"
#               (`BIN --loops N {port}`: N loops on N threads, one
#               SO_REUSEPORT listener each).
# --table       after the name=value lines, a Markdown table of the medians.
#
# Per server, connection count and run: the server starts pinned to CPU 0
# on a fresh port, the script polls until the port accepts connections,
# echo_load runs pinned to CPU 1, then the server gets SIGTERM and must exit
# with status 0.  A server of N > 1 loops is pinned to CPUs 0..N-1 instead:
# it needs N cores, so with two it shares CPU 1 with the load generator
# (the output says so).  Every process raises RLIMIT_NOFILE itself: 5,000
# connections need over 5,000 descriptors on each side.
#
# Server CPU time: echo_load -P reads utime+stime of the server from
# /proc/PID/stat exactly when its measured window opens and when it closes,
# so connection set-up, warm-up and teardown are left out and
#   cpu_us_per_req = ticks * 1e6 / CLK_TCK / requests
# counts only the requests of that window. A tick is 1/CLK_TCK s (10 ms), so
# keep duration x CPU load well above a few ticks.
#
# Output (medians over the runs) per server NAME and connection count N:
#   echo.NAME.cN.rps, .p50_us, .p99_us, .cpu_us_per_req, .user_us_per_req
#   (the utime part of it: the server's own code, without the kernel),
#   .cpu_ratio_vs_uring, .cpu_ratio_vs_epoll (ratios > 1: more CPU per
#   request than that baseline), .errors (echo errors summed over the
#   runs: short, wrong or dropped echoes, failed connects) and .failed_runs
#   when a run failed.
# Progress goes to stderr. Exit status 1 if any run failed.

set -euo pipefail

conns_list="1 50 500 5000"
duration=5
runs=3
warmup=1
size=64
rate=0
port=21000
bindir=
baselines="uring epoll threads"
extras=()
corio_bin=
loops_list="1 2"
table=0

prog=echo_compare
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '7,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case $1 in
	--conns) conns_list=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--bindir) bindir=$2; shift 2 ;;
	--servers) baselines=$2; shift 2 ;;
	--extra) extras+=("$2"); shift 2 ;;
	--corio) corio_bin=$2; shift 2 ;;
	--loops) loops_list=$2; shift 2 ;;
	--table) table=1; shift ;;
	-h | --help) usage ;;
	*) echo "echo_compare: unknown argument '$1'" >&2; usage ;;
	esac
done

for v in "$duration" "$runs" "$warmup" "$size" "$rate" "$port" $conns_list \
	$loops_list; do
	[[ $v =~ ^[0-9]+$ ]] || die "bad number '$v'"
done
((duration > 0 && runs > 0)) || die "--duration and --runs must be > 0"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
clk_tck=$(getconf CLK_TCK)
tmpdir=$(mktemp -d)
server_pid=
load_pid=

install_traps

if [[ -z $bindir ]]; then
	bindir=$tmpdir
	for b in echo_uring echo_epoll echo_threads; do
		"${CC:-cc}" -O2 -std=gnu11 -o "$bindir/$b" \
			"$here/baselines/$b.c" -luring -lpthread
	done
	"${CC:-cc}" -O2 -std=gnu11 -o "$bindir/echo_load" "$here/echo_load.c"
fi
# Not $prog: die() and start_server() prefix their messages with it.
for b in echo_uring echo_epoll echo_threads echo_load; do
	[[ -x $bindir/$b ]] || die "no $bindir/$b"
done

servers=()
declare -A cmd
# CPUs each server is pinned to (taskset -c); the load is always on 1.
declare -A cpus
for s in $baselines; do
	[[ $s == @(uring|epoll|threads) ]] || die "no baseline server '$s'"
	cmd[$s]="exec $(printf %q "$bindir/echo_$s") {port}"
	servers+=("$s")
done
for e in "${extras[@]}"; do
	name=${e%%=*}
	[[ $name =~ ^[A-Za-z0-9_-]+$ && $e == *=*'{port}'* ]] ||
		die "bad --extra '$e' (want NAME=COMMAND with {port})"
	[[ ! -v cmd[$name] ]] || die "server name '$name' used twice"
	cmd[$name]="exec ${e#*=}"
	servers+=("$name")
done
if [[ -n $corio_bin ]]; then
	[[ -x $corio_bin ]] || die "no $corio_bin"
	declare -A seen
	for n in $loops_list; do
		((n > 0)) || die "--loops: counts must be > 0"
		if ((n == 1)); then
			name=corio
			cmd[$name]="exec $(printf %q "$corio_bin") {port}"
		else
			name=corio_${n}loops
			cmd[$name]="exec $(printf %q "$corio_bin") --loops $n {port}"
			cpus[$name]=$(loop_cpus "$n")
			echo "echo_compare: note: $name runs $n loops on CPUs" \
			     "${cpus[$name]}, so it shares CPU 1 with the load" \
			     "generator; the others have CPU 0 to themselves" >&2
		fi
		[[ ! -v seen[$name] ]] || die "loop count $n twice"
		seen[$name]=1
		servers+=("$name")
	done
fi

# Results of the successful runs, space-separated, keyed "server.cN.field".
declare -A res
declare -A failed
declare -A errors
any_failed=0

# One run; on success appends its figures to res[].
run_once() {
	local name=$1 c=$2 out=$tmpdir/load.out log=$tmpdir/server.log
	local lrc=0 src=0 key val requests='' ticks='' rps='' p50='' p99=''
	local errs='' uticks='' pace=()

	((rate == 0)) || pace=(-R "$rate")

	start_server "$name" "${cpus[$name]:-0}" "${cmd[$name]}" "$log" ||
		return 1

	taskset -c 1 "$bindir/echo_load" -c "$c" -d "$duration" -s "$size" \
		-w "$warmup" -p "$port" -P "$server_pid" "${pace[@]}" \
		>"$out" 2>&1 &
	load_pid=$!
	wait "$load_pid" || lrc=$?
	load_pid=
	stop_proc "$server_pid" || src=$?
	server_pid=
	port=$((port + 1))

	while IFS='=' read -r key val; do
		case $key in
		requests) requests=$val ;;
		rps) rps=$val ;;
		p50_us) p50=$val ;;
		p99_us) p99=$val ;;
		server_cpu_ticks) ticks=$val ;;
		server_user_ticks) uticks=$val ;;
		errors) errs=$val ;;
		esac
	done <"$out"
	# Counted whether or not the run succeeded; no line: it never ran.
	errors[$name.c$c]=$((${errors[$name.c$c]:-0} + ${errs:-0}))
	if ((lrc != 0 || src != 0)) || [[ -z $ticks || -z $uticks ]] ||
	   [[ -z $requests ]] ||
	   ((requests == 0)); then
		echo "echo_compare: $name c$c failed" \
		     "(load status $lrc, server status $src):" >&2
		cat "$out" "$log" >&2
		return 1
	fi
	res[$name.c$c.rps]+=" $rps"
	res[$name.c$c.p50_us]+=" $p50"
	res[$name.c$c.p99_us]+=" $p99"
	res[$name.c$c.cpu_us_per_req]+=" $(awk -v t="$ticks" -v hz="$clk_tck" \
		-v n="$requests" 'BEGIN { printf "%.4f", t * 1e6 / hz / n }')"
	res[$name.c$c.user_us_per_req]+=" $(awk -v t="$uticks" \
		-v hz="$clk_tck" -v n="$requests" \
		'BEGIN { printf "%.4f", t * 1e6 / hz / n }')"
	echo "echo_compare: $name c$c: rps=$rps p50_us=$p50 p99_us=$p99" \
	     "server_cpu_ticks=$ticks" >&2
}

for name in "${servers[@]}"; do
	for c in $conns_list; do
		for ((r = 0; r < runs; r++)); do
			run_once "$name" "$c" && continue
			failed[$name.c$c]=$((${failed[$name.c$c]:-0} + 1))
			any_failed=1
		done
	done
done

for name in "${servers[@]}"; do
	for c in $conns_list; do
		k=$name.c$c
		if [[ -n ${failed[$k]:-} ]]; then
			echo "echo.$k.failed_runs=${failed[$k]}"
		fi
		echo "echo.$k.errors=${errors[$k]:-0}"
		[[ -n ${res[$k.rps]:-} ]] || continue
		for f in rps:%.0f p50_us:%.1f p99_us:%.1f; do
			printf "echo.%s.%s=${f#*:}\n" "$k" "${f%:*}" \
				"$(median "${res[$k.${f%:*}]}")"
		done
		cpu=$(median "${res[$k.cpu_us_per_req]}")
		printf 'echo.%s.cpu_us_per_req=%.3f\n' "$k" "$cpu"
		printf 'echo.%s.user_us_per_req=%.3f\n' "$k" \
			"$(median "${res[$k.user_us_per_req]}")"
		for base in uring epoll; do
			b=${res[$base.c$c.cpu_us_per_req]:-}
			[[ $name != "$base" && -n $b ]] || continue
			printf 'echo.%s.cpu_ratio_vs_%s=%.3f\n' "$k" "$base" \
				"$(awk -v a="$cpu" -v b="$(median "$b")" \
					'BEGIN { print a / b }')"
		done
	done
done

if ((table)); then
	echo
	printf '%s-byte messages, median of %s runs of %s s; server CPU µs per\n' \
		"$size" "$runs" "$duration"
	echo "request = server utime+stime over the measured window / requests"
	echo "(user: utime alone)."
	((rate == 0)) || echo "Paced load: $rate requests/s over all connections."
	echo
	echo "| server | conns | req/s | p50 µs | p99 µs | CPU µs/req | user µs/req | errors |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for name in "${servers[@]}"; do
		for c in $conns_list; do
			k=$name.c$c
			if [[ -z ${res[$k.rps]:-} ]]; then
				echo "| $name | $c | failed | | | | | ${errors[$k]:-0} |"
				continue
			fi
			printf '| %s | %s | %.0f | %.1f | %.1f | %.2f | %.3f | %s |\n' \
				"$name" "$c" "$(median "${res[$k.rps]}")" \
				"$(median "${res[$k.p50_us]}")" \
				"$(median "${res[$k.p99_us]}")" \
				"$(median "${res[$k.cpu_us_per_req]}")" \
				"$(median "${res[$k.user_us_per_req]}")" \
				"${errors[$k]:-0}"
		done
	done
	for name in "${servers[@]}"; do
		[[ -n ${cpus[$name]:-} ]] || continue
		echo
		echo "$name: server pinned to CPUs ${cpus[$name]} (one loop per" \
		     "core), sharing CPU 1 with the load generator; every other" \
		     "server has CPU 0 alone."
	done
fi
exit "$any_failed"
