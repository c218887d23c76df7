#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the samples for real: cp copies byte for byte, sleep_sort sorts,
# echo_server echoes over loopback and exits 0 on SIGTERM, demo reports no
# errors, threads_vs_events runs both models.
# Usage: check_samples.sh SAMPLES_BINARY_DIR
set -euo pipefail
bin=${1:?usage: check_samples.sh SAMPLES_BINARY_DIR}
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Start a server that prints "listening on 127.0.0.1:PORT<suffix>" and
# wait (up to 10 s) until it has: sets $server and $port.
# Usage: start_server NAME OUTFILE SUFFIX COMMAND...
start_server() {
	local name=$1 out=$2 suffix=$3
	shift 3
	# Made here: the background job may not have opened it by the time
	# sed first reads it, and set -e would end the script there.
	: >"$out"
	"$@" >"$out" 2>&1 &
	server=$!
	port=
	for _ in $(seq 1 200); do
		port=$(sed -n "s/^listening on 127\\.0\\.0\\.1:\\([0-9]*\\)$suffix\$/\\1/p" \
			"$out")
		[ -n "$port" ] && return 0
		kill -0 "$server" 2>/dev/null || fail "$name died: $(cat "$out")"
		sleep 0.05
	done
	fail "$name never said where it listens"
}

if ! "$bin/hello" >"$tmp/hello.out" 2>&1; then
	if grep -q "io_uring is unavailable" "$tmp/hello.out"; then
		echo "SKIP: $(cat "$tmp/hello.out")"; exit 0
	fi
	fail "hello: $(cat "$tmp/hello.out")"
fi

# cp: empty, one byte, exactly one chunk, odd sizes, a larger file.
for size in 0 1 131072 1048593 20971520; do
	head -c "$size" /dev/urandom >"$tmp/src.$size"
	"$bin/cp" "$tmp/src.$size" "$tmp/dst.$size" || fail "cp of $size bytes"
	cmp "$tmp/src.$size" "$tmp/dst.$size" || fail "cp of $size bytes differs"
	rm "$tmp/dst.$size"
	"$bin/cp" --read-write "$tmp/src.$size" "$tmp/dst.$size" ||
		fail "cp --read-write of $size bytes"
	cmp "$tmp/src.$size" "$tmp/dst.$size" ||
		fail "cp --read-write of $size bytes differs"
done
# A file that reports size 0 but has contents: the read path finds them.
"$bin/cp" /proc/version "$tmp/version" || fail "cp of /proc/version"
cmp /proc/version "$tmp/version" || fail "cp of /proc/version differs"
"$bin/cp" "$tmp/missing" "$tmp/x" 2>"$tmp/err" && fail "cp of a missing file"
grep -q missing "$tmp/err" || fail "cp error does not name the file"
echo "ok: cp"

[ "$("$bin/sleep_sort" 3 1 2 1 0)" = "0 1 1 2 3" ] || fail "sleep_sort"
echo "ok: sleep_sort"

# echo_server on a free port; a Python client checks the echo.
start_server echo_server "$tmp/server.out" "" "$bin/echo_server" 0
python3 - "$port" <<'PY' || fail "echo over loopback"
import socket, sys
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port), timeout=10)
         for _ in range(20)]
for i, c in enumerate(conns):
    msg = (b"message %d " % i) * 100
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = c.recv(65536)
        if not chunk:
            sys.exit("connection closed early")
        got += chunk
    if got != msg:
        sys.exit("echo differs")
for c in conns:
    c.close()
PY
kill -TERM "$server"
wait "$server" || fail "echo_server exited $? after SIGTERM"
server=
echo "ok: echo_server"

"$bin/demo" -c 100 -d 1 >"$tmp/demo.out" || fail "demo: $(cat "$tmp/demo.out")"
grep -q "errors: *0, mismatched echoes: 0" "$tmp/demo.out" ||
	fail "demo: $(cat "$tmp/demo.out")"
echo "ok: demo"
# resolve (built with c-ares only): localhost from the hosts file.  The
# server given is a closed local port, so nothing is ever sent outside.
if [ -x "$bin/resolve" ]; then
	out=$("$bin/resolve" -s 127.0.0.1:1 -l fb -4 localhost 127.0.0.2 localhost) ||
		fail "resolve: $out"
	[ "$out" = "localhost 127.0.0.1
127.0.0.2 127.0.0.2
localhost 127.0.0.1" ] || fail "resolve printed: $out"
	out=$("$bin/resolve" -s 127.0.0.1:1 -l f no-such-name.invalid) &&
		fail "resolve of a missing name succeeded: $out"
	echo "$out" | grep -q "no-such-name.invalid: name not found" ||
		fail "resolve error: $out"
	echo "ok: resolve"
fi
"$bin/time_triggered" -n 40 -p 500 >"$tmp/tt.out" ||
	fail "time_triggered: $(cat "$tmp/tt.out")"
grep -Eq "^readings handled +40 +40$" "$tmp/tt.out" ||
	fail "time_triggered: $(cat "$tmp/tt.out")"
echo "ok: time_triggered"
# echo_server --loops 2: one SO_REUSEPORT listener per loop; SIGTERM with
# connections open closes them all and exits 0.
start_server "echo_server --loops 2" "$tmp/server2.out" " (2 loops)" \
	"$bin/echo_server" --loops 2 0
python3 - "$port" "$server" <<'PY' || fail "echo over 2 loops"
import os, signal, socket, sys
port, pid = int(sys.argv[1]), int(sys.argv[2])
conns = [socket.create_connection(("127.0.0.1", port), timeout=10)
         for _ in range(40)]
for i, c in enumerate(conns):
    msg = b"loop message %d" % i
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = c.recv(65536)
        if not chunk:
            sys.exit("connection closed early")
        got += chunk
    if got != msg:
        sys.exit("echo differs")
os.kill(pid, signal.SIGTERM)
for c in conns:
    if c.recv(16) != b"":
        sys.exit("data after the stop")
PY
wait "$server" || fail "echo_server --loops 2 exited $? after SIGTERM"
server=
echo "ok: echo_server --loops 2"
# head_of_line: the nested loop is refused with its message, the three
# variants each print a row.  (Whether the watchdog caught the blocking
# call depends on its thread being scheduled in time: not checked.)
"$bin/head_of_line" -d 300 >"$tmp/hol.out" 2>"$tmp/hol.err" ||
	fail "head_of_line: $(cat "$tmp/hol.out" "$tmp/hol.err")"
grep -q "^nested corio_loop_run() from a task: -16 " "$tmp/hol.out" ||
	fail "head_of_line: no refusal: $(cat "$tmp/hol.out")"
grep -q "a nested event loop is refused" "$tmp/hol.err" ||
	fail "head_of_line: no refusal message: $(cat "$tmp/hol.err")"
for row in "(a) blocking call on the loop" "(b) corio_blocking" \
	   "(c) corio_sleep"; do
	grep -qF "$row" "$tmp/hol.out" ||
		fail "head_of_line: no row '$row': $(cat "$tmp/hol.out")"
done
echo "ok: head_of_line"
# threads_vs_events: a short run of both models; both rows and the CSV.
"$bin/threads_vs_events" --rate 2000 --duration 0.5 --csv "$tmp/tve.csv" \
	>"$tmp/tve.out" 2>&1 || fail "threads_vs_events: $(cat "$tmp/tve.out")"
grep -q '^threads ' "$tmp/tve.out" || fail "threads_vs_events: no threads row"
grep -q '^corio ' "$tmp/tve.out" || fail "threads_vs_events: no corio row"
[ "$(grep -c '^threads,\|^corio,' "$tmp/tve.csv")" = 2 ] ||
	fail "threads_vs_events: CSV rows: $(cat "$tmp/tve.csv")"
echo "ok: threads_vs_events"
echo "samples: ok"
