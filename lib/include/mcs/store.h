/* SPDX-License-Identifier: MIT */
/*
 * mcs/store.h - the SELinux module store through libsemanage (lib/store.c):
 * install and remove modules, list them, read and set booleans
 * persistently.  What `mcs-policy install|remove|list|bool` and the policy
 * build (policy/policy.mk) use instead of the semodule binary.
 *
 * A store opened with a root directory (semodule -p) is private: nothing
 * is loaded into a kernel.  Without a root it is the system's store and a
 * commit loads the new policy (and a boolean is also set live).
 */
#ifndef MCS_STORE_H
#define MCS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcs_store mcs_store;

/*
 * Connect to the store "default" under root (NULL: the system's store as
 * /etc/selinux/config names it).  Refuses a store whose policy is not
 * MLS/MCS (-EPROTO).  Returns 0 and *ret (mcs_store_close()), -ENOENT (no
 * store there), -EPROTO, -ENOMEM, -EIO (libsepol/libsemanage's message
 * in err).
 */
MCS_EXPORT int mcs_store_open(const char *root, mcs_store **ret,
			      mcs_error *err);
MCS_EXPORT void mcs_store_close(mcs_store *s);

/*
 * Install the modules at paths (.pp or .cil) in one transaction: all or
 * nothing.  Returns 0, -EBUSY (another process holds the store's lock),
 * -EINVAL (a module does not compile or link: err has the compiler's
 * message), -errno (a file cannot be read).
 */
MCS_EXPORT int mcs_store_install(mcs_store *s, const char *const *paths,
				 size_t n, mcs_error *err);

/* Remove the named modules in one transaction.  -ENOENT: not installed. */
MCS_EXPORT int mcs_store_remove(mcs_store *s, const char *const *names,
				size_t n, mcs_error *err);

/*
 * The installed modules ("name priority lang", sorted) as a new
 * NULL-terminated array of new strings (free each, then the array).
 * Returns the count or -errno.
 */
MCS_EXPORT int mcs_store_list(mcs_store *s, char ***ret, mcs_error *err);

/* A boolean's value in the store (local change, else the policy's). */
MCS_EXPORT int mcs_store_bool_get(mcs_store *s, const char *name, bool *ret,
				  mcs_error *err);
/* Set it persistently (and live for the system store).  -ENOENT: none. */
MCS_EXPORT int mcs_store_bool_set(mcs_store *s, const char *name, bool value,
				  mcs_error *err);

#ifdef __cplusplus
}
#endif
#endif
