/* SPDX-License-Identifier: MIT */
/*
 * readinput.c - open an input file safely for the policy readers
 * (policy.c, policytest.c, avc.c): never block on a fifo, never read a
 * device or anything but a regular file, refuse a file larger than the
 * reader's bound.  Every file mcs-policy reads goes through
 * readinput_open(), so the rule is in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readinput.h"
#include "util.h"

int readinput_open(const char *path, off_t max_size, FILE **ret,
		   mcs_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f;
	int fl;

	if (is_stdin)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return mcs_error_set(err, negative_errno(), "open %s: %m",
				     is_stdin ? "standard input" : path);
	if (fstat(fd, &st) < 0)
		return mcs_error_set(err, negative_errno(), "stat %s: %m",
				     path);
	if (!(S_ISREG(st.st_mode) ||
	      (is_stdin && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))))
		return mcs_error_set(err, -EINVAL,
				     "%s: not a regular file (a %s)", path,
				     S_ISDIR(st.st_mode)    ? "directory"
				     : S_ISFIFO(st.st_mode) ? "fifo"
				     : S_ISCHR(st.st_mode)  ? "character device"
				     : S_ISBLK(st.st_mode)  ? "block device"
				     : S_ISSOCK(st.st_mode) ? "socket"
							    : "special file");
	if (S_ISREG(st.st_mode) && st.st_size > max_size)
		return mcs_error_set(err, -EFBIG,
				     "%s: %lld bytes, more than the %lld "
				     "this reader accepts",
				     path, (long long)st.st_size,
				     (long long)max_size);
	if (!is_stdin) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return mcs_error_set(err, negative_errno(),
					     "fcntl %s: %m", path);
	}
	f = fdopen(fd, "r");
	if (!f)
		return mcs_error_set(err, negative_errno(), "fdopen %s: %m",
				     path);
	TAKE_FD(fd);
	*ret = f;
	return 0;
}
