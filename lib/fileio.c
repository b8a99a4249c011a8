/* SPDX-License-Identifier: MIT */
/*
 * fileio.c - reading user-supplied input files safely (see fileio.h):
 * open non-blocking, fstat the open descriptor, refuse what is not a
 * regular file, read to EOF within a caller-given bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

const char *fileio_type_name(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFLNK:
		return "symlink";
	default:
		return "special file";
	}
}

int fileio_read_fd(int fd, const char *path, size_t max, char **ret_buf,
		   size_t *ret_len, mcs_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	int r, fl;

	if (fstat(fd, &st) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "%s: cannot stat: %s", path,
				     strerror(-r));
	}
	if (!S_ISREG(st.st_mode))
		return mcs_error_set(err, -EINVAL,
				     "%s: not a regular file (%s), refused",
				     path, fileio_type_name(st.st_mode));
	if ((uint64_t)st.st_size > (uint64_t)max)
		return mcs_error_set(err, -EFBIG,
				     "%s: too large (%lld bytes, at most %zu)",
				     path, (long long)st.st_size, max);
	/* Regular files never block, but say so: no read below may wait. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);

	/* st_size is a hint (the file may grow, /proc reports 0): read to
	 * EOF, one byte past max at most to tell "exactly max" from more. */
	cap = (size_t)st.st_size + 1;
	if (cap > max + 1)
		cap = max + 1;
	if (cap < 64)
		cap = 64;
	buf = malloc(cap + 1);
	if (!buf)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		if (len == cap) {
			size_t ncap = cap * 2;
			if (ncap > max + 1)
				ncap = max + 1;
			char *n = realloc(buf, ncap + 1);
			if (!n)
				return mcs_error_set(err, -ENOMEM,
						     "out of memory");
			buf = n;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			return mcs_error_set(err, r, "%s: cannot read: %s",
					     path, strerror(-r));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return mcs_error_set(err, -EFBIG,
					     "%s: too large (more than %zu "
					     "bytes)",
					     path, max);
	}
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int fileio_read(const char *path, unsigned flags, size_t max, char **ret_buf,
		size_t *ret_len, mcs_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
				(flags & FILEIO_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0) {
		r = negative_errno();
		if (r == -ELOOP && (flags & FILEIO_NOFOLLOW))
			return mcs_error_set(err, r,
					     "%s: is a symlink, refused", path);
		return mcs_error_set(err, r, "cannot open %s: %s", path,
				     strerror(-r));
	}
	return fileio_read_fd(fd, path, max, ret_buf, ret_len, err);
}
