/*
 * anchor_pick: the algorithm today's runtimes use (go-selinux style),
 * reimplemented here for comparison: pick c1, c2 uniformly in the range,
 * retry while c1 == c2 or the canonical pair is already in an in-memory
 * set.  For each fill level (fraction of the 523,776 pairs of c0.c1023
 * already used) it times picks and prints one line
 * "anchor <fill%> picks <n> mean_us <m> p99_us <p> tries_mean <t>".
 * At 100% the loop can never end: it is capped at MAX_TRIES and reported
 * as "never ends (capped)".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCAT	  1024u
#define NPAIRS	  (NCAT * (NCAT - 1) / 2)
#define MAX_TRIES 50000000ull

static uint8_t used[NCAT][NCAT]; /* the "in-memory set" */
static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Returns tries used, or 0 when capped. */
static uint64_t pick(unsigned *ret_a, unsigned *ret_b)
{
	for (uint64_t tries = 1; tries <= MAX_TRIES; tries++) {
		unsigned a = (unsigned)(next_rand() >> 54),
			 b = (unsigned)(next_rand() >> 54);

		if (a == b)
			continue;
		if (a > b) {
			unsigned t = a;
			a = b;
			b = t;
		}
		if (used[a][b])
			continue;
		*ret_a = a;
		*ret_b = b;
		return tries;
	}
	return 0;
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Fill the set to exactly `target` used pairs by picking randomly. */
static void fill_to(unsigned long *nused, unsigned long target)
{
	unsigned a, b;

	while (*nused < target && pick(&a, &b)) {
		used[a][b] = 1;
		(*nused)++;
	}
}

int main(void)
{
	static const double fills[] = {0.0, 0.5, 0.99, 0.999};
	enum { PICKS = 2000 };
	static double lat[PICKS];
	unsigned long nused = 0;
	unsigned a, b;

	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		double sum = 0, tries = 0;

		fill_to(&nused, (unsigned long)(fills[f] * NPAIRS));
		for (int i = 0; i < PICKS; i++) {
			double t0 = now_us();
			uint64_t n = pick(&a, &b);

			lat[i] = now_us() - t0;
			sum += lat[i];
			tries += (double)n;
			/* do not keep the pick: measure at a fixed fill */
		}
		qsort(lat, PICKS, sizeof(lat[0]), cmp_d);
		printf("anchor %.1f%% picks %d mean_us %.2f p99_us %.2f "
		       "tries_mean %.1f\n",
		       fills[f] * 100, PICKS, sum / PICKS,
		       lat[PICKS * 99 / 100], tries / PICKS);
	}
	/* 100%: fill every pair, then one pick never finds a free one. */
	for (a = 0; a < NCAT; a++)
		for (b = a + 1; b < NCAT; b++)
			used[a][b] = 1;
	{
		double t0 = now_us();
		uint64_t n = pick(&a, &b);

		printf("anchor 100.0%% %s after %llu tries in %.0f ms\n",
		       n ? "found" : "never ends (capped)",
		       (unsigned long long)MAX_TRIES, (now_us() - t0) / 1e3);
	}
	return 0;
}
