#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build corio and run every test: gcc with -Werror, clang with -Werror,
# then gcc with AddressSanitizer and UndefinedBehaviorSanitizer.  Ends with
# ctest's summary of the sanitizer run.  Usage: tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./tests/install-deps.sh
jobs=2	# two cores: keep builds and tests modest

configure_and_test() {	# build dir, cmake options...
	local dir=$1; shift
	echo "== $dir: $*"
	cmake -S . -B "$dir" -DCORIO_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

configure_and_test build-clang -DCMAKE_C_COMPILER=clang
configure_and_test build
configure_and_test build-asan -DCMAKE_BUILD_TYPE=Debug \
	-DCORIO_SANITIZE=address,undefined
