/* SPDX-License-Identifier: MIT */
/* list.c - `mcsctl list`: every entry the caller may see. */
#include <stdio.h>
#include <stdlib.h>

#include "mcsctl.h"

int cmd_list(const struct mcsctl_globals *g, int argc, char **argv)
{
	if (argc != 1) {
		fputs("Usage: mcsctl list\n", stderr);
		return 2;
	}
	mcs_client *cl = mcsctl_connect(g);
	if (!cl)
		return 1;
	mcs_lease *v = NULL;
	size_t n = 0;
	mcs_error err = {0};
	int r = mcs_client_list(cl, &v, &n, &err);
	mcs_client_free(cl);
	if (r < 0)
		return mcsctl_fail(&err);
	mcsctl_print_leases(g, v, n);
	free(v);
	return 0;
}
