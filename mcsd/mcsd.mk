# mcsd: the MCS label daemon.  Everything but main.c goes into a private
# static archive, $(O)/mcsd/libmcsd.a, that the daemon and its unit tests
# link (never installed, never part of libmcs).  mcsd links libmcs.a
# statically too: it reaches lib's internal helpers (varlink framing,
# util, log) without making them ABI.  Only mcsd links sqlite3 and
# libsystemd.  Also: its integration suite (tests/integration/mcsd/) and
# its demo step.

MCSD_SRCS := $(filter-out mcsd/main.c,$(sort $(wildcard mcsd/*.c)))
MCSD_OBJS := $(MCSD_SRCS:%.c=$(O)/obj/%.o)
LIBMCSD_A := $(O)/mcsd/libmcsd.a
# What the daemon's archive needs beyond libmcs.
MCSD_LIBS := -lsqlite3 -lpq -lsystemd -ljson-c -lselinux -lpthread

$(LIBMCSD_A): $(MCSD_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/bin/mcsd: $(O)/obj/mcsd/main.o $(LIBMCSD_A) $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $< -pie $(ALL_LDFLAGS) $(LIBMCSD_A) $(LIBMCS_A) \
		$(MCSD_LIBS) $(LIB_LIBS)
all: $(O)/bin/mcsd
PROGRAMS += mcsd

# Unit tests of the daemon's modules: they link libmcsd.a and see its
# private headers.
MCSD_UNIT_TESTS := test_alloc test_registry test_protocol test_protocol_fuzz \
	test_names
$(foreach t,$(MCSD_UNIT_TESTS),$(eval $(O)/tests/unit/$(t): $(LIBMCSD_A))\
	$(eval TEST_ARCHIVES_$(t) := $(LIBMCSD_A))\
	$(eval TEST_LIBS_$(t) := $(MCSD_LIBS))\
	$(eval $(O)/obj/tests/unit/$(t).o: ALL_CFLAGS += -Imcsd))

# test_mcsd reads the registry with sqlite3 itself to check rows.
MCSD_IT_SRCS := $(sort $(wildcard tests/integration/mcsd/*.c))
MCSD_IT_BINS := $(MCSD_IT_SRCS:tests/integration/mcsd/%.c=$(O)/tests/integration/mcsd/%)

$(O)/tests/integration/mcsd/%: $(O)/obj/tests/integration/mcsd/%.o $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(ALL_LDFLAGS) $(LIBMCS_A) $(LIB_LIBS) -lsqlite3

CHECK_SUITES += check-mcsd
check-mcsd: $(O)/bin/mcsd $(O)/bin/mcsctl $(MCSD_IT_BINS)
	@MCSD=$(O)/bin/mcsd MCSCTL=$(O)/bin/mcsctl sh tests/run-suite.sh mcsd $(RESULTS) \
		$(MCSD_IT_BINS) $(sort $(wildcard tests/integration/mcsd/*.sh))

DEMO_STEPS += demo-mcsd
demo-mcsd: $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh mcsd/demo.sh

# The adversarial suite (test_attack, issue 13) at length: longer floods,
# 40 kill -9 storms, 200 random bit flips, 600 clients killed mid-call.
BENCH_STEPS += attack-mcsd
attack-mcsd: $(O)/bin/mcsd $(O)/tests/integration/mcsd/test_attack
	@ATTACK_LONG=1 MCSD=$(O)/bin/mcsd sh tests/run-suite.sh mcsd-attack \
		$(RESULTS) $(O)/tests/integration/mcsd/test_attack
