/* SPDX-License-Identifier: MIT */
/*
 * protect.c - the set of directories that must never be relabeled as a
 * volume (system directories and home directories), held as (st_dev,
 * st_ino) identities in a small open-addressing hash so that any spelling
 * of a path, a symlink to it or a bind mount of it is recognised.
 *
 * Paths are stat()ed once when the set is built; a path that does not
 * exist on this host is left out.  Home directories come from the passwd
 * database (getpwent, or a file for tests: protect_set_new_from()).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mcs/protect.h>

#include "protect.h"
#include "util.h"

static const char *const system_dirs[] = {
	"/",	  "/bin",   "/boot", "/dev",  "/etc",  "/home",	   "/lib",
	"/lib64", "/media", "/opt",  "/proc", "/root", "/run",	   "/sbin",
	"/srv",	  "/sys",   "/tmp",  "/usr",  "/var",  "/var/lib", "/var/log",
};

struct protect_entry {
	dev_t dev;
	ino_t ino;
	char *path; /* NULL: empty slot */
};

struct mcs_protect_set {
	struct protect_entry *slots;
	size_t cap; /* power of two */
	size_t count;
};

static size_t slot_of(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (size_t)(h & (cap - 1));
}

static int set_insert(mcs_protect_set *set, dev_t dev, ino_t ino,
		      const char *path)
{
	if ((set->count + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64;
		struct protect_entry *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++) {
			struct protect_entry *e = &set->slots[i];
			if (!e->path)
				continue;
			size_t j = slot_of(e->dev, e->ino, ncap);
			while (n[j].path)
				j = (j + 1) & (ncap - 1);
			n[j] = *e;
		}
		free(set->slots);
		set->slots = n;
		set->cap = ncap;
	}
	size_t j = slot_of(dev, ino, set->cap);
	while (set->slots[j].path) {
		if (set->slots[j].dev == dev && set->slots[j].ino == ino)
			return 0; /* already there under its first name */
		j = (j + 1) & (set->cap - 1);
	}
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	set->slots[j] = (struct protect_entry){dev, ino, copy};
	set->count++;
	return 0;
}

/* Add path when it exists as a directory; a missing path is skipped. */
static int set_add_path(mcs_protect_set *set, const char *path)
{
	struct stat st;

	if (!path || path[0] != '/')
		return 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return set_insert(set, st.st_dev, st.st_ino, path);
}

static int add_passwd_homes(mcs_protect_set *set, const char *passwd_file)
{
	struct passwd *pw;
	int r = 0;

	if (passwd_file) {
		FILE *f = fopen(passwd_file, "re");
		if (!f)
			return negative_errno();
		while ((pw = fgetpwent(f)) && r >= 0)
			r = set_add_path(set, pw->pw_dir);
		fclose(f);
		return r;
	}
	setpwent();
	while ((pw = getpwent()) && r >= 0)
		r = set_add_path(set, pw->pw_dir);
	endpwent();
	return r;
}

int protect_set_new_from(const char *const *extra, const char *passwd_file,
			 mcs_protect_set **ret, mcs_error *err)
{
	mcs_protect_set *set = calloc(1, sizeof(*set));
	int r = 0;

	if (!set)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ELEMENTSOF(system_dirs) && r >= 0; i++)
		r = set_add_path(set, system_dirs[i]);
	if (r >= 0)
		r = add_passwd_homes(set, passwd_file);
	if (r >= 0) {
		/* The caller's home: $HOME and the real uid's passwd entry. */
		r = set_add_path(set, getenv("HOME"));
		struct passwd *pw = r >= 0 ? getpwuid(getuid()) : NULL;
		if (pw)
			r = set_add_path(set, pw->pw_dir);
	}
	for (size_t i = 0; extra && extra[i] && r >= 0; i++)
		r = set_add_path(set, extra[i]);
	if (r < 0) {
		mcs_protect_set_free(set);
		return mcs_error_set(err, r, "building the protected set: %s",
				     strerror(-r));
	}
	*ret = set;
	return 0;
}

MCS_EXPORT int mcs_protect_set_new(const char *const *extra,
				   mcs_protect_set **ret, mcs_error *err)
{
	return protect_set_new_from(extra, NULL, ret, err);
}

MCS_EXPORT void mcs_protect_set_free(mcs_protect_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i].path);
	free(set->slots);
	free(set);
}

MCS_EXPORT bool mcs_protect_set_has(const mcs_protect_set *set, dev_t dev,
				    ino_t ino, const char **name)
{
	if (!set || !set->cap)
		return false;
	size_t j = slot_of(dev, ino, set->cap);
	while (set->slots[j].path) {
		if (set->slots[j].dev == dev && set->slots[j].ino == ino) {
			if (name)
				*name = set->slots[j].path;
			return true;
		}
		j = (j + 1) & (set->cap - 1);
	}
	return false;
}

MCS_EXPORT int mcs_protect_check_fd(const mcs_protect_set *set, int fd,
				    const char *spelled, mcs_error *err)
{
	struct stat st;
	const char *name = NULL;

	if (fstat(fd, &st) < 0) {
		int r = negative_errno();
		return mcs_error_set(err, r, "%s: %s", spelled ? spelled : "?",
				     strerror(-r));
	}
	if (!mcs_protect_set_has(set, st.st_dev, st.st_ino, &name))
		return 0;
	return mcs_error_set(err, -EPERM,
			     "refusing to relabel %s: it is %s, a protected "
			     "directory",
			     spelled ? spelled : name, name);
}
