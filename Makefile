# crawld - build, test, run, bench, install.
#   make            build everything into $(BUILD) (default build/)
#   make test       install missing packages, run the suite three times:
#                   plain, ASan+UBSan (build-asan/), ucontext switch (build-ucontext/)
#   make run        the one-command demo
#   make bench      benchmarks, results appended to bench/RESULTS.md
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DESTDIR ?=

BUILD ?= build
SAN ?= 0
SWITCH ?= asm
CC ?= cc

PKGS := libevent libcurl libsystemd sqlite3 jansson inih libxml-2.0 liburiparser
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
PROJ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Ilib -Idaemon -MMD -MP
OPT := -O2 -g
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=address,undefined
endif
ifeq ($(SAN),fuzz)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=address,undefined
endif
ifeq ($(SWITCH),ucontext)
PROJ_CFLAGS += -DCORO_UCONTEXT
endif
ALL_CFLAGS = $(PROJ_CFLAGS) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lz -lm -lpthread

ARCH := $(shell uname -m)
LIB_SRC := $(wildcard lib/*.c)
LIB_ASM := $(if $(filter asm,$(SWITCH)),$(wildcard lib/switch_$(ARCH).S))
DAEMON_MODS := $(filter-out daemon/crawld.c daemon/crawlctl.c,$(wildcard daemon/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_SUPPORT := $(filter-out $(TEST_SRC) tests/testserver.c,$(wildcard tests/*.c))
EXAMPLE_SRC := $(wildcard examples/*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_MODS:%.c=$(BUILD)/%.o)
SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
LIBCRAWL := $(BUILD)/libcrawl.a
LIBCRAWLD := $(BUILD)/libcrawld.a
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
PROGS := $(if $(wildcard daemon/crawld.c),$(BUILD)/crawld) \
	$(if $(wildcard daemon/crawlctl.c),$(BUILD)/crawlctl) \
	$(if $(wildcard tests/testserver.c),$(BUILD)/testserver)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test check run bench install uninstall clean format cross-check fuzz

all: deps-check $(LIBCRAWL) $(PROGS) $(EXAMPLES) $(TESTS) $(BENCHES)

# Fails early with a clear message when a build dependency is missing.
deps-check:
	@pkg-config --exists $(PKGS) cmocka || { echo "missing build dependencies: run 'make deps' (or make test / make run, which install them)" >&2; exit 1; }
.PHONY: deps-check

deps:
	@scripts/deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCRAWL): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCRAWLD): $(DAEMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/crawld $(BUILD)/crawlctl: $(BUILD)/%: $(BUILD)/daemon/%.o $(LIBCRAWLD) $(LIBCRAWL)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/testserver: $(BUILD)/tests/testserver.o $(LIBCRAWL)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(SUPPORT_OBJ) $(LIBCRAWLD) $(LIBCRAWL)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS)

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(LIBCRAWL)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBCRAWL)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# One build directory's suite; TESTS_FILTER=coro runs only matching binaries.
check: all
	@CRAWL_BUILD=$(BUILD) scripts/runtests.sh $(BUILD) $(TESTS_FILTER)

test: deps
	@$(MAKE) --no-print-directory check BUILD=build
	@$(MAKE) --no-print-directory check BUILD=build-asan SAN=1
	@$(MAKE) --no-print-directory check BUILD=build-ucontext SWITCH=ucontext
	@scripts/summary.sh build build-asan build-ucontext

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD) $(if $(SIM),sim,real)

bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory all BUILD=build-ucontext SWITCH=ucontext
	@scripts/bench.sh $(BUILD)
	@scripts/bench_tasks.sh $(BUILD)
	@scripts/bench_fetch.sh $(BUILD)

# libFuzzer targets for the parsers of outside input (clang), each run for
# FUZZ_SECONDS; not part of make test.
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 20
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang SAN=fuzz \
		$(FUZZ_SRC:fuzz/%.c=build-fuzz/fuzz/%)
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(LIBCRAWL)
	$(CC) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The aarch64 switch, cross-built and run under qemu-user (installs the tools).
cross-check:
	@scripts/cross-check.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/crawld $(DESTDIR)$(SBINDIR)/crawld
	install -m 0755 $(BUILD)/crawlctl $(DESTDIR)$(BINDIR)/crawlctl
	install -d $(DESTDIR)$(SYSCONFDIR)/crawld
	test -e $(DESTDIR)$(SYSCONFDIR)/crawld/crawld.conf || \
		install -m 0644 config/crawld.conf $(DESTDIR)$(SYSCONFDIR)/crawld/crawld.conf
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/crawld.service >$(DESTDIR)$(UNITDIR)/crawld.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/crawld.service
	install -m 0644 systemd/crawld.socket $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/crawld.sysusers $(DESTDIR)$(SYSUSERSDIR)/crawld.conf
	install -m 0644 systemd/crawld.tmpfiles $(DESTDIR)$(TMPFILESDIR)/crawld.conf
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 docs/crawlctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/crawld.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/crawld.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/crawld $(DESTDIR)$(BINDIR)/crawlctl
	rm -f $(DESTDIR)$(UNITDIR)/crawld.service $(DESTDIR)$(UNITDIR)/crawld.socket
	rm -f $(DESTDIR)$(SYSUSERSDIR)/crawld.conf $(DESTDIR)$(TMPFILESDIR)/crawld.conf
	rm -f $(DESTDIR)$(MANDIR)/man1/crawlctl.1 $(DESTDIR)$(MANDIR)/man5/crawld.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/crawld.8
	@echo "left $(DESTDIR)$(SYSCONFDIR)/crawld/crawld.conf in place (your configuration)"

clean:
	rm -rf build build-asan build-ucontext build-*/

format:
	clang-format -i lib/*.c lib/*.h daemon/*.c daemon/*.h tests/*.c examples/*.c bench/*.c

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
