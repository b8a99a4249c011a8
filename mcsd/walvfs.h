/* SPDX-License-Identifier: MIT */
/*
 * walvfs.h - the sqlite VFS that gathers WAL appends (walvfs.c); used by
 * store_sqlite.c only.
 */
#ifndef MCS_WALVFS_H
#define MCS_WALVFS_H

#include <stdbool.h>

#define MCS_WALVFS_NAME "mcs-wal"

/* Register the VFS MCS_WALVFS_NAME once per process (not as the default).
 * Returns 0, or -ENOSYS when the default VFS cannot be wrapped. */
int mcs_walvfs_register(void);

/* True once gathered WAL bytes could not be written at a point where
 * sqlite takes no error: the registry must not report later commits as
 * durable. */
bool mcs_walvfs_failed(void);

#endif
