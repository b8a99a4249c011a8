/* SPDX-License-Identifier: MIT */
/*
 * test_pg_hosts.c - three "hosts" on one PostgreSQL registry under load,
 * with crashes in the middle; prints TAP.
 *
 * Each host (its own host id) runs 8 workers, each a process with its own
 * connection, that allocate and release for a bounded time: new owners,
 * and a few shared owners that every worker of every host asks for.
 * Every acknowledgement is logged by the worker the moment it gets it
 * (monotonic time), every release the moment before it is sent.  In the
 * middle, host 1's processes are killed with SIGKILL and started again,
 * and the database is restarted with `pg_ctl restart -m immediate` (a
 * crash: recovery from its WAL).  Then the checks:
 *  - in the database, no pair is referred to by two holders;
 *  - from the acknowledgements: no two owners ever held the same level
 *    at the same time (interval from the acknowledged allocation to the
 *    start of the release);
 *  - every acknowledged allocation not released since is in the database
 *    with the acknowledged level (nothing acknowledged was lost);
 *  - a shared owner got one level on every host;
 *  - the counters of Status equal the rows.
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
#include "store_pg.h"

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

/* One worker: allocate and release until the deadline. */
static void worker(const char *ci, int host, int gen, int w, int64_t end,
		   const char *dir)
{
	mcs_registry_config cfg = {0};
	char path[512], host_id[32], held[64][40], owner[40];
	mcs_error err = {0};
	store_pg *s = NULL;
	unsigned seed = (unsigned)getpid();
	int fd, n_held = 0, k;

	snprintf(path, sizeof(path), "%s/h%d-g%d-w%d.log", dir, host, gen, w);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(2);
	mcs_cat_range_parse(RANGE, &cfg.range, NULL);
	snprintf(host_id, sizeof(host_id), "host-%d", host);
	while (store_pg_open(ci, &cfg, host_id, &s, &err) < 0) {
		if (now_ns() > end)
			_exit(0);
		usleep(50 * 1000);
	}
	for (unsigned i = 0; now_ns() < end; i++) {
		mcs_registry_entry e;
		mcs_registry_request req = {
			.kind = MCS_REGISTRY_RESERVATION,
		};
		unsigned r = rand_r(&seed) % 16;

		if (r == 0) {
			snprintf(owner, sizeof(owner), "shared-%u",
				 rand_r(&seed) % SHARED);
			req.owner = owner;
			if (store_pg_allocate(s, &req, &e, NULL) >= 0)
				logline(fd, "S %s %s %" PRId64 "\n", owner,
					e.level, now_ns());
		} else if (r < 8 && n_held > 0) {
			int j = (int)(rand_r(&seed) % (unsigned)n_held);

			logline(fd, "R %s %" PRId64 "\n", held[j], now_ns());
			k = store_pg_release(s, held[j], 0, NULL);
			if (k >= 0 || k == -ENOENT) {
				logline(fd, "r %s\n", held[j]);
				memcpy(held[j], held[--n_held],
				       sizeof(held[j]));
			} else {
				usleep(20 * 1000);
			}
		} else if (n_held < 64) {
			snprintf(owner, sizeof(owner), "h%d-g%d-w%d-%u", host,
				 gen, w, i);
			req.owner = owner;
			k = store_pg_allocate(s, &req, &e, NULL);
			if (k >= 0) {
				logline(fd, "A %s %s %" PRId64 "\n", owner,
					e.level, now_ns());
				snprintf(held[n_held++], sizeof(held[0]), "%s",
					 owner);
			} else if (k != -ENOSPC) {
				/* database down: the next call retries */
				usleep(20 * 1000);
			}
		}
	}
	store_pg_close(s);
	_exit(0);
}

static void start_host(const char *ci, int host, int gen, int64_t end,
		       const char *dir, pid_t pids[WORKERS])
{
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			worker(ci, host, gen, w, end, dir);
	}
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
	int64_t dur = (secs ? atoi(secs) : 4) * 1000000000LL, start, end;
	pid_t pids[HOSTS][WORKERS], again[WORKERS];
	char dir[] = "/tmp/mcs-pg-hosts.XXXXXX";
	mcs_registry_config cfg = {0};
	mcs_error err = {0};
	store_pg *s = NULL;
	int st;

	(void)argc;
	pgtest_harness(argv);
	ci = pgtest_fresh_db("t_hosts3");
	if (!mkdtemp(dir))
		return 1;
	/* create the schema once, so the 24 workers do not race for it */
	mcs_cat_range_parse(RANGE, &cfg.range, NULL);
	if (store_pg_open(ci, &cfg, "host-0", &s, &err) < 0) {
		printf("Bail out! open: %s\n", err.msg);
		return 1;
	}
	start = now_ns();
	end = start + dur;
	for (int h = 0; h < HOSTS; h++)
		start_host(ci, h, 0, end, dir, pids[h]);

	/* a quarter in: host 1 dies (kill -9) and comes back */
	usleep((useconds_t)(dur / 4000));
	for (int w = 0; w < WORKERS; w++)
		kill(pids[1][w], SIGKILL);
	for (int w = 0; w < WORKERS; w++)
		waitpid(pids[1][w], &st, 0);
	start_host(ci, 1, 1, end, dir, again);
	/* half way: the database crashes and recovers */
	usleep((useconds_t)(dur / 4000));
	int rc = pgtest_ctl("restart -m immediate");
	tap(rc == 0, "pg_ctl restart -m immediate in the middle of the run");

	for (int h = 0; h < HOSTS; h++)
		for (int w = 0; w < WORKERS; w++)
			if (h != 1)
				waitpid(pids[h][w], &st, 0);
	for (int w = 0; w < WORKERS; w++)
		waitpid(again[w], &st, 0);

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

	mcs_registry_counts counts;
	int k = store_pg_status(s, &counts, &err);
	if (k < 0) /* its connection died with the database: once more */
		k = store_pg_status(s, &counts, &err);
	if (k < 0) {
		usleep(200 * 1000);
		k = store_pg_status(s, &counts, &err);
	}
	long long held = pgtest_int(ci, "SELECT count(*) FROM mcs_pairs"
					" WHERE state = 'held'");
	long long owners = pgtest_int(ci, "SELECT count(*) FROM mcs_owners");
	tap(k == 0 && (long long)counts.used == held &&
		    (long long)counts.owners == owners,
	    "Status counters equal the rows (used %llu/%lld, owners "
	    "%llu/%lld)",
	    (unsigned long long)counts.used, held,
	    (unsigned long long)counts.owners, owners);
	store_pg_close(s);

	printf("1..%d\n", n_test);
	if (n_fail == 0) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return n_fail != 0;
}
