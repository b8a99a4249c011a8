# mcs-oci suite: the wrapper between a stub runtime that records what it
# got (tests/integration/oci/stub-runtime) and a real mcsd started by the
# test (cli.sh, TAP); and the demo of a bundle going through mcs-oci.

CHECK_SUITES += check-oci
DEMO_STEPS += demo-oci

.PHONY: check-oci demo-oci
check-oci: $(O)/bin/mcs-oci $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh tests/run-suite.sh oci $(RESULTS) tests/integration/oci/cli.sh

demo-oci: $(O)/bin/mcs-oci $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh tests/integration/oci/demo.sh
