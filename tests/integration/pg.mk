# The PostgreSQL registry backend (issue 18): its tests run against a real
# PostgreSQL 15 that tests/integration/pg/pg-harness.sh starts and removes
# (SKIP only where PostgreSQL cannot be installed).
#   test_store_pg   the backend's calls, rules and failures, one database each
#   test_pg_hosts   three "hosts" on one database under load, kill -9 of a
#                   host and a crash of the database in the middle

PG_IT_SRCS := $(sort $(wildcard tests/integration/pg/*.c))
PG_IT_BINS := $(PG_IT_SRCS:tests/integration/pg/%.c=$(O)/tests/integration/pg/%)

$(O)/obj/tests/integration/pg/%.o: ALL_CFLAGS += -Imcsd
$(O)/tests/integration/pg/%: $(O)/obj/tests/integration/pg/%.o $(LIBMCSD_A) $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(ALL_LDFLAGS) $(LIBMCSD_A) $(LIBMCS_A) -lcmocka \
		$(MCSD_LIBS) $(LIB_LIBS)

CHECK_SUITES += check-pg
# One PostgreSQL for the whole suite (each test makes its own database).
check-pg: $(PG_IT_BINS) $(O)/bin/mcsd $(O)/bin/mcsctl
	@PG_HARNESS=tests/integration/pg/pg-harness.sh MCSD=$(O)/bin/mcsd \
		MCSCTL=$(O)/bin/mcsctl sh tests/integration/pg/pg-harness.sh run \
		sh tests/run-suite.sh pg $(RESULTS) \
		$(PG_IT_BINS) $(sort $(wildcard tests/integration/pg/*.test.sh))
