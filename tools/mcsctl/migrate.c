/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - `mcsctl migrate --from sqlite:PATH --to postgresql://...`:
 * runs `mcsd migrate` (the storage engines live in the daemon, which
 * alone links sqlite and libpq): the mcsd next to this mcsctl, else the
 * one in PATH.  Its output and exit status are this command's.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcsctl.h"

int cmd_migrate(const struct mcsctl_globals *g, int argc, char **argv)
{
	char self[PATH_MAX], mcsd[PATH_MAX + 8], name[] = "mcsd";
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	ssize_t n;

	(void)g;
	if (!args) {
		fputs("mcsctl: out of memory\n", stderr);
		return 1;
	}
	args[0] = name;
	for (int i = 0; i < argc; i++) /* argv[0] is "migrate" */
		args[i + 1] = argv[i];
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(mcsd, sizeof(mcsd), "%s/mcsd", dirname(self));
		if (access(mcsd, X_OK) == 0)
			execv(mcsd, args);
	}
	execvp("mcsd", args);
	fprintf(stderr, "mcsctl: cannot run mcsd migrate: %s\n",
		strerror(errno));
	free(args);
	return 1;
}
