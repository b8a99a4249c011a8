/* SPDX-License-Identifier: MIT */
/*
 * loadgen.c - load generator for mcsd through the public client API: N
 * client threads, each with its own connection, timing every request.
 *   loadgen SOCKET alloc   CLIENTS PER_CLIENT PREFIX  allocations only
 *   loadgen SOCKET cycle   CLIENTS PER_CLIENT PREFIX  allocate + release
 *                                                      (fill level stays)
 *   loadgen SOCKET fill    CLIENTS 0          PREFIX  allocate until
 *                                                      Exhausted
 *   loadgen SOCKET release 1       COUNT      PREFIX  release PREFIX-0-<i>
 *   loadgen SOCKET status  CLIENTS PER_CLIENT PREFIX  Status calls: the
 *                                                      daemon's path with
 *                                                      nothing to write
 * Prints latency.h's line, where the latencies are those of Allocate
 * (cycle: Allocate only; rate counts allocations over the whole time,
 * releases included) or of Status.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mcs/client.h>

#include "latency.h"

enum mode { ALLOC, CYCLE, FILL, RELEASE, STATUS };

static const char *sock, *prefix;
static enum mode mode;
static unsigned long per;

static void *run(void *arg)
{
	struct lat_thread *t = arg;
	mcs_client *c = NULL;
	mcs_error err = {0};
	char owner[128];

	if (mcs_client_connect(sock, &c, &err) < 0) {
		fprintf(stderr, "loadgen: %s\n", err.msg);
		t->failed = -ECONNREFUSED;
		return NULL;
	}
	for (unsigned long i = 0; mode == FILL || i < per; i++) {
		snprintf(owner, sizeof(owner), "%s-%u-%lu", prefix, t->idx, i);
		if (mode == RELEASE) {
			int r = mcs_client_release(c, owner, &err);
			if (r < 0 && r != -ENOENT) {
				fprintf(stderr, "loadgen: %s\n", err.msg);
				t->failed = r;
				break;
			}
			t->n++;
			continue;
		}
		mcs_alloc_request req = {.owner = owner};
		mcs_status st;
		double a = lat_now_us();
		int r = mode == STATUS
				? mcs_client_status(c, &st, &err)
				: mcs_client_allocate(c, &req, NULL, &err);
		double b = lat_now_us();
		if (r == -ENOSPC) {
			t->exhausted = 1;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "loadgen: %s: %s\n", owner, err.msg);
			t->failed = r;
			break;
		}
		if (lat_record(t, b - a) < 0)
			break;
		t->n++;
		if (mode == CYCLE && mcs_client_release(c, owner, &err) < 0) {
			fprintf(stderr, "loadgen: release %s: %s\n", owner,
				err.msg);
			t->failed = -EIO;
			break;
		}
	}
	mcs_client_free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
			"usage: loadgen SOCKET alloc|cycle|fill|release|status "
			"CLIENTS PER_CLIENT PREFIX\n");
		return 2;
	}
	sock = argv[1];
	mode = !strcmp(argv[2], "alloc")    ? ALLOC
	       : !strcmp(argv[2], "cycle")  ? CYCLE
	       : !strcmp(argv[2], "fill")   ? FILL
	       : !strcmp(argv[2], "status") ? STATUS
					    : RELEASE;
	unsigned clients = (unsigned)atoi(argv[3]);
	per = strtoul(argv[4], NULL, 10);
	prefix = argv[5];
	if (clients < 1 || clients > 1024)
		return 2;
	struct lat_thread *th = calloc(clients, sizeof(*th));
	if (!th)
		return 1;
	return lat_run(th, clients, run);
}
