/* SPDX-License-Identifier: MIT */
/*
 * registry.h - the durable registry of MCS levels that mcsd hands out
 * (private to mcsd and its tests: not part of libmcs).
 *
 * These are the rules; the truth is kept by a storage engine behind
 * store.h (sqlite by default: WAL, versioned schema, one row per held or
 * released pair and one row per owner, and an in-memory free set so that
 * an allocation is a uniform random pick over the free pairs at the same
 * cost whether the registry is empty or 99.9% full, with no retry loop).
 *
 * Levels are always canonical two-category s0 levels "s0:cX,cY" with
 * lo <= X < Y <= hi of the configured category range.  "s0:c1022,c1023"
 * (runtimes use it for privileged mounts) and configured excluded levels
 * are never handed out.  Released pairs still own files on disk: they sit
 * in a quarantine and are reused only when no never-used pair is left,
 * least recently released first.
 *
 * An owner (a container id) holds exactly one level.  A group (a pod)
 * shares one level among its members; the level is released when the last
 * member leaves.  A *lease* is bound to a process (pid + its start time)
 * and to the boot it was made in; a *reservation* survives both.
 *
 * Transactions: every call below is atomic on its own (one BEGIN IMMEDIATE
 * ... COMMIT).  Between mcsd_registry_begin() and mcsd_registry_commit() the
 * calls are grouped into ONE durable commit; each call stays atomic inside
 * the batch (a SAVEPOINT), so a failing call (e.g. -EEXIST) changes nothing
 * and does not undo the other calls of the batch.
 *
 * Threads: an mcsd_registry is not thread-safe; use it from one thread.
 * Errors: >= 0 or -errno; err (optional, last) gets a one-line message
 * naming the owner/level.
 */
#ifndef MCSD_REGISTRY_H
#define MCSD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mcs/error.h>
#include <mcs/label.h>

#include "entry.h"

typedef struct mcsd_registry mcsd_registry;

typedef struct mcsd_registry_config {
	/* Categories handed out; {0, 0} means the default c0.c1023. */
	mcs_cat_range range;
	/* Extra levels never handed out (besides s0:c1022,c1023), canonical
	 * or not; n_excluded entries.  Each must be a two-category s0
	 * level, else open fails with -EINVAL. */
	const char *const *excluded;
	size_t n_excluded;
	/* This host's id for its leases where many hosts share one store
	 * (PostgreSQL); NULL or "": /etc/machine-id.  Ignored by sqlite. */
	const char *host_id;
} mcsd_registry_config;

typedef struct mcsd_registry_request {
	const char *owner; /* required, an MCS_NAME_OWNER (mcs/names.h) */
	const char *group; /* optional (NULL or ""): pod sharing one level */
	const char *level; /* optional explicit level "s0:cX,cY" */
	const char *type;  /* optional process type, stored as given */
	mcsd_registry_kind kind;
	pid_t pid; /* lease: process it is bound to (0: the boot only) */
	uid_t uid; /* client's uid (from SO_PEERCRED) */
} mcsd_registry_request;

/*
 * Open (creating it if needed) the registry at path, a location of
 * store_open() ("sqlite:PATH", a path, ":memory:" for a private
 * in-memory one), run pending schema migrations in one
 * transaction, and build the in-memory free set.  cfg may be NULL
 * (defaults).  Does NOT reconcile: call mcsd_registry_reconcile().
 * On success *ret owns the registry; free with mcsd_registry_close().
 * Returns 0, -EINVAL (bad config), -EIO/-errno (sqlite), -ENOMEM.
 */
int mcsd_registry_open(const char *path, const mcsd_registry_config *cfg,
		       mcsd_registry **ret, mcs_error *err);

/* Close r (rolling back an open batch).  NULL is a no-op. */
void mcsd_registry_close(mcsd_registry *r);

/*
 * Give req->owner a level, or return the one it already holds
 * (idempotent).  With req->level: validated (two-category s0 level in the
 * range, not excluded) and taken if free or quarantined, or joined when it
 * is held by req->group.  With req->group: the group's level is joined
 * when the group exists, else a new level is allocated for the group.
 * *ret (may be NULL) receives the owner's row.
 * Returns 1 when a new row was created, 0 when owner already held a level,
 * -EINVAL (bad owner/group/level; level reserved or outside the range),
 * -EEXIST (level in use by another owner/group, or owner already holds a
 * different level/group), -ENOSPC ("exhausted": no free pair), -ESRCH
 * (a lease's pid does not exist), -EPERM (owner exists and belongs to
 * another uid than req->uid, which is not 0), -EIO.
 */
int mcsd_registry_allocate(mcsd_registry *r, const mcsd_registry_request *req,
			   mcsd_registry_entry *ret, mcs_error *err);

/*
 * Release owner's row.  uid 0 may release anything; another uid only rows
 * it created (-EPERM otherwise).  The pair goes to the quarantine when no
 * member of its group is left.  Returns 0, -ENOENT, -EPERM, -EIO.
 */
int mcsd_registry_release(mcsd_registry *r, const char *owner, uid_t uid,
			  mcs_error *err);

/*
 * The process owner's lease was bound to (pid) has exited: release the
 * lease if it is still bound to that pid (not released and allocated
 * again meanwhile).  Returns 1 when released, 0 when there was nothing
 * to release, or -errno.
 */
int mcsd_registry_end_lease(mcsd_registry *r, const char *owner, pid_t pid,
			    mcs_error *err);

/* Fill *ret with owner's row.  Returns 0, -ENOENT, -EIO. */
int mcsd_registry_lookup(mcsd_registry *r, const char *owner,
			 mcsd_registry_entry *ret, mcs_error *err);

/*
 * All owner rows, ordered by owner.  *ret_entries is a malloc'ed array of
 * *ret_n entries that the caller frees with free() (NULL when empty):
 * over 600 bytes a row, so a large registry is better read with
 * mcsd_registry_list_page().  Returns 0, -ENOMEM, -EIO.
 */
int mcsd_registry_list(mcsd_registry *r, mcsd_registry_entry **ret_entries,
		       size_t *ret_n, mcs_error *err);

/*
 * One page of owner rows: at most max of those whose owner sorts after
 * `after` (NULL or "": from the first), ordered by owner, into the
 * caller's entries[max]; *ret_n of them.  Fewer than max: the end.  The
 * work is bounded by max, so a caller pages through a large registry
 * without holding it (or memory) up: pass the last owner returned as the
 * next `after`.  Returns 0, -EINVAL, -EIO.
 */
int mcsd_registry_list_page(mcsd_registry *r, const char *after,
			    mcsd_registry_entry *entries, size_t max,
			    size_t *ret_n, mcs_error *err);

/*
 * One page of this host's leases (rows of kind lease: all of them for
 * sqlite, those made by this host for a store shared by many), at most
 * max whose owner sorts after `after` ("" or NULL: from the first),
 * ordered by owner; *ret_n of them.  Returns 0, -EINVAL, -errno.
 */
typedef struct mcsd_registry_lease {
	char owner[MCSD_REGISTRY_OWNER_MAX + 1];
	pid_t pid; /* 0 when bound to the boot only */
	uint64_t pid_start;
} mcsd_registry_lease;

int mcsd_registry_lease_page(mcsd_registry *r, const char *after,
			     mcsd_registry_lease *leases, size_t max,
			     size_t *ret_n, mcs_error *err);

/* Counts (the engine's: from memory for sqlite, a query for PostgreSQL).
 * Returns 0, or -errno when the engine cannot count (database down). */
int mcsd_registry_status(mcsd_registry *r, mcsd_registry_counts *ret);

/*
 * Release the leases of dead processes (pid gone, or its start time
 * differs: pid reuse) and of another boot (boot id differs from
 * /proc/sys/kernel/random/boot_id).  Reservations stay.  Call at start.
 * *ret_released (may be NULL) receives the number of rows released.
 * Returns 0 or -errno.
 */
int mcsd_registry_reconcile(mcsd_registry *r, size_t *ret_released,
			    mcs_error *err);

/*
 * Batching: begin opens one BEGIN IMMEDIATE transaction; calls made until
 * commit are made durable by one commit.  rollback undoes all of them
 * (and the in-memory free set with them).  -EBUSY when a batch is already
 * open (begin) or none is (commit/rollback).  A failed commit rolls back.
 */
int mcsd_registry_begin(mcsd_registry *r, mcs_error *err);
int mcsd_registry_commit(mcsd_registry *r, mcs_error *err);
int mcsd_registry_rollback(mcsd_registry *r, mcs_error *err);

/*
 * Split commit, for a server that overlaps the disk flush of one batch
 * with the execution of the next: commit_nowait commits the open batch
 * (visible to later calls, written to the WAL, not yet on disk); sync
 * makes every commit so far durable (one fdatasync of the WAL).  Nothing
 * committed with commit_nowait may be reported to anyone before a sync
 * that started after it returned 0.  sync only flushes a file descriptor
 * and may be called from another thread while this one runs the next
 * batch; everything else on r must stay in one thread at a time.
 * mcsd_registry_commit() is commit_nowait + sync.  Returns 0 or -errno
 * (sync: -EIO and the like; then the state on disk is unknown and the
 * caller should stop).
 */
int mcsd_registry_commit_nowait(mcsd_registry *r, mcs_error *err);
int mcsd_registry_sync(mcsd_registry *r, mcs_error *err);

/*
 * Checkpoints (copying the WAL into the database file) off the committing
 * thread.  By default a commit that finds the WAL long does the copy
 * itself, which stalls that commit for milliseconds.  After
 * checkpoint_elsewhere, commits leave it to mcsd_registry_checkpoint(),
 * which uses a connection of its own and may run in another thread while
 * this one commits; checkpoint_due says when it is time (a lock-free
 * read).  checkpoint returns the frames copied (>= 0) or -errno; it
 * restarts the WAL when it has caught up.  Should the WAL still grow
 * past 256 MiB, a commit restarts it itself.  Both 0 / false for a
 * database in memory.
 */
int mcsd_registry_checkpoint_elsewhere(mcsd_registry *r, mcs_error *err);
bool mcsd_registry_checkpoint_due(mcsd_registry *r);
int mcsd_registry_checkpoint(mcsd_registry *r, mcs_error *err);

#endif
