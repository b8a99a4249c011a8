/* SPDX-License-Identifier: MIT */
/*
 * store_pg.c - the registry's PostgreSQL engine behind store.h (libpq;
 * only mcsd links it): one set of levels shared by the mcsd of many
 * hosts.  It owns the schema and its migrations, the SQL of every store
 * operation, transactions and the mapping of SQLSTATEs to -errno, the
 * connection and its reconnect backoff, and which leases are this
 * host's.  The rules stay in registry.c.
 *
 * Why a level can never be handed out twice (the database enforces it,
 * whatever the daemons do):
 *  - mcs_pairs has one row per pair of the range (PRIMARY KEY pair); a
 *    held pair names its one holder in the row: "o:<owner>" for an owner
 *    alone, "g:<group>" for a group (CHECK: held <=> holder set;
 *    UNIQUE (holder): a holder has one pair);
 *  - every owner row carries (pair, holder) with a FOREIGN KEY to
 *    mcs_pairs (pair, holder) and a CHECK that holder is "o:" || owner
 *    or "g:" || its group: an owner row can exist only while its pair is
 *    held by it or by its group, so two owners outside one group can
 *    never share a pair, and a pair cannot be released while a member is
 *    left (the FK refuses the UPDATE);
 *  - pair_claim takes a pair with one UPDATE that changes it from 'free'
 *    (or 'released') to 'held' on a row locked by SELECT ... FOR UPDATE
 *    SKIP LOCKED (a row no one else has locked; the UPDATE re-checks the
 *    state).  A concurrent transaction that meets the same row waits for
 *    ours and then sees it held.
 *  Uniform and O(log n) at any fill level: each never-used pair has a
 *  random key `pick` drawn by the server when the range was created;
 *  pair_claim takes the free pair with the lowest pick through a partial
 *  index of free pairs (a random permutation of the range, unknown to
 *  clients), skipping rows other transactions hold locked - no retry loop
 *  that grows as the registry fills.  Released pairs are reused least
 *  recently released first (mcs_release_seq) once no never-used pair is
 *  left, as the sqlite engine does.
 *
 * Transactions: READ COMMITTED on PostgreSQL (SERIALIZABLE on
 * CockroachDB).  The engine is per_call: the rules give each call a
 * transaction of its own.  Commits are asynchronous (synchronous_commit
 * = off: visible at once, not yet flushed); sync makes every commit so
 * far durable with one synchronous commit on its own connection (see
 * pg_sync), once per batch of the server, which answers no call of the
 * batch before that: an acknowledged call is durable on the server (and
 * on its synchronous standbys, when configured).  Races between hosts surface
 * as a serialization failure (40001), a deadlock (40P01), a unique or foreign
 * key violation (23505, 23503: two hosts creating the same owner or group, a
 * member joining a group as its last member leaves) or a lost connection before
 * COMMIT: the transaction is rolled back and the operation returns -EAGAIN, and
 * the rules run the call again from begin.  Those retries depend on contention
 * on one owner or group, never on how full the registry is.
 *
 * The database unreachable: begin and every read fail with -ENOTCONN
 * (mcsd answers StorageError; nothing falls back to local state); the
 * first call after the backoff (100 ms doubling to 5 s) reconnects.
 *
 * SQL dialect: only what CockroachDB and YugabyteDB accept too (no
 * PL/pgSQL, no triggers, no advisory locks, no ON CONFLICT): tables,
 * partial indexes, composite foreign keys, CHECK, a sequence,
 * generate_series, SELECT ... FOR UPDATE SKIP LOCKED.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <postgresql/libpq-fe.h>

#include "store.h"

#include "util.h"

/* Attempts of open (schema creation races with other hosts). */
#define PG_OPEN_ATTEMPTS 16
/* Reconnect backoff: first wait and cap, in milliseconds. */
#define PG_BACKOFF_MIN 100
#define PG_BACKOFF_MAX 5000
/* Rows of mcs_counts: each transaction's changes update one at random
 * (pg_count), so concurrent calls on many hosts rarely wait for each
 * other on a counter. */
#define PG_SHARDS 64

/*
 * Ordered migrations: migration[i] takes the schema from version i to
 * i + 1.  %1$u and %2$u are the lowest and highest category of the range
 * (fixed by the first mcsd that creates the registry).
 */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE mcs_meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");"
	"CREATE TABLE mcs_pairs ("
	/* 1024 * x + y for s0:cX,cY, x < y */
	"  pair INT8 PRIMARY KEY CHECK (pair >= 0 AND pair < 1048576"
	"    AND pair % 1024 > pair / 1024),"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('free', 'held', 'released', 'excluded')),"
	"  pick INT8 NOT NULL," /* random order of never-used pairs */
	"  holder TEXT,"	/* 'o:' || owner or 'g:' || group */
	"  release_seq INT8,"	/* LRU order of released pairs */
	"  released_at INT8,"
	"  CONSTRAINT held_has_holder"
	"    CHECK ((state = 'held') = (holder IS NOT NULL)),"
	"  CONSTRAINT released_has_seq"
	"    CHECK ((state = 'released') = (release_seq IS NOT NULL)),"
	"  CONSTRAINT one_pair_per_holder UNIQUE (holder),"
	"  CONSTRAINT pair_holder UNIQUE (pair, holder)"
	");"
	"CREATE INDEX mcs_pairs_free ON mcs_pairs (pick) WHERE state = 'free';"
	"CREATE INDEX mcs_pairs_released ON mcs_pairs (release_seq)"
	"  WHERE state = 'released';"
	"CREATE TABLE mcs_owners ("
	"  owner TEXT PRIMARY KEY,"
	"  pair INT8 NOT NULL,"
	"  holder TEXT NOT NULL,"
	"  group_name TEXT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('lease', 'reservation')),"
	"  host TEXT," /* a lease's host: machine id or --host-id */
	"  boot_id TEXT,"
	"  pid INT8 NOT NULL DEFAULT 0,"
	"  pid_start INT8 NOT NULL DEFAULT 0,"
	"  uid INT8 NOT NULL,"
	"  type TEXT,"
	"  created INT8 NOT NULL,"
	"  CONSTRAINT holder_is_owner_or_group CHECK (holder = CASE"
	"    WHEN group_name IS NULL THEN 'o:' || owner"
	"    ELSE 'g:' || group_name END),"
	"  CONSTRAINT lease_has_host CHECK (kind = 'reservation'"
	"    OR (host IS NOT NULL AND boot_id IS NOT NULL)),"
	"  CONSTRAINT owner_holds_pair FOREIGN KEY (pair, holder)"
	"    REFERENCES mcs_pairs (pair, holder)"
	");"
	"CREATE INDEX mcs_owners_group ON mcs_owners (group_name)"
	"  WHERE group_name IS NOT NULL;"
	"CREATE INDEX mcs_owners_leases ON mcs_owners (host, owner)"
	"  WHERE kind = 'lease';"
	"CREATE TABLE mcs_counts ("
	"  shard INT8 PRIMARY KEY,"
	"  held INT8 NOT NULL DEFAULT 0,"
	"  released INT8 NOT NULL DEFAULT 0,"
	"  excluded INT8 NOT NULL DEFAULT 0,"
	"  owners INT8 NOT NULL DEFAULT 0"
	");"
	"CREATE SEQUENCE mcs_release_seq;"
	/* one row per host: its sync writes there (see pg_sync) */
	"CREATE TABLE mcs_hosts ("
	"  host TEXT PRIMARY KEY,"
	"  seen INT8 NOT NULL"
	");"
	"INSERT INTO mcs_counts (shard)"
	"  SELECT s FROM generate_series(0, 63) AS s;"
	"INSERT INTO mcs_meta (key, value) VALUES ('range', 'c%1$u.c%2$u');"
	"INSERT INTO mcs_pairs (pair, state, pick)"
	"  SELECT x * 1024 + y, 'free',"
	"    CAST(random() * CAST(4611686018427387904 AS FLOAT8) AS INT8)"
	"  FROM generate_series(%1$u, %2$u) AS x,"
	"    generate_series(%1$u, %2$u) AS y"
	"  WHERE x < y;",
};

typedef struct pg_store {
	struct store base;
	PGconn *conn;	/* NULL while disconnected */
	char *conninfo; /* as given */
	mcs_cat_range range;
	store_key *excluded; /* never handed out */
	size_t n_excluded;
	char host[256];	     /* this host's id for its leases */
	int64_t next_try_ms; /* no connection attempt before (monotonic) */
	int backoff_ms;
	char last_error[256]; /* why the connection is down */
	bool in_tx;	      /* between begin and commit/rollback */
	/* counter changes of the open transaction (held, released,
	 * excluded, owners), written once just before its COMMIT */
	int pending[4];
	unsigned seed;	/* counter shards */
	atomic_bool up; /* conn is connected (read by sync) */
	/* sync's own connection, used only by the thread that syncs */
	PGconn *sync_conn;
} pg_store;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void PQclearp(PGresult **r)
{
	PQclear(*r);
}
#define _cleanup_res_ _cleanup_(PQclearp)

/* ---- connection -------------------------------------------------------- */

/* Drop the connection.  The next call may reconnect at once when it was
 * a working connection that broke (a restarted server); after a failed
 * attempt to connect it waits for the backoff, doubled each time. */
static void pg_drop(pg_store *q, const char *why)
{
	bool was_up = atomic_load(&q->up);

	snprintf(q->last_error, sizeof(q->last_error), "%s",
		 why && *why ? why : "connection lost");
	q->last_error[strcspn(q->last_error, "\n")] = '\0';
	PQfinish(q->conn);
	q->conn = NULL;
	atomic_store(&q->up, false);
	q->in_tx = false; /* the server rolls it back */
	if (was_up) {
		q->next_try_ms = 0;
		return;
	}
	q->next_try_ms = now_ms() + q->backoff_ms;
	q->backoff_ms = q->backoff_ms * 2 > PG_BACKOFF_MAX ? PG_BACKOFF_MAX
							   : q->backoff_ms * 2;
}

static void pg_notice(void *arg, const char *msg)
{
	/* the server's notices ("relation exists, skipping") are not ours
	 * to print; errors come back through results */
	(void)arg;
	(void)msg;
}

/* A usable connection, or -ENOTCONN (fail closed) while in backoff. */
static int pg_ready(pg_store *q, mcs_error *err)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
					   "application_name", NULL};
	const char *vals[] = {q->conninfo, "5", "mcsd", NULL};
	PGresult *r;

	if (q->conn && PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	if (q->conn)
		pg_drop(q, PQerrorMessage(q->conn));
	if (now_ms() < q->next_try_ms)
		return mcs_error_set(err, -ENOTCONN,
				     "registry database unreachable (next "
				     "attempt in %" PRId64 " ms): %s",
				     q->next_try_ms - now_ms(), q->last_error);
	q->conn = PQconnectdbParams(keys, vals, /* expand_dbname= */ 1);
	if (!q->conn)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (PQstatus(q->conn) != CONNECTION_OK) {
		pg_drop(q, PQerrorMessage(q->conn));
		return mcs_error_set(err, -ENOTCONN,
				     "registry database unreachable: %s",
				     q->last_error);
	}
	PQsetNoticeProcessor(q->conn, pg_notice, NULL);
	/* commits are visible at once and made durable by the next sync
	 * (pg_sync); an engine that refuses the setting (CockroachDB) is
	 * durable at every commit anyway */
	r = PQexec(q->conn, "SET synchronous_commit = off");
	PQclear(r);
	if (PQstatus(q->conn) != CONNECTION_OK) {
		pg_drop(q, PQerrorMessage(q->conn));
		return mcs_error_set(err, -ENOTCONN, "registry database: %s",
				     q->last_error);
	}
	q->backoff_ms = PG_BACKOFF_MIN;
	atomic_store(&q->up, true);
	return 0;
}

/*
 * The -errno of a failed statement, err set.  Inside a transaction a
 * race or a lost connection rolls it back and gives -EAGAIN (see the
 * top); outside, a lost connection is -ENOTCONN.  Anything else: -EIO.
 */
static int pg_failed(pg_store *q, const PGresult *r, mcs_error *err)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : "";
	bool conn = !q->conn || PQstatus(q->conn) != CONNECTION_OK || !st ||
		    strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0;
	bool race =
		st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
		       strcmp(st, "23505") == 0 || strcmp(st, "23503") == 0);
	int k;

	if (!*msg && q->conn)
		msg = PQerrorMessage(q->conn);
	if (conn) {
		bool tx = q->in_tx;

		pg_drop(q, msg);
		k = mcs_error_set(err, tx ? -EAGAIN : -ENOTCONN,
				  "registry database connection lost: %s",
				  q->last_error);
	} else if (race && q->in_tx) {
		PQclear(PQexec(q->conn, "ROLLBACK"));
		q->in_tx = false;
		k = mcs_error_set(err, -EAGAIN, "registry database: %s", msg);
	} else {
		k = mcs_error_set(err, -EIO, "registry database: %s", msg);
	}
	if (err)
		err->msg[strcspn(err->msg, "\n")] = '\0';
	return k;
}

/*
 * Run sql with text parameters (NULL: SQL NULL).  Returns the result
 * (caller clears) with *ret_k = 0, or NULL with *ret_k < 0 (pg_failed).
 */
static PGresult *pg_q(pg_store *q, const char *sql, int n,
		      const char *const *params, int *ret_k, mcs_error *err)
{
	PGresult *r;
	ExecStatusType st;

	if (!q->conn) { /* dropped earlier in this transaction */
		*ret_k = mcs_error_set(err, -EAGAIN,
				       "registry database connection lost");
		return NULL;
	}
	r = PQexecParams(q->conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*ret_k = 0;
		return r;
	}
	*ret_k = pg_failed(q, r, err);
	PQclear(r);
	return NULL;
}

/* A statement whose rows are not wanted; its row count into *ret_rows. */
static int pg_do(pg_store *q, const char *sql, int n, const char *const *params,
		 long *ret_rows, mcs_error *err)
{
	int k;
	PGresult *r = pg_q(q, sql, n, params, &k, err);

	if (r && ret_rows)
		*ret_rows = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return k;
}

/* Before a read: the transaction's connection, or one for the read. */
static int pg_read_ready(pg_store *q, mcs_error *err)
{
	if (q->in_tx)
		return q->conn ? 0
			       : mcs_error_set(err, -EAGAIN,
					       "registry database connection "
					       "lost");
	return pg_ready(q, err);
}

/* ---- small helpers ----------------------------------------------------- */

static void key_level(store_key key, char buf[MCSD_REGISTRY_LEVEL_MAX])
{
	snprintf(buf, MCSD_REGISTRY_LEVEL_MAX, "s0:c%u,c%u", STORE_KEY_X(key),
		 STORE_KEY_Y(key));
}

#define HOLDER_MAX (MCSD_REGISTRY_OWNER_MAX + 3)

static void holder_of(char buf[HOLDER_MAX], const char *owner,
		      const char *group)
{
	if (group && *group)
		snprintf(buf, HOLDER_MAX, "g:%s", group);
	else
		snprintf(buf, HOLDER_MAX, "o:%s", owner);
}

static const char *col(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c);
}

#define OWNER_COLS                                                             \
	"owner, pair, group_name, kind, pid, pid_start, uid, type, created, "  \
	"boot_id"

static void row_owner(const PGresult *r, int row, mcsd_registry_entry *e,
		      store_key *ret_key, char *boot_id, size_t boot_size)
{
	store_key key = strtoll(col(r, row, 1), NULL, 10);

	memset(e, 0, sizeof(*e));
	snprintf(e->owner, sizeof(e->owner), "%s", col(r, row, 0));
	key_level(key, e->level);
	snprintf(e->group, sizeof(e->group), "%s", col(r, row, 2));
	e->kind = strcmp(col(r, row, 3), "reservation") == 0
			  ? MCSD_REGISTRY_RESERVATION
			  : MCSD_REGISTRY_LEASE;
	e->pid = (pid_t)strtol(col(r, row, 4), NULL, 10);
	e->pid_start = strtoull(col(r, row, 5), NULL, 10);
	e->uid = (uid_t)strtoul(col(r, row, 6), NULL, 10);
	snprintf(e->type, sizeof(e->type), "%s", col(r, row, 7));
	e->created = strtoll(col(r, row, 8), NULL, 10);
	if (ret_key)
		*ret_key = key;
	if (boot_id)
		snprintf(boot_id, boot_size, "%s", col(r, row, 9));
}

/* Add v to the counters (one random shard) now. */
static int pg_count_write(pg_store *q, const int v[4], mcs_error *err)
{
	char a[4][16], sh[16];
	const char *p[] = {a[0], a[1], a[2], a[3], sh};

	for (int i = 0; i < 4; i++)
		snprintf(a[i], sizeof(a[i]), "%d", v[i]);
	snprintf(sh, sizeof(sh), "%d", rand_r(&q->seed) % PG_SHARDS);
	return pg_do(q,
		     "UPDATE mcs_counts SET held = held + $1,"
		     " released = released + $2, excluded = excluded + $3,"
		     " owners = owners + $4 WHERE shard = $5",
		     5, p, NULL, err);
}

/* Add to the counters: inside a transaction of the rules, once at its
 * commit (one round trip per call instead of one per change). */
static int pg_count(pg_store *q, int held, int released, int excluded,
		    int owners, mcs_error *err)
{
	const int v[4] = {held, released, excluded, owners};

	if (!q->in_tx)
		return pg_count_write(q, v, err);
	for (int i = 0; i < 4; i++)
		q->pending[i] += v[i];
	return 0;
}

/* ---- transactions ------------------------------------------------------ */

static int pg_begin(store *s, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	int k;

	if (q->in_tx)
		return mcs_error_set(err, -EBUSY,
				     "registry: transaction already open");
	k = pg_ready(q, err);
	if (k < 0)
		return k;
	k = pg_do(q, "BEGIN", 0, NULL, NULL, err);
	if (k == -EAGAIN) /* never outside a transaction */
		k = -ENOTCONN;
	if (k >= 0)
		q->in_tx = true;
	memset(q->pending, 0, sizeof(q->pending));
	return k;
}

static int pg_commit(store *s, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	PGresult *r;
	const char *st;
	int k = 0;

	if (!q->in_tx)
		return mcs_error_set(err, -EBUSY, "registry: no transaction");
	if (q->pending[0] || q->pending[1] || q->pending[2] || q->pending[3]) {
		k = pg_count_write(q, q->pending, err);
		memset(q->pending, 0, sizeof(q->pending));
		if (k < 0) { /* a race (-EAGAIN) was rolled back already */
			if (q->in_tx && q->conn)
				PQclear(PQexec(q->conn, "ROLLBACK"));
			q->in_tx = false;
			return k;
		}
	}
	r = PQexec(q->conn, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (PQstatus(q->conn) != CONNECTION_OK || !st) {
			/* COMMIT was sent: its outcome is unknown */
			pg_drop(q, PQerrorMessage(q->conn));
			k = mcs_error_set(err, -EIO,
					  "registry database: connection lost "
					  "during COMMIT (outcome unknown): %s",
					  q->last_error);
		} else if (strcmp(st, "40001") == 0 ||
			   strcmp(st, "40P01") == 0) {
			k = mcs_error_set(err, -EAGAIN, "registry database: %s",
					  PQresultErrorMessage(r));
		} else {
			k = mcs_error_set(err, -EIO, "registry database: %s",
					  PQresultErrorMessage(r));
		}
		if (err)
			err->msg[strcspn(err->msg, "\n")] = '\0';
	}
	PQclear(r);
	q->in_tx = false;
	return k;
}

static int pg_rollback(store *s, mcs_error *err)
{
	pg_store *q = (pg_store *)s;

	(void)err;
	if (q->in_tx && q->conn)
		PQclear(PQexec(q->conn, "ROLLBACK"));
	q->in_tx = false;
	return 0;
}

/*
 * Make every commit so far durable: one small write of this host's row in
 * mcs_hosts committed with synchronous_commit = on, on sync's own
 * connection.  Its commit record comes after the commit record of every
 * transaction that committed before sync started (on any connection, of
 * any host), and PostgreSQL flushes its WAL in order up to that record
 * (and waits for the synchronous standbys to have it): so those commits
 * are durable when this returns 0.  One WAL flush per batch of mcsd
 * instead of one per call.  Runs in the server's sync thread.
 */
static int pg_sync(store *s, mcs_error *err)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
					   "application_name", NULL};
	pg_store *q = (pg_store *)s;
	char now[24];
	const char *p[] = {q->host, now};
	const char *vals[] = {q->conninfo, "5", "mcsd-sync", NULL};
	int k = 0;

	if (!atomic_load(&q->up)) /* the database is down: fail fast */
		return mcs_error_set(err, -ENOTCONN,
				     "registry database unreachable");
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL));
	/* a connection that died since the last sync (a restart of the
	 * server) shows only when used: then once more on a new one */
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *r;

		if (!q->sync_conn || PQstatus(q->sync_conn) != CONNECTION_OK) {
			PQfinish(q->sync_conn);
			q->sync_conn = PQconnectdbParams(keys, vals, 1);
			if (!q->sync_conn)
				return mcs_error_set(err, -ENOMEM,
						     "out of memory");
			PQsetNoticeProcessor(q->sync_conn, pg_notice, NULL);
			PQclear(PQexec(q->sync_conn,
				       "SET synchronous_commit = on"));
		}
		r = PQexecParams(q->sync_conn,
				 "UPDATE mcs_hosts SET seen = $2"
				 " WHERE host = $1",
				 2, NULL, p, NULL, NULL, 0);
		k = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -ENOTCONN;
		if (k < 0)
			mcs_error_set(err, k, "registry database: sync: %s",
				      PQresultErrorMessage(r)[0]
					      ? PQresultErrorMessage(r)
					      : PQerrorMessage(q->sync_conn));
		PQclear(r);
		if (k == 0)
			break;
		/* libpq may still call a connection the server closed OK */
		PQfinish(q->sync_conn);
		q->sync_conn = NULL;
	}
	if (k < 0 && err)
		err->msg[strcspn(err->msg, "\n")] = '\0';
	return k;
}

/* Unused with per_call (the rules never batch this engine), kept so the
 * table is complete. */
static int pg_savepoint(store *s, mcs_error *err)
{
	return pg_do((pg_store *)s, "SAVEPOINT mcs_call", 0, NULL, NULL, err);
}

static int pg_savepoint_end(store *s, bool keep, mcs_error *err)
{
	pg_store *q = (pg_store *)s;

	if (!keep) {
		int k = pg_do(q, "ROLLBACK TO SAVEPOINT mcs_call", 0, NULL,
			      NULL, err);
		if (k < 0)
			return k;
	}
	return pg_do(q, "RELEASE SAVEPOINT mcs_call", 0, NULL, NULL, err);
}

/* ---- schema and open --------------------------------------------------- */

static int pg_script(pg_store *q, const char *sql, mcs_error *err)
{
	PGresult *r = PQexec(q->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int k = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		k = pg_failed(q, r, err);
		/* a concurrent creator of the schema: 42P07 duplicate
		 * table (pg_failed rolled back the other races) */
		if (code && strcmp(code, "42P07") == 0) {
			PQclear(PQexec(q->conn, "ROLLBACK"));
			q->in_tx = false;
			k = -EAGAIN;
		}
	}
	PQclear(r);
	return k;
}

static int pg_migrate(pg_store *q, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	int version, k;

	k = pg_script(q,
		      "CREATE TABLE IF NOT EXISTS mcs_schema ("
		      "  version INT8 PRIMARY KEY)",
		      err);
	if (k < 0)
		return k;
	r = pg_q(q, "SELECT coalesce(max(version), 0) FROM mcs_schema", 0, NULL,
		 &k, err);
	if (!r)
		return k;
	version = atoi(PQgetvalue(r, 0, 0));
	if (version > (int)ELEMENTSOF(migrations))
		return mcs_error_set(err, -EPROTO,
				     "registry schema version %d is newer than "
				     "this mcsd (%zu)",
				     version, ELEMENTSOF(migrations));
	for (; version < (int)ELEMENTSOF(migrations); version++) {
		_cleanup_free_ char *sql = NULL;
		char v[16];
		const char *p[] = {v};

		/* the format is one of the constant migrations above */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		k = asprintf(&sql, migrations[version], q->range.lo,
			     q->range.hi);
#pragma GCC diagnostic pop
		if (k < 0)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		k = pg_script(q, sql, err);
		if (k < 0)
			return k;
		snprintf(v, sizeof(v), "%d", version + 1);
		k = pg_do(q, "INSERT INTO mcs_schema (version) VALUES ($1)", 1,
			  p, NULL, err);
		if (k < 0)
			return k;
	}
	return 0;
}

/* The cluster's range must be ours; mark our excluded pairs. */
static int pg_setup(pg_store *q, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char want[32];
	int k;

	r = pg_q(q, "SELECT value FROM mcs_meta WHERE key = 'range'", 0, NULL,
		 &k, err);
	if (!r)
		return k;
	snprintf(want, sizeof(want), "c%u.c%u", q->range.lo, q->range.hi);
	{
		_cleanup_res_ PGresult *h = NULL;
		const char *ph[] = {q->host};

		h = pg_q(q, "SELECT 1 FROM mcs_hosts WHERE host = $1", 1, ph,
			 &k, err);
		if (!h)
			return k;
		/* two mcsd with one host id starting at once: the loser
		 * meets the primary key and runs open again */
		if (PQntuples(h) == 0)
			k = pg_do(q,
				  "INSERT INTO mcs_hosts (host, seen)"
				  " VALUES ($1, 0)",
				  1, ph, NULL, err);
		if (k < 0)
			return k;
	}
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), want) != 0)
		return mcs_error_set(err, -EINVAL,
				     "the registry database hands out %s, this "
				     "mcsd is configured for %s",
				     PQntuples(r) ? PQgetvalue(r, 0, 0) : "?",
				     want);
	for (size_t i = 0; i < q->n_excluded; i++) {
		_cleanup_res_ PGresult *x = NULL;
		char key[24];
		const char *p[] = {key};
		bool released;

		snprintf(key, sizeof(key), "%" PRId64, q->excluded[i]);
		x = pg_q(q,
			 "SELECT state FROM mcs_pairs WHERE pair = $1"
			 " FOR UPDATE",
			 1, p, &k, err);
		if (!x)
			return k;
		/* a held pair keeps its holder; excluded when released
		 * and this mcsd starts again */
		if (PQntuples(x) != 1 ||
		    (strcmp(PQgetvalue(x, 0, 0), "free") != 0 &&
		     strcmp(PQgetvalue(x, 0, 0), "released") != 0))
			continue;
		released = strcmp(PQgetvalue(x, 0, 0), "released") == 0;
		k = pg_do(q,
			  "UPDATE mcs_pairs SET state = 'excluded',"
			  " release_seq = NULL, released_at = NULL"
			  " WHERE pair = $1",
			  1, p, NULL, err);
		if (k >= 0)
			k = pg_count(q, 0, released ? -1 : 0, 1, 0, err);
		if (k < 0)
			return k;
	}
	return 0;
}

static int read_machine_id(char *buf, size_t size)
{
	_cleanup_close_ int fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return n < 0 ? negative_errno() : -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return *buf ? 0 : -EIO;
}

static bool host_valid(const char *h)
{
	size_t i = 0;

	for (; h[i]; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		      (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || strchr("_.:@-", h[i])))
			return false;
	return i > 0 && i < 256;
}

static void pg_close(store *s);

static int pg_open(const char *location, const store_config *cfg, store **ret,
		   mcs_error *err)
{
	pg_store *q;
	int k = 0;

	q = calloc(1, sizeof(*q));
	if (!q)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	q->base.ops = &store_pg_ops;
	q->backoff_ms = PG_BACKOFF_MIN;
	q->seed = (unsigned)getpid() ^ (unsigned)now_ms();
	q->conninfo = strdup(location);
	q->range = cfg->range;
	q->n_excluded = cfg->n_excluded;
	q->excluded = calloc(cfg->n_excluded + 1, sizeof(*q->excluded));
	if (!q->conninfo || !q->excluded) {
		k = mcs_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (cfg->n_excluded)
		memcpy(q->excluded, cfg->excluded,
		       cfg->n_excluded * sizeof(*q->excluded));
	if (cfg->host_id && *cfg->host_id) {
		if (!host_valid(cfg->host_id)) {
			k = mcs_error_set(err, -EINVAL,
					  "invalid host id \"%.64s\": want "
					  "1-255 of [A-Za-z0-9_.:@-]",
					  cfg->host_id);
			goto fail;
		}
		snprintf(q->host, sizeof(q->host), "%s", cfg->host_id);
	} else if ((k = read_machine_id(q->host, sizeof(q->host))) < 0) {
		mcs_error_set(err, k, "cannot read /etc/machine-id: %s",
			      strerror(-k));
		goto fail;
	}
	/* schema and exclusions in one transaction; hosts starting at once
	 * race to create the schema: the losers run it again */
	for (int attempt = 0; attempt < PG_OPEN_ATTEMPTS; attempt++) {
		k = pg_begin(&q->base, err);
		if (k < 0)
			goto fail;
		k = pg_migrate(q, err);
		if (k >= 0)
			k = pg_setup(q, err);
		if (k >= 0)
			k = pg_commit(&q->base, err);
		else
			pg_rollback(&q->base, NULL);
		if (k != -EAGAIN)
			break;
		usleep((useconds_t)(rand_r(&q->seed) % 20000));
	}
	if (k < 0)
		goto fail;
	*ret = &q->base;
	return 0;
fail:
	pg_close(&q->base);
	return k;
}

static void pg_close(store *s)
{
	pg_store *q = (pg_store *)s;

	if (!q)
		return;
	pg_rollback(s, NULL);
	PQfinish(q->conn);
	PQfinish(q->sync_conn);
	free(q->conninfo);
	free(q->excluded);
	free(q);
}

/* ---- rows -------------------------------------------------------------- */

static int pg_owner_get(store *s, const char *owner, store_owner *ret,
			mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	const char *p[] = {owner};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	/* locked inside a transaction: release deletes what it read */
	r = pg_q(q,
		 q->in_tx ? "SELECT " OWNER_COLS " FROM mcs_owners"
			    " WHERE owner = $1 FOR UPDATE"
			  : "SELECT " OWNER_COLS
			    " FROM mcs_owners WHERE owner = $1",
		 1, p, &k, err);
	if (!r)
		return k;
	if (PQntuples(r) == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	if (ret)
		row_owner(r, 0, &ret->entry, &ret->key, ret->boot_id,
			  sizeof(ret->boot_id));
	return 0;
}

static int pg_owner_insert(store *s, const store_owner *row, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	const mcsd_registry_entry *e = &row->entry;
	bool lease = e->kind == MCSD_REGISTRY_LEASE;
	char holder[HOLDER_MAX], pair[24], pid[16], start[24], uid[16],
		created[24];
	const char *p[] = {
		e->owner,
		pair,
		holder,
		*e->group ? e->group : NULL,
		lease ? "lease" : "reservation",
		lease ? q->host : NULL,
		lease ? row->boot_id : NULL,
		pid,
		start,
		uid,
		*e->type ? e->type : NULL,
		created,
	};
	int k;

	holder_of(holder, e->owner, e->group);
	snprintf(pair, sizeof(pair), "%" PRId64, row->key);
	snprintf(pid, sizeof(pid), "%d", lease ? (int)e->pid : 0);
	snprintf(start, sizeof(start), "%" PRIu64, e->pid_start);
	snprintf(uid, sizeof(uid), "%u", (unsigned)e->uid);
	snprintf(created, sizeof(created), "%" PRId64, e->created);
	k = pg_do(q,
		  "INSERT INTO mcs_owners (owner, pair, holder, group_name,"
		  " kind, host, boot_id, pid, pid_start, uid, type, created)"
		  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		  (int)ELEMENTSOF(p), p, NULL, err);
	if (k >= 0)
		k = pg_count(q, 0, 0, 0, 1, err);
	return k;
}

static int pg_owner_delete(store *s, const char *owner, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	const char *p[] = {owner};
	long rows = 0;
	int k;

	k = pg_do(q, "DELETE FROM mcs_owners WHERE owner = $1", 1, p, &rows,
		  err);
	if (k < 0)
		return k;
	if (rows == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	return pg_count(q, 0, 0, 0, -1, err);
}

static int pg_group_count(store *s, const char *group, uint64_t *ret_n,
			  mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	const char *p[] = {group};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	r = pg_q(q, "SELECT count(*) FROM mcs_owners WHERE group_name = $1", 1,
		 p, &k, err);
	if (!r)
		return k;
	*ret_n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	return 0;
}

static int pg_group_uid(store *s, const char *group, uid_t *ret_uid,
			mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	const char *p[] = {group};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	r = pg_q(q,
		 "SELECT uid FROM mcs_owners WHERE group_name = $1"
		 " AND uid <> 0 LIMIT 1",
		 1, p, &k, err);
	if (!r)
		return k;
	if (PQntuples(r) == 0)
		return 0;
	*ret_uid = (uid_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	return 1;
}

static int pg_group_pair(store *s, const char *group, store_key *ret_key,
			 mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	char holder[HOLDER_MAX];
	const char *p[] = {holder};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	holder_of(holder, NULL, group);
	/* locked: the group's last member cannot leave meanwhile */
	r = pg_q(q,
		 q->in_tx ? "SELECT pair FROM mcs_pairs WHERE holder = $1"
			    " FOR UPDATE"
			  : "SELECT pair FROM mcs_pairs WHERE holder = $1",
		 1, p, &k, err);
	if (!r)
		return k;
	if (PQntuples(r) == 0)
		return 0;
	*ret_key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	return 1;
}

static int pg_pair_holder(store *s, store_key key,
			  char owner[MCSD_REGISTRY_OWNER_MAX + 1],
			  char group[MCSD_REGISTRY_OWNER_MAX + 1],
			  mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	char pair[24];
	const char *p[] = {pair};
	const char *h;
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	snprintf(pair, sizeof(pair), "%" PRId64, key);
	r = pg_q(q,
		 "SELECT holder FROM mcs_pairs WHERE pair = $1"
		 " AND state = 'held'",
		 1, p, &k, err);
	if (!r)
		return k;
	*owner = *group = '\0';
	if (PQntuples(r) == 0)
		return mcs_error_set(err, -ENOENT, "pair not held");
	h = col(r, 0, 0);
	if (strlen(h) < 2)
		return mcs_error_set(err, -EIO, "bad holder \"%s\"", h);
	snprintf(h[0] == 'g' ? group : owner, MCSD_REGISTRY_OWNER_MAX + 1, "%s",
		 h + 2);
	return 0;
}

/* Take the pair want for holder: 0, -EEXIST (held, or excluded by the
 * configuration of another host). */
static int pg_claim_want(pg_store *q, store_key want, const char *holder,
			 mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char pair[24], level[MCSD_REGISTRY_LEVEL_MAX];
	const char *p[] = {pair, holder};
	const char *state;
	int k;

	snprintf(pair, sizeof(pair), "%" PRId64, want);
	key_level(want, level);
	r = pg_q(q, "SELECT state FROM mcs_pairs WHERE pair = $1 FOR UPDATE", 1,
		 p, &k, err);
	if (!r)
		return k;
	state = PQntuples(r) ? PQgetvalue(r, 0, 0) : "excluded";
	if (strcmp(state, "held") == 0)
		return mcs_error_set(err, -EEXIST, "level %s is in use", level);
	if (strcmp(state, "excluded") == 0)
		return mcs_error_set(err, -EEXIST,
				     "level %s is excluded in the cluster",
				     level);
	k = pg_do(q,
		  "UPDATE mcs_pairs SET state = 'held', holder = $2,"
		  " release_seq = NULL, released_at = NULL WHERE pair = $1",
		  2, p, NULL, err);
	if (k < 0)
		return k;
	return pg_count(q, 1, strcmp(state, "released") == 0 ? -1 : 0, 0, 0,
			err);
}

/*
 * Take a pair for holder: the never-used pair with the lowest random
 * pick, else the least recently released one; rows locked by other
 * transactions are skipped, never waited for.  -ENOSPC when none.
 */
static int pg_claim_any(pg_store *q, const char *holder, store_key *ret_key,
			mcs_error *err)
{
	static const char *const take[] = {
		"UPDATE mcs_pairs SET state = 'held', holder = $1"
		" WHERE pair = (SELECT pair FROM mcs_pairs"
		"   WHERE state = 'free' ORDER BY pick LIMIT 1"
		"   FOR UPDATE SKIP LOCKED)"
		" AND state = 'free' RETURNING pair",
		"UPDATE mcs_pairs SET state = 'held', holder = $1,"
		" release_seq = NULL, released_at = NULL"
		" WHERE pair = (SELECT pair FROM mcs_pairs"
		"   WHERE state = 'released' ORDER BY release_seq LIMIT 1"
		"   FOR UPDATE SKIP LOCKED)"
		" AND state = 'released' RETURNING pair",
	};
	const char *p[] = {holder};
	int k;

	for (size_t i = 0; i < ELEMENTSOF(take); i++) {
		_cleanup_res_ PGresult *r = pg_q(q, take[i], 1, p, &k, err);

		if (!r)
			return k;
		if (PQntuples(r) == 1) {
			*ret_key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			return pg_count(q, 1, i == 1 ? -1 : 0, 0, 0, err);
		}
	}
	return mcs_error_set(err, -ENOSPC, "no free pair");
}

static int pg_pair_claim(store *s, store_key want, const char *owner,
			 const char *group, store_key *ret_key, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	char holder[HOLDER_MAX];
	int k;

	holder_of(holder, owner, group);
	if (want == STORE_KEY_ANY)
		return pg_claim_any(q, holder, ret_key, err);
	k = pg_claim_want(q, want, holder, err);
	if (k >= 0)
		*ret_key = want;
	return k;
}

static int pg_pair_release(store *s, store_key key, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	char pair[24], now[24];
	const char *p[] = {pair, now};
	long rows = 0;
	int k;

	snprintf(pair, sizeof(pair), "%" PRId64, key);
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL));
	/* the FOREIGN KEY refuses it while an owner still refers to it */
	k = pg_do(q,
		  "UPDATE mcs_pairs SET state = 'released', holder = NULL,"
		  " release_seq = nextval('mcs_release_seq'), released_at = $2"
		  " WHERE pair = $1 AND state = 'held'",
		  2, p, &rows, err);
	if (k < 0)
		return k;
	if (rows == 0)
		return mcs_error_set(err, -ENOENT, "pair not held");
	return pg_count(q, -1, 1, 0, 0, err);
}

static int pg_list_page(store *s, const char *after,
			mcsd_registry_entry *entries, size_t max, size_t *ret_n,
			mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	char lim[24];
	const char *p[] = {after ? after : "", lim};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	snprintf(lim, sizeof(lim), "%zu", max);
	/* COLLATE "C": bytewise, as the interface wants, whatever the
	 * database's collation */
	r = pg_q(q,
		 "SELECT " OWNER_COLS " FROM mcs_owners"
		 " WHERE owner COLLATE \"C\" > $1"
		 " ORDER BY owner COLLATE \"C\" LIMIT $2",
		 2, p, &k, err);
	if (!r)
		return k;
	for (int i = 0; i < PQntuples(r); i++)
		row_owner(r, i, &entries[i], NULL, NULL, 0);
	*ret_n = (size_t)PQntuples(r);
	return 0;
}

static int pg_lease_page(store *s, const char *after, store_lease *leases,
			 size_t max, size_t *ret_n, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	char lim[24];
	const char *p[] = {q->host, after ? after : "", lim};
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	snprintf(lim, sizeof(lim), "%zu", max);
	/* this host's leases only: another host's pids mean nothing here */
	r = pg_q(q,
		 "SELECT owner, pid, pid_start, boot_id FROM mcs_owners"
		 " WHERE kind = 'lease' AND host = $1"
		 " AND owner COLLATE \"C\" > $2"
		 " ORDER BY owner COLLATE \"C\" LIMIT $3",
		 3, p, &k, err);
	if (!r)
		return k;
	for (int i = 0; i < PQntuples(r); i++) {
		store_lease *l = &leases[i];

		memset(l, 0, sizeof(*l));
		snprintf(l->owner, sizeof(l->owner), "%s", col(r, i, 0));
		l->pid = (pid_t)strtol(col(r, i, 1), NULL, 10);
		l->pid_start = strtoull(col(r, i, 2), NULL, 10);
		snprintf(l->boot_id, sizeof(l->boot_id), "%s", col(r, i, 3));
	}
	*ret_n = (size_t)PQntuples(r);
	return 0;
}

static int pg_counts(store *s, mcsd_registry_counts *ret, mcs_error *err)
{
	pg_store *q = (pg_store *)s;
	_cleanup_res_ PGresult *r = NULL;
	uint64_t pairs = mcs_pair_count(&q->range);
	int k = pg_read_ready(q, err);

	if (k < 0)
		return k;
	r = pg_q(q,
		 "SELECT coalesce(sum(held), 0), coalesce(sum(released), 0),"
		 " coalesce(sum(excluded), 0), coalesce(sum(owners), 0)"
		 " FROM mcs_counts",
		 0, NULL, &k, err);
	if (!r)
		return k;
	memset(ret, 0, sizeof(*ret));
	ret->used = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	ret->quarantined = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	ret->excluded = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	ret->owners = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	ret->total = pairs - ret->excluded;
	ret->free = ret->total > ret->used ? ret->total - ret->used : 0;
	return 0;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.per_call = true,
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.sync = pg_sync,
	.savepoint = pg_savepoint,
	.savepoint_end = pg_savepoint_end,
	.owner_get = pg_owner_get,
	.owner_insert = pg_owner_insert,
	.owner_delete = pg_owner_delete,
	.group_count = pg_group_count,
	.group_uid = pg_group_uid,
	.group_pair = pg_group_pair,
	.pair_holder = pg_pair_holder,
	.pair_claim = pg_pair_claim,
	.pair_release = pg_pair_release,
	.list_page = pg_list_page,
	.lease_page = pg_lease_page,
	.counts = pg_counts,
};
