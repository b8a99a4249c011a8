/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - running the real OCI runtime: which one (the configured
 * path, else the first of crun and runc on PATH, never mcs-oci itself),
 * exec'ing it with our argv unchanged (so its output and exit status are
 * the engine's to see), or fork+wait when something must follow it
 * (delete), and asking it whether a container still exists (`state`).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mcs-oci.h"

/* Same file as ourselves (a runtime = mcs-oci loop)? */
static bool is_self(const char *path)
{
	struct stat a, b;

	return stat("/proc/self/exe", &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int find_runtime(const struct oci_config *cfg, char *buf, size_t size,
			mcs_error *err)
{
	static const char *const names[] = {"crun", "runc", NULL};
	const char *path = getenv("PATH");

	if (*cfg->runtime) {
		snprintf(buf, size, "%s", cfg->runtime);
		if (access(buf, X_OK) < 0)
			return mcs_error_set(err, -errno, "runtime %s: %s", buf,
					     strerror(errno));
		if (is_self(buf))
			return mcs_error_set(err, -ELOOP,
					     "runtime %s is mcs-oci itself",
					     buf);
		return 0;
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		       "/sbin:/bin";
	for (const char *const *n = names; *n; n++) {
		const char *p = path;
		while (*p) {
			size_t len = strcspn(p, ":");
			if (len &&
			    snprintf(buf, size, "%.*s/%s", (int)len, p, *n) <
				    (int)size &&
			    access(buf, X_OK) == 0 && !is_self(buf))
				return 0;
			p += len + (p[len] == ':');
		}
	}
	return mcs_error_set(err, -ENOENT,
			     "no runtime: set runtime= in %s or "
			     "MCS_OCI_RUNTIME, or put crun or runc on PATH",
			     *cfg->path ? cfg->path : OCI_DEFAULT_CONFIG);
}

int oci_runtime_exec(const struct oci_config *cfg, const struct oci_cmdline *cl,
		     mcs_error *err)
{
	char rt[PATH_MAX];
	int r = find_runtime(cfg, rt, sizeof(rt), err);

	if (r < 0)
		return r;
	cl->argv[0] = rt;
	execv(rt, cl->argv);
	return mcs_error_set(err, -errno, "exec %s: %s", rt, strerror(errno));
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int oci_runtime_run(const struct oci_config *cfg, const struct oci_cmdline *cl)
{
	char rt[PATH_MAX];
	mcs_error err = {0};
	pid_t pid;

	if (find_runtime(cfg, rt, sizeof(rt), &err) < 0)
		return oci_fail(&err);
	pid = fork();
	if (pid < 0) {
		mcs_error_set(&err, -errno, "fork: %s", strerror(errno));
		return oci_fail(&err);
	}
	if (pid == 0) {
		cl->argv[0] = rt;
		execv(rt, cl->argv);
		fprintf(stderr, "mcs-oci: exec %s: %s\n", rt, strerror(errno));
		_exit(127);
	}
	return wait_status(pid);
}

int oci_runtime_has(const struct oci_config *cfg, const struct oci_cmdline *cl,
		    const char *id)
{
	char rt[PATH_MAX];
	char *argv[64], state[] = "state", idbuf[MCS_OWNER_MAX + 1];
	int n = 0;
	pid_t pid;

	if (find_runtime(cfg, rt, sizeof(rt), NULL) < 0 || cl->cmd > 60)
		return -ENOENT;
	argv[n++] = rt;
	/* the globals, minus logging: the engine's log is not for this */
	for (int i = 1; i < cl->cmd; i++) {
		const char *a = cl->argv[i];
		if (strncmp(a, "--log", 5) == 0) {
			if (!strchr(a, '='))
				i++; /* its value */
			continue;
		}
		argv[n++] = cl->argv[i];
	}
	if (snprintf(idbuf, sizeof(idbuf), "%s", id) >= (int)sizeof(idbuf))
		return -ENAMETOOLONG;
	argv[n++] = state;
	argv[n++] = idbuf;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(rt, argv);
		_exit(127);
	}
	return wait_status(pid) == 0;
}
