/* SPDX-License-Identifier: MIT */
/*
 * store_pg.c - mcsd's registry on PostgreSQL (libpq): the schema and its
 * migrations, the SQL of every registry operation, the transaction and
 * retry loop around each, the connection and its reconnect backoff.  The
 * rules are those of lib/registry.c (owners, groups, leases and
 * reservations, quarantine, excluded levels); see store_pg.h for what
 * differs across hosts.  Only mcsd links libpq.
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
 *  - allocation takes a pair with one UPDATE that changes it from 'free'
 *    (or 'released') to 'held' under a row lock (SELECT ... FOR UPDATE
 *    SKIP LOCKED picks a row no one else has locked; the UPDATE
 *    re-checks the state).  A concurrent transaction that touches the
 *    same row waits for ours and then sees it held.
 *  Uniform and O(log n) at any fill level: each never-used pair has a
 *  random key `pick` drawn by the server when the range was created; an
 *  allocation takes the free pair with the lowest pick through a partial
 *  index of free pairs (a random permutation of the range, unknown to
 *  clients), skipping rows other transactions hold locked - no retry loop
 *  that grows as the registry fills.  Released pairs are reused least
 *  recently released first (mcs_release_seq) once no never-used pair is
 *  left, as lib/registry.c does.
 *
 * Transactions: one per call, READ COMMITTED on PostgreSQL (SERIALIZABLE
 * on CockroachDB), with synchronous_commit = on for the session: a call
 * returns >= 0 only after COMMIT returned, i.e. once the commit is
 * durable on the server (and on its synchronous standbys, when
 * configured).  Races between hosts surface as a serialization failure
 * (40001), a deadlock (40P01), a unique or foreign key violation (23505,
 * 23503: two hosts creating the same owner or group, or a member joining
 * a group while its last member leaves); the call then runs again from
 * the start, at most PG_ATTEMPTS times.  These retries depend on
 * contention on one owner or group, never on how full the registry is.
 *
 * SQL dialect: only what CockroachDB and YugabyteDB accept too (no
 * PL/pgSQL, no triggers, no advisory locks, no ON CONFLICT on partial
 * indexes): tables, partial indexes, foreign keys, CHECK, a sequence,
 * generate_series, SELECT ... FOR UPDATE SKIP LOCKED.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <postgresql/libpq-fe.h>

#include <mcs/label.h>
#include "registry.h"

#include "proc.h"
#include "store_pg.h"
#include "util.h"

/* Attempts of one call when it meets a retryable race (see above). */
#define PG_ATTEMPTS 32
/* Reconnect backoff: first wait and cap, in milliseconds. */
#define PG_BACKOFF_MIN 100
#define PG_BACKOFF_MAX 5000
/* Rows of mcs_counts: each call updates one at random, so concurrent
 * calls on many hosts rarely wait for each other on a counter. */
#define PG_SHARDS 64
/* Dead leases released per scan by reconcile. */
#define PG_RECONCILE_CHUNK 256

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

enum pg_kind { PG_OK, PG_RETRY, PG_CONN, PG_FAIL };

struct store_pg {
	PGconn *conn;	/* NULL while disconnected */
	char *conninfo; /* as given */
	mcs_cat_range range;
	int64_t *excluded; /* pair keys never handed out */
	size_t n_excluded;
	char host[256];	     /* this host's id for its leases */
	char boot_id[37];    /* this boot */
	int64_t next_try_ms; /* no connection attempt before (monotonic) */
	int backoff_ms;
	char last_error[256]; /* why the connection is down */
	char sqlstate[6];     /* of the last failed statement */
	bool in_tx;	      /* inside store_pg_begin (migrate) */
	unsigned seed;	      /* counter shards */
};

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

bool store_pg_is_conninfo(const char *s)
{
	return s && (strncmp(s, "postgresql://", 13) == 0 ||
		     strncmp(s, "postgres://", 11) == 0 || strchr(s, '='));
}

/* ---- connection -------------------------------------------------------- */

static void pg_drop(store_pg *s, const char *why)
{
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	/* strip libpq's trailing newline */
	s->last_error[strcspn(s->last_error, "\n")] = '\0';
	PQfinish(s->conn);
	s->conn = NULL;
	s->next_try_ms = now_ms() + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > PG_BACKOFF_MAX ? PG_BACKOFF_MAX
							   : s->backoff_ms * 2;
}

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* A usable connection, or -ENOTCONN (fail closed) while in backoff. */
static int pg_ready(store_pg *s, mcs_error *err)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
					   "application_name", NULL};
	const char *vals[] = {s->conninfo, "5", "mcsd", NULL};
	PGresult *r;

	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	if (s->conn)
		pg_drop(s, PQerrorMessage(s->conn));
	if (now_ms() < s->next_try_ms)
		return mcs_error_set(err, -ENOTCONN,
				     "registry database unreachable (next "
				     "attempt in %" PRId64 " ms): %s",
				     s->next_try_ms - now_ms(), s->last_error);
	s->conn = PQconnectdbParams(keys, vals, /* expand_dbname= */ 1);
	if (!s->conn)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (PQstatus(s->conn) != CONNECTION_OK) {
		pg_drop(s, PQerrorMessage(s->conn));
		return mcs_error_set(err, -ENOTCONN,
				     "registry database unreachable: %s",
				     s->last_error);
	}
	/* the server's notices ("relation exists, skipping") are not ours
	 * to print; errors come back through results */
	PQsetNoticeProcessor(s->conn, pg_notice, NULL);
	/* acknowledged == durable on the server, whatever its default */
	r = PQexec(s->conn, "SET synchronous_commit = on");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		pg_drop(s, PQerrorMessage(s->conn));
		return mcs_error_set(err, -ENOTCONN, "registry database: %s",
				     s->last_error);
	}
	PQclear(r);
	s->backoff_ms = PG_BACKOFF_MIN;
	return 0;
}

/* Classify a failed result; records its SQLSTATE. */
static enum pg_kind pg_classify(store_pg *s, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", st ? st : "");
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK || !st ||
	    strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)
		return PG_CONN;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	    strcmp(st, "23505") == 0 || strcmp(st, "23503") == 0)
		return PG_RETRY;
	return PG_FAIL;
}

/*
 * Run sql with text parameters.  Returns the result (caller clears) with
 * *ret_k = 0, or NULL with *ret_k = -EAGAIN (a race: retry the call),
 * -ENOTCONN (connection lost: dropped) or -EIO, err set.
 */
static PGresult *pg_q(store_pg *s, const char *sql, int n,
		      const char *const *params, int *ret_k, mcs_error *err)
{
	PGresult *r =
		PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*ret_k = 0;
		return r;
	}
	switch (pg_classify(s, r)) {
	case PG_RETRY:
		*ret_k = mcs_error_set(err, -EAGAIN, "registry database: %s",
				       PQresultErrorMessage(r));
		break;
	case PG_CONN:
		*ret_k = mcs_error_set(
			err, -ENOTCONN, "registry database connection lost: %s",
			r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		pg_drop(s,
			r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		break;
	default:
		*ret_k = mcs_error_set(err, -EIO, "registry database: %s",
				       PQresultErrorMessage(r));
	}
	PQclear(r);
	/* messages end with a newline */
	if (err)
		err->msg[strcspn(err->msg, "\n")] = '\0';
	return NULL;
}

/* A statement whose rows are not wanted. */
static int pg_do(store_pg *s, const char *sql, int n, const char *const *params,
		 mcs_error *err)
{
	int k;
	PGresult *r = pg_q(s, sql, n, params, &k, err);

	PQclear(r);
	return k;
}

/* ---- small helpers ----------------------------------------------------- */

static int64_t pair_key(unsigned x, unsigned y)
{
	return (int64_t)x << 10 | y;
}

static void key_level(int64_t key, char buf[MCS_REGISTRY_LEVEL_MAX])
{
	snprintf(buf, MCS_REGISTRY_LEVEL_MAX, "s0:c%u,c%u",
		 (unsigned)(key >> 10), (unsigned)(key & 1023));
}

static bool key_in_range(const store_pg *s, int64_t key)
{
	uint64_t idx;

	return key >= 0 && key < (int64_t)1 << 20 &&
	       mcs_pair_to_index(&s->range, (unsigned)(key >> 10),
				 (unsigned)(key & 1023), &idx) == 0;
}

static bool key_excluded(const store_pg *s, int64_t key)
{
	for (size_t i = 0; i < s->n_excluded; i++)
		if (s->excluded[i] == key)
			return true;
	return false;
}

/* Level -> table key: 0, -EINVAL (no pair), -ERANGE (outside range). */
static int level_key(const store_pg *s, const char *level, int64_t *ret,
		     mcs_error *err)
{
	mcs_level l;
	unsigned x, y;
	int k = mcs_level_parse(level, &l, err);

	if (k >= 0)
		k = mcs_pair_from_level(&l, &x, &y, err);
	if (k < 0)
		return k;
	*ret = pair_key(x, y);
	if (!key_in_range(s, *ret))
		return mcs_error_set(err, -ERANGE,
				     "level %s is outside the range c%u.c%u",
				     level, s->range.lo, s->range.hi);
	return 0;
}

static bool name_valid(const char *n)
{
	size_t i = 0;

	for (; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		      (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || strchr("_.:@-", n[i])))
			return false;
	return i > 0 && i <= MCS_REGISTRY_OWNER_MAX;
}

static bool type_valid(const char *t)
{
	size_t i = 0;

	for (; t[i]; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		      (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
			return false;
	return i <= MCS_NAME_MAX;
}

static void holder_of(char buf[MCS_REGISTRY_OWNER_MAX + 3], const char *owner,
		      const char *group)
{
	if (group)
		snprintf(buf, MCS_REGISTRY_OWNER_MAX + 3, "g:%s", group);
	else
		snprintf(buf, MCS_REGISTRY_OWNER_MAX + 3, "o:%s", owner);
}

static const char *col(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c);
}

#define OWNER_COLS                                                             \
	"owner, pair, group_name, kind, pid, pid_start, uid, type, created"

static void row_entry(const PGresult *r, int row, mcs_registry_entry *e,
		      int64_t *ret_key)
{
	int64_t key = strtoll(col(r, row, 1), NULL, 10);

	memset(e, 0, sizeof(*e));
	snprintf(e->owner, sizeof(e->owner), "%s", col(r, row, 0));
	key_level(key, e->level);
	snprintf(e->group, sizeof(e->group), "%s", col(r, row, 2));
	e->kind = strcmp(col(r, row, 3), "reservation") == 0
			  ? MCS_REGISTRY_RESERVATION
			  : MCS_REGISTRY_LEASE;
	e->pid = (pid_t)strtol(col(r, row, 4), NULL, 10);
	e->pid_start = strtoull(col(r, row, 5), NULL, 10);
	e->uid = (uid_t)strtoul(col(r, row, 6), NULL, 10);
	snprintf(e->type, sizeof(e->type), "%s", col(r, row, 7));
	e->created = strtoll(col(r, row, 8), NULL, 10);
	if (ret_key)
		*ret_key = key;
}

/* Add to the counters (one random shard). */
static int pg_count(store_pg *s, int held, int released, int excluded,
		    int owners, mcs_error *err)
{
	char a[16], b[16], c[16], d[16], sh[16];
	const char *p[] = {a, b, c, d, sh};

	snprintf(a, sizeof(a), "%d", held);
	snprintf(b, sizeof(b), "%d", released);
	snprintf(c, sizeof(c), "%d", excluded);
	snprintf(d, sizeof(d), "%d", owners);
	snprintf(sh, sizeof(sh), "%d", rand_r(&s->seed) % PG_SHARDS);
	return pg_do(s,
		     "UPDATE mcs_counts SET held = held + $1,"
		     " released = released + $2, excluded = excluded + $3,"
		     " owners = owners + $4 WHERE shard = $5",
		     5, p, err);
}

/* ---- transactions ------------------------------------------------------ */

typedef int (*pg_body)(store_pg *s, void *arg, mcs_error *err);

/*
 * Run body in one transaction, again from the start when it meets a race
 * (-EAGAIN), at most PG_ATTEMPTS times.  body returns >= 0 to commit,
 * < 0 to roll back.  Returns body's result once committed, or -errno.
 */
static int pg_tx(store_pg *s, pg_body body, void *arg, mcs_error *err)
{
	int k = 0;

	for (int attempt = 0; attempt < PG_ATTEMPTS; attempt++) {
		k = pg_ready(s, err);
		if (k < 0)
			return k;
		k = pg_do(s, "BEGIN", 0, NULL, err);
		if (k >= 0) {
			k = body(s, arg, err);
			if (k >= 0) {
				int c = pg_do(s, "COMMIT", 0, NULL, err);
				if (c < 0)
					k = c;
			} else if (s->conn) {
				PQclear(PQexec(s->conn, "ROLLBACK"));
			}
		}
		if (k != -EAGAIN)
			return k;
		/* a race with another host: back off a random 0-1 ms
		 * times the attempt so that the two do not meet again */
		usleep((useconds_t)(rand_r(&s->seed) % 1000) *
		       (unsigned)(attempt + 1));
	}
	return mcs_error_prefix(
		err, "registry: gave up after %d attempts: ", PG_ATTEMPTS);
}

/* ---- schema ------------------------------------------------------------ */

static int pg_exec_script(store_pg *s, const char *sql, mcs_error *err)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int k = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		k = pg_classify(s, r) == PG_RETRY ? -EAGAIN : -EIO;
		/* a concurrent creator: 42P07 duplicate table */
		if (strcmp(s->sqlstate, "42P07") == 0)
			k = -EAGAIN;
		mcs_error_set(err, k, "registry schema: %s",
			      PQresultErrorMessage(r));
		if (err)
			err->msg[strcspn(err->msg, "\n")] = '\0';
	}
	PQclear(r);
	return k;
}

static int pg_migrate_body(store_pg *s, void *arg, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	int version, k;

	(void)arg;
	k = pg_exec_script(s,
			   "CREATE TABLE IF NOT EXISTS mcs_schema ("
			   "  version INT8 PRIMARY KEY)",
			   err);
	if (k < 0)
		return k;
	r = pg_q(s, "SELECT coalesce(max(version), 0) FROM mcs_schema", 0, NULL,
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
		k = asprintf(&sql, migrations[version], s->range.lo,
			     s->range.hi);
#pragma GCC diagnostic pop
		if (k < 0)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		k = pg_exec_script(s, sql, err);
		if (k < 0)
			return k;
		snprintf(v, sizeof(v), "%d", version + 1);
		k = pg_do(s, "INSERT INTO mcs_schema (version) VALUES ($1)", 1,
			  p, err);
		if (k < 0)
			return k;
	}
	return 0;
}

/* The cluster's range must be ours; mark our excluded pairs. */
static int pg_setup_body(store_pg *s, void *arg, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char want[32];
	int k;

	(void)arg;
	r = pg_q(s, "SELECT value FROM mcs_meta WHERE key = 'range'", 0, NULL,
		 &k, err);
	if (!r)
		return k;
	snprintf(want, sizeof(want), "c%u.c%u", s->range.lo, s->range.hi);
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), want) != 0)
		return mcs_error_set(err, -EINVAL,
				     "the registry database hands out %s, this "
				     "mcsd is configured for %s",
				     PQntuples(r) ? PQgetvalue(r, 0, 0) : "?",
				     want);
	for (size_t i = 0; i < s->n_excluded; i++) {
		_cleanup_res_ PGresult *q = NULL;
		char key[24];
		const char *p[] = {key};

		snprintf(key, sizeof(key), "%" PRId64, s->excluded[i]);
		q = pg_q(s,
			 "SELECT state FROM mcs_pairs WHERE pair = $1"
			 " FOR UPDATE",
			 1, p, &k, err);
		if (!q)
			return k;
		/* a held pair keeps its holder; excluded when released */
		if (PQntuples(q) != 1 ||
		    (strcmp(PQgetvalue(q, 0, 0), "free") != 0 &&
		     strcmp(PQgetvalue(q, 0, 0), "released") != 0))
			continue;
		bool released = strcmp(PQgetvalue(q, 0, 0), "released") == 0;
		k = pg_do(s,
			  "UPDATE mcs_pairs SET state = 'excluded',"
			  " release_seq = NULL, released_at = NULL"
			  " WHERE pair = $1",
			  1, p, err);
		if (k >= 0)
			k = pg_count(s, 0, released ? -1 : 0, 1, 0, err);
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

int store_pg_open(const char *conninfo, const mcs_registry_config *cfg,
		  const char *host_id, store_pg **ret, mcs_error *err)
{
	static const mcs_cat_range def = {0, MCS_CAT_MAX};
	store_pg *s;
	int64_t key;
	int k;

	if (!conninfo || !ret)
		return mcs_error_set(err, -EINVAL, "registry: no database");
	s = calloc(1, sizeof(*s));
	if (!s)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	s->backoff_ms = PG_BACKOFF_MIN;
	s->seed = (unsigned)getpid() ^ (unsigned)now_ms();
	s->conninfo = strdup(conninfo);
	s->range = cfg && (cfg->range.lo || cfg->range.hi) ? cfg->range : def;
	s->excluded = calloc(1 + (cfg ? cfg->n_excluded : 0), sizeof(int64_t));
	if (!s->conninfo || !s->excluded) {
		k = mcs_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (s->range.lo >= s->range.hi || s->range.hi > MCS_CAT_MAX) {
		k = mcs_error_set(err, -EINVAL, "invalid category range");
		goto fail;
	}
	if (level_key(s, MCS_REGISTRY_RESERVED_LEVEL, &key, NULL) == 0)
		s->excluded[s->n_excluded++] = key;
	for (size_t i = 0; cfg && i < cfg->n_excluded; i++) {
		k = level_key(s, cfg->excluded[i], &key, err);
		if (k == -ERANGE)
			continue;
		if (k < 0) {
			mcs_error_prefix(err, "excluded level: ");
			goto fail;
		}
		s->excluded[s->n_excluded++] = key;
	}
	if (host_id && *host_id) {
		if (!name_valid(host_id)) {
			k = mcs_error_set(err, -EINVAL,
					  "invalid host id \"%.64s\"", host_id);
			goto fail;
		}
		snprintf(s->host, sizeof(s->host), "%s", host_id);
	} else if ((k = read_machine_id(s->host, sizeof(s->host))) < 0) {
		mcs_error_set(err, k, "cannot read /etc/machine-id: %s",
			      strerror(-k));
		goto fail;
	}
	k = proc_boot_id(s->boot_id);
	if (k < 0) {
		mcs_error_set(err, k, "cannot read the boot id");
		goto fail;
	}
	k = pg_tx(s, pg_migrate_body, NULL, err);
	if (k >= 0)
		k = pg_tx(s, pg_setup_body, NULL, err);
	if (k < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	store_pg_close(s);
	return k;
}

void store_pg_close(store_pg *s)
{
	if (!s)
		return;
	PQfinish(s->conn);
	free(s->conninfo);
	free(s->excluded);
	free(s);
}

/* ---- allocate ---------------------------------------------------------- */

struct alloc_call {
	const mcs_registry_request *req;
	const char *group; /* NULL when none */
	int64_t want;	   /* explicit level's key, -1 when none */
	char want_level[MCS_REGISTRY_LEVEL_MAX];
	uint64_t pid_start;
	mcs_registry_entry *ret;
};

/* The owner row of owner into e (may be NULL): 1 found, 0 not, < 0. */
static int pg_owner(store_pg *s, const char *owner, bool lock,
		    mcs_registry_entry *e, int64_t *ret_key, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	const char *p[] = {owner};
	mcs_registry_entry tmp;
	int k;

	r = pg_q(s,
		 lock ? "SELECT " OWNER_COLS " FROM mcs_owners"
			" WHERE owner = $1 FOR UPDATE"
		      : "SELECT " OWNER_COLS
			" FROM mcs_owners WHERE owner = $1",
		 1, p, &k, err);
	if (!r)
		return k;
	if (PQntuples(r) == 0)
		return 0;
	row_entry(r, 0, e ? e : &tmp, ret_key);
	return 1;
}

static int pg_insert_owner(store_pg *s, struct alloc_call *c, int64_t key,
			   mcs_error *err)
{
	const mcs_registry_request *req = c->req;
	bool lease = req->kind == MCS_REGISTRY_LEASE;
	char holder[MCS_REGISTRY_OWNER_MAX + 3], pair[24], pid[16], start[24],
		uid[16], now[24];
	int64_t t = (int64_t)time(NULL);
	const char *p[] = {
		req->owner,
		pair,
		holder,
		c->group,
		lease ? "lease" : "reservation",
		lease ? s->host : NULL,
		lease ? s->boot_id : NULL,
		pid,
		start,
		uid,
		req->type && *req->type ? req->type : NULL,
		now,
	};
	int k;

	holder_of(holder, req->owner, c->group);
	snprintf(pair, sizeof(pair), "%" PRId64, key);
	snprintf(pid, sizeof(pid), "%d", lease ? (int)req->pid : 0);
	snprintf(start, sizeof(start), "%" PRIu64, c->pid_start);
	snprintf(uid, sizeof(uid), "%u", (unsigned)req->uid);
	snprintf(now, sizeof(now), "%" PRId64, t);
	k = pg_do(s,
		  "INSERT INTO mcs_owners (owner, pair, holder, group_name,"
		  " kind, host, boot_id, pid, pid_start, uid, type, created)"
		  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		  (int)ELEMENTSOF(p), p, err);
	if (k < 0)
		return k;
	if (c->ret) {
		mcs_registry_entry *e = c->ret;

		memset(e, 0, sizeof(*e));
		snprintf(e->owner, sizeof(e->owner), "%s", req->owner);
		key_level(key, e->level);
		snprintf(e->group, sizeof(e->group), "%s",
			 c->group ? c->group : "");
		e->kind = req->kind;
		e->pid = lease ? req->pid : 0;
		e->pid_start = c->pid_start;
		e->uid = req->uid;
		snprintf(e->type, sizeof(e->type), "%s",
			 req->type ? req->type : "");
		e->created = t;
	}
	return 0;
}

/* -EEXIST naming who holds the pair key. */
static int pg_in_use(store_pg *s, int64_t key, const char *level,
		     mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char pair[24];
	const char *p[] = {pair};
	int k;

	snprintf(pair, sizeof(pair), "%" PRId64, key);
	r = pg_q(s, "SELECT holder FROM mcs_pairs WHERE pair = $1", 1, p, &k,
		 NULL);
	const char *h = r && PQntuples(r) ? col(r, 0, 0) : "o:?";
	if (h[0] == 'g')
		return mcs_error_set(err, -EEXIST,
				     "level %s is in use by group %s", level,
				     h + 2);
	return mcs_error_set(err, -EEXIST, "level %s is in use by %s", level,
			     *h ? h + 2 : "?");
}

/* Take the explicit pair c->want for holder: 0, -EEXIST, -EINVAL. */
static int pg_take_want(store_pg *s, struct alloc_call *c, const char *holder,
			mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char pair[24];
	const char *p[] = {pair, holder};
	const char *state;
	int k;

	snprintf(pair, sizeof(pair), "%" PRId64, c->want);
	r = pg_q(s, "SELECT state FROM mcs_pairs WHERE pair = $1 FOR UPDATE", 1,
		 p, &k, err);
	if (!r)
		return k;
	state = PQntuples(r) ? PQgetvalue(r, 0, 0) : "excluded";
	if (strcmp(state, "excluded") == 0)
		return mcs_error_set(err, -EINVAL,
				     "invalid level: %s is reserved and never "
				     "handed out",
				     c->want_level);
	if (strcmp(state, "held") == 0)
		return pg_in_use(s, c->want, c->want_level, err);
	k = pg_do(s,
		  "UPDATE mcs_pairs SET state = 'held', holder = $2,"
		  " release_seq = NULL, released_at = NULL WHERE pair = $1",
		  2, p, err);
	if (k < 0)
		return k;
	return pg_count(s, 1, strcmp(state, "released") == 0 ? -1 : 0, 0, 0,
			err);
}

/*
 * Take a pair for holder: the never-used pair with the lowest random
 * pick, else the least recently released one; rows locked by other
 * transactions are skipped, never waited for.  *ret_key; -ENOSPC.
 */
static int pg_take_any(store_pg *s, const char *holder, int64_t *ret_key,
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
		_cleanup_res_ PGresult *r = pg_q(s, take[i], 1, p, &k, err);

		if (!r)
			return k;
		if (PQntuples(r) == 1) {
			*ret_key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			return pg_count(s, 1, i == 1 ? -1 : 0, 0, 0, err);
		}
	}
	return mcs_error_set(err, -ENOSPC,
			     "registry exhausted: every level of c%u.c%u is "
			     "in use",
			     s->range.lo, s->range.hi);
}

static int pg_allocate_body(store_pg *s, void *arg, mcs_error *err)
{
	struct alloc_call *c = arg;
	const mcs_registry_request *req = c->req;
	char holder[MCS_REGISTRY_OWNER_MAX + 3], level[MCS_REGISTRY_LEVEL_MAX];
	mcs_registry_entry cur;
	int64_t key = c->want;
	int k;

	k = pg_owner(s, req->owner, false, &cur, NULL, err);
	if (k < 0)
		return k;
	if (k > 0) {
		if (req->uid != 0 && cur.uid != req->uid)
			return mcs_error_set(err, -EPERM,
					     "owner %s belongs to uid %u, not "
					     "to uid %u",
					     req->owner, (unsigned)cur.uid,
					     (unsigned)req->uid);
		if (c->want >= 0 && strcmp(c->want_level, cur.level) != 0)
			return mcs_error_set(
				err, -EEXIST,
				"owner %s already holds %s, not %s", req->owner,
				cur.level, c->want_level);
		if (strcmp(c->group ? c->group : "", cur.group) != 0)
			return mcs_error_set(err, -EEXIST,
					     "owner %s already holds %s in "
					     "group \"%s\"",
					     req->owner, cur.level, cur.group);
		if (c->ret)
			*c->ret = cur;
		return 0;
	}
	holder_of(holder, req->owner, c->group);
	if (c->group) {
		_cleanup_res_ PGresult *r = NULL;
		const char *p[] = {holder};

		/* locked: the last member cannot leave meanwhile */
		r = pg_q(s,
			 "SELECT pair FROM mcs_pairs WHERE holder = $1"
			 " FOR UPDATE",
			 1, p, &k, err);
		if (!r)
			return k;
		if (PQntuples(r) == 1) {
			key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			key_level(key, level);
			if (c->want >= 0 && key != c->want)
				return mcs_error_set(
					err, -EEXIST,
					"group %s holds %s, not %s", c->group,
					level, c->want_level);
			k = pg_insert_owner(s, c, key, err);
			if (k >= 0)
				k = pg_count(s, 0, 0, 0, 1, err);
			return k < 0 ? k : 1;
		}
	}
	if (c->want >= 0)
		k = pg_take_want(s, c, holder, err);
	else
		k = pg_take_any(s, holder, &key, err);
	if (k < 0)
		return k;
	k = pg_insert_owner(s, c, key, err);
	if (k >= 0)
		k = pg_count(s, 0, 0, 0, 1, err);
	return k < 0 ? k : 1;
}

int store_pg_allocate(store_pg *s, const mcs_registry_request *req,
		      mcs_registry_entry *ret, mcs_error *err)
{
	struct alloc_call c = {.req = req, .want = -1, .ret = ret};
	int k;

	if (!s || !req)
		return mcs_error_set(err, -EINVAL, "no request");
	c.group = req->group && *req->group ? req->group : NULL;
	if (!req->owner || !name_valid(req->owner))
		return mcs_error_set(err, -EINVAL,
				     "invalid owner \"%.64s\": want 1-255 of "
				     "[A-Za-z0-9_.:@-]",
				     req->owner ? req->owner : "");
	if (c.group && !name_valid(c.group))
		return mcs_error_set(err, -EINVAL,
				     "invalid group \"%.64s\": want 1-255 of "
				     "[A-Za-z0-9_.:@-]",
				     c.group);
	if (req->type && !type_valid(req->type))
		return mcs_error_set(err, -EINVAL, "invalid type \"%.64s\"",
				     req->type);
	if (req->kind != MCS_REGISTRY_LEASE &&
	    req->kind != MCS_REGISTRY_RESERVATION)
		return mcs_error_set(err, -EINVAL, "invalid kind %d",
				     (int)req->kind);
	if (req->pid < 0)
		return mcs_error_set(err, -EINVAL, "invalid pid %d",
				     (int)req->pid);
	if (req->level && *req->level) {
		k = level_key(s, req->level, &c.want, err);
		if (k < 0) {
			mcs_error_prefix(err, "invalid level: ");
			return -EINVAL;
		}
		key_level(c.want, c.want_level);
		if (key_excluded(s, c.want))
			return mcs_error_set(err, -EINVAL,
					     "invalid level: %s is reserved "
					     "and never handed out",
					     req->level);
	}
	if (req->kind == MCS_REGISTRY_LEASE && req->pid > 0) {
		k = proc_pid_start_time(req->pid, &c.pid_start);
		if (k < 0)
			return mcs_error_set(
				err, k, "owner %s: lease pid %d: %s",
				req->owner, (int)req->pid, strerror(-k));
	}
	return pg_tx(s, pg_allocate_body, &c, err);
}

/* ---- release, lookup, list, status ------------------------------------- */

struct release_call {
	const char *owner;
	uid_t uid;
};

static int pg_release_body(store_pg *s, void *arg, mcs_error *err)
{
	struct release_call *c = arg;
	mcs_registry_entry cur;
	char pair[24], now[24], holder[MCS_REGISTRY_OWNER_MAX + 3];
	int64_t key;
	int k;

	k = pg_owner(s, c->owner, true, &cur, &key, err);
	if (k < 0)
		return k;
	if (k == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     c->owner);
	if (c->uid != 0 && cur.uid != c->uid)
		return mcs_error_set(
			err, -EPERM,
			"owner %s belongs to uid %u, not to uid %u", c->owner,
			(unsigned)cur.uid, (unsigned)c->uid);
	const char *po[] = {c->owner};
	k = pg_do(s, "DELETE FROM mcs_owners WHERE owner = $1", 1, po, err);
	if (k < 0)
		return k;
	if (*cur.group) {
		_cleanup_res_ PGresult *r = NULL;
		const char *pg[] = {cur.group};

		r = pg_q(s,
			 "SELECT 1 FROM mcs_owners WHERE group_name = $1"
			 " LIMIT 1",
			 1, pg, &k, err);
		if (!r)
			return k;
		if (PQntuples(r) > 0) /* other members keep the level */
			return pg_count(s, 0, 0, 0, -1, err);
	}
	holder_of(holder, c->owner, *cur.group ? cur.group : NULL);
	snprintf(pair, sizeof(pair), "%" PRId64, key);
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL));
	const char *pp[] = {pair, now, holder};
	/* holder in the WHERE: the pair is ours; the FOREIGN KEY refuses
	 * it while a member that joined meanwhile refers to it */
	k = pg_do(s,
		  "UPDATE mcs_pairs SET state = 'released', holder = NULL,"
		  " release_seq = nextval('mcs_release_seq'), released_at = $2"
		  " WHERE pair = $1 AND holder = $3",
		  3, pp, err);
	if (k >= 0)
		k = pg_count(s, -1, 1, 0, -1, err);
	return k;
}

int store_pg_release(store_pg *s, const char *owner, uid_t uid, mcs_error *err)
{
	struct release_call c = {owner, uid};

	if (!s || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	return pg_tx(s, pg_release_body, &c, err);
}

int store_pg_lookup(store_pg *s, const char *owner, mcs_registry_entry *ret,
		    mcs_error *err)
{
	int k;

	if (!s || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	k = pg_ready(s, err);
	if (k < 0)
		return k;
	k = pg_owner(s, owner, false, ret, NULL, err);
	if (k == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	return k < 0 ? k : 0;
}

int store_pg_list_page(store_pg *s, const char *after,
		       mcs_registry_entry *entries, size_t max, size_t *ret_n,
		       mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	char lim[24];
	const char *p[] = {after ? after : "", lim};
	int k;

	if (!s || !entries || !ret_n || max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "list: bad arguments");
	k = pg_ready(s, err);
	if (k < 0)
		return k;
	snprintf(lim, sizeof(lim), "%zu", max);
	r = pg_q(s,
		 "SELECT " OWNER_COLS " FROM mcs_owners WHERE owner > $1"
		 " ORDER BY owner LIMIT $2",
		 2, p, &k, err);
	if (!r)
		return k;
	for (int i = 0; i < PQntuples(r); i++)
		row_entry(r, i, &entries[i], NULL);
	*ret_n = (size_t)PQntuples(r);
	return 0;
}

int store_pg_status(store_pg *s, mcs_registry_counts *ret, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	uint64_t pairs = mcs_pair_count(&s->range);
	int k;

	k = pg_ready(s, err);
	if (k < 0)
		return k;
	r = pg_q(s,
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

/* ---- reconcile --------------------------------------------------------- */

int store_pg_reconcile(store_pg *s, size_t *ret_released, mcs_error *err)
{
	char after[MCS_REGISTRY_OWNER_MAX + 1] = "";
	char lim[16];
	size_t released = 0;
	int k, n;

	snprintf(lim, sizeof(lim), "%d", PG_RECONCILE_CHUNK);
	do {
		_cleanup_res_ PGresult *r = NULL;
		const char *p[] = {s->host, after, lim};

		k = pg_ready(s, err);
		if (k < 0)
			return k;
		/* this host's leases only: another host's pids mean
		 * nothing here */
		r = pg_q(s,
			 "SELECT owner, pid, pid_start, boot_id FROM mcs_owners"
			 " WHERE kind = 'lease' AND host = $1 AND owner > $2"
			 " ORDER BY owner LIMIT $3",
			 3, p, &k, err);
		if (!r)
			return k;
		n = PQntuples(r);
		for (int i = 0; i < n; i++) {
			pid_t pid = (pid_t)strtol(col(r, i, 1), NULL, 10);
			uint64_t want = strtoull(col(r, i, 2), NULL, 10), now;
			bool gone = strcmp(col(r, i, 3), s->boot_id) != 0;

			if (!gone && pid > 0)
				gone = proc_pid_start_time(pid, &now) ==
					       -ESRCH ||
				       (want != 0 && now != want);
			if (!gone)
				continue;
			k = store_pg_release(s, col(r, i, 0), 0, err);
			if (k == -ENOENT) /* released meanwhile */
				continue;
			if (k < 0)
				return k;
			released++;
		}
		if (n > 0)
			snprintf(after, sizeof(after), "%s", col(r, n - 1, 0));
	} while (n == PG_RECONCILE_CHUNK);
	if (ret_released)
		*ret_released = released;
	return 0;
}

/* ---- import (mcsd migrate) --------------------------------------------- */

int store_pg_begin(store_pg *s, mcs_error *err)
{
	int k = pg_ready(s, err);

	if (k >= 0)
		k = pg_do(s, "BEGIN", 0, NULL, err);
	s->in_tx = k >= 0;
	return k;
}

int store_pg_commit(store_pg *s, mcs_error *err)
{
	int k = pg_do(s, "COMMIT", 0, NULL, err);

	s->in_tx = false;
	return k;
}

void store_pg_rollback(store_pg *s)
{
	if (s->in_tx && s->conn)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	s->in_tx = false;
}

int store_pg_import(store_pg *s, const mcs_registry_entry *e,
		    const char *boot_id, mcs_error *err)
{
	_cleanup_res_ PGresult *r = NULL;
	const char *group = *e->group ? e->group : NULL;
	char holder[MCS_REGISTRY_OWNER_MAX + 3], pair[24], pid[16], start[24],
		uid[16], created[24];
	bool lease = e->kind == MCS_REGISTRY_LEASE;
	mcs_registry_entry cur;
	int64_t key;
	int k;

	k = level_key(s, e->level, &key, err);
	if (k < 0)
		return mcs_error_prefix(err, "owner %s: ", e->owner);
	k = pg_owner(s, e->owner, true, &cur, NULL, err);
	if (k < 0)
		return k;
	if (k > 0)
		return mcs_error_set(err, -EEXIST,
				     "owner %s already holds %s in the "
				     "cluster (here %s)",
				     e->owner, cur.level, e->level);
	holder_of(holder, e->owner, group);
	snprintf(pair, sizeof(pair), "%" PRId64, key);
	if (group) {
		const char *ph[] = {holder};

		r = pg_q(s, "SELECT pair FROM mcs_pairs WHERE holder = $1", 1,
			 ph, &k, err);
		if (!r)
			return k;
		if (PQntuples(r) == 1 &&
		    strtoll(PQgetvalue(r, 0, 0), NULL, 10) != key) {
			char other[MCS_REGISTRY_LEVEL_MAX];

			key_level(strtoll(PQgetvalue(r, 0, 0), NULL, 10),
				  other);
			return mcs_error_set(err, -EEXIST,
					     "owner %s: group %s holds %s in "
					     "the cluster, not %s",
					     e->owner, group, other, e->level);
		}
		PQclear(r);
		r = NULL;
	}
	const char *pq[] = {pair};
	r = pg_q(s,
		 "SELECT state, holder FROM mcs_pairs WHERE pair = $1"
		 " FOR UPDATE",
		 1, pq, &k, err);
	if (!r)
		return k;
	const char *state = PQntuples(r) ? PQgetvalue(r, 0, 0) : "excluded";
	if (strcmp(state, "held") == 0) {
		if (strcmp(col(r, 0, 1), holder) != 0)
			return mcs_error_set(
				err, -EEXIST,
				"owner %s: level %s is held by %s in the "
				"cluster",
				e->owner, e->level, col(r, 0, 1));
		/* another member of the same group, imported before */
	} else if (strcmp(state, "excluded") == 0) {
		return mcs_error_set(err, -EEXIST,
				     "owner %s: level %s is excluded in the "
				     "cluster",
				     e->owner, e->level);
	} else {
		const char *pu[] = {pair, holder};

		k = pg_do(s,
			  "UPDATE mcs_pairs SET state = 'held', holder = $2,"
			  " release_seq = NULL, released_at = NULL"
			  " WHERE pair = $1",
			  2, pu, err);
		if (k >= 0)
			k = pg_count(s, 1,
				     strcmp(state, "released") == 0 ? -1 : 0, 0,
				     0, err);
		if (k < 0)
			return k;
	}
	snprintf(pid, sizeof(pid), "%d", lease ? (int)e->pid : 0);
	snprintf(start, sizeof(start), "%" PRIu64, e->pid_start);
	snprintf(uid, sizeof(uid), "%u", (unsigned)e->uid);
	snprintf(created, sizeof(created), "%" PRId64, e->created);
	const char *p[] = {
		e->owner,
		pair,
		holder,
		group,
		lease ? "lease" : "reservation",
		lease ? s->host : NULL,
		lease ? (boot_id ? boot_id : s->boot_id) : NULL,
		pid,
		start,
		uid,
		*e->type ? e->type : NULL,
		created,
	};
	k = pg_do(s,
		  "INSERT INTO mcs_owners (owner, pair, holder, group_name,"
		  " kind, host, boot_id, pid, pid_start, uid, type, created)"
		  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		  (int)ELEMENTSOF(p), p, err);
	if (k >= 0)
		k = pg_count(s, 0, 0, 0, 1, err);
	return k;
}
