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
 * Prints one line: "ops N secs S rate R p50_us P p99_us Q max_us M" where
 * the latencies are those of Allocate (cycle: Allocate only; rate counts
 * allocations over the whole time, releases included).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mcs/client.h>

enum mode { ALLOC, CYCLE, FILL, RELEASE };

struct thread {
	pthread_t tid;
	unsigned idx;
	uint64_t n;  /* requests done */
	double *lat; /* microseconds */
	size_t cap;
	int failed; /* -errno of an unexpected failure */
	int exhausted;
};

static const char *sock, *prefix;
static enum mode mode;
static unsigned long per;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int record(struct thread *t, double us)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		double *l = realloc(t->lat, ncap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		t->lat = l;
		t->cap = ncap;
	}
	t->lat[t->n++] = us;
	return 0;
}

static void *run(void *arg)
{
	struct thread *t = arg;
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
		double a = now_us();
		int r = mcs_client_allocate(c, &req, NULL, &err);
		double b = now_us();
		if (r == -ENOSPC) {
			t->exhausted = 1;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "loadgen: %s: %s\n", owner, err.msg);
			t->failed = r;
			break;
		}
		if (record(t, b - a) < 0)
			break;
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

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
			"usage: loadgen SOCKET alloc|cycle|fill|release "
			"CLIENTS PER_CLIENT PREFIX\n");
		return 2;
	}
	sock = argv[1];
	mode = !strcmp(argv[2], "alloc")   ? ALLOC
	       : !strcmp(argv[2], "cycle") ? CYCLE
	       : !strcmp(argv[2], "fill")  ? FILL
					   : RELEASE;
	unsigned clients = (unsigned)atoi(argv[3]);
	per = strtoul(argv[4], NULL, 10);
	prefix = argv[5];
	if (clients < 1 || clients > 1024)
		return 2;
	struct thread *th = calloc(clients, sizeof(*th));
	double t0 = now_us();
	for (unsigned i = 0; i < clients; i++) {
		th[i].idx = i;
		if (pthread_create(&th[i].tid, NULL, run, &th[i]) != 0)
			return 1;
	}
	uint64_t total = 0;
	int failed = 0, exhausted = 0;
	for (unsigned i = 0; i < clients; i++) {
		pthread_join(th[i].tid, NULL);
		total += th[i].n;
		failed |= th[i].failed != 0;
		exhausted |= th[i].exhausted;
	}
	double secs = (now_us() - t0) / 1e6;
	double *all = malloc((total ? total : 1) * sizeof(*all));
	size_t k = 0;
	for (unsigned i = 0; i < clients; i++)
		for (uint64_t j = 0; j < th[i].n && th[i].lat; j++)
			all[k++] = th[i].lat[j];
	qsort(all, k, sizeof(*all), cmp);
	printf("ops %llu secs %.3f rate %.0f p50_us %.0f p99_us %.0f max_us "
	       "%.0f exhausted %d\n",
	       (unsigned long long)total, secs, total / secs,
	       k ? all[k / 2] : 0.0, k ? all[(size_t)(k * 0.99)] : 0.0,
	       k ? all[k - 1] : 0.0, exhausted);
	return failed ? 1 : 0;
}
