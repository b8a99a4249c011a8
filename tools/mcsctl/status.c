/* SPDX-License-Identifier: MIT */
/* status.c - `mcsctl status`: total, used, free, quarantined pairs. */
#include <stdio.h>

#include "mcsctl.h"

int cmd_status(const struct mcsctl_globals *g, int argc, char **argv)
{
	if (argc != 1) {
		fputs("Usage: mcsctl status\n", stderr);
		return 2;
	}
	mcs_client *cl = mcsctl_connect(g);
	if (!cl)
		return 1;
	mcs_status st;
	mcs_error err = {0};
	int r = mcs_client_status(cl, &st, &err);
	mcs_client_free(cl);
	if (r < 0)
		return mcsctl_fail(&err);
	mcsctl_print_status(g, &st);
	return 0;
}
