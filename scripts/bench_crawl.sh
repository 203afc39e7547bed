#!/bin/sh
# The crawl benchmark: crawld against Go net/http, Python asyncio+aiohttp, Scrapy and
# wget2 on one generated static site served by nginx on 127.0.0.1, then crawld alone on
# a simulated web of a million pages.
# Usage: scripts/bench_crawl.sh [BUILD] [PAGES] [SIM_PAGES]
#   BUILD      build directory holding bench/bench_crawl (default: build)
#   PAGES      pages of the static site (default 20000, about 8 KiB and 10 links each)
#   SIM_PAGES  pages of the simulated web (default 1000000; 0 skips it)
#   REPEAT     (environment) rounds of the quick crawlers (default 3); Scrapy runs once
# Prints raw output: "METRIC NAME VALUE" lines per crawler (see bench/bench_crawl.c), then
# ratios and targets. Missing tools are installed with apt-get when possible; a tool that
# cannot be installed is skipped with a line saying so. nginx runs with its own config,
# pid file and port in a temporary directory and is stopped by its PID at the end.
set -eu

build=${1:-build}
pages=${2:-20000}
sim_pages=${3:-1000000}
conc=64
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) bench="$build/bench/bench_crawl" ;; *) bench="$PWD/$build/bench/bench_crawl" ;; esac
# The Debian interpreter, which has the Debian python3-aiohttp and python3-scrapy (a python3
# earlier in PATH, such as a pyenv one, does not).
py=/usr/bin/python3

die() {
	echo "bench_crawl.sh: $*" >&2
	exit 1
}

[ -x "$bench" ] || die "$bench is missing (make all BUILD=$build)"
tmp=$(mktemp -d /tmp/bench_crawl.XXXXXX)
: >"$tmp/all"
nginx_pid=""
cleanup() {
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# have_pkg PKG: installed, or installed now with apt-get (as root, or through sudo).
have_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" && return 0
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || return 1
		sudo="sudo -n"
	fi
	echo "# installing $1" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$1" \
		>&2 || { $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive \
		$sudo apt-get install -y -q --no-install-recommends "$1" >&2; } || return 1
}

free_port() {
	$py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The site: /p/K.html for K < PAGES; link 0 of page K is page K+1 (so page 0 reaches all),
# the other nine are drawn per page from a seeded generator, as absolute paths or relative.
gen_site() {
	mkdir -p "$tmp/site/p"
	$py - "$tmp/site/p" "$pages" <<'EOF'
import random, sys
out, n = sys.argv[1], int(sys.argv[2])
filler = "<p>Filler text of a generated page, to bring it to about eight kilobytes.</p>\n"
for k in range(n):
    rnd = random.Random(k)
    links = [(k + 1) % n] + [rnd.randrange(n) for _ in range(9)]
    parts = ["<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Page %d</title>"
             "</head>\n<body><h1>Page %d</h1>\n<ul>\n" % (k, k)]
    for i, j in enumerate(links):
        href = "/p/%d.html" % j if i % 2 == 0 else "%d.html" % j
        parts.append("<li><a href=\"%s\">link %d</a></li>\n" % (href, i))
    parts.append("</ul>\n")
    size = sum(len(p) for p in parts)
    while size < 8192 - 15 - len(filler):
        parts.append(filler)
        size += len(filler)
    parts.append("</body></html>\n")
    with open("%s/%d.html" % (out, k), "w") as f:
        f.write("".join(parts))
EOF
}

start_nginx() {
	port=$(free_port)
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	types { text/html html; }
	default_type text/plain;
	server {
		listen 127.0.0.1:$port;
		root $tmp/site;
	}
}
EOF
	chmod -R a+rX "$tmp" # the workers run as nobody when started as root
	nginx -c "$tmp/nginx.conf" -p "$tmp/nginx" &
	nginx_pid=$!
	base="http://127.0.0.1:$port"
	i=0
	until curl -fs -o /dev/null "$base/p/0.html"; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || die "nginx did not answer on $base"
		kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited (see above)"
		sleep 0.1
	done
}

# measure CMD...: runs a bench_crawl command, shows its output and keeps it for the ratios;
# a failed crawl (a wrong count, a crash) is in the output and does not stop the others.
measure() {
	"$@" >"$tmp/one" 2>&1 || true
	cat "$tmp/one"
	cat "$tmp/one" >>"$tmp/all"
}

# run NAME CMD...: another crawler through bench_crawl exec, its page count checked.
run() {
	name=$1
	shift
	measure "$bench" exec "$name" --expect "$pages" --timeout 900 "$@"
}

# Ratios of crawld to each peer, and the targets, from the value lines.
ratios() {
	awk '
	NF == 3 && $1 ~ /^[a-z_]+$/ && $3 ~ /^[0-9.]+$/ { k = $1 " " $2; vals[k, ++cnt[k]] = $3 + 0 }
	function val(m, n) { return ((m " " n) in med) ? med[m " " n] : -1 }
	function target(what, ok, shown) { printf "target %s: %s (%s)\n", what, ok ? "met" : "NOT met", shown }
	END {
		for (k in cnt) { # median (the lower middle for an even count)
			n = cnt[k]
			for (i = 1; i <= n; i++) a[i] = vals[k, i]
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			med[k] = a[int((n + 1) / 2)]
		}
		split("crawld go aiohttp scrapy wget2 crawld-sim", names, " ")
		split("pages_per_s cpu_us_per_page peak_rss_mib", metrics, " ")
		for (i = 1; i <= 6; i++)
			for (j = 1; j <= 3; j++)
				if ((metrics[j] " " names[i]) in med)
					printf "median %s %s %s (of %d)\n", metrics[j], names[i], med[metrics[j] " " names[i]], cnt[metrics[j] " " names[i]]
		split("go aiohttp scrapy wget2", peers, " ")
		c = "crawld"
		for (i = 1; i <= 4; i++) {
			n = peers[i]
			if (val("pages_per_s", n) <= 0 || val("pages_per_s", c) <= 0)
				continue
			printf "ratio pages_per_s crawld/%s %.2f\n", n, val("pages_per_s", c) / val("pages_per_s", n)
			printf "ratio cpu_us_per_page %s/crawld %.2f\n", n, val("cpu_us_per_page", n) / val("cpu_us_per_page", c)
			printf "ratio peak_rss_mib crawld/%s %.2f\n", n, val("peak_rss_mib", c) / val("peak_rss_mib", n)
		}
		if (val("pages_per_s", c) > 0 && val("pages_per_s", "go") > 0) {
			target("crawld pages/s above go", val("pages_per_s", c) > val("pages_per_s", "go"), val("pages_per_s", c) " vs " val("pages_per_s", "go"))
			target("crawld CPU per page below go", val("cpu_us_per_page", c) < val("cpu_us_per_page", "go"), val("cpu_us_per_page", c) " vs " val("cpu_us_per_page", "go") " us")
		}
		if (val("pages_per_s", c) > 0 && val("pages_per_s", "scrapy") > 0)
			target("crawld at least 50x scrapy in pages/s", val("pages_per_s", c) >= 50 * val("pages_per_s", "scrapy"), sprintf("%.1fx", val("pages_per_s", c) / val("pages_per_s", "scrapy")))
		if (val("peak_rss_mib", c) > 0)
			target("crawld peak RSS under 64 MiB", val("peak_rss_mib", c) < 64, val("peak_rss_mib", c) " MiB")
		if (val("peak_rss_mib", "crawld-sim") > 0)
			target("simulated million pages under 1 GiB", val("peak_rss_mib", "crawld-sim") < 1024, val("peak_rss_mib", "crawld-sim") " MiB")
	}' "$tmp/all"
}

have_pkg nginx || die "nginx is not installed and could not be installed"
command -v curl >/dev/null 2>&1 || have_pkg curl || die "curl is needed"
echo "# site: $pages pages of about 8 KiB, 10 links each; $conc in flight for every crawler"
echo "# runs: $repeat rounds of crawld, go, aiohttp, wget2 (in turn, so that load on the machine"
echo "# falls on all alike), then scrapy once; the ratios use the median of each metric"
gen_site
start_nginx
seed="$base/p/0.html"
echo "# nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, on $base"

peers=""
if ! have_pkg golang-go; then
	echo "# skip go: golang-go could not be installed"
elif ! (cd "$root/bench/gocrawl" && GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" \
	go build -o "$tmp/gocrawl" main.go); then
	echo "# skip go: the Go crawler did not build"
else
	echo "# $(go version)"
	peers="$peers go"
fi
if have_pkg python3-aiohttp; then
	echo "# aiohttp $($py -c 'import aiohttp; print(aiohttp.__version__)'), $($py --version)"
	peers="$peers aiohttp"
else
	echo "# skip aiohttp: python3-aiohttp could not be installed"
fi
if have_pkg wget2; then
	echo "# $(wget2 --version 2>/dev/null | head -n 1)"
	peers="$peers wget2"
else
	echo "# skip wget2: wget2 could not be installed"
fi

run_peer() {
	case "$1" in
	go) run go -- "$tmp/gocrawl" -url "$seed" -c "$conc" ;;
	aiohttp) run aiohttp -- $py "$root/bench/aiohttp_crawl.py" "$seed" "$conc" ;;
	wget2)
		run wget2 --count-dir "$tmp/wget2" -- wget2 -r -l inf --max-threads=$conc -q -nH \
			-P "$tmp/wget2" "$seed"
		rm -rf "$tmp/wget2"
		;;
	esac
}

round=1
while [ "$round" -le "$repeat" ]; do
	echo "# round $round"
	measure "$bench" crawl "$seed" --concurrency "$conc" --expect "$pages" --name crawld
	for p in $peers; do
		run_peer "$p"
	done
	round=$((round + 1))
done

if have_pkg python3-scrapy; then
	echo "# scrapy $($py -c 'import scrapy; print(scrapy.__version__)')"
	(cd "$tmp" && run scrapy -- $py -m scrapy runspider "$root/bench/scrapy_crawl.py" \
		-a "start=$seed" -s CONCURRENT_REQUESTS=$conc \
		-s CONCURRENT_REQUESTS_PER_DOMAIN=$conc -s LOG_LEVEL=ERROR)
else
	echo "# skip scrapy: python3-scrapy could not be installed"
fi

kill "$nginx_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=""

if [ "$sim_pages" -gt 0 ]; then
	echo "# simulated web: $sim_pages pages, 10 links each, latency 1-100 ms, 1000 in flight"
	measure "$bench" sim "pages=$sim_pages,links=10,latency=uniform:1:100,offsite=0,broken=0" \
		--concurrency 1000 --expect "$sim_pages" --name crawld-sim --timeout 1800
fi
ratios
