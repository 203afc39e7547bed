#!/bin/sh
# Builds lib/coro for aarch64 with Debian's cross compiler and runs a smoke
# test under qemu-user: the aarch64 switch is checked on an x86_64 machine.
# Usage: scripts/cross-check.sh   (installs the cross tools when missing)
set -eu
need=""
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need="$need gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
command -v qemu-aarch64-static >/dev/null 2>&1 || need="$need qemu-user-static"
if [ -n "$need" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q && apt-get install -y -q --no-install-recommends $need
fi
out=build-aarch64
mkdir -p "$out"
for flags in "" "-DCORO_UCONTEXT"; do
	aarch64-linux-gnu-gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror $flags -Ilib -static \
		-o "$out/coro_smoke" tests/cross/coro_smoke.c lib/coro.c lib/ctx.c lib/stack.c lib/error.c \
		$( [ -z "$flags" ] && echo lib/switch_aarch64.S ) -lm
	echo "aarch64 ${flags:-asm}: $(qemu-aarch64-static "$out/coro_smoke")"
done
