/* SPDX-License-Identifier: MIT */
/*
 * allocate.c - `mcsctl allocate`: ask mcsd for the level of an owner.
 * Without --owner a random owner "mcsctl-<32 hex digits>" is generated
 * and printed, so that the level can be released later.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include <mcs/names.h>

#include "mcsctl.h"

int cmd_allocate(const struct mcsctl_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"owner", required_argument, NULL, 'o'},
		{"group", required_argument, NULL, 'g'},
		{"level", required_argument, NULL, 'l'},
		{"type", required_argument, NULL, 't'},
		{"pid", required_argument, NULL, 'p'},
		{"persistent", no_argument, NULL, 'P'},
		{0},
	};
	mcs_alloc_request req = {0};
	char owner[64];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			req.owner = optarg;
			break;
		case 'g':
			req.group = optarg;
			break;
		case 'l':
			req.level = optarg;
			break;
		case 't':
			req.type = optarg;
			break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v <= 0 || v > 0x7fffffff) {
				fprintf(stderr, "mcsctl: bad --pid '%s'\n",
					optarg);
				return 2;
			}
			req.pid = (pid_t)v;
			break;
		}
		case 'P':
			req.persistent = true;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mcsctl: allocate: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!req.owner) {
		unsigned char rnd[16];
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			perror("mcsctl: getrandom");
			return 1;
		}
		int n = snprintf(owner, sizeof(owner), "mcsctl-");
		for (size_t i = 0; i < sizeof(rnd); i++)
			n += snprintf(owner + n, sizeof(owner) - (size_t)n,
				      "%02x", rnd[i]);
		req.owner = owner;
	}

	/* the daemon's rules, checked before asking it */
	mcs_error err = {0};
	if (mcs_name_check(MCS_NAME_OWNER, req.owner, &err) < 0 ||
	    (req.group &&
	     mcs_name_check(MCS_NAME_GROUP, req.group, &err) < 0) ||
	    (req.type && mcs_name_check(MCS_NAME_TYPE, req.type, &err) < 0))
		return mcsctl_fail(&err);

	mcs_client *cl = mcsctl_connect(g);
	if (!cl)
		return 1;
	mcs_lease l;
	int r = mcs_client_allocate(cl, &req, &l, &err);
	mcs_client_free(cl);
	if (r < 0)
		return mcsctl_fail(&err);
	mcsctl_print_lease(g, &l);
	return 0;
}
