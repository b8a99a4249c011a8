# mk/install.mk: `make install` / `make uninstall`, everything a running
# system needs, laid out as a distribution package lays it out (debian/rules
# calls this with PREFIX=/usr).  Generated files (mcs.pc, the units with
# their paths substituted) are built under $(O)/install/ first.
#
# Knobs: DESTDIR, PREFIX (/usr/local), BINDIR, SBINDIR, LIBDIR (multiarch:
# $(PREFIX)/lib/<triplet>), INCLUDEDIR, DATADIR, MANDIR, UNITDIR,
# SYSUSERSDIR, TMPFILESDIR, SELINUXDIR (policy module), SEDEVELDIR
# (interface file for policy authors), COMPLETIONDIR, VARLINKDIR.
# Lists: PROGRAMS (mcsd goes to SBINDIR, the rest to BINDIR).

VERSION       ?= 0.1.0
MULTIARCH     ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || \
			$(CC) -print-multiarch 2>/dev/null)
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
LIBDIR        ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR    ?= $(PREFIX)/include
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
PKGCONFIGDIR  ?= $(LIBDIR)/pkgconfig
# systemd's search path holds both /lib and /usr/local/lib (Debian 12
# packages still ship units under /lib: debian/rules says so).
UNITDIR       ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR   ?= $(PREFIX)/lib/tmpfiles.d
SELINUXDIR    ?= $(DATADIR)/selinux/packages
SEDEVELDIR    ?= $(DATADIR)/selinux/devel/include/contrib
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
VARLINKDIR    ?= $(DATADIR)/varlink
# The group whose members may allocate (mcsd.socket's SocketGroup and
# mcsd's --group), created by sysusers.d or the package's postinst.
MCSD_GROUP    ?= mcskit

INST := $(O)/install
SBIN_PROGRAMS = $(filter mcsd,$(PROGRAMS))
BIN_PROGRAMS = $(filter-out mcsd,$(PROGRAMS))
COMPLETIONS = $(foreach p,$(PROGRAMS),$(wildcard tools/bash-completion/$(p)))
MAN_PAGES := $(sort $(wildcard docs/man/*.[18]))
INSTALL_PPS = $(POLICY_MODS:%=$(O)/policy/%.pp)
INSTALL_IFS := $(sort $(wildcard policy/*.if))
INSTALL_GEN := $(INST)/mcs.pc $(INST)/mcsd.service $(INST)/mcsd.socket \
	$(INST)/mcskit.sysusers $(INST)/mcskit.tmpfiles

INSTALL_SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	-e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@MCSD_GROUP@|$(MCSD_GROUP)|g'

INSTALL_PATHS = $(VERSION) $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(SBINDIR) $(MCSD_GROUP)

# Regenerated whenever a path knob changes (the stamp records them).
$(INST)/paths: FORCE
	@mkdir -p $(@D)
	@echo '$(INSTALL_PATHS)' | cmp -s - $@ || echo '$(INSTALL_PATHS)' >$@

$(INST)/mcs.pc: mk/mcs.pc.in $(INST)/paths
	$(INSTALL_SUBST) $< >$@
$(INST)/mcsd.%: mcsd/mcsd.%.in $(INST)/paths
	$(INSTALL_SUBST) $< >$@
$(INST)/mcskit.%: mk/mcskit.%.in $(INST)/paths
	$(INSTALL_SUBST) $< >$@

.PHONY: install install-files uninstall FORCE
FORCE:

install: all $(O)/policy/stamp-pp
	@$(MAKE) --no-print-directory install-files

install-files: $(INSTALL_GEN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/mcs \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SELINUXDIR) \
		$(DESTDIR)$(SEDEVELDIR) $(DESTDIR)$(COMPLETIONDIR) \
		$(DESTDIR)$(VARLINKDIR)
	install -m 0755 $(BIN_PROGRAMS:%=$(O)/bin/%) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(SBIN_PROGRAMS:%=$(O)/bin/%) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(O)/lib/libmcs.so.0 $(DESTDIR)$(LIBDIR)/
	ln -sf libmcs.so.0 $(DESTDIR)$(LIBDIR)/libmcs.so
	install -m 0644 $(INST)/mcs.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 lib/include/mcs/*.h $(DESTDIR)$(INCLUDEDIR)/mcs/
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(INST)/mcsd.service $(INST)/mcsd.socket \
		$(DESTDIR)$(UNITDIR)/
	install -m 0644 $(INST)/mcskit.sysusers $(DESTDIR)$(SYSUSERSDIR)/mcskit.conf
	install -m 0644 $(INST)/mcskit.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mcskit.conf
	install -m 0644 $(INSTALL_PPS) $(DESTDIR)$(SELINUXDIR)/
	install -m 0644 $(INSTALL_IFS) $(DESTDIR)$(SEDEVELDIR)/
	install -m 0644 $(COMPLETIONS) $(DESTDIR)$(COMPLETIONDIR)/
	install -m 0644 mcsd/io.mcskit.Labels.varlink $(DESTDIR)$(VARLINKDIR)/

# Removes exactly what install-files put (and the one directory that is
# ours alone, include/mcs), nothing the system shares.
uninstall:
	rm -f $(BIN_PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) \
		$(SBIN_PROGRAMS:%=$(DESTDIR)$(SBINDIR)/%) \
		$(DESTDIR)$(LIBDIR)/libmcs.so.0 $(DESTDIR)$(LIBDIR)/libmcs.so \
		$(DESTDIR)$(PKGCONFIGDIR)/mcs.pc \
		$(patsubst lib/include/mcs/%,$(DESTDIR)$(INCLUDEDIR)/mcs/%,$(wildcard lib/include/mcs/*.h)) \
		$(patsubst docs/man/%,$(DESTDIR)$(MANDIR)/man1/%,$(filter %.1,$(MAN_PAGES))) \
		$(patsubst docs/man/%,$(DESTDIR)$(MANDIR)/man8/%,$(filter %.8,$(MAN_PAGES))) \
		$(DESTDIR)$(UNITDIR)/mcsd.service $(DESTDIR)$(UNITDIR)/mcsd.socket \
		$(DESTDIR)$(SYSUSERSDIR)/mcskit.conf $(DESTDIR)$(TMPFILESDIR)/mcskit.conf \
		$(POLICY_MODS:%=$(DESTDIR)$(SELINUXDIR)/%.pp) \
		$(patsubst policy/%,$(DESTDIR)$(SEDEVELDIR)/%,$(INSTALL_IFS)) \
		$(patsubst tools/bash-completion/%,$(DESTDIR)$(COMPLETIONDIR)/%,$(COMPLETIONS)) \
		$(DESTDIR)$(VARLINKDIR)/io.mcskit.Labels.varlink
	-rmdir $(DESTDIR)$(INCLUDEDIR)/mcs
