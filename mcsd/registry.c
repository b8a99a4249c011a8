/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the rules of the registry of mcsd: what a valid owner,
 * group, type and level are, which levels are handed out (the configured
 * range minus the reserved and excluded ones), who may see and release an
 * owner (its uid, or root), idempotent allocation, groups (joined by
 * their members, released with the last one), leases bound to a process
 * and a boot, and reconcile.  It keeps the transactions of the calls
 * (one per call, or one per batch with a savepoint per call) and reports
 * a call only once it is durable.  It never sees SQL: the storage engine
 * behind store.h does (store_sqlite.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mcs/names.h>

#include "registry.h"

#include "log.h"
#include "proc.h"
#include "store.h"
#include "util.h"

struct mcsd_registry {
	store *store;
	mcs_cat_range range; /* categories handed out */
	store_key *excluded; /* never handed out (in range) */
	size_t n_excluded;
	bool in_batch; /* inside mcsd_registry_begin() */
	char boot_id[STORE_BOOT_ID_MAX];
};

static void key_level(store_key key, char buf[MCSD_REGISTRY_LEVEL_MAX])
{
	snprintf(buf, MCSD_REGISTRY_LEVEL_MAX, "s0:c%u,c%u", STORE_KEY_X(key),
		 STORE_KEY_Y(key));
}

/*
 * Level string -> table key, checked to be in r's range.  Returns 0, or
 * -ERANGE when the level is a valid pair outside the range (*ret_key is
 * set then too), -EINVAL when it is no pair.
 */
static int registry_level_key(const mcs_cat_range *range, const char *level,
			      store_key *ret_key, mcs_error *err)
{
	mcs_level l;
	unsigned x, y;
	uint64_t idx;
	int k;

	k = mcs_level_parse(level, &l, err);
	if (k < 0)
		return k;
	k = mcs_pair_from_level(&l, &x, &y, err);
	if (k < 0)
		return k;
	*ret_key = STORE_KEY(x, y);
	if (mcs_pair_to_index(range, x, y, &idx) < 0)
		return mcs_error_set(err, -ERANGE,
				     "level %s is outside the range c%u.c%u",
				     level, range->lo, range->hi);
	return 0;
}

static bool registry_excluded(const mcsd_registry *r, store_key key)
{
	for (size_t i = 0; i < r->n_excluded; i++)
		if (r->excluded[i] == key)
			return true;
	return false;
}

/* The range, and the reserved and excluded levels inside it as keys. */
static int registry_config(mcsd_registry *r, const mcsd_registry_config *cfg,
			   mcs_error *err)
{
	static const mcs_cat_range def = {0, MCS_CAT_MAX};
	store_key key;

	r->range = cfg && (cfg->range.lo || cfg->range.hi) ? cfg->range : def;
	if (r->range.lo >= r->range.hi || r->range.hi > MCS_CAT_MAX)
		return mcs_error_set(err, -EINVAL, "invalid category range");
	r->excluded =
		calloc(1 + (cfg ? cfg->n_excluded : 0), sizeof(*r->excluded));
	if (!r->excluded)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (registry_level_key(&r->range, MCSD_REGISTRY_RESERVED_LEVEL, &key,
			       NULL) == 0)
		r->excluded[r->n_excluded++] = key;
	for (size_t i = 0; cfg && i < cfg->n_excluded; i++) {
		int k = registry_level_key(&r->range, cfg->excluded[i], &key,
					   err);

		if (k == -ERANGE)
			continue; /* outside the range: never handed out */
		if (k < 0)
			return mcs_error_prefix(err, "excluded level");
		r->excluded[r->n_excluded++] = key;
	}
	if (r->n_excluded >= mcs_pair_count(&r->range))
		return mcs_error_set(err, -EINVAL,
				     "every pair of the range is excluded");
	return 0;
}

int mcsd_registry_open(const char *path, const mcsd_registry_config *cfg,
		       mcsd_registry **ret, mcs_error *err)
{
	mcsd_registry *r;
	store_config scfg;
	int k;

	if (!path || !ret)
		return mcs_error_set(err, -EINVAL, "registry: no path");
	r = calloc(1, sizeof(*r));
	if (!r)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	k = registry_config(r, cfg, err);
	if (k < 0)
		goto fail;
	k = proc_boot_id(r->boot_id);
	if (k < 0) {
		mcs_error_set(err, k, "cannot read the boot id");
		goto fail;
	}
	scfg = (store_config){
		.range = r->range,
		.excluded = r->excluded,
		.n_excluded = r->n_excluded,
		.host_id = cfg ? cfg->host_id : NULL,
	};
	k = store_open(path, &scfg, &r->store, err);
	if (k < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	mcs_error_prefix(err, "registry %s: ", path);
	mcsd_registry_close(r);
	return k;
}

void mcsd_registry_close(mcsd_registry *r)
{
	if (!r)
		return;
	store_close(r->store); /* rolls back an open batch */
	free(r->excluded);
	free(r);
}

/* ---- transactions ------------------------------------------------------ */

/* Attempts of one call whose transaction meets -EAGAIN (a race with
 * another daemon on the same owner or group, a serialization failure). */
#define REGISTRY_ATTEMPTS 32

/* Inside a batch of the engine (one transaction, a savepoint per call):
 * never with an engine that wants a transaction per call. */
static bool registry_in_tx_batch(const mcsd_registry *r)
{
	return r->in_batch && !r->store->ops->per_call;
}

/* Open the transaction of one call: a savepoint inside a batch. */
static int registry_op_begin(mcsd_registry *r, mcs_error *err)
{
	if (registry_in_tx_batch(r))
		return r->store->ops->savepoint(r->store, err);
	return r->store->ops->begin(r->store, err);
}

/* Whether a call that ended with k runs again (its transaction was rolled
 * back whole by the engine), after a short random pause that keeps two
 * daemons from meeting again. */
static bool registry_rerun(const mcsd_registry *r, int k, int attempt)
{
	if (k != -EAGAIN || registry_in_tx_batch(r) ||
	    attempt + 1 >= REGISTRY_ATTEMPTS)
		return false;
	usleep((useconds_t)(random() % 500) * (useconds_t)(attempt + 1));
	return true;
}

/* Close the transaction of one call: keep it when k >= 0 (outside a batch:
 * commit and make it durable), else undo it.  Returns k or an error. */
static int registry_op_end(mcsd_registry *r, int k, mcs_error *err)
{
	const struct store_ops *ops = r->store->ops;
	int c;

	if (registry_in_tx_batch(r)) {
		c = ops->savepoint_end(r->store, k >= 0, k >= 0 ? err : NULL);
		return k < 0 ? k : c < 0 ? c : k;
	}
	if (k < 0) {
		ops->rollback(r->store, NULL);
		return k;
	}
	c = ops->commit(r->store, err);
	/* inside a batch of a per_call engine the batch's sync covers it */
	if (c >= 0 && !r->in_batch)
		c = ops->sync(r->store, err);
	return c < 0 ? c : k;
}

int mcsd_registry_begin(mcsd_registry *r, mcs_error *err)
{
	int k;

	if (r->in_batch)
		return mcs_error_set(err, -EBUSY,
				     "registry: batch already open");
	if (r->store->ops->per_call) {
		r->in_batch = true; /* each call commits on its own */
		return 0;
	}
	k = r->store->ops->begin(r->store, err);
	if (k < 0)
		return k;
	r->in_batch = true;
	return 0;
}

int mcsd_registry_rollback(mcsd_registry *r, mcs_error *err)
{
	if (!r->in_batch)
		return mcs_error_set(err, -EBUSY, "registry: no batch open");
	r->in_batch = false;
	if (r->store->ops->per_call)
		return 0; /* its calls are committed already */
	return r->store->ops->rollback(r->store, err);
}

int mcsd_registry_commit_nowait(mcsd_registry *r, mcs_error *err)
{
	if (!r->in_batch)
		return mcs_error_set(err, -EBUSY, "registry: no batch open");
	r->in_batch = false;
	if (r->store->ops->per_call)
		return 0; /* its calls are committed already */
	return r->store->ops->commit(r->store, err);
}

int mcsd_registry_commit(mcsd_registry *r, mcs_error *err)
{
	int k = mcsd_registry_commit_nowait(r, err);

	return k < 0 ? k : r->store->ops->sync(r->store, err);
}

int mcsd_registry_sync(mcsd_registry *r, mcs_error *err)
{
	if (!r)
		return mcs_error_set(err, -EINVAL, "no registry");
	return r->store->ops->sync(r->store, err);
}

int mcsd_registry_checkpoint_elsewhere(mcsd_registry *r, mcs_error *err)
{
	if (!r)
		return mcs_error_set(err, -EINVAL, "no registry");
	if (!r->store->ops->checkpoint_elsewhere)
		return 0; /* the engine needs none */
	return r->store->ops->checkpoint_elsewhere(r->store, err);
}

bool mcsd_registry_checkpoint_due(mcsd_registry *r)
{
	return r && r->store->ops->checkpoint_due &&
	       r->store->ops->checkpoint_due(r->store);
}

int mcsd_registry_checkpoint(mcsd_registry *r, mcs_error *err)
{
	if (!r || !r->store->ops->checkpoint)
		return mcs_error_set(err, -EINVAL, "no checkpoint connection");
	return r->store->ops->checkpoint(r->store, err);
}

/* ---- allocate ---------------------------------------------------------- */

/* -EEXIST naming who holds level (table key key) to root; to another uid
 * only that it is in use (owner names are not for every uid to see). */
static int registry_in_use(mcsd_registry *r, const char *level, store_key key,
			   uid_t uid, mcs_error *err)
{
	char owner[MCSD_REGISTRY_OWNER_MAX + 1] = "";
	char group[MCSD_REGISTRY_OWNER_MAX + 1] = "";

	if (uid != 0)
		return mcs_error_set(err, -EEXIST,
				     "level %s is in use by another owner",
				     level);
	if (r->store->ops->pair_holder(r->store, key, owner, group, NULL) < 0 ||
	    (!*owner && !*group))
		snprintf(owner, sizeof(owner), "?");
	if (*group)
		return mcs_error_set(err, -EEXIST,
				     "level %s is in use by group %s", level,
				     group);
	return mcs_error_set(err, -EEXIST, "level %s is in use by %s", level,
			     owner);
}

/* Check req; an explicit level into level (canonical) and *ret_key. */
static int registry_validate(const mcsd_registry *r,
			     const mcsd_registry_request *req,
			     char level[MCSD_REGISTRY_LEVEL_MAX],
			     store_key *ret_key, mcs_error *err)
{
	const char *group = req->group && *req->group ? req->group : NULL;
	int k;

	if (mcs_name_check(MCS_NAME_OWNER, req->owner, err) < 0 ||
	    (group && mcs_name_check(MCS_NAME_GROUP, group, err) < 0) ||
	    (req->type && mcs_name_check(MCS_NAME_TYPE, req->type, err) < 0))
		return -EINVAL;
	if (req->kind != MCSD_REGISTRY_LEASE &&
	    req->kind != MCSD_REGISTRY_RESERVATION)
		return mcs_error_set(err, -EINVAL, "invalid kind %d",
				     (int)req->kind);
	if (req->pid < 0)
		return mcs_error_set(err, -EINVAL, "invalid pid %d",
				     (int)req->pid);
	*level = '\0';
	if (req->level && *req->level) {
		k = registry_level_key(&r->range, req->level, ret_key, err);
		if (k < 0) {
			mcs_error_prefix(err, "invalid level: ");
			return -EINVAL;
		}
		if (registry_excluded(r, *ret_key))
			return mcs_error_set(
				err, -EINVAL,
				"invalid level: %s is reserved and "
				"never handed out",
				req->level);
		key_level(*ret_key, level);
	}
	return 0;
}

/* req's owner row for the pair key, as it will be stored. */
static void registry_row(const mcsd_registry *r,
			 const mcsd_registry_request *req, store_key key,
			 uint64_t start, store_owner *row)
{
	mcsd_registry_entry *e = &row->entry;
	bool lease = req->kind == MCSD_REGISTRY_LEASE;

	memset(row, 0, sizeof(*row));
	snprintf(e->owner, sizeof(e->owner), "%s", req->owner);
	key_level(key, e->level);
	snprintf(e->group, sizeof(e->group), "%s",
		 req->group ? req->group : "");
	e->kind = req->kind;
	e->pid = lease ? req->pid : 0;
	e->pid_start = start;
	e->uid = req->uid;
	snprintf(e->type, sizeof(e->type), "%s", req->type ? req->type : "");
	e->created = (int64_t)time(NULL);
	row->key = key;
	snprintf(row->boot_id, sizeof(row->boot_id), "%s", r->boot_id);
}

/* Insert req's owner row for the pair key; *ret (may be NULL) receives it. */
static int registry_insert_owner(mcsd_registry *r,
				 const mcsd_registry_request *req,
				 store_key key, uint64_t start,
				 mcsd_registry_entry *ret, mcs_error *err)
{
	store_owner row;
	int k;

	registry_row(r, req, key, start, &row);
	k = r->store->ops->owner_insert(r->store, &row, err);
	if (k >= 0 && ret)
		*ret = row.entry;
	return k;
}

/* The body of allocate, inside the call's transaction. */
static int registry_allocate_locked(mcsd_registry *r,
				    const mcsd_registry_request *req,
				    const char *want, store_key want_key,
				    mcsd_registry_entry *ret, mcs_error *err)
{
	const struct store_ops *ops = r->store->ops;
	const char *group = req->group && *req->group ? req->group : NULL;
	char level[MCSD_REGISTRY_LEVEL_MAX];
	store_owner cur;
	store_key key = want_key;
	uint64_t start = 0;
	int k;

	k = ops->owner_get(r->store, req->owner, &cur, NULL);
	if (k == 0) {
		/* another uid's owner is not its to see (root: anything) */
		if (req->uid != 0 && cur.entry.uid != req->uid)
			return mcs_error_set(err, -EPERM,
					     "owner %s belongs to another uid",
					     req->owner);
		/* idempotent, unless asked for something else */
		if (*want && strcmp(want, cur.entry.level) != 0)
			return mcs_error_set(
				err, -EEXIST,
				"owner %s already holds %s, not %s", req->owner,
				cur.entry.level, want);
		if (strcmp(group ? group : "", cur.entry.group) != 0)
			return mcs_error_set(err, -EEXIST,
					     "owner %s already holds %s in "
					     "group \"%s\"",
					     req->owner, cur.entry.level,
					     cur.entry.group);
		if (ret)
			*ret = cur.entry;
		return 0;
	}
	if (k != -ENOENT)
		return ops->owner_get(r->store, req->owner, NULL, err);

	/* the lease's process, before anything is taken for it */
	if (req->kind == MCSD_REGISTRY_LEASE && req->pid > 0) {
		k = proc_pid_start_time(req->pid, &start);
		if (k < 0)
			return mcs_error_set(
				err, k, "owner %s: lease pid %d: %s",
				req->owner, (int)req->pid, strerror(-k));
	}
	if (group) {
		k = ops->group_pair(r->store, group, &key, err);
		if (k < 0)
			return k;
		if (k > 0) {
			/* a group is its creator's uid's: others joining it
			 * would share its level, across users (root may) */
			uid_t guid = 0;
			int g = 0;
			if (req->uid != 0 && ops->group_uid)
				g = ops->group_uid(r->store, group, &guid, err);
			if (g < 0)
				return g;
			if (req->uid != 0 && (g == 0 || guid != req->uid))
				return mcs_error_set(
					err, -EPERM,
					"group %s belongs to another uid",
					group);
			key_level(key, level);
			if (*want && strcmp(want, level) != 0)
				return mcs_error_set(
					err, -EEXIST,
					"group %s holds %s, not %s", group,
					level, want);
			k = registry_insert_owner(r, req, key, start, ret, err);
			return k < 0 ? k : 1;
		}
	}
	k = ops->pair_claim(r->store, *want ? want_key : STORE_KEY_ANY,
			    req->owner, group, &key, err);
	if (k == -EEXIST && *want)
		return registry_in_use(r, want, want_key, req->uid, err);
	if (k == -ENOSPC) {
		mcsd_registry_counts c;

		if (ops->counts(r->store, &c, NULL) < 0)
			memset(&c, 0, sizeof(c));
		return mcs_error_set(err, -ENOSPC,
				     "registry exhausted: all %" PRIu64
				     " levels of c%u.c%u are in use",
				     c.total, r->range.lo, r->range.hi);
	}
	if (k < 0)
		return k;
	k = registry_insert_owner(r, req, key, start, ret, err);
	return k < 0 ? k : 1;
}

int mcsd_registry_allocate(mcsd_registry *r, const mcsd_registry_request *req,
			   mcsd_registry_entry *ret, mcs_error *err)
{
	char want[MCSD_REGISTRY_LEVEL_MAX];
	store_key want_key = 0;
	int k, created = 0;

	if (!r || !req)
		return mcs_error_set(err, -EINVAL, "no request");
	k = registry_validate(r, req, want, &want_key, err);
	if (k < 0)
		return k;
	for (int attempt = 0;; attempt++) {
		k = registry_op_begin(r, err);
		if (k >= 0) {
			created = registry_allocate_locked(r, req, want,
							   want_key, ret, err);
			k = registry_op_end(r, created, err);
		}
		if (!registry_rerun(r, k, attempt))
			break;
	}
	if (k >= 0 && created > 0 && ret)
		log_msg(MCS_LOG_INFO, "allocated %s to %s", ret->level,
			req->owner);
	return k;
}

/* ---- release, lookup, list, status --------------------------------------- */

/* The body of release, inside the call's transaction. */
static int registry_release_locked(mcsd_registry *r, const char *owner,
				   uid_t uid, store_owner *cur, mcs_error *err)
{
	const struct store_ops *ops = r->store->ops;
	uint64_t members;
	int k;

	k = ops->owner_get(r->store, owner, cur, err);
	if (k < 0)
		return k;
	if (uid != 0 && cur->entry.uid != uid)
		return mcs_error_set(err, -EPERM,
				     "owner %s belongs to another uid", owner);
	k = ops->owner_delete(r->store, owner, err);
	if (k < 0)
		return k;
	if (*cur->entry.group) {
		k = ops->group_count(r->store, cur->entry.group, &members, err);
		if (k < 0)
			return k;
		if (members > 0)
			return 0; /* the other members keep the level */
	}
	return ops->pair_release(r->store, cur->key, err);
}

int mcsd_registry_release(mcsd_registry *r, const char *owner, uid_t uid,
			  mcs_error *err)
{
	store_owner cur;
	int k;

	if (!r || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	for (int attempt = 0;; attempt++) {
		k = registry_op_begin(r, err);
		if (k >= 0) {
			k = registry_release_locked(r, owner, uid, &cur, err);
			k = registry_op_end(r, k, err);
		}
		if (!registry_rerun(r, k, attempt))
			break;
	}
	if (k >= 0)
		log_msg(MCS_LOG_INFO, "released %s of %s", cur.entry.level,
			owner);
	return k;
}

int mcsd_registry_end_lease(mcsd_registry *r, const char *owner, pid_t pid,
			    mcs_error *err)
{
	mcsd_registry_entry row;
	int k = mcsd_registry_lookup(r, owner, &row, NULL);

	if (k == -ENOENT)
		return 0;
	if (k < 0)
		return mcsd_registry_lookup(r, owner, NULL, err);
	/* Released and allocated again meanwhile: not this lease any more. */
	if (row.kind != MCSD_REGISTRY_LEASE || row.pid != pid)
		return 0;
	k = mcsd_registry_release(r, owner, 0, err);
	return k < 0 ? k : 1;
}

int mcsd_registry_lookup(mcsd_registry *r, const char *owner,
			 mcsd_registry_entry *ret, mcs_error *err)
{
	store_owner row;
	int k;

	if (!r || !owner)
		return mcs_error_set(err, -EINVAL, "no owner");
	k = r->store->ops->owner_get(r->store, owner, &row, err);
	if (k >= 0 && ret)
		*ret = row.entry;
	return k;
}

/* Rows read per page by mcsd_registry_list. */
#define LIST_PAGE 256

int mcsd_registry_list(mcsd_registry *r, mcsd_registry_entry **ret_entries,
		       size_t *ret_n, mcs_error *err)
{
	_cleanup_free_ mcsd_registry_entry *v = NULL;
	size_t n = 0, cap = 0, got;
	int k;

	do {
		if (cap - n < LIST_PAGE) {
			size_t ncap = cap ? 2 * cap : LIST_PAGE;
			mcsd_registry_entry *nv =
				reallocarray(v, ncap, sizeof(*v));

			if (!nv)
				return mcs_error_set(err, -ENOMEM,
						     "out of memory");
			v = nv;
			cap = ncap;
		}
		k = r->store->ops->list_page(r->store, n ? v[n - 1].owner : "",
					     v + n, LIST_PAGE, &got, err);
		if (k < 0)
			return k;
		n += got;
	} while (got == LIST_PAGE);
	*ret_n = n;
	*ret_entries = n ? TAKE_PTR(v) : NULL;
	return 0;
}

int mcsd_registry_list_page(mcsd_registry *r, const char *after,
			    mcsd_registry_entry *entries, size_t max,
			    size_t *ret_n, mcs_error *err)
{
	if (!r || !entries || !ret_n || max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "list: bad arguments");
	return r->store->ops->list_page(r->store, after ? after : "", entries,
					max, ret_n, err);
}

int mcsd_registry_lease_page(mcsd_registry *r, const char *after,
			     mcsd_registry_lease *leases, size_t max,
			     size_t *ret_n, mcs_error *err)
{
	_cleanup_free_ store_lease *page = NULL;
	int k;

	if (!r || !leases || !ret_n || max == 0 || max > INT32_MAX)
		return mcs_error_set(err, -EINVAL, "leases: bad arguments");
	page = calloc(max, sizeof(*page));
	if (!page)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	k = r->store->ops->lease_page(r->store, after ? after : "", page, max,
				      ret_n, err);
	if (k < 0)
		return k;
	for (size_t i = 0; i < *ret_n; i++) {
		memcpy(leases[i].owner, page[i].owner, sizeof(leases->owner));
		leases[i].pid = page[i].pid;
		leases[i].pid_start = page[i].pid_start;
	}
	return 0;
}

int mcsd_registry_status(mcsd_registry *r, mcsd_registry_counts *ret)
{
	return r->store->ops->counts(r->store, ret, NULL);
}

/* ---- reconcile --------------------------------------------------------- */

/* Dead leases released per transaction by reconcile. */
#define RECONCILE_CHUNK 1024

typedef struct owner_name {
	char name[MCSD_REGISTRY_OWNER_MAX + 1];
} owner_name;

/* A lease whose process is gone (or reused), or of another boot. */
static bool registry_lease_dead(const mcsd_registry *r, const store_lease *l)
{
	uint64_t start;

	if (strcmp(l->boot_id, r->boot_id) != 0)
		return true;
	if (l->pid <= 0)
		return false;
	return proc_pid_start_time(l->pid, &start) == -ESRCH ||
	       (l->pid_start != 0 && start != l->pid_start);
}

/*
 * The next up to RECONCILE_CHUNK dead leases whose owner sorts after
 * *cursor, into dead; the cursor moves past the leases checked.
 * *ret_more when the leases are not exhausted.
 */
static int reconcile_scan(mcsd_registry *r, owner_name *cursor,
			  store_lease *page, owner_name *dead, size_t *ret_n,
			  bool *ret_more, mcs_error *err)
{
	size_t n = 0, got = 0;
	int k;

	*ret_more = true;
	while (n < RECONCILE_CHUNK && *ret_more) {
		/* never more than the dead array can still take */
		size_t want = RECONCILE_CHUNK - n;

		k = r->store->ops->lease_page(r->store, cursor->name, page,
					      want, &got, err);
		if (k < 0)
			return k;
		for (size_t i = 0; i < got; i++)
			if (registry_lease_dead(r, &page[i]))
				memcpy(dead[n++].name, page[i].owner,
				       sizeof(dead->name));
		if (got > 0)
			memcpy(cursor->name, page[got - 1].owner,
			       sizeof(cursor->name));
		*ret_more = got == want;
	}
	*ret_n = n;
	return 0;
}

int mcsd_registry_reconcile(mcsd_registry *r, size_t *ret_released,
			    mcs_error *err)
{
	_cleanup_free_ owner_name *dead =
		calloc(RECONCILE_CHUNK, sizeof(*dead));
	_cleanup_free_ store_lease *page =
		calloc(RECONCILE_CHUNK, sizeof(*page));
	owner_name cursor = {""};
	bool own_batch = !r->in_batch, more = true;
	size_t released = 0;
	int k = 0;

	if (!dead || !page)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	/*
	 * A chunk at a time, each in its own transaction (unless the
	 * caller's batch is open): after a reboot every lease is dead, and
	 * memory and the WAL stay bounded however many there are.  Released
	 * rows sort before the cursor, so a scan never meets them again.
	 */
	while (more && k >= 0) {
		size_t n = 0;

		k = reconcile_scan(r, &cursor, page, dead, &n, &more, err);
		if (k < 0 || n == 0)
			break;
		if (own_batch) {
			k = mcsd_registry_begin(r, err);
			if (k < 0)
				break;
		}
		for (size_t i = 0; i < n && k >= 0; i++) {
			k = mcsd_registry_release(r, dead[i].name, 0, err);
			if (k >= 0)
				log_msg(MCS_LOG_NOTICE,
					"reconcile: released dead lease %s",
					dead[i].name);
		}
		if (own_batch && k < 0)
			mcsd_registry_rollback(r, NULL);
		else if (own_batch)
			k = mcsd_registry_commit(r, err);
		if (k >= 0)
			released += n;
	}
	if (k >= 0 && ret_released)
		*ret_released = released;
	return k < 0 ? k : 0;
}
