#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every public header compiles alone as ISO C11 with -pedantic (gcc and
# clang) and as C++; the macro DSL compiles pedantically in both of its
# dispatch modes.  Usage: check_headers.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check_headers.sh SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-Wall -Wextra -Werror -I"$src/include" -I"$src/macros")
fail=0
check() {	# description, compiler and flags..., file
	local what=$1; shift
	if ! "$@" -c -o /dev/null 2>"$tmp/err"; then
		echo "FAIL: $what"; cat "$tmp/err"; fail=1
	else
		echo "ok: $what"
	fi
}
for h in "$src"/include/corio.h "$src"/include/corio/*.h; do
	name=${h#"$src"/include/}
	# The Criterion helpers need Criterion first; tests use them.
	[ "$name" = corio/test.h ] && continue
	# The codegen input header refuses plain compilation on purpose.
	mode=()
	[ "$name" = corio/await.h ] && mode=(-DCORIO_SYNC_MODE)
	printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cpp"
	for cc in gcc clang; do
		check "$name alone, $cc -std=c11 -pedantic" \
			$cc -std=c11 -pedantic "${mode[@]}" "${flags[@]}" "$tmp/t.c"
	done
	check "$name as C++" g++ -std=c++11 -pedantic "${mode[@]}" \
		"${flags[@]}" "$tmp/t.cpp"
done
for cc in gcc clang; do
	for mode in "" -DCORIO_NO_LABELS_AS_VALUES; do
		check "macro DSL ($cc ${mode:-labels-as-values})" $cc -std=c11 \
			-pedantic $mode "${flags[@]}" "$src/samples/hello.c"
	done
done
exit $fail
