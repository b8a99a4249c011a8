/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite.c - the registry's sqlite engine behind store.h: with
 * walvfs.c (its VFS) the only file of mcskit that includes sqlite3.h.  It
 * owns the schema and its migrations, the prepared statements,
 * transactions (BEGIN IMMEDIATE, each holding the writer gate that a
 * RESTART checkpoint takes; a SAVEPOINT per call of a batch), durability
 * (synchronous=NORMAL plus its own fdatasync of the WAL in sync), the
 * checkpoints off the committing thread when asked, the mapping of sqlite
 * result codes to -errno, and the in-memory pair index (alloc.c) that
 * makes pair_claim a uniform O(1) pick at any fill level.
 *
 * The index is this engine's optimisation, authoritative because one
 * mcsd owns the database file: it mirrors the tables.  Whatever changes
 * it inside a transaction or savepoint marks that scope dirty; undoing a
 * dirty scope (rollback, failed commit, savepoint_end without keep)
 * rebuilds it from the tables.
 *
 * Invariants (docs/registry.md has the full list):
 *  - a row in `pairs` exists for each pair that is held or released
 *    (quarantined); a never-used pair has no row;
 *  - a held pair has >= 1 owner row; all its owners have the same
 *    group_name (NULL: then exactly one owner, the pair's holder) -
 *    enforced by triggers too;
 *  - the memory index and the count of owner rows equal the tables
 *    outside a transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#include "alloc.h"
#include "log.h"
#include "util.h"
#include "walvfs.h"

static void sqlite3_finalize_p(sqlite3_stmt **s)
{
	sqlite3_finalize(*s);
}

/* Ordered migrations: migration[i] takes user_version i to i + 1. */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE pairs ("
	"  level TEXT PRIMARY KEY," /* canonical s0:cX,cY */
	"  state TEXT NOT NULL CHECK (state IN ('held', 'released')),"
	"  group_name TEXT UNIQUE,"	/* the group holding it */
	"  release_seq INTEGER UNIQUE," /* LRU order, NULL while held */
	"  released_at INTEGER"		/* unix time of the release */
	") WITHOUT ROWID;"
	"CREATE TABLE owners ("
	"  owner TEXT PRIMARY KEY,"
	"  level TEXT NOT NULL REFERENCES pairs (level),"
	"  group_name TEXT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('lease', 'reservation')),"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  pid_start INTEGER NOT NULL DEFAULT 0,"
	"  boot_id TEXT,"
	"  uid INTEGER NOT NULL,"
	"  type TEXT,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX owners_level ON owners (level);"
	/* last line of defence: one owner-set per level, held pairs only */
	"CREATE TRIGGER owners_one_set BEFORE INSERT ON owners BEGIN"
	"  SELECT RAISE (ABORT, 'level in use by another owner')"
	"  WHERE EXISTS (SELECT 1 FROM owners WHERE level = NEW.level"
	"    AND (NEW.group_name IS NULL OR group_name IS NOT NEW.group_name))"
	"  OR (SELECT state FROM pairs WHERE level = NEW.level) IS NOT 'held';"
	"END;",
	/*
	 * 2: pairs keyed by the integer 1024 * x + y (range independent, like
	 * the text) and owners clustered by owner name, so an allocation
	 * dirties about two B-tree leaves instead of nine: the text level
	 * becomes a virtual column, the single owner of a pair is kept in
	 * the pair's row (holder) instead of an index on owners.level, and
	 * the group and release-order indexes are partial (only grouped and
	 * released pairs have entries).
	 */
	"CREATE TABLE pairs2 ("
	"  pair INTEGER PRIMARY KEY CHECK (pair >= 0 AND pair < 1048576"
	"    AND (pair & 1023) > (pair >> 10)),"
	"  level TEXT GENERATED ALWAYS AS"
	"    ('s0:c' || (pair >> 10) || ',c' || (pair & 1023)) VIRTUAL,"
	"  state TEXT NOT NULL CHECK (state IN ('held', 'released')),"
	"  holder TEXT," /* the owner of a held pair with no group */
	"  group_name TEXT,"
	"  release_seq INTEGER,"
	"  released_at INTEGER,"
	"  CHECK ((state = 'held') = (release_seq IS NULL)),"
	"  CHECK (CASE state WHEN 'held' THEN (holder IS NULL) <>"
	"    (group_name IS NULL) ELSE holder IS NULL AND group_name IS NULL"
	"    END)"
	");"
	"CREATE TABLE owners2 ("
	"  owner TEXT PRIMARY KEY,"
	"  pair INTEGER NOT NULL," /* the trigger checks it is held */
	"  level TEXT GENERATED ALWAYS AS"
	"    ('s0:c' || (pair >> 10) || ',c' || (pair & 1023)) VIRTUAL,"
	"  group_name TEXT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('lease', 'reservation')),"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  pid_start INTEGER NOT NULL DEFAULT 0,"
	"  boot_id TEXT,"
	"  uid INTEGER NOT NULL,"
	"  type TEXT,"
	"  created INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO pairs2 (pair, state, holder, group_name, release_seq,"
	"    released_at)"
	"  SELECT (CAST(substr(p.level, 5, instr(p.level, ',') - 5) AS INTEGER)"
	"      << 10) | CAST(substr(p.level, instr(p.level, ',') + 2) AS "
	"INTEGER),"
	"    p.state, CASE WHEN p.state = 'held' AND p.group_name IS NULL THEN"
	"      (SELECT o.owner FROM owners o WHERE o.level = p.level) END,"
	"    p.group_name, p.release_seq, p.released_at FROM pairs p;"
	"INSERT INTO owners2 (owner, pair, group_name, kind, pid, pid_start,"
	"    boot_id, uid, type, created)"
	"  SELECT owner,"
	"    (CAST(substr(level, 5, instr(level, ',') - 5) AS INTEGER) << 10)"
	"      | CAST(substr(level, instr(level, ',') + 2) AS INTEGER),"
	"    group_name, kind, pid, pid_start, boot_id, uid, type, created"
	"  FROM owners;"
	"DROP TABLE owners;"
	"DROP TABLE pairs;"
	"ALTER TABLE pairs2 RENAME TO pairs;"
	"ALTER TABLE owners2 RENAME TO owners;"
	"CREATE UNIQUE INDEX pairs_group ON pairs (group_name)"
	"  WHERE group_name IS NOT NULL;"
	"CREATE UNIQUE INDEX pairs_released ON pairs (release_seq)"
	"  WHERE release_seq IS NOT NULL;"
	"CREATE INDEX owners_group ON owners (group_name)"
	"  WHERE group_name IS NOT NULL;"
	/* last line of defence: an owner row must be the holder of its
	 * held pair, or a member of the group holding it */
	"CREATE TRIGGER owners_one_set BEFORE INSERT ON owners BEGIN"
	"  SELECT RAISE (ABORT, 'level in use by another owner')"
	"  WHERE NOT EXISTS (SELECT 1 FROM pairs WHERE pair = NEW.pair"
	"    AND state = 'held' AND CASE WHEN NEW.group_name IS NULL"
	"      THEN holder IS NEW.owner ELSE group_name IS NEW.group_name END);"
	"END;"
	"CREATE TRIGGER owners_fixed BEFORE UPDATE OF owner, pair, group_name"
	"  ON owners BEGIN"
	"  SELECT RAISE (ABORT, 'an owner row is never moved');"
	"END;",
};

enum {
	STMT_OWNER_GET,
	STMT_OWNER_INSERT,
	STMT_OWNER_DELETE,
	STMT_GROUP_COUNT,
	STMT_GROUP_UID,
	STMT_PAIR_HOLDER,
	STMT_GROUP_PAIR,
	STMT_PAIR_INSERT,
	STMT_PAIR_TAKE,
	STMT_PAIR_RELEASE,
	STMT_LIST_PAGE,
	STMT_LEASE_PAGE,
	STMT_SAVEPOINT,
	STMT_RELEASE_SAVEPOINT,
	STMT_ROLLBACK_SAVEPOINT,
	_STMT_MAX,
};

#define OWNER_COLS                                                             \
	"owner, level, group_name, kind, pid, pid_start, uid, type, created, " \
	"pair"

static const char *const stmt_sql[_STMT_MAX] = {
	[STMT_OWNER_GET] = "SELECT " OWNER_COLS " FROM owners WHERE owner = ?1",
	[STMT_OWNER_INSERT] =
		"INSERT INTO owners (owner, pair, group_name, kind, pid,"
		" pid_start, boot_id, uid, type, created)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[STMT_OWNER_DELETE] = "DELETE FROM owners WHERE owner = ?1",
	[STMT_GROUP_COUNT] =
		"SELECT count(*) FROM owners WHERE group_name = ?1",
	[STMT_GROUP_UID] = "SELECT uid FROM owners WHERE group_name = ?1"
			   " AND uid <> 0 LIMIT 1",
	[STMT_PAIR_HOLDER] = "SELECT holder, group_name FROM pairs"
			     " WHERE pair = ?1",
	[STMT_GROUP_PAIR] = "SELECT pair FROM pairs"
			    " WHERE group_name = ?1 AND state = 'held'",
	[STMT_PAIR_INSERT] =
		"INSERT INTO pairs (pair, state, holder, group_name)"
		" VALUES (?1, 'held', ?2, ?3)",
	[STMT_PAIR_TAKE] = "UPDATE pairs SET state = 'held', holder = ?2,"
			   " group_name = ?3, release_seq = NULL,"
			   " released_at = NULL"
			   " WHERE pair = ?1 AND state = 'released'",
	[STMT_PAIR_RELEASE] = "UPDATE pairs SET state = 'released',"
			      " holder = NULL, group_name = NULL,"
			      " release_seq = ?2, released_at = ?3"
			      " WHERE pair = ?1",
	[STMT_LIST_PAGE] = "SELECT " OWNER_COLS " FROM owners WHERE owner > ?1"
			   " ORDER BY owner LIMIT ?2",
	[STMT_LEASE_PAGE] = "SELECT owner, pid, pid_start, boot_id FROM owners"
			    " WHERE kind = 'lease' AND owner > ?1"
			    " ORDER BY owner LIMIT ?2",
	[STMT_SAVEPOINT] = "SAVEPOINT op",
	[STMT_RELEASE_SAVEPOINT] = "RELEASE op",
	[STMT_ROLLBACK_SAVEPOINT] = "ROLLBACK TO op",
};

typedef struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[_STMT_MAX]; /* prepared lazily, kept until close */
	mcs_cat_range range;	       /* categories handed out */
	alloc *pairs;		       /* memory index, mirrors the tables */
	bool in_tx;		       /* between begin and commit/rollback */
	bool in_savepoint;	       /* between savepoint and its end */
	bool tx_dirty;		       /* memory changed in this transaction */
	bool op_dirty;		       /* memory changed since the savepoint */
	int64_t next_seq;	       /* next release_seq to write */
	uint64_t held_outside;	       /* held pairs outside the range */
	uint64_t owners;    /* rows of owners: counts without a table scan */
	uint32_t *excluded; /* excluded indices (always excluded) */
	size_t n_excluded;
	int wal_fd; /* our own fd of the -wal file (fdatasync), or -1 */
	int db_fd;  /* our own fd of the database file (inode check), or -1 */
	char path[4096]; /* the database's path ("" in memory) */
	/* the file behind the database's or the WAL's path is not the one
	 * open any more (unlinked, replaced, renamed): nothing is committed
	 * from then on (set by the writer, read by sync too) */
	atomic_bool files_lost;
	/* checkpoints in another thread (checkpoint_elsewhere) */
	sqlite3 *ck_db; /* the checkpointer's own connection */
	/* held by the writer for each of its transactions (BEGIN to COMMIT
	 * or ROLLBACK) and by the checkpointer for a RESTART, which would
	 * otherwise poll for the writer's lock and its readers while the
	 * writer polls for it */
	pthread_mutex_t writer_gate;
	atomic_int wal_frames; /* frames in the WAL after the last commit */
} sqlite_store;

static sqlite_store *to_sq(store *s)
{
	return (sqlite_store *)s;
}

static int sq_error(sqlite_store *q, int rc, mcs_error *err, const char *what)
{
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = -EBUSY;
		break;
	case SQLITE_NOMEM:
		code = -ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
		code = -EEXIST;
		break;
	case SQLITE_FULL:
		code = -ENOSPC;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		code = -EACCES;
		break;
	case SQLITE_READONLY: /* also: the file was moved (DBMOVED) */
		code = -EROFS;
		break;
	default:
		code = -EIO;
	}
	/* mcsd_registry_open() prefixes "registry PATH: " */
	return mcs_error_set(err, code, "%s: %s", what,
			     q && q->db ? sqlite3_errmsg(q->db)
					: sqlite3_errstr(rc));
}

static int sq_exec(sqlite_store *q, const char *sql, mcs_error *err)
{
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return sq_error(q, rc, err, sql);
	return 0;
}

/* The prepared statement id, reset and with no bindings. */
static sqlite3_stmt *sq_stmt(sqlite_store *q, int id, mcs_error *err)
{
	int rc;

	if (!q->stmt[id]) {
		rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &q->stmt[id],
					NULL);
		if (rc != SQLITE_OK) {
			sq_error(q, rc, err, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(q->stmt[id]);
	sqlite3_clear_bindings(q->stmt[id]);
	return q->stmt[id];
}

/* Step s to its end and reset it. */
static int sq_step_done(sqlite_store *q, sqlite3_stmt *s, mcs_error *err,
			const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_error(q, rc, err, what);
	return 0;
}

/*
 * The first row of the prepared statement id, its one parameter the text
 * key: 1 with *ret on that row (read its columns, then sqlite3_reset()),
 * 0 when there is none, -errno (err says what failed).
 */
static int sq_row(sqlite_store *q, int id, const char *key, sqlite3_stmt **ret,
		  mcs_error *err, const char *what)
{
	sqlite3_stmt *st = sq_stmt(q, id, err);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = st;
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sq_error(q, rc, err, what);
}

/* Run the prepared statement id (savepoints: prepared once, not parsed
 * again for every call of a batch). */
static int sq_run(sqlite_store *q, int id, mcs_error *err)
{
	sqlite3_stmt *s = sq_stmt(q, id, err);

	if (!s)
		return -EIO;
	return sq_step_done(q, s, err, stmt_sql[id]);
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static void row_to_entry(sqlite3_stmt *s, mcsd_registry_entry *e)
{
	const unsigned char *kind = sqlite3_column_text(s, 3);

	memset(e, 0, sizeof(*e));
	copy_col(e->owner, sizeof(e->owner), s, 0);
	copy_col(e->level, sizeof(e->level), s, 1);
	copy_col(e->group, sizeof(e->group), s, 2);
	e->kind = kind && strcmp((const char *)kind, "reservation") == 0
			  ? MCSD_REGISTRY_RESERVATION
			  : MCSD_REGISTRY_LEASE;
	e->pid = (pid_t)sqlite3_column_int64(s, 4);
	e->pid_start = (uint64_t)sqlite3_column_int64(s, 5);
	e->uid = (uid_t)sqlite3_column_int64(s, 6);
	copy_col(e->type, sizeof(e->type), s, 7);
	e->created = sqlite3_column_int64(s, 8);
}

/* Table key -> pair index in q's range: 0, or -ERANGE outside it. */
static int key_index(const sqlite_store *q, store_key key, uint32_t *ret_idx)
{
	uint64_t idx;

	if (key < 0 || key >= (int64_t)1 << 20 ||
	    mcs_pair_to_index(&q->range, STORE_KEY_X(key), STORE_KEY_Y(key),
			      &idx) < 0)
		return -ERANGE;
	*ret_idx = (uint32_t)idx;
	return 0;
}

/* The table key of pair index idx of q's range. */
static store_key index_key(const sqlite_store *q, uint32_t idx)
{
	unsigned x = 0, y = 0;

	mcs_pair_from_index(&q->range, idx, &x, &y);
	return STORE_KEY(x, y);
}

/* The memory index or the owner count changed. */
static void mark_dirty(sqlite_store *q)
{
	if (q->in_savepoint)
		q->op_dirty = true;
	else
		q->tx_dirty = true;
}

/* Rebuild the memory index, next_seq and the owner count from the
 * tables. */
static int sq_rebuild(sqlite_store *q, mcs_error *err)
{
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *s = NULL;
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *c = NULL;
	int rc;

	rc = sqlite3_prepare_v2(q->db, "SELECT count(*) FROM owners", -1, &c,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(c);
	if (rc != SQLITE_ROW)
		return sq_error(q, rc, err, "count owners");
	q->owners = (uint64_t)sqlite3_column_int64(c, 0);
	alloc_reset(q->pairs);
	q->held_outside = 0;
	q->next_seq = 1;
	for (size_t i = 0; i < q->n_excluded; i++)
		alloc_set(q->pairs, q->excluded[i], ALLOC_EXCLUDED);
	/* Held pairs in table order, then the released ones by release_seq
	 * through its index, so the quarantine keeps LRU order.  No sort
	 * of the whole table (its heap would stay with malloc). */
	static const char *const load[] = {
		"SELECT pair, 1, 0 FROM pairs WHERE state = 'held'",
		"SELECT pair, 0, release_seq FROM pairs"
		" WHERE release_seq IS NOT NULL ORDER BY release_seq",
	};
	for (size_t i = 0; i < ELEMENTSOF(load); i++) {
		sqlite3_finalize(s);
		s = NULL;
		rc = sqlite3_prepare_v2(q->db, load[i], -1, &s, NULL);
		if (rc != SQLITE_OK)
			return sq_error(q, rc, err, "load pairs");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			bool held = sqlite3_column_int(s, 1) != 0;
			uint32_t idx;

			if (sqlite3_column_int64(s, 2) >= q->next_seq)
				q->next_seq = sqlite3_column_int64(s, 2) + 1;
			if (key_index(q, sqlite3_column_int64(s, 0), &idx) <
				    0 ||
			    alloc_state(q->pairs, idx) == ALLOC_EXCLUDED) {
				/* outside the range now, or excluded since:
				 * never handed out, but a holder keeps it */
				if (held)
					q->held_outside++;
				continue;
			}
			alloc_set(q->pairs, idx,
				  held ? ALLOC_HELD : ALLOC_QUARANTINED);
		}
		if (rc != SQLITE_DONE)
			return sq_error(q, rc, err, "load pairs");
	}
	return 0;
}

static int sq_migrate(sqlite_store *q, mcs_error *err)
{
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *s = NULL;
	int version, k;

	k = sq_exec(q, "BEGIN IMMEDIATE", err);
	if (k < 0)
		return k;
	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		k = sq_error(q, SQLITE_ERROR, err, "user_version");
		goto fail;
	}
	version = sqlite3_column_int(s, 0);
	/* a pending statement would lock the tables a migration drops */
	sqlite3_reset(s);
	if (version > (int)ELEMENTSOF(migrations)) {
		k = mcs_error_set(err, -EPROTO,
				  "registry schema version %d is newer than "
				  "this mcskit (%zu)",
				  version, ELEMENTSOF(migrations));
		goto fail;
	}
	for (; version < (int)ELEMENTSOF(migrations); version++) {
		char sql[64];

		k = sq_exec(q, migrations[version], err);
		if (k < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 version + 1);
		k = sq_exec(q, sql, err);
		if (k < 0)
			goto fail;
	}
	return sq_exec(q, "COMMIT", err);
fail:
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return k;
}

/* The range and the excluded keys as pair indices. */
static int sq_config(sqlite_store *q, const store_config *cfg)
{
	uint32_t idx;

	q->range = cfg->range;
	q->excluded = calloc(cfg->n_excluded + 1, sizeof(uint32_t));
	if (!q->excluded)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_excluded; i++)
		if (key_index(q, cfg->excluded[i], &idx) == 0)
			q->excluded[q->n_excluded++] = idx;
	return alloc_new((uint32_t)mcs_pair_count(&q->range), &q->pairs);
}

/* Wait for a lock in steps of 100 us, 5 s at most: sqlite's own busy
 * timeout sleeps a millisecond or more, long next to a batch of mcsd. */
static int sq_busy(void *arg, int count)
{
	(void)arg;
	if (count >= 50000)
		return 0;
	struct timespec ts = {0, 100 * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

/* The checkpointer's RESTART holds the writer gate: it waits 2 ms at most
 * for readers of other processes, then gives up until next time. */
static int sq_busy_short(void *arg, int count)
{
	return count < 20 ? sq_busy(arg, count) : 0;
}

/* ---- what is on disk -------------------------------------------------- */

/*
 * Before sqlite sees path: a registry is created only when there is no
 * file at all (sqlite would take an empty or 1-byte file for a new
 * database, and a WAL without its database would be thrown away); an
 * existing file must be a regular file with sqlite's header.
 * *ret_create tells whether to create it.
 */
static int sq_check_file(const char *path, bool *ret_create, mcs_error *err)
{
	static const char magic[16] = "SQLite format 3";
	_cleanup_close_ int fd = -1;
	char hdr[16], wal[4096 + 8];
	struct stat st;

	*ret_create = false;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return mcs_error_set(err, negative_errno(), "%m");
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (stat(wal, &st) == 0)
			return mcs_error_set(err, -EUCLEAN,
					     "missing, but its WAL %s is "
					     "there: refusing to start a new "
					     "registry beside it",
					     wal);
		*ret_create = true; /* the first start: no file at all */
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return mcs_error_set(err, -EUCLEAN, "not a regular file");
	if (st.st_size == 0)
		return mcs_error_set(err, -EUCLEAN,
				     "the file is empty: not a registry (a "
				     "new one is created only where no file "
				     "exists)");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mcs_error_set(err, negative_errno(), "%m");
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, magic, sizeof(magic)) != 0)
		return mcs_error_set(err, -EUCLEAN,
				     "not an sqlite database (%lld bytes, no "
				     "sqlite header)",
				     (long long)st.st_size);
	return 0;
}

/*
 * The registry's own invariants, each a count that must be 0.  sqlite's
 * quick_check (run first) checks the B-trees, NOT NULL and CHECK
 * constraints, but not that the tables agree with each other nor that
 * a name is one mcsd could have written: one flipped bit in an owner key
 * passes it.  Each query is one pass over a table with lookups by
 * primary key or index, so a start stays O(n log n).
 */
static const struct {
	const char *what, *sql;
} invariants[] = {
	{"an owner row whose pair is not held for it",
	 "SELECT count(*) FROM owners o LEFT JOIN pairs p ON p.pair = o.pair"
	 " WHERE p.pair IS NULL OR p.state IS NOT 'held'"
	 " OR (o.group_name IS NULL AND p.holder IS NOT o.owner)"
	 " OR (o.group_name IS NOT NULL AND p.group_name IS NOT o.group_name)"},
	{"a held pair whose holder has no owner row on it",
	 "SELECT count(*) FROM pairs p WHERE p.holder IS NOT NULL AND NOT"
	 " EXISTS (SELECT 1 FROM owners o WHERE o.owner = p.holder"
	 " AND o.pair = p.pair AND o.group_name IS NULL)"},
	{"a pair held by a group without members on it",
	 "SELECT count(*) FROM pairs p WHERE p.group_name IS NOT NULL AND NOT"
	 " EXISTS (SELECT 1 FROM owners o WHERE o.group_name = p.group_name"
	 " AND o.pair = p.pair)"},
	{"a group holding two pairs",
	 "SELECT count(*) FROM (SELECT group_name FROM pairs NOT INDEXED"
	 " WHERE group_name IS NOT NULL GROUP BY group_name"
	 " HAVING count(*) > 1)"},
	{"two released pairs with one release order",
	 "SELECT count(*) FROM (SELECT release_seq FROM pairs NOT INDEXED"
	 " WHERE release_seq IS NOT NULL GROUP BY release_seq"
	 " HAVING count(*) > 1)"},
	{"an owner, group or type name mcsd would refuse",
	 "SELECT count(*) FROM owners WHERE NOT mcs_name(owner, 0)"
	 " OR (group_name IS NOT NULL AND NOT mcs_name(group_name, 0))"
	 " OR (type IS NOT NULL AND NOT mcs_name(type, 1))"},
	{"a holder or group name of a pair mcsd would refuse",
	 "SELECT count(*) FROM pairs WHERE"
	 " (holder IS NOT NULL AND NOT mcs_name(holder, 0))"
	 " OR (group_name IS NOT NULL AND NOT mcs_name(group_name, 0))"},
};

/*
 * SQL function mcs_name(x, kind): 1 when x is text mcsd could have
 * written as a name: kind 0 an owner or group (1..255 of
 * [A-Za-z0-9_.:@-], not starting with '-' or '.'), kind 1 an SELinux type
 * (a letter, then [A-Za-z0-9_.-]).  In C: GLOB over a full registry took
 * seconds.
 */
static void sq_fn_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *t = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	bool type = sqlite3_value_int(argv[1]) == 1, good;

	(void)argc;
	good = sqlite3_value_type(argv[0]) == SQLITE_TEXT && t && n >= 1 &&
	       n <= 255 &&
	       (type ? ((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z')
		     : (t[0] != '-' && t[0] != '.'));
	for (int i = 0; good && i < n; i++) {
		unsigned char c = t[i];
		good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		       c == '-' || (!type && (c == ':' || c == '@'));
	}
	sqlite3_result_int(ctx, good);
}

/* quick_check, then the invariants above: -EUCLEAN naming what is wrong. */
static int sq_verify_all(sqlite_store *q, mcs_error *err)
{
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(q->db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return mcs_error_set(err, -EUCLEAN,
				     "damaged: quick_check failed: %s",
				     sqlite3_errmsg(q->db));
	const char *res = (const char *)sqlite3_column_text(s, 0);
	if (!res || strcmp(res, "ok") != 0)
		return mcs_error_set(err, -EUCLEAN, "damaged: quick_check: %s",
				     res ? res : "(no result)");
	for (size_t i = 0; i < ELEMENTSOF(invariants); i++) {
		sqlite3_finalize(s);
		s = NULL;
		rc = sqlite3_prepare_v2(q->db, invariants[i].sql, -1, &s, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			return mcs_error_set(
				err, -EUCLEAN, "damaged: checking for %s: %s",
				invariants[i].what, sqlite3_errmsg(q->db));
		long long n = sqlite3_column_int64(s, 0);
		if (n != 0)
			return mcs_error_set(err, -EUCLEAN,
					     "damaged: %s (%lld rows)",
					     invariants[i].what, n);
	}
	return 0;
}

/*
 * quick_check, then the invariants above: -EUCLEAN naming what is wrong.
 * The database is read through mmap meanwhile (one pass each instead of
 * thrashing a 2 MiB page cache), unmapped afterwards.
 */
static int sq_verify(sqlite_store *q, mcs_error *err)
{
	int rc, k;

	rc = sqlite3_create_function(q->db, "mcs_name", 2,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				     sq_fn_name, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_error(q, rc, err, "mcs_name");
	sqlite3_exec(q->db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
	k = sq_verify_all(q, err);
	sqlite3_exec(q->db, "PRAGMA mmap_size = 0", NULL, NULL, NULL);
	return k;
}

/* Whether fd is still the file at path (not unlinked, replaced or
 * renamed away). */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && a.st_nlink > 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * The database and its WAL are the files open.  When one is not (an
 * admin's cleanup or a tmp reaper unlinked the WAL: every commit would go
 * into a file nobody will read again), say so loudly once, copy what the
 * WAL holds into the database while our descriptors still reach it, and
 * fail: nothing is committed, so nothing acknowledged, from then on.
 */
static int sq_check_files(sqlite_store *q, bool writer, mcs_error *err)
{
	char wal[sizeof(q->path) + 8];

	if (q->db_fd < 0)
		return 0; /* in memory */
	snprintf(wal, sizeof(wal), "%s-wal", q->path);
	if (!atomic_load(&q->files_lost) &&
	    (!same_file(q->db_fd, q->path) ||
	     (q->wal_fd >= 0 && !same_file(q->wal_fd, wal)))) {
		if (!atomic_exchange(&q->files_lost, true))
			log_msg(MCS_LOG_ERR,
				"registry %s or its WAL %s was unlinked, "
				"replaced or moved while open: committing "
				"nothing more (StorageError); restart mcsd",
				q->path, wal);
		if (writer) /* what was acknowledged goes to the database */
			sqlite3_wal_checkpoint_v2(q->db, NULL,
						  SQLITE_CHECKPOINT_FULL, NULL,
						  NULL);
	}
	if (atomic_load(&q->files_lost))
		return mcs_error_set(err, -EIO,
				     "registry file %s or its WAL was "
				     "unlinked or replaced while open",
				     q->path);
	return 0;
}

/* ---- durability -------------------------------------------------------- */

/* Open our own fd of the database's WAL (none for :memory:). */
static int sq_open_wal(sqlite_store *q, mcs_error *err)
{
	const char *db = sqlite3_db_filename(q->db, "main");
	char path[4096];
	struct stat st;

	if (!db || !*db)
		return 0; /* in memory: nothing to sync */
	if ((size_t)snprintf(path, sizeof(path), "%s-wal", db) >= sizeof(path))
		return mcs_error_set(err, -ENAMETOOLONG, "path too long");
	q->wal_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (q->wal_fd < 0)
		return mcs_error_set(err, negative_errno(), "open %s: %m",
				     path);
	if (fstat(q->wal_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return mcs_error_set(err, -EIO, "%s is not a regular file",
				     path);
	q->db_fd = open(db, O_RDONLY | O_CLOEXEC);
	if (q->db_fd < 0)
		return mcs_error_set(err, negative_errno(), "open %s: %m", db);
	/* owner names are not for everyone: a registry made readable by an
	 * older mcsd (0644) is tightened; -shm follows the database's mode
	 * when sqlite next creates it */
	if (fstat(q->db_fd, &st) == 0 && (st.st_mode & 077) &&
	    st.st_uid == geteuid()) {
		(void)!fchmod(q->db_fd, st.st_mode & 0700);
		(void)!fchmod(q->wal_fd, st.st_mode & 0700);
	}
	return 0;
}

/* Make every commit so far durable: fdatasync the WAL. */
static int sq_sync(store *s, mcs_error *err)
{
	sqlite_store *q = to_sq(s);

	if (q->wal_fd < 0)
		return 0;
	while (fdatasync(q->wal_fd) < 0)
		if (errno != EINTR)
			return mcs_error_set(err, negative_errno(),
					     "fdatasync of the WAL: %m");
	if (walvfs_failed())
		return mcs_error_set(err, -EIO,
				     "a write to the WAL failed earlier");
	/* flushed into the file at the path, or acknowledged to nobody */
	return sq_check_files(q, /* writer= */ false, err);
}

/*
 * Process-wide sqlite setting, before sqlite's first use: no memory
 * statistics, so sqlite3_malloc takes no global mutex.  Ignored when the
 * process already used sqlite.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sq_close(store *s);

static int sq_open(const char *path, const store_config *cfg, store **ret,
		   mcs_error *err)
{
	sqlite_store *q;
	int rc, k;

	q = calloc(1, sizeof(*q));
	if (!q)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	q->base.ops = &store_sqlite_ops;
	q->wal_fd = -1;
	q->db_fd = -1;
	pthread_mutex_init(&q->writer_gate, NULL);
	pthread_once(&sqlite_once, sqlite_setup);
	k = sq_config(q, cfg);
	if (k < 0) {
		mcs_error_set(err, k, "out of memory");
		goto fail;
	}
	bool create = true, in_memory = strcmp(path, ":memory:") == 0;
	if (!in_memory) {
		k = sq_check_file(path, &create, err);
		if (k < 0)
			goto fail;
		if ((size_t)snprintf(q->path, sizeof(q->path), "%s", path) >=
		    sizeof(q->path)) {
			k = mcs_error_set(err, -ENAMETOOLONG, "path too long");
			goto fail;
		}
	}
	rc = sqlite3_open_v2(
		path, &q->db,
		SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
			SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
		walvfs_register() == 0 ? WALVFS_NAME : NULL);
	if (rc != SQLITE_OK) {
		k = sq_error(q, rc, err, "open");
		goto fail;
	}
	sqlite3_busy_handler(q->db, sq_busy, NULL);
	if (!in_memory) {
		/* 1 KiB pages (new databases only): an allocation
		 * dirties about two leaves, each a WAL frame */
		k = sq_exec(q,
			    "PRAGMA page_size = 1024;"
			    "PRAGMA journal_mode = WAL",
			    err);
		if (k < 0)
			goto fail;
	}
	/*
	 * synchronous = NORMAL: a commit writes its WAL frames without
	 * fsync; sq_sync() makes every commit durable (the WAL fdatasync'ed
	 * through our own fd) before any caller learns of it; it may run in
	 * another thread while the next batch executes.  Checkpoints still
	 * sync as sqlite does.
	 */
	k = sq_exec(q,
		    "PRAGMA synchronous = NORMAL;"
		    "PRAGMA foreign_keys = ON;"
		    "PRAGMA temp_store = MEMORY;"
		    "PRAGMA wal_autocheckpoint = 16384",
		    err);
	if (k < 0)
		goto fail;
	k = sq_migrate(q, err);
	if (k >= 0)
		k = sq_verify(q, err);
	if (k < 0)
		goto fail;
	k = sq_open_wal(q, err);
	if (k >= 0)
		k = sq_sync(&q->base, err); /* the migrations, if any */
	if (k < 0)
		goto fail;
	k = sq_rebuild(q, err);
	if (k < 0)
		goto fail;
	*ret = &q->base;
	return 0;
fail:
	sq_close(&q->base);
	return k;
}

static void sq_close(store *s)
{
	sqlite_store *q = to_sq(s);

	if (q->in_tx && q->db) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		pthread_mutex_unlock(&q->writer_gate);
	}
	for (int i = 0; i < _STMT_MAX; i++)
		sqlite3_finalize(q->stmt[i]);
	sqlite3_close_v2(q->ck_db);
	sqlite3_close_v2(q->db);
	if (q->wal_fd >= 0)
		close(q->wal_fd);
	if (q->db_fd >= 0)
		close(q->db_fd);
	alloc_free(q->pairs);
	free(q->excluded);
	pthread_mutex_destroy(&q->writer_gate);
	free(q);
}

/* ---- checkpoints ------------------------------------------------------- */

/* A checkpointer should run once the WAL holds this many frames (64 MiB
 * with 1 KiB pages): fewer, longer checkpoints cost the committing side
 * less than many short ones (each ends with an fsync of the database). */
#define CKPT_DUE 65536
/*
 * Passive checkpoints never restart the WAL while commits keep coming: a
 * RESTART checkpoint finishes the job, and it holds the writer's lock for
 * all it does (copy what is left, fsync the database), so every commit
 * waits for it.  Passive passes are therefore repeated, each copying what
 * came in during the one before, until no more than this many frames are
 * left (a few ms of commits at full load), and only then RESTART, under
 * the writer gate: the writer waits on the gate while the remainder is
 * copied and synced instead of polling sqlite's locks against a RESTART
 * that polls for them too.
 */
#define CKPT_RESTART_LEFT 256
/* At most this many passive passes per checkpoint (each ends with an
 * fsync of the database); RESTART is left for the next one if they do not
 * get below CKPT_RESTART_LEFT. */
#define CKPT_PASSES 8
/* The committing thread restarts the WAL itself beyond this (256 MiB
 * with 1 KiB pages): the checkpointer cannot keep up or is not running. */
#define CKPT_EMERGENCY (256 * 1024)

static int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	sqlite_store *q = arg;

	atomic_store(&q->wal_frames, frames);
	if (frames >= CKPT_EMERGENCY) {
		int log = 0, done = 0;
		(void)sqlite3_wal_checkpoint_v2(
			db, name, SQLITE_CHECKPOINT_RESTART, &log, &done);
		log_msg(MCS_LOG_WARNING,
			"registry: the WAL reached %d frames; checkpointed "
			"%d in the committing thread",
			frames, done);
	}
	return SQLITE_OK;
}

static int sq_checkpoint_elsewhere(store *s, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	const char *path;
	int rc;

	if (q->ck_db || q->wal_fd < 0)
		return 0; /* already, or in memory: nothing to checkpoint */
	path = sqlite3_db_filename(q->db, "main");
	rc = sqlite3_open_v2(path, &q->ck_db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     WALVFS_NAME);
	if (rc == SQLITE_OK) {
		sqlite3_busy_handler(q->ck_db, sq_busy, NULL);
		/* a first read opens the WAL: until then the connection
		 * does not know the database is in WAL mode and a
		 * checkpoint does nothing */
		rc = sqlite3_exec(q->ck_db,
				  "SELECT count(*) FROM sqlite_master", NULL,
				  NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		int k = mcs_error_set(err, -EIO,
				      "checkpoint connection to %s: %s", path,
				      q->ck_db ? sqlite3_errmsg(q->ck_db)
					       : sqlite3_errstr(rc));
		sqlite3_close_v2(q->ck_db);
		q->ck_db = NULL;
		return k;
	}
	/* replaces the autocheckpoint, which is itself a WAL hook */
	sqlite3_wal_hook(q->db, sq_wal_hook, q);
	return 0;
}

static bool sq_checkpoint_due(store *s)
{
	sqlite_store *q = to_sq(s);

	return q->ck_db && atomic_load(&q->wal_frames) >= CKPT_DUE;
}

static int sq_checkpoint(store *s, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	int log = 0, done = 0, rc = SQLITE_OK;
	bool caught_up = false;

	if (!q->ck_db)
		return mcs_error_set(err, -EINVAL, "no checkpoint connection");
	for (int pass = 0; pass < CKPT_PASSES && !caught_up; pass++) {
		rc = sqlite3_wal_checkpoint_v2(q->ck_db, "main",
					       SQLITE_CHECKPOINT_PASSIVE, &log,
					       &done);
		if (rc != SQLITE_OK || done < 0)
			break;
		/* what the writer appended while this pass ran */
		caught_up =
			atomic_load(&q->wal_frames) - done <= CKPT_RESTART_LEFT;
	}
	if (caught_up) {
		/* between two of the writer's transactions; only another
		 * process's reader can hold it up now, and not for long */
		pthread_mutex_lock(&q->writer_gate);
		sqlite3_busy_handler(q->ck_db, sq_busy_short, NULL);
		rc = sqlite3_wal_checkpoint_v2(q->ck_db, "main",
					       SQLITE_CHECKPOINT_RESTART, &log,
					       &done);
		sqlite3_busy_handler(q->ck_db, sq_busy, NULL);
		pthread_mutex_unlock(&q->writer_gate);
	}
	if (rc == SQLITE_BUSY)
		return 0; /* another checkpoint, or readers: next time */
	if (rc != SQLITE_OK || done < 0)
		return mcs_error_set(err, -EIO, "checkpoint: %s",
				     sqlite3_errmsg(q->ck_db));
	return done;
}

/* ---- transactions ------------------------------------------------------ */

/* BEGIN IMMEDIATE, holding the writer gate until the transaction ends. */
static int sq_begin(store *s, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	int k;

	if (q->in_tx)
		return mcs_error_set(err, -EBUSY,
				     "registry: transaction already open");
	pthread_mutex_lock(&q->writer_gate);
	k = sq_check_files(q, /* writer= */ true, err);
	if (k < 0) {
		pthread_mutex_unlock(&q->writer_gate);
		return k;
	}
	k = sq_exec(q, "BEGIN IMMEDIATE", err);
	if (k < 0) {
		pthread_mutex_unlock(&q->writer_gate);
		return k;
	}
	q->in_tx = true;
	q->tx_dirty = false;
	return 0;
}

/* COMMIT when commit is set (ROLLBACK if that fails), else ROLLBACK; then
 * open the gate again; the memory index is rebuilt when the transaction
 * changed it and did not commit. */
static int sq_tx_end(sqlite_store *q, bool commit, mcs_error *err)
{
	int k;

	if (!q->in_tx)
		return mcs_error_set(err, -EBUSY, "registry: no batch open");
	k = commit ? sq_exec(q, "COMMIT", err) : 0;
	if (!commit || k < 0)
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&q->writer_gate);
	q->in_tx = false;
	q->in_savepoint = false;
	if ((!commit || k < 0) && (q->tx_dirty || q->op_dirty)) {
		int b = sq_rebuild(q, k < 0 ? NULL : err);
		if (k >= 0)
			k = b;
	}
	q->tx_dirty = q->op_dirty = false;
	return k;
}

static int sq_commit(store *s, mcs_error *err)
{
	return sq_tx_end(to_sq(s), /* commit= */ true, err);
}

static int sq_rollback(store *s, mcs_error *err)
{
	return sq_tx_end(to_sq(s), /* commit= */ false, err);
}

static int sq_savepoint(store *s, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	int k = sq_run(q, STMT_SAVEPOINT, err);

	if (k >= 0) {
		q->in_savepoint = true;
		q->op_dirty = false;
	}
	return k;
}

/* Undo the current call: back to its savepoint, then drop it. */
static void sq_savepoint_undo(sqlite_store *q)
{
	sq_run(q, STMT_ROLLBACK_SAVEPOINT, NULL);
	sq_run(q, STMT_RELEASE_SAVEPOINT, NULL);
	if (q->op_dirty)
		sq_rebuild(q, NULL);
}

static int sq_savepoint_end(store *s, bool keep, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	int k = 0;

	if (keep) {
		k = sq_run(q, STMT_RELEASE_SAVEPOINT, err);
		if (k < 0)
			sq_savepoint_undo(q);
		else if (q->op_dirty)
			q->tx_dirty = true;
	} else {
		sq_savepoint_undo(q);
	}
	q->in_savepoint = false;
	q->op_dirty = false;
	return k;
}

/* ---- rows -------------------------------------------------------------- */

static int sq_owner_get(store *s, const char *owner, store_owner *ret,
			mcs_error *err)
{
	sqlite3_stmt *st;
	int k = sq_row(to_sq(s), STMT_OWNER_GET, owner, &st, err, "lookup");

	if (k == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	if (k < 0)
		return k;
	if (ret) {
		row_to_entry(st, &ret->entry);
		ret->key = sqlite3_column_int64(st, 9);
		ret->boot_id[0] = '\0';
	}
	sqlite3_reset(st);
	return 0;
}

static int sq_owner_insert(store *s, const store_owner *row, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	const mcsd_registry_entry *e = &row->entry;
	sqlite3_stmt *st = sq_stmt(q, STMT_OWNER_INSERT, err);
	bool lease = e->kind == MCSD_REGISTRY_LEASE;
	int k;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, e->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row->key);
	bind_text_or_null(st, 3, e->group);
	sqlite3_bind_text(st, 4, lease ? "lease" : "reservation", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, lease ? e->pid : 0);
	sqlite3_bind_int64(st, 6, (int64_t)e->pid_start);
	sqlite3_bind_text(st, 7, row->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, e->uid);
	bind_text_or_null(st, 9, e->type);
	sqlite3_bind_int64(st, 10, e->created);
	k = sq_step_done(q, st, err, "insert owner");
	if (k < 0)
		return k;
	q->owners++;
	mark_dirty(q);
	return 0;
}

static int sq_owner_delete(store *s, const char *owner, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st = sq_stmt(q, STMT_OWNER_DELETE, err);
	int k;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	k = sq_step_done(q, st, err, "delete owner");
	if (k < 0)
		return k;
	if (sqlite3_changes(q->db) == 0)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	q->owners--;
	mark_dirty(q);
	return 0;
}

static int sq_group_count(store *s, const char *group, uint64_t *ret_n,
			  mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st;
	int k = sq_row(q, STMT_GROUP_COUNT, group, &st, err, "count owners");

	if (k == 0) /* count(*) has a row */
		return sq_error(q, SQLITE_DONE, err, "count owners");
	if (k < 0)
		return k;
	*ret_n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int sq_group_uid(store *s, const char *group, uid_t *ret_uid,
			mcs_error *err)
{
	sqlite3_stmt *st;
	int k = sq_row(to_sq(s), STMT_GROUP_UID, group, &st, err, "group uid");

	if (k == 1) {
		*ret_uid = (uid_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return k;
}

static int sq_group_pair(store *s, const char *group, store_key *ret_key,
			 mcs_error *err)
{
	sqlite3_stmt *st;
	int k = sq_row(to_sq(s), STMT_GROUP_PAIR, group, &st, err, "group");

	if (k == 1) {
		*ret_key = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return k;
}

static int sq_pair_holder(store *s, store_key key,
			  char owner[MCSD_REGISTRY_OWNER_MAX + 1],
			  char group[MCSD_REGISTRY_OWNER_MAX + 1],
			  mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st = sq_stmt(q, STMT_PAIR_HOLDER, err);
	int rc;

	if (!st)
		return -EIO;
	owner[0] = group[0] = '\0';
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(owner, MCSD_REGISTRY_OWNER_MAX + 1, st, 0);
		copy_col(group, MCSD_REGISTRY_OWNER_MAX + 1, st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_error(q, rc, err, "pair holder");
	if (!*owner && !*group)
		return mcs_error_set(err, -ENOENT, "pair is not held");
	return 0;
}

static int sq_pair_claim(store *s, store_key want, const char *owner,
			 const char *group, store_key *ret_key, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st;
	store_key key = want;
	uint32_t idx;
	int k, state;

	if (want == STORE_KEY_ANY) {
		k = alloc_choose(q->pairs, &idx);
		if (k == -ENOSPC)
			return mcs_error_set(err, -ENOSPC, "no free pair");
		if (k < 0)
			return mcs_error_set(err, k, "getrandom: %s",
					     strerror(-k));
		key = index_key(q, idx);
	} else if (key_index(q, want, &idx) < 0) {
		return mcs_error_set(err, -EINVAL, "pair outside the range");
	}
	state = alloc_state(q->pairs, idx);
	if (state == ALLOC_HELD)
		return mcs_error_set(err, -EEXIST, "pair is held");
	if (state == ALLOC_EXCLUDED)
		return mcs_error_set(err, -EINVAL, "pair is excluded");
	st = sq_stmt(q, state == ALLOC_FREE ? STMT_PAIR_INSERT : STMT_PAIR_TAKE,
		     err);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, key);
	if (group)
		sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	k = sq_step_done(q, st, err, "take pair");
	if (k < 0)
		return k;
	/* last: the memory index follows what is now in the tables */
	alloc_set(q->pairs, idx, ALLOC_HELD);
	mark_dirty(q);
	*ret_key = key;
	return 0;
}

static int sq_pair_release(store *s, store_key key, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st = sq_stmt(q, STMT_PAIR_RELEASE, err);
	uint32_t idx;
	int k;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, key);
	sqlite3_bind_int64(st, 2, q->next_seq);
	sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
	k = sq_step_done(q, st, err, "release pair");
	if (k < 0)
		return k;
	q->next_seq++;
	if (key_index(q, key, &idx) == 0 &&
	    alloc_state(q->pairs, idx) != ALLOC_EXCLUDED)
		alloc_set(q->pairs, idx, ALLOC_QUARANTINED);
	else if (q->held_outside > 0)
		q->held_outside--;
	mark_dirty(q);
	return 0;
}

static int sq_list_page(store *s, const char *after,
			mcsd_registry_entry *entries, size_t max, size_t *ret_n,
			mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "list: bad arguments");
	st = sq_stmt(q, STMT_LIST_PAGE, err);
	if (!st)
		return -EIO;
	/* every owner sorts after "": names are never empty */
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		row_to_entry(st, &entries[n++]);
	sqlite3_reset(st);
	if (n < max && rc != SQLITE_DONE)
		return sq_error(q, rc, err, "list");
	*ret_n = n;
	return 0;
}

static int sq_lease_page(store *s, const char *after, store_lease *leases,
			 size_t max, size_t *ret_n, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "leases: bad arguments");
	st = sq_stmt(q, STMT_LEASE_PAGE, err);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_lease *l = &leases[n++];

		copy_col(l->owner, sizeof(l->owner), st, 0);
		l->pid = (pid_t)sqlite3_column_int64(st, 1);
		l->pid_start = (uint64_t)sqlite3_column_int64(st, 2);
		copy_col(l->boot_id, sizeof(l->boot_id), st, 3);
	}
	sqlite3_reset(st);
	if (n < max && rc != SQLITE_DONE)
		return sq_error(q, rc, err, "reconcile");
	*ret_n = n;
	return 0;
}

/* From memory, O(1). */
static int sq_counts(store *s, mcsd_registry_counts *ret, mcs_error *err)
{
	sqlite_store *q = to_sq(s);
	uint32_t excl = alloc_count(q->pairs, ALLOC_EXCLUDED);

	(void)err;
	memset(ret, 0, sizeof(*ret));
	ret->total = alloc_size(q->pairs) - excl;
	ret->excluded = excl;
	ret->used = alloc_count(q->pairs, ALLOC_HELD) + q->held_outside;
	ret->quarantined = alloc_count(q->pairs, ALLOC_QUARANTINED);
	ret->free = alloc_count(q->pairs, ALLOC_FREE) + ret->quarantined;
	ret->owners = q->owners;
	return 0;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.sync = sq_sync,
	.savepoint = sq_savepoint,
	.savepoint_end = sq_savepoint_end,
	.owner_get = sq_owner_get,
	.owner_insert = sq_owner_insert,
	.owner_delete = sq_owner_delete,
	.group_count = sq_group_count,
	.group_pair = sq_group_pair,
	.group_uid = sq_group_uid,
	.pair_holder = sq_pair_holder,
	.pair_claim = sq_pair_claim,
	.pair_release = sq_pair_release,
	.list_page = sq_list_page,
	.lease_page = sq_lease_page,
	.counts = sq_counts,
	.checkpoint_elsewhere = sq_checkpoint_elsewhere,
	.checkpoint_due = sq_checkpoint_due,
	.checkpoint = sq_checkpoint,
};
