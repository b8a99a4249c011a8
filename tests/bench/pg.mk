# PostgreSQL registry bench (issue 18, `make bench`): mcsd on sqlite and on
# a throw-away PostgreSQL 15 in the same run (tests/bench/pg/run.sh under
# tests/integration/pg/pg-harness.sh): 1/8/64 clients, three daemons on
# one database, fill to exhaustion and the Exhausted answer.
.PHONY: bench-pg
bench-pg: $(O)/tests/bench/mcsd/loadgen $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh tests/integration/pg/pg-harness.sh run sh tests/bench/pg/run.sh

BENCH_STEPS += bench-pg
