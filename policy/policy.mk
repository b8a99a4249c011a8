# policy/: the mcskit refpolicy module, built with Debian's devel Makefile
# (selinux-policy-dev) in a copy under $(O)/policy/src, so nothing lands in
# the source tree, and linked with Debian's base policy into a full kernel
# policy $(O)/policy/policy.33 inside a PRIVATE copy of the policy store
# ($(O)/policy/root).  `semodule` always runs with -p; the host's store is
# only read (copied).
#
#   make policy        -> $(O)/policy/mcskit.pp, $(O)/policy/policy.33
#   (tests: tests/integration/policy.mk, check-policy)

POLICY_SRCS := $(sort $(wildcard policy/*.te policy/*.if policy/*.fc))
POLICY_MODS := $(patsubst policy/%.te,%,$(wildcard policy/*.te))
POLICY_PPS := $(POLICY_MODS:%=$(O)/policy/%.pp)
POLICY_KERN := $(O)/policy/policy.33
POLICY_ROOT := $(O)/policy/root
POLICY_DEVEL := /usr/share/selinux/devel/Makefile
HOST_STORE := /var/lib/selinux/default
HOST_ETC := /etc/selinux/default

.PHONY: policy
policy: $(POLICY_PPS) $(POLICY_KERN)

# All modules compile together (one .if may serve another module).
$(O)/policy/stamp-pp: $(POLICY_SRCS) policy/policy.mk
	@rm -rf $(O)/policy/src && mkdir -p $(O)/policy/src
	cp $(POLICY_SRCS) $(O)/policy/src/
	$(MAKE) --no-print-directory -C $(O)/policy/src -f $(POLICY_DEVEL) \
		$(POLICY_MODS:%=%.pp)
	cp $(POLICY_MODS:%=$(O)/policy/src/%.pp) $(O)/policy/
	@touch $@

$(POLICY_PPS): $(O)/policy/stamp-pp ;

# Link in a private copy of Debian's store; the result is copied out.
$(POLICY_KERN): $(POLICY_PPS)
	@rm -rf $(POLICY_ROOT)
	@mkdir -p $(POLICY_ROOT)/var/lib/selinux $(POLICY_ROOT)/etc/selinux
	cp -a $(HOST_STORE) $(POLICY_ROOT)/var/lib/selinux/
	cp -a $(HOST_ETC) /etc/selinux/semanage.conf $(POLICY_ROOT)/etc/selinux/
	semodule -p $(abspath $(POLICY_ROOT)) -s default -n \
		$(patsubst %,-i %,$(POLICY_PPS)) 2>&1 | \
		grep -v 'not in password file' || true
	test -s $(POLICY_ROOT)/etc/selinux/default/policy/policy.33
	cp $(POLICY_ROOT)/etc/selinux/default/policy/policy.33 $@.tmp
	cp $(POLICY_ROOT)/var/lib/selinux/default/active/file_contexts \
		$(O)/policy/file_contexts
	mv $@.tmp $@
