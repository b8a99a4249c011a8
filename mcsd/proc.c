/* SPDX-License-Identifier: MIT */
/*
 * proc.c - what mcsd reads of processes and the boot from /proc: a
 * process's start time (to tell a pid from its reuse), a pidfd that
 * becomes readable when the process exits, and the boot id.  Leases are
 * bound to these.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc.h"

#include "util.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

int proc_pidfd_uid(int pidfd, pid_t pid, uid_t *ret)
{
	char path[64], line[256];
	unsigned long uid = 0;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : negative_errno();
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Uid: %lu", &uid) == 1;
	if (!found)
		return -ESRCH; /* a zombie has no Uid line */
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, 0) != 0)
		return -ESRCH; /* exited: the number may be another's now */
	*ret = (uid_t)uid;
	return 0;
}

int proc_pid_start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	const char *p;
	ssize_t n;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : negative_errno();
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the
	 * last ')'.  p starts at the space before field 3 (state); each
	 * step moves it to the space before the next field, up to 22. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

int proc_pidfd_open(pid_t pid, uint64_t start_time)
{
	_cleanup_close_ int fd = -1;
	uint64_t now;
	int k;

	if (pid <= 0)
		return -EINVAL;
	/* pidfds are always close-on-exec */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return negative_errno();
	if (start_time != 0) {
		/* checked after opening: the fd pins the process we check */
		k = proc_pid_start_time(pid, &now);
		if (k < 0)
			return k;
		if (now != start_time)
			return -ESRCH;
	}
	return TAKE_FD(fd);
}

int proc_boot_id(char buf[static 37])
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, 36);
	if (n < 0)
		return negative_errno();
	if (n != 36)
		return -EIO;
	buf[36] = '\0';
	return 0;
}
