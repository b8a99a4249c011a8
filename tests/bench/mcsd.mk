# mcsd benchmark (issue 3, `make bench`): fdatasync rate and the anchor's
# (go-selinux style) random-retry allocator, driven by
# tests/bench/mcsd/run.sh.
#   make bench-mcsd        full run
#   make bench-mcsd-quick  smoke run (seconds)

BENCH_MCSD_PROGS := fsync_rate anchor_pick
BENCH_MCSD_BINS := $(BENCH_MCSD_PROGS:%=$(O)/tests/bench/mcsd/%)

$(BENCH_MCSD_BINS): $(O)/tests/bench/mcsd/%: tests/bench/mcsd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

.PHONY: bench-mcsd bench-mcsd-quick
bench-mcsd: $(BENCH_MCSD_BINS)
	@O=$(O) sh tests/bench/mcsd/run.sh full

bench-mcsd-quick: $(BENCH_MCSD_BINS)
	@O=$(O) sh tests/bench/mcsd/run.sh quick

BENCH_STEPS += bench-mcsd
