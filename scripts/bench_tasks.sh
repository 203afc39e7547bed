#!/bin/sh
# Runs the million-task benchmark in C (bench/bench_tasks), Python asyncio
# (bench/million_asyncio.py) and Go (bench/million.go) with the same task
# count and seed, prints the ratios, and appends the command, the machine
# (nproc, CPU model, kernel), the date and the raw output to
# bench/RESULTS.md.
# Usage: scripts/bench_tasks.sh [BUILD] [TASKS]   (default: build 1000000)
set -eu
build=${1:-build}
tasks=${2:-1000000}
seed=1
py_rounds=200000 # Python's throughput and round-trip counts (rates only)
results=bench/RESULTS.md
cd "$(dirname "$0")/.."

case "$tasks" in '' | *[!0-9]*) echo "bench_tasks.sh: TASKS must be a number" >&2; exit 2 ;; esac

# python3 and go, installed when missing (Debian: python3, golang-go).
ensure_tools() {
	command -v python3 >/dev/null 2>&1 && command -v go >/dev/null 2>&1 && return 0
	if [ -x scripts/deps.sh ]; then
		scripts/deps.sh bench || true
	fi
	command -v python3 >/dev/null 2>&1 && command -v go >/dev/null 2>&1 && return 0
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y -q --no-install-recommends python3 golang-go >&2 || true
}

# key=value from a block of output.
val() {
	printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -n 1
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", a / b; else print "n/a" }'
}

ensure_tools
make -s BUILD="$build" "$build/bench/bench_tasks"
load=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews wall times

cmd_c="$build/bench/bench_tasks --tasks $tasks --seed $seed"
echo "== $cmd_c" >&2
out_c=$($cmd_c)
printf '%s\n' "$out_c"

out_py="(python3 not installed)"
if command -v python3 >/dev/null 2>&1; then
	cmd_py="python3 bench/million_asyncio.py --tasks $tasks --seed $seed --throughput $py_rounds --roundtrips $py_rounds"
	echo "== $cmd_py" >&2
	out_py=$($cmd_py)
	printf '%s\n' "$out_py"
fi

out_go="(go not installed)"
if command -v go >/dev/null 2>&1; then
	export GOCACHE="${GOCACHE:-$PWD/$build/.gocache}"
	go build -o "$build/bench/million_go" bench/million.go
	cmd_go="$build/bench/million_go --tasks $tasks --seed $seed"
	echo "== $cmd_go" >&2
	out_go=$($cmd_go)
	printf '%s\n' "$out_go"
fi

c_wall=$(val million.wall_s "$out_c")
c_bytes=$(val million.bytes_per_task "$out_c")
ratios=$(cat <<EOT
| vs C | wall (x slower) | bytes per task (x more) |
| --- | --- | --- |
| Python asyncio | $(ratio "$(val million.wall_s "$out_py")" "$c_wall") | $(ratio "$(val million.bytes_per_task "$out_py")" "$c_bytes") |
| Go goroutines | $(ratio "$(val million.wall_s "$out_go")" "$c_wall") | $(ratio "$(val million.bytes_per_task "$out_go")" "$c_bytes") |

| | C | Python asyncio | C / Python |
| --- | --- | --- | --- |
| create+run+complete (tasks/s) | $(val throughput.tasks_per_s "$out_c") | $(val throughput.tasks_per_s "$out_py") | $(ratio "$(val throughput.tasks_per_s "$out_c")" "$(val throughput.tasks_per_s "$out_py")") |
| await/wake-up round trip (ns) | $(val roundtrip.ns "$out_c") | $(val roundtrip.ns "$out_py") | $(ratio "$(val roundtrip.ns "$out_py")" "$(val roundtrip.ns "$out_c")")x faster |
EOT
)
printf '%s\n' "$ratios"

[ -f "$results" ] || printf '# Benchmark results\n\nAppended by the scripts under scripts/; newest last.\n' >"$results"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo
	echo "## bench_tasks: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo
	echo "- command: \`scripts/bench_tasks.sh $build $tasks\`"
	echo "- machine: nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -r), load average before the run: $load"
	echo "- targets: million wall <= 1.3 s, <= 1024 bytes per task"
	echo
	echo '```'
	echo "\$ $cmd_c"
	printf '%s\n' "$out_c"
	echo "\$ ${cmd_py:-python3 bench/million_asyncio.py}"
	printf '%s\n' "$out_py"
	echo "\$ ${cmd_go:-go run bench/million.go}"
	printf '%s\n' "$out_go"
	echo '```'
	echo
	printf '%s\n' "$ratios"
} >>"$results"
echo "appended to $results" >&2
