/* SPDX-License-Identifier: MIT */
/*
 * policy_int.h - what lib/policy.c shares with the other policy readers
 * (explain.c, rank.c) inside libmcs: the lock around libsepol's global
 * state, a raw access decision, and a read-only view of the loaded
 * policydb.  Every *_locked function must be called with policy_lock held
 * (policy_lock_acquire()/policy_lock_release()).
 */
#ifndef MCS_POLICY_INT_H
#define MCS_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sepol/policydb/policydb.h>

#include <mcs/error.h>

/* Longest context string handed to libsepol. */
#define POLICY_CONTEXT_MAX 4096

/* One decision as libsepol computes it. */
typedef struct policy_av {
	uint16_t cls;	    /* class value */
	uint32_t requested; /* the permissions asked for */
	uint32_t allowed;   /* allowed after TE, booleans, constraints */
	uint32_t auditdeny; /* bits clear: a dontaudit rule silences them */
	unsigned reason;    /* SEPOL_COMPUTEAV_* of the denial */
	/* failed constraints covering a denied requested permission, one
	 * line, "; " between them; NULL when none (owned) */
	char *constraints;
} policy_av;

void policy_lock_acquire(void);
void policy_lock_release(void);

/* The loaded policy (a read-only view), NULL when none. */
const policydb_t *policy_db_locked(void);

/*
 * Decide scontext -> tcontext:tclass perms.  Returns 0, -ENOENT (no
 * policy), -EINVAL (bad context, class or permission; err says which).
 * Release ret with policy_av_done().
 */
int policy_av_locked(const char *scontext, const char *tcontext,
		     const char *tclass, const char *const *perms,
		     size_t nperms, policy_av *ret, mcs_error *err);
void policy_av_done(policy_av *av);

/* "read write" for the bits of av in class cls; NULL on ENOMEM. */
char *policy_perm_names_locked(uint16_t cls, uint32_t av);

/* The canonical form of context con in a new string (kernel's form). */
int policy_canonical_locked(const char *what, const char *con, char **ret,
			    mcs_error *err);

/* Value (1-based) of type or attribute name, 0 when unknown. */
uint32_t policy_type_value_locked(const char *name);

#endif
