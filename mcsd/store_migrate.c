/* SPDX-License-Identifier: MIT */
/*
 * store_migrate.c - `mcsd migrate --from sqlite:PATH --to postgresql://...`:
 * moves a host's registry into a shared one through the store interface
 * only (any engine to any engine).  All source rows are read first; then
 * one transaction on the target checks and copies every owner; any
 * conflict rolls it back, so nothing is ever half-moved.  Released
 * (quarantined) pairs are not copied: in the target they are simply
 * free or someone else's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_migrate.h"

#include "entry.h"
#include "store.h"
#include "util.h"

#define PAGE 256

/* Every owner row of src (with key and boot id), malloc'ed. */
static int read_all(store *src, store_owner **ret, size_t *ret_n,
		    mcs_error *err)
{
	_cleanup_free_ mcsd_registry_entry *page = calloc(PAGE, sizeof(*page));
	_cleanup_free_ store_owner *v = NULL;
	size_t n = 0, cap = 0, got = 0;
	int k;

	if (!page)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	do {
		k = src->ops->list_page(src, n ? v[n - 1].entry.owner : "",
					page, PAGE, &got, err);
		if (k < 0)
			return k;
		for (size_t i = 0; i < got; i++) {
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : PAGE;
				store_owner *nv =
					reallocarray(v, ncap, sizeof(*v));
				if (!nv)
					return mcs_error_set(err, -ENOMEM,
							     "out of memory");
				v = nv;
				cap = ncap;
			}
			/* the key and boot id are not in list rows */
			k = src->ops->owner_get(src, page[i].owner, &v[n], err);
			if (k < 0)
				return k;
			n++;
		}
	} while (got == PAGE);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/*
 * Copy row into dst inside its transaction: 1 copied, 0 a conflict
 * (printed), < 0 an error of the target.
 */
static int copy_one(store *dst, const store_owner *row, FILE *report,
		    mcs_error *err)
{
	const mcsd_registry_entry *e = &row->entry;
	const char *group = *e->group ? e->group : NULL;
	char owner[MCSD_REGISTRY_OWNER_MAX + 1],
		holder[MCSD_REGISTRY_OWNER_MAX + 1];
	store_owner cur;
	store_key key;
	int k;

	k = dst->ops->owner_get(dst, e->owner, &cur, NULL);
	if (k == 0) {
		fprintf(report,
			"conflict: owner %s holds %s in the target, %s here\n",
			e->owner, cur.entry.level, e->level);
		return 0;
	}
	if (k != -ENOENT)
		return dst->ops->owner_get(dst, e->owner, NULL, err);
	if (group) {
		k = dst->ops->group_pair(dst, group, &key, err);
		if (k < 0)
			return k;
		if (k > 0 && key != row->key) {
			fprintf(report,
				"conflict: owner %s: group %s holds another "
				"level in the target, %s here\n",
				e->owner, group, e->level);
			return 0;
		}
		if (k > 0) /* a member copied before, or the same group */
			goto insert;
	}
	k = dst->ops->pair_claim(dst, row->key, e->owner, group, &key, err);
	if (k == -EEXIST) {
		*owner = *holder = '\0';
		dst->ops->pair_holder(dst, row->key, owner, holder, NULL);
		fprintf(report,
			"conflict: owner %s: level %s is held in the target "
			"by %s%s%s\n",
			e->owner, e->level, *holder ? "group " : "",
			*holder ? holder : owner,
			!*holder && !*owner ? "(excluded there)" : "");
		return 0;
	}
	if (k < 0)
		return k;
insert:
	k = dst->ops->owner_insert(dst, row, err);
	return k < 0 ? k : 1;
}

int store_migrate(const char *from, const char *to, const char *range,
		  const char *host_id, FILE *report, mcs_error *err)
{
	_cleanup_free_ store_owner *rows = NULL;
	store_config cfg = {.host_id = host_id};
	store *src = NULL, *dst = NULL;
	store_key reserved = STORE_KEY(1022, 1023);
	size_t n = 0, copied = 0, conflicts = 0;
	int k;

	k = mcs_cat_range_parse(range, &cfg.range, err);
	if (k < 0)
		return mcs_error_prefix(err, "range '%s': ", range);
	if (cfg.range.hi == 1023 && cfg.range.lo <= 1022) {
		cfg.excluded = &reserved;
		cfg.n_excluded = 1;
	}
	k = store_open(from, &cfg, &src, err);
	if (k < 0) {
		mcs_error_prefix(err, "source %s: ", from);
		goto out;
	}
	k = read_all(src, &rows, &n, err);
	if (k < 0) {
		mcs_error_prefix(err, "source %s: ", from);
		goto out;
	}
	k = store_open(to, &cfg, &dst, err);
	if (k < 0) {
		mcs_error_prefix(err, "target: ");
		goto out;
	}
	k = dst->ops->begin(dst, err);
	for (size_t i = 0; k >= 0 && i < n; i++) {
		k = copy_one(dst, &rows[i], report, err);
		if (k > 0)
			copied++;
		else if (k == 0)
			conflicts++;
	}
	if (k < 0) {
		dst->ops->rollback(dst, NULL);
		mcs_error_prefix(err, "target: nothing moved: ");
		goto out;
	}
	if (conflicts) {
		dst->ops->rollback(dst, NULL);
		k = mcs_error_set(err, -EEXIST,
				  "%zu conflict(s) of %zu owner(s): nothing "
				  "moved",
				  conflicts, n);
		goto out;
	}
	k = dst->ops->commit(dst, err);
	if (k >= 0)
		k = dst->ops->sync(dst, err);
	if (k < 0) {
		mcs_error_prefix(err, "target: commit: ");
		goto out;
	}
	k = (int)copied;
out:
	store_close(dst);
	store_close(src);
	return k;
}
