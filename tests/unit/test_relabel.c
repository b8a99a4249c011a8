/* SPDX-License-Identifier: MIT */
/*
 * test_relabel.c - unit tests for the relabel walk (lib/relabel.c), the
 * restore journal (lib/restore.c) and the xattr access of lib/xattrat.c,
 * on real trees on ext4 under /var/tmp; every assertion reads the
 * security.selinux xattr back with lgetxattr.
 *
 * The *at syscalls or the fchdir fallback is chosen once per process, so
 * test_fallback re-runs this binary with MCS_RELABEL_FORCE_FALLBACK=1 and
 * --core (the tree tests only).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <mcs/relabel.h>

#include "xattrat.h"

#define XN     "security.selinux"
#define OLD    "system_u:object_r:user_home_t:s0"
#define SHARED MCS_SHARED_VOLUME_CONTEXT
#define PRIV   "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2"

static char base[256];
static char state_dir[300];

/* ---- helpers ---------------------------------------------------------- */

static void mkpath(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", base, rel);
}

/* The label of rel ("" when none), without the trailing NUL. */
static const char *label(const char *rel)
{
	static char out[4][512];
	static int slot;
	char p[512];
	char *o = out[slot++ % 4];

	mkpath(p, sizeof(p), rel);
	ssize_t n = lgetxattr(p, XN, o, 511);
	if (n < 0)
		return "";
	if (n > 0 && o[n - 1] == '\0')
		n--;
	o[n] = '\0';
	return o;
}

static void set(const char *rel, const char *l)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	if (l)
		assert_int_equal(lsetxattr(p, XN, l, strlen(l) + 1, 0), 0);
	else
		lremovexattr(p, XN);
}

static void mkfile(const char *rel, const char *l)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	set(rel, l);
}

static void mkd(const char *rel, const char *l)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	assert_int_equal(mkdir(p, 0755), 0);
	set(rel, l);
}

static void mklink(const char *target, const char *rel, const char *l)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	assert_int_equal(symlink(target, p), 0);
	set(rel, l);
}

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/var/tmp/mcs-relabel-test.XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(state_dir, sizeof(state_dir), "%s/state", base);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "chattr -R -i %s 2>/dev/null; rm -rf %s",
		 base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static mcs_relabel_opts opts(const char *ctx, unsigned flags, unsigned threads)
{
	return (mcs_relabel_opts){.context = ctx,
				  .flags = flags,
				  .threads = threads,
				  .state_dir = state_dir};
}

static int relabel(const char *rel, const mcs_relabel_opts *o,
		   mcs_relabel_result *res)
{
	char p[512];
	mcs_error err = {0};

	mkpath(p, sizeof(p), rel);
	return mcs_relabel(p, o, res, &err);
}

/* vol/ with files, nested dirs, a fifo, an in-tree symlink and symlinks
 * to an outside file and directory; out/ outside. */
static void make_volume(void)
{
	char p[512];

	mkd("vol", OLD);
	mkd("vol/a", OLD);
	mkd("vol/a/b", OLD);
	mkd("out", "system_u:object_r:etc_t:s0");
	mkfile("out/secret", "system_u:object_r:etc_t:s0");
	for (int i = 0; i < 20; i++) {
		char r[64];
		snprintf(r, sizeof(r), "vol/f%d", i);
		mkfile(r, OLD);
		snprintf(r, sizeof(r), "vol/a/b/g%d", i);
		mkfile(r, i % 2 ? OLD : NULL);
	}
	mkpath(p, sizeof(p), "vol/a/fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	set("vol/a/fifo", OLD);
	mklink("f1", "vol/inlink", OLD);
	mkpath(p, sizeof(p), "out/secret");
	mklink(p, "vol/outlink", OLD);
	mkpath(p, sizeof(p), "out");
	mklink(p, "vol/a/outdir", OLD);
}

static void assert_volume(const char *want)
{
	static const char *const rels[] = {
		"vol",	       "vol/a",	       "vol/a/b",    "vol/f0",
		"vol/f19",     "vol/a/b/g7",   "vol/a/fifo", "vol/inlink",
		"vol/outlink", "vol/a/outdir",
	};
	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++)
		if (strcmp(label(rels[i]), want) != 0)
			fail_msg("%s: %s, want %s", rels[i], label(rels[i]),
				 want);
	/* Symlinks are relabeled themselves, their targets never. */
	assert_string_equal(label("out/secret"), "system_u:object_r:etc_t:s0");
	assert_string_equal(label("out"), "system_u:object_r:etc_t:s0");
}

/* ---- tests ------------------------------------------------------------ */

static void test_volume_shared_private(void **state)
{
	mcs_relabel_result res;

	make_volume();
	mcs_relabel_opts o = opts(SHARED, MCS_RELABEL_RECURSIVE, 2);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_volume(SHARED);
	assert_string_equal(label("vol/a/b/g0"), SHARED); /* had none */
	/* vol, a, b, fifo, 20 f, 20 g, 3 links */
	assert_int_equal(res.examined, 47);
	assert_int_equal(res.changed, 47);
	assert_int_equal(res.errors, 0);

	o.context = PRIV;
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_volume(PRIV);
	assert_int_equal(res.changed, 47);
	print_message("xattr access: %s\n", xattrat_have_syscalls()
						    ? "getxattrat/setxattrat"
						    : "fchdir + l*xattr");
}

/* Already right: no write, so no ctime change. */
static void test_already_right_keeps_ctime(void **state)
{
	mcs_relabel_result res;
	struct stat before, after;
	char p[512];

	make_volume();
	mcs_relabel_opts o = opts(SHARED, MCS_RELABEL_RECURSIVE, 2);
	assert_int_equal(relabel("vol", &o, &res), 0);
	mkpath(p, sizeof(p), "vol/a/b/g3");
	assert_int_equal(lstat(p, &before), 0);
	usleep(20000);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_int_equal(lstat(p, &after), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(res.unchanged, 47);
	assert_int_equal(before.st_ctim.tv_sec, after.st_ctim.tv_sec);
	assert_int_equal(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);
	/* A label stored without the trailing NUL (setfattr, go-selinux)
	 * is the same label: not rewritten. */
	assert_int_equal(lsetxattr(p, XN, SHARED, strlen(SHARED), 0), 0);
	assert_int_equal(lstat(p, &before), 0);
	usleep(20000);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(lstat(p, &after), 0);
	assert_int_equal(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);
}

struct order {
	pthread_mutex_t lock; /* on_change runs in several workers at once */
	char last[256];
	int n;
};

static void record_change(const char *path, const char *old_label,
			  const char *new_label, void *userdata)
{
	struct order *ord = userdata;

	pthread_mutex_lock(&ord->lock);
	snprintf(ord->last, sizeof(ord->last), "%s", path);
	ord->n++;
	pthread_mutex_unlock(&ord->lock);
}

static void test_top_last_and_verbose(void **state)
{
	struct order ord = {.lock = PTHREAD_MUTEX_INITIALIZER};
	mcs_relabel_result res;

	make_volume();
	mcs_relabel_opts o = opts(SHARED, MCS_RELABEL_RECURSIVE, 3);
	o.on_change = record_change;
	o.userdata = &ord;
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_int_equal(ord.n, 47);
	assert_string_equal(ord.last, ".");
}

static void test_partial_type(void **state)
{
	mcs_relabel_result res;

	mkd("p", "unconfined_u:object_r:user_home_t:s0:c5,c9");
	mkfile("p/x", "staff_u:object_r:tmp_t:s0");
	mkfile("p/nolabel", NULL);
	mcs_relabel_opts o = opts(NULL, MCS_RELABEL_RECURSIVE, 1);
	o.type = "svirt_sandbox_file_t";
	assert_int_equal(relabel("p", &o, &res), -EIO);
	assert_string_equal(
		label("p"),
		"unconfined_u:object_r:svirt_sandbox_file_t:s0:c5,c9");
	assert_string_equal(label("p/x"),
			    "staff_u:object_r:svirt_sandbox_file_t:s0");
	/* An unlabeled file cannot be changed in part: an error, no
	 * label invented. */
	assert_string_equal(label("p/nolabel"), "");
	assert_int_equal(res.errors, 1);
	assert_int_equal(res.changed, 2);

	o.type = NULL;
	o.range = "s0:c7,c8";
	set("p/nolabel", "system_u:object_r:tmp_t:s0");
	assert_int_equal(relabel("p", &o, &res), 0);
	assert_string_equal(label("p/x"),
			    "staff_u:object_r:svirt_sandbox_file_t:s0:c7,c8");
	o.range = "s0:c9,c1023,c1024";
	assert_int_equal(relabel("p", &o, &res), -EINVAL);
}

static void test_bad_context_changes_nothing(void **state)
{
	mcs_relabel_result res;
	mcs_error err = {0};
	char p[512];

	make_volume();
	mcs_relabel_opts o =
		opts("system_u:object_r:bad type:s0", MCS_RELABEL_RECURSIVE, 2);
	mkpath(p, sizeof(p), "vol");
	assert_int_equal(mcs_relabel(p, &o, &res, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad type"));
	assert_volume(OLD);
	o.context = "system_u:object_r:t:s0:c1024";
	assert_int_equal(relabel("vol", &o, &res), -EINVAL);
	assert_string_equal(label("vol/f0"), OLD);
	assert_int_equal(res.examined, 0);
}

static void test_dry_run(void **state)
{
	mcs_relabel_result res;

	make_volume();
	set("vol/f3", SHARED);
	mcs_relabel_opts o = opts(SHARED,
				  MCS_RELABEL_RECURSIVE | MCS_RELABEL_DRY_RUN |
					  MCS_RELABEL_REMEMBER,
				  2);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_int_equal(res.changed, 46);
	assert_int_equal(res.unchanged, 1);
	assert_string_equal(label("vol/f0"), OLD);
	assert_string_equal(label("vol"), OLD);
	assert_int_equal(access(state_dir, F_OK), -1); /* no journal */
}

static void test_not_recursive_and_follow(void **state)
{
	mcs_relabel_result res;

	make_volume();
	mcs_relabel_opts o = opts(SHARED, 0, 2);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_string_equal(label("vol"), SHARED);
	assert_string_equal(label("vol/f0"), OLD);
	assert_int_equal(res.examined, 1);
	/* Without FOLLOW_TOP a symlink argument is relabeled itself. */
	assert_int_equal(relabel("vol/inlink", &o, &res), 0);
	assert_string_equal(label("vol/inlink"), SHARED);
	assert_string_equal(label("vol/f1"), OLD);
	/* With it, its target. */
	o.context = PRIV;
	o.flags = MCS_RELABEL_FOLLOW_TOP;
	assert_int_equal(relabel("vol/inlink", &o, &res), 0);
	assert_string_equal(label("vol/inlink"), SHARED);
	assert_string_equal(label("vol/f1"), PRIV);
}

/* A file whose label cannot be written (immutable) is counted, the walk
 * goes on, the call returns -EIO. */
static void test_error_continues(void **state)
{
	mcs_relabel_result res;
	char p[512];
	int flags, fd;

	make_volume();
	mkpath(p, sizeof(p), "vol/a/b/g4");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &flags), 0);
	flags |= FS_IMMUTABLE_FL;
	assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	mcs_relabel_opts o = opts(SHARED, MCS_RELABEL_RECURSIVE, 2);
	int r = relabel("vol", &o, &res);
	flags &= ~FS_IMMUTABLE_FL;
	assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
	assert_int_equal(r, -EIO);
	assert_int_equal(res.errors, 1);
	assert_int_equal(res.changed, 46);
	assert_string_equal(label("vol/a/b/g4"), "");
	assert_string_equal(label("vol/a/b/g5"), SHARED);
	assert_string_equal(label("vol"), SHARED);
}

static void make_big(const char *top, int dirs, int files)
{
	char r[256];

	mkd(top, OLD);
	for (int d = 0; d < dirs; d++) {
		snprintf(r, sizeof(r), "%s/d%d", top, d);
		mkd(r, d % 3 ? OLD : SHARED);
		snprintf(r, sizeof(r), "%s/d%d/s", top, d);
		mkd(r, NULL);
		for (int f = 0; f < files; f++) {
			snprintf(r, sizeof(r), "%s/d%d/%sf%d", top, d,
				 f % 4 ? "" : "s/", f);
			mkfile(r, f % 5 == 0 ? NULL
				  : f % 5 == 1
					  ? SHARED
					  : "staff_u:object_r:tmp_t:s0:c3");
		}
	}
}

/* Parallel gives exactly the labels of a serial walk. */
static void test_parallel_equals_serial(void **state)
{
	mcs_relabel_result r1, r4;
	char a[256], b[256];

	make_big("s1", 40, 100);
	make_big("s4", 40, 100);
	mcs_relabel_opts o = opts(NULL, MCS_RELABEL_RECURSIVE, 1);
	o.type = "svirt_sandbox_file_t";
	assert_int_equal(relabel("s1", &o, &r1), -EIO); /* unlabeled files */
	o.threads = 4;
	assert_int_equal(relabel("s4", &o, &r4), -EIO);
	assert_int_equal(r1.examined, r4.examined);
	assert_int_equal(r1.changed, r4.changed);
	assert_int_equal(r1.errors, r4.errors);
	assert_int_equal(r1.examined, 1 + 40 * 2 + 40 * 100);
	for (int d = 0; d < 40; d++)
		for (int f = 0; f < 100; f++) {
			const char *sub = f % 4 ? "" : "s/";
			snprintf(a, sizeof(a), "s1/d%d/%sf%d", d, sub, f);
			snprintf(b, sizeof(b), "s4/d%d/%sf%d", d, sub, f);
			assert_string_equal(label(a), label(b));
		}
	o = opts(PRIV, MCS_RELABEL_RECURSIVE, 1);
	assert_int_equal(relabel("s1", &o, &r1), 0);
	o.threads = 4;
	assert_int_equal(relabel("s4", &o, &r4), 0);
	assert_int_equal(r1.changed, r4.changed);
	assert_string_equal(label("s4/d39/s/f96"), PRIV);
	assert_string_equal(label("s4/d0/f99"), PRIV);
}

static void count_progress(const mcs_relabel_result *sofar, void *userdata)
{
	(*(int *)userdata)++;
}

/* With a progress callback the walk still ends (the caller's thread waits
 * on the workers with a timeout) and gives the same counts. */
static void test_progress_callback(void **state)
{
	mcs_relabel_result res;
	int calls = 0;

	make_big("pg", 20, 100);
	mcs_relabel_opts o = opts(PRIV, MCS_RELABEL_RECURSIVE, 2);
	o.on_progress = count_progress;
	o.userdata = &calls;
	assert_int_equal(relabel("pg", &o, &res), 0);
	assert_int_equal(res.examined, 1 + 20 * 2 + 20 * 100);
	assert_int_equal(res.changed + res.unchanged, res.examined);
	assert_string_equal(label("pg/d19/s/f96"), PRIV);
	print_message("progress callbacks: %d\n", calls);
}

/* A subdirectory swapped with a symlink to an outside directory while
 * walks run: nothing outside ever changes. */
static void test_swap_race(void **state)
{
	char sub[512], lnk[512], outp[512];
	mcs_relabel_result res;

	mkd("race", OLD);
	mkd("race/sub", OLD);
	mkd("outside", "system_u:object_r:etc_t:s0");
	for (int i = 0; i < 50; i++) {
		char r[64];
		snprintf(r, sizeof(r), "race/sub/f%d", i);
		mkfile(r, OLD);
		snprintf(r, sizeof(r), "outside/o%d", i);
		mkfile(r, "system_u:object_r:etc_t:s0");
	}
	mkpath(sub, sizeof(sub), "race/sub");
	mkpath(lnk, sizeof(lnk), "race/lnk");
	mkpath(outp, sizeof(outp), "outside");
	assert_int_equal(symlink(outp, lnk), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			syscall(SYS_renameat2, AT_FDCWD, sub, AT_FDCWD, lnk,
				RENAME_EXCHANGE);
	}
	for (int i = 0; i < 300; i++) {
		mcs_relabel_opts o =
			opts(i % 2 ? SHARED : PRIV, MCS_RELABEL_RECURSIVE, 2);
		int r = relabel("race", &o, &res);
		assert_true(r == 0 || r == -EIO);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_string_equal(label("outside"), "system_u:object_r:etc_t:s0");
	for (int i = 0; i < 50; i++) {
		char r[64];
		snprintf(r, sizeof(r), "outside/o%d", i);
		assert_string_equal(label(r), "system_u:object_r:etc_t:s0");
	}
}

/* In a private mount namespace: a bind mount inside the tree is not
 * entered unless asked; a bind mount of a protected directory is never
 * relabeled (checked with a dry run so a bug could not touch /etc). */
static void test_mounts(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		char mnt[512], src[512], etc[512];
		mcs_relabel_result res;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		mkd("m", OLD);
		mkd("m/mnt", OLD);
		mkd("m/etc", OLD);
		mkfile("m/f", OLD);
		mkd("src", OLD);
		mkfile("src/inner", OLD);
		mkpath(mnt, sizeof(mnt), "m/mnt");
		mkpath(src, sizeof(src), "src");
		mkpath(etc, sizeof(etc), "m/etc");
		if (mount(src, mnt, NULL, MS_BIND, NULL) < 0 ||
		    mount("/etc", etc, NULL, MS_BIND, NULL) < 0)
			_exit(77);
		mcs_relabel_opts o = opts(SHARED, MCS_RELABEL_RECURSIVE, 2);
		if (relabel("m", &o, &res) != 0 || res.skipped != 2 ||
		    strcmp(label("src/inner"), OLD) != 0 ||
		    strcmp(label("m/f"), SHARED) != 0)
			_exit(1);
		o.flags |= MCS_RELABEL_CROSS_MOUNTS | MCS_RELABEL_DRY_RUN;
		o.context = PRIV;
		if (relabel("m", &o, &res) != -EIO || res.errors != 1)
			_exit(2); /* the /etc bind mount: refused */
		o.flags &= ~MCS_RELABEL_DRY_RUN;
		umount(etc);
		if (relabel("m", &o, &res) != 0 ||
		    strcmp(label("src/inner"), PRIV) != 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_protected_top(void **state)
{
	mcs_relabel_result res;
	mcs_error err = {0};

	/* Dry runs: a bug here must not relabel the host. */
	mcs_relabel_opts o =
		opts(SHARED, MCS_RELABEL_RECURSIVE | MCS_RELABEL_DRY_RUN, 2);
	static const char *const spellings[] = {
		"/usr",	 "//usr", "/./usr", "/var/../usr",
		"/usr/", "/etc",  "/",	    "/var/lib"};
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		assert_int_equal(mcs_relabel(spellings[i], &o, &res, &err),
				 -EPERM);
		assert_int_equal(res.examined, 0);
	}
	assert_non_null(strstr(err.msg, "protected"));
	mklink("/usr", "usrlink", NULL);
	char p[512];
	mkpath(p, sizeof(p), "usrlink");
	o.flags |= MCS_RELABEL_FOLLOW_TOP;
	assert_int_equal(mcs_relabel(p, &o, &res, &err), -EPERM);
}

static void test_restore(void **state)
{
	mcs_relabel_result res;
	mcs_error err = {0};
	char p[512];

	make_volume();
	set("vol/f5", "unconfined_u:object_r:var_t:s0:c1.c5");
	mkpath(p, sizeof(p), "vol/f6");
	/* stored without the NUL, as setfattr does: restored byte-exact */
	assert_int_equal(lsetxattr(p, XN, "system_u:object_r:x_t:s0", 24, 0),
			 0);
	mcs_relabel_opts o =
		opts(SHARED, MCS_RELABEL_RECURSIVE | MCS_RELABEL_REMEMBER, 2);
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_volume(SHARED);
	/* a second relabel: the originals survive in the journal */
	o.context = PRIV;
	assert_int_equal(relabel("vol", &o, &res), 0);
	assert_volume(PRIV);
	mkpath(p, sizeof(p), "vol");
	assert_int_equal(mcs_relabel_restore(p, &o, &res, &err), 0);
	assert_volume(OLD);
	assert_string_equal(label("vol/a/b/g0"), ""); /* had none */
	assert_string_equal(label("vol/a/b/g1"), OLD);
	assert_string_equal(label("vol/f5"),
			    "unconfined_u:object_r:var_t:s0:c1.c5");
	char raw[64];
	mkpath(p, sizeof(p), "vol/f6");
	assert_int_equal(lgetxattr(p, XN, raw, sizeof(raw)), 24);
	/* the journal is gone: a second restore has nothing */
	mkpath(p, sizeof(p), "vol");
	assert_int_equal(mcs_relabel_restore(p, &o, &res, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no relabel journal"));
}

/* The core tree tests again with the fchdir + l*xattr fallback. */
static void test_fallback(void **state)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "MCS_RELABEL_FORCE_FALLBACK=1 /proc/%d/exe --core "
		 ">%s/fallback.log 2>&1",
		 getpid(), base);
	int r = system(cmd);
	if (r != 0) {
		snprintf(cmd, sizeof(cmd), "cat %s/fallback.log", base);
		if (system(cmd) != 0)
			print_message("cannot show %s/fallback.log\n", base);
	}
	assert_int_equal(r, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest core[] = {
		cmocka_unit_test_setup_teardown(test_volume_shared_private,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_right_keeps_ctime,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_equals_serial,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_race, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_volume_shared_private,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_right_keeps_ctime,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_top_last_and_verbose,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_bad_context_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_recursive_and_follow,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_continues, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parallel_equals_serial,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_race, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_progress_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected_top, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
	};

	if (argc > 1 && strcmp(argv[1], "--core") == 0)
		return cmocka_run_group_tests_name("relabel-fallback", core,
						   NULL, NULL);
	return cmocka_run_group_tests_name("relabel", tests, NULL, NULL);
}
