/* SPDX-License-Identifier: MIT */
/*
 * test_store_pg.c - the PostgreSQL registry backend (mcsd/store_pg.c)
 * against a real PostgreSQL 15 started by pg-harness.sh: the rules of
 * the registry (idempotence, groups, quarantine, explicit and excluded
 * levels, exhaustion), the constraints that make the database refuse a
 * shared level whatever a daemon does, two hosts on one database (global
 * owners, host-local leases), a schema and range mismatch, and failing
 * closed while the database is down.  Each test has its own database.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "pgtest.h"
#include "registry.h"

/* The registry location of a conninfo. */
static const char *pg_uri(const char *ci)
{
	static char uri[1100];

	snprintf(uri, sizeof(uri), "pg:%s", ci);
	return uri;
}

static mcsd_registry *open_range(const char *ci, const char *range,
				 const char *host)
{
	mcsd_registry_config cfg = {0};
	mcs_error err = {0};
	mcsd_registry *s = NULL;

	assert_int_equal(mcs_cat_range_parse(range, &cfg.range, NULL), 0);
	cfg.host_id = host;
	if (mcsd_registry_open(pg_uri(ci), &cfg, &s, &err) < 0)
		fail_msg("open %s: %s", ci, err.msg);
	return s;
}

static int alloc_opt(mcsd_registry *s, const char *owner, const char *group,
		     const char *level, mcsd_registry_kind kind, pid_t pid,
		     mcsd_registry_entry *e)
{
	mcsd_registry_request req = {
		.owner = owner,
		.group = group,
		.level = level,
		.kind = kind,
		.pid = pid,
	};
	return mcsd_registry_allocate(s, &req, e, NULL);
}

static int alloc(mcsd_registry *s, const char *owner, mcsd_registry_entry *e)
{
	return alloc_opt(s, owner, NULL, NULL, MCSD_REGISTRY_RESERVATION, 0, e);
}

static void test_allocate_lookup_release(void **state)
{
	const char *ci = pgtest_fresh_db("t_basic");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1");
	mcsd_registry_entry a, again, l;
	mcsd_registry_counts c;

	assert_int_equal(alloc(s, "ctr-a", &a), 1);
	assert_int_equal(alloc(s, "ctr-a", &again), 0);
	assert_string_equal(a.level, again.level);
	assert_int_equal(mcsd_registry_lookup(s, "ctr-a", &l, NULL), 0);
	assert_string_equal(l.level, a.level);
	assert_int_equal(l.kind, MCSD_REGISTRY_RESERVATION);
	assert_int_equal(mcsd_registry_status(s, &c), 0);
	assert_int_equal(c.total, 45);
	assert_int_equal(c.used, 1);
	assert_int_equal(c.owners, 1);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'held'"
					" AND holder = 'o:ctr-a'"),
			 1);
	assert_int_equal(mcsd_registry_release(s, "ctr-a", 0, NULL), 0);
	assert_int_equal(mcsd_registry_lookup(s, "ctr-a", &l, NULL), -ENOENT);
	assert_int_equal(mcsd_registry_release(s, "ctr-a", 0, NULL), -ENOENT);
	assert_int_equal(mcsd_registry_status(s, &c), 0);
	assert_int_equal(c.used, 0);
	assert_int_equal(c.quarantined, 1);
	assert_int_equal(c.free, 45);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'released'"),
			 1);
	assert_int_equal(alloc_opt(s, "bad/owner", NULL, NULL,
				   MCSD_REGISTRY_RESERVATION, 0, NULL),
			 -EINVAL);
	mcsd_registry_close(s);
}

static void test_uid(void **state)
{
	const char *ci = pgtest_fresh_db("t_uid");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1");
	mcsd_registry_request req = {.owner = "mine",
				     .uid = 1000,
				     .kind = MCSD_REGISTRY_RESERVATION};

	assert_int_equal(mcsd_registry_allocate(s, &req, NULL, NULL), 1);
	req.uid = 1001;
	assert_int_equal(mcsd_registry_allocate(s, &req, NULL, NULL), -EPERM);
	assert_int_equal(mcsd_registry_release(s, "mine", 1001, NULL), -EPERM);
	assert_int_equal(mcsd_registry_release(s, "mine", 1000, NULL), 0);
	mcsd_registry_close(s);
}

static void test_groups(void **state)
{
	const char *ci = pgtest_fresh_db("t_groups");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1");
	mcsd_registry_entry a, b, l;

	assert_int_equal(alloc_opt(s, "a", "pod", NULL,
				   MCSD_REGISTRY_RESERVATION, 0, &a),
			 1);
	assert_int_equal(alloc_opt(s, "b", "pod", NULL,
				   MCSD_REGISTRY_RESERVATION, 0, &b),
			 1);
	assert_string_equal(a.level, b.level);
	/* owner a asked again without its group: refused */
	assert_int_equal(alloc(s, "a", NULL), -EEXIST);
	assert_int_equal(mcsd_registry_release(s, "a", 0, NULL), 0);
	assert_int_equal(mcsd_registry_lookup(s, "b", &l, NULL), 0);
	assert_string_equal(l.level, a.level);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE holder = 'g:pod'"),
			 1);
	assert_int_equal(mcsd_registry_release(s, "b", 0, NULL), 0);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'held'"),
			 0);

	/* a group is its creator's uid's on this engine too */
	mcsd_registry_request m = {.owner = "u1",
				   .group = "upod",
				   .kind = MCSD_REGISTRY_RESERVATION,
				   .uid = 4242};
	assert_int_equal(mcsd_registry_allocate(s, &m, &a, NULL), 1);
	m.owner = "u2";
	m.uid = 4343;
	assert_int_equal(mcsd_registry_allocate(s, &m, &b, NULL), -EPERM);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_owners"
					" WHERE owner = 'u2'"),
			 0);
	m.uid = 4242;
	assert_int_equal(mcsd_registry_allocate(s, &m, &b, NULL), 1);
	assert_string_equal(a.level, b.level);
	mcsd_registry_close(s);
}

/* The database itself refuses a second holder of a level, whatever a
 * daemon would write: the schema is the last line of defence. */
static void test_constraints(void **state)
{
	const char *ci = pgtest_fresh_db("t_constraints");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1");
	mcsd_registry_entry a;
	char sql[512], err[512];
	long long pair;

	assert_int_equal(alloc(s, "a", &a), 1);
	pair = pgtest_int(ci, "SELECT pair FROM mcs_owners WHERE owner = 'a'");
	assert_true(pair > 0);
	/* a second owner on a's pair, with a's holder: CHECK */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO mcs_owners (owner, pair, holder, kind, uid,"
		 " created) VALUES ('b', %lld, 'o:a', 'reservation', 0, 0)",
		 pair);
	assert_int_equal(pgtest_exec(ci, sql, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "holder_is_owner_or_group"));
	/* ... with its own holder: the FOREIGN KEY */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO mcs_owners (owner, pair, holder, kind, uid,"
		 " created) VALUES ('b', %lld, 'o:b', 'reservation', 0, 0)",
		 pair);
	assert_int_equal(pgtest_exec(ci, sql, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "owner_holds_pair"));
	/* releasing the pair under its owner: the FOREIGN KEY again */
	snprintf(sql, sizeof(sql),
		 "UPDATE mcs_pairs SET state = 'released', holder = NULL,"
		 " release_seq = 1 WHERE pair = %lld",
		 pair);
	assert_int_equal(pgtest_exec(ci, sql, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "owner_holds_pair"));
	/* one holder, one pair */
	assert_int_equal(pgtest_exec(ci,
				     "UPDATE mcs_pairs SET state = 'held',"
				     " holder = 'o:a' WHERE state = 'free'",
				     err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "one_pair_per_holder"));
	mcsd_registry_close(s);
}

static void test_explicit_and_excluded(void **state)
{
	const char *ci = pgtest_fresh_db("t_explicit");
	mcsd_registry_config cfg = {0};
	const char *excl[] = {"s0:c1001,c1000"}; /* not canonical: fine */
	mcsd_registry_entry e;
	mcsd_registry_counts c;
	mcsd_registry *s = NULL;

	assert_int_equal(mcs_cat_range_parse("c1000.c1023", &cfg.range, NULL),
			 0);
	cfg.excluded = excl;
	cfg.n_excluded = 1;
	cfg.host_id = "h1";
	assert_int_equal(mcsd_registry_open(pg_uri(ci), &cfg, &s, NULL), 0);
	assert_int_equal(alloc_opt(s, "x", NULL, "s0:c1002,c1005",
				   MCSD_REGISTRY_RESERVATION, 0, &e),
			 1);
	assert_string_equal(e.level, "s0:c1002,c1005");
	assert_int_equal(alloc_opt(s, "y", NULL, "s0:c1002,c1005",
				   MCSD_REGISTRY_RESERVATION, 0, NULL),
			 -EEXIST);
	assert_int_equal(alloc_opt(s, "y", NULL, MCSD_REGISTRY_RESERVED_LEVEL,
				   MCSD_REGISTRY_RESERVATION, 0, NULL),
			 -EINVAL);
	assert_int_equal(alloc_opt(s, "y", NULL, "s0:c1000,c1001",
				   MCSD_REGISTRY_RESERVATION, 0, NULL),
			 -EINVAL);
	assert_int_equal(alloc_opt(s, "y", NULL, "s0:c1,c2",
				   MCSD_REGISTRY_RESERVATION, 0, NULL),
			 -EINVAL);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'excluded'"),
			 2);
	assert_int_equal(mcsd_registry_status(s, &c), 0);
	assert_int_equal(c.total, 276 - 2);
	assert_int_equal(c.excluded, 2);
	mcsd_registry_close(s);
}

/* Fill to exhaustion: every level distinct, then -ENOSPC; a released
 * level comes back only then (quarantine, least recently released). */
static void test_exhaustion_and_quarantine(void **state)
{
	const char *ci = pgtest_fresh_db("t_exhaust");
	mcsd_registry *s = open_range(ci, "c0.c4", "h1");
	mcsd_registry_entry e[10], again;
	char owner[16];

	for (int i = 0; i < 10; i++) {
		snprintf(owner, sizeof(owner), "o%d", i);
		assert_int_equal(alloc(s, owner, &e[i]), 1);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(e[i].level, e[j].level);
	}
	assert_int_equal(alloc(s, "one-too-many", NULL), -ENOSPC);
	assert_int_equal(mcsd_registry_release(s, "o7", 0, NULL), 0);
	assert_int_equal(mcsd_registry_release(s, "o2", 0, NULL), 0);
	assert_int_equal(alloc(s, "n1", &again), 1);
	assert_string_equal(again.level, e[7].level);
	assert_int_equal(alloc(s, "n2", &again), 1);
	assert_string_equal(again.level, e[2].level);
	assert_int_equal(alloc(s, "n3", NULL), -ENOSPC);
	mcsd_registry_close(s);
}

/* Two hosts on one database: an owner is global, a lease is reconciled
 * only by the host that made it. */
static void test_two_hosts(void **state)
{
	const char *ci = pgtest_fresh_db("t_hosts");
	mcsd_registry *h1 = open_range(ci, "c0.c9", "host-1");
	mcsd_registry *h2 = open_range(ci, "c0.c9", "host-2");
	mcsd_registry_entry a, b, l;
	size_t released = 99;
	pid_t child;
	int st;

	assert_int_equal(alloc(h1, "vol-shared", &a), 1);
	assert_int_equal(alloc(h2, "vol-shared", &b), 0);
	assert_string_equal(a.level, b.level);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(alloc_opt(h1, "lease-dead", NULL, NULL,
				   MCSD_REGISTRY_LEASE, child, NULL),
			 1);
	assert_int_equal(alloc_opt(h1, "lease-live", NULL, NULL,
				   MCSD_REGISTRY_LEASE, getpid(), NULL),
			 1);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	/* host-2 does not know host-1's pids: it leaves them alone */
	assert_int_equal(mcsd_registry_reconcile(h2, &released, NULL), 0);
	assert_int_equal(released, 0);
	assert_int_equal(mcsd_registry_lookup(h2, "lease-dead", &l, NULL), 0);
	assert_int_equal(mcsd_registry_reconcile(h1, &released, NULL), 0);
	assert_int_equal(released, 1);
	assert_int_equal(mcsd_registry_lookup(h2, "lease-dead", &l, NULL),
			 -ENOENT);
	assert_int_equal(mcsd_registry_lookup(h2, "lease-live", &l, NULL), 0);
	assert_int_equal(pgtest_int(ci, "SELECT count(*) FROM mcs_owners"
					" WHERE host = 'host-1'"),
			 1);
	/* a lease of an earlier boot of host-1 */
	assert_int_equal(pgtest_exec(ci,
				     "UPDATE mcs_owners SET boot_id = 'old'"
				     " WHERE owner = 'lease-live'",
				     NULL, 0),
			 0);
	assert_int_equal(mcsd_registry_reconcile(h1, &released, NULL), 0);
	assert_int_equal(released, 1);
	mcsd_registry_close(h1);
	mcsd_registry_close(h2);
}

static void test_range_and_schema_mismatch(void **state)
{
	const char *ci = pgtest_fresh_db("t_mismatch");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1"), *t = NULL;
	mcsd_registry_config cfg = {0};
	mcs_error err = {0};

	assert_int_equal(mcs_cat_range_parse("c0.c19", &cfg.range, NULL), 0);
	assert_int_equal(mcsd_registry_open(pg_uri(ci), &cfg, &t, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "c0.c9"));
	assert_int_equal(
		pgtest_exec(ci, "INSERT INTO mcs_schema VALUES (99)", NULL, 0),
		0);
	assert_int_equal(mcs_cat_range_parse("c0.c9", &cfg.range, NULL), 0);
	assert_int_equal(mcsd_registry_open(pg_uri(ci), &cfg, &t, &err),
			 -EPROTO);
	mcsd_registry_close(s);
}

/* The database down: every call fails closed (-ENOTCONN), nothing is
 * answered from memory; back up: the next call after the backoff
 * reconnects and finds what was committed. */
static void test_unreachable(void **state)
{
	const char *ci = pgtest_fresh_db("t_down");
	mcsd_registry *s = open_range(ci, "c0.c9", "h1");
	mcsd_registry_entry a, l;
	mcsd_registry_counts c;
	mcs_error err = {0};
	int k = -1;

	assert_int_equal(alloc(s, "before", &a), 1);
	assert_int_equal(pgtest_ctl("stop"), 0);
	assert_int_equal(mcsd_registry_lookup(s, "before", &l, &err),
			 -ENOTCONN);
	assert_non_null(strstr(err.msg, "registry database"));
	assert_int_equal(alloc(s, "during", NULL), -ENOTCONN);
	assert_int_equal(mcsd_registry_status(s, &c), -ENOTCONN);
	assert_int_equal(mcsd_registry_release(s, "before", 0, NULL),
			 -ENOTCONN);
	assert_int_equal(pgtest_ctl("start"), 0);
	for (int i = 0; i < 100 && k < 0; i++) {
		k = mcsd_registry_lookup(s, "before", &l, NULL);
		if (k < 0)
			usleep(100 * 1000);
	}
	assert_int_equal(k, 0);
	assert_string_equal(l.level, a.level);
	mcsd_registry_request req = {.owner = "after",
				     .kind = MCSD_REGISTRY_RESERVATION};
	k = mcsd_registry_allocate(s, &req, NULL, &err);
	if (k != 1)
		fail_msg("allocate after the restart: %d %s", k, err.msg);
	mcsd_registry_close(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocate_lookup_release),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_explicit_and_excluded),
		cmocka_unit_test(test_exhaustion_and_quarantine),
		cmocka_unit_test(test_two_hosts),
		cmocka_unit_test(test_range_and_schema_mismatch),
		cmocka_unit_test(test_unreachable),
	};

	(void)argc;
	pgtest_harness(argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
