/* SPDX-License-Identifier: MIT */
/*
 * util.h - small internal helpers shared by libmcs, mcsd and the tools:
 * scope-bound cleanup (systemd style), ownership hand-off, array size.
 * Header only; not installed.
 *
 *   _cleanup_free_ char *p = NULL;      freed when p leaves scope
 *   _cleanup_close_ int fd = -1;        closed when fd leaves scope
 *   return TAKE_PTR(p);                 hand p on, leave NULL behind
 *   return TAKE_FD(fd);                 hand fd on, leave -1 behind
 */
#ifndef MCS_UTIL_H
#define MCS_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _tp = (p);                                       \
		(p) = NULL;                                                    \
		_tp;                                                           \
	})

#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _tf = (fd);                                                \
		(fd) = -1;                                                     \
		_tf;                                                           \
	})

/* Negative errno of the last failed libc call, never 0. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif
