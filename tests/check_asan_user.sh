#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A program built with AddressSanitizer against a libcorio built without
# gets frames that are allocations of their own, so its use of a released
# frame is reported (not read from corio's cache), through the static and
# the shared library alike; with the cache on, the same bug goes unseen.
# Usage: check_asan_user.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -euo pipefail
src=${1:?usage: check_asan_user.sh SOURCE_DIR BUILD_DIR C_COMPILER}
build=${2:?}
cc=${3:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

lib=$build/runtime
nm "$lib/libcorio.a" 2>/dev/null | grep -q ' U __asan_report' &&
	fail "libcorio.a is instrumented: configure without CORIO_SANITIZE"
uring=$(pkg-config --libs liburing)
flags=(-std=gnu11 -g -O1 -I"$src/include" -I"$src/macros")
"$cc" "${flags[@]}" -fsanitize=address "$src/tests/asan_user/uaf.c" \
	"$lib/libcorio.a" $uring -lpthread -o "$tmp/uaf_static"
"$cc" "${flags[@]}" -fsanitize=address "$src/tests/asan_user/uaf.c" \
	-L"$lib" -Wl,-rpath,"$lib" -lcorio $uring -lpthread -o "$tmp/uaf_shared"
# Without ASan the bug reads recycled memory: the check below would then
# prove nothing, so make sure the program itself runs.
"$cc" "${flags[@]}" "$src/tests/asan_user/uaf.c" "$lib/libcorio.a" $uring \
	-lpthread -o "$tmp/uaf_plain"
"$tmp/uaf_plain" >/dev/null || fail "the program does not run"

for prog in uaf_static uaf_shared; do
	if ASAN_OPTIONS=detect_leaks=0 "$tmp/$prog" >/dev/null \
		2>"$tmp/$prog.err"; then
		fail "$prog: the use of a released frame went unreported"
	fi
	grep -q "heap-use-after-free" "$tmp/$prog.err" ||
		{ cat "$tmp/$prog.err"; fail "$prog: no heap-use-after-free"; }
	grep -q "in main " "$tmp/$prog.err" ||
		{ cat "$tmp/$prog.err"; fail "$prog: reported elsewhere"; }
	echo "ok: $prog reports the use of a released frame"
done
