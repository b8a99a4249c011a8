/* SPDX-License-Identifier: MIT */
/*
 * test_mcsd.c - integration tests of the real mcsd ($MCSD, default
 * build/bin/mcsd) on a temporary socket and database, through the public
 * client API and raw sockets.  Prints TAP.  Covers: 8 concurrent clients x
 * 1,000 unique allocations (checked in sqlite too), restart keeps every
 * lease, kill -9 during a storm loses no acknowledged lease and creates no
 * duplicate, a c0.c9 range fills (45) then answers Exhausted, groups,
 * explicit levels, permission denials for other uids, malformed requests,
 * the varlink service interface, slow clients, a storm of garbage
 * connections beside a served client, pid-bound leases (also
 * across a restart), running out of descriptors, -n.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include <mcs/client.h>

static int tap_n, tap_fail;
static char dir[256], sock[300], db[300], conf[320];
static const char *mcsd_bin;
static pid_t daemon_pid = -1;
/* RLIMIT_NOFILE of the next start_daemon(), when set */
static struct rlimit daemon_nofile;

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	if (!cond)
		tap_fail = 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Start mcsd with extra args (NULL-terminated); wait until it answers. */
static void start_daemon(const char *range, const char *extra, ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = strdup(mcsd_bin);
	argv[n++] = strdup("--socket");
	argv[n++] = strdup(sock);
	argv[n++] = strdup("--db");
	argv[n++] = strdup(db);
	argv[n++] = strdup("--range");
	argv[n++] = strdup(range);
	argv[n++] = strdup("--foreground");
	va_list ap;
	va_start(ap, extra);
	for (const char *a = extra; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = strdup(a);
	va_end(ap);
	argv[n] = NULL;

	daemon_pid = fork();
	if (daemon_pid == 0) {
		char log[320];
		snprintf(log, sizeof(log), "%s/mcsd.log", dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);
		if (fd >= 0)
			dup2(fd, 2);
		if (daemon_nofile.rlim_max &&
		    setrlimit(RLIMIT_NOFILE, &daemon_nofile) < 0)
			_exit(126);
		execv(mcsd_bin, argv);
		_exit(127);
	}
	for (int i = 0; i < n; i++)
		free(argv[i]);
	for (int i = 0; i < 500; i++) {
		mcs_client *c = NULL;
		if (mcs_client_connect(sock, &c, NULL) == 0) {
			mcs_client_free(c);
			return;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "mcsd did not come up\n");
}

static int stop_daemon(int sig)
{
	int st = -1;
	if (daemon_pid > 0) {
		kill(daemon_pid, sig);
		waitpid(daemon_pid, &st, 0);
	}
	daemon_pid = -1;
	return st;
}

static mcs_client *conn(void)
{
	mcs_client *c = NULL;
	mcs_error err = {0};
	if (mcs_client_connect(sock, &c, &err) < 0) {
		fprintf(stderr, "# %s\n", err.msg);
		return NULL;
	}
	mcs_client_set_timeout(c, 10000);
	return c;
}

/* ---- sqlite checks ------------------------------------------------------ */

/* Rows and distinct levels among owners outside groups (mcsd/registry.c's
 * schema: each such owner must hold a level of its own). */
#define DB_COUNT_SQL                                                           \
	"SELECT COUNT(*), COUNT(DISTINCT level) FROM owners WHERE "            \
	"group_name IS NULL OR group_name = ''"

static int db_counts(long long *rows, long long *distinct)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, DB_COUNT_SQL, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "# sqlite: %s\n", sqlite3_errmsg(h));
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(st, 0);
		*distinct = sqlite3_column_int64(st, 1);
		r = 0;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}

/* ---- concurrent allocations --------------------------------------------- */

#define NTHREADS 8
#define PER	 1000

struct worker {
	int id;
	int count; /* allocations to make; 0: until failure */
	int acked; /* allocations acknowledged */
	char (*levels)[MCS_LEVEL_MAX]; /* acked levels, by index */
	int errors;
};

static const char *prefix = "ctr";

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	mcs_client *c = conn();
	if (!c) {
		w->errors++;
		return NULL;
	}
	for (int i = 0; i < w->count; i++) {
		char owner[64];
		mcs_alloc_request req = {.owner = owner};
		mcs_lease l;
		snprintf(owner, sizeof(owner), "%s-%d-%d", prefix, w->id, i);
		if (mcs_client_allocate(c, &req, &l, NULL) < 0) {
			w->errors++;
			break;
		}
		memcpy(w->levels[i], l.level, MCS_LEVEL_MAX);
		__atomic_store_n(&w->acked, i + 1, __ATOMIC_RELEASE);
	}
	mcs_client_free(c);
	return NULL;
}

static int cmp_level(const void *a, const void *b)
{
	return strcmp(a, b);
}

static struct worker workers[NTHREADS];

static int run_workers(int count)
{
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		free(workers[i].levels);
		workers[i] = (struct worker){.id = i, .count = count};
		workers[i].levels = calloc(count, MCS_LEVEL_MAX);
		pthread_create(&th[i], NULL, worker_run, &workers[i]);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	int errors = 0;
	for (int i = 0; i < NTHREADS; i++)
		errors += workers[i].errors;
	return errors;
}

/* All acked levels, sorted; returns the number of duplicates. */
static int acked_duplicates(int *ret_total)
{
	int total = 0;
	for (int i = 0; i < NTHREADS; i++)
		total += workers[i].acked;
	char(*all)[MCS_LEVEL_MAX] = calloc(total ? total : 1, MCS_LEVEL_MAX);
	int k = 0;
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < workers[i].acked; j++)
			memcpy(all[k++], workers[i].levels[j], MCS_LEVEL_MAX);
	qsort(all, total, MCS_LEVEL_MAX, cmp_level);
	int dups = 0;
	for (int i = 1; i < total; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			dups++;
	free(all);
	*ret_total = total;
	return dups;
}

/* Every acked owner still holds its acked level. */
static int acked_missing(void)
{
	mcs_client *c = conn();
	int missing = 0;
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < workers[i].acked; j++) {
			char owner[64];
			mcs_lease l;
			snprintf(owner, sizeof(owner), "%s-%d-%d", prefix, i,
				 j);
			if (!c || mcs_client_lookup(c, owner, &l, NULL) < 0 ||
			    strcmp(l.level, workers[i].levels[j]) != 0)
				missing++;
		}
	mcs_client_free(c);
	return missing;
}

static void test_concurrent_and_restart(void)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int errors = run_workers(PER);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int total = 0, dups = acked_duplicates(&total);
	ok(errors == 0 && total == NTHREADS * PER,
	   "%d clients x %d allocations acknowledged (%.0f/s)", NTHREADS, PER,
	   total / secs);
	ok(dups == 0, "all %d levels unique (%d duplicates)", total, dups);
	long long rows = 0, distinct = 0;
	int dbr = db_counts(&rows, &distinct);
	ok(dbr == 0 && rows == NTHREADS * PER && distinct == rows,
	   "sqlite holds %lld rows, %lld distinct levels", rows, distinct);

	/* Idempotent: asking again returns the same level. */
	mcs_client *c = conn();
	mcs_lease l;
	mcs_alloc_request req = {.owner = "ctr-3-7"};
	ok(c && mcs_client_allocate(c, &req, &l, NULL) == 0 &&
		   strcmp(l.level, workers[3].levels[7]) == 0,
	   "Allocate is idempotent per owner (%s)", l.level);
	mcs_client_free(c);

	/* List pages through them all (more than fit in one message): in
	 * owner order, each once, with the acknowledged level */
	c = conn();
	mcs_lease *all = NULL;
	size_t n = 0;
	int lr = c ? mcs_client_list(c, &all, &n, NULL) : -1, bad = 0;
	for (size_t i = 0; lr == 0 && i < n; i++) {
		int t = -1, j = -1;
		if (i > 0 && strcmp(all[i - 1].owner, all[i].owner) >= 0)
			bad++;
		else if (sscanf(all[i].owner, "ctr-%d-%d", &t, &j) != 2 ||
			 t < 0 || t >= NTHREADS || j < 0 || j >= PER ||
			 strcmp(all[i].level, workers[t].levels[j]) != 0)
			bad++;
	}
	ok(lr == 0 && n == (size_t)(NTHREADS * PER) && bad == 0,
	   "List: all %zu entries, in owner order, levels as acknowledged "
	   "(%d wrong)",
	   n, bad);
	free(all);
	mcs_client_free(c);

	int st = stop_daemon(SIGTERM);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "SIGTERM: clean exit (status %d)", st);
	struct stat sb;
	ok(lstat(sock, &sb) < 0, "socket removed at shutdown");
	start_daemon("c0.c1023", NULL);
	ok(acked_missing() == 0, "restart keeps every lease");
}

static void *killer(void *arg)
{
	sleep_ms(*(int *)arg);
	kill(daemon_pid, SIGKILL);
	return NULL;
}

static void *terminator(void *arg)
{
	sleep_ms(*(int *)arg);
	kill(daemon_pid, SIGTERM);
	return NULL;
}

/* SIGTERM in the middle of a storm: batches are in flight in all stages
 * of the pipeline; mcsd answers or drops them, stops cleanly (exit 0),
 * and every acknowledged lease is there after a restart. */
static void test_sigterm_storm(void)
{
	int delay = 300, st = -1;
	pthread_t k;

	prefix = "term";
	pthread_create(&k, NULL, terminator, &delay);
	run_workers(100000); /* until the daemon is gone */
	pthread_join(k, NULL);
	waitpid(daemon_pid, &st, 0);
	daemon_pid = -1;
	int total = 0, dups = acked_duplicates(&total);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && total > 0 && dups == 0,
	   "SIGTERM during a storm: clean exit (status %d), %d "
	   "acknowledged, no duplicate",
	   st, total);
	start_daemon("c0.c1023", NULL);
	int missing = acked_missing();
	ok(missing == 0,
	   "after restart every lease acknowledged before SIGTERM is there "
	   "(%d missing)",
	   missing);
	prefix = "ctr";
}

static void test_kill9_storm(void)
{
	long long rows0 = 0, d0 = 0;
	db_counts(&rows0, &d0);
	prefix = "storm";
	int delay = 400;
	pthread_t k;
	pthread_create(&k, NULL, killer, &delay);
	run_workers(100000); /* until the daemon dies */
	pthread_join(k, NULL);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = -1;

	int total = 0, dups = acked_duplicates(&total);
	ok(total > 0 && dups == 0,
	   "kill -9 during a storm: %d acknowledged, no duplicate", total);
	start_daemon("c0.c1023", NULL);
	int missing = acked_missing();
	ok(missing == 0,
	   "after restart every acknowledged lease is there "
	   "(%d missing)",
	   missing);
	long long rows = 0, distinct = 0;
	int dbr = db_counts(&rows, &distinct);
	ok(dbr == 0 && rows == distinct && rows >= rows0 + total,
	   "sqlite: %lld rows, %lld distinct levels (>= %lld acked)", rows,
	   distinct, rows0 + total);
	prefix = "ctr";
}

static void test_small_range(void)
{
	stop_daemon(SIGTERM);
	unlink(db);
	char p[320];
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	start_daemon("c0.c9", NULL);

	mcs_client *c = conn();
	int got = 0, r = 0;
	mcs_error err = {0};
	for (int i = 0; i < 100; i++) {
		char owner[32];
		snprintf(owner, sizeof(owner), "small-%d", i);
		mcs_alloc_request req = {.owner = owner};
		r = mcs_client_allocate(c, &req, NULL, &err);
		if (r < 0)
			break;
		got++;
	}
	ok(got == 45, "c0.c9 hands out exactly 45 pairs (%d)", got);
	ok(r == -ENOSPC && strstr(err.msg, "Exhausted"),
	   "then answers Exhausted (%s)", err.msg);
	mcs_status st = {0};
	int sr = c ? mcs_client_status(c, &st, NULL) : -1;
	ok(sr == 0 && st.total == 45 && st.used == 45 && st.free == 0,
	   "Status: total %llu used %llu free %llu",
	   (unsigned long long)st.total, (unsigned long long)st.used,
	   (unsigned long long)st.free);
	/* Release one: exactly that one comes back. */
	mcs_lease l;
	mcs_client_lookup(c, "small-17", &l, NULL);
	ok(mcs_client_release(c, "small-17", NULL) == 0,
	   "release frees a pair");
	mcs_alloc_request req = {.owner = "small-new"};
	mcs_lease l2;
	ok(mcs_client_allocate(c, &req, &l2, NULL) == 0 &&
		   strcmp(l.level, l2.level) == 0,
	   "the freed pair is handed out again (%s)", l2.level);
	mcs_client_free(c);
}

static void test_groups_and_levels(void)
{
	mcs_client *c = conn();
	mcs_lease a, b, x;
	mcs_error err = {0};
	mcs_status st0, st1;

	/* Fresh small range is full: release two to make room. */
	mcs_client_release(c, "small-0", NULL);
	mcs_client_release(c, "small-1", NULL);
	mcs_client_status(c, &st0, NULL);
	mcs_alloc_request ra = {.owner = "pod-a", .group = "pod1"};
	mcs_alloc_request rb = {.owner = "pod-b", .group = "pod1"};
	ok(mcs_client_allocate(c, &ra, &a, NULL) == 0 &&
		   mcs_client_allocate(c, &rb, &b, NULL) == 0 &&
		   strcmp(a.level, b.level) == 0 &&
		   strcmp(a.group, "pod1") == 0,
	   "group members share one level (%s, %s)", a.level, b.level);
	mcs_client_status(c, &st1, NULL);
	ok(st1.used == st0.used + 1, "a group uses one pair (%llu -> %llu)",
	   (unsigned long long)st0.used, (unsigned long long)st1.used);
	mcs_client_release(c, "pod-a", NULL);
	ok(mcs_client_lookup(c, "pod-b", &x, NULL) == 0 &&
		   strcmp(x.level, b.level) == 0,
	   "the level stays while a member remains");
	mcs_client_release(c, "pod-b", NULL);
	mcs_client_status(c, &st1, NULL);
	ok(st1.used == st0.used, "freed when the last member leaves");

	/* Explicit levels: canonicalised, reserved, and exclusive.  Free
	 * small-2's level and ask for it spelt high category first. */
	mcs_lease s2;
	unsigned cx = 0, cy = 0;
	char want[32], rev[32];
	mcs_client_lookup(c, "small-2", &s2, NULL);
	mcs_client_release(c, "small-2", NULL);
	sscanf(s2.level, "s0:c%u,c%u", &cx, &cy);
	snprintf(want, sizeof(want), "s0:c%u,c%u", cx, cy);
	snprintf(rev, sizeof(rev), "s0:c%u,c%u", cy, cx);
	mcs_alloc_request re = {
		.owner = "vol-1", .level = rev, .persistent = true};
	int ar = mcs_client_allocate(c, &re, &a, &err);
	ok(ar == 0 && strcmp(a.level, want) == 0 && a.persistent,
	   "explicit level %s reserved in canonical form (%s) %s", rev, a.level,
	   err.msg);
	mcs_alloc_request rd = {.owner = "vol-2", .level = want};
	ok(mcs_client_allocate(c, &rd, NULL, &err) == -EEXIST &&
		   strstr(err.msg, "LevelInUse"),
	   "another owner asking for it: LevelInUse (%s)", err.msg);
	static const char *const bad[] = {"s0:c5",    "s0:c5,c5",
					  "s1:c1,c2", "s0:c1,c2,c3",
					  "garbage",  "s0:c1,c2000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mcs_alloc_request ri = {.owner = "vol-3", .level = bad[i]};
		int r = mcs_client_allocate(c, &ri, NULL, &err);
		ok(r == -EINVAL && strstr(err.msg, "InvalidLevel"),
		   "level '%s': InvalidLevel (%s)", bad[i], err.msg);
	}
	mcs_alloc_request rt = {.owner = "typed", .type = "container_t"};
	ok(mcs_client_allocate(c, &rt, &a, &err) == 0 &&
		   strncmp(a.process_label,
			   "system_u:system_r:container_t:s0:c", 34) == 0 &&
		   strncmp(a.mount_label,
			   "system_u:object_r:svirt_sandbox_file_t:s0:c",
			   43) == 0,
	   "labels: %s / %s", a.process_label, a.mount_label);
	mcs_alloc_request rbt = {.owner = "typed2", .type = "bad type!"};
	ok(mcs_client_allocate(c, &rbt, NULL, &err) == -EINVAL,
	   "bad type name rejected (%s)", err.msg);
	mcs_client_release(c, "typed", NULL);
	mcs_client_free(c);
}

/* Run fn in a child as uid, primary group gid, supplementary groups
 * first, first + 1, ... (n of them) and then `also` when not 0; returns
 * its exit status. */
static int as_user_groups(uid_t uid, gid_t gid, gid_t first, int n, gid_t also,
			  int (*fn)(void))
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		gid_t g[512];
		int k = 0;
		for (; k < n && k < 511; k++)
			g[k] = first + (gid_t)k;
		if (also)
			g[k++] = also;
		if (setgroups((size_t)k, g) < 0 || setgid(gid) < 0 ||
		    setuid(uid) < 0)
			_exit(99);
		_exit(fn());
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

static int as_user(uid_t uid, gid_t gid, int (*fn)(void))
{
	return as_user_groups(uid, gid, 0, 0, 0, fn);
}

/* Allocate and release an owner of this uid's: 0, 1 when refused as
 * PermissionDenied, 2 on any other failure. */
static int allocate_own(void)
{
	char owner[32];
	mcs_client *c = conn();
	mcs_lease l;
	mcs_error err = {0};
	snprintf(owner, sizeof(owner), "sup-%u", (unsigned)getuid());
	mcs_alloc_request req = {.owner = owner};
	int r = c ? mcs_client_allocate(c, &req, &l, &err) : -EIO;
	if (r == 0)
		r = mcs_client_release(c, owner, &err);
	mcs_client_free(c);
	return r == 0 ? 0 : r == -EPERM ? 1 : 2;
}

/* A member of the allowed group: may allocate, read and release its own. */
static int member_calls(void)
{
	mcs_client *c = conn();
	mcs_lease l;
	mcs_alloc_request req = {.owner = "member-1"};
	if (!c)
		return 10;
	if (mcs_client_allocate(c, &req, &l, NULL) < 0)
		return 11;
	if (l.uid != 0 && l.uid != 4242)
		return 12;
	if (mcs_client_lookup(c, "member-1", &l, NULL) < 0 || l.uid != 4242)
		return 13;
	req.owner = "member-2";
	if (mcs_client_allocate(c, &req, &l, NULL) < 0 ||
	    mcs_client_release(c, "member-2", NULL) < 0)
		return 14;
	mcs_lease *v = NULL;
	size_t n = 0;
	if (mcs_client_list(c, &v, &n, NULL) < 0 || n != 1 ||
	    strcmp(v[0].owner, "member-1") != 0)
		return 15;
	free(v);
	mcs_client_free(c);
	return 0;
}

/* Another uid outside the group: denied everything but its own view. */
static int stranger_calls(void)
{
	mcs_client *c = conn();
	mcs_lease l;
	mcs_error err = {0};
	mcs_alloc_request req = {.owner = "stranger-1"};
	if (!c)
		return 20;
	if (mcs_client_allocate(c, &req, &l, &err) != -EPERM ||
	    !strstr(err.msg, "PermissionDenied"))
		return 21;
	if (mcs_client_lookup(c, "member-1", &l, NULL) != -EPERM)
		return 22;
	if (mcs_client_release(c, "member-1", NULL) != -EPERM)
		return 23;
	/* Re-allocating someone else's owner is no way in either. */
	req.owner = "member-1";
	if (mcs_client_allocate(c, &req, &l, NULL) != -EPERM)
		return 24;
	mcs_lease *v = NULL;
	size_t n = 99;
	if (mcs_client_list(c, &v, &n, NULL) < 0 || n != 0)
		return 25;
	mcs_status st;
	if (mcs_client_status(c, &st, NULL) < 0 || st.total != 45)
		return 26;
	mcs_client_free(c);
	return 0;
}

static void test_permissions(void)
{
	stop_daemon(SIGTERM);
	start_daemon("c0.c9", "--group", "4242", NULL);
	struct stat sb = {0};
	int sr = stat(sock, &sb);
	ok(sr == 0 && (sb.st_mode & 0777) == 0660, "socket created 0660 (%o)",
	   sb.st_mode & 0777);
	/* Let other uids reach the socket, so mcsd itself must refuse. */
	chmod(dir, 0755);
	chmod(sock, 0666);
	int r = as_user(4242, 4242, member_calls);
	ok(r == 0, "group member allocates, reads, releases its own (%d)", r);
	r = as_user(4343, 4343, stranger_calls);
	ok(r == 0,
	   "another uid: PermissionDenied for allocate, lookup, "
	   "release of others (%d)",
	   r);
	/* the group as a supplementary one, among few or among hundreds
	 * (as directory users have): more than one read of SO_PEERGROUPS */
	r = as_user_groups(4444, 4444, 5000, 10, 4242, allocate_own);
	ok(r == 0, "member through a supplementary group (10 others) (%d)", r);
	r = as_user_groups(4445, 4445, 5000, 300, 4242, allocate_own);
	ok(r == 0, "member through its 301st supplementary group (%d)", r);
	r = as_user_groups(4446, 4446, 5000, 300, 0, allocate_own);
	ok(r == 1, "300 other groups: PermissionDenied (%d)", r);
	mcs_client *c = conn();
	mcs_lease l;
	ok(c && mcs_client_lookup(c, "member-1", &l, NULL) == 0 &&
		   mcs_client_release(c, "member-1", NULL) == 0,
	   "root may read and release anything");
	mcs_client_free(c);
}

/* ---- raw protocol ------------------------------------------------------- */

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send len bytes, read one NUL-terminated reply; return its "error" (or
 * "" for a reply, NULL when the connection closed without one).  The
 * returned string is static. */
static const char *raw_reply(int fd)
{
	static char out[4096], err[256];
	size_t n = 0;
	while (n < sizeof(out) - 1) {
		ssize_t r = recv(fd, out + n, 1, 0);
		if (r <= 0)
			return NULL;
		if (out[n] == '\0')
			break;
		n++;
	}
	out[n] = '\0';
	struct json_object *o = json_tokener_parse(out), *e;
	if (!o)
		return NULL;
	if (json_object_object_get_ex(o, "error", &e))
		snprintf(err, sizeof(err), "%s", json_object_get_string(e));
	else
		snprintf(err, sizeof(err), "%s", "");
	json_object_put(o);
	return err;
}

static const char *raw_call(int fd, const char *msg, size_t len)
{
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return NULL;
	return raw_reply(fd);
}

#define CALL(fd, s) raw_call(fd, s, sizeof(s)) /* with the NUL */

static bool is(const char *got, const char *want)
{
	return got && strcmp(got, want) == 0;
}

static void test_malformed(void)
{
	mcs_client *c = conn();
	mcs_status st0, st1;
	mcs_client_status(c, &st0, NULL);

	int fd = raw_connect();
	const char *IP = "org.varlink.service.InvalidParameter";
	ok(is(CALL(fd, "{\"method\":"), IP), "broken JSON: InvalidParameter");
	ok(is(CALL(fd, "[1,2]"), IP), "not an object: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Frobnicate\"}"),
	      "org.varlink.service.MethodNotFound"),
	   "unknown method: MethodNotFound");
	ok(is(CALL(fd, "{\"method\":\"com.example.Foo.Bar\"}"),
	      "org.varlink.service.InterfaceNotFound"),
	   "unknown interface: InterfaceNotFound");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Allocate\","
		       "\"parameters\":{\"owner\":5}}"),
	      IP),
	   "owner of the wrong type: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Allocate\","
		       "\"parameters\":{\"owner\":\"x\",\"pid\":\"1\"}}"),
	      IP),
	   "pid of the wrong type: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Allocate\","
		       "\"parameters\":{\"owner\":\"x\",\"evil\":1}}"),
	      IP),
	   "unknown parameter: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Allocate\","
		       "\"parameters\":{}}"),
	      IP),
	   "missing owner: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Allocate\","
		       "\"parameters\":{\"owner\":\"a/b\"}}"),
	      IP),
	   "owner with a slash: InvalidParameter");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Lookup\","
		       "\"parameters\":{\"owner\":\"nobody-has-this\"}}"),
	      "io.mcskit.Labels.NotFound"),
	   "Lookup of an unknown owner: NotFound");
	ok(is(CALL(fd, "{\"method\":\"io.mcskit.Labels.Release\","
		       "\"parameters\":{\"owner\":\"nobody-has-this\"}}"),
	      "io.mcskit.Labels.NotFound"),
	   "Release of an unknown owner: NotFound");
	ok(is(CALL(fd, "{\"method\":\"org.varlink.service.GetInfo\"}"), ""),
	   "GetInfo answers");
	ok(is(CALL(fd, "{\"method\":\"org.varlink.service."
		       "GetInterfaceDescription\",\"parameters\":{"
		       "\"interface\":\"io.mcskit.Labels\"}}"),
	      ""),
	   "GetInterfaceDescription answers");
	/* Pipelined in one write: the replies keep the order of the
	 * requests, a parse error included (it is answered in its turn, not
	 * before the registry call sent ahead of it). */
	static const char three[] =
		"{\"method\":\"io.mcskit.Labels.Lookup\",\"parameters\":"
		"{\"owner\":\"nobody-has-this\"}}\0"
		"{\"method\":\0"
		"{\"method\":\"org.varlink.service.GetInfo\"}";
	ok(send(fd, three, sizeof(three), MSG_NOSIGNAL) ==
			   (ssize_t)sizeof(three) &&
		   is(raw_reply(fd), "io.mcskit.Labels.NotFound") &&
		   is(raw_reply(fd), IP) && is(raw_reply(fd), ""),
	   "pipelined requests: replies in request order");
	/* oneway: no reply, and the connection goes on serving */
	static const char oneway[] =
		"{\"method\":\"io.mcskit.Labels.Status\",\"oneway\":true}\0"
		"{\"method\":\"org.varlink.service.GetInfo\"}";
	ok(send(fd, oneway, sizeof(oneway), MSG_NOSIGNAL) ==
			   (ssize_t)sizeof(oneway) &&
		   is(raw_reply(fd), ""),
	   "oneway call: no reply, the next call is answered");
	/* Oversized: an error, then the connection is closed. */
	size_t big = 70 * 1024;
	char *m = malloc(big);
	memset(m, ' ', big);
	memcpy(m, "{\"method\":\"", 11);
	m[big - 1] = '\0';
	ok(is(raw_call(fd, m, big), IP), "oversized message: InvalidParameter");
	free(m);
	close(fd);

	/* The daemon still serves, and nothing changed. */
	mcs_client_free(c);
	c = conn();
	int sr = c ? mcs_client_status(c, &st1, NULL) : -1;
	ok(sr == 0 && st1.used == st0.used,
	   "still serving; registry unchanged (used %llu)",
	   (unsigned long long)st1.used);
	mcs_client_free(c);
}

static long long daemon_ticks(void);
static int log_lines(const char *what);

/* One garbage client's life: connect, misbehave one of five ways, go.
 * Never sends anything that could change the registry. */
static void storm_one(uint64_t *rng)
{
	static char buf[96 * 1024];
	uint64_t x =
		(*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17);
	int fd = raw_connect();
	if (fd < 0)
		return;
	size_t len = 0;
	const unsigned mode = (unsigned)(x % 5);
	switch (mode) {
	case 0: /* random bytes, NULs among them */
		len = 1 + (x >> 8) % 8192;
		for (size_t i = 0, y = x; i < len; i++)
			buf[i] = (char)((y = y * 6364136223846793005ull +
					     1442695040888963407ull) >>
					56);
		break;
	case 1: /* calls pipelined */
		for (int i = 0; i < 64; i++) {
			static const char st[] =
				"{\"method\":\"io.mcskit.Labels.Status\"}";
			memcpy(buf + len, st, sizeof(st));
			len += sizeof(st);
		}
		break;
	case 2: /* half a message */
		len = (size_t)snprintf(
			buf, sizeof(buf),
			"{\"method\":\"io.mcskit.Labels.Lookup\","
			"\"parameters\":{\"owner\":\"ca");
		break;
	case 3: /* over the 64 KiB limit, no NUL */
		len = 70 * 1024;
		memset(buf, ' ', len);
		buf[0] = '{';
		break;
	default: /* a deep nest */
		len = 20000;
		memset(buf, '[', len);
		buf[len - 1] = '\0';
	}
	for (size_t off = 0; off < len;) {
		size_t n = 1 + (x >> 16) % 3000;
		if (n > len - off)
			n = len - off;
		if (send(fd, buf + off, n, MSG_NOSIGNAL | MSG_DONTWAIT) <= 0)
			break;
		off += n;
	}
	if (mode == 1) { /* read the 64 replies: a storm, not an overload */
		char b[4096];
		int nul = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (nul < 64 && poll(&p, 1, 1000) == 1) {
			ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
			if (r <= 0)
				break;
			for (ssize_t i = 0; i < r; i++)
				nul += b[i] == '\0';
		}
	}
	if (x & (1u << 20)) { /* reset rather than close */
		struct linger l = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (x & (1u << 21)) {
		char b[512];
		while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
			;
	}
	close(fd);
}

/* Four processes throw garbage at mcsd for a second and a half while a
 * well-behaved client allocates, looks up and releases: it is served
 * right throughout, and afterwards mcsd is idle and holds what it held. */
static void test_garbage_storm(void)
{
	enum { STORMERS = 4 };
	pid_t kids[STORMERS];
	int pfd[2], good = 0, cycles = 0, left = STORMERS;
	long storms = 0;
	mcs_client *c = conn();
	mcs_status st0 = {0}, st1 = {0};

	int refusals = log_lines("refusing connections");
	mcs_client_status(c, &st0, NULL);
	if (pipe(pfd) < 0)
		pfd[0] = pfd[1] = -1;
	for (int k = 0; k < STORMERS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			uint64_t rng =
				0x9e3779b97f4a7c15ull * (unsigned)(k + 1);
			struct timespec t0, t;
			int i = 0;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				storm_one(&rng);
				clock_gettime(CLOCK_MONOTONIC, &t);
			} while (++i < 20000 &&
				 (t.tv_sec - t0.tv_sec) * 1000 +
						 (t.tv_nsec - t0.tv_nsec) /
							 1000000 <
					 1500);
			_exit(write(pfd[1], &i, sizeof(i)) == sizeof(i) ? 0
									: 1);
		}
	}
	/* served right all through the storm */
	while (c && (left > 0 || cycles < 100)) {
		char owner[32];
		mcs_alloc_request req = {.owner = owner};
		mcs_lease l, m;
		snprintf(owner, sizeof(owner), "calm-%d", cycles % 30);
		cycles++;
		if (mcs_client_allocate(c, &req, &l, NULL) == 0 &&
		    strncmp(l.level, "s0:c", 4) == 0 &&
		    mcs_client_lookup(c, owner, &m, NULL) == 0 &&
		    strcmp(l.level, m.level) == 0 &&
		    mcs_client_release(c, owner, NULL) == 0)
			good++;
		for (int k = 0; k < STORMERS; k++)
			if (kids[k] > 0 &&
			    waitpid(kids[k], NULL, WNOHANG) == kids[k]) {
				kids[k] = -1;
				left--;
			}
	}
	for (int k = 0; k < STORMERS; k++)
		if (kids[k] > 0)
			waitpid(kids[k], NULL, 0);
	for (int k = 0, n; k < STORMERS; k++)
		if (read(pfd[0], &n, sizeof(n)) == sizeof(n))
			storms += n;
	close(pfd[0]);
	close(pfd[1]);
	ok(good == cycles && storms > 100,
	   "%d of %d allocate/lookup/release cycles right during a storm of "
	   "%ld garbage connections",
	   good, cycles, storms);
	sleep_ms(700); /* the read timeout (500 ms) has closed the half ones */
	long long t0 = daemon_ticks();
	sleep_ms(500);
	long long t1 = daemon_ticks();
	mcs_client_free(c);
	c = conn();
	int sr = c ? mcs_client_status(c, &st1, NULL) : -1;
	ok(kill(daemon_pid, 0) == 0 && sr == 0 && st1.used == st0.used &&
		   t0 >= 0 && t1 - t0 < 10,
	   "after the storm: serving, used %llu as before, %lld ticks in "
	   "0.5 s",
	   (unsigned long long)st1.used, t1 - t0);
	/* closed ones are reaped as they come: max_clients never reached */
	ok(log_lines("refusing connections") == refusals,
	   "no connection refused during the storm");
	mcs_client_free(c);
}

/* A backlog of 1,500 connections already closed by their clients (mcsd
 * was stopped while they came and went) is taken in steps and reaped as it
 * goes: max_clients (1,024) is never reached and the live client queued
 * behind them is served. */
static void test_backlog_of_closed(void)
{
	enum { N = 1500 };
	int refusals = log_lines("refusing connections"), queued = 0;
	static const char st[] = "{\"method\":\"io.mcskit.Labels.Status\"}";
	long somaxconn = 0;
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	if (!f || fscanf(f, "%ld", &somaxconn) != 1)
		somaxconn = 0;
	if (f)
		fclose(f);
	if (somaxconn < N + 16) { /* connect() would block on a full backlog */
		for (int i = 0; i < 2; i++)
			ok(true,
			   "backlog of closed connections # SKIP "
			   "net.core.somaxconn is %ld",
			   somaxconn);
		return;
	}

	kill(daemon_pid, SIGSTOP);
	for (int i = 0; i < N; i++) {
		int fd = raw_connect();
		if (fd >= 0) {
			queued++;
			close(fd);
		}
	}
	int live = raw_connect();
	bool sent = live >= 0 && send(live, st, sizeof(st), MSG_NOSIGNAL) ==
					 (ssize_t)sizeof(st);
	kill(daemon_pid, SIGCONT);
	ok(sent && is(raw_reply(live), ""),
	   "a client queued behind %d closed connections is served", queued);
	if (live >= 0)
		close(live);
	ok(log_lines("refusing connections") == refusals,
	   "none of them refused: max_clients never reached");
}

static void test_slow_client(void)
{
	/* A silent client that sent half a message must not block others. */
	int slow = raw_connect();
	send(slow, "{\"method\":", 10, MSG_NOSIGNAL);
	mcs_client *c = conn();
	mcs_status st;
	ok(c && mcs_client_status(c, &st, NULL) == 0,
	   "others are served while a client stalls");
	mcs_client_free(c);
	char b;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t r = recv(slow, &b, 1, 0); /* closed by the read timeout */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ok(r == 0 && ms < 4000, "stalled client closed after %ld ms", ms);
	close(slow);
}

static void test_pid_lease(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	mcs_client *c = conn();
	mcs_lease l;
	mcs_error err = {0};
	/* Make room in the small range. */
	for (int i = 2; i < 6; i++) {
		char owner[32];
		snprintf(owner, sizeof(owner), "small-%d", i);
		mcs_client_release(c, owner, NULL);
	}
	mcs_alloc_request req = {.owner = "pidbound", .pid = child};
	int r = mcs_client_allocate(c, &req, &l, &err);
	ok(r == 0, "lease bound to pid %d (%s)", (int)child, err.msg);
	ok(mcs_client_lookup(c, "pidbound", &l, NULL) == 0 && l.pid == child,
	   "Lookup reports the pid");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	r = 0;
	for (int i = 0; i < 100; i++) {
		r = mcs_client_lookup(c, "pidbound", &l, NULL);
		if (r == -ENOENT)
			break;
		sleep_ms(20);
	}
	ok(r == -ENOENT, "released when the pid exits");
	req.owner = "deadpid";
	req.pid = child; /* reaped: gone */
	ok(mcs_client_allocate(c, &req, NULL, NULL) == -EINVAL,
	   "a pid that does not exist is refused");
	mcs_client_free(c);

	/* A lease made before a restart is watched again after it. */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	c = conn();
	req.owner = "pidbound2";
	req.pid = child;
	r = c ? mcs_client_allocate(c, &req, NULL, NULL) : -1;
	mcs_client_free(c);
	stop_daemon(SIGTERM);
	start_daemon("c0.c9", "--config", conf, NULL);
	c = conn();
	int before = c ? mcs_client_lookup(c, "pidbound2", &l, NULL) : -1;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	int after = 0;
	for (int i = 0; c && i < 100; i++) {
		after = mcs_client_lookup(c, "pidbound2", &l, NULL);
		if (after == -ENOENT)
			break;
		sleep_ms(20);
	}
	ok(r == 0 && before == 0 && after == -ENOENT,
	   "after a restart the lease is kept, then released when its pid "
	   "exits");
	mcs_client_free(c);
}

/* user + system clock ticks mcsd has used */
static long long daemon_ticks(void)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon_pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* after comm: state is field 3 */
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* Lines of mcsd.log that contain what */
static int log_lines(const char *what)
{
	char path[320], line[1024];
	int n = 0;
	snprintf(path, sizeof(path), "%s/mcsd.log", dir);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* Out of descriptors (soft limit 48, hard 64): mcsd takes the hard limit,
 * closes at once the connections it cannot hold instead of spinning on
 * them, says so once, and serves again when clients leave. */
static void test_out_of_fds(void)
{
	enum { N = 100 };
	int fds[N], refused = 0;

	daemon_nofile = (struct rlimit){48, 64};
	start_daemon("c0.c1023", NULL);
	daemon_nofile = (struct rlimit){0, 0};
	char path[64], line[256];
	long soft = -1;
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)daemon_pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			soft = strtol(line + 14, NULL, 10);
	if (f)
		fclose(f);
	ok(soft == 64, "open files: soft limit raised to the hard one (%ld)",
	   soft);

	int before = log_lines("out of file descriptors");
	int ends_before = log_lines("no refusal for 1 s");
	for (int i = 0; i < N; i++)
		fds[i] = raw_connect();
	sleep_ms(300);
	long long t0 = daemon_ticks();
	sleep_ms(1000);
	long long t1 = daemon_ticks();
	for (int i = 0; i < N; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		char b;
		if (fds[i] < 0 || (poll(&p, 1, 0) == 1 &&
				   recv(fds[i], &b, 1, MSG_DONTWAIT) == 0))
			refused++;
	}
	ok(refused > 0 && refused < N,
	   "%d of %d connections refused (closed at once), the rest held",
	   refused, N);
	ok(t0 >= 0 && t1 - t0 < 20,
	   "no busy loop while out of descriptors (%lld ticks in 1 s)",
	   t1 - t0);
	ok(log_lines("out of file descriptors") - before == 1,
	   "said once (%d lines)",
	   log_lines("out of file descriptors") - before);
	for (int i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	char again[64];
	snprintf(again, sizeof(again),
		 "no refusal for 1 s: %d connections refused", refused);
	for (int i = 0; i < 60 && log_lines(again) == 0; i++)
		sleep_ms(50);
	ok(log_lines("no refusal for 1 s") - ends_before == 1 &&
		   log_lines(again) == 1,
	   "the end of the episode said once, with the count (%s)", again);
	mcs_client *c = conn();
	mcs_lease l;
	mcs_alloc_request req = {.owner = "after-fds"};
	ok(c && mcs_client_allocate(c, &req, &l, NULL) == 0,
	   "serves again once clients left (%s)", c ? l.level : "no client");
	mcs_client_free(c);
	stop_daemon(SIGTERM);
}

static void test_check_mode(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s -n --range c0.c1023 >/dev/null 2>&1",
		 mcsd_bin);
	ok(system(cmd) == 0, "mcsd -n accepts a good configuration");
	snprintf(cmd, sizeof(cmd), "%s -n --range c9.c2 >/dev/null 2>&1",
		 mcsd_bin);
	ok(system(cmd) != 0, "mcsd -n rejects a bad range");
	snprintf(cmd, sizeof(cmd), "%s/bad.conf", dir);
	FILE *f = fopen(cmd, "w");
	fputs("range = c0.c9\nfrobnicate = 1\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "%s -n --config %s/bad.conf 2>&1 | grep -q "
		 "'bad.conf:2'",
		 mcsd_bin, dir);
	ok(system(cmd) == 0, "mcsd -n names the bad config line");
}

int main(void)
{
	mcsd_bin = getenv("MCSD") ? getenv("MCSD") : "build/bin/mcsd";
	snprintf(dir, sizeof(dir), "/tmp/mcsd-it.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/mcsd.sock", dir);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	snprintf(conf, sizeof(conf), "%s/mcsd.conf", dir);
	FILE *f = fopen(conf, "w");
	fputs("# short timeouts for the tests\nread_timeout_ms = 500\n", f);
	fclose(f);

	start_daemon("c0.c1023", NULL);
	test_concurrent_and_restart();
	test_kill9_storm();
	test_sigterm_storm();
	test_small_range();
	test_groups_and_levels();
	test_permissions();
	stop_daemon(SIGTERM);
	start_daemon("c0.c9", "--config", conf, NULL);
	test_malformed();
	test_slow_client();
	test_garbage_storm();
	test_backlog_of_closed();
	test_pid_lease();
	stop_daemon(SIGTERM);
	test_out_of_fds();
	test_check_mode();

	printf("1..%d\n", tap_n);
	if (!tap_fail) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	} else {
		printf("# kept %s (mcsd.log)\n", dir);
	}
	return tap_fail;
}
