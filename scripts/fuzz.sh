#!/bin/sh
# Runs every libFuzzer target of BUILD for SECONDS each, with a corpus kept
# in build-fuzz/corpus/NAME; exits non-zero at the first crash.
# Usage: scripts/fuzz.sh BUILD SECONDS
set -eu
build=$1
secs=$2
for f in "$build"/fuzz/fuzz_*; do
	case "$f" in *.o|*.d) continue ;; esac
	name=$(basename "$f")
	corpus="$build/corpus/$name"
	mkdir -p "$corpus"
	echo "== $name ($secs s)"
	"$f" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 "$corpus" 2>&1 |
		grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" || true
	"$f" -runs=0 "$corpus" >/dev/null 2>&1 || { echo "$name: crash (see $corpus)"; exit 1; }
done
echo "fuzz: every target ran ${secs} s without a crash"
