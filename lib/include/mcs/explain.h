/* SPDX-License-Identifier: MIT */
/*
 * mcs/explain.h - why the loaded policy (mcs/policy.h) decides an access
 * the way it does: `mcs-policy why`.  lib/explain.c decides, lib/ifindex.c
 * finds the refpolicy interface that would grant a missing permission.
 */
#ifndef MCS_EXPLAIN_H
#define MCS_EXPLAIN_H

#include <stddef.h>

#include <mcs/avc.h>
#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcs_why_kind {
	MCS_WHY_ALLOWED = 0, /* the policy allows every requested permission */
	MCS_WHY_TE,	     /* no allow rule at all */
	MCS_WHY_BOOLEAN,     /* only a conditional rule, switched off */
	MCS_WHY_CONSTRAINT,  /* allowed by TE, removed by an MLS/MCS constraint
			      */
	MCS_WHY_OTHER,	     /* RBAC or type bounds */
} mcs_why_kind;

/*
 * The explanation of one access.  Every string is owned (release with
 * mcs_why_done()) and NULL when it does not apply; permission lists are
 * blank-separated names.
 */
typedef struct mcs_why {
	mcs_why_kind kind; /* the first that applies, in the enum's order */
	char *scontext, *tcontext; /* canonical (the kernel's) form */
	char *te_perms;		   /* no allow rule for these */
	char *allow_rule;      /* "allow S T:C { perms };" granting te_perms */
	char *interface;       /* "files_read_etc_files(S)" covering them */
	char *bool_perms;      /* allowed only by a disabled conditional rule */
	char *booleans;	       /* "NAME=off (on allows it)" or an expression */
	char *cons_perms;      /* removed by a constraint */
	char *constraints;     /* the failing constraints covering cons_perms */
	char *other_perms;     /* RBAC / type bounds */
	char *dontaudit_perms; /* denied and silenced by a dontaudit rule */
} mcs_why;

/* The refpolicy interfaces index (sepolgen's interface_info). */
typedef struct mcs_ifindex mcs_ifindex;

/*
 * Read sepolgen-ifgen's interface_info file (regular file, <= 64 MiB)
 * into a new index *ret (mcs_ifindex_free()).  Only interfaces taking one
 * argument (the domain) are indexed.  Returns 0, -errno, -EINVAL.
 */
MCS_EXPORT int mcs_ifindex_load(const char *path, mcs_ifindex **ret,
				mcs_error *err);
MCS_EXPORT void mcs_ifindex_free(mcs_ifindex *idx);

/*
 * The narrowest interface (fewest permissions granted in all) giving its
 * argument every permission in perms (blank-separated) on ttype:tclass; NULL
 * when none does.  The string points into idx.
 */
MCS_EXPORT const char *mcs_ifindex_find(const mcs_ifindex *idx,
					const char *ttype, const char *tclass,
					const char *perms);

/*
 * Explain avc against the loaded policy; idx (may be NULL) names the
 * interface for missing allow rules.  Returns 0 and fills *ret (release
 * with mcs_why_done()), -ENOENT (no policy), -EINVAL (a context, class or
 * permission the policy does not know: err says which), -ENOMEM.
 */
MCS_EXPORT int mcs_why_explain(const mcs_avc *avc, const mcs_ifindex *idx,
			       mcs_why *ret, mcs_error *err);
MCS_EXPORT void mcs_why_done(mcs_why *why);

/* "allowed", "te", "boolean", "constraint", "other". */
MCS_EXPORT const char *mcs_why_kind_name(mcs_why_kind kind);

#ifdef __cplusplus
}
#endif
#endif
