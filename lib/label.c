/* SPDX-License-Identifier: MIT */
/*
 * label.c - the label core: parse, validate, format and compare SELinux
 * security contexts, MLS/MCS levels and ranges, and number two-category
 * levels for the allocator.  Pure computation: no I/O, no allocation.
 *
 * Parsing is a hand-written scanner over a counted buffer so that an
 * embedded NUL, an overlong input or trailing garbage is an error with a
 * 1-based column, never silently truncated.  Formatting is canonical and
 * matches what the kernel writes (security/selinux/ss/mls.c): categories
 * ascending, every run of three or more consecutive categories written
 * c<first>.c<last>, a run of two as c<K>,c<K+1> (as the enforcing kernel
 * prints it), a range with equal ends written as one level.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <mcs/label.h>

#include "names.h"

#define WORDS (MCS_CAT_COUNT / 64)

/* Scanner state: input s[0..len), position, column offset of s[0]. */
struct scan {
	const char *s;
	size_t len;
	size_t pos;
	size_t col0; /* columns before s[0] when s is part of a larger input */
};

static size_t scan_col(const struct scan *sc)
{
	return sc->col0 + sc->pos + 1;
}

static int scan_peek(const struct scan *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static int describe_unexpected(const struct scan *sc, mcs_error *err,
			       const char *what)
{
	int c = scan_peek(sc);

	if (c < 0)
		return mcs_error_set(err, -EINVAL,
				     "expected %s at column %zu, found end of "
				     "input",
				     what, scan_col(sc));
	if (c >= 0x21 && c < 0x7f)
		return mcs_error_set(err, -EINVAL,
				     "expected %s at column %zu, found '%c'",
				     what, scan_col(sc), c);
	return mcs_error_set(err, -EINVAL,
			     "expected %s at column %zu, found byte 0x%02x",
			     what, scan_col(sc), (unsigned)c);
}

/*
 * Scan an unsigned decimal number with no sign and no leading zero, at
 * most `max`.  `prefix` names it in messages ('s' or 'c').
 */
static int scan_number(struct scan *sc, char prefix, unsigned max,
		       unsigned *ret, mcs_error *err)
{
	size_t start = sc->pos, ndigits = 0;
	unsigned long v = 0;
	int c;

	while ((c = scan_peek(sc)) >= '0' && c <= '9') {
		if (v <= 100000)
			v = v * 10 + (unsigned)(c - '0');
		sc->pos++;
		ndigits++;
	}
	if (ndigits == 0) {
		sc->pos = start;
		return describe_unexpected(sc, err,
					   prefix == 's' ? "sensitivity number"
							 : "category number");
	}
	if (ndigits > 1 && sc->s[start] == '0') {
		sc->pos = start;
		return mcs_error_set(err, -EINVAL,
				     "%s number with a leading zero at column "
				     "%zu",
				     prefix == 's' ? "sensitivity" : "category",
				     scan_col(sc) - 1);
	}
	if (v > max || ndigits > 5) {
		size_t col = sc->col0 + start; /* column of the prefix letter */

		if (ndigits > 5)
			return mcs_error_set(err, -EINVAL,
					     "%s number too large at column "
					     "%zu",
					     prefix == 's' ? "sensitivity"
							   : "category",
					     col);
		return mcs_error_set(err, -EINVAL,
				     "%s %c%lu out of range (max %c%u) at "
				     "column %zu",
				     prefix == 's' ? "sensitivity" : "category",
				     prefix, v, prefix, max, col);
	}
	*ret = (unsigned)v;
	return 0;
}

static int scan_cat(struct scan *sc, unsigned *ret, mcs_error *err)
{
	if (scan_peek(sc) != 'c')
		return describe_unexpected(sc, err, "category 'c<N>'");
	sc->pos++;
	return scan_number(sc, 'c', MCS_CAT_MAX, ret, err);
}

/* Scan a level; stops before `stop` (or at end when stop < 0). */
static int scan_level(struct scan *sc, int stop, mcs_level *ret, mcs_error *err)
{
	mcs_level l;
	unsigned sens;
	int r, c;

	if (scan_peek(sc) != 's')
		return describe_unexpected(sc, err, "sensitivity 's<N>'");
	sc->pos++;
	r = scan_number(sc, 's', MCS_SENS_MAX, &sens, err);
	if (r < 0)
		return r;
	mcs_level_init(&l, sens);

	c = scan_peek(sc);
	if (c == ':') {
		sc->pos++;
		for (;;) {
			size_t item_col = scan_col(sc);
			unsigned lo, hi;

			r = scan_cat(sc, &lo, err);
			if (r < 0)
				return r;
			hi = lo;
			if (scan_peek(sc) == '.') {
				sc->pos++;
				r = scan_cat(sc, &hi, err);
				if (r < 0)
					return r;
				if (hi <= lo)
					return mcs_error_set(
						err, -EINVAL,
						"category range c%u.c%u is not "
						"ascending at column %zu",
						lo, hi, item_col);
			}
			for (unsigned k = lo; k <= hi; k++) {
				if (mcs_level_has_cat(&l, k))
					return mcs_error_set(
						err, -EINVAL,
						"duplicate category c%u at "
						"column %zu",
						k, item_col);
				mcs_level_add_cat(&l, k);
			}
			if (scan_peek(sc) != ',')
				break;
			sc->pos++;
		}
	}
	c = scan_peek(sc);
	if (c >= 0 && c != stop) {
		if (c == 0)
			return mcs_error_set(err, -EINVAL,
					     "embedded NUL byte at column %zu",
					     scan_col(sc));
		if (c >= 0x21 && c < 0x7f)
			return mcs_error_set(err, -EINVAL,
					     "unexpected '%c' at column %zu", c,
					     scan_col(sc));
		return mcs_error_set(err, -EINVAL,
				     "unexpected byte 0x%02x at column %zu",
				     (unsigned)c, scan_col(sc));
	}
	*ret = l;
	return 0;
}

static int check_input(const char *s, size_t len, const char *what,
		       mcs_error *err)
{
	const char *nul;

	if (!s)
		return mcs_error_set(err, -EINVAL, "no %s given", what);
	if (len > MCS_INPUT_MAX)
		return mcs_error_set(err, -E2BIG,
				     "%s too long (%zu bytes, max %d)", what,
				     len, MCS_INPUT_MAX);
	if (len == 0)
		return mcs_error_set(err, -EINVAL, "empty %s", what);
	nul = memchr(s, '\0', len);
	if (nul)
		return mcs_error_set(err, -EINVAL,
				     "embedded NUL byte in %s at column %zu",
				     what, (size_t)(nul - s) + 1);
	return 0;
}

/* strnlen bounded one past the limit, so overlong input is detectable. */
static size_t bounded_len(const char *s)
{
	return s ? strnlen(s, MCS_INPUT_MAX + 1) : 0;
}

/* ---- levels ------------------------------------------------------------ */

void mcs_level_init(mcs_level *l, unsigned sens)
{
	memset(l, 0, sizeof(*l));
	l->sens = (uint8_t)sens;
}

bool mcs_level_has_cat(const mcs_level *l, unsigned cat)
{
	return cat < MCS_CAT_COUNT && (l->cats[cat / 64] >> (cat % 64)) & 1;
}

void mcs_level_add_cat(mcs_level *l, unsigned cat)
{
	if (cat < MCS_CAT_COUNT)
		l->cats[cat / 64] |= UINT64_C(1) << (cat % 64);
}

unsigned mcs_level_cat_count(const mcs_level *l)
{
	unsigned n = 0;

	for (unsigned i = 0; i < WORDS; i++)
		n += (unsigned)__builtin_popcountll(l->cats[i]);
	return n;
}

int mcs_level_parse_n(const char *s, size_t len, mcs_level *ret, mcs_error *err)
{
	struct scan sc = {.s = s, .len = len};
	int r = check_input(s, len, "level", err);

	if (r < 0)
		return r;
	return scan_level(&sc, -1, ret, err);
}

int mcs_level_parse(const char *s, mcs_level *ret, mcs_error *err)
{
	return mcs_level_parse_n(s, bounded_len(s), ret, err);
}

/* Append to buf at *pos; keeps counting past the end for -ENOSPC. */
static void put(char *buf, size_t size, size_t *pos, const char *prefix,
		unsigned v)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof(tmp), "%s%u", prefix, v);

	if (n > 0 && *pos + (size_t)n < size)
		memcpy(buf + *pos, tmp, (size_t)n);
	*pos += (size_t)(n > 0 ? n : 0);
}

static size_t format_level(const mcs_level *l, char *buf, size_t size,
			   size_t pos)
{
	bool first = true;
	unsigned k = 0;

	put(buf, size, &pos, "s", l->sens);
	while (k < MCS_CAT_COUNT) {
		unsigned end;

		if (!mcs_level_has_cat(l, k)) {
			/* skip empty words quickly */
			if ((k % 64) == 0 && l->cats[k / 64] == 0) {
				k += 64;
				continue;
			}
			k++;
			continue;
		}
		end = k;
		while (end + 1 < MCS_CAT_COUNT && mcs_level_has_cat(l, end + 1))
			end++;
		put(buf, size, &pos, first ? ":c" : ",c", k);
		if (end == k + 1) /* a run of two: c<K>,c<K+1>, as the kernel */
			put(buf, size, &pos, ",c", end);
		else if (end > k + 1)
			put(buf, size, &pos, ".c", end);
		first = false;
		k = end + 1;
	}
	return pos;
}

static int finish(char *buf, size_t size, size_t len)
{
	if (len >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	buf[len] = '\0';
	return (int)len;
}

int mcs_level_format(const mcs_level *l, char *buf, size_t size)
{
	return finish(buf, size, format_level(l, buf, size, 0));
}

int mcs_level_canonicalize(const char *s, char *buf, size_t size,
			   mcs_error *err)
{
	mcs_level l;
	int r = mcs_level_parse(s, &l, err);

	if (r < 0)
		return r;
	r = mcs_level_format(&l, buf, size);
	if (r < 0)
		return mcs_error_set(err, r, "buffer too small for level");
	return r;
}

bool mcs_level_equal(const mcs_level *a, const mcs_level *b)
{
	return a->sens == b->sens &&
	       memcmp(a->cats, b->cats, sizeof(a->cats)) == 0;
}

bool mcs_level_dominates(const mcs_level *a, const mcs_level *b)
{
	if (a->sens < b->sens)
		return false;
	for (unsigned i = 0; i < WORDS; i++)
		if ((a->cats[i] & b->cats[i]) != b->cats[i])
			return false;
	return true;
}

mcs_level_rel mcs_level_compare(const mcs_level *a, const mcs_level *b)
{
	bool ab = mcs_level_dominates(a, b), ba = mcs_level_dominates(b, a);

	if (ab && ba)
		return MCS_LEVEL_EQUAL;
	if (ab)
		return MCS_LEVEL_DOMINATES;
	if (ba)
		return MCS_LEVEL_DOMINATED_BY;
	return MCS_LEVEL_INCOMPARABLE;
}

/* ---- ranges ------------------------------------------------------------ */

static int scan_range(struct scan *sc, mcs_range *ret, mcs_error *err)
{
	mcs_range rg;
	size_t high_col;
	int r;

	r = scan_level(sc, '-', &rg.low, err);
	if (r < 0)
		return r;
	if (scan_peek(sc) == '-') {
		sc->pos++;
		high_col = scan_col(sc);
		r = scan_level(sc, -1, &rg.high, err);
		if (r < 0)
			return r;
		if (!mcs_level_dominates(&rg.high, &rg.low))
			return mcs_error_set(
				err, -EINVAL,
				"high level at column %zu does not "
				"dominate the low level",
				high_col);
	} else {
		rg.high = rg.low;
	}
	*ret = rg;
	return 0;
}

int mcs_range_parse_n(const char *s, size_t len, mcs_range *ret, mcs_error *err)
{
	struct scan sc = {.s = s, .len = len};
	int r = check_input(s, len, "range", err);

	if (r < 0)
		return r;
	return scan_range(&sc, ret, err);
}

int mcs_range_parse(const char *s, mcs_range *ret, mcs_error *err)
{
	return mcs_range_parse_n(s, bounded_len(s), ret, err);
}

static size_t format_range(const mcs_range *r, char *buf, size_t size,
			   size_t pos)
{
	pos = format_level(&r->low, buf, size, pos);
	if (!mcs_level_equal(&r->low, &r->high)) {
		if (pos + 1 < size)
			buf[pos] = '-';
		pos++;
		pos = format_level(&r->high, buf, size, pos);
	}
	return pos;
}

int mcs_range_format(const mcs_range *r, char *buf, size_t size)
{
	return finish(buf, size, format_range(r, buf, size, 0));
}

bool mcs_range_equal(const mcs_range *a, const mcs_range *b)
{
	return mcs_level_equal(&a->low, &b->low) &&
	       mcs_level_equal(&a->high, &b->high);
}

bool mcs_range_contains_level(const mcs_range *r, const mcs_level *l)
{
	return mcs_level_dominates(&r->high, l) &&
	       mcs_level_dominates(l, &r->low);
}

bool mcs_range_contains(const mcs_range *outer, const mcs_range *inner)
{
	return mcs_range_contains_level(outer, &inner->low) &&
	       mcs_range_contains_level(outer, &inner->high);
}

/* ---- contexts ---------------------------------------------------------- */

/* Scan one name field up to ':' (or the end when last). */
static int scan_name(struct scan *sc, const char *what, bool last, char *out,
		     mcs_error *err)
{
	size_t start = sc->pos;
	int c;

	/* one rule for identifiers (names.c): a letter, then [A-Za-z0-9_.-] */
	if ((c = scan_peek(sc)) >= 0 && names_identifier_start(c))
		while ((c = scan_peek(sc)) >= 0 && names_identifier_char(c))
			sc->pos++;
	if (sc->pos == start)
		return describe_unexpected(sc, err, what);
	if (sc->pos - start > MCS_NAME_MAX)
		return mcs_error_set(err, -EINVAL,
				     "%s at column %zu is longer than %d bytes",
				     what, sc->col0 + start + 1, MCS_NAME_MAX);
	c = scan_peek(sc);
	if (c >= 0 && !(c == ':')) {
		if (c == 0)
			return mcs_error_set(err, -EINVAL,
					     "embedded NUL byte at column %zu",
					     scan_col(sc));
		if (c >= 0x21 && c < 0x7f)
			return mcs_error_set(err, -EINVAL,
					     "invalid character '%c' in %s at "
					     "column %zu",
					     c, what, scan_col(sc));
		return mcs_error_set(err, -EINVAL,
				     "invalid byte 0x%02x in %s at column %zu",
				     (unsigned)c, what, scan_col(sc));
	}
	if (c < 0 && !last)
		return mcs_error_set(err, -EINVAL,
				     "context ends after the %s at column %zu: "
				     "expected user:role:type[:range]",
				     what, scan_col(sc));
	memcpy(out, sc->s + start, sc->pos - start);
	out[sc->pos - start] = '\0';
	return 0;
}

int mcs_context_parse_n(const char *s, size_t len, mcs_context *ret,
			mcs_error *err)
{
	struct scan sc = {.s = s, .len = len};
	mcs_context c;
	int r = check_input(s, len, "context", err);

	if (r < 0)
		return r;
	memset(&c, 0, sizeof(c));
	r = scan_name(&sc, "user", /* last= */ false, c.user, err);
	if (r < 0)
		return r;
	sc.pos++;
	r = scan_name(&sc, "role", /* last= */ false, c.role, err);
	if (r < 0)
		return r;
	sc.pos++;
	r = scan_name(&sc, "type", /* last= */ true, c.type, err);
	if (r < 0)
		return r;
	if (scan_peek(&sc) == ':') {
		sc.pos++;
		r = scan_range(&sc, &c.range, err);
		if (r < 0)
			return r;
		c.has_range = true;
	}
	*ret = c;
	return 0;
}

int mcs_context_parse(const char *s, mcs_context *ret, mcs_error *err)
{
	return mcs_context_parse_n(s, bounded_len(s), ret, err);
}

int mcs_context_format(const mcs_context *c, char *buf, size_t size)
{
	size_t pos;
	int n = snprintf(buf, size, "%s:%s:%s%s", c->user, c->role, c->type,
			 c->has_range ? ":" : "");

	if (n < 0)
		return -EINVAL;
	pos = (size_t)n;
	if (c->has_range)
		pos = format_range(&c->range, buf, size, pos);
	return finish(buf, size, pos);
}

bool mcs_context_equal(const mcs_context *a, const mcs_context *b)
{
	if (strcmp(a->user, b->user) || strcmp(a->role, b->role) ||
	    strcmp(a->type, b->type) || a->has_range != b->has_range)
		return false;
	return !a->has_range || mcs_range_equal(&a->range, &b->range);
}

bool mcs_context_str_equal(const char *a, size_t alen, const char *b,
			   size_t blen)
{
	mcs_context ca, cb;

	if (alen > 0 && a[alen - 1] == '\0')
		alen--;
	if (blen > 0 && b[blen - 1] == '\0')
		blen--;
	if (alen == blen && memcmp(a, b, alen) == 0)
		return true;
	if (mcs_context_parse_n(a, alen, &ca, NULL) < 0 ||
	    mcs_context_parse_n(b, blen, &cb, NULL) < 0)
		return false;
	return mcs_context_equal(&ca, &cb);
}

/* ---- category pairs ---------------------------------------------------- */

int mcs_cat_range_parse(const char *s, mcs_cat_range *ret, mcs_error *err)
{
	size_t len = bounded_len(s);
	struct scan sc = {.s = s, .len = len};
	unsigned lo, hi;
	int r = check_input(s, len, "category range", err);

	if (r < 0)
		return r;
	r = scan_cat(&sc, &lo, err);
	if (r < 0)
		return r;
	if (scan_peek(&sc) != '.')
		return describe_unexpected(&sc, err,
					   "'.' (a range such as c0.c1023)");
	sc.pos++;
	r = scan_cat(&sc, &hi, err);
	if (r < 0)
		return r;
	if (sc.pos != sc.len)
		return mcs_error_set(err, -EINVAL,
				     "unexpected '%c' at column %zu",
				     sc.s[sc.pos], scan_col(&sc));
	if (hi <= lo)
		return mcs_error_set(err, -EINVAL,
				     "category range c%u.c%u must hold at "
				     "least two categories in ascending order",
				     lo, hi);
	ret->lo = (uint16_t)lo;
	ret->hi = (uint16_t)hi;
	return 0;
}

static uint64_t range_n(const mcs_cat_range *r)
{
	return (uint64_t)r->hi - r->lo + 1;
}

uint64_t mcs_pair_count(const mcs_cat_range *r)
{
	uint64_t n = range_n(r);

	return r->hi > r->lo ? n * (n - 1) / 2 : 0;
}

/* Index of the first pair whose low member is lo+a. */
static uint64_t pair_offset(uint64_t n, uint64_t a)
{
	return a * (2 * n - 1 - a) / 2;
}

int mcs_pair_from_index(const mcs_cat_range *r, uint64_t idx, unsigned *ret_x,
			unsigned *ret_y)
{
	uint64_t n = range_n(r), a;
	double disc;

	if (idx >= mcs_pair_count(r))
		return -ERANGE;
	/* largest a with pair_offset(a) <= idx: root of a quadratic */
	disc = (double)(2 * n - 1) * (double)(2 * n - 1) - 8.0 * (double)idx;
	a = (uint64_t)(((double)(2 * n - 1) - sqrt(disc)) / 2.0);
	if (a > n - 2)
		a = n - 2;
	while (a > 0 && pair_offset(n, a) > idx)
		a--;
	while (a + 1 <= n - 2 && pair_offset(n, a + 1) <= idx)
		a++;
	*ret_x = r->lo + (unsigned)a;
	*ret_y = r->lo + (unsigned)(a + 1 + (idx - pair_offset(n, a)));
	return 0;
}

int mcs_pair_to_index(const mcs_cat_range *r, unsigned x, unsigned y,
		      uint64_t *ret_idx)
{
	uint64_t n = range_n(r), a, b;

	if (x < r->lo || y > r->hi || x >= y)
		return -ERANGE;
	a = x - r->lo;
	b = y - r->lo;
	*ret_idx = pair_offset(n, a) + (b - a - 1);
	return 0;
}

int mcs_pair_from_level(const mcs_level *l, unsigned *ret_x, unsigned *ret_y,
			mcs_error *err)
{
	unsigned found[2], n = 0;

	if (l->sens != 0)
		return mcs_error_set(err, -EINVAL,
				     "level must have sensitivity s0, not "
				     "s%u",
				     l->sens);
	for (unsigned w = 0; w < WORDS; w++) {
		uint64_t bits = l->cats[w];

		while (bits) {
			unsigned k = w * 64 + (unsigned)__builtin_ctzll(bits);

			if (n < 2)
				found[n] = k;
			n++;
			bits &= bits - 1;
		}
	}
	if (n != 2)
		return mcs_error_set(err, -EINVAL,
				     "level must have exactly two categories, "
				     "not %u",
				     n);
	*ret_x = found[0];
	*ret_y = found[1];
	return 0;
}

void mcs_pair_to_level(unsigned x, unsigned y, mcs_level *ret)
{
	mcs_level_init(ret, 0);
	mcs_level_add_cat(ret, x);
	mcs_level_add_cat(ret, y);
}
