/* SPDX-License-Identifier: MIT */
/*
 * store_pg.h - mcsd's registry on PostgreSQL (or a PostgreSQL-compatible
 * distributed engine): one set of levels shared by the mcsd of many
 * hosts.  Same rules and return codes as mcs/registry.h (the sqlite
 * registry), with these differences:
 *
 *  - Reservations, owners and groups are global: the same owner gets the
 *    same level from every host.  A lease records the host (machine id,
 *    or the host id given at open) and the boot id; only that host's
 *    mcsd reconciles it (store_pg_reconcile).
 *  - Uniqueness of levels is enforced by the database (constraints and
 *    row locks; the schema in store_pg.c says how), never by trust
 *    between daemons.
 *  - Every call is one transaction, committed on the server (synchronous
 *    commit) before it returns >= 0: acknowledged means durable.
 *  - The database unreachable: calls fail with -ENOTCONN (mcsd answers
 *    StorageError; nothing falls back to local state).  The next call
 *    after the backoff (100 ms doubling to 5 s) reconnects.
 *  - The category range is the cluster's: the first mcsd to open the
 *    database fixes it; one configured with another range fails to open.
 *
 * Threads: a store_pg is one connection; use it from one thread.
 * Errors: >= 0 or -errno, err (optional) gets a one-line message.
 */
#ifndef MCSD_STORE_PG_H
#define MCSD_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <mcs/error.h>
#include "registry.h"

typedef struct store_pg store_pg;

/* True when s names a PostgreSQL database: a postgresql:// or
 * postgres:// URI, or a libpq conninfo ("host=... dbname=..."). */
bool store_pg_is_conninfo(const char *s);

/*
 * Connect to conninfo, create or migrate the schema (one transaction),
 * check the range against the cluster's and mark cfg's excluded levels.
 * host_id: this host's id for its leases (NULL or "": /etc/machine-id).
 * Returns 0, -EINVAL (bad config, other range), -ENOTCONN (unreachable),
 * -EPROTO (schema newer than this mcsd), -EIO, -ENOMEM.
 */
int store_pg_open(const char *conninfo, const mcs_registry_config *cfg,
		  const char *host_id, store_pg **ret, mcs_error *err);
void store_pg_close(store_pg *s);

/* As mcs_registry_allocate / _release / _lookup / _list_page. */
int store_pg_allocate(store_pg *s, const mcs_registry_request *req,
		      mcs_registry_entry *ret, mcs_error *err);
int store_pg_release(store_pg *s, const char *owner, uid_t uid, mcs_error *err);
int store_pg_lookup(store_pg *s, const char *owner, mcs_registry_entry *ret,
		    mcs_error *err);
int store_pg_list_page(store_pg *s, const char *after,
		       mcs_registry_entry *entries, size_t max, size_t *ret_n,
		       mcs_error *err);
/* Counts of the whole cluster (a read of 64 counter rows). */
int store_pg_status(store_pg *s, mcs_registry_counts *ret, mcs_error *err);
/* Release this host's leases of dead pids or of another boot. */
int store_pg_reconcile(store_pg *s, size_t *ret_released, mcs_error *err);

/*
 * Import one owner row as it is (level, kind, pid, boot, uid, created),
 * for `mcsd migrate`: inside the caller's transaction (store_pg_begin),
 * no retries.  Returns 0, -EEXIST (owner, level or group taken by
 * someone else in the cluster: err says who), -EINVAL, -errno.
 */
int store_pg_import(store_pg *s, const mcs_registry_entry *e,
		    const char *boot_id, mcs_error *err);
int store_pg_begin(store_pg *s, mcs_error *err);
int store_pg_commit(store_pg *s, mcs_error *err);
void store_pg_rollback(store_pg *s);

#endif
