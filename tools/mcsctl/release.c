/* SPDX-License-Identifier: MIT */
/* release.c - `mcsctl release ID`: give owner ID's level back to mcsd. */
#include <stdio.h>

#include <mcs/names.h>

#include "mcsctl.h"

int cmd_release(const struct mcsctl_globals *g, int argc, char **argv)
{
	if (argc != 2) {
		fputs("Usage: mcsctl release ID\n", stderr);
		return 2;
	}
	mcs_error err = {0};
	if (mcs_name_check(MCS_NAME_OWNER, argv[1], &err) < 0)
		return mcsctl_fail(&err);
	mcs_client *cl = mcsctl_connect(g);
	if (!cl)
		return 1;
	int r = mcs_client_release(cl, argv[1], &err);
	mcs_client_free(cl);
	if (r < 0)
		return mcsctl_fail(&err);
	mcsctl_print_released(g, argv[1]);
	return 0;
}
