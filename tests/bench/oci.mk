# mcs-oci benchmark (`make bench`): the wrapper's overhead on `create` over
# calling the runtime directly, same run, interleaved (tests/bench/oci/run.py).
#   make bench-oci         300 creates each way (N=... to change)

.PHONY: bench-oci
bench-oci: $(O)/bin/mcs-oci $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) python3 tests/bench/oci/run.py

BENCH_STEPS += bench-oci
