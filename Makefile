# Adding a program is four edits:
#   1. its main in <stage>/<name>.c (a short main: options, library calls, exit code)
#   2. one line in PROGRAMS below (name:path-of-main)
#   3. its man page in man/<name>.1
#   4. its test (tests/unit/test_*.c, tests/*.bats or a case in tests/cases/)
# Shared mechanics go in lib/; every program links build/libroster.a.

PROGRAMS = \
	extract-clever:extract/extract-clever.c \
	extract-graph:extract/extract-graph.c \
	extract-google:extract/extract-google.c \
	extract-sftp:extract/extract-sftp.c \
	normalize:normalize/normalize.c \
	dedupe:normalize/dedupe.c \
	load-csv:load/load-csv.c \
	run-job:pipelines/run-job.c \
	creds:pipelines/creds.c

# Debian packages the build, the demo and the tests need (DESIGN.md, Dependencies).
DEPS_BUILD = gcc make pkg-config libcurl4-openssl-dev libssl-dev libssh2-1-dev \
	libcsv-dev zlib1g-dev libjq-dev libonig-dev libcjson-dev
DEPS_TEST = bats python3 python3-oauthlib python3-jwt python3-cryptography \
	openssh-server openssl jq valgrind

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib
LDLIBS = -lcurl -lcjson -ljq -lonig -lcsv -lssh2 -lssl -lcrypto -lz -lm
ifeq ($(SAN),1)
BUILD := build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_A = $(BUILD)/libroster.a
PROG_NAMES = $(foreach p,$(PROGRAMS),$(firstword $(subst :, ,$(p))))
BINS = $(PROG_NAMES:%=$(BUILD)/bin/%)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SHIM = $(BUILD)/tests/faultshim.so

.PHONY: all deps check demo install clean bench
all: $(BINS) $(UNIT_BINS) $(SHIM)

$(BUILD)/obj/%.o: %.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

define prog_rule
$(BUILD)/bin/$(1): $(BUILD)/obj/$(2:.c=.o) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call prog_rule,$(firstword $(subst :, ,$(p))),$(lastword $(subst :, ,$(p))))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/tap.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fault shim is preloaded into programs, so it is built without sanitizers.
$(SHIM): tests/faultshim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

deps:
	@sh tests/deps.sh $(DEPS_BUILD) $(DEPS_TEST)

check: deps
	$(MAKE) all
	BUILD=$(BUILD) SAN=$(SAN) sh tests/run-all

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) sh pipelines/demo.sh

bench: all
	BUILD=$(BUILD) sh bench/run.sh && BUILD=$(BUILD) sh bench/drops.sh

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build build-san
