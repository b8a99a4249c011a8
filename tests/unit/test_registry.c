/* SPDX-License-Identifier: MIT */
/*
 * test_registry.c - unit tests for mcsd/registry.c on temporary file
 * databases, checking the rows in sqlite directly: uniqueness over a full
 * small range then "exhausted" with nothing changed, idempotence, groups
 * (shared level, freed with the last member), explicit levels, LRU reuse,
 * the reserved level, reopen, reconcile (dead pid, reused pid, other
 * boot, reservations kept; 2,500 dead leases, over two chunks), uid
 * checks, batches with a failing call,
 * listing whole and by pages, pidfds, a small throughput figure (single vs
 * batched commits), the migration of a version-1 database, the trigger that
 * refuses a second owner of a pair written behind the registry's back, and the
 * split commit (commit_nowait, then sync) that mcsd's pipeline uses, and the
 * owner count that Status reads from memory.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "registry.h"
#include "proc.h"

struct fix {
	char dir[64];
	char db[96];
	mcsd_registry *r;
};

static mcsd_registry_config range_cfg(unsigned lo, unsigned hi)
{
	mcsd_registry_config c = {.range = {(uint16_t)lo, (uint16_t)hi}};

	return c;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_registry.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/registry.db", f->dir);
	*state = f;
	/* a transaction that leaves the writer gate closed deadlocks the
	 * next one: fail then instead of hanging CI */
	alarm(120);
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[160];

	mcsd_registry_close(f->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	alarm(0);
	return 0;
}

static void open_reg(struct fix *f, const mcsd_registry_config *cfg)
{
	mcs_error err = {0};

	mcsd_registry_close(f->r);
	f->r = NULL;
	assert_int_equal(mcsd_registry_open(f->db, cfg, &f->r, &err), 0);
}

/* One integer from the database, read by a separate connection. */
static long long q(struct fix *f, const char *sql, const char *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(
		sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void exec_sql(struct fix *f, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int alloc_one(struct fix *f, const char *owner, const char *group,
		     const char *level, mcsd_registry_entry *e, mcs_error *err)
{
	mcsd_registry_request req = {.owner = owner,
				     .group = group,
				     .level = level,
				     .kind = MCSD_REGISTRY_RESERVATION,
				     .uid = 0};

	return mcsd_registry_allocate(f->r, &req, e, err);
}

/* Owners PREFIX-FROM .. PREFIX-(FROM+N-1), each a new reservation, in one
 * batch committed at the end. */
static void alloc_batch(struct fix *f, const char *prefix, int from, int n)
{
	mcsd_registry_entry e;
	mcs_error err = {0};
	char owner[64];

	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	for (int i = from; i < from + n; i++) {
		snprintf(owner, sizeof(owner), "%s-%d", prefix, i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e, &err), 1);
	}
	assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
}

static void test_fill_small_range(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 9);
	mcsd_registry_counts st;
	mcsd_registry_entry e;
	mcs_error err = {0};
	char owner[32], seen[45][32];
	unsigned x, y;

	open_reg(f, &cfg);
	for (int i = 0; i < 45; i++) {
		snprintf(owner, sizeof(owner), "c%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e, &err), 1);
		assert_int_equal(sscanf(e.level, "s0:c%u,c%u", &x, &y), 2);
		assert_true(x < y && y <= 9);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[j], e.level);
		snprintf(seen[i], sizeof(seen[i]), "%s", e.level);
		assert_int_equal(q(f,
				   "SELECT count(*) FROM owners WHERE "
				   "owner = ?1",
				   owner),
				 1);
	}
	assert_int_equal(q(f, "SELECT count(DISTINCT level) FROM owners", NULL),
			 45);
	assert_int_equal(alloc_one(f, "one-too-many", NULL, NULL, &e, &err),
			 -ENOSPC);
	assert_non_null(strstr(err.msg, "exhausted"));
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 45);
	assert_int_equal(q(f, "SELECT count(*) FROM pairs", NULL), 45);
	assert_int_equal(mcsd_registry_status(f->r, &st), 0);
	assert_int_equal(st.total, 45);
	assert_int_equal(st.used, 45);
	assert_int_equal(st.free, 0);
	assert_int_equal(st.owners, 45);
}

static void test_idempotent(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry a, b;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(alloc_one(f, "ctr1", NULL, NULL, &a, &err), 1);
	assert_int_equal(alloc_one(f, "ctr1", NULL, NULL, &b, &err), 0);
	assert_string_equal(a.level, b.level);
	assert_int_equal(alloc_one(f, "ctr1", NULL, a.level, &b, &err), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 1);
	/* asking for another level or group is a conflict, not a move */
	assert_int_equal(alloc_one(f, "ctr1", "pod", NULL, &b, &err), -EEXIST);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE group_name "
			   "IS NULL",
			   NULL),
			 1);
}

static void test_groups(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry a, b, c;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(alloc_one(f, "pod-a", "pod1", NULL, &a, &err), 1);
	assert_int_equal(alloc_one(f, "pod-b", "pod1", NULL, &b, &err), 1);
	assert_int_equal(alloc_one(f, "other", "pod2", NULL, &c, &err), 1);
	assert_string_equal(a.level, b.level);
	assert_string_not_equal(a.level, c.level);
	assert_string_equal(b.group, "pod1");
	assert_int_equal(
		q(f, "SELECT count(*) FROM owners WHERE level = ?1", a.level),
		2);
	assert_int_equal(mcsd_registry_release(f->r, "pod-a", 0, &err), 0);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level = ?1 "
			   "AND state = 'held'",
			   a.level),
			 1);
	assert_int_equal(mcsd_registry_release(f->r, "pod-b", 0, &err), 0);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level = ?1 "
			   "AND state = 'released' AND group_name IS NULL",
			   a.level),
			 1);
	assert_int_equal(mcsd_registry_release(f->r, "pod-b", 0, &err),
			 -ENOENT);
}

static void test_explicit_levels(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(alloc_one(f, "x1", NULL, "s0:c200,c100", &e, &err), 1);
	assert_string_equal(e.level, "s0:c100,c200");
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level = "
			   "'s0:c100,c200' AND state = 'held'",
			   NULL),
			 1);
	/* invalid */
	const char *bad[] = {"s0:c1",	    "s1:c1,c2",
			     "s0:c1,c2,c3", "s0:c5,c5",
			     "s0:c1.c3",    "garbage",
			     "s0:c1,c1024", MCSD_REGISTRY_RESERVED_LEVEL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(alloc_one(f, "x2", NULL, bad[i], &e, &err),
				 -EINVAL);
	}
	assert_int_equal(
		q(f, "SELECT count(*) FROM owners WHERE owner = 'x2'", NULL),
		0);
	/* in use */
	assert_int_equal(alloc_one(f, "x3", NULL, "s0:c100,c200", &e, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, "s0:c100,c200 is in use by x1"));
	/* joining a group through its level */
	assert_int_equal(alloc_one(f, "g1", "grp", "s0:c7,c8", &e, &err), 1);
	assert_int_equal(alloc_one(f, "g2", "grp", "s0:c7,c8", &e, &err), 1);
	assert_int_equal(alloc_one(f, "g3", "grp", "s0:c7,c9", &e, &err),
			 -EEXIST);
	assert_int_equal(alloc_one(f, "g4", "other", "s0:c7,c8", &e, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, "group grp"));
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE level = "
			   "'s0:c7,c8'",
			   NULL),
			 2);
	/* outside a configured range */
	mcsd_registry_config cfg = range_cfg(0, 9);
	open_reg(f, &cfg);
	assert_int_equal(alloc_one(f, "x4", NULL, "s0:c1,c10", &e, &err),
			 -EINVAL);
	/* a quarantined level may be taken explicitly */
	assert_int_equal(alloc_one(f, "x5", NULL, "s0:c1,c2", &e, &err), 1);
	assert_int_equal(mcsd_registry_release(f->r, "x5", 0, &err), 0);
	assert_int_equal(alloc_one(f, "x6", NULL, "s0:c1,c2", &e, &err), 1);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level = "
			   "'s0:c1,c2' AND state = 'held' AND release_seq "
			   "IS NULL",
			   NULL),
			 1);
}

static void test_lru_reuse(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 3); /* 6 pairs */
	mcsd_registry_entry e[6], n;
	mcs_error err = {0};
	char owner[16];

	open_reg(f, &cfg);
	for (int i = 0; i < 6; i++) {
		snprintf(owner, sizeof(owner), "o%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e[i], &err),
				 1);
	}
	assert_int_equal(mcsd_registry_release(f->r, "o3", 0, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "o1", 0, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "o5", 0, &err), 0);
	/* order survives a reopen (it is on disk) */
	open_reg(f, &cfg);
	assert_int_equal(alloc_one(f, "n1", NULL, NULL, &n, &err), 1);
	assert_string_equal(n.level, e[3].level);
	assert_int_equal(alloc_one(f, "n2", NULL, NULL, &n, &err), 1);
	assert_string_equal(n.level, e[1].level);
	assert_int_equal(alloc_one(f, "n3", NULL, NULL, &n, &err), 1);
	assert_string_equal(n.level, e[5].level);
	assert_int_equal(alloc_one(f, "n4", NULL, NULL, &n, &err), -ENOSPC);

	/* never-used pairs go first: 10 pairs, release one, take 9 more */
	cfg = range_cfg(10, 14);
	open_reg(f, &cfg);
	assert_int_equal(alloc_one(f, "r0", NULL, NULL, &e[0], &err), 1);
	assert_int_equal(mcsd_registry_release(f->r, "r0", 0, &err), 0);
	for (int i = 1; i < 10; i++) {
		snprintf(owner, sizeof(owner), "r%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &n, &err), 1);
		assert_string_not_equal(n.level, e[0].level);
	}
	assert_int_equal(alloc_one(f, "r10", NULL, NULL, &n, &err), 1);
	assert_string_equal(n.level, e[0].level);
}

static void test_reserved_never(void **state)
{
	struct fix *f = *state;
	const char *excl[] = {"s0:c1020,c1021"};
	mcsd_registry_config cfg = range_cfg(1020, 1023); /* 6 pairs */
	mcsd_registry_counts st;
	mcsd_registry_entry e;
	mcs_error err = {0};
	char owner[16];

	cfg.excluded = excl;
	cfg.n_excluded = 1;
	open_reg(f, &cfg);
	assert_int_equal(mcsd_registry_status(f->r, &st), 0);
	assert_int_equal(st.total, 4);
	assert_int_equal(st.excluded, 2);
	for (int i = 0; i < 4; i++) {
		snprintf(owner, sizeof(owner), "p%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e, &err), 1);
		assert_string_not_equal(e.level, "s0:c1022,c1023");
		assert_string_not_equal(e.level, "s0:c1020,c1021");
	}
	assert_int_equal(alloc_one(f, "p4", NULL, NULL, &e, &err), -ENOSPC);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level IN "
			   "('s0:c1022,c1023', 's0:c1020,c1021')",
			   NULL),
			 0);
	assert_int_equal(alloc_one(f, "p5", NULL, "s0:c1021,c1020", &e, &err),
			 -EINVAL);
}

static void test_reopen_and_reconcile(void **state)
{
	struct fix *f = *state;
	mcsd_registry_request req = {.kind = MCSD_REGISTRY_LEASE, .uid = 0};
	mcsd_registry_entry e, before[4];
	mcs_error err = {0};
	size_t released = 99;
	pid_t child;

	open_reg(f, NULL);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	/* live lease (our pid), lease of a child that will die, lease
	 * whose pid start time will not match (pid reuse), lease of
	 * another boot, and a reservation bound to the dead child */
	const char *names[] = {"live", "dies", "reused", "oldboot"};
	pid_t pids[] = {getpid(), child, getpid(), getpid()};
	for (int i = 0; i < 4; i++) {
		req.owner = names[i];
		req.pid = pids[i];
		assert_int_equal(
			mcsd_registry_allocate(f->r, &req, &before[i], &err),
			1);
	}
	assert_true(before[1].pid_start > 0);
	assert_int_equal(alloc_one(f, "resv", NULL, NULL, &e, &err), 1);
	mcsd_registry_close(f->r);
	f->r = NULL;
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	exec_sql(f, "UPDATE owners SET pid_start = pid_start + 1 WHERE owner = "
		    "'reused'; UPDATE owners SET boot_id = "
		    "'00000000-0000-0000-0000-000000000000' WHERE owner = "
		    "'oldboot'");

	/* reopen keeps every row; reconcile releases exactly the three */
	open_reg(f, NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mcsd_registry_lookup(f->r, names[i], &e, &err),
				 0);
		assert_string_equal(e.level, before[i].level);
	}
	assert_int_equal(mcsd_registry_reconcile(f->r, &released, &err), 0);
	assert_int_equal(released, 3);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 2);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE owner IN "
			   "('live', 'resv')",
			   NULL),
			 2);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE state = "
			   "'released'",
			   NULL),
			 3);
	assert_int_equal(mcsd_registry_reconcile(f->r, &released, &err), 0);
	assert_int_equal(released, 0);
	/* a lease for a pid that does not exist is refused */
	req.owner = "ghost";
	req.pid = child;
	assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err), -ESRCH);
}

/* After a reboot: 2,500 dead leases (more than one chunk of reconcile)
 * with live ones and reservations between them in owner order; every dead
 * one is released, nothing else, and the owner count follows. */
static void test_reconcile_many(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 99); /* 4950 pairs */
	mcsd_registry_request req = {.kind = MCSD_REGISTRY_LEASE, .uid = 0};
	mcsd_registry_counts st;
	mcsd_registry_entry e;
	mcs_error err = {0};
	size_t released = 0;
	char owner[32];

	open_reg(f, &cfg);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	for (int i = 0; i < 2700; i++) {
		snprintf(owner, sizeof(owner), "c%05d", i);
		req.owner = owner;
		req.kind = i % 27 == 5 ? MCSD_REGISTRY_RESERVATION
				       : MCSD_REGISTRY_LEASE;
		assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err),
				 1);
	}
	assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
	mcsd_registry_close(f->r);
	f->r = NULL;
	/* 2,500 leases of an earlier boot; the 100 others of this one */
	exec_sql(f, "UPDATE owners SET boot_id = 'earlier' WHERE kind = "
		    "'lease' AND owner NOT IN (SELECT owner FROM owners WHERE "
		    "kind = 'lease' ORDER BY owner DESC LIMIT 100 OFFSET 300)");
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE boot_id = "
			   "'earlier'",
			   NULL),
			 2500);

	open_reg(f, &cfg);
	assert_int_equal(mcsd_registry_reconcile(f->r, &released, &err), 0);
	assert_int_equal(released, 2500);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 200);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE boot_id = "
			   "'earlier'",
			   NULL),
			 0);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE kind = "
			   "'reservation'",
			   NULL),
			 100);
	assert_int_equal(mcsd_registry_status(f->r, &st), 0);
	assert_int_equal(st.owners, 200);
	assert_int_equal(st.quarantined, 2500);
	assert_int_equal(mcsd_registry_reconcile(f->r, &released, &err), 0);
	assert_int_equal(released, 0);
}

static void test_uid_checks(void **state)
{
	struct fix *f = *state;
	mcsd_registry_request req = {
		.owner = "u1", .kind = MCSD_REGISTRY_RESERVATION, .uid = 1000};
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err), 1);
	assert_int_equal(e.uid, 1000);
	assert_int_equal(mcsd_registry_release(f->r, "u1", 1001, &err), -EPERM);
	assert_non_null(strstr(err.msg, "u1"));
	/* nor may it allocate (see) another uid's owner; root may */
	req.uid = 1001;
	assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err), -EPERM);
	assert_non_null(strstr(err.msg, "another uid"));
	assert_null(strstr(err.msg, "1000")); /* nor whose it is */
	req.uid = 0;
	assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err), 0);
	assert_int_equal(e.uid, 1000);
	req.uid = 1000;
	assert_int_equal(
		q(f, "SELECT uid FROM owners WHERE owner = 'u1'", NULL), 1000);
	assert_int_equal(mcsd_registry_release(f->r, "u1", 1000, &err), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 0);
	req.owner = "u2";
	assert_int_equal(mcsd_registry_allocate(f->r, &req, &e, &err), 1);
	assert_int_equal(mcsd_registry_release(f->r, "u2", 0, &err), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 0);

	/* a group is its creator's uid's: another uid may not join it (it
	 * would share the level), root and the same uid may */
	mcsd_registry_entry g;
	mcsd_registry_request m = {.owner = "g1",
				   .group = "pod",
				   .kind = MCSD_REGISTRY_RESERVATION,
				   .uid = 1000};
	assert_int_equal(mcsd_registry_allocate(f->r, &m, &g, &err), 1);
	m.owner = "g2";
	m.uid = 1001;
	assert_int_equal(mcsd_registry_allocate(f->r, &m, &e, &err), -EPERM);
	assert_non_null(strstr(err.msg, "group pod belongs to another uid"));
	assert_int_equal(
		q(f, "SELECT count(*) FROM owners WHERE owner = 'g2'", NULL),
		0);
	m.uid = 0;
	assert_int_equal(mcsd_registry_allocate(f->r, &m, &e, &err), 1);
	assert_string_equal(e.level, g.level);
	m.owner = "g3";
	m.uid = 1000; /* root's member does not make it root's */
	assert_int_equal(mcsd_registry_allocate(f->r, &m, &e, &err), 1);
	assert_string_equal(e.level, g.level);
	/* another uid asking for the level is told it is in use, not by
	 * whom; root is told */
	mcsd_registry_request l = {.owner = "l1",
				   .level = g.level,
				   .kind = MCSD_REGISTRY_RESERVATION,
				   .uid = 1001};
	assert_int_equal(mcsd_registry_allocate(f->r, &l, &e, &err), -EEXIST);
	assert_null(strstr(err.msg, "pod"));
	l.uid = 0;
	assert_int_equal(mcsd_registry_allocate(f->r, &l, &e, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "group pod"));
}

static void test_batches(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 9);
	mcsd_registry_counts st;
	mcsd_registry_entry a, e;
	mcs_error err = {0};
	char owner[16];

	open_reg(f, &cfg);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(mcsd_registry_begin(f->r, &err), -EBUSY);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &a, &err), 1);
	assert_int_equal(alloc_one(f, "b", NULL, a.level, &e, &err), -EEXIST);
	assert_int_equal(alloc_one(f, "c", NULL, NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "d", NULL, "bogus", &e, &err), -EINVAL);
	/* not visible to another connection before the commit */
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 0);
	assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM owners WHERE owner IN "
			   "('a', 'c')",
			   NULL),
			 2);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 2);

	/* rollback undoes rows and the memory index */
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "x", NULL, NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_release(f->r, "a", 0, &err), 0);
	assert_int_equal(mcsd_registry_rollback(f->r, &err), 0);
	assert_int_equal(mcsd_registry_status(f->r, &st), 0);
	assert_int_equal(st.used, 2);
	assert_int_equal(st.quarantined, 0);
	assert_int_equal(mcsd_registry_lookup(f->r, "x", &e, &err), -ENOENT);
	/* the index is exact: the 43 other pairs fill it, then exhausted */
	for (int i = 0; i < 43; i++) {
		snprintf(owner, sizeof(owner), "f%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e, &err), 1);
	}
	assert_int_equal(alloc_one(f, "full", NULL, NULL, &e, &err), -ENOSPC);
	assert_int_equal(q(f, "SELECT count(DISTINCT level) FROM owners", NULL),
			 45);
}

/* Status counts owner rows from memory; each way a call or a batch ends
 * keeps that count equal to the table's. */
static void assert_owners(struct fix *f, long long want)
{
	mcsd_registry_counts st;

	assert_int_equal(mcsd_registry_status(f->r, &st), 0);
	assert_int_equal(st.owners, want);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), want);
}

static void test_status_owner_count(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 9);
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, &cfg);
	assert_owners(f, 0);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "x", "pod", NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "y", "pod", NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &e, &err), 0);
	assert_owners(f, 3);
	/* a member leaves, the group keeps its level */
	assert_int_equal(mcsd_registry_release(f->r, "x", 0, &err), 0);
	assert_owners(f, 2);
	assert_int_equal(mcsd_registry_release(f->r, "x", 0, &err), -ENOENT);
	assert_owners(f, 2);

	/* a rolled-back batch: new owners, a group join, releases */
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "b", NULL, NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "z", "pod", NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_release(f->r, "y", 0, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "a", 0, &err), 0);
	assert_int_equal(mcsd_registry_rollback(f->r, &err), 0);
	assert_owners(f, 2);
	/* ... and batches with only a join or only a member leaving */
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "z", "pod", NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_rollback(f->r, &err), 0);
	assert_owners(f, 2);
	assert_int_equal(alloc_one(f, "z", "pod", NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "z", 0, &err), 0);
	assert_int_equal(mcsd_registry_rollback(f->r, &err), 0);
	assert_owners(f, 3);
	assert_int_equal(mcsd_registry_release(f->r, "z", 0, &err), 0);

	/* a committed batch with a failing call */
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "z", "pod", NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "w", NULL, e.level, &e, &err), -EEXIST);
	assert_int_equal(mcsd_registry_release(f->r, "a", 0, &err), 0);
	assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
	assert_owners(f, 2);

	/* reopened: counted from the table */
	open_reg(f, &cfg);
	assert_owners(f, 2);
	assert_int_equal(mcsd_registry_release(f->r, "y", 0, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "z", 0, &err), 0);
	assert_owners(f, 0);
}

static void test_list(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry *v = NULL, e;
	mcs_error err = {0};
	size_t n = 9;

	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_list(f->r, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(alloc_one(f, "zeta", NULL, NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "alpha", "pod", NULL, &e, &err), 1);
	assert_int_equal(alloc_one(f, "bad name", NULL, NULL, &e, &err),
			 -EINVAL);
	assert_int_equal(mcsd_registry_list(f->r, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].owner, "alpha");
	assert_string_equal(v[0].group, "pod");
	assert_int_equal(v[0].kind, MCSD_REGISTRY_RESERVATION);
	assert_string_equal(v[1].owner, "zeta");
	free(v);
}

/* Pages of 10 over 45 owners: every owner once, in order, the last page
 * short; a cursor that is no owner works; bad arguments change nothing. */
static void test_list_page(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 9);
	mcsd_registry_entry *all = NULL, page[10];
	mcs_error err = {0};
	char after[MCSD_REGISTRY_OWNER_MAX + 1] = "";
	size_t n, total = 0, nall = 0, pages = 0;

	open_reg(f, &cfg);
	alloc_batch(f, "o", 0, 45);
	assert_int_equal(mcsd_registry_list(f->r, &all, &nall, &err), 0);
	assert_int_equal(nall, 45);
	do {
		assert_int_equal(mcsd_registry_list_page(f->r, after, page, 10,
							 &n, &err),
				 0);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(page[i].owner,
					    all[total + i].owner);
			assert_string_equal(page[i].level,
					    all[total + i].level);
		}
		total += n;
		pages++;
		if (n)
			snprintf(after, sizeof(after), "%s", page[n - 1].owner);
	} while (n == 10);
	assert_int_equal(total, 45);
	assert_int_equal(pages, 5);
	/* after a name that is no owner: from the next one on (text
	 * order: o-44 < o-44x < o-5 < ... < o-9) */
	assert_int_equal(
		mcsd_registry_list_page(f->r, "o-44x", page, 10, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(page[0].owner, "o-5");
	assert_string_equal(page[4].owner, "o-9");
	assert_int_equal(mcsd_registry_list_page(f->r, NULL, page, 3, &n, &err),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(page[0].owner, all[0].owner);
	assert_int_equal(mcsd_registry_list_page(f->r, "", page, 0, &n, &err),
			 -EINVAL);
	free(all);
}

static void test_pidfd(void **state)
{
	uint64_t start;
	pid_t child = fork();
	int fd;

	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(proc_pid_start_time(child, &start), 0);
	{
		/* field 22 read independently, and stable over time */
		char path[64], buf[1024], *p;
		unsigned long long want = 0;
		FILE *fp;
		uint64_t again;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		p = strrchr(buf, ')');
		assert_int_equal(
			sscanf(p + 2,
			       "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			       "%*s %*s %*s %*s %*s %*s %*s %*s %llu",
			       &want),
			1);
		assert_int_equal(start, want);
		assert_int_equal(proc_pid_start_time(getpid(), &start), 0);
		assert_int_equal(proc_pid_start_time(getpid(), &again), 0);
		assert_int_equal(start, again);
		assert_int_equal(proc_pid_start_time(child, &start), 0);
	}
	assert_int_equal(proc_pidfd_open(child, start + 1), -ESRCH);
	fd = proc_pidfd_open(child, start);
	assert_true(fd >= 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);
	kill(child, SIGKILL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(waitpid(child, NULL, 0), child);
	close(fd);
	assert_int_equal(proc_pid_start_time(child, &start), -ESRCH);
}

/* Calls between begin and commit are one commit: another connection sees
 * none of a batch's rows until the commit, then all of them; calls
 * outside a batch are each visible at once.  (What batching buys in
 * allocations/s is measured by make bench-mcsd, not asserted here.) */
static void test_batch_one_commit(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry e;
	mcs_error err = {0};
	char owner[32];

	open_reg(f, NULL);
	for (int i = 0; i < 10; i++) {
		snprintf(owner, sizeof(owner), "s%d", i);
		assert_int_equal(alloc_one(f, owner, NULL, NULL, &e, &err), 1);
		assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL),
				 i + 1);
	}
	for (int b = 0; b < 3; b++) {
		assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
		for (int i = 0; i < 100; i++) {
			snprintf(owner, sizeof(owner), "b%d-%d", b, i);
			assert_int_equal(
				alloc_one(f, owner, NULL, NULL, &e, &err), 1);
		}
		assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL),
				 10 + 100 * b);
		assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
		assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL),
				 10 + 100 * (b + 1));
	}
}

/* A version-1 database (the schema that shipped first), written by hand:
 * opening it migrates every row, keeps the LRU order, and the registry
 * goes on from there. */
static void test_migrate_v1(void **state)
{
	struct fix *f = *state;
	mcsd_registry_config cfg = range_cfg(0, 9);
	mcsd_registry_entry e;
	mcs_error err = {0};

	exec_sql(f,
		 "CREATE TABLE pairs (level TEXT PRIMARY KEY,"
		 "  state TEXT NOT NULL CHECK (state IN ('held', 'released')),"
		 "  group_name TEXT UNIQUE, release_seq INTEGER UNIQUE,"
		 "  released_at INTEGER) WITHOUT ROWID;"
		 "CREATE TABLE owners (owner TEXT PRIMARY KEY,"
		 "  level TEXT NOT NULL REFERENCES pairs (level),"
		 "  group_name TEXT, kind TEXT NOT NULL,"
		 "  pid INTEGER NOT NULL DEFAULT 0,"
		 "  pid_start INTEGER NOT NULL DEFAULT 0, boot_id TEXT,"
		 "  uid INTEGER NOT NULL, type TEXT, created INTEGER NOT NULL);"
		 "CREATE INDEX owners_level ON owners (level);"
		 "INSERT INTO pairs VALUES ('s0:c1,c2', 'held', NULL, NULL,"
		 "  NULL);"
		 "INSERT INTO pairs VALUES ('s0:c3,c9', 'held', 'pod', NULL,"
		 "  NULL);"
		 "INSERT INTO pairs VALUES ('s0:c0,c5', 'released', NULL, 7,"
		 "  100);"
		 "INSERT INTO pairs VALUES ('s0:c4,c6', 'released', NULL, 3,"
		 "  90);"
		 "INSERT INTO owners VALUES ('solo', 's0:c1,c2', NULL,"
		 "  'reservation', 0, 0, NULL, 1000, 'svirt_lxc_net_t', 5);"
		 "INSERT INTO owners VALUES ('m1', 's0:c3,c9', 'pod',"
		 "  'reservation', 0, 0, NULL, 0, NULL, 6);"
		 "INSERT INTO owners VALUES ('m2', 's0:c3,c9', 'pod',"
		 "  'reservation', 0, 0, NULL, 0, NULL, 7);"
		 "PRAGMA user_version = 1;");
	open_reg(f, &cfg);
	assert_int_equal(q(f, "PRAGMA user_version", NULL), 2);
	assert_int_equal(q(f,
			   "SELECT pair FROM pairs WHERE level = 's0:c3,c9'"
			   " AND holder IS NULL AND group_name = 'pod'",
			   NULL),
			 3 * 1024 + 9);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level ="
			   " 's0:c1,c2' AND holder = 'solo'",
			   NULL),
			 1);
	assert_int_equal(q(f,
			   "SELECT release_seq FROM pairs WHERE level ="
			   " 's0:c0,c5' AND state = 'released'",
			   NULL),
			 7);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 3);
	assert_int_equal(mcsd_registry_lookup(f->r, "solo", &e, &err), 0);
	assert_string_equal(e.level, "s0:c1,c2");
	assert_string_equal(e.type, "svirt_lxc_net_t");
	assert_int_equal(e.uid, 1000);
	assert_int_equal(e.created, 5);
	/* joining the migrated group gives its level */
	assert_int_equal(alloc_one(f, "m3", "pod", NULL, &e, &err), 1);
	assert_string_equal(e.level, "s0:c3,c9");
	/* the group is freed with its last member */
	assert_int_equal(mcsd_registry_release(f->r, "m1", 0, &err), 0);
	assert_int_equal(mcsd_registry_release(f->r, "m2", 0, &err), 0);
	assert_int_equal(q(f,
			   "SELECT count(*) FROM pairs WHERE level ="
			   " 's0:c3,c9' AND state = 'held'",
			   NULL),
			 1);
	assert_int_equal(mcsd_registry_release(f->r, "m3", 0, &err), 0);
	assert_int_equal(q(f,
			   "SELECT release_seq FROM pairs WHERE level ="
			   " 's0:c3,c9' AND state = 'released'",
			   NULL),
			 8);
	/* 45 pairs, 1 held: the 41 never used go first, then the released
	 * ones, least recently released first (seq 3, 7, 8) */
	alloc_batch(f, "n", 0, 41);
	assert_int_equal(alloc_one(f, "lru1", NULL, NULL, &e, &err), 1);
	assert_string_equal(e.level, "s0:c4,c6");
	assert_int_equal(alloc_one(f, "lru2", NULL, NULL, &e, &err), 1);
	assert_string_equal(e.level, "s0:c0,c5");
	assert_int_equal(alloc_one(f, "lru3", NULL, NULL, &e, &err), 1);
	assert_string_equal(e.level, "s0:c3,c9");
	assert_int_equal(alloc_one(f, "full", NULL, NULL, &e, &err), -ENOSPC);
}

/* Last line of defence: rows written behind the registry's back cannot
 * give a held pair a second owner, nor move an owner row. */
static void test_trigger_defence(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry a, g;
	mcs_error err = {0};
	sqlite3 *db = NULL;
	char sql[512];

	open_reg(f, NULL);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &a, &err), 1);
	assert_int_equal(alloc_one(f, "g1", "grp", NULL, &g, &err), 1);
	mcsd_registry_close(f->r);
	f->r = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* a second single owner of a's pair */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO owners (owner, pair, kind, uid, created)"
		 " SELECT 'intruder', pair, 'reservation', 0, 0 FROM owners"
		 " WHERE owner = 'a'");
	assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
			     SQLITE_OK);
	/* a member of another group on the group's pair */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO owners (owner, pair, group_name, kind, uid,"
		 " created) SELECT 'x', pair, 'other', 'reservation', 0, 0"
		 " FROM owners WHERE owner = 'g1'");
	assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
			     SQLITE_OK);
	/* a never-used pair has no row: nobody may own it */
	assert_int_not_equal(
		sqlite3_exec(db,
			     "INSERT INTO owners (owner, pair, kind, uid,"
			     " created) VALUES ('y', 5, 'reservation', 0, 0)",
			     NULL, NULL, NULL),
		SQLITE_OK);
	/* moving an owner row */
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE owners SET pair = pair + 1"
					  " WHERE owner = 'a'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	/* a pair key that is no pair (x >= y) */
	assert_int_not_equal(
		sqlite3_exec(db,
			     "INSERT INTO pairs (pair, state, holder)"
			     " VALUES (5 * 1024 + 5, 'held', 'z')",
			     NULL, NULL, NULL),
		SQLITE_OK);
	/* a legitimate member of the group may be added */
	assert_int_equal(
		sqlite3_exec(db,
			     "INSERT INTO owners (owner, pair, group_name,"
			     " kind, uid, created) SELECT 'g2', pair, 'grp',"
			     " 'reservation', 0, 0 FROM owners"
			     " WHERE owner = 'g1'",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 3);
	assert_int_equal(
		q(f, "SELECT count(*) FROM owners WHERE level = ?1", a.level),
		1);
}

/* The split commit: calls of a batch committed with commit_nowait are
 * visible to the next batch at once and to another connection, and sync
 * returns 0 (an fdatasync of the WAL). */
static void test_commit_nowait(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry a, b;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_commit_nowait(f->r, &err), -EBUSY);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &a, &err), 1);
	assert_int_equal(mcsd_registry_commit_nowait(f->r, &err), 0);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "a", NULL, NULL, &b, &err), 0);
	assert_string_equal(a.level, b.level);
	assert_int_equal(mcsd_registry_commit_nowait(f->r, &err), 0);
	assert_int_equal(mcsd_registry_sync(f->r, &err), 0);
	assert_int_equal(
		q(f, "SELECT count(*) FROM owners WHERE level = ?1", a.level),
		1);
	mcsd_registry_close(f->r);
	f->r = NULL;
	/* in memory: nothing to sync */
	assert_int_equal(mcsd_registry_open(":memory:", NULL, &f->r, &err), 0);
	assert_int_equal(mcsd_registry_sync(f->r, &err), 0);
}

/* One transaction far bigger than what walvfs gathers for one write
 * (124 KiB) and than the default VFS takes in one pwrite (128 KiB): all
 * of it reaches the WAL, another connection sees every row, and a
 * reopened registry (which reads the WAL back) too. */
static void test_big_transaction(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, NULL);
	alloc_batch(f, "big", 0, 3000);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), 3000);
	assert_int_equal(
		q(f, "SELECT count(*) FROM pairs WHERE state = 'held'", NULL),
		3000);
	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_lookup(f->r, "big-2999", &e, &err), 0);
	assert_int_equal(q(f, "SELECT count(DISTINCT level) FROM owners", NULL),
			 3000);
}

/* Checkpoints in another thread's connection: commits no longer copy the
 * WAL themselves; checkpoint_due turns true as the WAL grows, a
 * checkpoint copies it and lets the next commit restart it, and every
 * row is in the database after a reopen. */
static void test_checkpoint_elsewhere(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_checkpoint(f->r, &err), -EINVAL);
	assert_int_equal(mcsd_registry_checkpoint_elsewhere(f->r, &err), 0);
	assert_false(mcsd_registry_checkpoint_due(f->r));
	/* batches of 300 until the WAL is long (each batch appends the
	 * pages it touched again): about 200 */
	int n = 0, b;
	for (b = 0; b < 2000 && !mcsd_registry_checkpoint_due(f->r); b++) {
		alloc_batch(f, "ck", n, 300);
		n += 300;
	}
	assert_true(b > 1 && b < 2000);
	assert_true(mcsd_registry_checkpoint_due(f->r));
	assert_true(mcsd_registry_checkpoint(f->r, &err) > 0);
	/* the WAL was restarted: the next commit starts it afresh */
	assert_int_equal(alloc_one(f, "after", NULL, NULL, &e, &err), 1);
	assert_false(mcsd_registry_checkpoint_due(f->r));
	open_reg(f, NULL);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL), n + 1);
	/* in memory: nothing to do */
	mcsd_registry_close(f->r);
	assert_int_equal(mcsd_registry_open(":memory:", NULL, &f->r, &err), 0);
	assert_int_equal(mcsd_registry_checkpoint_elsewhere(f->r, &err), 0);
	assert_false(mcsd_registry_checkpoint_due(f->r));
}

/* Checkpoints from another thread while batches run (the thread mcsd
 * uses). */
struct ckpt_loop {
	mcsd_registry *r;
	atomic_int stop;
	int runs, errors;
};

static void *ckpt_thread(void *arg)
{
	struct ckpt_loop *c = arg;
	mcs_error err = {0};

	while (!atomic_load(&c->stop)) {
		if (mcsd_registry_checkpoint(c->r, &err) < 0)
			c->errors++;
		c->runs++;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * A RESTART checkpoint takes the writer gate that every transaction holds
 * from BEGIN to COMMIT or ROLLBACK: after each way a transaction can end
 * (batch committed, batch rolled back, a call failing inside a batch, a
 * single call committed, a single call failing) a checkpoint still runs,
 * and checkpoints in another thread during 60 batches neither fail nor
 * lose a row.  A gate left closed hangs here (setup's alarm() fails it).
 */
static void test_checkpoint_gate(void **state)
{
	struct fix *f = *state;
	struct ckpt_loop c = {0};
	mcsd_registry_entry e;
	mcs_error err = {0};
	pthread_t t;

	open_reg(f, NULL);
	assert_int_equal(mcsd_registry_checkpoint_elsewhere(f->r, &err), 0);
	alloc_batch(f, "g", 0, 50);
	assert_true(mcsd_registry_checkpoint(f->r, &err) >= 0);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "gone", NULL, NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_rollback(f->r, &err), 0);
	assert_true(mcsd_registry_checkpoint(f->r, &err) >= 0);
	assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
	assert_int_equal(alloc_one(f, "g-0", NULL, "s0:c1,c2", &e, &err),
			 -EEXIST);
	assert_int_equal(alloc_one(f, "g-50", NULL, NULL, &e, &err), 1);
	assert_int_equal(mcsd_registry_commit(f->r, &err), 0);
	assert_true(mcsd_registry_checkpoint(f->r, &err) >= 0);
	assert_int_equal(alloc_one(f, "single", NULL, NULL, &e, &err), 1);
	assert_true(mcsd_registry_checkpoint(f->r, &err) >= 0);
	assert_int_equal(alloc_one(f, "single", NULL, "s0:c1,c2", &e, &err),
			 -EEXIST);
	assert_true(mcsd_registry_checkpoint(f->r, &err) >= 0);

	c.r = f->r;
	assert_int_equal(pthread_create(&t, NULL, ckpt_thread, &c), 0);
	for (int b = 0; b < 60; b++) {
		assert_int_equal(mcsd_registry_begin(f->r, &err), 0);
		for (int i = 0; i < 100; i++) {
			char owner[32];
			snprintf(owner, sizeof(owner), "t-%d-%d", b, i);
			assert_int_equal(
				alloc_one(f, owner, NULL, NULL, &e, &err), 1);
		}
		assert_int_equal(mcsd_registry_commit_nowait(f->r, &err), 0);
		assert_int_equal(mcsd_registry_sync(f->r, &err), 0);
	}
	atomic_store(&c.stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(c.errors, 0);
	assert_true(c.runs > 0);
	open_reg(f, NULL);
	assert_int_equal(q(f, "SELECT count(*) FROM owners", NULL),
			 50 + 1 + 1 + 6000);
}

static int log_calls;

static void count_log(int priority, const char *msg, void *userdata)
{
	(void)priority;
	(void)msg;
	(void)userdata;
	log_calls++;
}

/* mcs_set_log_level: lines less urgent than the level never reach the
 * callback ("allocated ..." is MCS_LOG_INFO). */
static void test_log_level(void **state)
{
	struct fix *f = *state;
	mcsd_registry_entry e;
	mcs_error err = {0};

	open_reg(f, NULL);
	mcs_set_log_callback(count_log, NULL);
	mcs_set_log_level(MCS_LOG_NOTICE);
	log_calls = 0;
	assert_int_equal(alloc_one(f, "quiet", NULL, NULL, &e, &err), 1);
	assert_int_equal(log_calls, 0);
	mcs_set_log_level(MCS_LOG_DEBUG);
	assert_int_equal(alloc_one(f, "loud", NULL, NULL, &e, &err), 1);
	assert_int_equal(log_calls, 1);
	mcs_set_log_callback(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_fill_small_range),
		T(test_idempotent),
		T(test_groups),
		T(test_explicit_levels),
		T(test_lru_reuse),
		T(test_reserved_never),
		T(test_reopen_and_reconcile),
		T(test_reconcile_many),
		T(test_uid_checks),
		T(test_batches),
		T(test_status_owner_count),
		T(test_list),
		T(test_list_page),
		T(test_pidfd),
		T(test_batch_one_commit),
		T(test_migrate_v1),
		T(test_trigger_defence),
		T(test_commit_nowait),
		T(test_big_transaction),
		T(test_checkpoint_elsewhere),
		T(test_checkpoint_gate),
		T(test_log_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
