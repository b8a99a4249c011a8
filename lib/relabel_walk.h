/* SPDX-License-Identifier: MIT */
/*
 * relabel_walk.h - the relabel walk (relabel.c) as restore.c calls it.
 * One direction only: restore.c -> relabel.c -> journal.c; the walk
 * knows the journal through journal.h, never restore.c.
 */
#ifndef MCS_RELABEL_WALK_H
#define MCS_RELABEL_WALK_H

#include <mcs/relabel.h>

#include "journal.h"

/* Relabel path as opts says, or (restore != NULL) put back the labels
 * restore records.  expect (optional): the top must still be that volume
 * (-ESTALE otherwise, nothing changed). */
int relabel_walk(const char *path, const mcs_relabel_opts *opts,
		 const journal_map *restore, const journal_volume *expect,
		 mcs_relabel_result *res, mcs_error *err);

/* Identity of the top as relabel_walk() opens it with flags. */
int relabel_top_volume(const char *path, unsigned flags, journal_volume *ret,
		       mcs_error *err);

#endif
