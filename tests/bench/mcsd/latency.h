/* SPDX-License-Identifier: MIT */
/*
 * latency.h - what the closed-loop drivers of the mcsd bench (loadgen.c,
 * floor.c) share: one client thread's record of request latencies, and
 * the one summary line both print, so their figures compare:
 *   "ops N secs S rate R p50_us P p99_us Q max_us M exhausted E"
 * Header-only (static functions): each driver is one .c file.
 */
#ifndef MCS_BENCH_LATENCY_H
#define MCS_BENCH_LATENCY_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* One client thread. */
struct lat_thread {
	pthread_t tid;
	unsigned idx;
	uint64_t n;  /* requests done */
	double *lat; /* microseconds, one per timed request */
	size_t nlat, cap;
	int failed; /* -errno of an unexpected failure */
	int exhausted;
};

static inline double lat_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Keep one latency; 0 or -ENOMEM. */
static inline int lat_record(struct lat_thread *t, double us)
{
	if (t->nlat == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		double *l = realloc(t->lat, ncap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		t->lat = l;
		t->cap = ncap;
	}
	t->lat[t->nlat++] = us;
	return 0;
}

static inline int lat_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Run fn on n threads (th[i].idx = i), wait for all, print the summary
 * line over every recorded latency.  Returns 0, or 1 when a thread could
 * not start or failed.
 */
static inline int lat_run(struct lat_thread *th, unsigned n,
			  void *(*fn)(void *))
{
	double t0 = lat_now_us();
	uint64_t total = 0;
	size_t k = 0, nlat = 0;
	int failed = 0, exhausted = 0;

	for (unsigned i = 0; i < n; i++) {
		th[i].idx = i;
		if (pthread_create(&th[i].tid, NULL, fn, &th[i]) != 0)
			return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		total += th[i].n;
		nlat += th[i].nlat;
		failed |= th[i].failed != 0;
		exhausted |= th[i].exhausted;
	}
	double secs = (lat_now_us() - t0) / 1e6;
	double *all = malloc((nlat ? nlat : 1) * sizeof(*all));
	if (!all)
		return 1;
	for (unsigned i = 0; i < n; i++)
		for (size_t j = 0; j < th[i].nlat; j++)
			all[k++] = th[i].lat[j];
	qsort(all, k, sizeof(*all), lat_cmp);
	printf("ops %llu secs %.3f rate %.0f p50_us %.0f p99_us %.0f max_us "
	       "%.0f exhausted %d\n",
	       (unsigned long long)total, secs, total / secs,
	       k ? all[k / 2] : 0.0, k ? all[(size_t)(k * 0.99)] : 0.0,
	       k ? all[k - 1] : 0.0, exhausted);
	free(all);
	return failed ? 1 : 0;
}

#endif
