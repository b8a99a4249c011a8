/* SPDX-License-Identifier: MIT */
/*
 * xattrat.c - extended attributes of a directory entry relative to a
 * directory fd, never following symlinks: the getxattrat/setxattrat/
 * removexattrat syscalls where the kernel has them, else a per-thread
 * working directory (unshare(CLONE_FS) + fchdir) and the l*xattr calls.
 * See xattrat.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util.h"
#include "xattrat.h"

/* Syscall numbers (x86_64 and the generic table agree since 6.13). */
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_getxattrat
#define __NR_getxattrat 464
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif

/* struct xattr_args of <linux/xattr.h> (Linux 6.13), absent from Debian
 * 12's headers. */
struct xattrat_args {
	uint64_t value; /* user pointer */
	uint32_t size;
	uint32_t flags;
};

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool have_syscalls;

static void probe(void)
{
	const char *force = getenv("MCS_RELABEL_FORCE_FALLBACK");
	struct xattrat_args args = {0};
	char buf[8];

	if (force && strcmp(force, "1") == 0)
		return;
	args.value = (uint64_t)(uintptr_t)buf;
	args.size = sizeof(buf);
	long r = syscall(__NR_getxattrat, AT_FDCWD, "/", AT_SYMLINK_NOFOLLOW,
			 "user.mcskit-probe", &args, sizeof(args));
	have_syscalls = !(r < 0 && (errno == ENOSYS || errno == EINVAL));
}

bool xattrat_have_syscalls(void)
{
	pthread_once(&probe_once, probe);
	return have_syscalls;
}

int xattrat_thread_init(void)
{
	if (xattrat_have_syscalls())
		return 0;
	return unshare(CLONE_FS) < 0 ? negative_errno() : 0;
}

int xattrat_enter(int dfd)
{
	if (xattrat_have_syscalls())
		return 0;
	return fchdir(dfd) < 0 ? negative_errno() : 0;
}

ssize_t xattrat_get(int dfd, const char *name, const char *attr, void *buf,
		    size_t size)
{
	ssize_t r;

	if (xattrat_have_syscalls()) {
		struct xattrat_args args = {
			.value = (uint64_t)(uintptr_t)buf,
			.size = (uint32_t)size,
		};
		r = syscall(__NR_getxattrat, dfd, name, AT_SYMLINK_NOFOLLOW,
			    attr, &args, sizeof(args));
	} else {
		r = lgetxattr(name, attr, buf, size);
	}
	return r < 0 ? negative_errno() : r;
}

int xattrat_set(int dfd, const char *name, const char *attr, const void *val,
		size_t len)
{
	long r;

	if (xattrat_have_syscalls()) {
		struct xattrat_args args = {
			.value = (uint64_t)(uintptr_t)val,
			.size = (uint32_t)len,
		};
		r = syscall(__NR_setxattrat, dfd, name, AT_SYMLINK_NOFOLLOW,
			    attr, &args, sizeof(args));
	} else {
		r = lsetxattr(name, attr, val, len, 0);
	}
	return r < 0 ? negative_errno() : 0;
}

int xattrat_remove(int dfd, const char *name, const char *attr)
{
	long r;

	if (xattrat_have_syscalls())
		r = syscall(__NR_removexattrat, dfd, name, AT_SYMLINK_NOFOLLOW,
			    attr);
	else
		r = lremovexattr(name, attr);
	return r < 0 ? negative_errno() : 0;
}
