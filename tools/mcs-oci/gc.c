/* SPDX-License-Identifier: MIT */
/*
 * gc.c - `mcs-oci gc`: release the registrations of containers that no
 * runtime knows any more (a crash between create and delete, a /run that
 * was emptied by a reboot).  A registration is mcs-oci's when its owner
 * starts with "oci:"; its container exists when a directory named after
 * it is in one of the state roots (crun and runc keep one per container
 * under their --root).  An owner found missing is released only while gc
 * holds its creation lock (lock.c) and still finds no state: a container
 * between its registration and the runtime's state directory holds that
 * lock and is skipped, however long its runtime takes.  Idempotent;
 * prints each release.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcs-oci.h"

static bool exists(const struct oci_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_roots; i++) {
		char pat[600];
		glob_t g;
		bool found = false;

		if (snprintf(pat, sizeof(pat), "%s/%s", cfg->roots[i], id) >=
		    (int)sizeof(pat))
			continue;
		if (glob(pat, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g) == 0) {
			for (size_t k = 0; k < g.gl_pathc && !found; k++) {
				struct stat st;
				found = stat(g.gl_pathv[k], &st) == 0 &&
					S_ISDIR(st.st_mode);
			}
			globfree(&g);
		}
		if (found)
			return true;
	}
	return false;
}

int oci_gc(const struct oci_config *cfg, int argc, char **argv)
{
	bool dry = argc > 1 && strcmp(argv[1], "--dry-run") == 0;
	mcs_client *c = NULL;
	mcs_lease *v = NULL;
	size_t n = 0;
	mcs_error err = {0};
	const size_t pl = strlen(OCI_OWNER_PREFIX);
	int rc = 0;

	if (argc > 1 + dry) {
		fprintf(stderr, "Usage: mcs-oci gc [--dry-run]\n");
		return 2;
	}
	if (oci_connect(cfg, &c, &err) < 0 ||
	    mcs_client_list(c, &v, &n, &err) < 0) {
		mcs_client_free(c);
		return oci_fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = v[i].owner + pl;
		int lk, r;

		if (strncmp(v[i].owner, OCI_OWNER_PREFIX, pl) != 0 ||
		    !oci_plain_id(id) || exists(cfg, id))
			continue;
		/* being created: its runtime has no state yet.  Held (made
		 * if missing, but not by --dry-run, which changes nothing)
		 * until the release, so a create of the same id waits */
		lk = oci_lock_take(cfg, v[i].uid, id, dry ? 0 : OCI_LOCK_FILE);
		if (lk == -EWOULDBLOCK)
			continue;
		if (exists(cfg, id) || dry) {
			if (dry && !exists(cfg, id))
				printf("would release %s %s\n", v[i].owner,
				       v[i].level);
			if (lk >= 0)
				close(lk);
			continue;
		}
		r = mcs_client_release(c, v[i].owner, &err);
		if (lk >= 0)
			oci_lock_drop(cfg, v[i].uid, id, lk);
		if (r == -ENOENT)
			continue; /* deleted meanwhile */
		if (r < 0) {
			rc = oci_fail(&err);
			break;
		}
		printf("released %s %s\n", v[i].owner, v[i].level);
	}
	free(v);
	mcs_client_free(c);
	return rc;
}
