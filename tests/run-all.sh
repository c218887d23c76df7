#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build corio and run every test: gcc with -Werror, clang with -Werror,
# the gcc suites again under the scope check's shadow, gcc with
# ThreadSanitizer (the stress programs), a 60 s soak of the echo server,
# a minute of tracing it, a short libFuzzer run (clang) over the HTTP
# sample's request reader and path opening, then gcc with AddressSanitizer
# and UndefinedBehaviorSanitizer.  Ends with ctest's summary of that last
# run.  Usage: tests/run-all.sh
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
# The scope deadlock check over every Criterion suite, both backends, as
# a shadow that reports nothing and aborts if a task it found stuck runs
# again: a false report would fail here (docs/deadlocks.md).
echo "== build: the suites again with CORIO_SCOPE_SHADOW=1"
(cd build && CORIO_SCOPE_SHADOW=1 ctest --output-on-failure -j"$jobs" \
	--timeout 600 -R '^test_' -E 'faults|valgrind')

# ---- ThreadSanitizer ------------------------------------------------------
# Criterion cannot start under TSan, so this configuration builds no suite
# and ctest runs the stress programs of tests/stress alone (tsan_stress:
# 200 iterations on io_uring, 200 on epoll).  Their ctest environment sets
# TSAN_OPTIONS=halt_on_error=1:exitcode=66 and the commented suppressions
# file: any report fails the run.
configure_and_test build-tsan -DCMAKE_BUILD_TYPE=Debug \
	-DCORIO_SANITIZE=thread
# The echo server's two loops under TSan as well: a short churn soak (a
# report stops the server, which fails the soak).
echo "== soak under TSan: echo_server --loops 2, 20 s"
TSAN_OPTIONS="halt_on_error=1:exitcode=66:suppressions=$PWD/tests/stress/tsan.supp" \
	./tests/soak.sh 20 --bindir build-tsan --conns 500

# ---- Soak -----------------------------------------------------------------
# 60 s of connection churn against the gcc build's echo_server --loops 2:
# no echo error, descriptors back to the start, bounded RSS growth.
echo "== soak: echo_server --loops 2, 60 s"
./tests/soak.sh 60 --bindir build

# ---- A minute traced -------------------------------------------------------
# The echo server traced for 60 s under load with CORIO_TRACE_LIMIT=32M:
# it keeps the last part, and the file is a valid trace a viewer opens.
echo "== a minute traced: echo_server with CORIO_TRACE_LIMIT=32M, 60 s"
./tests/check_trace_long.sh 60 --bindir build

# ---- libFuzzer: http_server's request reader and path opening ----------
# clang only; 20 s per harness on the committed corpus, after replaying
# it once under ctest.  Any crash, sanitizer report or hang fails here.
echo "== build-fuzz: -DCMAKE_C_COMPILER=clang -DCORIO_FUZZ=ON"
cmake -S . -B build-fuzz -DCORIO_WERROR=ON -DCMAKE_C_COMPILER=clang \
	-DCORIO_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_request fuzz_path >/dev/null
(cd build-fuzz && ctest --output-on-failure -R '^fuzz_')
tests/fuzz/run.sh build-fuzz 20
# ---- end libFuzzer ------------------------------------------------------

configure_and_test build-asan -DCMAKE_BUILD_TYPE=Debug \
	-DCORIO_SANITIZE=address,undefined
