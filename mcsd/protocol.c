/* SPDX-License-Identifier: MIT */
/*
 * protocol.c - the io.mcskit.Labels varlink interface: decode and validate
 * each call strictly (types, owner and type names, levels via the label
 * core), decide authorisation from the caller's credentials, map the call
 * onto the registry and the registry's result onto a reply or a varlink
 * error.  Also answers org.varlink.service (GetInfo,
 * GetInterfaceDescription).  A rejected call changes nothing.  No sockets
 * here (server.c), no SQL here (store_sqlite.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include <mcs/label.h>
#include "registry.h"
#include "proc.h"

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "varlink.h"

#define ERR_PREFIX     "io.mcskit.Labels."
#define DEFAULT_TYPE   "svirt_lxc_net_t"
#define MOUNT_PREFIX   "system_u:object_r:svirt_sandbox_file_t:"
#define PROCESS_PREFIX "system_u:system_r:"
#define PID_LIMIT      4194304 /* PID_MAX_LIMIT on 64-bit */

/* The interface definition, served by GetInterfaceDescription; the same
 * text as mcsd/io.mcskit.Labels.varlink (test_protocol checks they match). */
static const char interface_description[] =
	"# MCS label allocation: mcsd hands out unique two-category levels\n"
	"# s0:cX,cY to container runtimes, durable across restarts and "
	"crashes.\n"
	"interface io.mcskit.Labels\n"
	"\n"
	"# One registry entry.\n"
	"type Entry (\n"
	"  owner: string,\n"
	"  group: ?string,\n"
	"  level: string,\n"
	"  persistent: bool,\n"
	"  uid: int,\n"
	"  pid: ?int,\n"
	"  mount_label: string\n"
	")\n"
	"\n"
	"# Allocate the level of owner, or return the one it already holds.\n"
	"# owner, group: 1..255 characters of [A-Za-z0-9_.:@-].\n"
	"# level: an explicit \"s0:cX,cY\" to reserve; type: the process type\n"
	"# (default svirt_lxc_net_t); pid: the lease ends when it exits;\n"
	"# persistent: a reservation that outlives processes and reboots.\n"
	"method Allocate(\n"
	"  owner: string,\n"
	"  group: ?string,\n"
	"  level: ?string,\n"
	"  type: ?string,\n"
	"  pid: ?int,\n"
	"  persistent: ?bool\n"
	") -> (\n"
	"  owner: string,\n"
	"  group: ?string,\n"
	"  level: string,\n"
	"  process_label: string,\n"
	"  mount_label: string,\n"
	"  persistent: bool\n"
	")\n"
	"\n"
	"# Give owner's level back (a group's level is freed by its last "
	"member).\n"
	"method Release(owner: string) -> ()\n"
	"\n"
	"# The entry of owner.\n"
	"method Lookup(owner: string) -> (\n"
	"  owner: string,\n"
	"  group: ?string,\n"
	"  level: string,\n"
	"  persistent: bool,\n"
	"  uid: int,\n"
	"  pid: ?int,\n"
	"  mount_label: string\n"
	")\n"
	"\n"
	"# The entries the caller may see (root: all; others: their own), in\n"
	"# owner order, a page at a time: those after owner `after`, and\n"
	"# `next` when more may follow (call again with after: next).\n"
	"method List(after: ?string) -> (entries: []Entry, next: ?string)\n"
	"\n"
	"# Counts of pairs in the configured range.\n"
	"method Status() -> (total: int, used: int, free: int, quarantined: "
	"int)\n"
	"\n"
	"# No free pair is left in the range.\n"
	"error Exhausted (message: string)\n"
	"\n"
	"# The level is not a valid, allocatable two-category level of the "
	"range.\n"
	"error InvalidLevel (level: ?string, message: string)\n"
	"\n"
	"# Another owner or group holds the level, or owner already holds a\n"
	"# different level or group.\n"
	"error LevelInUse (owner: ?string, level: ?string, message: string)\n"
	"\n"
	"# The owner holds nothing.\n"
	"error NotFound (owner: ?string)\n"
	"\n"
	"# The caller may not do this (allocate: root or the configured "
	"group;\n"
	"# release/lookup: the owner's uid or root).\n"
	"error PermissionDenied (message: string)\n"
	"\n"
	"# The registry could not make the change durable; nothing was "
	"changed.\n"
	"error StorageError (message: string)\n";

/* An entry as the protocol reports it (decoupled from registry rows). */
struct entry {
	char owner[PROTOCOL_OWNER_MAX + 1];
	char group[PROTOCOL_OWNER_MAX + 1]; /* "" none */
	char level[32];
	bool persistent;
	uid_t uid;
	pid_t pid; /* 0 none */
};

/* Decoded Allocate parameters (pointers into the call object). */
struct alloc_args {
	const char *owner;
	const char *group; /* NULL none */
	const char *level; /* NULL: pick one; else canonical form */
	const char *type;
	pid_t pid;
	bool persistent;
	char level_buf[32];
};

struct counts {
	uint64_t total, used, free, quarantined;
};

/* ---- registry glue (the only part that knows registry.h) --------------- */

struct protocol {
	mcs_registry *reg;
};

static void entry_from_row(const mcs_registry_entry *row, struct entry *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->owner, sizeof(e->owner), "%s", row->owner);
	snprintf(e->group, sizeof(e->group), "%s", row->group);
	snprintf(e->level, sizeof(e->level), "%s", row->level);
	e->persistent = row->kind == MCS_REGISTRY_RESERVATION;
	e->uid = row->uid;
	e->pid = row->pid;
}

int protocol_new(const char *db_path, const char *range, protocol **ret,
		 mcs_error *err)
{
	mcs_registry_config cfg = {0};
	int r = mcs_cat_range_parse(range, &cfg.range, err);
	if (r < 0)
		return mcs_error_prefix(err, "range '%s': ", range);
	protocol *p = calloc(1, sizeof(*p));
	if (!p)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	r = mcs_registry_open(db_path, &cfg, &p->reg, err);
	if (r < 0) {
		free(p);
		return r; /* err already names the registry */
	}
	size_t released = 0;
	r = mcs_registry_reconcile(p->reg, &released, err);
	if (r < 0) {
		protocol_free(p);
		return mcs_error_prefix(err,
					"registry %s: reconcile: ", db_path);
	}
	if (released)
		log_msg(MCS_LOG_NOTICE,
			"released %zu stale lease(s) of dead processes or an "
			"earlier boot",
			released);
	*ret = p;
	return 0;
}

void protocol_free(protocol *p)
{
	if (!p)
		return;
	mcs_registry_close(p->reg);
	free(p);
}

int protocol_begin(protocol *p, mcs_error *err)
{
	return mcs_registry_begin(p->reg, err);
}

int protocol_commit(protocol *p, mcs_error *err)
{
	return mcs_registry_commit(p->reg, err);
}

int protocol_commit_nowait(protocol *p, mcs_error *err)
{
	return mcs_registry_commit_nowait(p->reg, err);
}

int protocol_sync(protocol *p, mcs_error *err)
{
	return mcs_registry_sync(p->reg, err);
}

int protocol_checkpoint_elsewhere(protocol *p, mcs_error *err)
{
	return mcs_registry_checkpoint_elsewhere(p->reg, err);
}

bool protocol_checkpoint_due(protocol *p)
{
	return mcs_registry_checkpoint_due(p->reg);
}

int protocol_checkpoint(protocol *p, mcs_error *err)
{
	return mcs_registry_checkpoint(p->reg, err);
}

static int reg_lookup(protocol *p, const char *owner, struct entry *ret)
{
	mcs_registry_entry row;
	int r = mcs_registry_lookup(p->reg, owner, &row, NULL);
	if (r < 0)
		return r;
	entry_from_row(&row, ret);
	return 0;
}

static int reg_allocate(protocol *p, const struct alloc_args *a, uid_t uid,
			struct entry *ret, char *msg, size_t msgsize)
{
	mcs_registry_request req = {
		.owner = a->owner,
		.group = a->group,
		.level = a->level,
		.type = a->type,
		.kind = a->persistent ? MCS_REGISTRY_RESERVATION
				      : MCS_REGISTRY_LEASE,
		.pid = a->pid,
		.uid = uid,
	};
	mcs_registry_entry row;
	mcs_error err = {0};
	int r = mcs_registry_allocate(p->reg, &req, &row, &err);
	if (r < 0) {
		snprintf(msg, msgsize, "%s", err.msg);
		return r;
	}
	entry_from_row(&row, ret);
	return 0;
}

static int reg_release(protocol *p, const char *owner, uid_t uid, char *msg,
		       size_t msgsize)
{
	mcs_error err = {0};
	int r = mcs_registry_release(p->reg, owner, uid, &err);
	if (r < 0)
		snprintf(msg, msgsize, "%s", err.msg);
	return r;
}

static int reg_status(protocol *p, struct counts *ret)
{
	mcs_registry_counts c;
	int r = mcs_registry_status(p->reg, &c);
	if (r < 0)
		return r;
	ret->total = c.total;
	ret->used = c.used;
	ret->free = c.free;
	ret->quarantined = c.quarantined;
	return 0;
}

int protocol_lease_ended(protocol *p, const char *owner, pid_t pid)
{
	mcs_registry_entry row;
	int r = mcs_registry_lookup(p->reg, owner, &row, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* Released and allocated again meanwhile: not this lease any more. */
	if (row.kind != MCS_REGISTRY_LEASE || row.pid != pid)
		return 0;
	r = mcs_registry_release(p->reg, owner, 0, NULL);
	return r < 0 ? r : 1;
}

/* Rows read per page when walking the whole registry. */
#define WALK_PAGE 256

static int leases_drop(protocol_lease *v, size_t n, int r)
{
	for (size_t i = 0; i < n; i++)
		close(v[i].pidfd);
	return r;
}

int protocol_watch_existing(protocol *p, protocol_lease **ret, size_t *ret_n)
{
	_cleanup_free_ mcs_registry_entry *rows =
		calloc(WALK_PAGE, sizeof(*rows));
	_cleanup_free_ protocol_lease *v = NULL;
	char after[sizeof(rows->owner)] = "";
	size_t n, k = 0, cap = 0;

	if (!rows)
		return -ENOMEM;
	/* a page at a time: a full registry's rows take 300 MB at once,
	 * its leases with a pid far fewer */
	do {
		int r = mcs_registry_list_page(p->reg, after, rows, WALK_PAGE,
					       &n, NULL);
		if (r < 0)
			return leases_drop(v, k, r);
		for (size_t i = 0; i < n; i++) {
			if (rows[i].kind != MCS_REGISTRY_LEASE ||
			    rows[i].pid <= 0)
				continue;
			if (k == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				protocol_lease *nv =
					reallocarray(v, ncap, sizeof(*v));
				if (!nv)
					return leases_drop(v, k, -ENOMEM);
				v = nv;
				cap = ncap;
			}
			int fd =
				proc_pidfd_open(rows[i].pid, rows[i].pid_start);
			if (fd < 0)
				continue; /* gone since reconcile */
			v[k].pidfd = fd;
			v[k].pid = rows[i].pid;
			snprintf(v[k].owner, sizeof(v[k].owner), "%s",
				 rows[i].owner);
			k++;
		}
		if (n)
			snprintf(after, sizeof(after), "%s", rows[n - 1].owner);
	} while (n == WALK_PAGE);
	*ret = k ? TAKE_PTR(v) : calloc(1, sizeof(**ret));
	*ret_n = k;
	return *ret ? 0 : -ENOMEM;
}

/* Map a registry failure onto the varlink error a client sees. */
static struct json_object *registry_error(int r, const char *owner,
					  const char *level, const char *msg)
{
	struct json_object *ep = json_object_new_object();
	if (!ep)
		return NULL;
	const char *name;
	switch (r) {
	case -ENOSPC:
		name = ERR_PREFIX "Exhausted";
		break;
	case -EEXIST:
	case -EBUSY:
		name = ERR_PREFIX "LevelInUse";
		break;
	case -EINVAL:
	case -ERANGE:
		name = ERR_PREFIX "InvalidLevel";
		break;
	case -ENOENT:
		name = ERR_PREFIX "NotFound";
		break;
	case -EPERM:
	case -EACCES:
		name = ERR_PREFIX "PermissionDenied";
		break;
	default:
		name = ERR_PREFIX "StorageError";
		break;
	}
	if (owner && (r == -ENOENT || r == -EEXIST || r == -EBUSY))
		json_object_object_add(ep, "owner",
				       json_object_new_string(owner));
	if (level && (r == -EEXIST || r == -EBUSY || r == -EINVAL))
		json_object_object_add(ep, "level",
				       json_object_new_string(level));
	if (msg && *msg)
		json_object_object_add(ep, "message",
				       json_object_new_string(msg));
	else if (r != -ENOENT)
		json_object_object_add(ep, "message",
				       json_object_new_string(strerror(-r)));
	return varlink_error_new(name, ep);
}

/* ---- replies ------------------------------------------------------------ */

struct json_object *protocol_error(const char *name, const char *key,
				   const char *value)
{
	struct json_object *params = NULL;
	if (key) {
		params = json_object_new_object();
		if (!params)
			return NULL;
		json_object_object_add(params, key,
				       json_object_new_string(value));
	}
	return varlink_error_new(name, params);
}

static struct json_object *invalid_parameter(const char *name)
{
	return protocol_error("org.varlink.service.InvalidParameter",
			      "parameter", name);
}

static struct json_object *denied(const char *why)
{
	return protocol_error(ERR_PREFIX "PermissionDenied", "message", why);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *entry_json(const struct entry *e)
{
	char label[128];
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add_str(o, "owner", e->owner);
	if (e->group[0])
		add_str(o, "group", e->group);
	add_str(o, "level", e->level);
	json_object_object_add(o, "persistent",
			       json_object_new_boolean(e->persistent));
	json_object_object_add(o, "uid", json_object_new_int64(e->uid));
	if (e->pid > 0)
		json_object_object_add(o, "pid", json_object_new_int64(e->pid));
	snprintf(label, sizeof(label), MOUNT_PREFIX "%s", e->level);
	add_str(o, "mount_label", label);
	return o;
}

/* ---- validation --------------------------------------------------------- */

/* Owner and group names: 1..255 of [A-Za-z0-9_.:@-], not starting with
 * '-' or '.'. */
static bool valid_owner(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PROTOCOL_OWNER_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == ':' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* An SELinux type name as policy languages allow it: a letter, then
 * letters, digits, '_', '.' or '-' (1..255). */
static bool valid_type(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MCS_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/*
 * Check params against the allowed keys and types.  keys: "name:t" with t
 * s (string), i (int), b (bool); an uppercase t marks it required.
 * Returns NULL or the name of the first bad parameter.
 */
static const char *check_params(struct json_object *params,
				const char *const *keys, size_t nkeys)
{
	static char bad[64];

	if (params && !json_object_is_type(params, json_type_object))
		return "parameters";
	if (params) {
		json_object_object_foreach(params, k, v)
		{
			size_t i;
			for (i = 0; i < nkeys; i++) {
				size_t kl = strlen(keys[i]) - 2;
				if (strlen(k) == kl &&
				    strncmp(keys[i], k, kl) == 0)
					break;
			}
			if (i == nkeys) {
				snprintf(bad, sizeof(bad), "%.60s", k);
				return bad;
			}
			enum json_type want;
			switch (keys[i][strlen(keys[i]) - 1] | 0x20) {
			case 's':
				want = json_type_string;
				break;
			case 'i':
				want = json_type_int;
				break;
			default:
				want = json_type_boolean;
				break;
			}
			if (!json_object_is_type(v, want)) {
				snprintf(bad, sizeof(bad), "%.60s", k);
				return bad;
			}
		}
	}
	for (size_t i = 0; i < nkeys; i++) {
		char t = keys[i][strlen(keys[i]) - 1];
		if (t >= 'A' && t <= 'Z') {
			size_t kl = strlen(keys[i]) - 2;
			snprintf(bad, sizeof(bad), "%.*s", (int)kl, keys[i]);
			if (!params ||
			    !json_object_object_get_ex(params, bad, NULL))
				return bad;
		}
	}
	return NULL;
}

static const char *opt_str(struct json_object *params, const char *k)
{
	struct json_object *v;
	if (!params || !json_object_object_get_ex(params, k, &v))
		return NULL;
	return json_object_get_string(v);
}

/* ---- methods ------------------------------------------------------------ */

static struct json_object *do_allocate(protocol *p, const protocol_peer *peer,
				       struct json_object *params,
				       int *ret_pidfd)
{
	static const char *const keys[] = {"owner:S", "group:s",
					   "level:s", "type:s",
					   "pid:i",   "persistent:b"};
	const char *bad = check_params(params, keys, ELEMENTSOF(keys));
	if (bad)
		return invalid_parameter(bad);

	struct alloc_args a = {0};
	struct json_object *v;
	a.owner = opt_str(params, "owner");
	a.group = opt_str(params, "group");
	a.type = opt_str(params, "type");
	if (!a.type)
		a.type = DEFAULT_TYPE;
	if (!valid_owner(a.owner))
		return invalid_parameter("owner");
	if (a.group && !valid_owner(a.group))
		return invalid_parameter("group");
	if (!valid_type(a.type))
		return invalid_parameter("type");
	if (json_object_object_get_ex(params, "pid", &v)) {
		int64_t pid = json_object_get_int64(v);
		if (pid <= 0 || pid > PID_LIMIT)
			return invalid_parameter("pid");
		a.pid = (pid_t)pid;
	}
	if (json_object_object_get_ex(params, "persistent", &v))
		a.persistent = json_object_get_boolean(v);
	if (a.persistent && a.pid)
		return invalid_parameter("pid");

	const char *level = opt_str(params, "level");
	if (level) {
		mcs_error lerr = {0};
		mcs_level l;
		unsigned x, y;
		int r = mcs_level_parse(level, &l, &lerr);
		if (r >= 0)
			r = mcs_pair_from_level(&l, &x, &y, &lerr);
		if (r < 0) {
			struct json_object *ep = json_object_new_object();
			add_str(ep, "level", level);
			add_str(ep, "message", lerr.msg);
			return varlink_error_new(ERR_PREFIX "InvalidLevel", ep);
		}
		mcs_level_format(&l, a.level_buf, sizeof(a.level_buf));
		a.level = a.level_buf;
	}

	if (peer->denied || !peer->may_allocate)
		return denied("only root and the configured group may "
			      "allocate");

	/* Bind the lease to the process now, so a pid that is already gone
	 * is refused instead of leaking a lease. */
	_cleanup_close_ int pidfd = -1;
	if (a.pid) {
		pidfd = proc_pidfd_open(a.pid, 0);
		if (pidfd < 0)
			return invalid_parameter("pid");
	}

	/* Idempotent per owner; another uid's owner is not ours to see
	 * (the registry checks, in the same lookup). */
	struct entry e;
	char msg[MCS_ERROR_MSG_MAX] = "";
	int r = reg_allocate(p, &a, peer->uid, &e, msg, sizeof(msg));
	if (r == -ESRCH) /* the pid exited meanwhile */
		return invalid_parameter("pid");
	if (r == -EPERM)
		return denied("owner belongs to another uid");
	if (r < 0)
		return registry_error(r, a.owner, a.level, msg);

	struct json_object *o = json_object_new_object();
	char label[MCS_NAME_MAX + 64];
	add_str(o, "owner", e.owner);
	if (e.group[0])
		add_str(o, "group", e.group);
	add_str(o, "level", e.level);
	snprintf(label, sizeof(label), PROCESS_PREFIX "%s:%s", a.type, e.level);
	add_str(o, "process_label", label);
	snprintf(label, sizeof(label), MOUNT_PREFIX "%s", e.level);
	add_str(o, "mount_label", label);
	json_object_object_add(o, "persistent",
			       json_object_new_boolean(e.persistent));
	/* Watch only a lease really bound to this pid. */
	if (pidfd >= 0 && e.pid == a.pid && !e.persistent)
		*ret_pidfd = TAKE_FD(pidfd);
	return varlink_reply_new(o);
}

/* Release and Lookup: the owner's uid or root. */
static struct json_object *do_owner_call(protocol *p, const protocol_peer *peer,
					 struct json_object *params,
					 bool release)
{
	static const char *const keys[] = {"owner:S"};
	const char *bad = check_params(params, keys, ELEMENTSOF(keys));
	if (bad)
		return invalid_parameter(bad);
	const char *owner = opt_str(params, "owner");
	if (!valid_owner(owner))
		return invalid_parameter("owner");
	if (peer->denied)
		return denied("refused by the SELinux policy");

	struct entry e;
	int r = reg_lookup(p, owner, &e);
	if (r < 0)
		return registry_error(r, owner, NULL, NULL);
	if (peer->uid != 0 && e.uid != peer->uid)
		return denied("owner belongs to another uid");
	if (!release)
		return varlink_reply_new(entry_json(&e));

	char msg[MCS_ERROR_MSG_MAX] = "";
	r = reg_release(p, owner, peer->uid, msg, sizeof(msg));
	if (r < 0)
		return registry_error(r, owner, NULL, msg);
	return varlink_reply_new(NULL);
}

/* Rows per List reply: 64 entries of the longest owner and group names
 * serialise to under 45 KiB, below VARLINK_MSG_MAX (test_protocol checks
 * it), and the registry thread reads no more than that per call. */
#define LIST_PAGE 64

static struct json_object *do_list(protocol *p, const protocol_peer *peer,
				   struct json_object *params)
{
	static const char *const keys[] = {"after:s"};
	const char *bad = check_params(params, keys, ELEMENTSOF(keys));
	if (bad)
		return invalid_parameter(bad);
	const char *after = opt_str(params, "after");
	if (after && !valid_owner(after))
		return invalid_parameter("after");
	if (peer->denied)
		return denied("refused by the SELinux policy");
	_cleanup_free_ mcs_registry_entry *rows =
		calloc(LIST_PAGE, sizeof(*rows));
	size_t n = 0;
	int r = rows ? mcs_registry_list_page(p->reg, after, rows, LIST_PAGE,
					      &n, NULL)
		     : -ENOMEM;
	if (r < 0)
		return registry_error(r, NULL, NULL, NULL);
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct entry e;
		entry_from_row(&rows[i], &e);
		/* others' rows are skipped, yet they end the page: a page
		 * costs the same for everyone */
		if (peer->uid == 0 || e.uid == peer->uid)
			json_object_array_add(arr, entry_json(&e));
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "entries", arr);
	if (n == LIST_PAGE)
		add_str(o, "next", rows[n - 1].owner);
	return varlink_reply_new(o);
}

static struct json_object *do_status(protocol *p, const protocol_peer *peer,
				     struct json_object *params)
{
	const char *bad = check_params(params, NULL, 0);
	if (bad)
		return invalid_parameter(bad);
	if (peer->denied)
		return denied("refused by the SELinux policy");
	struct counts c;
	int r = reg_status(p, &c);
	if (r < 0)
		return registry_error(r, NULL, NULL, NULL);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "total",
			       json_object_new_int64((int64_t)c.total));
	json_object_object_add(o, "used",
			       json_object_new_int64((int64_t)c.used));
	json_object_object_add(o, "free",
			       json_object_new_int64((int64_t)c.free));
	json_object_object_add(o, "quarantined",
			       json_object_new_int64((int64_t)c.quarantined));
	return varlink_reply_new(o);
}

static struct json_object *do_service(const char *method,
				      struct json_object *params)
{
	if (strcmp(method, "GetInfo") == 0) {
		if (check_params(params, NULL, 0))
			return invalid_parameter("parameters");
		struct json_object *o = json_object_new_object();
		add_str(o, "vendor", "mcskit");
		add_str(o, "product", "mcsd");
		add_str(o, "version", "0.1");
		add_str(o, "url", "https://github.com/mcskit/mcskit");
		struct json_object *ifs = json_object_new_array();
		json_object_array_add(
			ifs, json_object_new_string("org.varlink.service"));
		json_object_array_add(
			ifs, json_object_new_string(PROTOCOL_INTERFACE));
		json_object_object_add(o, "interfaces", ifs);
		return varlink_reply_new(o);
	}
	if (strcmp(method, "GetInterfaceDescription") == 0) {
		static const char *const keys[] = {"interface:S"};
		const char *bad = check_params(params, keys, 1);
		if (bad)
			return invalid_parameter(bad);
		const char *name = opt_str(params, "interface");
		if (strcmp(name, PROTOCOL_INTERFACE) != 0)
			return protocol_error(
				"org.varlink.service.InterfaceNotFound",
				"interface", name);
		struct json_object *o = json_object_new_object();
		add_str(o, "description", interface_description);
		return varlink_reply_new(o);
	}
	return protocol_error("org.varlink.service.MethodNotFound", "method",
			      method);
}

int protocol_handle(protocol *p, const protocol_peer *peer,
		    struct json_object *call, struct json_object **ret_reply,
		    int *ret_pidfd)
{
	struct json_object *m = NULL, *params = NULL, *v;
	struct json_object *reply;

	*ret_pidfd = -1;
	*ret_reply = NULL;
	/* oneway: no reply at all, not even an error */
	bool oneway = json_object_object_get_ex(call, "oneway", &v) &&
		      json_object_is_type(v, json_type_boolean) &&
		      json_object_get_boolean(v);
	if (!json_object_object_get_ex(call, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		if (oneway)
			return 0;
		*ret_reply = invalid_parameter("method");
		return *ret_reply ? 0 : -ENOMEM;
	}
	json_object_object_get_ex(call, "parameters", &params);

	const char *full = json_object_get_string(m);
	const char *dot = strrchr(full, '.');
	size_t iflen = dot ? (size_t)(dot - full) : 0;
	const char *method = dot ? dot + 1 : full;

	if (iflen == strlen(PROTOCOL_INTERFACE) &&
	    strncmp(full, PROTOCOL_INTERFACE, iflen) == 0) {
		if (strcmp(method, "Allocate") == 0)
			reply = do_allocate(p, peer, params, ret_pidfd);
		else if (strcmp(method, "Release") == 0)
			reply = do_owner_call(p, peer, params, true);
		else if (strcmp(method, "Lookup") == 0)
			reply = do_owner_call(p, peer, params, false);
		else if (strcmp(method, "List") == 0)
			reply = do_list(p, peer, params);
		else if (strcmp(method, "Status") == 0)
			reply = do_status(p, peer, params);
		else
			reply = protocol_error(
				"org.varlink.service.MethodNotFound", "method",
				full);
	} else if (iflen == strlen("org.varlink.service") &&
		   strncmp(full, "org.varlink.service", iflen) == 0) {
		reply = do_service(method, params);
	} else {
		char ifname[256];
		snprintf(ifname, sizeof(ifname), "%.*s",
			 (int)(iflen < 255 ? iflen : 255), full);
		reply = protocol_error("org.varlink.service.InterfaceNotFound",
				       "interface", ifname);
	}
	if (!reply)
		return -ENOMEM;
	if (oneway) {
		json_object_put(reply);
		return 0;
	}
	*ret_reply = reply;
	return 0;
}
