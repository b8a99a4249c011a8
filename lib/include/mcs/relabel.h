/* SPDX-License-Identifier: MIT */
/*
 * mcs/relabel.h - relabel a file or a tree (a container volume) safely and
 * fast, and put back the labels that were there before.
 *
 * The walk works by file descriptor: every directory is opened relative to
 * its parent with O_NOFOLLOW|O_DIRECTORY and read with getdents64; each
 * entry's label is read and written relative to that directory without
 * re-resolving a path, so a directory swapped for a symlink during the
 * walk never leads outside the tree.  Symlinks are relabeled themselves,
 * never followed.  Other mounts are not entered unless
 * MCS_RELABEL_CROSS_MOUNTS is given.  Files already carrying the target
 * label are not written (no ctime change); the trailing NUL that
 * libselinux stores is ignored when comparing.  The top of the tree is
 * relabeled last, so an interrupted run is visible at the top and a re-run
 * finishes it.  Protected paths (mcs/protect.h) are refused by identity
 * before anything changes, at the top and for every directory reached.
 *
 * Errors on single files (permission, a file that vanished, an unsupported
 * filesystem) do not stop the walk: they are counted, reported through
 * on_error and make mcs_relabel() return -EIO at the end, after the rest of
 * the tree was done.  A file that vanished mid-walk is not an error.
 *
 * With threads > 1 directories are shared out between worker threads; the
 * labels on disk are exactly those of a serial walk.
 */
#ifndef MCS_RELABEL_H
#define MCS_RELABEL_H

#include <stdbool.h>
#include <stdint.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The label of shared volume content (`z`) and of private content (`Z`,
 * with the container's level instead of s0). */
#define MCS_SANDBOX_FILE_TYPE	  "svirt_sandbox_file_t"
#define MCS_SHARED_VOLUME_CONTEXT "system_u:object_r:svirt_sandbox_file_t:s0"

/* Flags of mcs_relabel_opts. */
enum {
	/* Descend into directories (chcon -R).  Volume modes always set it. */
	MCS_RELABEL_RECURSIVE = 1 << 0,
	/* Report what would change, change nothing. */
	MCS_RELABEL_DRY_RUN = 1 << 1,
	/* Enter directories on other mounts (default: relabel the mount
	 * point itself, do not descend). */
	MCS_RELABEL_CROSS_MOUNTS = 1 << 2,
	/* When the top path named on the command line is a symlink,
	 * relabel its target instead of the link (chcon without -h).  Inside
	 * the tree symlinks are never followed. */
	MCS_RELABEL_FOLLOW_TOP = 1 << 3,
	/* Record each file's previous label in the restore journal
	 * (mcs_relabel_restore() puts them back). */
	MCS_RELABEL_REMEMBER = 1 << 4,
};

/* Counts of one run.  examined = changed + unchanged + errors + skipped. */
typedef struct mcs_relabel_result {
	uint64_t examined;  /* inodes looked at, the top included */
	uint64_t changed;   /* labels written (or that would be: dry run) */
	uint64_t unchanged; /* already carried the target label */
	uint64_t errors;    /* files that could not be read or relabeled */
	uint64_t skipped;   /* mount points of other mounts, left alone */
} mcs_relabel_result;

/*
 * What to do.  Either context is a full target context, or it is NULL and
 * at least one of user/role/type/range replaces that field of each file's
 * current label (chcon -u/-r/-t/-l; a file without a label is then an
 * error).  Callbacks may be called from worker threads, concurrently, but
 * never for the same file twice; they must not call back into the walk.
 */
typedef struct mcs_relabel_opts {
	const char *context; /* full target, validated before anything runs */
	const char *user;    /* partial mode: replace the user field */
	const char *role;    /* partial mode: replace the role field */
	const char *type;    /* partial mode: replace the type field */
	const char *range;   /* partial mode: replace the range */
	unsigned flags;	     /* MCS_RELABEL_* */
	unsigned threads;    /* worker threads; 0: online CPUs */
	/* Where restore journals live (NULL: MCS_RELABEL_STATE_DIR). */
	const char *state_dir;
	/* A file could not be relabeled: path (relative to the top, "." for
	 * the top itself) and -errno. */
	void (*on_error)(const char *path, int error, void *userdata);
	/* A label changed (or would: dry run); for chcon -v.  NULL: not
	 * called, and paths are not built (faster). */
	void (*on_change)(const char *path, const char *old_label,
			  const char *new_label, void *userdata);
	/* Called about every 100 ms with the counts so far (progress line);
	 * from one thread at a time. */
	void (*on_progress)(const mcs_relabel_result *sofar, void *userdata);
	void *userdata;
} mcs_relabel_opts;

#define MCS_RELABEL_STATE_DIR "/var/lib/mcskit/relabel"

/*
 * Relabel path (and below it with MCS_RELABEL_RECURSIVE) as opts says.
 * res (may be NULL) receives the counts, also on failure.
 * Returns 0 when every file carries the target label, -EIO when some files
 * failed (counted in res->errors, each reported through on_error), or
 * another -errno with nothing changed: -EINVAL for a malformed context or
 * options, -EPERM for a protected path, -ENOENT for a missing path.
 */
MCS_EXPORT int mcs_relabel(const char *path, const mcs_relabel_opts *opts,
			   mcs_relabel_result *res, mcs_error *err);

/*
 * Put back the labels recorded by an earlier mcs_relabel() of the same top
 * (identified by device and inode of what path resolves to: a symlink top
 * is followed) with MCS_RELABEL_REMEMBER; files that
 * had no label get theirs removed; then drop the journal.  Only flags,
 * threads, state_dir and the callbacks of opts are used (opts may be NULL).
 * Returns 0, -ENOENT when no journal exists for path, -EIO when some files
 * failed, or another -errno.
 */
MCS_EXPORT int mcs_relabel_restore(const char *path,
				   const mcs_relabel_opts *opts,
				   mcs_relabel_result *res, mcs_error *err);

#ifdef __cplusplus
}
#endif

#endif
