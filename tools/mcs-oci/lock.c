/* SPDX-License-Identifier: MIT */
/*
 * lock.c - a container's creation lock: an empty file named after the
 * container id in a per-uid directory, flock()ed by `mcs-oci create|run`
 * before it registers the level and held across the exec into the real
 * runtime (the descriptor is inherited, not close-on-exec).  It stays held
 * while any process of the creation lives: the runtime until it has
 * written its state directory, the container's init until it execs the
 * container's program (crun and runc close inherited descriptors then).
 * gc takes the lock before it judges a registration dead, and looks at
 * the state roots again while holding it, so a container between its
 * registration and its state directory is never released, however slow
 * the runtime (a grace period guessed how slow it could be).
 *
 * Where: uid 0's registrations lock in `lock_dir` (mcs-oci.conf, default
 * /run/mcs-oci); another uid's in /run/user/UID/mcs-oci, a directory that
 * uid owns.  Everything after the directory is opened (O_NOFOLLOW, owner
 * checked) is relative to its descriptor: root's gc never follows a path
 * a user could have pointed elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcs-oci.h"

bool oci_plain_id(const char *id)
{
	return *id && strpbrk(id, "/*?[]\\") == NULL && strcmp(id, ".") != 0 &&
	       strcmp(id, "..") != 0;
}

void oci_lock_dir(const struct oci_config *cfg, uid_t uid, char *buf,
		  size_t size)
{
	if (uid == 0)
		snprintf(buf, size, "%s", cfg->lock_dir);
	else
		snprintf(buf, size, "/run/user/%u/mcs-oci", (unsigned)uid);
}

/* The lock directory of uid's registrations, opened; created (0700) when
 * create.  -errno; -EPERM when it is not a directory that uid owns and
 * only uid may write. */
static int open_dir(const struct oci_config *cfg, uid_t uid, bool create)
{
	char path[300];
	struct stat st;
	int fd;

	oci_lock_dir(cfg, uid, path, sizeof(path));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int oci_lock_take(const struct oci_config *cfg, uid_t uid, const char *id,
		  int flags)
{
	bool creating = flags & OCI_LOCK_CREATING;
	int dfd, fd = -ENOENT;

	if (!oci_plain_id(id))
		return -EINVAL;
	/* root's own directory is made by gc too: a create that starts
	 * meanwhile then meets gc's lock, not an empty place */
	dfd = open_dir(cfg, uid, creating || (flags & OCI_LOCK_FILE && !uid));
	if (dfd < 0)
		return dfd;
	/* create waits up to 5 s: gc holds a lock for milliseconds; a
	 * holder beyond that is another creation of the same id */
	for (int tries = 0; tries < 500; tries++) {
		struct stat a, b;

		/* creating: kept across the exec into the runtime */
		fd = openat(dfd, id,
			    (creating ? O_RDWR : O_RDONLY | O_CLOEXEC) |
				    O_NOFOLLOW |
				    (flags & (OCI_LOCK_FILE | OCI_LOCK_CREATING)
					     ? O_CREAT
					     : 0),
			    0600);
		if (fd < 0) {
			fd = -errno;
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
			close(fd);
			fd = e;
			if (creating && e == -EWOULDBLOCK) {
				usleep(10000);
				continue;
			}
			break;
		}
		/* the file we hold must still be the one the name leads to
		 * (gc or delete may have unlinked it meanwhile) */
		if (fstat(fd, &a) == 0 &&
		    fstatat(dfd, id, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = -ENOENT;
		if (!creating)
			break;
	}
	/* a file root's gc made in a user's directory is the user's, or
	 * their next create could not open it */
	if (fd >= 0 && uid != 0 && geteuid() == 0 && fchown(fd, uid, -1) < 0) {
		close(fd);
		fd = -errno;
	}
	close(dfd);
	return fd;
}

void oci_lock_drop(const struct oci_config *cfg, uid_t uid, const char *id,
		   int fd)
{
	int dfd = open_dir(cfg, uid, false);

	if (dfd >= 0) {
		unlinkat(dfd, id, 0);
		close(dfd);
	}
	close(fd);
}
