/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the restore journal's format: the writer the relabel walk
 * appends to (relabel.c) and the reader restore uses (restore.c).  This
 * module knows nothing of walks; the walk and restore know nothing of the
 * bytes.  Format and rules: journal.c and docs/relabel.md.
 */
#ifndef MCS_JOURNAL_H
#define MCS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <mcs/error.h>

/* Largest journal restore reads (a few bytes per relabeled file). */
#define JOURNAL_MAX_BYTES ((size_t)1 << 30)

/* The identity of a relabeled top.  dev names the journal file (restore
 * finds it fast); fsid (statfs, from the filesystem UUID on ext4, xfs,
 * btrfs), ino and btime (statx) are what must match: a disk moved to
 * another slot changes dev, not those. */
typedef struct journal_volume {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	uint64_t fsid;	     /* 0 when the filesystem reports none */
	int64_t btime_sec;   /* birth time of the top; */
	uint32_t btime_nsec; /* both 0 when the fs does not keep it */
} journal_volume;

/* The identity of the inode fd (an O_PATH fd is fine), st its fstat. */
int journal_volume_of(int fd, const struct stat *st, journal_volume *ret);

/* The journal's path for vol in state_dir (NULL: MCS_RELABEL_STATE_DIR),
 * malloc'd, or NULL when out of memory. */
char *journal_path(const char *state_dir, const journal_volume *vol);

/* ---- writing ---------------------------------------------------------- */

typedef struct journal_writer journal_writer;

/*
 * Open the journal of vol in state_dir (created 0700 when missing) for a
 * new run that relabels to target (NULL: partial), under an exclusive
 * lock.  A new file gets its header; an existing one is read and checked
 * first (header, every frame's checksum, the volume): a damaged journal
 * or one of another volume refuses the run (-EBADMSG, -ESTALE,
 * -EPROTONOSUPPORT) rather than append to it; the torn last frame of a
 * killed run is cut off.  -EBUSY when another run or restore holds it.
 * Then the run's start frame is written.
 */
int journal_writer_open(const char *state_dir, const journal_volume *vol,
			const char *top, const char *target,
			journal_writer **ret, mcs_error *err);

/* Records of one directory's changes, appended with one write() before
 * the labels are written, so a killed run keeps them. */
typedef struct journal_batch {
	char *buf;
	size_t len, cap;
	size_t nrecords;
	char *cur; /* encoded label line of the records that follow */
	size_t cur_len;
} journal_batch;

/* Record that inode ino had label old (oldlen bytes as stored on disk;
 * oldlen < 0: it had no label). */
int journal_batch_add(journal_batch *b, ino_t ino, const char *old,
		      ssize_t oldlen);
/* Append the batch to j as one checksummed frame and empty it.  Thread
 * safe.  After a failed append the journal refuses every later one (the
 * file was cut back to its last whole frame). */
int journal_writer_append(journal_writer *j, journal_batch *b);
void journal_batch_free(journal_batch *b);
/* fsync the journal (before the top is relabeled). */
int journal_writer_sync(journal_writer *j);
/* Write the run's commit frame (its frame and record counts) and fsync. */
int journal_writer_commit(journal_writer *j);
/* Close (and unlock) without committing. */
void journal_writer_close(journal_writer *j);

/* ---- reading ---------------------------------------------------------- */

typedef struct journal_map journal_map;

typedef struct journal_info {
	journal_volume vol; /* from the header */
	size_t good_len;    /* bytes up to the end of the last whole frame */
	size_t torn_len;    /* bytes of a torn last frame (killed run) */
	unsigned runs;	    /* runs started */
	bool last_open;	    /* the last run has no commit (killed) */
	uint64_t records;
} journal_info;

/*
 * Check and decode the journal bytes buf[0..len) (path names it in
 * messages).  Fills *ret_map (optional: NULL only checks) with inode ->
 * original label, first record of an inode wins, and *info.  expect
 * (optional) is the volume the journal must belong to.  Returns 0, or
 * with err naming the journal and what is wrong: -EBADMSG (damaged: bad
 * header, checksum, frame, record, counts, no run), -EPROTONOSUPPORT
 * (another format version), -ESTALE (another volume), -ENOMEM.
 */
int journal_parse(const char *buf, size_t len, const char *path,
		  const journal_volume *expect, journal_map **ret_map,
		  journal_info *info, mcs_error *err);

/*
 * Open the journal at path (a regular file, no symlink, at most
 * JOURNAL_MAX_BYTES), lock it exclusively and journal_parse() it.  On
 * success *ret_fd holds the lock (caller closes it after removing the
 * file).  -ENOENT when there is none; -EBUSY when a run holds it.
 */
int journal_read(const char *path, const journal_volume *expect, int *ret_fd,
		 journal_map **ret_map, journal_info *info, mcs_error *err);

/*
 * No journal at path (the name for vol in state_dir)?  A disk moved to
 * another slot keeps its fsid but may change its device number: find the
 * volume's journal under its old device number (same inode, fsid and
 * birth time; only where the filesystem has an fsid) and rename it to
 * path.  Returns 1 when one was taken over, 0 when none, or -errno.
 */
int journal_adopt_moved(const char *state_dir, const journal_volume *vol,
			const char *path);

/* 1 and the original (*len < 0: had no label) when ino is recorded, else
 * 0. */
int journal_map_lookup(const journal_map *m, ino_t ino, const char **val,
		       ssize_t *len);
size_t journal_map_count(const journal_map *m);
void journal_map_free(journal_map *m);

/* CRC32C (Castagnoli) of buf, continuing from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
