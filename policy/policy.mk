# policy/: the mcskit refpolicy module, built with Debian's devel Makefile
# (selinux-policy-dev) in a copy under $(O)/policy/src, so nothing lands in
# the source tree, and linked with Debian's base policy into a full kernel
# policy $(O)/policy/policy.33 inside a PRIVATE copy of the policy store
# ($(O)/policy/root), through libsemanage as `mcs-policy --store-root ROOT
# install` does it (no semodule binary); the host's store is only read
# (copied).  sepolgen's index of the refpolicy interfaces,
# $(O)/policy/interface_info, lets `mcs-policy why` name the interface
# that grants a missing permission.
#
#   make policy        -> $(O)/policy/mcskit.pp, $(O)/policy/policy.33,
#                         $(O)/policy/interface_info
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
policy: $(POLICY_PPS) $(POLICY_KERN) $(O)/policy/interface_info

# What audit2allow -R reads, from the installed refpolicy headers.
$(O)/policy/interface_info: policy/policy.mk
	@mkdir -p $(@D)
	sepolgen-ifgen -i /usr/share/selinux/devel/include -o $@.tmp \
		>/dev/null 2>&1 || true
	test -s $@.tmp && mv $@.tmp $@

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
$(POLICY_KERN): $(POLICY_PPS) $(O)/bin/mcs-policy
	@rm -rf $(POLICY_ROOT)
	@mkdir -p $(POLICY_ROOT)/var/lib/selinux $(POLICY_ROOT)/etc/selinux
	cp -a $(HOST_STORE) $(POLICY_ROOT)/var/lib/selinux/
	cp -a $(HOST_ETC) /etc/selinux/semanage.conf $(POLICY_ROOT)/etc/selinux/
	$(O)/bin/mcs-policy --store-root $(POLICY_ROOT) install $(POLICY_PPS)
	test -s $(POLICY_ROOT)/etc/selinux/default/policy/policy.33
	cp $(POLICY_ROOT)/etc/selinux/default/policy/policy.33 $@.tmp
	cp $(POLICY_ROOT)/var/lib/selinux/default/active/file_contexts \
		$(O)/policy/file_contexts
	mv $@.tmp $@
