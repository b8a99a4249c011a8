/* SPDX-License-Identifier: MIT */
/*
 * relabel_int.h - internal interfaces between the relabel walk
 * (relabel.c) and the restore journal (restore.c).
 */
#ifndef MCS_RELABEL_INT_H
#define MCS_RELABEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <mcs/relabel.h>

/* ---- journal writing (restore.c) ---------------------------------------- */

typedef struct relabel_journal relabel_journal;

/* Open (create 0600, append) the journal of the top (dev, ino) in
 * state_dir (created 0700 when missing); a new file gets its header. */
int journal_open(const char *state_dir, dev_t dev, ino_t ino, const char *top,
		 const char *target, relabel_journal **ret, mcs_error *err);
/* fsync the journal (before the top is relabeled). */
int journal_sync(relabel_journal *j);
void journal_close(relabel_journal *j);

/* Records of one directory's changes, appended with one write() before
 * the labels are written, so a killed run keeps them. */
typedef struct journal_batch {
	char *buf;
	size_t len, cap;
	char *cur; /* encoded label line of the records that follow */
	size_t cur_len;
} journal_batch;

/* Record that inode ino had label old (oldlen bytes as stored on disk;
 * oldlen < 0: it had no label). */
int journal_batch_add(journal_batch *b, ino_t ino, const char *old,
		      ssize_t oldlen);
/* Append the batch to j (one write) and empty it. */
int journal_batch_flush(relabel_journal *j, journal_batch *b);
void journal_batch_free(journal_batch *b);

/* ---- journal reading (restore.c) ---------------------------------------- */

typedef struct journal_map journal_map;

/* The journal's path for top (dev, ino), malloc'd. */
char *journal_path(const char *state_dir, dev_t dev, ino_t ino);
/* Load a journal: inode -> original label, first record of an inode wins. */
int journal_load(const char *path, journal_map **ret, mcs_error *err);
/* 1 and the original (*len < 0: had no label) when ino is recorded, else
 * 0. */
int journal_map_lookup(const journal_map *m, ino_t ino, const char **val,
		       ssize_t *len);
size_t journal_map_count(const journal_map *m);
void journal_map_free(journal_map *m);

/* ---- the walk (relabel.c) ----------------------------------------------- */

/* Relabel path as opts says, or (restore != NULL) put back the labels
 * restore records. */
int relabel_walk(const char *path, const mcs_relabel_opts *opts,
		 const journal_map *restore, mcs_relabel_result *res,
		 mcs_error *err);
/* Identity of the top as relabel_walk() opens it. */
int relabel_top_identity(const char *path, unsigned flags, dev_t *ret_dev,
			 ino_t *ret_ino, mcs_error *err);

#endif
