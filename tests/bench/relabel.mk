# Relabel benchmark (issue 4, `make bench`): mcs-chcon against chcon -R -h,
# setfiles -F, go-selinux's Chcon and the lsetxattr syscall floor, on trees
# of 100k and 1M inodes, driven by tests/bench/relabel/run.sh.
#   make bench-relabel        full run (a few minutes)
#   make bench-relabel-quick  100k only

BENCH_RELABEL_BINS := $(O)/bench/mktree $(O)/bench/floor $(O)/bench/gochcon

$(O)/bench/mktree $(O)/bench/floor: $(O)/bench/%: tests/bench/relabel/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) -lpthread

# go-selinux from Debian's package, offline, in GOPATH mode; bench only.
$(O)/bench/gochcon: tests/bench/relabel/gochcon/main.go
	@mkdir -p $(@D)
	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE=$(abspath $(O))/bench/gocache \
		go build -o $@ ./tests/bench/relabel/gochcon

.PHONY: bench-relabel bench-relabel-quick
bench-relabel: $(BENCH_RELABEL_BINS) $(O)/bin/mcs-chcon
	@O=$(O) sh tests/bench/relabel/run.sh full

bench-relabel-quick: $(BENCH_RELABEL_BINS) $(O)/bin/mcs-chcon
	@O=$(O) sh tests/bench/relabel/run.sh quick

BENCH_STEPS += bench-relabel
