/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the durable registry of mcsd: with walvfs.c (its VFS) the
 * only file of mcskit that includes sqlite3.h.  It owns the schema and its
 * migrations, transactions (one BEGIN IMMEDIATE per call, or one per batch
 * with a SAVEPOINT per call; each holds the writer gate that a RESTART
 * checkpoint takes), durability (synchronous=NORMAL plus its own
 * fdatasync of the WAL before a commit is reported), checkpoints off the
 * committing thread when asked, the rules of allocate/release, reconcile,
 * and keeping the in-memory pair index (alloc.c) equal to what is
 * committed.
 *
 * Invariants (docs/registry.md has the full list):
 *  - a row in `pairs` exists for each pair that is held or released
 *    (quarantined); a never-used pair has no row;
 *  - a held pair has >= 1 owner row; all its owners have the same
 *    group_name (NULL: then exactly one owner, the pair's holder) -
 *    enforced by triggers too;
 *  - the memory index and the count of owner rows equal the tables: after
 *    any failure that might have diverged (a failed commit, a batch
 *    rollback) they are rebuilt from them.  A call that changes either
 *    reports itself dirty.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "registry.h"
#include "proc.h"

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
	STMT_PAIR_HOLDER,
	STMT_GROUP_PAIR,
	STMT_PAIR_INSERT,
	STMT_PAIR_TAKE,
	STMT_PAIR_RELEASE,
	STMT_LIST,
	STMT_LIST_PAGE,
	STMT_LEASES,
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
	[STMT_LIST] = "SELECT " OWNER_COLS " FROM owners ORDER BY owner",
	[STMT_LIST_PAGE] = "SELECT " OWNER_COLS " FROM owners WHERE owner > ?1"
			   " ORDER BY owner LIMIT ?2",
	[STMT_LEASES] = "SELECT owner, pid, pid_start, boot_id FROM owners"
			" WHERE kind = 'lease' AND owner > ?1 ORDER BY owner",
	[STMT_SAVEPOINT] = "SAVEPOINT op",
	[STMT_RELEASE_SAVEPOINT] = "RELEASE op",
	[STMT_ROLLBACK_SAVEPOINT] = "ROLLBACK TO op",
};

struct mcs_registry {
	sqlite3 *db;
	sqlite3_stmt *stmt[_STMT_MAX]; /* prepared lazily, kept until close */
	mcs_cat_range range;	       /* categories handed out */
	alloc *pairs;		       /* memory index, mirrors the tables */
	bool in_batch;		       /* inside mcs_registry_begin() */
	bool batch_dirty;	       /* memory changed in this batch */
	int64_t next_seq;	       /* next release_seq to write */
	uint64_t held_outside;	       /* held pairs outside the range */
	uint64_t owners;    /* rows of owners: Status without a table scan */
	uint32_t *excluded; /* excluded indices (always excluded) */
	size_t n_excluded;
	int wal_fd; /* our own fd of the -wal file (fdatasync), or -1 */
	char boot_id[37];
	/* checkpoints in another thread (mcs_registry_checkpoint_elsewhere) */
	sqlite3 *ck_db; /* the checkpointer's own connection */
	/* held by the writer for each of its transactions (BEGIN to COMMIT
	 * or ROLLBACK) and by the checkpointer for a RESTART, which would
	 * otherwise poll for the writer's lock and its readers while the
	 * writer polls for it: a stall of several ms under load */
	pthread_mutex_t writer_gate;
	atomic_int wal_frames; /* frames in the WAL after the last commit */
};

static int registry_sqlite_error(mcs_registry *r, int rc, mcs_error *err,
				 const char *what)
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
	case SQLITE_READONLY:
		code = -EACCES;
		break;
	default:
		code = -EIO;
	}
	/* mcs_registry_open() prefixes "registry PATH: " */
	return mcs_error_set(err, code, "%s: %s", what,
			     r && r->db ? sqlite3_errmsg(r->db)
					: sqlite3_errstr(rc));
}

static int registry_exec(mcs_registry *r, const char *sql, mcs_error *err)
{
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return registry_sqlite_error(r, rc, err, sql);
	return 0;
}

/* The prepared statement id, reset and with no bindings. */
static sqlite3_stmt *registry_stmt(mcs_registry *r, int id, mcs_error *err)
{
	int rc;

	if (!r->stmt[id]) {
		rc = sqlite3_prepare_v3(r->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &r->stmt[id],
					NULL);
		if (rc != SQLITE_OK) {
			registry_sqlite_error(r, rc, err, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(r->stmt[id]);
	sqlite3_clear_bindings(r->stmt[id]);
	return r->stmt[id];
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

static void registry_row_to_entry(sqlite3_stmt *s, mcs_registry_entry *e)
{
	const unsigned char *kind = sqlite3_column_text(s, 3);

	memset(e, 0, sizeof(*e));
	copy_col(e->owner, sizeof(e->owner), s, 0);
	copy_col(e->level, sizeof(e->level), s, 1);
	copy_col(e->group, sizeof(e->group), s, 2);
	e->kind = kind && strcmp((const char *)kind, "reservation") == 0
			  ? MCS_REGISTRY_RESERVATION
			  : MCS_REGISTRY_LEASE;
	e->pid = (pid_t)sqlite3_column_int64(s, 4);
	e->pid_start = (uint64_t)sqlite3_column_int64(s, 5);
	e->uid = (uid_t)sqlite3_column_int64(s, 6);
	copy_col(e->type, sizeof(e->type), s, 7);
	e->created = sqlite3_column_int64(s, 8);
}

/* The key of the pair (x, y), x < y, in the tables: 1024 * x + y. */
static int64_t pair_key(unsigned x, unsigned y)
{
	return (int64_t)x << 10 | y;
}

static void key_level(int64_t key, char buf[MCS_REGISTRY_LEVEL_MAX])
{
	snprintf(buf, MCS_REGISTRY_LEVEL_MAX, "s0:c%u,c%u",
		 (unsigned)(key >> 10), (unsigned)(key & 1023));
}

/* Table key -> pair index in r's range: 0, or -ERANGE outside it. */
static int registry_key_index(const mcs_registry *r, int64_t key,
			      uint32_t *ret_idx)
{
	uint64_t idx;

	if (key < 0 || key >= (int64_t)1 << 20 ||
	    mcs_pair_to_index(&r->range, (unsigned)(key >> 10),
			      (unsigned)(key & 1023), &idx) < 0)
		return -ERANGE;
	*ret_idx = (uint32_t)idx;
	return 0;
}

/*
 * Level string -> pair index in r's range and table key.  Returns 0, or
 * -ERANGE when the level is a valid pair outside the range (*ret_key is
 * set then too), -EINVAL when it is no pair.
 */
static int registry_level_index(const mcs_registry *r, const char *level,
				uint32_t *ret_idx, int64_t *ret_key,
				mcs_error *err)
{
	mcs_level l;
	unsigned x, y;
	int k;

	k = mcs_level_parse(level, &l, err);
	if (k < 0)
		return k;
	k = mcs_pair_from_level(&l, &x, &y, err);
	if (k < 0)
		return k;
	if (ret_key)
		*ret_key = pair_key(x, y);
	if (registry_key_index(r, pair_key(x, y), ret_idx) < 0)
		return mcs_error_set(err, -ERANGE,
				     "level %s is outside the range c%u.c%u",
				     level, r->range.lo, r->range.hi);
	return 0;
}

/* The table key of pair index idx of r's range. */
static int64_t registry_index_key(const mcs_registry *r, uint32_t idx)
{
	unsigned x = 0, y = 0;

	mcs_pair_from_index(&r->range, idx, &x, &y);
	return pair_key(x, y);
}

/* Rebuild the memory index, next_seq and the owner count from the
 * tables. */
static int registry_rebuild(mcs_registry *r, mcs_error *err)
{
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *s = NULL;
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *c = NULL;
	int rc;

	rc = sqlite3_prepare_v2(r->db, "SELECT count(*) FROM owners", -1, &c,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(c);
	if (rc != SQLITE_ROW)
		return registry_sqlite_error(r, rc, err, "count owners");
	r->owners = (uint64_t)sqlite3_column_int64(c, 0);
	alloc_reset(r->pairs);
	r->held_outside = 0;
	r->next_seq = 1;
	for (size_t i = 0; i < r->n_excluded; i++)
		alloc_set(r->pairs, r->excluded[i], ALLOC_EXCLUDED);
	/*
	 * Held pairs in table order, then the released ones by release_seq
	 * through its index, so the quarantine keeps LRU order.  No sort of
	 * the table: one ORDER BY over all pairs grew the heap by 20 MB when
	 * a full registry was opened, and malloc kept it.
	 */
	static const char *const load[] = {
		"SELECT pair, 1, 0 FROM pairs WHERE state = 'held'",
		"SELECT pair, 0, release_seq FROM pairs"
		" WHERE release_seq IS NOT NULL ORDER BY release_seq",
	};
	for (size_t q = 0; q < ELEMENTSOF(load); q++) {
		sqlite3_finalize(s);
		s = NULL;
		rc = sqlite3_prepare_v2(r->db, load[q], -1, &s, NULL);
		if (rc != SQLITE_OK)
			return registry_sqlite_error(r, rc, err, "load pairs");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			bool held = sqlite3_column_int(s, 1) != 0;
			uint32_t idx;

			if (sqlite3_column_int64(s, 2) >= r->next_seq)
				r->next_seq = sqlite3_column_int64(s, 2) + 1;
			if (registry_key_index(r, sqlite3_column_int64(s, 0),
					       &idx) < 0 ||
			    alloc_state(r->pairs, idx) == ALLOC_EXCLUDED) {
				/* outside the range now, or excluded since:
				 * never handed out, but a holder keeps it */
				if (held)
					r->held_outside++;
				continue;
			}
			alloc_set(r->pairs, idx,
				  held ? ALLOC_HELD : ALLOC_QUARANTINED);
		}
		if (rc != SQLITE_DONE)
			return registry_sqlite_error(r, rc, err, "load pairs");
	}
	return 0;
}

static int registry_migrate(mcs_registry *r, mcs_error *err)
{
	_cleanup_(sqlite3_finalize_p) sqlite3_stmt *s = NULL;
	int version, k;

	k = registry_exec(r, "BEGIN IMMEDIATE", err);
	if (k < 0)
		return k;
	if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &s, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		k = registry_sqlite_error(r, SQLITE_ERROR, err, "user_version");
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

		k = registry_exec(r, migrations[version], err);
		if (k < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 version + 1);
		k = registry_exec(r, sql, err);
		if (k < 0)
			goto fail;
	}
	return registry_exec(r, "COMMIT", err);
fail:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return k;
}

static int registry_config(mcs_registry *r, const mcs_registry_config *cfg,
			   mcs_error *err)
{
	static const mcs_cat_range def = {0, MCS_CAT_MAX};
	uint64_t n;
	uint32_t idx;

	r->range = cfg && (cfg->range.lo || cfg->range.hi) ? cfg->range : def;
	if (r->range.lo >= r->range.hi || r->range.hi > MCS_CAT_MAX)
		return mcs_error_set(err, -EINVAL, "invalid category range");
	n = mcs_pair_count(&r->range);
	r->excluded = calloc(1 + (cfg ? cfg->n_excluded : 0), sizeof(uint32_t));
	if (!r->excluded)
		return -ENOMEM;
	if (registry_level_index(r, MCS_REGISTRY_RESERVED_LEVEL, &idx, NULL,
				 NULL) == 0)
		r->excluded[r->n_excluded++] = idx;
	for (size_t i = 0; cfg && i < cfg->n_excluded; i++) {
		int k = registry_level_index(r, cfg->excluded[i], &idx, NULL,
					     err);

		if (k == -ERANGE)
			continue; /* outside the range: never handed out */
		if (k < 0)
			return mcs_error_prefix(err, "excluded level");
		r->excluded[r->n_excluded++] = idx;
	}
	if (r->n_excluded >= n)
		return mcs_error_set(err, -EINVAL,
				     "every pair of the range is excluded");
	return alloc_new((uint32_t)n, &r->pairs);
}

/* Wait for a lock in steps of 100 us, 5 s at most: sqlite's own busy
 * timeout sleeps a millisecond or more, long next to a batch of mcsd. */
static int registry_busy(void *arg, int count)
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
static int registry_busy_short(void *arg, int count)
{
	return count < 20 ? registry_busy(arg, count) : 0;
}

/* ---- durability -------------------------------------------------------- */

/* Open our own fd of the database's WAL (none for :memory:). */
static int registry_open_wal(mcs_registry *r, mcs_error *err)
{
	const char *db = sqlite3_db_filename(r->db, "main");
	char path[4096];
	struct stat st;

	if (!db || !*db)
		return 0; /* in memory: nothing to sync */
	if ((size_t)snprintf(path, sizeof(path), "%s-wal", db) >= sizeof(path))
		return mcs_error_set(err, -ENAMETOOLONG, "path too long");
	r->wal_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->wal_fd < 0)
		return mcs_error_set(err, negative_errno(), "open %s: %m",
				     path);
	if (fstat(r->wal_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return mcs_error_set(err, -EIO, "%s is not a regular file",
				     path);
	return 0;
}

/* Make every commit so far durable: fdatasync the WAL. */
static int registry_sync(mcs_registry *r, mcs_error *err)
{
	if (r->wal_fd < 0)
		return 0;
	while (fdatasync(r->wal_fd) < 0)
		if (errno != EINTR)
			return mcs_error_set(err, negative_errno(),
					     "fdatasync of the WAL: %m");
	if (mcs_walvfs_failed())
		return mcs_error_set(err, -EIO,
				     "a write to the WAL failed earlier");
	return 0;
}

int mcs_registry_sync(mcs_registry *r, mcs_error *err)
{
	if (!r)
		return mcs_error_set(err, -EINVAL, "no registry");
	return registry_sync(r, err);
}

/*
 * Process-wide sqlite setting, before sqlite's first use: no memory
 * statistics, so sqlite3_malloc takes no global mutex (it showed in
 * mcsd's profile once the registry ran in its own thread).  Ignored when
 * the process already used sqlite.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int mcs_registry_open(const char *path, const mcs_registry_config *cfg,
		      mcs_registry **ret, mcs_error *err)
{
	mcs_registry *r;
	int rc, k;

	if (!path || !ret)
		return mcs_error_set(err, -EINVAL, "registry: no path");
	r = calloc(1, sizeof(*r));
	if (!r)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	r->wal_fd = -1;
	pthread_mutex_init(&r->writer_gate, NULL);
	pthread_once(&sqlite_once, sqlite_setup);
	k = registry_config(r, cfg, err);
	if (k < 0)
		goto fail;
	k = proc_boot_id(r->boot_id);
	if (k < 0) {
		mcs_error_set(err, k, "cannot read the boot id");
		goto fail;
	}
	rc = sqlite3_open_v2(
		path, &r->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
		mcs_walvfs_register() == 0 ? MCS_WALVFS_NAME : NULL);
	if (rc != SQLITE_OK) {
		k = registry_sqlite_error(r, rc, err, "open");
		goto fail;
	}
	sqlite3_busy_handler(r->db, registry_busy, NULL);
	if (strcmp(path, ":memory:") != 0) {
		/* 1 KiB pages (new databases only): an allocation
		 * dirties about two leaves, each a WAL frame */
		k = registry_exec(r,
				  "PRAGMA page_size = 1024;"
				  "PRAGMA journal_mode = WAL",
				  err);
		if (k < 0)
			goto fail;
	}
	/*
	 * synchronous = NORMAL: a commit writes its WAL frames without
	 * fsync; registry_sync() below makes every commit durable (the WAL
	 * fdatasync'ed through our own fd) before any caller learns of it:
	 * right after COMMIT, or, with mcs_registry_commit_nowait(), in
	 * mcs_registry_sync(), which may run in another thread while the
	 * next batch executes.  Checkpoints still sync as sqlite does.
	 */
	k = registry_exec(r,
			  "PRAGMA synchronous = NORMAL;"
			  "PRAGMA foreign_keys = ON;"
			  "PRAGMA temp_store = MEMORY;"
			  "PRAGMA wal_autocheckpoint = 16384",
			  err);
	if (k < 0)
		goto fail;
	k = registry_migrate(r, err);
	if (k < 0)
		goto fail;
	k = registry_open_wal(r, err);
	if (k >= 0)
		k = registry_sync(r, err); /* the migrations, if any */
	if (k < 0)
		goto fail;
	k = registry_rebuild(r, err);
	if (k < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	mcs_error_prefix(err, "registry %s: ", path);
	mcs_registry_close(r);
	return k;
}

void mcs_registry_close(mcs_registry *r)
{
	if (!r)
		return;
	if (r->in_batch && r->db) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		pthread_mutex_unlock(&r->writer_gate);
	}
	for (int i = 0; i < _STMT_MAX; i++)
		sqlite3_finalize(r->stmt[i]);
	sqlite3_close_v2(r->ck_db);
	sqlite3_close_v2(r->db);
	if (r->wal_fd >= 0)
		close(r->wal_fd);
	alloc_free(r->pairs);
	free(r->excluded);
	pthread_mutex_destroy(&r->writer_gate);
	free(r);
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
 * copied and synced (1.7-6 ms measured at 64 clients) instead of polling
 * sqlite's locks against a RESTART that polls for them too (4-15 ms, and
 * 15-75 busy-handler sleeps of the writer each time).
 */
#define CKPT_RESTART_LEFT 256
/* At most this many passive passes per checkpoint (each ends with an
 * fsync of the database); RESTART is left for the next one if they do not
 * get below CKPT_RESTART_LEFT. */
#define CKPT_PASSES 8
/* The committing thread restarts the WAL itself beyond this (256 MiB
 * with 1 KiB pages): the checkpointer cannot keep up or is not running. */
#define CKPT_EMERGENCY (256 * 1024)

static int registry_wal_hook(void *arg, sqlite3 *db, const char *name,
			     int frames)
{
	mcs_registry *r = arg;

	atomic_store(&r->wal_frames, frames);
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

int mcs_registry_checkpoint_elsewhere(mcs_registry *r, mcs_error *err)
{
	const char *path;
	int rc;

	if (!r)
		return mcs_error_set(err, -EINVAL, "no registry");
	if (r->ck_db || r->wal_fd < 0)
		return 0; /* already, or in memory: nothing to checkpoint */
	path = sqlite3_db_filename(r->db, "main");
	rc = sqlite3_open_v2(path, &r->ck_db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     MCS_WALVFS_NAME);
	if (rc == SQLITE_OK) {
		sqlite3_busy_handler(r->ck_db, registry_busy, NULL);
		/* a first read opens the WAL: until then the connection
		 * does not know the database is in WAL mode and a
		 * checkpoint does nothing */
		rc = sqlite3_exec(r->ck_db,
				  "SELECT count(*) FROM sqlite_master", NULL,
				  NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		int k = mcs_error_set(err, -EIO,
				      "checkpoint connection to %s: %s", path,
				      r->ck_db ? sqlite3_errmsg(r->ck_db)
					       : sqlite3_errstr(rc));
		sqlite3_close_v2(r->ck_db);
		r->ck_db = NULL;
		return k;
	}
	/* replaces the autocheckpoint, which is itself a WAL hook */
	sqlite3_wal_hook(r->db, registry_wal_hook, r);
	return 0;
}

bool mcs_registry_checkpoint_due(mcs_registry *r)
{
	return r && r->ck_db && atomic_load(&r->wal_frames) >= CKPT_DUE;
}

int mcs_registry_checkpoint(mcs_registry *r, mcs_error *err)
{
	int log = 0, done = 0, rc;

	if (!r || !r->ck_db)
		return mcs_error_set(err, -EINVAL, "no checkpoint connection");
	bool caught_up = false;
	for (int pass = 0; pass < CKPT_PASSES && !caught_up; pass++) {
		rc = sqlite3_wal_checkpoint_v2(r->ck_db, "main",
					       SQLITE_CHECKPOINT_PASSIVE, &log,
					       &done);
		if (rc != SQLITE_OK || done < 0)
			break;
		/* what the writer appended while this pass ran */
		caught_up =
			atomic_load(&r->wal_frames) - done <= CKPT_RESTART_LEFT;
	}
	if (caught_up) {
		/* between two of the writer's transactions; only another
		 * process's reader can hold it up now, and not for long */
		pthread_mutex_lock(&r->writer_gate);
		sqlite3_busy_handler(r->ck_db, registry_busy_short, NULL);
		rc = sqlite3_wal_checkpoint_v2(r->ck_db, "main",
					       SQLITE_CHECKPOINT_RESTART, &log,
					       &done);
		sqlite3_busy_handler(r->ck_db, registry_busy, NULL);
		pthread_mutex_unlock(&r->writer_gate);
	}
	if (rc == SQLITE_BUSY)
		return 0; /* another checkpoint, or readers: next time */
	if (rc != SQLITE_OK || done < 0)
		return mcs_error_set(err, -EIO, "checkpoint: %s",
				     sqlite3_errmsg(r->ck_db));
	return done;
}

/* ---- transactions ------------------------------------------------------ */

/* BEGIN IMMEDIATE, holding the writer gate until registry_tx_end(). */
static int registry_tx_begin(mcs_registry *r, mcs_error *err)
{
	pthread_mutex_lock(&r->writer_gate);
	int k = registry_exec(r, "BEGIN IMMEDIATE", err);
	if (k < 0)
		pthread_mutex_unlock(&r->writer_gate);
	return k;
}

/* End the transaction of registry_tx_begin(): COMMIT when commit is set
 * (ROLLBACK if that fails), else ROLLBACK; then open the gate again. */
static int registry_tx_end(mcs_registry *r, bool commit, mcs_error *err)
{
	int k = commit ? registry_exec(r, "COMMIT", err) : 0;

	if (!commit || k < 0)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&r->writer_gate);
	return k;
}

/* End the open batch (see registry_tx_end); the memory index is rebuilt
 * when the batch changed it and did not commit. */
static int registry_batch_end(mcs_registry *r, bool commit, mcs_error *err)
{
	int k = registry_tx_end(r, commit, err);

	r->in_batch = false;
	if ((!commit || k < 0) && r->batch_dirty) {
		int b = registry_rebuild(r, k < 0 ? NULL : err);
		if (k >= 0)
			k = b;
	}
	return k;
}

/* Run the prepared statement id (savepoints: prepared once, not parsed
 * again for every call of a batch). */
static int registry_run(mcs_registry *r, int id, mcs_error *err)
{
	sqlite3_stmt *s = registry_stmt(r, id, err);
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return registry_sqlite_error(r, rc, err, stmt_sql[id]);
	return 0;
}

/* Undo the current call of a batch: back to its savepoint, then drop it. */
static void registry_op_undo(mcs_registry *r)
{
	registry_run(r, STMT_ROLLBACK_SAVEPOINT, NULL);
	registry_run(r, STMT_RELEASE_SAVEPOINT, NULL);
}

/* Open the transaction of one call: a savepoint inside a batch. */
static int registry_op_begin(mcs_registry *r, mcs_error *err)
{
	if (r->in_batch)
		return registry_run(r, STMT_SAVEPOINT, err);
	return registry_tx_begin(r, err);
}

/*
 * Close the transaction of one call.  k < 0: undo it; memory must not have
 * been changed before the failure (callers change it last) unless
 * dirty is set, which rebuilds it.
 */
static int registry_op_end(mcs_registry *r, int k, bool dirty, mcs_error *err)
{
	int c;

	if (r->in_batch) {
		if (k < 0)
			registry_op_undo(r);
		else {
			c = registry_run(r, STMT_RELEASE_SAVEPOINT, err);
			if (c < 0) {
				registry_op_undo(r);
				k = c;
			}
		}
		if (k < 0 && dirty)
			registry_rebuild(r, NULL);
		if (k >= 0 && dirty)
			r->batch_dirty = true;
		return k;
	}
	if (k >= 0) {
		c = registry_tx_end(r, true, err);
		if (c >= 0) {
			c = registry_sync(r, err);
			return c < 0 ? c : k;
		}
		k = c;
	} else {
		registry_tx_end(r, false, NULL);
	}
	if (dirty)
		registry_rebuild(r, NULL);
	return k;
}

int mcs_registry_begin(mcs_registry *r, mcs_error *err)
{
	int k;

	if (r->in_batch)
		return mcs_error_set(err, -EBUSY,
				     "registry: batch already open");
	k = registry_tx_begin(r, err);
	if (k < 0)
		return k;
	r->in_batch = true;
	r->batch_dirty = false;
	return 0;
}

int mcs_registry_rollback(mcs_registry *r, mcs_error *err)
{
	if (!r->in_batch)
		return mcs_error_set(err, -EBUSY, "registry: no batch open");
	return registry_batch_end(r, false, err);
}

int mcs_registry_commit_nowait(mcs_registry *r, mcs_error *err)
{
	if (!r->in_batch)
		return mcs_error_set(err, -EBUSY, "registry: no batch open");
	return registry_batch_end(r, true, err);
}

int mcs_registry_commit(mcs_registry *r, mcs_error *err)
{
	int k = mcs_registry_commit_nowait(r, err);

	return k < 0 ? k : registry_sync(r, err);
}

/* ---- allocate ---------------------------------------------------------- */

static bool name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("_.:@-", s[n]))
			return false;
	return n > 0 && n <= MCS_REGISTRY_OWNER_MAX;
}

static bool type_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_')
			return false;
	return n <= MCS_NAME_MAX;
}

/* The row of owner into ret and its pair's table key into ret_key. */
static int registry_get_key(mcs_registry *r, const char *owner,
			    mcs_registry_entry *ret, int64_t *ret_key,
			    mcs_error *err)
{
	sqlite3_stmt *s = registry_stmt(r, STMT_OWNER_GET, err);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (ret)
			registry_row_to_entry(s, ret);
		if (ret_key)
			*ret_key = sqlite3_column_int64(s, 9);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return mcs_error_set(err, -ENOENT, "owner %s holds no level",
				     owner);
	return registry_sqlite_error(r, rc, err, "lookup");
}

static int registry_get(mcs_registry *r, const char *owner,
			mcs_registry_entry *ret, mcs_error *err)
{
	return registry_get_key(r, owner, ret, NULL, err);
}

static int registry_step_done(mcs_registry *r, sqlite3_stmt *s, mcs_error *err,
			      const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return registry_sqlite_error(r, rc, err, what);
	return 0;
}

/* Table key of the pair held by group: 1 found, 0 none, < 0 error. */
static int registry_group_pair(mcs_registry *r, const char *group,
			       int64_t *ret_key, mcs_error *err)
{
	sqlite3_stmt *s = registry_stmt(r, STMT_GROUP_PAIR, err);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_key = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0
				 : registry_sqlite_error(r, rc, err, "group");
}

/* -EEXIST naming who holds level (table key key). */
static int registry_in_use(mcs_registry *r, const char *level, int64_t key,
			   mcs_error *err)
{
	sqlite3_stmt *s = registry_stmt(r, STMT_PAIR_HOLDER, err);
	char owner[MCS_REGISTRY_OWNER_MAX + 1] = "?";
	char group[MCS_REGISTRY_OWNER_MAX + 1] = "";

	if (s) {
		sqlite3_bind_int64(s, 1, key);
		if (sqlite3_step(s) == SQLITE_ROW) {
			copy_col(owner, sizeof(owner), s, 0);
			copy_col(group, sizeof(group), s, 1);
		}
		sqlite3_reset(s);
	}
	if (*group)
		return mcs_error_set(err, -EEXIST,
				     "level %s is in use by group %s", level,
				     group);
	return mcs_error_set(err, -EEXIST, "level %s is in use by %s", level,
			     owner);
}

static int registry_validate(const mcs_registry *r,
			     const mcs_registry_request *req,
			     char level[MCS_REGISTRY_LEVEL_MAX],
			     uint32_t *ret_idx, int64_t *ret_key,
			     mcs_error *err)
{
	const char *group = req->group && *req->group ? req->group : NULL;
	int k;

	if (!req->owner || !name_valid(req->owner))
		return mcs_error_set(err, -EINVAL,
				     "invalid owner \"%.64s\": want 1-255 of "
				     "[A-Za-z0-9_.:@-]",
				     req->owner ? req->owner : "");
	if (group && !name_valid(group))
		return mcs_error_set(err, -EINVAL,
				     "invalid group \"%.64s\": want 1-255 of "
				     "[A-Za-z0-9_.:@-]",
				     group);
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
	*level = '\0';
	if (req->level && *req->level) {
		k = registry_level_index(r, req->level, ret_idx, ret_key, err);
		if (k < 0) {
			mcs_error_prefix(err, "invalid level: ");
			return -EINVAL;
		}
		if (alloc_state(r->pairs, *ret_idx) == ALLOC_EXCLUDED)
			return mcs_error_set(
				err, -EINVAL,
				"invalid level: %s is reserved and "
				"never handed out",
				req->level);
		key_level(*ret_key, level);
	}
	return 0;
}

/*
 * Make the pair idx (table key key) held by group, or by owner alone when
 * group is NULL, in the tables.
 */
static int registry_take_pair(mcs_registry *r, uint32_t idx, int64_t key,
			      const char *owner, const char *group,
			      mcs_error *err)
{
	int id = alloc_state(r->pairs, idx) == ALLOC_FREE ? STMT_PAIR_INSERT
							  : STMT_PAIR_TAKE;
	sqlite3_stmt *s = registry_stmt(r, id, err);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, key);
	if (group)
		sqlite3_bind_text(s, 3, group, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
	return registry_step_done(r, s, err, "take pair");
}

/* Insert req's owner row for the pair key; *row (may be NULL) receives
 * the row as stored. */
static int registry_insert_owner(mcs_registry *r,
				 const mcs_registry_request *req, int64_t key,
				 mcs_registry_entry *row, mcs_error *err)
{
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *s;
	uint64_t start = 0;
	int k;

	if (req->kind == MCS_REGISTRY_LEASE && req->pid > 0) {
		k = proc_pid_start_time(req->pid, &start);
		if (k < 0)
			return mcs_error_set(
				err, k, "owner %s: lease pid %d: %s",
				req->owner, (int)req->pid, strerror(-k));
	}
	s = registry_stmt(r, STMT_OWNER_INSERT, err);
	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, req->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, key);
	bind_text_or_null(s, 3, req->group);
	sqlite3_bind_text(
		s, 4, req->kind == MCS_REGISTRY_LEASE ? "lease" : "reservation",
		-1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5,
			   req->kind == MCS_REGISTRY_LEASE ? req->pid : 0);
	sqlite3_bind_int64(s, 6, (int64_t)start);
	sqlite3_bind_text(s, 7, r->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, req->uid);
	bind_text_or_null(s, 9, req->type);
	sqlite3_bind_int64(s, 10, now);
	k = registry_step_done(r, s, err, "insert owner");
	if (k < 0)
		return k;
	r->owners++; /* the caller reports itself dirty */
	if (!row)
		return 0;
	memset(row, 0, sizeof(*row));
	snprintf(row->owner, sizeof(row->owner), "%s", req->owner);
	key_level(key, row->level);
	snprintf(row->group, sizeof(row->group), "%s",
		 req->group ? req->group : "");
	row->kind = req->kind;
	row->pid = req->kind == MCS_REGISTRY_LEASE ? req->pid : 0;
	row->pid_start = start;
	row->uid = req->uid;
	snprintf(row->type, sizeof(row->type), "%s",
		 req->type ? req->type : "");
	row->created = now;
	return 0;
}

/* The body of allocate, inside the call's transaction. */
static int registry_allocate_locked(mcs_registry *r,
				    const mcs_registry_request *req,
				    const char *want, uint32_t want_idx,
				    int64_t want_key, mcs_registry_entry *ret,
				    bool *dirty, mcs_error *err)
{
	const char *group = req->group && *req->group ? req->group : NULL;
	char level[MCS_REGISTRY_LEVEL_MAX];
	mcs_registry_entry cur;
	uint32_t idx = want_idx;
	int64_t key = want_key;
	int k;

	k = registry_get(r, req->owner, &cur, NULL);
	if (k == 0) {
		/* another uid's owner is not its to see (root: anything) */
		if (req->uid != 0 && cur.uid != req->uid)
			return mcs_error_set(err, -EPERM,
					     "owner %s belongs to uid %u, not "
					     "to uid %u",
					     req->owner, (unsigned)cur.uid,
					     (unsigned)req->uid);
		/* idempotent, unless asked for something else */
		if (*want && strcmp(want, cur.level) != 0)
			return mcs_error_set(
				err, -EEXIST,
				"owner %s already holds %s, not %s", req->owner,
				cur.level, want);
		if (strcmp(group ? group : "", cur.group) != 0)
			return mcs_error_set(err, -EEXIST,
					     "owner %s already holds %s in "
					     "group \"%s\"",
					     req->owner, cur.level, cur.group);
		if (ret)
			*ret = cur;
		return 0;
	}
	if (k != -ENOENT)
		return registry_get(r, req->owner, NULL, err);

	if (group) {
		k = registry_group_pair(r, group, &key, err);
		if (k < 0)
			return k;
		if (k > 0) {
			key_level(key, level);
			if (*want && strcmp(want, level) != 0)
				return mcs_error_set(
					err, -EEXIST,
					"group %s holds %s, not %s", group,
					level, want);
			k = registry_insert_owner(r, req, key, ret, err);
			*dirty = k >= 0;
			return k < 0 ? k : 1;
		}
	}
	if (*want) {
		if (alloc_state(r->pairs, idx) == ALLOC_HELD)
			return registry_in_use(r, want, want_key, err);
	} else {
		k = alloc_choose(r->pairs, &idx);
		if (k == -ENOSPC)
			return mcs_error_set(
				err, -ENOSPC,
				"registry exhausted: all %" PRIu32
				" levels of c%u.c%u are in use",
				alloc_size(r->pairs) -
					alloc_count(r->pairs, ALLOC_EXCLUDED),
				r->range.lo, r->range.hi);
		if (k < 0)
			return mcs_error_set(err, k, "getrandom: %s",
					     strerror(-k));
		key = registry_index_key(r, idx);
	}
	k = registry_take_pair(r, idx, key, req->owner, group, err);
	if (k < 0)
		return k;
	k = registry_insert_owner(r, req, key, ret, err);
	if (k < 0)
		return k;
	/* last: the memory index follows what is now in the tables */
	alloc_set(r->pairs, idx, ALLOC_HELD);
	*dirty = true;
	return 1;
}

int mcs_registry_allocate(mcs_registry *r, const mcs_registry_request *req,
			  mcs_registry_entry *ret, mcs_error *err)
{
	char want[MCS_REGISTRY_LEVEL_MAX];
	uint32_t want_idx = 0;
	int64_t want_key = 0;
	bool dirty = false;
	int k, created;

	if (!r || !req)
		return mcs_error_set(err, -EINVAL, "no request");
	k = registry_validate(r, req, want, &want_idx, &want_key, err);
	if (k < 0)
		return k;
	k = registry_op_begin(r, err);
	if (k < 0)
		return k;
	created = registry_allocate_locked(r, req, want, want_idx, want_key,
					   ret, &dirty, err);
	k = registry_op_end(r, created, dirty, err);
	if (k >= 0 && created > 0 && ret)
		log_msg(MCS_LOG_INFO, "allocated %s to %s", ret->level,
			req->owner);
	return k;
}

/* ---- release, lookup, list, status --------------------------------------- */

int mcs_registry_release(mcs_registry *r, const char *owner, uid_t uid,
			 mcs_error *err)
{
	mcs_registry_entry cur;
	sqlite3_stmt *s;
	bool dirty = false;
	int64_t key = 0;
	uint32_t idx;
	int k, rc;

	if (!r || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	k = registry_op_begin(r, err);
	if (k < 0)
		return k;
	k = registry_get_key(r, owner, &cur, &key, err);
	if (k < 0)
		goto out;
	if (uid != 0 && cur.uid != uid) {
		k = mcs_error_set(err, -EPERM,
				  "owner %s belongs to uid %u, not to uid %u",
				  owner, (unsigned)cur.uid, (unsigned)uid);
		goto out;
	}
	s = registry_stmt(r, STMT_OWNER_DELETE, err);
	if (!s) {
		k = -EIO;
		goto out;
	}
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	k = registry_step_done(r, s, err, "delete owner");
	if (k < 0)
		goto out;
	r->owners--;
	dirty = true;
	if (*cur.group) {
		s = registry_stmt(r, STMT_GROUP_COUNT, err);
		if (!s) {
			k = -EIO;
			goto out;
		}
		sqlite3_bind_text(s, 1, cur.group, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			k = registry_sqlite_error(r, rc, err, "count owners");
			goto out;
		}
		k = sqlite3_column_int(s, 0);
		sqlite3_reset(s);
		if (k > 0) {
			k = 0; /* other members of the group keep the level */
			goto out;
		}
	}
	s = registry_stmt(r, STMT_PAIR_RELEASE, err);
	if (!s) {
		k = -EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, key);
	sqlite3_bind_int64(s, 2, r->next_seq);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	k = registry_step_done(r, s, err, "release pair");
	if (k < 0)
		goto out;
	r->next_seq++;
	if (registry_key_index(r, key, &idx) == 0 &&
	    alloc_state(r->pairs, idx) != ALLOC_EXCLUDED)
		alloc_set(r->pairs, idx, ALLOC_QUARANTINED);
	else if (r->held_outside > 0)
		r->held_outside--;
out:
	k = registry_op_end(r, k, dirty, err);
	if (k >= 0)
		log_msg(MCS_LOG_INFO, "released %s of %s", cur.level, owner);
	return k;
}

int mcs_registry_lookup(mcs_registry *r, const char *owner,
			mcs_registry_entry *ret, mcs_error *err)
{
	if (!r || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	return registry_get(r, owner, ret, err);
}

int mcs_registry_list(mcs_registry *r, mcs_registry_entry **ret_entries,
		      size_t *ret_n, mcs_error *err)
{
	_cleanup_free_ mcs_registry_entry *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	s = registry_stmt(r, STMT_LIST, err);
	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			mcs_registry_entry *nv =
				reallocarray(v, ncap, sizeof(*v));

			if (!nv) {
				sqlite3_reset(s);
				return mcs_error_set(err, -ENOMEM,
						     "out of memory");
			}
			v = nv;
			cap = ncap;
		}
		registry_row_to_entry(s, &v[n++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return registry_sqlite_error(r, rc, err, "list");
	*ret_n = n;
	*ret_entries = n ? TAKE_PTR(v) : NULL;
	return 0;
}

int mcs_registry_list_page(mcs_registry *r, const char *after,
			   mcs_registry_entry *entries, size_t max,
			   size_t *ret_n, mcs_error *err)
{
	sqlite3_stmt *s;
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (!r || !entries || !ret_n || max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "list: bad arguments");
	s = registry_stmt(r, STMT_LIST_PAGE, err);
	if (!s)
		return -EIO;
	/* every owner sorts after "": names are never empty */
	sqlite3_bind_text(s, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		registry_row_to_entry(s, &entries[n++]);
	sqlite3_reset(s);
	if (n < max && rc != SQLITE_DONE)
		return registry_sqlite_error(r, rc, err, "list");
	*ret_n = n;
	return 0;
}

int mcs_registry_status(mcs_registry *r, mcs_registry_counts *ret)
{
	uint32_t excl = alloc_count(r->pairs, ALLOC_EXCLUDED);

	memset(ret, 0, sizeof(*ret));
	ret->total = alloc_size(r->pairs) - excl;
	ret->excluded = excl;
	ret->used = alloc_count(r->pairs, ALLOC_HELD) + r->held_outside;
	ret->quarantined = alloc_count(r->pairs, ALLOC_QUARANTINED);
	ret->free = alloc_count(r->pairs, ALLOC_FREE) + ret->quarantined;
	ret->owners = r->owners;
	return 0;
}

/* ---- reconcile --------------------------------------------------------- */

/* Dead leases released per transaction by reconcile. */
#define RECONCILE_CHUNK 1024

typedef struct owner_name {
	char name[MCS_REGISTRY_OWNER_MAX + 1];
} owner_name;

/*
 * The next up to RECONCILE_CHUNK dead leases whose owner sorts after
 * `after`, into dead; *ret_more when the scan stopped at a full chunk.
 */
static int reconcile_scan(mcs_registry *r, const char *after, owner_name *dead,
			  size_t *ret_n, bool *ret_more, mcs_error *err)
{
	sqlite3_stmt *s = registry_stmt(r, STMT_LEASES, err);
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
	while (n < RECONCILE_CHUNK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *boot = sqlite3_column_text(s, 3);
		pid_t pid = (pid_t)sqlite3_column_int64(s, 1);
		uint64_t want = (uint64_t)sqlite3_column_int64(s, 2), start;
		bool gone =
			!boot || strcmp((const char *)boot, r->boot_id) != 0;

		if (!gone && pid > 0)
			gone = proc_pid_start_time(pid, &start) == -ESRCH ||
			       (want != 0 && start != want);
		if (gone)
			copy_col(dead[n++].name, sizeof(dead->name), s, 0);
	}
	sqlite3_reset(s);
	if (n < RECONCILE_CHUNK && rc != SQLITE_DONE)
		return registry_sqlite_error(r, rc, err, "reconcile");
	*ret_n = n;
	*ret_more = n == RECONCILE_CHUNK;
	return 0;
}

int mcs_registry_reconcile(mcs_registry *r, size_t *ret_released,
			   mcs_error *err)
{
	_cleanup_free_ owner_name *dead =
		calloc(RECONCILE_CHUNK, sizeof(*dead));
	char after[MCS_REGISTRY_OWNER_MAX + 1] = "";
	bool own_batch = !r->in_batch, more = true;
	size_t released = 0;
	int k = 0;

	if (!dead)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	/*
	 * A chunk at a time, each in its own transaction (unless the
	 * caller's batch is open): after a reboot every lease is dead, and
	 * memory and the WAL stay bounded however many there are.  Released
	 * rows sort before the cursor, so a scan never meets them again.
	 */
	while (more && k >= 0) {
		size_t n = 0;

		k = reconcile_scan(r, after, dead, &n, &more, err);
		if (k < 0 || n == 0)
			break;
		if (own_batch) {
			k = mcs_registry_begin(r, err);
			if (k < 0)
				break;
		}
		for (size_t i = 0; i < n && k >= 0; i++) {
			k = mcs_registry_release(r, dead[i].name, 0, err);
			if (k >= 0)
				log_msg(MCS_LOG_NOTICE,
					"reconcile: released dead lease %s",
					dead[i].name);
		}
		if (own_batch && k < 0)
			mcs_registry_rollback(r, NULL);
		else if (own_batch)
			k = mcs_registry_commit(r, err);
		if (k >= 0)
			released += n;
		memcpy(after, dead[n - 1].name, sizeof(after));
	}
	if (k >= 0 && ret_released)
		*ret_released = released;
	return k < 0 ? k : 0;
}
