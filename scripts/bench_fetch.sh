#!/bin/sh
# Fetch benchmark: crawld's curl backend against wrk on the same local nginx
# and the same 8 KiB page, in the same run, then the simulated backend.
# Installs nginx and wrk if missing, runs nginx on 127.0.0.1 from a temporary
# prefix (its own config, pid file and port), stops it by its PID, and
# appends the raw output as a dated section to bench/RESULTS.md.
# Usage: scripts/bench_fetch.sh [BUILD]    (default build; run as root)
#   BENCH_FETCH_DRY=1 prints the results without appending them;
#   BENCH_FETCH_ROUNDS=N alternates wrk and bench_fetch N times (default 3).
set -eu

build=${1:-build}
RESULTS=bench/RESULTS.md
SECONDS_EACH=5
INFLIGHT=64
ROUNDS=${BENCH_FETCH_ROUNDS:-3}
cmdline="scripts/bench_fetch.sh $build"

die() {
	echo "bench_fetch.sh: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (nginx and package installation need it)"
[ -f Makefile ] && [ -d lib ] || die "run from the top of the source tree"

missing=""
for p in nginx wrk; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench_fetch.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not found after installation"
command -v wrk >/dev/null || die "wrk not found after installation"

make --no-print-directory all BUILD="$build" >/dev/null
bench="$build/bench/bench_fetch"
[ -x "$bench" ] || die "$bench was not built"

dir=$(mktemp -d /tmp/crawld-bench-nginx.XXXXXX)
nginx_pid=""
cleanup() {
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null || true
		i=0 # it is our child: once it exits it is a zombie until waited for
		while [ $i -lt 50 ] && [ -n "$(ps -o stat= -p "$nginx_pid" | grep -v '^Z')" ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# A free loopback port: bind to 0 and read what the kernel gave.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The 8 KiB page, exactly 8192 bytes.
mkdir -p "$dir/html" "$dir/logs"
{
	printf '<!DOCTYPE html>\n<html><head><title>bench</title></head><body>\n'
	i=0
	while [ $i -lt 300 ]; do
		printf '<p>line %03d of the benchmark page.</p>\n' $i
		i=$((i + 1))
	done
} | head -c 8177 >"$dir/html/index.html"
printf '</body></html>\n' >>"$dir/html/index.html"
chmod 755 "$dir" "$dir/html"
chmod 644 "$dir/html/index.html"

cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	default_type text/html;
	client_body_temp_path $dir/tmp_body;
	proxy_temp_path $dir/tmp_proxy;
	fastcgi_temp_path $dir/tmp_fastcgi;
	uwsgi_temp_path $dir/tmp_uwsgi;
	scgi_temp_path $dir/tmp_scgi;
	server {
		listen 127.0.0.1:$port;
		root $dir/html;
		location / { }
	}
}
EOF

"$NGINX" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" &
nginx_pid=$!
url="http://127.0.0.1:$port/"
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || die "nginx did not start (see $dir/logs/error.log)"
	kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited at start: $(cat "$dir/logs/error.log")"
	sleep 0.1
done

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
size=$(wc -c <"$dir/html/index.html")
echo "== bench fetch: $url ($size bytes), nginx pid $nginx_pid"

# Rounds alternate wrk and bench_fetch so that both see the same machine;
# the best round of each is compared (this host's speed drifts).
out=""
best_wrk=0
best_ours=0
r=1
while [ $r -le "$ROUNDS" ]; do
	wrk_out=$(wrk -t1 -c"$INFLIGHT" -d"${SECONDS_EACH}s" "$url" 2>&1) || die "wrk failed: $wrk_out"
	real_out=$("$bench" real "$url" -c "$INFLIGHT" -d "$SECONDS_EACH" 2>&1) ||
		die "bench_fetch real failed: $real_out"
	wrk_rps=$(printf '%s\n' "$wrk_out" | awk '/^Requests\/sec:/ { print $2 }')
	ours=$(printf '%s\n' "$real_out" | awk '$1 == "real_fetches_per_s" { print $2 }')
	[ -n "$wrk_rps" ] && [ -n "$ours" ] || die "could not read the rates"
	best_wrk=$(awk -v a="$best_wrk" -v b="$wrk_rps" 'BEGIN { print (b > a) ? b : a }')
	best_ours=$(awk -v a="$best_ours" -v b="$ours" 'BEGIN { print (b > a) ? b : a }')
	out=$(printf '%s# round %d\n$ wrk -t1 -c%s -d%ss %s\n%s\n$ %s real %s -c %s -d %s\n%s\n' \
		"${out:+$out
}" "$r" "$INFLIGHT" "$SECONDS_EACH" "$url" "$wrk_out" "$bench" "$url" "$INFLIGHT" \
		"$SECONDS_EACH" "$real_out")
	r=$((r + 1))
done
ratio=$(awk -v a="$best_ours" -v b="$best_wrk" 'BEGIN {
	r = a / b
	printf "best of rounds: wrk %.0f req/s, crawld %.0f fetches/s\n", b, a
	printf "ratio crawld/wrk %.2f (target >= 0.70: %s)", r, (r >= 0.7) ? "met" : "NOT met"
}')
sim_out=$("$bench" sim 2>&1) || die "bench_fetch sim failed: $sim_out"
sim_zero=$(printf '%s\n' "$sim_out" | awk '$1 == "sim_zero_fetches_per_s" { print $2 }')
sim_target=$(awk -v a="${sim_zero:-0}" 'BEGIN {
	printf "target sim zero-latency > 100000 fetches/s: %s (%d)", (a > 100000) ? "met" : "NOT met", a
}')
out=$(printf '%s\n%s\n$ %s sim\n%s\n%s\n' "$out" "$ratio" "$bench" "$sim_out" "$sim_target")
printf '%s\n' "$out"

[ "${BENCH_FETCH_DRY:-0}" = 1 ] && exit 0
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
if [ ! -f "$RESULTS" ]; then
	printf '# Benchmark results\n\nAppended by scripts/bench.sh (make bench); the numbers are raw output, never edited by hand.\n' >"$RESULTS"
fi
{
	printf '\n## fetch — %s\n\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	printf -- '- command: `%s`\n' "$cmdline"
	printf -- '- nproc: %s\n' "$(nproc)"
	printf -- '- cpu: %s\n' "${cpu:-unknown ($(uname -m))}"
	printf -- '- load average before the run: %s\n' "$load"
	printf -- '- commit: %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	printf -- '- page: %s bytes from nginx %s (1 worker) on 127.0.0.1\n' "$size" \
		"$("$NGINX" -v 2>&1 | sed 's/.*\///')"
	printf '\n```\n%s\n```\n' "$out"
} >>"$RESULTS"
echo "appended to $RESULTS"
