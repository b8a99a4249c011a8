/* SPDX-License-Identifier: MIT */
/*
 * modstore.h - the SELinux module store through libsemanage (modstore.c):
 * install and remove modules, list them, read and set booleans
 * persistently.  What `mcs-policy install|remove|list|bool` and the policy
 * build (policy/policy.mk) use instead of the semodule binary.
 *
 * A store opened with a root directory (semodule -p) is private: nothing
 * is loaded into a kernel.  Without a root it is the system's store and a
 * commit loads the new policy (and a boolean is also set live).
 */
#ifndef MCS_POLICY_MODSTORE_H
#define MCS_POLICY_MODSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct modstore modstore;

/*
 * Connect to the store "default" under root (NULL: the system's store as
 * /etc/selinux/config names it).  Refuses a store whose policy is not
 * MLS/MCS (-EPROTO).  Returns 0 and *ret (modstore_close()), -ENOENT (no
 * store there), -EPROTO, -ENOMEM, -EIO (libsepol/libsemanage's message
 * in err).
 */
int modstore_open(const char *root, modstore **ret, mcs_error *err);
void modstore_close(modstore *s);

/*
 * Install the modules at paths (.pp or .cil) in one transaction: all or
 * nothing.  Returns 0, -EBUSY (another process holds the store's lock),
 * -EINVAL (a module does not compile or link: err has the compiler's
 * message), -errno (a file cannot be read).
 */
int modstore_install(modstore *s, const char *const *paths, size_t n,
		     mcs_error *err);

/* Remove the named modules in one transaction.  -ENOENT: not installed. */
int modstore_remove(modstore *s, const char *const *names, size_t n,
		    mcs_error *err);

/*
 * The installed modules ("name priority lang", sorted) as a new
 * NULL-terminated array of new strings (free each, then the array).
 * Returns the count or -errno.
 */
int modstore_list(modstore *s, char ***ret, mcs_error *err);

/* A boolean's value in the store (local change, else the policy's). */
int modstore_bool_get(modstore *s, const char *name, bool *ret, mcs_error *err);
/* Set it persistently (and live for the system store).  -ENOENT: none. */
int modstore_bool_set(modstore *s, const char *name, bool value,
		      mcs_error *err);

#ifdef __cplusplus
}
#endif
#endif
