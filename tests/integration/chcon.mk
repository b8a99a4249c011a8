# mcs-chcon suite: the CLI contract on real ext4 trees (cli.sh, TAP), the
# restore journal under damage (journal.sh, TAP) and
# the demo that relabels a sample volume private, shared and back.
# The relabel engine's own tests are unit tests (tests/unit/test_relabel.c).

CHECK_SUITES += check-chcon
DEMO_STEPS += demo-chcon

.PHONY: check-chcon demo-chcon
check-chcon: $(O)/bin/mcs-chcon $(O)/bin/mcsd $(O)/bin/mcsctl
	@O=$(O) sh tests/run-suite.sh chcon $(RESULTS) tests/integration/chcon/cli.sh tests/integration/chcon/journal.sh

demo-chcon: $(O)/bin/mcs-chcon
	@O=$(O) sh tests/integration/chcon/demo.sh
