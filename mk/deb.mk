# mk/deb.mk: `make deb` builds the Debian packages (debian/) out of tree:
# the tracked and new files of the work tree are copied to
# $(O)/deb/mcskit-$(VERSION)/, dpkg-buildpackage -us -uc -b runs there and
# the .debs, .buildinfo and .changes land in $(O)/deb/, then lintian
# checks them (debian/README.source explains what it reports).  Nothing is
# rebuilt while the work tree's files hash the same (KEY), so `make
# vm-check` can ask for the packages every time.

DEB_DIR := $(O)/deb
DEB_SRC = $(DEB_DIR)/mcskit-$(VERSION)

.PHONY: deb
DEB_FILES = git ls-files -z --cached --others --exclude-standard
deb:
	@sh mk/deps.sh build deb
	@key=$$($(DEB_FILES) | xargs -0 sha256sum | sha256sum | cut -c1-16); \
	if [ "$$(cat $(DEB_DIR)/KEY 2>/dev/null)" = "$$key" ]; then \
		echo "deb: $(DEB_DIR) is up to date ($$key)"; \
	else \
		$(MAKE) --no-print-directory deb-build && echo $$key >$(DEB_DIR)/KEY; \
	fi

.PHONY: deb-build
deb-build:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(DEB_FILES) | \
		xargs -0 tar -cf - --no-recursion | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	rm -rf $(DEB_SRC)
	@ls $(DEB_DIR)/*.deb
	lintian -I $(DEB_DIR)/*.changes | tee $(DEB_DIR)/lintian.txt
	@echo "deb: $$(ls $(DEB_DIR)/*.deb | wc -l) packages in $(DEB_DIR)," \
		"lintian: $$(grep -c '^[EW]:' $(DEB_DIR)/lintian.txt) errors+warnings"
