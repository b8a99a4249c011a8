/* SPDX-License-Identifier: MIT */
/*
 * register.c - what mcs-oci asks mcsd, through libmcs's client: register
 * the engine's level (adopt) or have one chosen (assign) for owner
 * "oci:<container id>" in group "pod:<sandbox id>", as a reservation that
 * lasts until the container is deleted; name the holder of a level that
 * is taken; release at delete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcs-oci.h"

int oci_connect(const struct oci_config *cfg, mcs_client **ret, mcs_error *err)
{
	int r = mcs_client_connect(cfg->socket, ret, err);

	if (r < 0)
		return r;
	mcs_client_set_timeout(*ret, cfg->timeout_ms);
	return 0;
}

static int prefixed(const char *prefix, const char *id, char *buf, size_t size,
		    mcs_error *err)
{
	if (snprintf(buf, size, "%s%s", prefix, id) >= (int)size)
		return mcs_error_set(err, -ENAMETOOLONG,
				     "id too long for mcsd (%zu characters "
				     "at most): %.64s...",
				     size - 1 - strlen(prefix), id);
	return 0;
}

int oci_owner(const char *id, char ret[MCS_OWNER_MAX + 1], mcs_error *err)
{
	return prefixed(OCI_OWNER_PREFIX, id, ret, MCS_OWNER_MAX + 1, err);
}

/* Does group hold a level other than level?  (A pod whose containers do
 * not share one label: podman's pods without an infra container.) */
static bool group_elsewhere(mcs_client *c, const char *group, const char *level)
{
	mcs_lease *v = NULL;
	size_t n = 0;
	bool r = false;

	if (mcs_client_list(c, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !r; i++)
		r = strcmp(v[i].group, group) == 0 &&
		    strcmp(v[i].level, level) != 0;
	free(v);
	return r;
}

/* Who holds level: "oci:abc (group pod:xyz)", or "another owner". */
static void holder_of(mcs_client *c, const char *level, const char *self,
		      char *buf, size_t size)
{
	mcs_lease *v = NULL;
	size_t n = 0, len = 0;

	snprintf(buf, size, "another owner");
	if (mcs_client_list(c, &v, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].level, level) != 0 ||
		    strcmp(v[i].owner, self) == 0)
			continue;
		len += snprintf(buf + len, len < size ? size - len : 0,
				"%s%s%s%s%s", len ? ", " : "", v[i].owner,
				*v[i].group ? " (group " : "", v[i].group,
				*v[i].group ? ")" : "");
		if (len >= size)
			break;
	}
	free(v);
}

/* The client's code for LevelInUse: -EBUSY, -EEXIST from the error
 * table of the daemon's move to mcsd/ on; both mean the level is taken. */
static bool in_use(int r)
{
	return r == -EBUSY || r == -EEXIST;
}

int oci_register(mcs_client *c, const struct oci_cmdline *cl,
		 struct oci_bundle *b, mcs_lease *ret, mcs_error *err)
{
	char owner[MCS_OWNER_MAX + 1], group[MCS_OWNER_MAX + 1] = "";
	mcs_alloc_request req = {.persistent = true};
	int r;

	r = oci_owner(cl->id, owner, err);
	if (r < 0)
		return r;
	if (*b->sandbox) {
		r = prefixed(OCI_GROUP_PREFIX, b->sandbox, group, sizeof(group),
			     err);
		if (r < 0)
			return r;
	}
	req.owner = owner;
	req.group = *group ? group : NULL;
	req.level = b->mode == OCI_ADOPT ? b->level : NULL;
	req.type = *b->type ? b->type : NULL;
	r = mcs_client_allocate(c, &req, ret, err);
	if (in_use(r) && b->mode == OCI_ADOPT && req.group &&
	    group_elsewhere(c, req.group, b->level)) {
		/* the pod's members have levels of their own: register this
		 * one alone (a collision is then still refused) */
		req.group = NULL;
		r = mcs_client_allocate(c, &req, ret, err);
	}
	if (in_use(r) && b->mode == OCI_ADOPT) {
		char who[512];

		holder_of(c, b->level, owner, who, sizeof(who));
		return mcs_error_set(err, -EBUSY,
				     "level %s of container %s is already "
				     "held by %s: refusing to start a "
				     "second container at the same level",
				     b->level, cl->id, who);
	}
	if (r < 0)
		return mcs_error_prefix(err, "register %s of %s in mcsd: ",
					req.level ? req.level : "a level",
					cl->id);
	return 0;
}

int oci_release(mcs_client *c, const char *id, mcs_error *err)
{
	char owner[MCS_OWNER_MAX + 1];
	int r = oci_owner(id, owner, err);

	if (r < 0)
		return r;
	r = mcs_client_release(c, owner, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return mcs_error_prefix(err, "release %s in mcsd: ", owner);
	return 1;
}
