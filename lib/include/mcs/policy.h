/* SPDX-License-Identifier: MIT */
/*
 * mcs/policy.h - offline access decisions on a binary SELinux policy.
 *
 * libsepol keeps its decision state (one policydb and sidtab) in globals;
 * lib/policy.c is the only file that touches them, serialises every call
 * with a mutex and keeps one loaded policy per process.  Nothing here
 * needs an SELinux kernel.
 *
 * lib/policytest.c parses expectation tables for `mcs-policy test`.
 */
#ifndef MCS_POLICY_H
#define MCS_POLICY_H

#include <stddef.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest class, permission or type name accepted. */
#define MCS_POLICY_NAME_MAX 255
/* Most permissions in one check. */
#define MCS_POLICY_PERMS_MAX 32

typedef enum mcs_verdict {
	MCS_VERDICT_ALLOWED = 0,
	MCS_VERDICT_DENIED_TE,	       /* no allow rule for some permission */
	MCS_VERDICT_DENIED_CONSTRAINT, /* an allow rule, but a constraint fails
					*/
	MCS_VERDICT_DENIED_OTHER,      /* RBAC or type bounds */
	/*
	 * Expectations only (tables, as a kernel reports them): any denial,
	 * and a context the policy rejects (the check is an error).
	 */
	MCS_VERDICT_DENIED,
	MCS_VERDICT_INVALID,
} mcs_verdict;

typedef struct mcs_policy_result {
	mcs_verdict verdict;
	/*
	 * Why, for a denial: "no allow rule for: name_connect" and/or the
	 * failed constraint expressions as libsepol writes them.  NULL when
	 * allowed.  Owned by the result: release with
	 * mcs_policy_result_done().
	 */
	char *reason;
} mcs_policy_result;

/*
 * The policy used when none is named: path_hint when it names an existing
 * file (a caller passes its build tree's policy.33), else the host's
 * highest-version /etc/selinux/<type>/policy/policy.N.  Writes the path to
 * buf.  Returns its length, -ENOENT when none exists, -ENOSPC.
 */
MCS_EXPORT int mcs_policy_default_path(const char *path_hint, char *buf,
				       size_t size, mcs_error *err);

/*
 * Load the binary policy at path as the process-wide policy, replacing
 * one loaded before.  Returns 0, -errno when the file cannot be read,
 * -EINVAL when libsepol rejects it.
 */
MCS_EXPORT int mcs_policy_load(const char *path, mcs_error *err);

/*
 * Decide whether scontext may do perms (nperms names, 1 ..
 * MCS_POLICY_PERMS_MAX) on tcontext of class tclass, under the loaded
 * policy.  Fills *ret (release with mcs_policy_result_done()).  Returns 0
 * (whatever the verdict), -ENOENT (no policy loaded), -EINVAL (a context
 * that does not parse or is not valid in the policy, an unknown class or
 * a permission the class does not have: err names it), -ENOMEM.
 */
MCS_EXPORT int mcs_policy_check(const char *scontext, const char *tcontext,
				const char *tclass, const char *const *perms,
				size_t nperms, mcs_policy_result *ret,
				mcs_error *err);

/* Free ret->reason and reset *ret to allowed/NULL. */
MCS_EXPORT void mcs_policy_result_done(mcs_policy_result *ret);

/*
 * The canonical form of context in the loaded policy, as the kernel
 * writes it back (categories sorted, runs as cN.cM, "s0-s0" as "s0"),
 * in a new string *ret (free()).  Accepts what libsepol's parser (the
 * kernel's rules) accepts.  Returns 0, -ENOENT (no policy), -EINVAL (not
 * valid in the policy), -ENOMEM.
 */
MCS_EXPORT int mcs_policy_canonical_context(const char *context, char **ret,
					    mcs_error *err);

/* "allowed", "denied-te", "denied-constraint", "denied-other",
 * "denied", "invalid". */
MCS_EXPORT const char *mcs_verdict_name(mcs_verdict v);
/* Inverse of mcs_verdict_name(): 0 or -EINVAL. */
MCS_EXPORT int mcs_verdict_from_name(const char *name, mcs_verdict *ret);

/*
 * The type of a port in the loaded policy's portcon (the default port
 * type when no rule names it).  proto is "tcp", "udp", "sctp" or "dccp";
 * port 0..65535.  Writes the type name to buf.  Returns its length,
 * -ENOENT (no policy), -EINVAL (bad protocol), -ENOSPC.
 */
MCS_EXPORT int mcs_policy_port_type(const char *proto, unsigned port, char *buf,
				    size_t size, mcs_error *err);

/* ---- expectation tables (lib/policytest.c) ----------------------------- */

/*
 * One row: whitespace-separated fields
 *   SCONTEXT TCONTEXT CLASS PERM[,PERM...] EXPECTED [# comment]
 * EXPECTED is a verdict name.  Blank lines and lines starting with '#'
 * are skipped.  The strings point into the row's own storage.
 */
typedef struct mcs_policytest_row {
	unsigned lineno;
	char *scontext, *tcontext, *tclass;
	const char *perms[MCS_POLICY_PERMS_MAX];
	size_t nperms;
	mcs_verdict expected;
	char *comment; /* text after '#', trimmed; "" when none */
	char *storage; /* owns the strings above */
} mcs_policytest_row;

/*
 * Parse the table at path into a new array *ret_rows of *ret_n rows
 * (release with mcs_policytest_free()).  Returns 0, -errno when the file
 * cannot be read, -EINVAL on a malformed line (err gives path:line).
 */
MCS_EXPORT int mcs_policytest_parse(const char *path,
				    mcs_policytest_row **ret_rows,
				    size_t *ret_n, mcs_error *err);
MCS_EXPORT void mcs_policytest_free(mcs_policytest_row *rows, size_t n);

#ifdef __cplusplus
}
#endif
#endif
