# make fuzz: libFuzzer targets tests/fuzz/fuzz_<name>.c over libmcs built
# with clang, ASan and UBSan (in $(FUZZ_O), a build of its own), each run
# for FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/<name>/.  Fails
# on any crash, leak, sanitizer report or timeout; the input that did it
# is left in $(FUZZ_O)/fuzz/crashes/.  make fuzz-build only builds.
#   make fuzz FUZZ_SECONDS=20 FUZZ_TARGETS="label journal"
# MCS_FUZZ_STRICT=1 adds checks of known open bugs (tests/fuzz/crashes/).

FUZZ_O ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

.PHONY: fuzz fuzz-build fuzz-bins
fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_O) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The library and the targets are built by a make of their own, with
# clang and the sanitizers (SANITIZE=1) plus libFuzzer's coverage.
# WERROR=0: clang's warnings are not the gcc ones CI gates on.
fuzz-build:
	@sh mk/deps.sh build check fuzz
	+@$(MAKE) --no-print-directory O=$(FUZZ_O) CC=$(FUZZ_CC) SANITIZE=1 \
		WERROR=0 CFLAGS=-fsanitize=fuzzer-no-link fuzz-bins

fuzz-bins: $(patsubst %,$(O)/fuzz/fuzz_%,$(FUZZ_TARGETS))

# libmcs and the daemon's private objects (fuzz_protocol drives
# mcsd/protocol.c on a real registry).
FUZZ_LIB_OBJS := $(LIB_OBJS) $(MCSD_OBJS)
$(O)/fuzz/libmcs-fuzz.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(O)/fuzz/libmcs-fuzz.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Imcsd -fsanitize=fuzzer -o $@ $< $(ALL_LDFLAGS) \
		-fsanitize=fuzzer $(O)/fuzz/libmcs-fuzz.a $(MCSD_LIBS) $(LIB_LIBS)
