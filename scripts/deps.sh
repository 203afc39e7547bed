#!/bin/sh
# Installs the Debian packages crawld needs, only when one is missing.
# Usage: scripts/deps.sh [build|bench|systemd]   (default: build)
set -eu
build="pkg-config gcc make libevent-dev libcurl4-openssl-dev libcmocka-dev \
libsystemd-dev libsqlite3-dev libjansson-dev libinih-dev libxml2-dev liburiparser-dev \
zlib1g-dev groff-base man-db"
bench="nginx wrk golang-go python3 python3-aiohttp python3-scrapy wget2"
systemd="systemd"
case "${1:-build}" in
build) want=$build ;;
bench) want=$bench ;;
systemd) want=$systemd ;;
*) echo "deps.sh: unknown set '$1' (build, bench or systemd)" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2; exit 1
	fi
else SUDO=""; fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
