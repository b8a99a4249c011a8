# mcs-oci benchmark (`make bench`): the wrapper's overhead on `create` over
# calling the runtime directly, same run, interleaved (tests/bench/oci/run.py),
# with the floors any registering wrapper pays (tests/bench/oci/floor.c).
#   make bench-oci         300 creates each way (N=... to change)

# Linked like mcs-oci (libmcs.a), so the floor pays the same loader.
$(O)/tests/bench/oci/floor: tests/bench/oci/floor.c $(LIBMCS_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -pie $(ALL_LDFLAGS) $(LIBMCS_A) $(LIB_LIBS)

.PHONY: bench-oci
bench-oci: $(O)/bin/mcs-oci $(O)/bin/mcsd $(O)/bin/mcsctl $(O)/tests/bench/oci/floor
	@O=$(O) python3 tests/bench/oci/run.py

BENCH_STEPS += bench-oci
