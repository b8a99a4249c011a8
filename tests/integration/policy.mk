# Policy suite: the expectation table (tests/policy/*.tsv) run by
# mcs-policy on $(O)/policy/policy.33, the CLI contract, selint and
# setfiles -c, the module store verbs in a private store, why/try/rank
# on recorded AVCs with known answers.  Unit tests of lib/policy.c (tests/unit/test_policy.c) need
# the same policy, so check-unit builds it first.

CHECK_SUITES += check-policy
DEMO_STEPS += demo-policy

check-policy: policy $(O)/bin/mcs-policy
	@O=$(O) sh tests/run-suite.sh policy $(RESULTS) \
		tests/integration/policy-table.sh tests/integration/policy-cli.sh \
		tests/integration/policy-template.sh \
		tests/integration/policy-store.sh tests/integration/policy-why.sh

check-unit: policy

.PHONY: check-policy demo-policy
demo-policy: policy $(O)/bin/mcs-policy
	@O=$(O) sh tests/integration/policy-demo.sh
