# mcskit top-level build: one non-recursive GNU Makefile.
#
# Every component lives in its own fragment (lib/lib.mk, mcsd/mcsd.mk,
# tools/tools.mk, policy/policy.mk, tests/tests.mk, ...) that this file
# includes.  Outputs go under $(O) (default build/):
#   $(O)/lib/libmcs.so, $(O)/lib/libmcs.a   the library (shared + static for tests)
#   $(O)/bin/<program>                     mcsd and the tools
#   $(O)/tests/...                         test binaries
#
# Knobs: O=<dir> (output dir), WERROR=1 (warnings are errors, set in CI),
# SANITIZE=1 (ASan+UBSan build, use with O=build-asan), SANITIZE=thread
# (TSan, O=build-tsan: check-mcsd runs the threaded daemon), PREFIX, DESTDIR
# and the other install paths (mk/install.mk).

O        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
WERROR   ?= 0
SANITIZE ?= 0

WARNINGS := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wpointer-arith \
	-Wcast-qual -Wwrite-strings -Wundef -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

BASE_CFLAGS := -std=gnu11 -g -pipe $(WARNINGS) -fstack-protector-strong \
	-fno-strict-aliasing -D_GNU_SOURCE -Ilib/include -Ilib
ifeq ($(SANITIZE),1)
BASE_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
BASE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(SANITIZE),thread)
BASE_CFLAGS += -O1 -fsanitize=thread -fno-omit-frame-pointer
BASE_LDFLAGS := -fsanitize=thread
else
BASE_CFLAGS += -O2 -D_FORTIFY_SOURCE=3
BASE_LDFLAGS :=
endif
BASE_LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed

# No pkg-config at parse time (packages may be installed by `make deps`
# later in the same run): include <json-c/json.h>, <sqlite3.h> etc. directly.
CFLAGS   ?=
LDFLAGS  ?=
ALL_CFLAGS  = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

# External libraries libmcs links against (fragments may append).
LIB_LIBS := -lselinux -lsepol -ljson-c -lpthread -lm

.PHONY: all check check-unit demo bench install clean format deps deps-check \
	deps-bench deps-vm policy vm-check uninstall deb
.DEFAULT_GOAL := all

all:

# Installs missing Debian packages (no-op when everything is present).
deps:
	@sh mk/deps.sh build check
deps-bench:
	@sh mk/deps.sh build check bench
deps-vm:
	@sh mk/deps.sh build check vm

# Fragments append to CHECK_SUITES, DEMO_STEPS and BENCH_STEPS.
CHECK_SUITES :=
DEMO_STEPS :=
BENCH_STEPS :=
include lib/lib.mk
include $(sort $(wildcard mcsd/mcsd.mk tools/*.mk policy/policy.mk \
	tests/integration/*.mk tests/bench/*.mk tests/fuzz/*.mk \
	selinux-testsuite-hooks/*.mk mk/*.mk))
include tests/tests.mk

# The main job: build, then each component's demo step in order.
demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(DEMO_STEPS)

# Benchmarks: us against the tool a user would pick instead, in one run.
bench: deps-bench
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(BENCH_STEPS)

# Generic compile rule: every object mirrors its source path under $(O)/obj.
$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

.SECONDARY:
-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

format:
	@git ls-files '*.c' '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(O) build-asan build-tsan
