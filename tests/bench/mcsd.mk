# mcsd benchmark (issue 3, `make bench`): the real mcsd under a load
# generator on the public client API (1/8/64 clients, empty and 99.9%
# full, fill time, RSS), the fdatasync rate and the anchor's (go-selinux
# style) random-retry allocator, and the floor of a server doing nothing
# under the same clients (floor.c), driven by tests/bench/mcsd/run.sh.
#   make bench-mcsd        full run
#   make bench-mcsd-quick  smoke run (seconds)

BENCH_MCSD_PROGS := fsync_rate anchor_pick floor
BENCH_MCSD_BINS := $(BENCH_MCSD_PROGS:%=$(O)/tests/bench/mcsd/%)

$(BENCH_MCSD_BINS): $(O)/tests/bench/mcsd/%: tests/bench/mcsd/%.c tests/bench/mcsd/latency.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# The load generator uses only the public client API of libmcs.so.
$(O)/tests/bench/mcsd/loadgen: tests/bench/mcsd/loadgen.c tests/bench/mcsd/latency.h $(LIBMCS_SO)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(O)/lib -Wl,-rpath,$(abspath $(O))/lib \
		$(ALL_LDFLAGS) -lmcs -lpthread
BENCH_MCSD_BINS += $(O)/tests/bench/mcsd/loadgen

.PHONY: bench-mcsd bench-mcsd-quick
bench-mcsd: $(BENCH_MCSD_BINS) $(O)/bin/mcsd
	@O=$(O) sh tests/bench/mcsd/run.sh full

bench-mcsd-quick: $(BENCH_MCSD_BINS) $(O)/bin/mcsd
	@O=$(O) sh tests/bench/mcsd/run.sh quick

BENCH_STEPS += bench-mcsd
