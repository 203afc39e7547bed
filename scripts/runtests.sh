#!/bin/sh
# Runs every test binary of one build directory, each under a time limit,
# and prints one closing line "<build>: N passed, N failed".
# Usage: scripts/runtests.sh BUILD [FILTER]
set -u
build=$1
filter=${2:-}
pass=0
fail=0
failed=""
export CRAWL_BUILD="$build"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	if [ -n "$filter" ]; then case "$t" in *"$filter"*) ;; *) continue ;; esac; fi
	echo "== $t"
	if timeout 300 "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $(basename "$t")"
	fi
done
mkdir -p "$build"
echo "$pass $fail$failed" >"$build/.test-summary"
echo "$build: $pass passed, $fail failed${failed:+ (failed:$failed)}"
[ "$fail" -eq 0 ]
