/* SPDX-License-Identifier: MIT */
/*
 * test_pg_hosts.c - three mcsd "hosts" on one PostgreSQL registry under
 * load, with crashes in the middle; prints TAP.
 *
 * Three real mcsd daemons (different --host-id and sockets, one
 * database) serve 8 clients each, every client a process of its own that
 * allocates and releases for a bounded time through the public client
 * API: new owners, and a few shared owners that every client of every
 * host asks for.  Every acknowledgement is logged by the client the
 * moment it gets it (monotonic time), every release the moment before it
 * is sent.  A quarter in, host 1's mcsd is killed with SIGKILL and
 * started again; half way the database is restarted with `pg_ctl restart
 * -m immediate` (a crash: recovery from its WAL).  Then the checks:
 *  - in the database, no pair is referred to by two holders;
 *  - from the acknowledgements: no two owners ever held the same level
 *    at the same time (interval from the acknowledged allocation to the
 *    start of the release);
 *  - every acknowledged allocation not released since is in the database
 *    with the acknowledged level (nothing acknowledged was lost);
 *  - a shared owner got one level on every host;
 *  - every host's Status counts the held pairs in the database.
 * MCS_PG_HOSTS_SECONDS sets the run time (default 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "pgtest.h"
#include <mcs/client.h>

#define HOSTS	3
#define WORKERS 8
#define SHARED	4
#define RANGE	"c0.c63"

static int n_test, n_fail;

static void tap(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		n_fail++;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void logline(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logline(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* one write per line, O_APPEND: whole lines even after SIGKILL */
	if (write(fd, buf, (size_t)n) != n)
		_exit(3);
}

static const char *mcsd_path(void)
{
	const char *m = getenv("MCSD");

	return m ? m : "build/bin/mcsd";
}

/* Start host h's mcsd on ci; its pid.  Waits until it answers. */
static pid_t start_mcsd(const char *ci, const char *dir, int h)
{
	char sock[256], uri[1100], host[32], log[300];
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/h%d.sock", dir, h);
	snprintf(uri, sizeof(uri), "pg:%s", ci);
	snprintf(host, sizeof(host), "host-%d", h);
	snprintf(log, sizeof(log), "%s/mcsd-h%d.log", dir, h);
	unlink(sock);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644);
		if (fd >= 0)
			dup2(fd, 2);
		execl(mcsd_path(), "mcsd", "--socket", sock, "--registry", uri,
		      "--host-id", host, "--range", RANGE, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		mcs_client *c = NULL;
		mcs_status st;

		if (mcs_client_connect(sock, &c, NULL) == 0 &&
		    mcs_client_status(c, &st, NULL) == 0) {
			mcs_client_free(c);
			break;
		}
		mcs_client_free(c);
		usleep(25 * 1000);
	}
	return pid;
}

/* One client of host h: allocate and release until the deadline,
 * reconnecting when its mcsd goes away. */
static void worker(int host, int w, int64_t end, const char *dir)
{
	char path[512], sock[256], held[64][64], owner[64];
	mcs_client *c = NULL;
	unsigned seed = (unsigned)getpid();
	int fd, n_held = 0, k;

	snprintf(path, sizeof(path), "%s/h%d-w%d.log", dir, host, w);
	snprintf(sock, sizeof(sock), "%s/h%d.sock", dir, host);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(2);
	for (unsigned i = 0; now_ns() < end; i++) {
		mcs_alloc_request req = {.persistent = true};
		mcs_lease e;
		unsigned r = rand_r(&seed) % 16;

		if (!c) {
			if (mcs_client_connect(sock, &c, NULL) < 0) {
				c = NULL;
				usleep(20 * 1000);
				continue;
			}
			mcs_client_set_timeout(c, 10000);
		}
		if (r == 0) {
			snprintf(owner, sizeof(owner), "shared-%u",
				 rand_r(&seed) % SHARED);
			req.owner = owner;
			k = mcs_client_allocate(c, &req, &e, NULL);
			if (k >= 0)
				logline(fd, "S %s %s %" PRId64 "\n", owner,
					e.level, now_ns());
		} else if (r < 8 && n_held > 0) {
			int j = (int)(rand_r(&seed) % (unsigned)n_held);

			logline(fd, "R %s %" PRId64 "\n", held[j], now_ns());
			k = mcs_client_release(c, held[j], NULL);
			if (k >= 0 || k == -ENOENT) {
				logline(fd, "r %s\n", held[j]);
				memcpy(held[j], held[--n_held],
				       sizeof(held[j]));
			}
		} else if (n_held < 64) {
			snprintf(owner, sizeof(owner), "h%d-w%d-p%d-%u", host,
				 w, (int)getpid(), i);
			req.owner = owner;
			k = mcs_client_allocate(c, &req, &e, NULL);
			if (k >= 0) {
				logline(fd, "A %s %s %" PRId64 "\n", owner,
					e.level, now_ns());
				snprintf(held[n_held++], sizeof(held[0]), "%s",
					 owner);
			}
		} else {
			continue;
		}
		if (k < 0 && k != -ENOSPC && k != -ENOENT) {
			/* daemon gone or database down: a fresh connection
			 * after a pause (the call was not acknowledged) */
			mcs_client_free(c);
			c = NULL;
			usleep(20 * 1000);
		}
	}
	mcs_client_free(c);
	_exit(0);
}

/* ---- checks ------------------------------------------------------------ */

struct ack {
	char owner[64];
	char level[64];
	int64_t from, to; /* held at least over [from, to] */
	bool released;	  /* release acknowledged */
	bool shared;
};

static struct ack *acks;
static size_t n_acks, cap_acks;

static struct ack *find(const char *owner)
{
	for (size_t i = n_acks; i-- > 0;)
		if (strcmp(acks[i].owner, owner) == 0)
			return &acks[i];
	return NULL;
}

static void read_logs(const char *dir)
{
	char cmd[600], line[512];
	FILE *f;

	/* allocations first, then releases: one worker's file is in
	 * order, and an owner lives in one file */
	snprintf(cmd, sizeof(cmd), "cat %s/*.log", dir);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char kind, a[64], b[64];
		long long t = 0;

		if (sscanf(line, "%c %63s %63s %lld", &kind, a, b, &t) < 2)
			continue;
		if (kind == 'A' || kind == 'S') {
			if (n_acks == cap_acks) {
				cap_acks = cap_acks ? 2 * cap_acks : 1024;
				acks = realloc(acks, cap_acks * sizeof(*acks));
			}
			struct ack *x = &acks[n_acks++];
			memset(x, 0, sizeof(*x));
			snprintf(x->owner, sizeof(x->owner), "%s", a);
			snprintf(x->level, sizeof(x->level), "%s", b);
			x->from = t;
			x->to = INT64_MAX;
			x->shared = kind == 'S';
		} else if (kind == 'R') {
			struct ack *x = find(a);
			if (x && x->to == INT64_MAX)
				x->to = atoll(b);
		} else if (kind == 'r') {
			struct ack *x = find(a);
			if (x)
				x->released = true;
		}
	}
	if (f)
		pclose(f);
}

static int by_level(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	int c = strcmp(x->level, y->level);

	if (c)
		return c;
	return x->from < y->from ? -1 : x->from > y->from;
}

int main(int argc, char **argv)
{
	const char *ci;
	const char *secs = getenv("MCS_PG_HOSTS_SECONDS");
	int64_t dur = (secs ? atoi(secs) : 4) * 1000000000LL, end;
	pid_t daemons[HOSTS], workers[HOSTS][WORKERS];
	char dir[] = "/tmp/mcs-pg-hosts.XXXXXX";
	int st;

	(void)argc;
	pgtest_harness(argv);
	ci = pgtest_fresh_db("t_hosts3");
	if (!mkdtemp(dir))
		return 1;
	for (int h = 0; h < HOSTS; h++)
		daemons[h] = start_mcsd(ci, dir, h);
	end = now_ns() + dur;
	for (int h = 0; h < HOSTS; h++)
		for (int w = 0; w < WORKERS; w++) {
			workers[h][w] = fork();
			if (workers[h][w] == 0)
				worker(h, w, end, dir);
		}

	/* a quarter in: host 1's mcsd dies (kill -9) and comes back */
	usleep((useconds_t)(dur / 4000));
	kill(daemons[1], SIGKILL);
	waitpid(daemons[1], &st, 0);
	daemons[1] = start_mcsd(ci, dir, 1);
	/* half way: the database crashes and recovers */
	usleep((useconds_t)(dur / 4000));
	int rc = pgtest_ctl("restart -m immediate");
	tap(rc == 0, "pg_ctl restart -m immediate in the middle of the run");

	for (int h = 0; h < HOSTS; h++)
		for (int w = 0; w < WORKERS; w++)
			waitpid(workers[h][w], &st, 0);

	read_logs(dir);
	size_t n_alloc = 0, n_rel = 0;
	for (size_t i = 0; i < n_acks; i++) {
		n_alloc += !acks[i].shared;
		n_rel += acks[i].released;
	}
	tap(n_alloc > 100 && n_rel > 50,
	    "load: %zu acknowledged allocations, %zu releases", n_alloc, n_rel);

	long long two = pgtest_int(ci, "SELECT count(*) FROM (SELECT pair"
				       " FROM mcs_owners GROUP BY pair"
				       " HAVING count(DISTINCT holder) > 1)"
				       " AS t");
	tap(two == 0, "database: no pair has two holders (%lld)", two);

	/* acknowledgements: overlapping holds of one level */
	qsort(acks, n_acks, sizeof(*acks), by_level);
	size_t overlaps = 0;
	for (size_t i = 0; i < n_acks; i++) {
		for (size_t j = i + 1;
		     j < n_acks && strcmp(acks[j].level, acks[i].level) == 0;
		     j++) {
			if (strcmp(acks[i].owner, acks[j].owner) == 0)
				continue; /* a shared owner asked again */
			if (acks[j].from < acks[i].to) {
				if (overlaps++ < 5)
					printf("# %s held by %s and %s\n",
					       acks[i].level, acks[i].owner,
					       acks[j].owner);
			}
		}
	}
	tap(overlaps == 0,
	    "acknowledgements: no level held by two owners at once (%zu)",
	    overlaps);

	/* nothing acknowledged lost; released ones gone */
	size_t lost = 0, ghosts = 0;
	PGconn *c = PQconnectdb(ci);
	for (size_t i = 0; i < n_acks; i++) {
		const char *p[] = {acks[i].owner};
		PGresult *r = PQexecParams(c,
					   "SELECT 's0:c' || (pair / 1024) || "
					   "',c' || (pair % 1024)"
					   " FROM mcs_owners WHERE owner = $1",
					   1, NULL, p, NULL, NULL, 0);
		bool present = PQntuples(r) == 1;
		if (acks[i].to == INT64_MAX &&
		    (!present ||
		     strcmp(PQgetvalue(r, 0, 0), acks[i].level) != 0)) {
			if (lost++ < 5)
				printf("# lost: %s %s\n", acks[i].owner,
				       acks[i].level);
		}
		if (acks[i].released && present)
			ghosts++;
		PQclear(r);
	}
	PQfinish(c);
	tap(lost == 0,
	    "every acknowledged allocation is in the database (%zu "
	    "lost)",
	    lost);
	tap(ghosts == 0, "every acknowledged release is gone (%zu left)",
	    ghosts);

	/* shared owners: one level on every host */
	size_t split = 0, shared = 0;
	for (int k = 0; k < SHARED; k++) {
		char owner[32];
		const char *level = NULL;

		snprintf(owner, sizeof(owner), "shared-%d", k);
		for (size_t i = 0; i < n_acks; i++) {
			if (strcmp(acks[i].owner, owner) != 0)
				continue;
			shared++;
			if (!level)
				level = acks[i].level;
			else if (strcmp(level, acks[i].level) != 0)
				split++;
		}
	}
	tap(shared > 0 && split == 0,
	    "same owner, same level on every host (%zu answers, %zu differ)",
	    shared, split);

	/* Status of every host (the daemons reconnected after the crash)
	 * against the rows */
	long long held = pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'held'");
	for (int h = 0; h < HOSTS; h++) {
		char sock[256];
		mcs_client *cl = NULL;
		mcs_status stat = {0};
		int k = -1;

		snprintf(sock, sizeof(sock), "%s/h%d.sock", dir, h);
		for (int i = 0; i < 100 && k < 0; i++) {
			if (mcs_client_connect(sock, &cl, NULL) == 0)
				k = mcs_client_status(cl, &stat, NULL);
			mcs_client_free(cl);
			cl = NULL;
			if (k < 0)
				usleep(50 * 1000);
		}
		tap(k == 0 && (long long)stat.used == held,
		    "host %d: Status used %llu = %lld held pairs", h,
		    (unsigned long long)stat.used, held);
	}
	for (int h = 0; h < HOSTS; h++) {
		kill(daemons[h], SIGTERM);
		waitpid(daemons[h], &st, 0);
	}

	printf("1..%d\n", n_test);
	if (n_fail == 0) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return n_fail != 0;
}
