/* SPDX-License-Identifier: MIT */
/*
 * restore.c - mcs_relabel_restore(): find the journal of a top, have it
 * checked (journal.c: header, checksums, commits, the volume), put back
 * the labels it records with the relabel walk (relabel.c), and remove it
 * only when every file carries its original again.  A journal in any
 * doubt is refused and kept: it holds the only copy of the originals.
 *
 * Limits: files are found by inode number, so a file deleted and another
 * created with the same inode would get the old label; files moved out of
 * the tree are not restored (nothing walks there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mcs/relabel.h>

#include "journal.h"
#include "log.h"
#include "relabel_walk.h"
#include "util.h"

MCS_EXPORT int mcs_relabel_restore(const char *path,
				   const mcs_relabel_opts *opts,
				   mcs_relabel_result *res, mcs_error *err)
{
	mcs_relabel_opts o = opts ? *opts : (mcs_relabel_opts){0};
	_cleanup_free_ char *jpath = NULL;
	_cleanup_close_ int lock_fd = -1;
	journal_map *map = NULL;
	journal_volume vol;
	journal_info info;
	int r;

	if (res)
		*res = (mcs_relabel_result){0};
	if (!path)
		return mcs_error_set(err, -EINVAL, "no path");
	o.context = o.user = o.role = o.type = o.range = NULL;
	/* The journal is keyed by what path resolves to, as the volume
	 * modes relabel it. */
	o.flags = (o.flags & (MCS_RELABEL_DRY_RUN | MCS_RELABEL_CROSS_MOUNTS)) |
		  MCS_RELABEL_RECURSIVE | MCS_RELABEL_FOLLOW_TOP;
	r = relabel_top_volume(path, o.flags, &vol, err);
	if (r < 0)
		return r;
	jpath = journal_path(o.state_dir, &vol);
	if (!jpath)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (access(jpath, F_OK) < 0 &&
	    journal_adopt_moved(o.state_dir, &vol, jpath) > 0)
		log_msg(MCS_LOG_NOTICE,
			"%s: took over its journal from before a device "
			"number change as %s",
			path, jpath);
	r = journal_read(jpath, &vol, &lock_fd, &map, &info, err);
	if (r == -ENOENT)
		return mcs_error_set(err, -ENOENT,
				     "%s: no relabel journal (%s): nothing was "
				     "remembered for it",
				     path, jpath);
	if (r < 0)
		return mcs_error_prefix(err, "%s: ", path);
	if (info.last_open)
		log_msg(MCS_LOG_NOTICE,
			"%s: journal %s: the last relabel did not finish "
			"(killed?); restoring the %zu files it recorded%s",
			path, jpath, journal_map_count(map),
			info.torn_len ? ", its torn last batch (never applied) "
					"ignored"
				      : "");
	r = relabel_walk(path, &o, map, &vol, res, err);
	journal_map_free(map);
	if (r < 0)
		return r;
	if (!(o.flags & MCS_RELABEL_DRY_RUN) && unlink(jpath) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot remove journal %s: %s",
				     jpath, strerror(-r));
	}
	return 0;
}
