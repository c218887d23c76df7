#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# files.sh - file benchmarks with their baselines, in one run:
#
#  1. Copying a file (1 GiB by default) with corio's samples/cp against
#     coreutils cp, with the page cache warm and, as root, cold (after
#     echo 3 > /proc/sys/vm/drop_caches).  samples/cp fsyncs what it wrote
#     and cp does not, so every cp is timed together with `sync FILE` on
#     its copy: both are then timed to the same point, the data on disk.
#     Methods: cp (coreutils, default flags), cp --reflink=never, dd with
#     128 KiB blocks and conv=fsync (a plain read/write loop), samples/cp
#     (copy_file_range on worker threads), samples/cp --read-write.
#     Before that, strace -c (if installed) shows which system calls
#     coreutils cp copies with here.
#  2. bench/files_randread: random 4 KiB reads from a cached 256 MiB file,
#     corio at queue depth 32 against a pread loop.
#
# Usage: bench/files.sh --bindir BUILD_DIR [--size-mib N] [--runs N]
#                       [--no-cold] [--rr-reads N]
# Files go to a fresh directory under ${TMPDIR:-/tmp}, removed at the end.
# Output: name=value lines; times are medians in seconds (wall, and the
# CPU time of the commands, user + system, from /usr/bin/time), ratios are
# corio's wall time over the baseline's (below 1: corio is faster).  All copies
# run pinned to CPU 1 (taskset), the random reads too.
set -euo pipefail

bindir=
size_mib=1024
runs=3
cold=1
rr_reads=200000
while [ $# -gt 0 ]; do
	case $1 in
	--bindir) bindir=$2; shift 2 ;;
	--size-mib) size_mib=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--no-cold) cold=0; shift ;;
	--rr-reads) rr_reads=$2; shift 2 ;;
	*) echo "files.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$bindir" ] || { echo "usage: files.sh --bindir BUILD_DIR" >&2; exit 2; }
corio_cp=$bindir/samples/cp
randread=$bindir/bench/files_randread
for b in "$corio_cp" "$randread"; do
	[ -x "$b" ] || { echo "files.sh: $b is not built" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/corio-files-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin=(taskset -c 1)
fi

head -c $((size_mib << 20)) /dev/urandom >"$tmp/src"
sync "$tmp/src"
echo "cp_file_mib=$size_mib"
echo "cp_runs=$runs"
echo "cp_fs=$(stat -f -c %T "$tmp")"

# What coreutils cp copies with on this machine.
if command -v strace >/dev/null; then
	strace -f -c -o "$tmp/strace" cp "$tmp/src" "$tmp/dst" || true
	# name:calls,errors for the calls that can move data (ioctl is
	# the FICLONE reflink attempt).
	uses=$(awk '$NF ~ /^(copy_file_range|ioctl|read|write|sendfile|splice)$/ {
		printf "%s%s:%s,%s", sep, $NF, $4, (NF == 6 ? $5 : 0);
		sep = " " }' "$tmp/strace")
	echo "coreutils_cp_syscalls=\"$uses\""
	rm -f "$tmp/dst"
fi

can_drop=0
if [ "$cold" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
	can_drop=1
elif [ "$cold" = 1 ]; then
	echo "cp_cold=skipped (cannot write /proc/sys/vm/drop_caches: not root)"
fi

# time_copy WARM|COLD CMD...: microseconds of wall time for CMD on a
# fresh destination; the CPU seconds of its commands go to $tmp/cpu.
time_copy() {
	local mode=$1 start end
	shift
	rm -f "$tmp/dst" "$tmp/cpu"
	sync
	if [ "$mode" = cold ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		cat "$tmp/src" >/dev/null
	fi
	start=$(date +%s%N)
	"$@"
	end=$(date +%s%N)
	echo $(( (end - start) / 1000 ))
}

# Run a command, adding its user + system CPU seconds to $tmp/cpu.
cpu() { "${timer[@]}" "$@"; }
timer=()
if [ -x /usr/bin/time ]; then
	timer=(/usr/bin/time -a -o "$tmp/cpu" -f "%U %S")
fi

median() { sort -n | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2];
	else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

copy_with() { # name: the method; fills $tmp/dst from $tmp/src
	case $1 in
	cp) cpu "${pin[@]}" cp "$tmp/src" "$tmp/dst" &&
		cpu sync "$tmp/dst" ;;
	cp_noreflink) cpu "${pin[@]}" cp --reflink=never "$tmp/src" \
		"$tmp/dst" && cpu sync "$tmp/dst" ;;
	dd) cpu "${pin[@]}" dd if="$tmp/src" of="$tmp/dst" bs=128K \
		conv=fsync status=none ;;
	corio) cpu "${pin[@]}" "$corio_cp" "$tmp/src" "$tmp/dst" ;;
	corio_rw) cpu "${pin[@]}" "$corio_cp" --read-write "$tmp/src" \
		"$tmp/dst" ;;
	esac
}

methods=(cp cp_noreflink dd corio corio_rw)
modes=(warm)
[ "$can_drop" = 1 ] && modes+=(cold)
for mode in "${modes[@]}"; do
	declare -A med=()
	# Methods take turns within a run, not run after run, so a noisy
	# minute hurts all of them alike.
	for ((r = 0; r < runs; r++)); do
		for m in "${methods[@]}"; do
			time_copy "$mode" copy_with "$m" >>"$tmp/times.$m"
			[ ! -f "$tmp/cpu" ] || awk '{ c += $1 + $2 }
				END { print c }' "$tmp/cpu" >>"$tmp/cpus.$m"
			cmp "$tmp/src" "$tmp/dst" ||
				{ echo "files.sh: $m: copy differs" >&2; exit 1; }
		done
	done
	for m in "${methods[@]}"; do
		med[$m]=$(median <"$tmp/times.$m")
		rm "$tmp/times.$m"
		awk -v m="$m" -v mode="$mode" -v us="${med[$m]}" \
			'BEGIN { printf "cp_%s_%s_s=%.3f\n", mode, m, us / 1e6 }'
		if [ -f "$tmp/cpus.$m" ]; then
			echo "cp_${mode}_${m}_cpu_s=$(median <"$tmp/cpus.$m")"
			rm "$tmp/cpus.$m"
		fi
	done
	for base in cp dd; do
		for m in corio corio_rw; do
			awk -v a="${med[$m]}" -v b="${med[$base]}" \
			    -v n="cp_${mode}_${m}_vs_${base}" \
			    'BEGIN { printf "%s=%.2f\n", n, a / b }'
		done
	done
	unset med
done
rm -f "$tmp/dst" "$tmp/src"

# Random reads from a cached file.
head -c $((256 << 20)) /dev/urandom >"$tmp/rr"
cat "$tmp/rr" >/dev/null
"${pin[@]}" "$randread" "$tmp/rr" --reads "$rr_reads" --qd 32 --runs 5
