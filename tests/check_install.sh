#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install corio into a scratch prefix, then build and run a consumer with
# find_package(corio) (static and shared) and with pkg-config.
# Usage: check_install.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check_install.sh SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$src" -B "$tmp/build" -DCMAKE_INSTALL_PREFIX="$tmp/prefix" \
	-DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_SAMPLES=OFF \
	-DCORIO_BUILD_BENCH=OFF -DCORIO_SANITIZE= >/dev/null
cmake --build "$tmp/build" -j2 >/dev/null
cmake --install "$tmp/build" >/dev/null
cmake -S "$src/tests/consumer" -B "$tmp/consumer" \
	-DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer"
LD_LIBRARY_PATH="$(dirname "$(find "$tmp/prefix" -name libcorio.so | head -n1)")" \
	"$tmp/consumer/consumer_shared"
pcdir=$(find "$tmp/prefix" -name corio.pc -printf '%h\n' | head -n1)
libdir=$(dirname "$pcdir")
# shellcheck disable=SC2046
cc -o "$tmp/pc_consumer" "$src/tests/consumer/main.c" \
	$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs corio)
LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer"
# corio_dns, when corio was built with c-ares: CMake and pkg-config.
if [ -f "$pcdir/corio-dns.pc" ]; then
	"$tmp/consumer/consumer_dns"
	LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_dns_shared"
	# shellcheck disable=SC2046
	cc -o "$tmp/pc_consumer_dns" "$src/tests/consumer/dns.c" \
		$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs corio-dns)
	LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer_dns"
	bad=$(nm -D --defined-only "$libdir/libcorio_dns.so" | awk '{print $3}' \
		| grep -v '^corio_' | grep -v '^_' || true)
	if [ -n "$bad" ]; then
		echo "FAIL: libcorio_dns.so exports non-corio symbols:"; echo "$bad"
		exit 1
	fi
fi
# Only corio_ symbols are exported from the shared library.
bad=$(nm -D --defined-only "$libdir/libcorio.so" | awk '{print $3}' \
	| grep -v '^corio_' | grep -v '^_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: libcorio.so exports non-corio symbols:"; echo "$bad"
	exit 1
fi
echo "install: ok"
