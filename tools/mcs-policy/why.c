/* SPDX-License-Identifier: MIT */
/*
 * why.c - `mcs-policy why FILE|-`: for each AVC line (audit.log, dmesg,
 * journal) say what decided it under the policy (mcs/explain.h).
 * Exit 0 when every access was explained, 1 when some could not be
 * (a context, class or permission this policy does not know), 2 error.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mcs/explain.h>

#include "mcs-policy.h"

/* --interfaces, else the build tree's, else sepolgen's; NULL when none. */
static mcs_ifindex *load_interfaces(void)
{
	char path[PATH_MAX];
	const char *cands[] = {arg.interfaces, path,
			       "/var/lib/sepolgen/interface_info"};
	mcs_ifindex *idx = NULL;

	snprintf(path, sizeof(path), "%s/../policy/interface_info",
		 program_dir());
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		mcs_error err = {0};

		if (!cands[i] || (i && access(cands[i], R_OK) != 0))
			continue;
		if (mcs_ifindex_load(cands[i], &idx, &err) == 0)
			return idx;
		if (i == 0) { /* named on the command line: say why not */
			fprintf(stderr, "mcs-policy: %s\n", err.msg);
			return NULL;
		}
	}
	return NULL;
}

static void json_add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void print_human(const mcs_avc *a, const mcs_why *w)
{
	printf("line %u: %s {", a->lineno,
	       a->access   ? "access"
	       : a->denied ? "denied"
			   : "granted");
	for (size_t i = 0; i < a->nperms; i++)
		printf(" %s", a->perms[i]);
	printf(" } %s -> %s:%s%s\n", w->scontext, w->tcontext, a->tclass,
	       a->permissive == 1 ? " (permissive)" : "");
	if (w->kind == MCS_WHY_ALLOWED)
		puts("  allowed in this policy (the log came from another "
		     "policy or boolean state)");
	if (w->te_perms) {
		printf("  no allow rule for { %s }: %s\n", w->te_perms,
		       w->allow_rule);
		if (w->interface)
			printf("  refpolicy interface: %s\n", w->interface);
	}
	if (w->bool_perms)
		printf("  boolean: { %s } allowed by a conditional rule, off: "
		       "%s\n",
		       w->bool_perms, w->booleans);
	if (w->cons_perms)
		printf("  constraint denies { %s }: %s\n", w->cons_perms,
		       w->constraints ? w->constraints
				      : "(expression unknown)");
	if (w->other_perms)
		printf("  role or type bounds deny { %s }\n", w->other_perms);
	if (w->dontaudit_perms)
		printf("  dontaudit: { %s } is silenced by a dontaudit rule\n",
		       w->dontaudit_perms);
}

static json_object *why_json(const mcs_avc *a, const mcs_why *w,
			     const char *error)
{
	json_object *o = json_object_new_object(), *p = json_object_new_array();

	json_object_object_add(o, "line", json_object_new_int64(a->lineno));
	json_object_object_add(o, "denied", json_object_new_boolean(a->denied));
	if (a->permissive >= 0)
		json_object_object_add(o, "permissive",
				       json_object_new_boolean(a->permissive));
	json_add_str(o, "scontext",
		     w && w->scontext ? w->scontext : a->scontext);
	json_add_str(o, "tcontext",
		     w && w->tcontext ? w->tcontext : a->tcontext);
	json_add_str(o, "tclass", a->tclass);
	for (size_t i = 0; i < a->nperms; i++)
		json_object_array_add(p, json_object_new_string(a->perms[i]));
	json_object_object_add(o, "perms", p);
	if (error) {
		json_add_str(o, "error", error);
		return o;
	}
	json_add_str(o, "kind", mcs_why_kind_name(w->kind));
	json_add_str(o, "te_perms", w->te_perms);
	json_add_str(o, "allow_rule", w->allow_rule);
	json_add_str(o, "interface", w->interface);
	json_add_str(o, "bool_perms", w->bool_perms);
	json_add_str(o, "booleans", w->booleans);
	json_add_str(o, "constraint_perms", w->cons_perms);
	json_add_str(o, "constraints", w->constraints);
	json_add_str(o, "other_perms", w->other_perms);
	json_add_str(o, "dontaudit_perms", w->dontaudit_perms);
	return o;
}

int cmd_why(int argc, char **argv)
{
	mcs_avc *avcs = NULL;
	mcs_ifindex *idx;
	mcs_error err = {0};
	size_t n = 0, malformed = 0, failed = 0;
	json_object *out = NULL;

	if (argc != 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (mcs_avc_read(argv[1], &avcs, &n, &malformed, &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return EXIT_ERROR;
	}
	if (load_policy() < 0) {
		mcs_avc_free(avcs, n);
		return EXIT_ERROR;
	}
	idx = load_interfaces();
	if (arg.json)
		out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		mcs_why w;

		mcs_error_clear(&err);
		if (mcs_why_explain(&avcs[i], idx, &w, &err) < 0) {
			failed++;
			if (out)
				json_object_array_add(
					out, why_json(&avcs[i], NULL, err.msg));
			else
				printf("line %u: cannot explain: %s\n",
				       avcs[i].lineno, err.msg);
			continue;
		}
		if (out)
			json_object_array_add(out,
					      why_json(&avcs[i], &w, NULL));
		else
			print_human(&avcs[i], &w);
		mcs_why_done(&w);
	}
	if (out) {
		puts(json_object_to_json_string_ext(out,
						    JSON_C_TO_STRING_PRETTY));
		json_object_put(out);
	} else {
		printf("# %zu accesses, %zu explained, %zu not; %zu damaged "
		       "AVC lines skipped\n",
		       n, n - failed, failed, malformed);
	}
	if (malformed)
		fprintf(stderr,
			"mcs-policy: %s: %zu damaged AVC lines skipped\n",
			argv[1], malformed);
	mcs_ifindex_free(idx);
	mcs_avc_free(avcs, n);
	return failed ? EXIT_DENIED : 0;
}
