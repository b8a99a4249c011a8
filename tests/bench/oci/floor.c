/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the floors under bench-oci's mcs-oci figures: what any OCI
 * runtime wrapper costs on this machine before it does anything of its own.
 *   floor exec RUNTIME ARG...
 *       exec the runtime at once: the price of being a wrapper at all
 *       (one more execve and dynamic link).
 *   floor register SOCKET LEVEL OWNER RUNTIME ARG...
 *       one durable registration (a persistent Allocate of LEVEL for
 *       OWNER through libmcs's client, answered only after mcsd's commit
 *       reached the disk), then exec the runtime: the least a wrapper that
 *       refuses colliding levels must do.  No config file, no config.json,
 *       no argument parsing: mcs-oci's own work is what it adds above this.
 * Linked like mcs-oci (libmcs.a), so both pay the same loader.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mcs/client.h>

static int run(char **argv)
{
	execv(argv[0], argv);
	perror(argv[0]);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "exec") == 0)
		return run(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "register") == 0) {
		mcs_alloc_request req = {
			.owner = argv[4], .level = argv[3], .persistent = true};
		mcs_client *c;
		mcs_lease l;
		mcs_error err;

		if (mcs_client_connect(argv[2], &c, &err) < 0 ||
		    mcs_client_allocate(c, &req, &l, &err) < 0) {
			fprintf(stderr, "floor: %s\n", err.msg);
			return 1;
		}
		mcs_client_free(c);
		return run(argv + 5);
	}
	fprintf(stderr, "usage: floor exec RUNTIME ARG... | floor register "
			"SOCKET LEVEL OWNER RUNTIME ARG...\n");
	return 2;
}
