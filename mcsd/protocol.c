/* SPDX-License-Identifier: MIT */
/*
 * protocol.c - the io.mcskit.Labels varlink interface: a table of methods,
 * each decoding and validating its parameters once into struct args
 * (types, owner and type names, levels via the label core) and then
 * running on the registry: authorisation from the caller's credentials,
 * the registry's result mapped onto a reply or a varlink error, and what
 * the pipeline needs besides (a lease's pidfd, pid and owner).  Also
 * answers org.varlink.service (GetInfo, GetInterfaceDescription).  A
 * rejected call changes nothing.  It neither opens the registry nor owns
 * its transactions (server.c does), has no sockets and no SQL.  Every
 * json-c allocation is checked: out of memory is -ENOMEM, never a reply
 * with a member missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mcs/label.h>
#include <mcs/names.h>

#include "protocol.h"

#include "log.h"
#include "proc.h"
#include "registry.h"
#include "util.h"
#include "varlink.h"
#include "varlink_error.h"

#define SERVICE	       "org.varlink.service"
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

/* A call's parameters, decoded once (strings point into the call). */
struct args {
	const char *owner;
	const char *group; /* NULL none */
	const char *level; /* NULL: pick one; else canonical, in level_buf */
	const char *type;
	const char *after;     /* List */
	const char *interface; /* GetInterfaceDescription */
	pid_t pid;	       /* 0 none */
	bool persistent;
	char level_buf[32];
};

/* ---- building replies (every allocation checked) ------------------------ */

/* Add k: v to o (v taken, also on failure); false when out of memory. */
static bool add(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v)
		return false;
	if (json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static bool add_str(struct json_object *o, const char *k, const char *v)
{
	return add(o, k, json_object_new_string(v));
}

static bool add_int(struct json_object *o, const char *k, int64_t v)
{
	return add(o, k, json_object_new_int64(v));
}

static bool add_bool(struct json_object *o, const char *k, bool v)
{
	return add(o, k, json_object_new_boolean(v));
}

/* o when ok, else NULL with o freed. */
static struct json_object *done(struct json_object *o, bool ok)
{
	if (ok)
		return o;
	json_object_put(o);
	return NULL;
}

/* A reply of params (taken); NULL when either is missing. */
static struct json_object *reply_of(struct json_object *params)
{
	return params ? varlink_reply_new(params) : NULL;
}

/* An error of params (taken); NULL when either is missing. */
static struct json_object *error_of(const char *name,
				    struct json_object *params)
{
	return params ? varlink_error_new(name, params) : NULL;
}

struct json_object *protocol_error(const char *name, const char *key,
				   const char *value)
{
	struct json_object *params;

	if (!key)
		return varlink_error_new(name, NULL);
	params = json_object_new_object();
	if (!params || !add_str(params, key, value)) {
		json_object_put(params);
		return NULL;
	}
	return varlink_error_new(name, params);
}

static struct json_object *invalid_parameter(const char *name)
{
	return protocol_error(VARLINK_ERROR_INVALID_PARAMETER, "parameter",
			      name);
}

static struct json_object *denied(const char *why)
{
	return protocol_error(VARLINK_ERROR_PERMISSION_DENIED, "message", why);
}

/* Map a registry failure onto the varlink error a client sees (the table
 * of varlink_error.c, which the client decodes with). */
static struct json_object *registry_error(int r, const char *owner,
					  const char *level, const char *msg)
{
	struct json_object *ep = json_object_new_object();
	bool ok = ep != NULL;

	if (!ep)
		return NULL;
	if (owner && (r == -ENOENT || r == -EEXIST))
		ok = ok && add_str(ep, "owner", owner);
	if (level && (r == -EEXIST || r == -EINVAL))
		ok = ok && add_str(ep, "level", level);
	if (msg && *msg)
		ok = ok && add_str(ep, "message", msg);
	else if (r != -ENOENT)
		ok = ok && add_str(ep, "message", strerror(-r));
	return error_of(varlink_error_name(r), done(ep, ok));
}

static struct json_object *entry_json(const mcsd_registry_entry *e)
{
	char label[128];
	struct json_object *o = json_object_new_object();
	bool ok;

	if (!o)
		return NULL;
	snprintf(label, sizeof(label), MOUNT_PREFIX "%s", e->level);
	ok = add_str(o, "owner", e->owner) &&
	     (!e->group[0] || add_str(o, "group", e->group)) &&
	     add_str(o, "level", e->level) &&
	     add_bool(o, "persistent", e->kind == MCSD_REGISTRY_RESERVATION) &&
	     add_int(o, "uid", e->uid) &&
	     (e->pid <= 0 || add_int(o, "pid", e->pid)) &&
	     add_str(o, "mount_label", label);
	return done(o, ok);
}

/* ---- validation --------------------------------------------------------- */

static bool valid_owner(const char *s)
{
	return mcs_name_check(MCS_NAME_OWNER, s, NULL) == 0;
}

static bool valid_group(const char *s)
{
	return mcs_name_check(MCS_NAME_GROUP, s, NULL) == 0;
}

static bool valid_type(const char *s)
{
	return mcs_name_check(MCS_NAME_TYPE, s, NULL) == 0;
}

/*
 * Check params against the allowed keys and types.  keys: "name:t" with t
 * s (string), i (int), b (bool); an uppercase t marks it required.
 * Returns NULL or the name of the first bad parameter (in bad).
 */
static const char *check_params(struct json_object *params,
				const char *const *keys, size_t nkeys,
				char bad[64])
{
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
				snprintf(bad, 64, "%.60s", k);
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
				snprintf(bad, 64, "%.60s", k);
				return bad;
			}
		}
	}
	for (size_t i = 0; i < nkeys; i++) {
		char t = keys[i][strlen(keys[i]) - 1];
		if (t >= 'A' && t <= 'Z') {
			size_t kl = strlen(keys[i]) - 2;
			snprintf(bad, 64, "%.*s", (int)kl, keys[i]);
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

/* ---- decoding ------------------------------------------------------------ */

/*
 * A decoder fills *a from params.  Returns 0 when they are valid, else 1
 * with *ret_reply the error to answer (NULL: out of memory).
 */
typedef int decode_fn(struct json_object *params, struct args *a,
		      struct json_object **ret_reply);

/* The keys of params, or InvalidParameter naming the first bad one. */
static int decode_keys(struct json_object *params, const char *const *keys,
		       size_t nkeys, struct json_object **ret_reply)
{
	char buf[64];
	const char *bad = check_params(params, keys, nkeys, buf);

	if (!bad)
		return 0;
	*ret_reply = invalid_parameter(bad);
	return 1;
}

static int reject(const char *param, struct json_object **ret_reply)
{
	*ret_reply = invalid_parameter(param);
	return 1;
}

static int decode_allocate(struct json_object *params, struct args *a,
			   struct json_object **ret_reply)
{
	static const char *const keys[] = {"owner:S", "group:s",
					   "level:s", "type:s",
					   "pid:i",   "persistent:b"};
	struct json_object *v;

	if (decode_keys(params, keys, ELEMENTSOF(keys), ret_reply))
		return 1;
	a->owner = opt_str(params, "owner");
	a->group = opt_str(params, "group");
	a->type = opt_str(params, "type");
	if (!a->type)
		a->type = DEFAULT_TYPE;
	if (!valid_owner(a->owner))
		return reject("owner", ret_reply);
	if (a->group && !valid_group(a->group))
		return reject("group", ret_reply);
	if (!valid_type(a->type))
		return reject("type", ret_reply);
	if (json_object_object_get_ex(params, "pid", &v)) {
		int64_t pid = json_object_get_int64(v);
		if (pid <= 0 || pid > PID_LIMIT)
			return reject("pid", ret_reply);
		a->pid = (pid_t)pid;
	}
	if (json_object_object_get_ex(params, "persistent", &v))
		a->persistent = json_object_get_boolean(v);
	if (a->persistent && a->pid)
		return reject("pid", ret_reply);

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
			bool ok = ep && add_str(ep, "level", level) &&
				  add_str(ep, "message", lerr.msg);
			*ret_reply = error_of(VARLINK_ERROR_INVALID_LEVEL,
					      done(ep, ok));
			return 1;
		}
		mcs_level_format(&l, a->level_buf, sizeof(a->level_buf));
		a->level = a->level_buf;
	}
	return 0;
}

/* Release and Lookup. */
static int decode_owner(struct json_object *params, struct args *a,
			struct json_object **ret_reply)
{
	static const char *const keys[] = {"owner:S"};

	if (decode_keys(params, keys, ELEMENTSOF(keys), ret_reply))
		return 1;
	a->owner = opt_str(params, "owner");
	if (!valid_owner(a->owner))
		return reject("owner", ret_reply);
	return 0;
}

static int decode_list(struct json_object *params, struct args *a,
		       struct json_object **ret_reply)
{
	static const char *const keys[] = {"after:s"};

	if (decode_keys(params, keys, ELEMENTSOF(keys), ret_reply))
		return 1;
	a->after = opt_str(params, "after");
	if (a->after && !valid_owner(a->after))
		return reject("after", ret_reply);
	return 0;
}

static int decode_none(struct json_object *params, struct args *a,
		       struct json_object **ret_reply)
{
	return decode_keys(params, NULL, 0, ret_reply);
}

/* org.varlink.service.GetInfo names no parameter when refusing one. */
static int decode_service_none(struct json_object *params, struct args *a,
			       struct json_object **ret_reply)
{
	char buf[64];

	if (!check_params(params, NULL, 0, buf))
		return 0;
	return reject("parameters", ret_reply);
}

static int decode_interface(struct json_object *params, struct args *a,
			    struct json_object **ret_reply)
{
	static const char *const keys[] = {"interface:S"};

	if (decode_keys(params, keys, ELEMENTSOF(keys), ret_reply))
		return 1;
	a->interface = opt_str(params, "interface");
	return 0;
}

/* ---- methods ------------------------------------------------------------ */

/* A method runs on decoded arguments and returns its reply (NULL: out of
 * memory); a lease to watch goes into *res. */
typedef struct json_object *run_fn(mcsd_registry *reg,
				   const protocol_peer *peer,
				   const struct args *a, protocol_result *res);

static struct json_object *run_allocate(mcsd_registry *reg,
					const protocol_peer *peer,
					const struct args *a,
					protocol_result *res)
{
	if (peer->denied || !peer->may_allocate)
		return denied("only root and the configured group may "
			      "allocate");

	/* Bind the lease to the process now, so a pid that is already gone
	 * is refused instead of leaking a lease. */
	_cleanup_close_ int pidfd = -1;
	if (a->pid) {
		pidfd = proc_pidfd_open(a->pid, 0);
		if (pidfd < 0)
			return invalid_parameter("pid");
		/* only root binds a lease to another user's process (pid 1
		 * included): its exit would end the lease */
		uid_t puid;
		if (proc_pidfd_uid(pidfd, a->pid, &puid) < 0)
			return invalid_parameter("pid");
		if (peer->uid != 0 && puid != peer->uid)
			return denied("pid belongs to another uid");
	}

	/* Idempotent per owner; another uid's owner is not ours to see
	 * (the registry checks, in the same lookup). */
	mcsd_registry_request req = {
		.owner = a->owner,
		.group = a->group,
		.level = a->level,
		.type = a->type,
		.kind = a->persistent ? MCSD_REGISTRY_RESERVATION
				      : MCSD_REGISTRY_LEASE,
		.pid = a->pid,
		.uid = peer->uid,
	};
	mcsd_registry_entry e;
	mcs_error err = {0};
	int r = mcsd_registry_allocate(reg, &req, &e, &err);
	if (r == -ESRCH) /* the pid exited meanwhile */
		return invalid_parameter("pid");
	if (r == -EPERM) /* the registry's message names no other uid */
		return denied(err.msg);
	if (r < 0)
		return registry_error(r, a->owner, a->level, err.msg);

	struct json_object *o = json_object_new_object();
	char plabel[MCS_NAME_MAX + 64], mlabel[128];
	bool persistent = e.kind == MCSD_REGISTRY_RESERVATION;
	bool ok = o != NULL;

	snprintf(plabel, sizeof(plabel), PROCESS_PREFIX "%s:%s", a->type,
		 e.level);
	snprintf(mlabel, sizeof(mlabel), MOUNT_PREFIX "%s", e.level);
	ok = ok && add_str(o, "owner", e.owner) &&
	     (!e.group[0] || add_str(o, "group", e.group)) &&
	     add_str(o, "level", e.level) &&
	     add_str(o, "process_label", plabel) &&
	     add_str(o, "mount_label", mlabel) &&
	     add_bool(o, "persistent", persistent);
	/* Watch only a lease really bound to this pid. */
	if (ok && pidfd >= 0 && e.pid == a->pid && !persistent) {
		res->pidfd = TAKE_FD(pidfd);
		res->pid = a->pid;
		snprintf(res->owner, sizeof(res->owner), "%s", a->owner);
	}
	return reply_of(done(o, ok));
}

/* Release and Lookup: the owner's uid or root.  The entry into *e. */
static struct json_object *owner_check(mcsd_registry *reg,
				       const protocol_peer *peer,
				       const char *owner,
				       mcsd_registry_entry *e)
{
	if (peer->denied)
		return denied("refused by the SELinux policy");
	int r = mcsd_registry_lookup(reg, owner, e, NULL);
	if (r < 0)
		return registry_error(r, owner, NULL, NULL);
	if (peer->uid != 0 && e->uid != peer->uid)
		return denied("owner belongs to another uid");
	return NULL;
}

static struct json_object *run_lookup(mcsd_registry *reg,
				      const protocol_peer *peer,
				      const struct args *a,
				      protocol_result *res)
{
	mcsd_registry_entry e;
	struct json_object *refused = owner_check(reg, peer, a->owner, &e);

	if (refused)
		return refused;
	return reply_of(entry_json(&e));
}

static struct json_object *run_release(mcsd_registry *reg,
				       const protocol_peer *peer,
				       const struct args *a,
				       protocol_result *res)
{
	mcsd_registry_entry e;
	struct json_object *refused = owner_check(reg, peer, a->owner, &e);
	mcs_error err = {0};
	int r;

	if (refused)
		return refused;
	r = mcsd_registry_release(reg, a->owner, peer->uid, &err);
	if (r < 0)
		return registry_error(r, a->owner, NULL, err.msg);
	return varlink_reply_new(NULL);
}

/* Rows per List reply: 64 entries of the longest owner and group names
 * serialise to under 45 KiB, below VARLINK_MSG_MAX (test_protocol checks
 * it), and the registry thread reads no more than that per call. */
#define LIST_PAGE 64

static struct json_object *run_list(mcsd_registry *reg,
				    const protocol_peer *peer,
				    const struct args *a, protocol_result *res)
{
	if (peer->denied)
		return denied("refused by the SELinux policy");
	_cleanup_free_ mcsd_registry_entry *rows =
		calloc(LIST_PAGE, sizeof(*rows));
	size_t n = 0;
	int r = rows ? mcsd_registry_list_page(reg, a->after, rows, LIST_PAGE,
					       &n, NULL)
		     : -ENOMEM;
	if (r == -ENOMEM)
		return NULL;
	if (r < 0)
		return registry_error(r, NULL, NULL, NULL);
	struct json_object *arr = json_object_new_array();
	bool ok = arr != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		/* others' rows are skipped, yet they end the page: a page
		 * costs the same for everyone */
		if (peer->uid != 0 && rows[i].uid != peer->uid)
			continue;
		struct json_object *e = entry_json(&rows[i]);
		if (!e || json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			ok = false;
		}
	}
	struct json_object *o = ok ? json_object_new_object() : NULL;
	if (!o) {
		json_object_put(arr);
		return NULL;
	}
	ok = add(o, "entries", arr) &&
	     (n != LIST_PAGE || add_str(o, "next", rows[n - 1].owner));
	return reply_of(done(o, ok));
}

static struct json_object *run_status(mcsd_registry *reg,
				      const protocol_peer *peer,
				      const struct args *a,
				      protocol_result *res)
{
	if (peer->denied)
		return denied("refused by the SELinux policy");
	mcsd_registry_counts c;
	int r = mcsd_registry_status(reg, &c);
	if (r < 0)
		return registry_error(r, NULL, NULL, NULL);
	struct json_object *o = json_object_new_object();
	bool ok = o && add_int(o, "total", (int64_t)c.total) &&
		  add_int(o, "used", (int64_t)c.used) &&
		  add_int(o, "free", (int64_t)c.free) &&
		  add_int(o, "quarantined", (int64_t)c.quarantined);
	return reply_of(done(o, ok));
}

static struct json_object *run_get_info(mcsd_registry *reg,
					const protocol_peer *peer,
					const struct args *a,
					protocol_result *res)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ifs = json_object_new_array();
	bool ok = o && ifs;

	for (size_t i = 0; ok && i < 2; i++) {
		struct json_object *name = json_object_new_string(
			i == 0 ? SERVICE : PROTOCOL_INTERFACE);
		if (!name || json_object_array_add(ifs, name) < 0) {
			json_object_put(name);
			ok = false;
		}
	}
	ok = ok && add_str(o, "vendor", "mcskit") &&
	     add_str(o, "product", "mcsd") && add_str(o, "version", "0.1") &&
	     add_str(o, "url", "https://github.com/mcskit/mcskit");
	if (ok) {
		ok = add(o, "interfaces", ifs);
		ifs = NULL; /* taken */
	}
	json_object_put(ifs);
	if (!o)
		return NULL;
	return reply_of(done(o, ok));
}

static struct json_object *run_get_description(mcsd_registry *reg,
					       const protocol_peer *peer,
					       const struct args *a,
					       protocol_result *res)
{
	if (strcmp(a->interface, PROTOCOL_INTERFACE) != 0)
		return protocol_error(VARLINK_ERROR_INTERFACE_NOT_FOUND,
				      "interface", a->interface);
	struct json_object *o = json_object_new_object();
	bool ok = o && add_str(o, "description", interface_description);
	return reply_of(done(o, ok));
}

static const struct method {
	const char *interface;
	const char *name;
	decode_fn *decode;
	run_fn *run;
} methods[] = {
	{PROTOCOL_INTERFACE, "Allocate", decode_allocate, run_allocate},
	{PROTOCOL_INTERFACE, "Release", decode_owner, run_release},
	{PROTOCOL_INTERFACE, "Lookup", decode_owner, run_lookup},
	{PROTOCOL_INTERFACE, "List", decode_list, run_list},
	{PROTOCOL_INTERFACE, "Status", decode_none, run_status},
	{SERVICE, "GetInfo", decode_service_none, run_get_info},
	{SERVICE, "GetInterfaceDescription", decode_interface,
	 run_get_description},
};

/* The reply to method `full` (interface.method) with params. */
static struct json_object *dispatch(mcsd_registry *reg,
				    const protocol_peer *peer, const char *full,
				    struct json_object *params,
				    protocol_result *res)
{
	const char *dot = strrchr(full, '.');
	size_t iflen = dot ? (size_t)(dot - full) : 0;
	const char *method = dot ? dot + 1 : full;
	const char *interface = NULL;

	for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
		const struct method *m = &methods[i];

		if (strlen(m->interface) != iflen ||
		    strncmp(full, m->interface, iflen) != 0)
			continue;
		interface = m->interface;
		if (strcmp(method, m->name) != 0)
			continue;
		struct args a = {0};
		struct json_object *rejected = NULL;
		if (m->decode(params, &a, &rejected))
			return rejected;
		return m->run(reg, peer, &a, res);
	}
	if (interface)
		/* the service's error names the method alone, ours in full */
		return protocol_error(VARLINK_ERROR_METHOD_NOT_FOUND, "method",
				      strcmp(interface, SERVICE) == 0 ? method
								      : full);
	char ifname[256];
	snprintf(ifname, sizeof(ifname), "%.*s",
		 (int)(iflen < 255 ? iflen : 255), full);
	return protocol_error(VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface",
			      ifname);
}

int protocol_handle(mcsd_registry *reg, const protocol_peer *peer,
		    struct json_object *call, protocol_result *ret)
{
	struct json_object *m = NULL, *params = NULL, *v;
	struct json_object *reply;

	memset(ret, 0, sizeof(*ret));
	ret->pidfd = -1;
	/* oneway: no reply at all, not even an error */
	bool oneway = json_object_object_get_ex(call, "oneway", &v) &&
		      json_object_is_type(v, json_type_boolean) &&
		      json_object_get_boolean(v);
	if (!json_object_object_get_ex(call, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		if (oneway)
			return 0;
		ret->reply = invalid_parameter("method");
		return ret->reply ? 0 : -ENOMEM;
	}
	json_object_object_get_ex(call, "parameters", &params);
	reply = dispatch(reg, peer, json_object_get_string(m), params, ret);
	if (!reply) {
		if (ret->pidfd >= 0)
			close(ret->pidfd);
		ret->pidfd = -1;
		return -ENOMEM;
	}
	if (oneway) {
		json_object_put(reply);
		return 0;
	}
	ret->reply = reply;
	return 0;
}
