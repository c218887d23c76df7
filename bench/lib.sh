# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154  # prog, tmpdir, port: the caller's
#
# lib.sh - shell functions shared by the server benchmarks
# (echo_compare.sh, http_compare.sh, conn_mem.sh), sourced after they set:
#   prog        the script's name, the prefix of its messages
#   tmpdir      (before install_traps) removed on exit
#   server_pid, load_pid   processes to stop on exit, when not empty
#   port        (for start_server) the next port to try

die() {
	echo "$prog: $*" >&2
	exit 2
}

# True while $1 runs (a zombie waiting to be reaped counts as gone).
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	[[ ${stat##*) } != Z* ]]
}

# SIGTERM, then SIGKILL after 5 s; returns the exit status of $1.
stop_proc() {
	local pid=$1 i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 500; i++)); do
		alive "$pid" || break
		sleep 0.01
	done
	if alive "$pid"; then
		echo "$prog: pid $pid ignored SIGTERM, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# shellcheck disable=SC2317  # only run from the trap
cleanup() {
	[[ -n ${load_pid:-} ]] && { stop_proc "$load_pid" || true; }
	[[ -n ${server_pid:-} ]] && { stop_proc "$server_pid" || true; }
	rm -rf "$tmpdir"
}

# On exit, stop what still runs and remove $tmpdir; exit on INT and TERM
# with the status a shell gives for those signals.
install_traps() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# True when something accepts connections on 127.0.0.1:$1.
connects() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Polls (at most 10 s) until the server $1 listens on port $2, failing
# early if it died.
wait_listening() {
	local pid=$1 port=$2 i
	for ((i = 0; i < 500; i++)); do
		alive "$pid" || return 1
		connects "$port" && return 0
		sleep 0.02
	done
	return 1
}

# Start the server command $3 pinned to CPUs $2 (taskset -c list), its
# output in $4, on the first free port from $port on ({port} in $3 stands
# for it), and wait until it listens: sets server_pid and port.  On
# failure prints the output, stops the server, moves port on and returns
# 1.  $1 names the server in the message.
start_server() {
	local name=$1 cpus=$2 cmd=$3 log=$4

	while connects "$port"; do	# someone else is on it: skip
		port=$((port + 1))
	done
	taskset -c "$cpus" bash -c "${cmd//\{port\}/$port}" </dev/null \
		>"$log" 2>&1 &
	server_pid=$!
	wait_listening "$server_pid" "$port" && return 0
	echo "$prog: $name did not listen on $port:" >&2
	cat "$log" >&2
	stop_proc "$server_pid" || true
	server_pid=
	port=$((port + 1))
	return 1
}

# The CPUs (taskset -c list) of a server of $1 loops: 0 to $1 - 1, as
# many as there are.
loop_cpus() {
	local n=$1 ncpu
	ncpu=$(nproc)
	echo "0-$(((n < ncpu ? n : ncpu) - 1))"
}

# Median of a space-separated list of numbers.
median() {
	local vals
	read -ra vals <<<"$1"
	printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
