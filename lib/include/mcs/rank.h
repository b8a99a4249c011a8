/* SPDX-License-Identifier: MIT */
/*
 * mcs/rank.h - would a container run under another type?  `mcs-policy
 * try` and `rank` (lib/rank.c), on the loaded policy (mcs/policy.h).
 *
 * Breadth of a type: the number of distinct (class, permission, target
 * type) triples its allow rules grant it, unconditional rules plus the
 * conditional ones the current booleans enable, attributes expanded to
 * their types.  Constraints are not counted (MCS is relative to levels).
 * A narrower type allows less; the ranking orders by breadth.
 */
#ifndef MCS_RANK_H
#define MCS_RANK_H

#include <stddef.h>
#include <stdint.h>

#include <mcs/avc.h>
#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The attribute our container template gives every container type. */
#define MCS_CONTAINER_ATTRIBUTE "mcskit_container_domain"

/*
 * Every type carrying attribute attr (NULL: MCS_CONTAINER_ATTRIBUTE) in
 * the loaded policy, sorted by name, as a new NULL-terminated array of new
 * strings (mcs_rank_strv_free()).  Returns the count, -ENOENT (no policy
 * or no such attribute), -ENOMEM.
 */
MCS_EXPORT int mcs_rank_types_with(const char *attr, char ***ret,
				   mcs_error *err);
MCS_EXPORT void mcs_rank_strv_free(char **v);

/* Breadth of type (see above).  Returns 0, -ENOENT, -EINVAL, -ENOMEM. */
MCS_EXPORT int mcs_rank_breadth(const char *type, uint64_t *ret,
				mcs_error *err);

/* One access of a container that a type would deny. */
typedef struct mcs_try_denial {
	size_t index;	/* into the accesses given */
	char *scontext; /* as tried (the type substituted) */
	char *tcontext;
	char *verdict; /* "denied-te: ...", or the error for a context
			  the type cannot have */
} mcs_try_denial;

typedef struct mcs_try_result {
	char *type;
	uint64_t breadth;
	size_t accesses; /* distinct accesses tried */
	size_t ndenied;
	mcs_try_denial *denied;
} mcs_try_result;

/*
 * Try the container's accesses (the records with denied set, duplicates
 * counted once) under type: each record's source type becomes type, and
 * so does its target type when it was the source's (the domain acting on
 * itself).  Fills *ret (mcs_try_result_done()).  Returns 0, -ENOENT,
 * -EINVAL (type unknown), -ENOMEM.
 */
MCS_EXPORT int mcs_try_type(const mcs_avc *avcs, size_t n, const char *type,
			    mcs_try_result *ret, mcs_error *err);
MCS_EXPORT void mcs_try_result_done(mcs_try_result *r);

#ifdef __cplusplus
}
#endif
#endif
