/* SPDX-License-Identifier: MIT */
/*
 * client.c - the public client of mcsd (mcs/client.h): one blocking Unix
 * socket connection, one varlink call at a time, replies decoded into
 * plain C structs and varlink errors mapped to -errno plus a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <mcs/client.h>

#include "util.h"
#include "varlink.h"
#include "varlink_error.h"

struct mcs_client {
	int fd;		  /* connected SOCK_STREAM, blocking, CLOEXEC */
	int timeout_ms;	  /* per reply, 0: forever */
	varlink_buf rbuf; /* bytes received after the last reply */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

MCS_EXPORT int mcs_client_connect(const char *path, mcs_client **ret,
				  mcs_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!path)
		path = MCS_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return mcs_error_set(err, -ENAMETOOLONG,
				     "socket path too long: %s", path);
	strcpy(sa.sun_path, path);

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mcs_error_set(err, negative_errno(), "socket: %s",
				     strerror(errno));
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		int r = negative_errno();
		return mcs_error_set(err, r, "connect %s: %s", path,
				     strerror(-r));
	}
	mcs_client *c = calloc(1, sizeof(*c));
	if (!c)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	c->fd = TAKE_FD(fd);
	snprintf(c->path, sizeof(c->path), "%s", path);
	*ret = c;
	return 0;
}

MCS_EXPORT void mcs_client_free(mcs_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	varlink_buf_free(&c->rbuf);
	free(c);
}

MCS_EXPORT void mcs_client_set_timeout(mcs_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Send method(params) (params taken) and wait for the reply; on success
 * *ret_params is a new reference to the reply's parameters.
 */
static int client_call(mcs_client *c, const char *method,
		       struct json_object *params,
		       struct json_object **ret_params, mcs_error *err)
{
	struct json_object *call = varlink_call_new(method, params);
	if (!call)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	int r = varlink_send(c->fd, call);
	json_object_put(call);
	if (r < 0)
		return mcs_error_set(err, r, "%s: send to %s: %s", method,
				     c->path, strerror(-r));

	struct json_object *reply = NULL;
	r = varlink_recv(c->fd, &c->rbuf, &reply, c->timeout_ms);
	if (r < 0)
		return mcs_error_set(err, r, "%s: reply from %s: %s", method,
				     c->path, strerror(-r));

	struct json_object *p = NULL;
	json_object_object_get_ex(reply, "parameters", &p);
	const char *ename = get_str(reply, "error");
	if (ename) {
		r = varlink_error_errno(ename);
		const char *detail = p ? get_str(p, "message") : NULL;
		if (!detail && p)
			detail = get_str(p, "parameter");
		mcs_error_set(err, r, "%s: %s%s%s", method, ename,
			      detail ? ": " : "", detail ? detail : "");
		json_object_put(reply);
		return r;
	}
	if (!p || !json_object_is_type(p, json_type_object)) {
		json_object_put(reply);
		return mcs_error_set(err, -EPROTO,
				     "%s: reply without parameters", method);
	}
	*ret_params = json_object_get(p);
	json_object_put(reply);
	return 0;
}

static void copy_str(char *dst, size_t size, struct json_object *o,
		     const char *key)
{
	const char *s = get_str(o, key);
	snprintf(dst, size, "%s", s ? s : "");
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

static void lease_from_json(struct json_object *o, mcs_lease *l)
{
	struct json_object *v;

	memset(l, 0, sizeof(*l));
	copy_str(l->owner, sizeof(l->owner), o, "owner");
	copy_str(l->group, sizeof(l->group), o, "group");
	copy_str(l->level, sizeof(l->level), o, "level");
	copy_str(l->process_label, sizeof(l->process_label), o,
		 "process_label");
	copy_str(l->mount_label, sizeof(l->mount_label), o, "mount_label");
	l->persistent = json_object_object_get_ex(o, "persistent", &v) &&
			json_object_get_boolean(v);
	l->uid = (uint32_t)get_int(o, "uid");
	l->pid = (int32_t)get_int(o, "pid");
}

static int add_str(struct json_object *o, const char *key, const char *val)
{
	if (!val)
		return 0;
	return json_object_object_add(o, key, json_object_new_string(val)) < 0
		       ? -ENOMEM
		       : 0;
}

MCS_EXPORT int mcs_client_allocate(mcs_client *c, const mcs_alloc_request *req,
				   mcs_lease *ret, mcs_error *err)
{
	struct json_object *p = json_object_new_object(), *reply = NULL;
	if (!p)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	int r = add_str(p, "owner", req->owner);
	if (r >= 0)
		r = add_str(p, "group", req->group);
	if (r >= 0)
		r = add_str(p, "level", req->level);
	if (r >= 0)
		r = add_str(p, "type", req->type);
	if (r >= 0 && req->pid > 0 &&
	    json_object_object_add(p, "pid", json_object_new_int64(req->pid)) <
		    0)
		r = -ENOMEM;
	if (r >= 0 && req->persistent &&
	    json_object_object_add(p, "persistent",
				   json_object_new_boolean(1)) < 0)
		r = -ENOMEM;
	if (r < 0) {
		json_object_put(p);
		return mcs_error_set(err, r, "out of memory");
	}
	r = client_call(c, "io.mcskit.Labels.Allocate", p, &reply, err);
	if (r < 0)
		return r;
	if (ret)
		lease_from_json(reply, ret);
	json_object_put(reply);
	return 0;
}

static struct json_object *owner_params(const char *owner)
{
	struct json_object *p = json_object_new_object();
	if (p && add_str(p, "owner", owner) < 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

MCS_EXPORT int mcs_client_release(mcs_client *c, const char *owner,
				  mcs_error *err)
{
	struct json_object *p = owner_params(owner), *reply = NULL;
	if (!p)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	int r = client_call(c, "io.mcskit.Labels.Release", p, &reply, err);
	json_object_put(reply);
	return r;
}

MCS_EXPORT int mcs_client_lookup(mcs_client *c, const char *owner,
				 mcs_lease *ret, mcs_error *err)
{
	struct json_object *p = owner_params(owner), *reply = NULL;
	if (!p)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	int r = client_call(c, "io.mcskit.Labels.Lookup", p, &reply, err);
	if (r < 0)
		return r;
	if (ret)
		lease_from_json(reply, ret);
	json_object_put(reply);
	return 0;
}

/* Append the entries of one List reply to (*v, *n, *cap); copy its next
 * (or "") into next. */
static int list_take(struct json_object *reply, mcs_lease **v, size_t *n,
		     size_t *cap, char next[MCS_OWNER_MAX + 1], mcs_error *err)
{
	struct json_object *arr;

	if (!json_object_object_get_ex(reply, "entries", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return mcs_error_set(err, -EPROTO,
				     "List: reply without entries");
	size_t k = json_object_array_length(arr);
	if (*n + k > *cap) {
		size_t ncap = *cap ? *cap : 64;
		while (ncap < *n + k)
			ncap *= 2;
		mcs_lease *nv = reallocarray(*v, ncap, sizeof(**v));
		if (!nv)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	for (size_t i = 0; i < k; i++)
		lease_from_json(json_object_array_get_idx(arr, i),
				&(*v)[(*n)++]);
	const char *nx = get_str(reply, "next");
	snprintf(next, MCS_OWNER_MAX + 1, "%s", nx ? nx : "");
	return 0;
}

/* One List call: the page after `after` (NULL: the first) appended. */
static int list_call(mcs_client *c, const char *after, mcs_lease **v, size_t *n,
		     size_t *cap, char next[MCS_OWNER_MAX + 1], mcs_error *err)
{
	struct json_object *params = NULL, *reply = NULL;

	if (after && *after) {
		params = json_object_new_object();
		if (!params ||
		    json_object_object_add(params, "after",
					   json_object_new_string(after)) < 0) {
			json_object_put(params);
			return mcs_error_set(err, -ENOMEM, "out of memory");
		}
	}
	int r = client_call(c, "io.mcskit.Labels.List", params, &reply, err);
	if (r < 0)
		return r;
	r = list_take(reply, v, n, cap, next, err);
	json_object_put(reply);
	return r;
}

MCS_EXPORT int mcs_client_list_page(mcs_client *c, const char *after,
				    mcs_lease **ret_leases, size_t *ret_n,
				    char ret_next[MCS_OWNER_MAX + 1],
				    mcs_error *err)
{
	mcs_lease *v = NULL;
	size_t n = 0, cap = 0;
	int r = list_call(c, after, &v, &n, &cap, ret_next, err);

	if (r < 0) {
		free(v);
		return r;
	}
	*ret_leases = n ? v : NULL;
	if (!n)
		free(v);
	*ret_n = n;
	return 0;
}

MCS_EXPORT int mcs_client_list(mcs_client *c, mcs_lease **ret_leases,
			       size_t *ret_n, mcs_error *err)
{
	mcs_lease *v = NULL;
	size_t n = 0, cap = 0;
	char next[MCS_OWNER_MAX + 1] = "";

	do {
		char after[MCS_OWNER_MAX + 1];
		memcpy(after, next, sizeof(after));
		int r = list_call(c, after, &v, &n, &cap, next, err);
		if (r < 0) {
			free(v);
			return r;
		}
	} while (*next);
	*ret_leases = n ? v : NULL;
	if (!n)
		free(v);
	*ret_n = n;
	return 0;
}

MCS_EXPORT int mcs_client_status(mcs_client *c, mcs_status *ret, mcs_error *err)
{
	struct json_object *reply = NULL;
	int r = client_call(c, "io.mcskit.Labels.Status", NULL, &reply, err);
	if (r < 0)
		return r;
	ret->total = (uint64_t)get_int(reply, "total");
	ret->used = (uint64_t)get_int(reply, "used");
	ret->free = (uint64_t)get_int(reply, "free");
	ret->quarantined = (uint64_t)get_int(reply, "quarantined");
	json_object_put(reply);
	return 0;
}
