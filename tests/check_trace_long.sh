#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check_trace_long.sh - a long traced run of the echo server under load
# writes a trace file a viewer opens:
#	tests/check_trace_long.sh [SECONDS] [--bindir DIR] [--limit SIZE]
#
# echo_server runs with CORIO_TRACE and CORIO_TRACE_LIMIT=SIZE (default
# 32M) while echo_load drives 50 connections for SECONDS (default 60);
# then SIGTERM, and the server must exit 0 having said that it kept the
# last part of the trace.  tests/trace_check (built in DIR/tests) then
# reads the file: strict JSON in the trace-event format, at most SIZE and
# a little, starting with the instant that says earlier events were
# dropped, every task track with a slice named, echo_conn's steps in it.
# DIR (default build) holds samples/echo_server, bench/echo_load and
# tests/trace_check.
set -euo pipefail

duration=60
bindir=build
limit=32M

prog=check_trace_long
. "$(dirname "${BASH_SOURCE[0]}")/../bench/lib.sh"

while (($#)); do
	case $1 in
	--bindir) bindir=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	[0-9]*) duration=$1; shift ;;
	*) sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[[ $limit =~ ^([0-9]+)([KMG]?)$ ]] || die "--limit: a size like 32M"
case ${BASH_REMATCH[2]} in
K) max=$((BASH_REMATCH[1] << 10)) ;;
M) max=$((BASH_REMATCH[1] << 20)) ;;
G) max=$((BASH_REMATCH[1] << 30)) ;;
*) max=${BASH_REMATCH[1]} ;;
esac
server_bin=$bindir/samples/echo_server
load_bin=$bindir/bench/echo_load
check_bin=$bindir/tests/trace_check
for b in "$server_bin" "$load_bin" "$check_bin"; do
	[[ -x $b ]] || die "$b must be built"
done

fail() { echo "$prog: FAIL: $*" >&2; exit 1; }

tmpdir=$(mktemp -d)
install_traps
trace=$tmpdir/echo.json

: >"$tmpdir/server.out"
CORIO_TRACE=$trace CORIO_TRACE_LIMIT=$limit "$server_bin" 0 \
	>"$tmpdir/server.out" 2>"$tmpdir/server.err" &
server_pid=$!
port=
for _ in $(seq 1 200); do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
		"$tmpdir/server.out")
	[[ -n $port ]] && break
	alive "$server_pid" ||
		fail "echo_server died: $(cat "$tmpdir/server.err")"
	sleep 0.05
done
[[ -n $port ]] || fail "echo_server never said where it listens"
echo "$prog: traced echo_server (pid $server_pid, CORIO_TRACE_LIMIT=$limit)" \
	"on port $port: 50 connections for $duration s" >&2

load_status=0
"$load_bin" -c 50 -d "$duration" -w 0 -p "$port" >"$tmpdir/load.out" ||
	load_status=$?
server_status=0
stop_proc "$server_pid" || server_status=$?
server_pid=
((load_status == 0)) || fail "echo_load exited $load_status"
((server_status == 0)) ||
	fail "echo_server exited $server_status: $(cat "$tmpdir/server.err")"
grep -q "holds the last .* (CORIO_TRACE_LIMIT=$limit)" "$tmpdir/server.err" ||
	fail "the server did not say it kept the last part:" \
	     "$(cat "$tmpdir/server.err")"
echo "$prog: $(sed -n 's/^requests=//p' "$tmpdir/load.out") requests;" \
	"$(grep 'holds the last' "$tmpdir/server.err")" >&2
# The limit, and room for the names of the tracks at each segment's start
# and for the events that end a segment.
"$check_bin" --max-bytes $((max + (64 << 10))) --dropped --min-slices 1000 \
	--slice echo_conn "$trace"
