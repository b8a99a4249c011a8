/* SPDX-License-Identifier: MIT */
/* lookup.c - `mcsctl lookup ID`: show the level owner ID holds. */
#include <stdio.h>

#include <mcs/names.h>

#include "mcsctl.h"

int cmd_lookup(const struct mcsctl_globals *g, int argc, char **argv)
{
	if (argc != 2) {
		fputs("Usage: mcsctl lookup ID\n", stderr);
		return 2;
	}
	mcs_error err = {0};
	if (mcs_name_check(MCS_NAME_OWNER, argv[1], &err) < 0)
		return mcsctl_fail(&err);
	mcs_client *cl = mcsctl_connect(g);
	if (!cl)
		return 1;
	mcs_lease l;
	int r = mcs_client_lookup(cl, argv[1], &l, &err);
	mcs_client_free(cl);
	if (r < 0)
		return mcsctl_fail(&err);
	mcsctl_print_lease(g, &l);
	return 0;
}
