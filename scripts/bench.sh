#!/bin/sh
# Runs benchmarks, prints their output and appends each one's raw output as
# a dated section to bench/RESULTS.md (never edit the numbers by hand).
# Usage: scripts/bench.sh [BUILD] [NAME...]
#   BUILD  the build directory with the asm switch (default: build); the
#          ucontext variant is read from build-ucontext/ (make bench builds both)
#   NAME   benchmarks to run (default: all of BENCHES)
# Adding a benchmark: write a function bench_NAME that prints its raw output
# (and any derived lines) on stdout and fails when it can't run, then add
# NAME to BENCHES.
set -eu

BENCHES="coro crawl daemon"
RESULTS=bench/RESULTS.md
UCONTEXT_BUILD=build-ucontext

build=${1:-build}
[ $# -gt 0 ] && shift
names=${*:-$BENCHES}
cmdline="scripts/bench.sh $build${*:+ $*}"

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

need_binary() {
	[ -x "$1" ] || die "$1 is missing (run 'make bench', or make all BUILD=... for that build)"
}

# value NAME BACKEND: the number on the line "NAME BACKEND VALUE" of stdin.
value() {
	awk -v n="$1" -v b="$2" '$1 == n && $2 == b { print $3; exit }'
}

# bench_coro: switch, lifecycle and shared-stack costs, asm against ucontext.
bench_coro() {
	need_binary "$build/bench/bench_coro"
	need_binary "$UCONTEXT_BUILD/bench/bench_coro"
	asm_out=$("$build/bench/bench_coro") || die "$build/bench/bench_coro failed"
	uc_out=$("$UCONTEXT_BUILD/bench/bench_coro") || die "$UCONTEXT_BUILD/bench/bench_coro failed"
	printf '$ %s\n%s\n$ %s\n%s\n' "$build/bench/bench_coro" "$asm_out" \
		"$UCONTEXT_BUILD/bench/bench_coro" "$uc_out"
	asm_ns=$(printf '%s\n' "$asm_out" | value switch_ns asm)
	uc_ns=$(printf '%s\n' "$uc_out" | value switch_ns ucontext)
	[ -n "$asm_ns" ] && [ -n "$uc_ns" ] || die "bench_coro printed no switch_ns line"
	awk -v a="$asm_ns" -v u="$uc_ns" 'BEGIN {
		r = u / a
		printf "switch_ratio ucontext/asm %.1f\n", r
		printf "target switch_ns asm <= 10: %s (%.1f)\n", ((a <= 10) ? "met" : "NOT met"), a
		printf "target ucontext/asm >= 50: %s (%.1f)\n", ((r >= 50) ? "met" : "NOT met"), r
	}'
}

# bench_daemon: a thousand small simulated sites submitted to the real crawld
# at once, with the default number of jobs running at a time and with all
# of them running at once.
bench_daemon() {
	need_binary "$build/bench/bench_daemon"
	need_binary "$build/crawld"
	for running in 0 1000; do
		set -- --jobs 1000
		[ "$running" -gt 0 ] && set -- "$@" --running "$running"
		printf '$ CRAWL_BUILD=%s %s %s\n' "$build" "$build/bench/bench_daemon" "$*"
		CRAWL_BUILD=$build "$build/bench/bench_daemon" "$@" ||
			die "$build/bench/bench_daemon $* failed"
	done
}

# bench_crawl: crawld against Go, aiohttp, Scrapy and wget2 on a 20,000-page nginx site,
# and a million-page simulated web (scripts/bench_crawl.sh does the work).
bench_crawl() {
	need_binary "$build/bench/bench_crawl"
	scripts/bench_crawl.sh "$build" || die "scripts/bench_crawl.sh failed"
}

cpu_model() {
	model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	echo "${model:-unknown ($(uname -m))}"
}

# append_section NAME OUTPUT LOADAVG: one dated section of RESULTS.md.
append_section() {
	if [ ! -f "$RESULTS" ]; then
		printf '# Benchmark results\n\nAppended by scripts/bench.sh (make bench); the numbers are raw output, never edited by hand.\n' >"$RESULTS"
	fi
	{
		printf '\n## %s — %s\n\n' "$1" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		printf -- '- command: `%s`\n' "$cmdline"
		printf -- '- nproc: %s\n' "$(nproc)"
		printf -- '- cpu: %s\n' "$(cpu_model)"
		printf -- '- load average before the run: %s\n' "$3"
		printf -- '- commit: %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
		printf '\n```\n%s\n```\n' "$2"
	} >>"$RESULTS"
}

for name in $names; do
	case " $BENCHES " in *" $name "*) ;; *) die "unknown benchmark '$name' (have: $BENCHES)" ;; esac
	load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
	echo "== bench $name"
	out=$(bench_"$name") || exit 1
	printf '%s\n' "$out"
	append_section "$name" "$out" "$load"
	echo "== appended to $RESULTS"
done
