#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run each libFuzzer harness of tests/fuzz for SECONDS (default 20), on a
# scratch copy of its committed corpus (tests/fuzz/corpus/NAME), and fail
# on any crash, sanitizer report, assertion, leak or 10-second hang.
# Prints libFuzzer's final line (runs, cov:, ft:) per harness.  A crashing
# input is left in BUILD/fuzz-artifacts/: add it to the corpus with the fix.
#
#	tests/fuzz/run.sh BUILD [SECONDS]
#
# BUILD: a build directory configured with clang and -DCORIO_FUZZ=ON.
set -euo pipefail
build=${1:?usage: tests/fuzz/run.sh BUILD [SECONDS]}
secs=${2:-20}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz-artifacts"
status=0
for name in fuzz_request fuzz_path; do
	bin=$build/tests/fuzz/$name
	work=$build/fuzz-work/$name
	rm -rf "$work"
	mkdir -p "$work"
	cp "$src/corpus/$name"/* "$work/"
	log=$build/fuzz-artifacts/$name.log
	if "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$name-" \
		"$work" >"$log" 2>&1; then
		echo "$name: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
	else
		echo "$name: FAILED (log: $log)" >&2
		grep -E 'ERROR|SUMMARY|Assertion|changed|differ|left' "$log" \
			>&2 || tail -20 "$log" >&2
		status=1
	fi
done
exit $status
