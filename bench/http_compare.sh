#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# http_compare.sh - corio's http_server against nginx with one worker, both
# answering GET /hello with the same body, under the same wrk load.
#
# Usage: bench/http_compare.sh [--server PATH] [--duration 5] [--runs 3]
#            [--warmup 1] [--conns 50] [--port BASE] [--loops "1 2"] [--table]
#
# --server PATH  the http_server binary (default build-bench/samples/
#                http_server/http_server, as bench/run.sh builds it).
# --conns N      wrk connections (one wrk thread).
# --loops LIST   corio once per loop count: "corio" (one loop,
#                `http_server --port P`) and "corio_Nloops" (`http_server
#                --loops N --port P`: N loops on N threads, one SO_REUSEPORT
#                listener each).
# --table        after the name=value lines, a Markdown table of the medians.
#
# Each run starts each server in turn, pinned to CPU 0, on a fresh port;
# wrk runs pinned to CPU 1 for --warmup seconds (not counted), then for
# --duration seconds.  Server CPU time is utime+stime from /proc/PID/stat
# just before and just after the measured wrk run:
#   cpu_us_per_req = ticks * 1e6 / CLK_TCK / requests
# (a tick is 1/CLK_TCK s: keep the duration well above a few ticks).  The
# servers alternate within a run so that a noisy moment hits both.
#
# nginx: Debian's nginx (nginx-light is enough), one process
# (master_process off, worker_processes 1: the event loop that would be
# the worker), access_log off, keep-alive without a request limit, and
#   location = /hello { return 200 "Hello, world!\n"; }
# corio: http_server --port P; its /hello body is the same 14 bytes (the
# script checks both bodies before measuring).  A server of N > 1 loops is
# pinned to CPUs 0..N-1 instead: it needs N cores, so with two it shares
# CPU 1 with wrk (the output says so), and its req/s is bounded by that
# sharing rather than by the server alone.
#
# Output (medians over the runs), name=value lines:
#   http.corio.rps, http.corio_Nloops.rps, http.nginx.rps, .p99_ms,
#   .cpu_us_per_req, .cpu_busy (server CPU seconds per second: well below
#   1 (N for N loops), the server was not the bottleneck, wrk or a busy
#   machine was, and req/s says little; CPU per request still compares
#   the servers),
#   http.rps_ratio_corio_vs_nginx      (> 1: corio serves more per second)
#   http.cpu_ratio_corio_vs_nginx      (< 1: corio uses less CPU a request)
#   and the same for each corio_Nloops against nginx and against corio
#   (http.rps_ratio_corio_2loops_vs_corio, ...).
# Progress goes to stderr.  Exit status 1 if a run failed.

set -euo pipefail

duration=5
runs=3
warmup=1
conns=50
port=22000
server=
loops_list="1 2"
table=0

prog=http_compare
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case $1 in
	--server) server=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--loops) loops_list=$2; shift 2 ;;
	--table) table=1; shift ;;
	-h | --help) usage ;;
	*) echo "http_compare: unknown argument '$1'" >&2; usage ;;
	esac
done
for v in "$duration" "$runs" "$warmup" "$conns" "$port" $loops_list; do
	[[ $v =~ ^[0-9]+$ ]] || die "bad number '$v'"
done
((duration > 0 && runs > 0 && conns > 0)) || die "--duration, --runs and --conns must be > 0"
[[ -n ${loops_list// /} ]] || die "--loops wants at least one count"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -n $server ]] || server=$here/../build-bench/samples/http_server/http_server
[[ -x $server ]] || die "no http_server binary at $server (build it, or pass --server)"

# wrk and nginx come from Debian; install them when missing.
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
if ((${#need[@]})); then
	echo "http_compare: installing ${need[*]} (Debian packages) for the comparison" >&2
	if [[ $(id -u) -ne 0 ]]; then
		die "run as root, or install them: apt-get install ${need[*]}"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# The servers in the order they run; loops[] and cpus[] for corio's.
servers=()
declare -A loops cpus seen
for n in $loops_list; do
	((n > 0)) || die "--loops: counts must be > 0"
	if ((n == 1)); then
		name=corio
		cpus[$name]=0
	else
		name=corio_${n}loops
		cpus[$name]=$(loop_cpus "$n")
		echo "http_compare: note: $name runs $n loops on CPUs" \
		     "${cpus[$name]}, so it shares CPU 1 with wrk; the" \
		     "others have CPU 0 to themselves" >&2
	fi
	[[ ! -v seen[$name] ]] || die "loop count $n twice"
	seen[$name]=1
	loops[$name]=$n
	servers+=("$name")
done
servers+=(nginx)

clk_tck=$(getconf CLK_TCK)
tmpdir=$(mktemp -d)
server_pid=

install_traps

# utime + stime of $1, in ticks.
cpu_ticks() {
	local stat f
	read -r stat <"/proc/$1/stat"
	# Fields after the command name, which may hold spaces: 14 and 15
	# of the whole line are 12 and 13 here.
	read -ra f <<<"${stat##*) }"
	echo $((f[11] + f[12]))
}

# The body of GET /hello on port $1, through bash's /dev/tcp.
fetch_hello() {
	local resp
	exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf 'GET /hello HTTP/1.0\r\nHost: x\r\n\r\n' >&3
	resp=$(cat <&3)
	exec 3<&-
	printf '%s' "${resp#*$'\r\n\r\n'}"
}

nginx_conf() {
	mkdir -p "$tmpdir/nginx"
	cat >"$tmpdir/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $tmpdir/nginx/nginx.pid;
error_log $tmpdir/nginx/error.log warn;
events {
	worker_connections 4096;
}
http {
	access_log off;
	default_type text/plain;
	keepalive_timeout 65;
	keepalive_requests 100000000;
	client_body_temp_path $tmpdir/nginx/body;
	proxy_temp_path $tmpdir/nginx/proxy;
	fastcgi_temp_path $tmpdir/nginx/fastcgi;
	uwsgi_temp_path $tmpdir/nginx/uwsgi;
	scgi_temp_path $tmpdir/nginx/scgi;
	server {
		listen 127.0.0.1:$1;
		location = /hello {
			return 200 "Hello, world!\n";
		}
	}
}
EOF
}

# Start server $1 on port $2 pinned to its CPUs; sets server_pid.
start_server() {
	local name=$1 p=$2
	case $name in
	corio)
		taskset -c 0 "$server" --port "$p" >"$tmpdir/server.out" 2>&1 &
		;;
	corio_*)
		taskset -c "${cpus[$name]}" "$server" --loops "${loops[$name]}" \
			--port "$p" >"$tmpdir/server.out" 2>&1 &
		;;
	nginx)
		nginx_conf "$p"
		taskset -c 0 "$nginx_bin" -p "$tmpdir/nginx" \
			-c "$tmpdir/nginx/nginx.conf" -e "$tmpdir/nginx/error.log" \
			>"$tmpdir/server.out" 2>&1 &
		;;
	esac
	server_pid=$!
	wait_listening "$server_pid" "$p" && return 0
	echo "http_compare: $name did not start: $(cat "$tmpdir/server.out" "$tmpdir/nginx/error.log" 2>/dev/null)" >&2
	return 1
}

# wrk's latency figure (e.g. 1.23ms, 456.00us, 1.2s) in ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /s$/) n *= 1000
		printf "%.3f\n", n }'
}

declare -A rps cpu util p99
failed=0
for ((run = 1; run <= runs; run++)); do
	for name in "${servers[@]}"; do
		p=$((port++))
		if ! start_server "$name" "$p"; then
			failed=1
			server_pid=
			continue
		fi
		body=$(fetch_hello "$p")
		if [[ $body != "Hello, world!" ]]; then
			echo "http_compare: $name answered /hello with '$body'" >&2
			failed=1
		fi
		url=http://127.0.0.1:$p/hello
		((warmup == 0)) || taskset -c 1 wrk -t1 -c"$conns" -d"${warmup}s" "$url" >/dev/null
		before=$(cpu_ticks "$server_pid")
		taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "$url" >"$tmpdir/wrk.out"
		after=$(cpu_ticks "$server_pid")
		rc=0
		stop_proc "$server_pid" || rc=$?
		server_pid=
		# nginx without a master exits on SIGTERM with status 0 too.
		if ((rc != 0)); then
			echo "http_compare: $name exited with status $rc" >&2
			failed=1
		fi
		if grep -q -e 'Non-2xx' -e 'Socket errors' "$tmpdir/wrk.out"; then
			echo "http_compare: $name run $run had errors:" >&2
			grep -e 'Non-2xx' -e 'Socket errors' "$tmpdir/wrk.out" >&2
			failed=1
		fi
		r=$(awk '/^Requests\/sec:/ { print $2 }' "$tmpdir/wrk.out")
		n=$(awk '/requests in/ { print $1 }' "$tmpdir/wrk.out")
		l=$(awk '$1 == "99%" { print $2 }' "$tmpdir/wrk.out")
		[[ -n $r && -n $n && $n -gt 0 ]] || { echo "http_compare: no wrk figures for $name" >&2; cat "$tmpdir/wrk.out" >&2; failed=1; continue; }
		c=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$n" \
			'BEGIN { printf "%.4f\n", t * 1e6 / hz / n }')
		u=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v d="$duration" \
			'BEGIN { printf "%.3f\n", t / hz / d }')
		rps[$name]+="$r "
		cpu[$name]+="$c "
		util[$name]+="$u "
		p99[$name]+="$(to_ms "$l") "
		echo "http_compare: run $run $name: $r req/s, $c us CPU/req, server busy $u, p99 $l" >&2
	done
done

for name in "${servers[@]}"; do
	[[ -n ${rps[$name]:-} ]] || continue
	echo "http.$name.rps=$(median "${rps[$name]}")"
	echo "http.$name.p99_ms=$(median "${p99[$name]}")"
	echo "http.$name.cpu_us_per_req=$(median "${cpu[$name]}")"
	echo "http.$name.cpu_busy=$(median "${util[$name]}")"
done
# http.rps_ratio_$1_vs_$2 and http.cpu_ratio_$1_vs_$2, when both ran.
ratios() {
	local a=$1 b=$2
	[[ -n ${rps[$a]:-} && -n ${rps[$b]:-} ]] || return 0
	awk -v a="$a" -v b="$b" \
		-v ar="$(median "${rps[$a]}")" -v br="$(median "${rps[$b]}")" \
		-v ac="$(median "${cpu[$a]}")" -v bc="$(median "${cpu[$b]}")" \
		'BEGIN {
			printf "http.rps_ratio_%s_vs_%s=%.3f\n", a, b, ar / br
			if (bc > 0)
				printf "http.cpu_ratio_%s_vs_%s=%.3f\n", a, b, ac / bc
		}'
}
for name in "${servers[@]}"; do
	[[ $name == corio* ]] || continue
	ratios "$name" nginx
	[[ $name == corio ]] || ratios "$name" corio
done
printf 'http.conns=%s\nhttp.duration_s=%s\nhttp.runs=%s\n' "$conns" "$duration" "$runs"

if ((table)); then
	echo
	printf 'GET /hello under wrk -t1 -c%s, median of %s runs of %s s; server\n' \
		"$conns" "$runs" "$duration"
	echo "CPU µs per request = server utime+stime over the wrk run / requests;"
	echo "busy = server CPU seconds per second."
	echo
	echo "| server | CPUs | req/s | p99 ms | CPU µs/req | busy | req/s vs nginx |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for name in "${servers[@]}"; do
		if [[ -z ${rps[$name]:-} ]]; then
			echo "| $name | ${cpus[$name]:-0} | failed | | | | |"
			continue
		fi
		printf '| %s | %s | %.0f | %.3f | %.2f | %.2f | %s |\n' \
			"$name" "${cpus[$name]:-0}" "$(median "${rps[$name]}")" \
			"$(median "${p99[$name]}")" "$(median "${cpu[$name]}")" \
			"$(median "${util[$name]}")" \
			"$([[ -n ${rps[nginx]:-} ]] && awk -v a="$(median "${rps[$name]}")" \
				-v b="$(median "${rps[nginx]}")" 'BEGIN { printf "%.2f", a / b }')"
	done
	for name in "${servers[@]}"; do
		[[ ${cpus[$name]:-0} != 0 ]] || continue
		echo
		echo "$name: server pinned to CPUs ${cpus[$name]} (one loop per" \
		     "core), sharing CPU 1 with wrk; corio and nginx have CPU 0" \
		     "alone."
	done
fi
exit "$failed"
