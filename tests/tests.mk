# Tests.  Unit tests: tests/unit/test_<module>.c, one cmocka binary each,
# linked against the static libmcs.a so they can reach internals and use
# -Wl,--wrap= (set TEST_WRAP_test_<module> := -Wl,--wrap=sym in a fragment).
# A test of another component's archive sets TEST_ARCHIVES_test_<module>
# (linked before libmcs.a) and TEST_LIBS_test_<module> (see mcsd/mcsd.mk).
# Other suites add a target to CHECK_SUITES (e.g. check-mcsd); `make check`
# installs missing packages, builds, runs every suite and prints one total.

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
TEST_HELPER_SRCS := $(sort $(wildcard tests/unit/helpers/*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(O)/obj/%.o)

$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(TEST_HELPER_OBJS) $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TEST_HELPER_OBJS) $(TEST_WRAP_$*) $(ALL_LDFLAGS) $(TEST_ARCHIVES_$*) $(LIBMCS_A) -lcmocka $(LIB_LIBS) $(TEST_LIBS_$*)

RESULTS := $(O)/test-results
CHECK_SUITES := check-unit check-abi $(CHECK_SUITES)

check-unit: $(UNIT_BINS)
	@sh tests/run-suite.sh unit $(RESULTS) $(UNIT_BINS)

# The shared library exports exactly the documented MCS_EXPORT functions;
# only mcsd loads sqlite3 and libsystemd; the includes follow the layers.
check-abi: $(LIBMCS_SO) $(PROGRAMS:%=$(O)/bin/%)
	@O=$(O) sh tests/run-suite.sh abi $(RESULTS) tests/check-abi.sh \
		tests/check-layers.sh

check: deps
	@rm -rf $(RESULTS)
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -k $(CHECK_SUITES); rc=$$?; \
		sh tests/summary.sh $(RESULTS); s=$$?; [ $$rc -eq 0 ] && [ $$s -eq 0 ]

# Run only some suites: make check-only SUITES="check-unit check-mcsd"
check-only: all
	@rm -rf $(RESULTS)
	@$(MAKE) --no-print-directory -k $(SUITES); rc=$$?; \
		sh tests/summary.sh $(RESULTS); s=$$?; [ $$rc -eq 0 ] && [ $$s -eq 0 ]
