/* SPDX-License-Identifier: MIT */
/*
 * report.c - mcs-chcon's output: per-file errors and -v lines (from the
 * walk's worker threads, serialised), the progress line on a terminal,
 * the closing summary line and the --json summary.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mcs-chcon.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void full_path(const struct chcon_report *rep, const char *rel,
		      char *buf, size_t size)
{
	if (strcmp(rel, ".") == 0)
		snprintf(buf, size, "%s", rep->top);
	else
		snprintf(buf, size, "%s%s%s", rep->top,
			 rep->top[strlen(rep->top) - 1] == '/' ? "" : "/", rel);
}

static void clear_progress(const struct chcon_report *rep)
{
	if (rep->progress)
		fputs("\r\033[K", stderr);
}

static void on_error(const char *path, int error, void *userdata)
{
	struct chcon_report *rep = userdata;
	char p[8192];

	full_path(rep, path, p, sizeof(p));
	pthread_mutex_lock(&out_lock);
	clear_progress(rep);
	/* EPERM: an immutable file, or a protected directory met inside
	 * the tree (a home directory, a bind mount of /etc). */
	if (error == -ENODATA)
		fprintf(stderr,
			"mcs-chcon: %s: has no label to change in part (give a "
			"full context)\n",
			p);
	else
		fprintf(stderr, "mcs-chcon: %s: %s%s\n", p, strerror(-error),
			error == -EPERM
				? " (protected directory or immutable file)"
				: "");
	pthread_mutex_unlock(&out_lock);
}

static void on_change(const char *path, const char *old_label,
		      const char *new_label, void *userdata)
{
	struct chcon_report *rep = userdata;
	char p[8192];

	full_path(rep, path, p, sizeof(p));
	pthread_mutex_lock(&out_lock);
	clear_progress(rep);
	/* --json keeps stdout for the JSON object. */
	fprintf(rep->json ? stderr : stdout, "relabeled %s from %s to %s\n", p,
		old_label, new_label);
	pthread_mutex_unlock(&out_lock);
}

static void on_progress(const mcs_relabel_result *s, void *userdata)
{
	struct chcon_report *rep = userdata;

	pthread_mutex_lock(&out_lock);
	fprintf(stderr,
		"\r\033[Kmcs-chcon: %s: examined %" PRIu64 ", changed %" PRIu64
		", already right %" PRIu64 ", errors %" PRIu64,
		rep->top, s->examined, s->changed, s->unchanged, s->errors);
	pthread_mutex_unlock(&out_lock);
}

void report_setup(struct chcon_report *rep, mcs_relabel_opts *o)
{
	rep->progress = isatty(STDERR_FILENO);
	o->on_error = on_error;
	if (rep->verbose)
		o->on_change = on_change;
	if (rep->progress)
		o->on_progress = on_progress;
	o->userdata = rep;
}

void report_path(struct chcon_report *rep, const char *path,
		 const mcs_relabel_result *res, int r, const mcs_error *err)
{
	rep->total.examined += res->examined;
	rep->total.changed += res->changed;
	rep->total.unchanged += res->unchanged;
	rep->total.errors += res->errors;
	rep->total.skipped += res->skipped;
	clear_progress(rep);
	if (r >= 0)
		return;
	rep->failed_paths++;
	/* With -EIO the files' errors were printed as they happened;
	 * this line says how many. */
	fprintf(stderr, "mcs-chcon: %s\n",
		err->msg[0] ? err->msg : strerror(-r));
}

void report_finish(struct chcon_report *rep, const char *target,
		   char *const *paths, int npaths, int status)
{
	const mcs_relabel_result *t = &rep->total;

	fprintf(stderr,
		"mcs-chcon: examined %" PRIu64 ", changed %" PRIu64
		", already right %" PRIu64 ", errors %" PRIu64
		", skipped %" PRIu64 "\n",
		t->examined, t->changed, t->unchanged, t->errors, t->skipped);
	if (!rep->json)
		return;
	json_object *o = json_object_new_object();
	json_object *ps = json_object_new_array();
	for (int i = 0; i < npaths; i++)
		json_object_array_add(ps, json_object_new_string(paths[i]));
	json_object_object_add(
		o, "target",
		json_object_new_string(target ? target : "(partial)"));
	json_object_object_add(o, "paths", ps);
	json_object_object_add(o, "examined",
			       json_object_new_int64((int64_t)t->examined));
	json_object_object_add(o, "changed",
			       json_object_new_int64((int64_t)t->changed));
	json_object_object_add(o, "already_right",
			       json_object_new_int64((int64_t)t->unchanged));
	json_object_object_add(o, "errors",
			       json_object_new_int64((int64_t)t->errors));
	json_object_object_add(o, "skipped",
			       json_object_new_int64((int64_t)t->skipped));
	json_object_object_add(o, "failed_paths",
			       json_object_new_int(rep->failed_paths));
	json_object_object_add(o, "ok", json_object_new_boolean(status == 0));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}
