# Adding a program is three edits:
#   1. its main in <stage>/<name>.c (extract/, normalize/, load/ or pipelines/;
#      a short main: options, library calls, exit code); the build finds it
#   2. its man page in man/<name>.1
#   3. its test (tests/unit/test_*.c, tests/*.bats or a case in tests/cases/)
# Shared mechanics go in lib/ (lib/README.md: its layers, and how to add a
# vendor); every program links build/libroster.a.

# Every program is one main, found by folder: extract/NAME.c -> build/bin/NAME.
STAGES = extract normalize load pipelines
PROG_SRC = $(foreach d,$(STAGES),$(wildcard $(d)/*.c))

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
DEPFLAGS = -MMD -MP
LDLIBS = -lcurl -lcjson -ljq -lonig -lcsv -lssh2 -lssl -lcrypto -lz -lm
ifeq ($(SAN),1)
BUILD := build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# The library's sources are found by folder: its layers (lib/core,
# lib/format, lib/net, lib/auth, lib/engine; see lib/README.md) and one
# folder per vendor (lib/vendor/NAME). An object is named after its whole
# path (lib/vendor/clever/map.c -> lib-vendor-clever-map.o), so two files
# of one name in two folders stay two members of the archive.
LAYERS = core format net auth engine vendor
LIB_SRC = $(foreach l,$(LAYERS),$(wildcard lib/$(l)/*.c lib/$(l)/*/*.c))
obj = $(BUILD)/obj/$(subst /,-,$(1:.c=.o))
LIB_OBJ = $(foreach s,$(LIB_SRC),$(call obj,$(s)))
LIB_A = $(BUILD)/libroster.a
BINS = $(foreach s,$(PROG_SRC),$(BUILD)/bin/$(basename $(notdir $(s))))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ALL_SRC = $(LIB_SRC) $(PROG_SRC) $(UNIT_SRC) tests/unit/tap.c
SHIM = $(BUILD)/tests/faultshim.so

.PHONY: all deps check demo install clean bench
all: $(BINS) $(UNIT_BINS) $(SHIM)

# One compile rule per source; -MMD -MP writes the headers it includes
# beside its object, so a changed header rebuilds exactly what uses it.
define obj_rule
$(call obj,$(1)): $(1)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(DEPFLAGS) -c -o $$@ $$<
endef
$(foreach s,$(ALL_SRC),$(eval $(call obj_rule,$(s))))
ALL_OBJ = $(foreach s,$(ALL_SRC),$(call obj,$(s)))
-include $(ALL_OBJ:.o=.d)

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

define prog_rule
$(BUILD)/bin/$(basename $(notdir $(1))): $(call obj,$(1)) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(PROG_SRC),$(eval $(call prog_rule,$(s))))

define unit_rule
$(BUILD)/tests/$(1): $(call obj,tests/unit/$(1).c) $(call obj,tests/unit/tap.c) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRC:tests/unit/%.c=%),$(eval $(call unit_rule,$(t))))

# The fault shim is preloaded into programs, so it is built without sanitizers.
$(SHIM): tests/faultshim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

deps:
	@sh tests/deps.sh $(DEPS_BUILD) $(DEPS_TEST)

check: deps
	$(MAKE) all
	BUILD=$(BUILD) SAN=$(SAN) T='$(T)' sh tests/run-all

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) sh pipelines/demo.sh

bench: all
	BUILD=$(BUILD) sh bench/run.sh && BUILD=$(BUILD) sh bench/drops.sh

bench-load: all
	BUILD=$(BUILD) sh bench/load.sh

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build build-san
