# selinux-testsuite-hooks/hooks.mk: `make vm-check`, the kernel-truth tests.
# Builds everything plus the policy modules, then boots an SELinux-enforcing
# Debian VM (cached image under $MCSKIT_VM_CACHE, default /var/cache/mcskit-vm)
# and runs tests/mcskit_*/test there under prove (MCSKIT_TESTS="mcskit_pkg
# ..." runs only those).  The .debs of `make deb` go in for mcskit_pkg.  Separate from `make check`:
# registers nothing in CHECK_SUITES.  See selinux-testsuite-hooks/README.md.

vm-check:
	@sh mk/deps.sh build check vm
	@$(MAKE) --no-print-directory all policy deb
	@bash selinux-testsuite-hooks/vm/vm-check.sh $(O) $(O)/vm-check
