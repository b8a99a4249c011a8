/* SPDX-License-Identifier: MIT */
/*
 * store_migrate.h - `mcsd migrate`: copy every owner of one registry store into
 * another (a host's sqlite registry into a cluster's PostgreSQL) in one
 * transaction on the target, or nothing.
 */
#ifndef MCSD_STORE_MIGRATE_H
#define MCSD_STORE_MIGRATE_H

#include <stdio.h>

#include <mcs/error.h>

/*
 * Copy the owners of store `from` into store `to` (store_open()
 * locations), both over range ("c0.c1023"), the leases recorded for
 * host_id (NULL: the machine id).  Every conflict (owner already in the
 * target, level held there by someone else, group holding another level
 * there) is printed to report, one line each; with any, nothing is
 * written.  Returns the number of owners copied, -EEXIST (conflicts),
 * or -errno with err set.
 */
int store_migrate(const char *from, const char *to, const char *range,
		  const char *host_id, FILE *report, mcs_error *err);

#endif
