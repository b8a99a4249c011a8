/* SPDX-License-Identifier: MIT */
/*
 * xattrat.h - read, write and remove an extended attribute of a directory
 * entry relative to a directory fd, never following a symlink, without
 * re-resolving a path from the root.
 *
 * Two implementations, chosen once per process by xattrat_probe():
 *  - the *at syscalls (getxattrat 464, setxattrat 463, removexattrat 466,
 *    Linux >= 6.13) with AT_SYMLINK_NOFOLLOW;
 *  - the fallback for older kernels (Debian 12's 6.1): the calling thread
 *    owns its working directory (xattrat_thread_init() does
 *    unshare(CLONE_FS)), xattrat_enter(dfd) does fchdir(dfd) and the
 *    l*xattr calls take the bare entry name.  Never use the fallback on a
 *    thread that did not call xattrat_thread_init(): it would move the
 *    whole process's working directory.
 * MCS_RELABEL_FORCE_FALLBACK=1 in the environment forces the fallback
 * (tests cover both paths).
 *
 * All calls return >= 0 or -errno.
 */
#ifndef MCS_XATTRAT_H
#define MCS_XATTRAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* true when the *at syscalls are used (probed once, thread-safe). */
bool xattrat_have_syscalls(void);

/* Give the calling thread its own working directory (fallback only;
 * a no-op with the syscalls).  Call once per worker thread. */
int xattrat_thread_init(void);

/* Make dfd the directory the following calls are relative to (fchdir in
 * the fallback; a no-op with the syscalls). */
int xattrat_enter(int dfd);

/* Value of attribute attr of entry name in dfd into buf; returns its
 * length, -ENODATA when unset, -ERANGE when buf is too small. */
ssize_t xattrat_get(int dfd, const char *name, const char *attr, void *buf,
		    size_t size);
int xattrat_set(int dfd, const char *name, const char *attr, const void *val,
		size_t len);
int xattrat_remove(int dfd, const char *name, const char *attr);

#endif
