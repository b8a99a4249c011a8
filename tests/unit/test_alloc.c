/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.c - unit tests for mcsd/alloc.c, the in-memory pair index:
 * state bookkeeping, exhaustion without a retry loop, uniformity of the
 * random pick (chi-square with a bound far in the tail, not flaky), LRU
 * order of the quarantine, and a coarse check that a pick costs the same
 * empty and 99.9% full.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alloc.h"

static void take(alloc *a, uint32_t idx)
{
	alloc_set(a, idx, ALLOC_HELD);
}

static void test_fill_and_exhaust(void **state)
{
	alloc *a = NULL;
	uint8_t seen[45] = {0};
	uint32_t idx;

	assert_int_equal(alloc_new(45, &a), 0);
	alloc_set(a, 7, ALLOC_EXCLUDED);
	for (int i = 0; i < 44; i++) {
		assert_int_equal(alloc_choose(a, &idx), 0);
		assert_true(idx < 45);
		assert_int_not_equal(idx, 7);
		assert_int_equal(seen[idx], 0);
		assert_int_equal(alloc_state(a, idx), ALLOC_FREE);
		seen[idx] = 1;
		take(a, idx);
	}
	assert_int_equal(alloc_choose(a, &idx), -ENOSPC);
	assert_int_equal(alloc_count(a, ALLOC_HELD), 44);
	assert_int_equal(alloc_count(a, ALLOC_FREE), 0);
	assert_int_equal(alloc_count(a, ALLOC_EXCLUDED), 1);
	/* giving one back makes exactly that one choosable */
	alloc_set(a, 20, ALLOC_QUARANTINED);
	assert_int_equal(alloc_choose(a, &idx), 0);
	assert_int_equal(idx, 20);
	alloc_reset(a);
	assert_int_equal(alloc_count(a, ALLOC_FREE), 45);
	alloc_free(a);
}

static void test_quarantine_lru(void **state)
{
	alloc *a = NULL;
	uint32_t idx;

	assert_int_equal(alloc_new(6, &a), 0);
	for (uint32_t i = 0; i < 6; i++)
		take(a, i);
	alloc_set(a, 3, ALLOC_QUARANTINED);
	alloc_set(a, 1, ALLOC_QUARANTINED);
	alloc_set(a, 5, ALLOC_QUARANTINED);
	alloc_set(a, 0, ALLOC_QUARANTINED);
	/* oldest first */
	assert_int_equal(alloc_choose(a, &idx), 0);
	assert_int_equal(idx, 3);
	take(a, 3);
	/* an explicit take from the middle keeps the order of the rest */
	take(a, 5);
	assert_int_equal(alloc_choose(a, &idx), 0);
	assert_int_equal(idx, 1);
	take(a, 1);
	assert_int_equal(alloc_choose(a, &idx), 0);
	assert_int_equal(idx, 0);
	take(a, 0);
	assert_int_equal(alloc_choose(a, &idx), -ENOSPC);
	/* a free pair wins over quarantined ones */
	alloc_set(a, 2, ALLOC_QUARANTINED);
	alloc_set(a, 4, ALLOC_FREE);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(alloc_choose(a, &idx), 0);
		assert_int_equal(idx, 4);
	}
	alloc_free(a);
}

/* Chi-square of n_draws picks over k free pairs. */
static double chi_square(alloc *a, uint32_t k, int n_draws)
{
	uint32_t *hits = calloc(alloc_size(a), sizeof(uint32_t));
	double expect = (double)n_draws / k, chi = 0;
	uint32_t idx;

	assert_non_null(hits);
	for (int i = 0; i < n_draws; i++) {
		assert_int_equal(alloc_choose(a, &idx), 0);
		hits[idx]++;
	}
	for (uint32_t i = 0; i < alloc_size(a); i++) {
		if (alloc_state(a, i) != ALLOC_FREE) {
			assert_int_equal(hits[i], 0);
			continue;
		}
		chi += (hits[i] - expect) * (hits[i] - expect) / expect;
	}
	free(hits);
	return chi;
}

static void test_uniform(void **state)
{
	alloc *a = NULL;
	double chi;

	/* 45 pairs, 44 degrees of freedom: mean 44, sd 9.4; P(chi > 130)
	 * is below 1e-9, so this only fails for a real bias (a modulo bias
	 * or a stuck index would give thousands). */
	assert_int_equal(alloc_new(45, &a), 0);
	chi = chi_square(a, 45, 90000);
	assert_true(chi < 130.0);
	/* the same after the set has been shuffled by takes and returns */
	for (uint32_t i = 0; i < 45; i += 3)
		take(a, i);
	for (uint32_t i = 0; i < 45; i += 9)
		alloc_set(a, i, ALLOC_FREE);
	chi = chi_square(a, alloc_count(a, ALLOC_FREE), 90000);
	/* 30 + 5 = 35 free -> 34 dof */
	assert_int_equal(alloc_count(a, ALLOC_FREE), 35);
	assert_true(chi < 117.0);
	alloc_free(a);
}

static void test_random_below(void **state)
{
	uint32_t r, hits[7] = {0};

	assert_int_equal(alloc_random_below(1, &r), 0);
	assert_int_equal(r, 0);
	for (int i = 0; i < 7000; i++) {
		assert_int_equal(alloc_random_below(7, &r), 0);
		assert_true(r < 7);
		hits[r]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(hits[i] > 800 && hits[i] < 1200);
}

/* At 99.9% full a pick is still a free pair and, over many picks, every
 * free pair comes up: no retry loop that would favour some.  (That the
 * cost is flat from empty to 99.9% full is measured by make bench-mcsd,
 * not asserted here.) */
static void test_near_full_picks(void **state)
{
	const uint32_t n = 523776;
	uint32_t left = n / 1000; /* 99.9% full */
	uint32_t *hits = calloc(n, sizeof(*hits)), idx;
	alloc *a = NULL;

	(void)state;
	assert_non_null(hits);
	assert_int_equal(alloc_new(n, &a), 0);
	for (uint32_t i = 0; i < n - left; i++)
		take(a, i);
	assert_int_equal(alloc_count(a, ALLOC_FREE), left);
	for (int i = 0; i < 40 * (int)left; i++) {
		assert_int_equal(alloc_choose(a, &idx), 0);
		assert_int_equal(alloc_state(a, idx), ALLOC_FREE);
		hits[idx]++;
	}
	for (uint32_t i = n - left; i < n; i++)
		assert_true(hits[i] > 0);
	free(hits);
	alloc_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_exhaust),
		cmocka_unit_test(test_quarantine_lru),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_random_below),
		cmocka_unit_test(test_near_full_picks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
