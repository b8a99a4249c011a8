# install suite: `make install` into a DESTDIR gives exactly the checked-in
# manifest (tests/integration/install/manifest.txt), a client builds and
# runs against the installed tree through pkg-config, `make uninstall`
# leaves nothing of ours.  After adding an installed file, refresh the
# manifest with `make install-manifest` and review the diff.

CHECK_SUITES += check-install

.PHONY: check-install install-manifest
check-install: all $(O)/policy/stamp-pp
	@O=$(O) MAKE="$(MAKE)" sh tests/run-suite.sh install $(RESULTS) \
		tests/integration/install/check.sh

install-manifest: all $(O)/policy/stamp-pp
	@O=$(O) MAKE="$(MAKE)" sh tests/integration/install/check.sh --manifest \
		>tests/integration/install/manifest.txt
