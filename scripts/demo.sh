#!/bin/sh
# The one-command demo behind `make run`: starts crawld on a state folder
# inside the checkout, the bundled test server with a generated site on
# 127.0.0.1 (or a large simulated web with SIM=1), submits a crawl with
# crawlctl, shows its progress, its sorted results and its log, then stops
# everything it started (by PID).
# Usage: scripts/demo.sh BUILD real|sim
set -u
build=${1:-build}
mode=${2:-real}
here=$(pwd)
demo="$here/run-demo"

if [ ! -x "$build/crawld" ] || [ ! -x "$build/crawlctl" ]; then
	echo "== crawld is not built yet; running the seed's examples instead"
	for ex in generator_states prime transfer_control one two three four; do
		[ -x "$build/examples/$ex" ] || continue
		echo "-- examples/$ex"
		"$build/examples/$ex" || exit 1
	done
	exit 0
fi

rm -rf "$demo"
mkdir -p "$demo"
sock="$demo/crawld.sock"
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

"$build/crawld" --foreground \
	--set daemon.state_dir="$demo/state" --set daemon.socket="$sock" \
	--set daemon.log_dir="$demo/log" --set daemon.pid_file= \
	--set crawl.allow_private=true 2>"$demo/crawld.stderr" &
pids="$!"
export CRAWLD_SOCKET="$sock"
i=0
until [ -S "$sock" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then echo "crawld did not start:"; cat "$demo/crawld.stderr"; exit 1; fi
	sleep 0.05
done
echo "== crawld is running (pid $pids, state in $demo)"

if [ "$mode" = sim ]; then
	spec="hosts=10,pages=20000,links=10,latency=uniform:1:50,offsite=0.01,broken=0.01"
	echo "== submitting a crawl of a simulated web: $spec"
	id=$("$build/crawlctl" submit sim://h0.sim/ --sim "$spec" --depth 20 --max-pages 200000 \
		--concurrency 1000 --per-host 100) || exit 1
else
	"$build/testserver" --port-file "$demo/port" --pages 2000 --links 10 --max-seconds 600 \
		>"$demo/testserver.out" 2>&1 &
	pids="$pids $!"
	i=0
	until [ -s "$demo/port" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "test server did not start"; exit 1; }
		sleep 0.05
	done
	url="http://127.0.0.1:$(cat "$demo/port")/"
	echo "== test server serves a 2,000-page site at $url"
	echo "== crawlctl submit $url --depth 10 --concurrency 64 --allow-private"
	id=$("$build/crawlctl" submit "$url" --depth 10 --concurrency 64 --per-host 64 \
		--allow-private) || exit 1
fi
echo "== job $id submitted; crawlctl wait $id"
"$build/crawlctl" wait "$id"
echo "== crawlctl status $id"
"$build/crawlctl" status "$id"
echo "== crawlctl results $id --sort-by time (slowest 10)"
"$build/crawlctl" results "$id" --sort-by time | tail -n 10
echo "== results file: $demo/state/job-$id.jsonl ($(wc -l <"$demo/state/job-$id.jsonl") lines)"
echo "== crawlctl logs --job $id --level info"
"$build/crawlctl" logs --job "$id" --level info | tail -n 15
echo "== stopping"
