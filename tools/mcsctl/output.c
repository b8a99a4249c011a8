/* SPDX-License-Identifier: MIT */
/*
 * output.c - mcsctl's shared helpers: connecting, reporting an error once,
 * and printing leases and status as text or as JSON (json-c) for scripts.
 */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>

#include "mcsctl.h"

mcs_client *mcsctl_connect(const struct mcsctl_globals *g)
{
	mcs_client *c = NULL;
	mcs_error err = {0};
	if (mcs_client_connect(g->socket, &c, &err) < 0) {
		mcsctl_fail(&err);
		return NULL;
	}
	return c;
}

int mcsctl_fail(const mcs_error *err)
{
	fprintf(stderr, "mcsctl: %s\n", err->msg);
	return 1;
}

static struct json_object *lease_json(const mcs_lease *l)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "owner", json_object_new_string(l->owner));
	if (l->group[0])
		json_object_object_add(o, "group",
				       json_object_new_string(l->group));
	json_object_object_add(o, "level", json_object_new_string(l->level));
	if (l->process_label[0])
		json_object_object_add(
			o, "process_label",
			json_object_new_string(l->process_label));
	if (l->mount_label[0])
		json_object_object_add(o, "mount_label",
				       json_object_new_string(l->mount_label));
	json_object_object_add(o, "persistent",
			       json_object_new_boolean(l->persistent));
	json_object_object_add(o, "uid", json_object_new_int64(l->uid));
	if (l->pid)
		json_object_object_add(o, "pid", json_object_new_int64(l->pid));
	return o;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void mcsctl_print_lease(const struct mcsctl_globals *g, const mcs_lease *l)
{
	if (g->json) {
		print_json(lease_json(l));
		return;
	}
	printf("owner:         %s\n", l->owner);
	if (l->group[0])
		printf("group:         %s\n", l->group);
	printf("level:         %s\n", l->level);
	if (l->process_label[0])
		printf("process_label: %s\n", l->process_label);
	if (l->mount_label[0])
		printf("mount_label:   %s\n", l->mount_label);
	printf("kind:          %s\n", l->persistent ? "reservation" : "lease");
}

void mcsctl_print_leases(const struct mcsctl_globals *g, const mcs_lease *v,
			 size_t n)
{
	if (g->json) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, lease_json(&v[i]));
		print_json(a);
		return;
	}
	printf("%-16s %-32s %-16s %-11s %6s %7s\n", "LEVEL", "OWNER", "GROUP",
	       "KIND", "UID", "PID");
	for (size_t i = 0; i < n; i++)
		printf("%-16s %-32s %-16s %-11s %6" PRIu32 " %7" PRId32 "\n",
		       v[i].level, v[i].owner, v[i].group[0] ? v[i].group : "-",
		       v[i].persistent ? "reservation" : "lease", v[i].uid,
		       v[i].pid);
}

void mcsctl_print_status(const struct mcsctl_globals *g, const mcs_status *st)
{
	if (g->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(
			o, "total", json_object_new_int64((int64_t)st->total));
		json_object_object_add(
			o, "used", json_object_new_int64((int64_t)st->used));
		json_object_object_add(
			o, "free", json_object_new_int64((int64_t)st->free));
		json_object_object_add(
			o, "quarantined",
			json_object_new_int64((int64_t)st->quarantined));
		print_json(o);
		return;
	}
	printf("total:       %" PRIu64 "\n", st->total);
	printf("used:        %" PRIu64 "\n", st->used);
	printf("free:        %" PRIu64 "\n", st->free);
	printf("quarantined: %" PRIu64 "\n", st->quarantined);
}

void mcsctl_print_released(const struct mcsctl_globals *g, const char *owner)
{
	if (!g->json)
		return;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "owner", json_object_new_string(owner));
	json_object_object_add(o, "released", json_object_new_boolean(1));
	print_json(o);
}
