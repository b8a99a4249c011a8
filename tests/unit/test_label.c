/* SPDX-License-Identifier: MIT */
/*
 * test_label.c - unit tests for lib/label.c: table-driven parsing of
 * levels, ranges and contexts (canonical output or the exact error), the
 * hostile inputs, dominance, and the pair <-> index arithmetic, checked
 * against independent reference computations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mcs/label.h>

/* ---- level table --------------------------------------------------------
 * want: canonical output, or NULL when the input must be rejected; then
 * errsub must occur in the error message. */
struct level_case {
	const char *in;
	const char *want;
	const char *errsub;
};

static const struct level_case level_cases[] = {
	/* valid, already canonical */
	{"s0", "s0", NULL},
	{"s1", "s1", NULL},
	{"s15", "s15", NULL},
	{"s0:c0", "s0:c0", NULL},
	{"s0:c1023", "s0:c1023", NULL},
	{"s0:c5,c9", "s0:c5,c9", NULL},
	{"s0:c0.c1023", "s0:c0.c1023", NULL},
	{"s0:c0.c3,c7", "s0:c0.c3,c7", NULL},
	{"s0:c1,c3,c5", "s0:c1,c3,c5", NULL},
	{"s3:c100,c200", "s3:c100,c200", NULL},
	{"s0:c10.c12,c14.c16", "s0:c10.c12,c14.c16", NULL},
	{"s0:c0,c1023", "s0:c0,c1023", NULL},
	{"s15:c0.c1023", "s15:c0.c1023", NULL},
	/* canonicalised: sorted, runs compressed as the kernel writes them */
	{"s0:c9,c5", "s0:c5,c9", NULL},
	{"s0:c0,c1,c2", "s0:c0.c2", NULL},
	{"s0:c2,c1,c0", "s0:c0.c2", NULL},
	{"s0:c0,c1", "s0:c0,c1", NULL},
	{"s0:c5,c6", "s0:c5,c6", NULL},
	{"s0:c0.c1", "s0:c0,c1", NULL},
	{"s0:c0.c2,c3", "s0:c0.c3", NULL},
	{"s0:c3,c0.c2", "s0:c0.c3", NULL},
	{"s0:c0.c2,c4.c6", "s0:c0.c2,c4.c6", NULL},
	{"s0:c0.c2,c3.c6", "s0:c0.c6", NULL},
	{"s0:c7,c0.c3", "s0:c0.c3,c7", NULL},
	{"s0:c1022,c1023", "s0:c1022,c1023", NULL},
	{"s0:c1023,c0", "s0:c0,c1023", NULL},
	{"s0:c0,c2,c4,c1,c3", "s0:c0.c4", NULL},
	{"s0:c10,c11,c13", "s0:c10,c11,c13", NULL},
	{"s0:c511.c512", "s0:c511,c512", NULL},
	{"s0:c63,c64", "s0:c63,c64", NULL},
	{"s0:c62.c65", "s0:c62.c65", NULL},
	{"s0:c127,c128,c129", "s0:c127.c129", NULL},
	{"s0:c0.c511,c512.c1023", "s0:c0.c1023", NULL},
	/* rejected: empty, structure */
	{"", NULL, "empty level"},
	{"s", NULL, "expected sensitivity number at column 2"},
	{"0", NULL, "expected sensitivity 's<N>' at column 1"},
	{"S0", NULL, "expected sensitivity 's<N>' at column 1, found 'S'"},
	{"s0:", NULL, "expected category 'c<N>' at column 4, found end"},
	{"s0:c", NULL, "expected category number at column 5"},
	{"s0:c5,", NULL, "expected category 'c<N>' at column 7"},
	{"s0:,c5", NULL, "expected category 'c<N>' at column 4, found ','"},
	{"s0:c5,,c6", NULL, "column 7"},
	{"s0:c5.", NULL, "expected category 'c<N>' at column 7"},
	{"s0:c5.c", NULL, "expected category number at column 8"},
	{"s0:c5..c6", NULL, "column 7"},
	{"s0:c5.c6.c7", NULL, "unexpected '.' at column 9"},
	{"s0c5", NULL, "unexpected 'c' at column 3"},
	{"s0:c5 ", NULL, "unexpected byte 0x20 at column 6"},
	{" s0", NULL, "column 1"},
	{"s0 ", NULL, "column 3"},
	{"s0:c5x", NULL, "unexpected 'x' at column 6"},
	{"s0:c5;c6", NULL, "unexpected ';' at column 6"},
	{"s0:C5", NULL, "found 'C'"},
	{"s0-s0", NULL, "unexpected '-' at column 3"},
	{"s0:c5\n", NULL, "byte 0x0a at column 6"},
	{"s0:c5\t", NULL, "byte 0x09"},
	{"s0:c5\xff", NULL, "byte 0xff at column 6"},
	/* rejected: numbers */
	{"s16", NULL, "sensitivity s16 out of range (max s15) at column 1"},
	{"s99", NULL, "out of range"},
	{"s00", NULL, "leading zero"},
	{"s01", NULL, "sensitivity number with a leading zero at column 1"},
	{"s-1", NULL, "expected sensitivity number at column 2, found '-'"},
	{"s+1", NULL, "found '+'"},
	{"s0:c1024", NULL,
	 "category c1024 out of range (max c1023) at column 4"},
	{"s0:c5,c1024", NULL,
	 "category c1024 out of range (max c1023) at column 7"},
	{"s0:c01", NULL, "category number with a leading zero at column 4"},
	{"s0:c00", NULL, "leading zero"},
	{"s0:c-1", NULL, "expected category number at column 5, found '-'"},
	{"s0:c+1", NULL, "found '+'"},
	{"s0:c99999999999999999999", NULL,
	 "category number too large at column 4"},
	{"s0:c4294967296", NULL, "too large"},
	{"s0:c65536", NULL, "out of range"},
	{"s18446744073709551617", NULL, "too large"},
	{"s0:c0x1", NULL, "unexpected 'x'"},
	{"s0:c1e3", NULL, "unexpected 'e'"},
	/* rejected: duplicates and bad runs */
	{"s0:c5,c5", NULL, "duplicate category c5 at column 7"},
	{"s0:c1,c2,c1", NULL, "duplicate category c1 at column 10"},
	{"s0:c0.c3,c2", NULL, "duplicate category c2"},
	{"s0:c2,c0.c3", NULL, "duplicate category c2 at column 7"},
	{"s0:c0.c3,c3.c5", NULL, "duplicate category c3"},
	{"s0:c5.c5", NULL, "category range c5.c5 is not ascending at column 4"},
	{"s0:c9.c5", NULL, "category range c9.c5 is not ascending"},
	{"s0:c0.c1024", NULL, "out of range"},
	/* more canonicalisation */
	{"s0:c1,c0", "s0:c0,c1", NULL},
	{"s0:c3,c1,c2", "s0:c1.c3", NULL},
	{"s0:c10,c12,c11", "s0:c10.c12", NULL},
	{"s0:c100,c200", "s0:c100,c200", NULL},
	{"s0:c200,c100", "s0:c100,c200", NULL},
	{"s0:c1.c3,c5.c7,c9", "s0:c1.c3,c5.c7,c9", NULL},
	{"s0:c9,c5.c7,c1.c3", "s0:c1.c3,c5.c7,c9", NULL},
	{"s0:c4,c1.c3", "s0:c1.c4", NULL},
	{"s0:c0.c1,c2.c3", "s0:c0.c3", NULL},
	{"s0:c1023,c1022,c1021", "s0:c1021.c1023", NULL},
	{"s0:c0,c2", "s0:c0,c2", NULL},
	{"s0:c0,c2,c3", "s0:c0,c2,c3", NULL},
	{"s0:c0,c1,c3", "s0:c0,c1,c3", NULL},
	{"s0:c64,c63,c65", "s0:c63.c65", NULL},
	{"s0:c128,c0", "s0:c0,c128", NULL},
	{"s0:c1000.c1023", "s0:c1000.c1023", NULL},
	{"s7:c7", "s7:c7", NULL},
	{"s10:c10,c11,c12,c13", "s10:c10.c13", NULL},
	/* more rejections */
	{"s0:c300.c302,c301.c303", NULL, "duplicate category c301"},
	{"s:", NULL, "expected sensitivity number at column 2, found ':'"},
	{"s0::c1", NULL, "found ':'"},
	{"s0:c1:c2", NULL, "unexpected ':' at column 6"},
	{"s0:c1,c2,", NULL, "expected category 'c<N>' at column 10"},
	{"s0:c1.c2.", NULL, "unexpected '.' at column 9"},
	{"s0:c1-", NULL, "unexpected '-' at column 6"},
	{"s0:.c1", NULL, "found '.'"},
	{"s0:c1.c1", NULL, "not ascending"},
	{"s0:c1.c0", NULL, "not ascending"},
	{"s0:c1023.c0", NULL, "not ascending"},
	{"s0:c1024.c1025", NULL, "c1024 out of range"},
	{"s0:c0.c99999", NULL, "c99999 out of range"},
	{"s0:c0.c999999", NULL, "too large"},
	{"s0:c10000", NULL, "out of range"},
	{"s0:c2048", NULL, "c2048 out of range"},
	{"s0:c1,c2,c3,c2", NULL, "duplicate category c2 at column 13"},
	{"s0:c7,c0.c10", NULL, "duplicate category c7"},
	{"s0:c0.c10,c0.c10", NULL, "duplicate category c0"},
	{"s0:c0.c1023,c5", NULL, "duplicate category c5"},
	{"s0:c001", NULL, "leading zero"},
	{"s0:c010", NULL, "leading zero"},
	{"s0:c5,c05", NULL, "leading zero at column 7"},
	{"s0:c5.c07", NULL, "leading zero"},
	{"s00:c1", NULL, "leading zero"},
	{"s16:c1", NULL, "s16 out of range"},
	{"s100", NULL, "s100 out of range"},
	{"s1000000", NULL, "too large"},
	{"s0:c 1", NULL, "found byte 0x20"},
	{"s 0", NULL, "found byte 0x20"},
	{"s0 :c1", NULL, "column 3"},
	{"s0:c1 ,c2", NULL, "column 6"},
	{"s0:c1, c2", NULL, "column 7"},
	{"s0:c1,c2\r", NULL, "0x0d"},
	{"\ts0", NULL, "column 1"},
	{"s0:c1\x01", NULL, "0x01"},
	{"s0:c1\x7f", NULL, "0x7f"},
	{"s0:c1\xc3\xa9", NULL, "0xc3 at column 6"},
	{"s0:c\xd9\xa1", NULL, "expected category number at column 5"},
	{"s\xd9\xa0", NULL, "expected sensitivity number"},
	{"s0:c1;rm -rf /", NULL, "unexpected ';'"},
	{"s0:c1%s%s%s%n", NULL, "unexpected '%'"},
	{"s0:c1'", NULL, "unexpected '''"},
	{"s0:c1\"", NULL, "unexpected '\"'"},
	{"s0:c1\\", NULL, "unexpected '\\'"},
	{"s0:c1/", NULL, "unexpected '/'"},
	{"s0:c1,c2,c1,c2", NULL, "duplicate category c1"},
	{"s0:c-0", NULL, "found '-'"},
	{"s0:c0x10", NULL, "unexpected 'x'"},
	{"s0:c1.5", NULL, "expected category 'c<N>' at column 7, found '5'"},
	{"s0:c1,2", NULL, "expected category 'c<N>' at column 7, found '2'"},
	{"s0:cat1", NULL, "found 'a'"},
	{"s0:c1,c2 extra", NULL, "0x20"},
	{"s1.s2", NULL, "unexpected '.'"},
	{"s1,s2", NULL, "unexpected ','"},
	{"S15", NULL, "found 'S'"},
	{"s15 ", NULL, "column 4"},
	{"c1,c2", NULL, "expected sensitivity 's<N>' at column 1, found 'c'"},
	{":c1,c2", NULL, "found ':'"},
};

static void test_level_case(void **state)
{
	{
		const struct level_case *c = *state;
		size_t i = (size_t)(c - level_cases);
		mcs_error err = {0};
		char buf[MCS_LEVEL_STR_MAX];
		int r = mcs_level_canonicalize(c->in, buf, sizeof(buf), &err);

		if (c->want) {
			if (r < 0)
				fail_msg("case %zu '%s': unexpected error: %s",
					 i, c->in, err.msg);
			if (strcmp(buf, c->want) != 0)
				fail_msg("case %zu '%s': got '%s' want '%s'", i,
					 c->in, buf, c->want);
			assert_int_equal(r, (int)strlen(c->want));
		} else {
			if (r >= 0)
				fail_msg("case %zu '%s': accepted as '%s'", i,
					 c->in, buf);
			assert_int_equal(r, -EINVAL);
			assert_int_equal(err.code, -EINVAL);
			if (!strstr(err.msg, c->errsub))
				fail_msg("case %zu '%s': error '%s' lacks '%s'",
					 i, c->in, err.msg, c->errsub);
		}
	}
}

/* ---- range table ------------------------------------------------------- */
static const struct level_case range_cases[] = {
	{"s0", "s0", NULL},
	{"s0-s0", "s0", NULL},
	{"s0-s0:c0.c1023", "s0-s0:c0.c1023", NULL},
	{"s0:c1,c2-s0:c0.c1023", "s0:c1,c2-s0:c0.c1023", NULL},
	{"s0:c5,c9-s0:c9,c5", "s0:c5,c9", NULL},
	{"s0-s15:c0.c1023", "s0-s15:c0.c1023", NULL},
	{"s1-s2", "s1-s2", NULL},
	{"s0:c3-s0:c3,c4", "s0:c3-s0:c3,c4", NULL},
	{"s2:c1-s3:c1,c2", "s2:c1-s3:c1,c2", NULL},
	{"s0:c0.c1023-s0:c0.c1023", "s0:c0.c1023", NULL},
	{"s1-s0", NULL, "high level at column 4 does not dominate"},
	{"s0:c1-s0", NULL, "does not dominate"},
	{"s0:c1-s0:c2", NULL, "does not dominate"},
	{"s0:c1,c2-s0:c1", NULL, "does not dominate"},
	{"s0-", NULL, "expected sensitivity 's<N>' at column 4, found end"},
	{"-s0", NULL, "column 1"},
	{"s0--s0", NULL, "column 4"},
	{"s0-s0-s0", NULL, "unexpected '-' at column 6"},
	{"s0-s16", NULL, "out of range"},
	{"s0-s0:c1024", NULL,
	 "category c1024 out of range (max c1023) at column 7"},
	{"s0:c5,c5-s0", NULL, "duplicate category c5"},
	{"", NULL, "empty range"},
};

static void test_range_case(void **state)
{
	{
		const struct level_case *c = *state;
		size_t i = (size_t)(c - range_cases);
		mcs_error err = {0};
		mcs_range rg;
		char buf[MCS_RANGE_STR_MAX];
		int r = mcs_range_parse(c->in, &rg, &err);

		if (c->want) {
			if (r < 0)
				fail_msg("range %zu '%s': %s", i, c->in,
					 err.msg);
			assert_true(mcs_range_format(&rg, buf, sizeof(buf)) >
				    0);
			if (strcmp(buf, c->want) != 0)
				fail_msg("range %zu '%s': got '%s' want '%s'",
					 i, c->in, buf, c->want);
			assert_true(mcs_level_dominates(&rg.high, &rg.low));
		} else {
			if (r >= 0)
				fail_msg("range %zu '%s' accepted", i, c->in);
			if (!strstr(err.msg, c->errsub))
				fail_msg(
					"range %zu '%s': error '%s' lacks '%s'",
					i, c->in, err.msg, c->errsub);
		}
	}
}

/* ---- context table ----------------------------------------------------- */
static const struct level_case context_cases[] = {
	{"system_u:object_r:svirt_sandbox_file_t:s0",
	 "system_u:object_r:svirt_sandbox_file_t:s0", NULL},
	{"system_u:system_r:svirt_lxc_net_t:s0:c9,c5",
	 "system_u:system_r:svirt_lxc_net_t:s0:c5,c9", NULL},
	{"unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023",
	 "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", NULL},
	{"user_u:user_r:user_t", "user_u:user_r:user_t", NULL},
	{"a:b:c", "a:b:c", NULL},
	{"system_u:object_r:etc_t:s0-s0", "system_u:object_r:etc_t:s0", NULL},
	{"u.1:r-2:t_3:s0:c0,c1,c2", "u.1:r-2:t_3:s0:c0.c2", NULL},
	{"", NULL, "empty context"},
	{"system_u", NULL, "context ends after the user at column 9"},
	{"system_u:object_r", NULL, "context ends after the role at column 18"},
	{"system_u:object_r:", NULL, "expected type at column 19, found end"},
	{":object_r:etc_t", NULL, "expected user at column 1, found ':'"},
	{"system_u::etc_t", NULL, "expected role at column 10, found ':'"},
	{"system_u:object_r:etc_t:", NULL,
	 "expected sensitivity 's<N>' at column 25, found end"},
	{"system_u:object_r:etc_t:s0:c1024", NULL,
	 "category c1024 out of range (max c1023) at column 28"},
	{"system_u:object_r:etc_t:s0:c5,c5", NULL,
	 "duplicate category c5 at column 31"},
	{"system_u:object_r:etc_t:s0:c01", NULL, "leading zero at column 28"},
	{"system_u:object_r:etc_t:s0:c5 ", NULL, "column 30"},
	{"system_u:object_r:etc_t:s0:c-1", NULL, "found '-'"},
	{"system u:object_r:etc_t:s0", NULL,
	 "invalid byte 0x20 in user at column 7"},
	{"system_u:object_r:etc/t:s0", NULL,
	 "invalid character '/' in type at column 22"},
	{"system_u:object_r:etc_t:s0:c1-s0", NULL, "does not dominate"},
	{"system_u:object_r:etc_t:s0\n", NULL, "0x0a"},
	{"system_u:object_r:etc_t:s0:c1,c2:extra", NULL, "unexpected ':'"},
	{"system_u:object_r:etc_t:garbage", NULL,
	 "expected sensitivity 's<N>' at column 25, found 'g'"},
};

static void test_context_case(void **state)
{
	{
		const struct level_case *c = *state;
		size_t i = (size_t)(c - context_cases);
		mcs_error err = {0};
		mcs_context ctx;
		char buf[MCS_CONTEXT_STR_MAX];
		int r = mcs_context_parse(c->in, &ctx, &err);

		if (c->want) {
			if (r < 0)
				fail_msg("context %zu '%s': %s", i, c->in,
					 err.msg);
			assert_true(mcs_context_format(&ctx, buf, sizeof(buf)) >
				    0);
			if (strcmp(buf, c->want) != 0)
				fail_msg("context %zu '%s': got '%s' want '%s'",
					 i, c->in, buf, c->want);
		} else {
			if (r >= 0)
				fail_msg("context %zu '%s' accepted", i, c->in);
			if (!strstr(err.msg, c->errsub))
				fail_msg("context %zu '%s': error '%s' lacks "
					 "'%s'",
					 i, c->in, err.msg, c->errsub);
		}
	}
}

/* Hostile input that a table of C strings cannot express. */
static void test_hostile(void **state)
{
	mcs_error err = {0};
	mcs_level l;
	mcs_context ctx;
	char *big;

	(void)state;
	/* embedded NUL inside a counted buffer */
	assert_int_equal(mcs_level_parse_n("s0\0:c1", 6, &l, &err), -EINVAL);
	assert_non_null(
		strstr(err.msg, "embedded NUL byte in level at column 3"));
	assert_int_equal(mcs_context_parse_n("a:b:c\0", 6, &ctx, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "embedded NUL"));
	/* NULL input */
	assert_int_equal(mcs_level_parse(NULL, &l, &err), -EINVAL);
	/* overlong input: -E2BIG, and *ret untouched */
	big = malloc(MCS_INPUT_MAX + 100);
	assert_non_null(big);
	memset(big, 'c', MCS_INPUT_MAX + 99);
	big[MCS_INPUT_MAX + 99] = '\0';
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(mcs_level_parse(big, &l, &err), -E2BIG);
	assert_int_equal(err.code, -E2BIG);
	assert_non_null(strstr(err.msg, "too long"));
	assert_int_equal(l.sens, 0x5a);
	/* a long but valid level: every even category */
	{
		size_t pos = 0;
		char want[MCS_LEVEL_STR_MAX], got[MCS_LEVEL_STR_MAX];

		pos += (size_t)snprintf(big, 16, "s0:");
		for (unsigned k = 0; k <= MCS_CAT_MAX; k += 2)
			pos += (size_t)snprintf(big + pos, 16, "%sc%u",
						k ? "," : "", k);
		assert_int_equal(
			mcs_level_canonicalize(big, got, sizeof(got), &err),
			(int)pos);
		memcpy(want, big, pos + 1);
		assert_string_equal(got, want);
		/* too small a buffer: -ENOSPC and an empty string */
		assert_int_equal(mcs_level_parse(big, &l, &err), 0);
		assert_int_equal(mcs_level_format(&l, got, 100), -ENOSPC);
		assert_string_equal(got, "");
		assert_int_equal(mcs_level_cat_count(&l), 512);
	}
	/* an overlong name */
	memset(big, 'u', 300);
	memcpy(big + 300, ":r:t", 5);
	assert_int_equal(mcs_context_parse(big, &ctx, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255"));
	free(big);
}

/* ---- randomized round trip against a reference formatter ---------------- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Reference: emit each category separately, in random order. */
static void test_random_roundtrip(void **state)
{
	(void)state;
	for (int iter = 0; iter < 2000; iter++) {
		unsigned char set[MCS_CAT_COUNT] = {0};
		unsigned order[MCS_CAT_COUNT], n = 0, sens = rnd() % 16;
		unsigned density = 1 + rnd() % 64;
		char in[MCS_INPUT_MAX], out[MCS_LEVEL_STR_MAX];
		size_t pos;
		mcs_level a, b;
		mcs_error err = {0};

		for (unsigned k = 0; k < MCS_CAT_COUNT; k++)
			if (rnd() % density == 0 && n < 600) {
				set[k] = 1;
				order[n++] = k;
			}
		for (unsigned i = n; i > 1; i--) {
			unsigned j = rnd() % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		pos = (size_t)snprintf(in, sizeof(in), "s%u", sens);
		for (unsigned i = 0; i < n; i++)
			pos += (size_t)snprintf(in + pos, sizeof(in) - pos,
						"%sc%u", i ? "," : ":",
						order[i]);
		if (pos >= MCS_INPUT_MAX)
			continue;
		assert_int_equal(mcs_level_parse(in, &a, &err), 0);
		assert_int_equal(a.sens, sens);
		for (unsigned k = 0; k < MCS_CAT_COUNT; k++)
			assert_int_equal(mcs_level_has_cat(&a, k), set[k]);
		assert_true(mcs_level_format(&a, out, sizeof(out)) > 0);
		/* canonical output parses to the same level ... */
		assert_int_equal(mcs_level_parse(out, &b, &err), 0);
		assert_true(mcs_level_equal(&a, &b));
		/* ... and has no adjacent separate categories */
		for (const char *p = out; (p = strchr(p, ',')) != NULL; p++) {
			unsigned prev, next;
			const char *q = p - 1;

			while (*q != 'c')
				q--;
			prev = (unsigned)atoi(q + 1);
			next = (unsigned)atoi(p + 2);
			/* adjacent only as a run of exactly two */
			if (next == prev + 1) {
				assert_true(q[-1] != '.');
				assert_false(prev > 0 && set[prev - 1]);
				assert_false(next < MCS_CAT_MAX &&
					     set[next + 1]);
			} else {
				assert_true(next > prev + 1);
			}
		}
	}
}

static void test_dominance(void **state)
{
	struct {
		const char *a, *b;
		mcs_level_rel rel;
	} cases[] = {
		{"s0", "s0", MCS_LEVEL_EQUAL},
		{"s0:c1,c2", "s0:c2,c1", MCS_LEVEL_EQUAL},
		{"s0:c0.c1023", "s0:c1,c2", MCS_LEVEL_DOMINATES},
		{"s0:c1,c2", "s0", MCS_LEVEL_DOMINATES},
		{"s0", "s0:c1,c2", MCS_LEVEL_DOMINATED_BY},
		{"s0:c1,c2", "s0:c3,c4", MCS_LEVEL_INCOMPARABLE},
		{"s0:c1,c2", "s0:c1,c3", MCS_LEVEL_INCOMPARABLE},
		{"s1", "s0", MCS_LEVEL_DOMINATES},
		{"s1", "s0:c1", MCS_LEVEL_INCOMPARABLE},
		{"s1:c1", "s0:c1", MCS_LEVEL_DOMINATES},
		{"s0:c1", "s1", MCS_LEVEL_INCOMPARABLE},
		{"s0:c1000", "s0:c1000,c1001", MCS_LEVEL_DOMINATED_BY},
		{"s0:c63", "s0:c64", MCS_LEVEL_INCOMPARABLE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mcs_level a, b;

		assert_int_equal(mcs_level_parse(cases[i].a, &a, NULL), 0);
		assert_int_equal(mcs_level_parse(cases[i].b, &b, NULL), 0);
		if (mcs_level_compare(&a, &b) != cases[i].rel)
			fail_msg("compare %s %s: got %d want %d", cases[i].a,
				 cases[i].b, mcs_level_compare(&a, &b),
				 cases[i].rel);
		assert_int_equal(mcs_level_dominates(&a, &b),
				 cases[i].rel == MCS_LEVEL_EQUAL ||
					 cases[i].rel == MCS_LEVEL_DOMINATES);
	}
}

static void test_range_contains(void **state)
{
	mcs_range full, r, inner;
	mcs_level l;

	(void)state;
	assert_int_equal(mcs_range_parse("s0-s0:c0.c1023", &full, NULL), 0);
	assert_int_equal(mcs_level_parse("s0:c1,c2", &l, NULL), 0);
	assert_true(mcs_range_contains_level(&full, &l));
	assert_int_equal(mcs_range_parse("s0:c1,c2", &r, NULL), 0);
	assert_true(mcs_range_contains(&full, &r));
	assert_false(mcs_range_contains(&r, &full));
	assert_int_equal(mcs_level_parse("s0:c3", &l, NULL), 0);
	assert_false(mcs_range_contains_level(&r, &l));
	assert_int_equal(mcs_range_parse("s0:c1-s0:c1,c2,c3", &r, NULL), 0);
	assert_int_equal(mcs_range_parse("s0:c1,c2", &inner, NULL), 0);
	assert_true(mcs_range_contains(&r, &inner));
	assert_int_equal(mcs_range_parse("s0-s0:c1,c2", &inner, NULL), 0);
	assert_false(mcs_range_contains(&r, &inner)); /* s0 below low c1 */
}

static void test_context_str_equal(void **state)
{
	const char *a = "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2";

	(void)state;
	/* trailing NUL (chcon/libselinux) vs none (setfattr/go-selinux) */
	assert_true(mcs_context_str_equal(a, strlen(a) + 1, a, strlen(a)));
	assert_true(mcs_context_str_equal(
		a, strlen(a), "system_u:object_r:svirt_sandbox_file_t:s0:c1.c2",
		47));
	assert_true(mcs_context_str_equal(
		"system_u:object_r:svirt_sandbox_file_t:s0:c2,c1", 47, a,
		strlen(a)));
	assert_false(mcs_context_str_equal(
		a, strlen(a), "system_u:object_r:svirt_sandbox_file_t:s0:c1,c3",
		47));
	assert_false(mcs_context_str_equal(
		a, strlen(a), "system_u:object_r:svirt_sandbox_file_t:s0", 41));
	assert_false(mcs_context_str_equal(a, strlen(a), "", 0));
	assert_true(mcs_context_str_equal("x", 1, "x\0", 2));
	assert_false(mcs_context_str_equal("x", 1, "y", 1));
}

/* ---- pairs ------------------------------------------------------------- */
static void test_cat_range_parse(void **state)
{
	mcs_cat_range r;
	mcs_error err = {0};

	(void)state;
	assert_int_equal(mcs_cat_range_parse("c0.c1023", &r, &err), 0);
	assert_int_equal(r.lo, 0);
	assert_int_equal(r.hi, 1023);
	assert_int_equal(mcs_pair_count(&r), 523776);
	assert_int_equal(mcs_cat_range_parse("c0.c9", &r, &err), 0);
	assert_int_equal(mcs_pair_count(&r), 45);
	assert_int_equal(mcs_cat_range_parse("c5.c6", &r, &err), 0);
	assert_int_equal(mcs_pair_count(&r), 1);
	assert_int_equal(mcs_cat_range_parse("c5.c5", &r, &err), -EINVAL);
	assert_int_equal(mcs_cat_range_parse("c9.c5", &r, &err), -EINVAL);
	assert_int_equal(mcs_cat_range_parse("c0.c1024", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "c1024 out of range"));
	assert_int_equal(mcs_cat_range_parse("c0,c9", &r, &err), -EINVAL);
	assert_int_equal(mcs_cat_range_parse("c0.c9x", &r, &err), -EINVAL);
	assert_int_equal(mcs_cat_range_parse("", &r, &err), -EINVAL);
	assert_int_equal(mcs_cat_range_parse("c00.c9", &r, &err), -EINVAL);
}

/* Every pair of several ranges: index order is lexicographic, both ways. */
static void test_pair_exhaustive(void **state)
{
	static const char *ranges[] = {"c0.c1023",  "c0.c1",	   "c0.c9",
				       "c100.c200", "c1000.c1023", "c7.c8"};
	(void)state;
	for (size_t ri = 0; ri < sizeof(ranges) / sizeof(ranges[0]); ri++) {
		mcs_cat_range r;
		uint64_t idx = 0;

		assert_int_equal(mcs_cat_range_parse(ranges[ri], &r, NULL), 0);
		for (unsigned x = r.lo; x <= r.hi; x++)
			for (unsigned y = x + 1; y <= r.hi; y++, idx++) {
				unsigned gx, gy;
				uint64_t gi;

				assert_int_equal(
					mcs_pair_to_index(&r, x, y, &gi), 0);
				if (gi != idx)
					fail_msg("%s: (%u,%u) -> %llu want "
						 "%llu",
						 ranges[ri], x, y,
						 (unsigned long long)gi,
						 (unsigned long long)idx);
				assert_int_equal(
					mcs_pair_from_index(&r, idx, &gx, &gy),
					0);
				if (gx != x || gy != y)
					fail_msg("%s: %llu -> (%u,%u) want "
						 "(%u,%u)",
						 ranges[ri],
						 (unsigned long long)idx, gx,
						 gy, x, y);
			}
		assert_int_equal(idx, mcs_pair_count(&r));
	}
}

static void test_pair_errors(void **state)
{
	mcs_cat_range r = {.lo = 10, .hi = 20};
	unsigned x, y;
	uint64_t idx;
	mcs_level l;
	mcs_error err = {0};

	(void)state;
	assert_int_equal(mcs_pair_from_index(&r, 55, &x, &y), -ERANGE);
	assert_int_equal(mcs_pair_from_index(&r, 54, &x, &y), 0);
	assert_int_equal(x, 19);
	assert_int_equal(y, 20);
	assert_int_equal(mcs_pair_to_index(&r, 9, 12, &idx), -ERANGE);
	assert_int_equal(mcs_pair_to_index(&r, 12, 21, &idx), -ERANGE);
	assert_int_equal(mcs_pair_to_index(&r, 12, 12, &idx), -ERANGE);
	assert_int_equal(mcs_pair_to_index(&r, 13, 12, &idx), -ERANGE);

	mcs_pair_to_level(5, 900, &l);
	assert_int_equal(mcs_pair_from_level(&l, &x, &y, &err), 0);
	assert_int_equal(x, 5);
	assert_int_equal(y, 900);
	assert_int_equal(mcs_level_parse("s0:c1,c2,c3", &l, NULL), 0);
	assert_int_equal(mcs_pair_from_level(&l, &x, &y, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "level must have exactly two categories, not 3");
	assert_int_equal(mcs_level_parse("s0:c1", &l, NULL), 0);
	assert_int_equal(mcs_pair_from_level(&l, &x, &y, &err), -EINVAL);
	assert_int_equal(mcs_level_parse("s1:c1,c2", &l, NULL), 0);
	assert_int_equal(mcs_pair_from_level(&l, &x, &y, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "s0"));
}

static void test_error_prefix(void **state)
{
	mcs_error err = {0};

	(void)state;
	assert_int_equal(mcs_error_prefix(&err, "x: "), 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(mcs_error_set(&err, -EINVAL, "bad %s", "thing"),
			 -EINVAL);
	assert_int_equal(mcs_error_prefix(&err, "relabel %s: ", "/srv"),
			 -EINVAL);
	assert_string_equal(err.msg, "relabel /srv: bad thing");
	mcs_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_int_equal(mcs_error_set(NULL, -EIO, "x"), -EIO);
}

#define N_LEVEL	  (sizeof(level_cases) / sizeof(level_cases[0]))
#define N_RANGE	  (sizeof(range_cases) / sizeof(range_cases[0]))
#define N_CONTEXT (sizeof(context_cases) / sizeof(context_cases[0]))

/* One cmocka test per table row, named after its input. */
static size_t add_rows(struct CMUnitTest *t, size_t n, const char *kind,
		       const struct level_case *rows, size_t nrows,
		       CMUnitTestFunction fn)
{
	static char names[N_LEVEL + N_RANGE + N_CONTEXT][96];

	for (size_t i = 0; i < nrows; i++, n++) {
		char shown[64];
		size_t k = 0;

		/* keep names printable: escape control and high bytes */
		for (const unsigned char *p = (const unsigned char *)rows[i].in;
		     *p && k + 5 < sizeof(shown); p++)
			k += (size_t)snprintf(
				shown + k, sizeof(shown) - k,
				(*p < 0x20 || *p > 0x7e) ? "\\x%02x" : "%c",
				*p);
		shown[k] = '\0';
		snprintf(names[n], sizeof(names[n]), "%s '%s'%s", kind, shown,
			 rows[i].want ? "" : " rejected");
		t[n] = (struct CMUnitTest){.name = names[n],
					   .test_func = fn,
					   .initial_state =
						   (void *)(uintptr_t)&rows[i]};
	}
	return n;
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_random_roundtrip),
		cmocka_unit_test(test_dominance),
		cmocka_unit_test(test_range_contains),
		cmocka_unit_test(test_context_str_equal),
		cmocka_unit_test(test_cat_range_parse),
		cmocka_unit_test(test_pair_exhaustive),
		cmocka_unit_test(test_pair_errors),
		cmocka_unit_test(test_error_prefix),
	};
	static struct CMUnitTest tests[N_LEVEL + N_RANGE + N_CONTEXT +
				       sizeof(fixed) / sizeof(fixed[0])];
	size_t n = 0;

	n = add_rows(tests, n, "level", level_cases, N_LEVEL, test_level_case);
	n = add_rows(tests, n, "range", range_cases, N_RANGE, test_range_case);
	n = add_rows(tests, n, "context", context_cases, N_CONTEXT,
		     test_context_case);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("label", tests, n, NULL, NULL);
}
