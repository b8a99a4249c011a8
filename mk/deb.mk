# mk/deb.mk: `make deb` builds the Debian packages (debian/) out of tree:
# the tracked and new files of the work tree are copied to
# $(O)/deb/mcskit-$(VERSION)/, dpkg-buildpackage -us -uc -b runs there and
# the .debs, .buildinfo and .changes land in $(O)/deb/, then lintian
# checks them (overrides in debian/*.lintian-overrides say why).

DEB_DIR := $(O)/deb
DEB_SRC := $(DEB_DIR)/mcskit-$(VERSION)

.PHONY: deb
deb:
	@sh mk/deps.sh build deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 tar -cf - --no-recursion | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	rm -rf $(DEB_SRC)
	@ls $(DEB_DIR)/*.deb
	lintian --info $(DEB_DIR)/*.changes | tee $(DEB_DIR)/lintian.txt
	@echo "deb: $$(ls $(DEB_DIR)/*.deb | wc -l) packages in $(DEB_DIR)," \
		"lintian: $$(grep -c '^[EW]:' $(DEB_DIR)/lintian.txt) errors+warnings"
