/* SPDX-License-Identifier: MIT */
/*
 * mcs/label.h - SELinux security contexts, MLS/MCS levels and ranges, and
 * the category-pair arithmetic the label allocator is built on.
 *
 * Pure computation: nothing here does I/O or allocates, so every function
 * is safe to call from any thread.
 *
 * Syntax accepted (what libselinux writes):
 *   level    s<N>[:<cats>]          N in 0..15
 *   cats     <item>[,<item>...]     item: c<K> or c<K>.c<L> (K < L), K in
 * 0..1023 range    <level>[-<level>]      the high level must dominate the low
 * one context  user:role:type[:range] Numbers have no sign and no leading zero
 * ("c01" is rejected).  Input is limited to MCS_INPUT_MAX bytes and may not
 * contain a NUL byte.
 *
 * Output is canonical: categories ascending, runs of three or more written
 * as c<K>.c<L>, pairs as c<K>,c<K+1>; a range whose two levels are equal
 * is written as one level.  So "s0:c9,c5" and "s0:c5,c9" format the same.
 */
#ifndef MCS_LABEL_H
#define MCS_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCS_SENS_MAX  15   /* highest sensitivity: s15 */
#define MCS_CAT_MAX   1023 /* highest category: c1023 */
#define MCS_CAT_COUNT 1024 /* categories c0..c1023 */
#define MCS_INPUT_MAX 8192 /* longest context/level/range string accepted */
#define MCS_NAME_MAX  255  /* longest user, role or type name */

/* Buffer sizes that always hold a formatted value (with the NUL). */
#define MCS_LEVEL_STR_MAX   4096
#define MCS_RANGE_STR_MAX   (2 * MCS_LEVEL_STR_MAX)
#define MCS_CONTEXT_STR_MAX (MCS_RANGE_STR_MAX + 3 * (MCS_NAME_MAX + 1))

typedef struct mcs_level {
	uint8_t sens;			   /* sensitivity, 0..MCS_SENS_MAX */
	uint64_t cats[MCS_CAT_COUNT / 64]; /* bit k set: category c<k> */
} mcs_level;

typedef struct mcs_range {
	mcs_level low;	/* current / low level */
	mcs_level high; /* clearance; invariant: high dominates low */
} mcs_range;

typedef struct mcs_context {
	char user[MCS_NAME_MAX + 1];
	char role[MCS_NAME_MAX + 1];
	char type[MCS_NAME_MAX + 1];
	bool has_range;	 /* false for a context without the MLS field */
	mcs_range range; /* valid when has_range */
} mcs_context;

/* Relation of two levels, as the kernel's MLS constraints see them. */
typedef enum mcs_level_rel {
	MCS_LEVEL_EQUAL = 0,
	MCS_LEVEL_DOMINATES,	/* a dominates b and a != b */
	MCS_LEVEL_DOMINATED_BY, /* b dominates a and a != b */
	MCS_LEVEL_INCOMPARABLE,
} mcs_level_rel;

/* ---- levels ------------------------------------------------------------ */

/*
 * Parse a level from the NUL-terminated string s into *ret.
 * Returns 0, or -EINVAL (bad syntax, out-of-range number, duplicate
 * category; err says what and at which 1-based column) or -E2BIG (longer
 * than MCS_INPUT_MAX).  *ret is untouched on failure.
 */
MCS_EXPORT int mcs_level_parse(const char *s, mcs_level *ret, mcs_error *err);

/* Same for a counted buffer; a NUL byte inside len is an error. */
MCS_EXPORT int mcs_level_parse_n(const char *s, size_t len, mcs_level *ret,
				 mcs_error *err);

/*
 * Write the canonical form of l into buf (size bytes, NUL-terminated).
 * Returns the string length, or -ENOSPC when it does not fit (buf then
 * holds an empty string when size > 0).
 */
MCS_EXPORT int mcs_level_format(const mcs_level *l, char *buf, size_t size);

/* Parse s and write its canonical form into buf: the two above in one. */
MCS_EXPORT int mcs_level_canonicalize(const char *s, char *buf, size_t size,
				      mcs_error *err);

MCS_EXPORT void mcs_level_init(mcs_level *l, unsigned sens);
MCS_EXPORT bool mcs_level_has_cat(const mcs_level *l, unsigned cat);
MCS_EXPORT void mcs_level_add_cat(mcs_level *l,
				  unsigned cat); /* cat <= MCS_CAT_MAX */
MCS_EXPORT unsigned mcs_level_cat_count(const mcs_level *l);

MCS_EXPORT bool mcs_level_equal(const mcs_level *a, const mcs_level *b);
/* a dominates b: a.sens >= b.sens and a's categories include b's. */
MCS_EXPORT bool mcs_level_dominates(const mcs_level *a, const mcs_level *b);
MCS_EXPORT mcs_level_rel mcs_level_compare(const mcs_level *a,
					   const mcs_level *b);

/* ---- ranges ------------------------------------------------------------ */

/* Parse "low[-high]"; a single level gives low == high.  -EINVAL when
 * high does not dominate low. */
MCS_EXPORT int mcs_range_parse(const char *s, mcs_range *ret, mcs_error *err);
MCS_EXPORT int mcs_range_parse_n(const char *s, size_t len, mcs_range *ret,
				 mcs_error *err);
MCS_EXPORT int mcs_range_format(const mcs_range *r, char *buf, size_t size);
MCS_EXPORT bool mcs_range_equal(const mcs_range *a, const mcs_range *b);
/* l lies within r: r.high dominates l and l dominates r.low. */
MCS_EXPORT bool mcs_range_contains_level(const mcs_range *r,
					 const mcs_level *l);
/* inner lies within outer (both its ends do). */
MCS_EXPORT bool mcs_range_contains(const mcs_range *outer,
				   const mcs_range *inner);

/* ---- contexts ---------------------------------------------------------- */

/*
 * Parse "user:role:type[:range]".  Names are SELinux identifiers
 * (MCS_NAME_TYPE of mcs/names.h: a letter, then [A-Za-z0-9_.-]) up to
 * MCS_NAME_MAX bytes.  Returns 0, -EINVAL or -E2BIG as above.
 */
MCS_EXPORT int mcs_context_parse(const char *s, mcs_context *ret,
				 mcs_error *err);
MCS_EXPORT int mcs_context_parse_n(const char *s, size_t len, mcs_context *ret,
				   mcs_error *err);
MCS_EXPORT int mcs_context_format(const mcs_context *c, char *buf, size_t size);
MCS_EXPORT bool mcs_context_equal(const mcs_context *a, const mcs_context *b);

/*
 * Compare two raw context strings as stored in security.selinux xattrs:
 * a trailing NUL (chcon and libselinux store one, setfattr and go-selinux
 * do not) is ignored; then the strings are parsed and compared
 * semantically when both parse, else byte by byte.
 */
MCS_EXPORT bool mcs_context_str_equal(const char *a, size_t alen, const char *b,
				      size_t blen);

/* ---- category pairs ---------------------------------------------------- */

/*
 * The allocator hands out two-category levels s0:cX,cY with lo <= X < Y <=
 * hi.  Pairs are numbered 0 .. C(n,2)-1 (n = hi - lo + 1) in lexicographic
 * order of (X, Y): (lo,lo+1)=0, (lo,lo+2)=1, ... Both directions are O(1).
 */
typedef struct mcs_cat_range {
	uint16_t lo; /* lowest category */
	uint16_t hi; /* highest category, lo < hi <= MCS_CAT_MAX */
} mcs_cat_range;

/* Parse "c0.c1023" (also "c<lo>,c<hi>" is not accepted: a run only). */
MCS_EXPORT int mcs_cat_range_parse(const char *s, mcs_cat_range *ret,
				   mcs_error *err);
/* Number of pairs, C(hi-lo+1, 2). */
MCS_EXPORT uint64_t mcs_pair_count(const mcs_cat_range *r);
/* Index -> pair.  -ERANGE when idx >= mcs_pair_count(r). */
MCS_EXPORT int mcs_pair_from_index(const mcs_cat_range *r, uint64_t idx,
				   unsigned *ret_x, unsigned *ret_y);
/* Pair -> index.  -ERANGE unless lo <= x < y <= hi. */
MCS_EXPORT int mcs_pair_to_index(const mcs_cat_range *r, unsigned x, unsigned y,
				 uint64_t *ret_idx);
/*
 * Extract the pair from a level that must be s0 with exactly two
 * categories ("level must have exactly two categories").
 */
MCS_EXPORT int mcs_pair_from_level(const mcs_level *l, unsigned *ret_x,
				   unsigned *ret_y, mcs_error *err);
/* Build the level s0:cX,cY (x != y, both <= MCS_CAT_MAX). */
MCS_EXPORT void mcs_pair_to_level(unsigned x, unsigned y, mcs_level *ret);

#ifdef __cplusplus
}
#endif
#endif
