/* SPDX-License-Identifier: MIT */
/*
 * mcs/protect.h - directories that must never be relabeled as a volume,
 * recognised by identity (device and inode), not by spelling.
 *
 * The set: /, /bin, /boot, /dev, /etc, /home, /lib, /lib64, /media, /opt,
 * /proc, /root, /run, /sbin, /srv, /sys, /tmp, /usr, /var, /var/lib,
 * /var/log, every home directory in the passwd database, and the calling
 * user's home ($HOME and the passwd entry of the real uid).  Paths that do
 * not exist on this host are left out.  Subdirectories of these are
 * allowed.  Because the check compares st_dev/st_ino of an opened file,
 * `//usr`, `/./usr`, `/var/../usr`, a symlink to /usr and a bind mount of
 * /etc are all refused.
 */
#ifndef MCS_PROTECT_H
#define MCS_PROTECT_H

#include <stdbool.h>
#include <sys/types.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcs_protect_set mcs_protect_set;

/*
 * Build the protected set of this host now (stat of each path, passwd
 * read once).  extra (may be NULL) is a NULL-terminated list of further
 * paths to protect.  Returns 0 and *ret, or -errno.
 */
MCS_EXPORT int mcs_protect_set_new(const char *const *extra,
				   mcs_protect_set **ret, mcs_error *err);
MCS_EXPORT void mcs_protect_set_free(mcs_protect_set *set);

/*
 * Is (dev, ino) protected?  When it is and name (may be NULL) is given,
 * *name points to the protected path it is (owned by set).
 * O(1) on average; safe to call from many threads at once.
 */
MCS_EXPORT bool mcs_protect_set_has(const mcs_protect_set *set, dev_t dev,
				    ino_t ino, const char **name);

/*
 * Check an opened file (any fd, O_PATH is fine).  Returns 0 when it may be
 * relabeled, -EPERM when protected (err names spelled, when non-NULL, and
 * the protected path it resolves to), or -errno from fstat.
 */
MCS_EXPORT int mcs_protect_check_fd(const mcs_protect_set *set, int fd,
				    const char *spelled, mcs_error *err);

#ifdef __cplusplus
}
#endif

#endif
