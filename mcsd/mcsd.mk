# mcsd: the MCS label daemon (mcsd/*.c -> $(O)/bin/mcsd), its integration
# suite (tests/integration/mcsd/) and its demo step.

$(eval $(call mcs_program,mcsd,$(wildcard mcsd/*.c)))

MCSD_IT_SRCS := $(sort $(wildcard tests/integration/mcsd/*.c))
MCSD_IT_BINS := $(MCSD_IT_SRCS:tests/integration/mcsd/%.c=$(O)/tests/integration/mcsd/%)

$(O)/tests/integration/mcsd/%: $(O)/obj/tests/integration/mcsd/%.o $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(ALL_LDFLAGS) $(LIBMCS_A) $(LIB_LIBS)

CHECK_SUITES += check-mcsd
check-mcsd: $(O)/bin/mcsd $(O)/bin/mcsctl $(MCSD_IT_BINS)
	@MCSD=$(O)/bin/mcsd MCSCTL=$(O)/bin/mcsctl sh tests/run-suite.sh mcsd $(RESULTS) \
		$(MCSD_IT_BINS) $(sort $(wildcard tests/integration/mcsd/*.sh))

DEMO_STEPS += demo-mcsd
demo-mcsd: $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh mcsd/demo.sh
