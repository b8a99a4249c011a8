/* SPDX-License-Identifier: MIT */
/*
 * walvfs.h - the sqlite VFS that gathers WAL appends (walvfs.c); used by
 * store_sqlite.c only.
 */
#ifndef MCSD_WALVFS_H
#define MCSD_WALVFS_H

#include <stdbool.h>

#define WALVFS_NAME "mcs-wal"

/* Register the VFS WALVFS_NAME once per process (not as the default).
 * Returns 0, or -ENOSYS when the default VFS cannot be wrapped. */
int walvfs_register(void);

/* True once gathered WAL bytes could not be written at a point where
 * sqlite takes no error: the registry must not report later commits as
 * durable. */
bool walvfs_failed(void);

#endif
