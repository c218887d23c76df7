#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install corio and build programs against the installed tree alone.
#  - Configured for one prefix, installed into another (cmake --install
#    --prefix), then moved: nothing installed may name either place.
#  - CMake, find_package(corio): static, shared, async/await through
#    corio_add_async_sources() and the installed generator, component dns;
#    plain find_package(corio) with c-ares hidden, while COMPONENTS dns is
#    then refused with the reason.
#  - pkg-config: a plain cc line, and tests/consumer/Makefile, which runs
#    the generator pkg-config names and regenerates when a header changes.
#  - The shared libraries export corio_ symbols only.
# Usage: check_install.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check_install.sh SOURCE_DIR}
consumer=$src/tests/consumer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# expect WANT CMD...: CMD succeeds and prints exactly WANT.
expect() {
	local want=$1 got
	shift
	got=$("$@") || fail "$* exited with status $?"
	[ "$got" = "$want" ] || fail "$*: printed '$got', expected '$want'"
}

# A two-level libdir, as Debian's multiarch one, so that the .pc files'
# way back to the prefix is computed, not assumed.
cmake -S "$src" -B "$tmp/build" -DCMAKE_INSTALL_PREFIX="$tmp/configured" \
	-DCMAKE_INSTALL_LIBDIR="lib/$(cc -dumpmachine)" \
	-DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_SAMPLES=OFF \
	-DCORIO_BUILD_BENCH=OFF -DCORIO_SANITIZE= >/dev/null
cmake --build "$tmp/build" -j2 >/dev/null
cmake --install "$tmp/build" --prefix "$tmp/stage" >/dev/null
mv "$tmp/stage" "$tmp/prefix"
prefix=$tmp/prefix
[ ! -e "$tmp/configured" ] || fail "installed into the configure-time prefix"
stale=$(grep -rlF -e "$tmp/configured" -e "$tmp/stage" "$prefix" || true)
[ -z "$stale" ] || fail "installed files name where they were not: $stale"
[ -x "$prefix/bin/coriogen" ] || fail "no bin/coriogen"
pcdir=$(find "$prefix" -name corio.pc -printf '%h\n' | head -n1)
libdir=$(dirname "$pcdir")

# CMake, find_package(corio).
cmake -S "$consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
	>/dev/null
grep -qxF "corio_DIR:PATH=$libdir/cmake/corio" "$tmp/consumer/CMakeCache.txt" ||
	fail "find_package(corio) found another corio"
cmake --build "$tmp/consumer" -j2 >/dev/null
"$tmp/consumer/consumer"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_shared"
expect "ok await 20" "$tmp/consumer/consumer_await"

# Without c-ares: plain find_package(corio) works, COMPONENTS dns says why
# it cannot be had.
nocares=$tmp/pkgconfig-without-cares
mkdir "$nocares"
ln -s "$(pkg-config --variable=pcfiledir liburing)/liburing.pc" "$nocares/"
PKG_CONFIG_LIBDIR=$nocares cmake -S "$consumer" -B "$tmp/consumer_nodns" \
	-DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_DNS=OFF >/dev/null
PKG_CONFIG_LIBDIR=$nocares cmake --build "$tmp/consumer_nodns" \
	--target consumer >/dev/null
"$tmp/consumer_nodns/consumer"
if PKG_CONFIG_LIBDIR=$nocares cmake -S "$consumer" -B "$tmp/consumer_dns" \
	-DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_DNS=REQUIRED \
	>"$tmp/dns.log" 2>&1; then
	fail "find_package(corio COMPONENTS dns) succeeded without c-ares"
fi
grep -q "component dns: " "$tmp/dns.log" ||
	{ cat "$tmp/dns.log"; fail "no reason given for the missing dns component"; }

# pkg-config: a cc line, then make with the generator pkg-config names.
# shellcheck disable=SC2046
cc -o "$tmp/pc_consumer" "$consumer/main.c" \
	$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs corio)
LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer"
coriogen=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=coriogen corio)
[ "$(readlink -f "$coriogen")" = "$prefix/bin/coriogen" ] ||
	fail "pkg-config's coriogen is $coriogen"
mkdir "$tmp/make"
mk=(make -C "$tmp/make" -f "$consumer/Makefile" SRCDIR="$consumer")
PKG_CONFIG_PATH="$pcdir" "${mk[@]}" >/dev/null
LD_LIBRARY_PATH="$libdir" expect "ok await 20" "$tmp/make/consumer_await"
# The generator's depfile: up to date now, stale once a header the input
# includes is newer.
PKG_CONFIG_PATH="$pcdir" "${mk[@]}" -q ||
	fail "make: not up to date right after a build"
touch -d "+1 minute" "$prefix/include/corio/time.h"
rc=0
PKG_CONFIG_PATH="$pcdir" "${mk[@]}" -q 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "make -q after a header changed: status $rc, expected 1"

# The installed generator refuses an interpreter without libclang clearly
# (-S: without site-packages, where libclang's bindings are).
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' >"$tmp/python-S"
chmod +x "$tmp/python-S"
rc=0
CORIO_CODEGEN_PYTHON=$tmp/python-S "$prefix/bin/coriogen" "$consumer/await.c" \
	>/dev/null 2>"$tmp/gen.err" || rc=$?
if [ "$rc" -ne 2 ] || ! grep -q "can import clang.cindex" "$tmp/gen.err"; then
	fail "coriogen without libclang: status $rc, $(cat "$tmp/gen.err")"
fi

# corio_dns, when corio was built with c-ares: CMake and pkg-config.
if [ -f "$pcdir/corio-dns.pc" ]; then
	"$tmp/consumer/consumer_dns"
	LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_dns_shared"
	# shellcheck disable=SC2046
	cc -o "$tmp/pc_consumer_dns" "$consumer/dns.c" \
		$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs corio-dns)
	LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer_dns"
	bad=$(nm -D --defined-only "$libdir/libcorio_dns.so" | awk '{print $3}' \
		| grep -v '^corio_' | grep -v '^_' || true)
	[ -z "$bad" ] || fail "libcorio_dns.so exports non-corio symbols: $bad"
fi
# Only corio_ symbols are exported from the shared library.
bad=$(nm -D --defined-only "$libdir/libcorio.so" | awk '{print $3}' \
	| grep -v '^corio_' | grep -v '^_' || true)
[ -z "$bad" ] || fail "libcorio.so exports non-corio symbols: $bad"
echo "install: ok"
