/* SPDX-License-Identifier: MIT */
/*
 * fileio.h - read a user-supplied input file safely: the one way every
 * libmcs reader of a file named by a user (restore journals, policy
 * tables, AVC logs, policy files, config) gets its bytes.
 *
 * A path named by a user may be a fifo (open blocks forever), a device
 * (/dev/zero reads forever), a directory, or a regular file of any size.
 * fileio_read() opens with O_RDONLY|O_NONBLOCK|O_CLOEXEC (so opening a
 * fifo never blocks), fstat()s the descriptor it opened (no check-then-
 * open race), refuses anything that is not a regular file, and reads to
 * EOF but never more than the caller's bound (the size stat reports is
 * not trusted: the file may grow, /proc files report 0).
 */
#ifndef MCS_FILEIO_H
#define MCS_FILEIO_H

#include <stddef.h>

#include <mcs/error.h>

/* Flags for fileio_read(). */
enum {
	/* Refuse a symlink as the last component (O_NOFOLLOW, -ELOOP).  For
	 * files whose path libmcs builds itself in a directory it owns (the
	 * restore journal): a symlink there was planted.  Not for paths a
	 * user typed, where following a symlink is what the user meant. */
	FILEIO_NOFOLLOW = 1 << 0,
};

/*
 * Read the regular file at path into a malloc'd buffer (*ret_buf, caller
 * frees), NUL-terminated for convenience; *ret_len (optional) is the
 * number of bytes read, which may contain NULs.
 *
 * Returns 0, or with err set (message names path and what is wrong):
 *   -EINVAL    path is not a regular file (fifo, socket, character or
 *              block device, directory); the message names the type.
 *              Linux has no EFTYPE; EINVAL is the code for "wrong type".
 *   -EFBIG     the file holds more than max bytes.
 *   -ELOOP     FILEIO_NOFOLLOW and path is a symlink.
 *   -ENOMEM, or the -errno of open/fstat/read (-ENOENT, -EACCES, ...).
 */
int fileio_read(const char *path, unsigned flags, size_t max, char **ret_buf,
		size_t *ret_len, mcs_error *err);

/* Same, on a descriptor already open for reading (not closed); path is
 * used in messages only.  The descriptor is made non-blocking. */
int fileio_read_fd(int fd, const char *path, size_t max, char **ret_buf,
		   size_t *ret_len, mcs_error *err);

/* "fifo", "directory", "character device", ... for st_mode. */
const char *fileio_type_name(unsigned mode);

#endif
