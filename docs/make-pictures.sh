#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make-pictures.sh - draw the pictures of docs/tracing.md again, from
# traces the samples write (CORIO_TRACE) and tools/corio-trace-render.
#
# Usage: docs/make-pictures.sh [BUILD_DIR]    (default: build)
#
# Builds samples/head_of_line and samples/deadlock in BUILD_DIR (configure
# it first: cmake -S . -B build), runs them traced and writes
#   docs/head_of_line.png        the blocked loop, then the offloaded one
#   docs/head_of_line-zoom.png   25 us of the offloaded loop, with the
#                                wake-up arrows
#   docs/deadlock-cycle.svg      the await cycle of samples/deadlock
# Needs python3-matplotlib and graphviz (tests/install-deps.sh).  The runs
# take real time, so the pictures differ a little from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
render=tools/corio-trace-render

[[ -f $build/CMakeCache.txt ]] ||
	{ echo "make-pictures: configure $build first" >&2; exit 2; }
cmake --build "$build" --target head_of_line deadlock -j2 >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# head_of_line runs each variant on a server loop of its own, with the
# client on another thread and loop; the server loops are the ones with
# an acceptor task, in the order of the variants.
CORIO_TRACE=$tmp/hol.json "$build/samples/head_of_line" -d 600 \
	>"$tmp/hol.out" 2>&1 || { cat "$tmp/hol.out" >&2; exit 1; }
mapfile -t servers < <("$render" "$tmp/hol.json" --list |
	awk '/acceptor/ { sub(":", "", $2); print $2 }')
((${#servers[@]} == 3)) ||
	{ echo "make-pictures: expected 3 server loops" >&2; exit 1; }
"$render" "$tmp/hol.json" -o docs/head_of_line.png \
	--loop "${servers[0]}" --loop "${servers[1]}" --from 0 --to 360 \
	--title "(a) a 100 ms nanosleep(2) in the handler: the loop stops" \
	--title "(b) the same call through corio_blocking(): the loop goes on"
"$render" "$tmp/hol.json" -o docs/head_of_line-zoom.png \
	--loop "${servers[1]}" --from 300 --span-us 25 --flows \
	--title "(b), 25 us of it: each step, and the arrow from what woke it"

# The first report of samples/deadlock: a mutex and a join in a cycle.
CORIO_TRACE=$tmp/deadlock.json "$build/samples/deadlock" >/dev/null || true
# Its file names are the build's absolute paths: keep them from the repo.
"$render" "$tmp/deadlock.json" --deadlock-dot 0 | sed "s#$PWD/##g" |
	dot -Tsvg -Grankdir=LR -Granksep=1.2 -Gfontname=Helvetica \
	    -Nfontname=Helvetica -Efontname=Helvetica -o docs/deadlock-cycle.svg
echo "make-pictures: wrote docs/head_of_line.png docs/head_of_line-zoom.png" \
	"docs/deadlock-cycle.svg"
