/* SPDX-License-Identifier: MIT */
/*
 * store.h - the registry's storage engine behind a narrow table of
 * operations.  The rules (registry.c: validation, owners and uids,
 * groups, leases, reconcile) speak only this interface and never see SQL;
 * each engine (store_sqlite.c, store_pg.c) owns its schema and
 * migrations, statements, transactions, durability, maintenance and the
 * mapping of its own error codes.  store.c picks the engine from the
 * registry's location.  docs/registry.md says the same at more length.
 *
 * Pairs are named by their KEY, 1024 * x + y for the level s0:cx,cy
 * (x < y): independent of the configured range, the same on every host.
 * A pair is free (never used: no row), held (by one owner alone, or by a
 * group shared by its members) or released (quarantined, reused least
 * recently released first when no free pair is left).
 *
 * Transactions are the caller's (the rules'): begin ... commit/rollback
 * around every change; inside one, savepoint/savepoint_end make one call
 * of a batch atomic on its own.  An engine may fail any operation of a
 * transaction, and commit, with -EAGAIN (serialization failure, deadlock,
 * lost connection before the commit was sent): then the whole
 * transaction is already rolled back and the caller may run it again
 * from begin; nothing of it was applied.  -EAGAIN is never returned by a
 * call outside a transaction.
 *
 * Durability: a commit that returned 0 is visible to later transactions;
 * it is durable (and may be reported to a client) only after a sync that
 * started after the commit returned 0.  An engine whose commit is already
 * durable (a network database) makes sync a no-op.
 *
 * Threads: a store is used by one thread at a time, except sync and the
 * optional checkpoint operations, which may run in one other thread
 * while the owning thread runs a transaction.
 *
 * Errors: >= 0 or -errno, err (may be NULL) gets a one-line message:
 * -ENOENT (no such row), -EEXIST (uniqueness: pair held, owner exists),
 * -ENOSPC (no free pair, or the disk is full), -EAGAIN (see above),
 * -EBUSY (locked by another process beyond the wait), -ENOMEM, -EPROTO
 * (schema newer than this build), -EACCES (cannot open), -EIO (anything
 * else: the state of the store is then unknown).
 */
#ifndef MCSD_STORE_H
#define MCSD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mcs/error.h>
#include <mcs/label.h>

#include "entry.h"

/* The key of a pair: 1024 * x + y, x < y <= MCS_CAT_MAX. */
typedef int64_t store_key;
#define STORE_KEY(x, y) ((store_key)(x) << 10 | (store_key)(y))
#define STORE_KEY_X(k)	((unsigned)((k) >> 10))
#define STORE_KEY_Y(k)	((unsigned)((k)&1023))
/* pair_claim: let the engine choose the pair. */
#define STORE_KEY_ANY ((store_key)-1)

#define STORE_BOOT_ID_MAX 37 /* 36 chars + NUL */

/* What the rules tell an engine at open. */
typedef struct store_config {
	/* Pairs the engine hands out on pair_claim(STORE_KEY_ANY): every
	 * pair of range but the excluded keys (these include the reserved
	 * s0:c1022,c1023 when it is in range).  Counts are of this range. */
	mcs_cat_range range;
	const store_key *excluded;
	size_t n_excluded;
	/* This host's id for the leases it makes (engines shared by many
	 * hosts record it and return only this host's leases from
	 * lease_page); NULL or "": the engine's default (machine id). */
	const char *host_id;
} store_config;

/* One owner's row as stored. */
typedef struct store_owner {
	mcsd_registry_entry entry; /* level: derived from key by the engine */
	store_key key;
	char boot_id[STORE_BOOT_ID_MAX]; /* boot of a lease, "" when none */
} store_owner;

/* A lease as reconcile needs it. */
typedef struct store_lease {
	char owner[MCSD_REGISTRY_OWNER_MAX + 1];
	pid_t pid;
	uint64_t pid_start;
	char boot_id[STORE_BOOT_ID_MAX];
} store_lease;

typedef struct store store;

struct store_ops {
	const char *name; /* "sqlite", "postgresql" */
	/* Shared by many daemons (a network database): the rules run every
	 * call in a transaction of its own, rerun on -EAGAIN, also inside a
	 * batch (mcsd_registry_begin() then only marks one); commits are
	 * durable when they return.  Savepoints are then never used. */
	bool per_call;

	/* location: what follows the scheme (a path for sqlite, the whole
	 * URI for postgresql).  Creates and migrates the schema in one
	 * transaction.  *ret owns the store; close with close(). */
	int (*open)(const char *location, const store_config *cfg, store **ret,
		    mcs_error *err);
	/* Rolls back an open transaction.  Never NULL store. */
	void (*close)(store *s);

	/* ---- transactions (see the top) ------------------------------ */
	/* -EBUSY if one is open already (a caller bug). */
	int (*begin)(store *s, mcs_error *err);
	/* Commit the open transaction; on failure it is rolled back. */
	int (*commit)(store *s, mcs_error *err);
	int (*rollback)(store *s, mcs_error *err);
	/* Every commit so far durable (see the top; any thread). */
	int (*sync)(store *s, mcs_error *err);
	/* One call inside a transaction: savepoint, then savepoint_end
	 * with keep (release it) or !keep (undo the call's changes). */
	int (*savepoint)(store *s, mcs_error *err);
	int (*savepoint_end)(store *s, bool keep, mcs_error *err);

	/* ---- rows (inside a transaction, or alone to read) ----------- */
	/* owner's row: 0 or -ENOENT (err names the owner). */
	int (*owner_get)(store *s, const char *owner, store_owner *ret,
			 mcs_error *err);
	/* Insert row (entry.level is ignored: row->key says the pair,
	 * which must be held by row's group, or by row's owner when it has
	 * no group).  -EEXIST when the owner exists or the pair is not so
	 * held. */
	int (*owner_insert)(store *s, const store_owner *row, mcs_error *err);
	/* 0 or -ENOENT. */
	int (*owner_delete)(store *s, const char *owner, mcs_error *err);
	/* Owners of group into *ret_n. */
	int (*group_count)(store *s, const char *group, uint64_t *ret_n,
			   mcs_error *err);
	/* The pair held by group: 1 with *ret_key, 0 when none. */
	int (*group_pair)(store *s, const char *group, store_key *ret_key,
			  mcs_error *err);
	/* The uid of group's members other than root (a group belongs to
	 * its creator's uid): 1 with *ret_uid, 0 when it has none.  May be
	 * NULL: then only root may join an existing group. */
	int (*group_uid)(store *s, const char *group, uid_t *ret_uid,
			 mcs_error *err);
	/* Who holds key: 0 with owner (alone) or group ("" for the other),
	 * -ENOENT when it is not held. */
	int (*pair_holder)(store *s, store_key key,
			   char owner[MCSD_REGISTRY_OWNER_MAX + 1],
			   char group[MCSD_REGISTRY_OWNER_MAX + 1],
			   mcs_error *err);
	/*
	 * Make a pair held by group, or by owner alone when group is NULL.
	 * want = STORE_KEY_ANY: the engine chooses, uniformly at random
	 * among the free pairs of the configured range, else the least
	 * recently released one; -ENOSPC when none is left.  Otherwise want
	 * itself, if free or released (-EEXIST when held; the rules check
	 * range and exclusion first).  The key taken into *ret_key.
	 */
	int (*pair_claim)(store *s, store_key want, const char *owner,
			  const char *group, store_key *ret_key,
			  mcs_error *err);
	/* Held key -> released (the most recently released). */
	int (*pair_release)(store *s, store_key key, mcs_error *err);

	/* At most max owner rows whose owner sorts (bytewise) after `after`
	 * ("" for the first), ordered by owner; *ret_n of them.  The work
	 * is bounded by max. */
	int (*list_page)(store *s, const char *after,
			 mcsd_registry_entry *entries, size_t max,
			 size_t *ret_n, mcs_error *err);
	/* The same for leases (rows of kind lease) that reconcile checks. */
	int (*lease_page)(store *s, const char *after, store_lease *leases,
			  size_t max, size_t *ret_n, mcs_error *err);
	/* Counts over the configured range (total, used, free, ...). */
	int (*counts)(store *s, mcsd_registry_counts *ret, mcs_error *err);

	/* ---- optional maintenance (NULL when the engine has none) ---- */
	/* Leave checkpoints to checkpoint(), run in another thread. */
	int (*checkpoint_elsewhere)(store *s, mcs_error *err);
	bool (*checkpoint_due)(store *s); /* lock-free */
	int (*checkpoint)(store *s, mcs_error *err);
};

/* Every engine's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

/* The engines built in. */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/*
 * Open the store at uri: "sqlite:PATH", "postgresql://..." /
 * "postgres://..." (the whole URI goes to libpq), "pg:CONNINFO" (a libpq
 * conninfo such as "pg:host=/run/postgresql dbname=mcs"), or a bare PATH
 * (sqlite; ":memory:" for a private in-memory one).  -EPROTONOSUPPORT
 * for an unknown scheme.
 */
int store_open(const char *uri, const store_config *cfg, store **ret,
	       mcs_error *err);

static inline void store_close(store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
