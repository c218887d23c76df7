#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - build corio in Release mode and run its benchmarks.
#
# Usage: bench/run.sh [NAME...]
#   micro                 every micro benchmark (bench/micro.c)
#   yield await spawn_join chan mutex idle timers detect_cost scope
#                         one micro benchmark each (detect_cost: yield,
#                         chan and mutex with deadlock detection off;
#                         scope: chan and mutex inside a scope, and
#                         100,000 waiting tasks with and without one)
#   echo                  corio's echo_server, on one loop and on two
#                         (corio_2loops), against the raw liburing, epoll
#                         and thread-per-connection baselines
#                         (bench/echo_compare.sh; ECHO_ARGS adds options,
#                         e.g. ECHO_ARGS='--runs 5 --duration 5', or
#                         --loops 1 for one loop only)
#   conn_scale            CPU per request at 1,000 and 10,000 connections:
#                         echo_server on one loop against the raw liburing
#                         loop, at a paced 60,000 requests/s (the same load
#                         whatever the connection count) and saturated
#                         (bench/echo_compare.sh --rate; SCALE_ARGS adds
#                         options, e.g. SCALE_ARGS='--runs 9')
#   http                  samples/http_server, on one loop and on two
#                         (corio_2loops), against nginx with one worker,
#                         under wrk (bench/http_compare.sh; HTTP_ARGS adds
#                         options, e.g. HTTP_ARGS='--runs 5 --table')
#   conn_mem              server memory per idle connection at 1,000 and
#                         10,000 connections: echo_server and http_server
#                         on io_uring and on epoll against the raw
#                         liburing and epoll echo baselines, median of 5
#                         runs (bench/conn_mem.sh; CONN_MEM_ARGS adds
#                         options, e.g. CONN_MEM_ARGS='--runs 9 --table')
#   net_send              corio_send_all against corio_send_zc over loopback
#                         TCP at 4 KiB, 64 KiB, 1 MiB (bench/net_send.c;
#                         NET_SEND_MIB sets the MiB sent per run)
#   files                 samples/cp against coreutils cp and dd on a
#                         1 GiB file, warm and (as root) cold cache, and
#                         random 4 KiB reads at QD 32 against pread
#                         (bench/files.sh; FILES_ARGS adds options, e.g.
#                         FILES_ARGS='--size-mib 256 --runs 5')
#   select                corio_select over two channels, one ready,
#                         against corio_chan_recv, and round trips that
#                         wait in a select against plain receives
#                         (bench/select_bench.c)
#   dns                   1,000 concurrent corio_resolve calls against
#                         dnsmasq, AF_INET and AF_UNSPEC, median of 5
#                         runs (bench/dns_burst.sh; needs c-ares and
#                         dnsmasq; DNS_ARGS adds options, e.g.
#                         DNS_ARGS='--runs 11 --max-queries 64')
#   explore               schedule exploration and lock-order checking:
#                         schedules to find the naive dining philosophers'
#                         deadlock, 10,000 schedules of the fixed order,
#                         schedules per second, lock-order tracking cost
#                         (bench/explore.c)
# With no NAME: micro and echo.  Output: name=value lines.  The micro
# benchmarks run pinned to CPU 1; the echo, HTTP and conn_mem servers to
# CPU 0 and the load generator to CPU 1, except the two-loop servers,
# which use CPUs 0-1 and so share CPU 1 with the load generator.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-bench}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF \
	>/dev/null
cmake --build "$build" -j2 >/dev/null

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(micro echo)
micro=()
for n in "${names[@]}"; do
	case $n in
	micro) micro+=(yield await spawn_join chan mutex idle timers
		       detect_cost scope) ;;
	yield|await|spawn_join|chan|mutex|idle|timers|detect_cost|scope)
		micro+=("$n") ;;
	echo) ;;
	conn_scale) ;;
	http) ;;
	conn_mem) ;;
	net_send) ;;
	files) ;;
	dns) ;;
	explore) ;;
	select) ;;
	*) echo "run.sh: unknown benchmark '$n'" >&2; exit 2 ;;
	esac
done
if [ ${#micro[@]} -gt 0 ]; then
	taskset -c 1 "$build/bench/micro" "${micro[@]}"
fi
# Run benchmark $1, when asked for, as the command after $2: the words
# of the environment variable named $2 (shell words, quotes included:
# ECHO_ARGS='--conns "1 50"') are appended, so they override defaults.
run_asked() {
	local name=$1 var=$2 extra=() n
	shift 2
	[ -z "${!var:-}" ] || eval "extra=(${!var})"
	for n in "${names[@]}"; do
		[ "$n" = "$name" ] || continue
		"$@" "${extra[@]}"
	done
}
run_asked echo ECHO_ARGS bench/echo_compare.sh --bindir "$build/bench" \
	--corio "$build/samples/echo_server" --loops "1 2"
# The same load at both counts, then each server at its own capacity.
for rate in 60000 0; do
	run_asked conn_scale SCALE_ARGS bench/echo_compare.sh \
		--bindir "$build/bench" --corio "$build/samples/echo_server" \
		--loops 1 --servers uring --conns "1000 10000" --duration 4 \
		--runs 5 --rate "$rate" --table
done
run_asked http HTTP_ARGS bench/http_compare.sh \
	--server "$build/samples/http_server/http_server" --loops "1 2"
# http_server is built only where http_parser is installed.
http_bin=$build/samples/http_server/http_server
conn_mem_http=()
[ ! -x "$http_bin" ] || conn_mem_http=(--http "$http_bin")
run_asked conn_mem CONN_MEM_ARGS bench/conn_mem.sh --bindir "$build/bench" \
	--corio "$build/samples/echo_server" "${conn_mem_http[@]}"
# net_send pins its sender to CPU 0 and its receiver to CPU 1 itself.
run_asked net_send NO_ARGS "$build/bench/net_send" "${NET_SEND_MIB:-256}"
run_asked files FILES_ARGS bench/files.sh --bindir "$build"
run_asked dns DNS_ARGS bench/dns_burst.sh --bindir "$build"
run_asked explore NO_ARGS taskset -c 1 "$build/bench/explore"
run_asked select NO_ARGS taskset -c 1 "$build/bench/select_bench"
