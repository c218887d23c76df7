#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run samples under valgrind's memcheck: no invalid access, no use of
# uninitialised memory, no leak.  Complements the AddressSanitizer build
# (the two cannot be combined).  Usage: check_valgrind.sh SAMPLES_DIR
set -euo pipefail
bin=${1:?usage: check_valgrind.sh SAMPLES_DIR}
if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind is not installed"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)
run() {	# expected exit status, program and arguments
	local want=$1 got=0; shift
	"${vg[@]}" "$@" >"$tmp/out" 2>&1 || got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $* exited $got (want $want)"; cat "$tmp/out"; exit 1
	fi
	echo "ok: $(basename "$1")"
}
run 0 "$bin/hello"
run 0 "$bin/sleep_sort" 5 3 4 1
head -c 300000 /dev/urandom >"$tmp/src"
# --read-write: by default cp copies with copy_file_range on the loop's
# worker threads, and valgrind 3.19 does not know that io_uring_enter
# blocks: it keeps its global lock while the loop waits, so the worker
# thread never runs and the copy hangs.
run 0 "$bin/cp" --read-write "$tmp/src" "$tmp/dst"
cmp "$tmp/src" "$tmp/dst"
run 1 "$bin/deadlock"
run 0 "$bin/demo" -c 20 -d 1
# resolve exists when c-ares is installed; a closed local port as server.
if [ -x "$bin/resolve" ]; then
	run 0 "$bin/resolve" -s 127.0.0.1:1 -l fb localhost 127.0.0.1 ::1
	run 1 "$bin/resolve" -s 127.0.0.1:1 -l f no-such-name.invalid
fi
echo "valgrind: ok"
