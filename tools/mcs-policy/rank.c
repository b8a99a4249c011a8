/* SPDX-License-Identifier: MIT */
/*
 * rank.c - `mcs-policy try [--type T] FILE|-` and `mcs-policy rank
 * FILE|-`: which of a container's recorded accesses (AVC lines or an
 * access list, mcs/avc.h) each container type would deny, and the types
 * ordered by breadth (mcs/rank.h) with the narrowest one that denies
 * nothing.  try exits 1 when some access is denied; rank exits 1 when no
 * type would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mcs/rank.h>

#include "mcs-policy.h"

typedef struct tried {
	mcs_try_result *res;
	size_t n;
} tried;

static int try_types(char **types, size_t ntypes, const mcs_avc *avcs, size_t n,
		     tried *ret)
{
	mcs_error err = {0};

	ret->res = calloc(ntypes ? ntypes : 1, sizeof(*ret->res));
	if (!ret->res) {
		fputs("mcs-policy: out of memory\n", stderr);
		return -1;
	}
	for (size_t i = 0; i < ntypes; i++) {
		if (mcs_try_type(avcs, n, types[i], &ret->res[i], &err) < 0) {
			fprintf(stderr, "mcs-policy: %s\n", err.msg);
			return -1;
		}
		ret->n++;
	}
	return 0;
}

static void tried_free(tried *t)
{
	for (size_t i = 0; i < t->n; i++)
		mcs_try_result_done(&t->res[i]);
	free(t->res);
}

static json_object *result_json(const mcs_try_result *r, const mcs_avc *avcs)
{
	json_object *o = json_object_new_object(), *d = json_object_new_array();

	json_object_object_add(o, "type", json_object_new_string(r->type));
	json_object_object_add(o, "breadth",
			       json_object_new_int64((int64_t)r->breadth));
	json_object_object_add(o, "accesses",
			       json_object_new_int64((int64_t)r->accesses));
	json_object_object_add(o, "denied",
			       json_object_new_int64((int64_t)r->ndenied));
	for (size_t i = 0; i < r->ndenied; i++) {
		const mcs_try_denial *x = &r->denied[i];
		const mcs_avc *a = &avcs[x->index];
		json_object *e = json_object_new_object(),
			    *p = json_object_new_array();

		json_object_object_add(e, "line",
				       json_object_new_int64(a->lineno));
		json_object_object_add(e, "scontext",
				       json_object_new_string(x->scontext));
		json_object_object_add(e, "tcontext",
				       json_object_new_string(x->tcontext));
		json_object_object_add(e, "tclass",
				       json_object_new_string(a->tclass));
		for (size_t k = 0; k < a->nperms; k++)
			json_object_array_add(
				p, json_object_new_string(a->perms[k]));
		json_object_object_add(e, "perms", p);
		json_object_object_add(e, "verdict",
				       json_object_new_string(x->verdict));
		json_object_array_add(d, e);
	}
	json_object_object_add(o, "denials", d);
	return o;
}

static void result_human(const mcs_try_result *r, const mcs_avc *avcs)
{
	printf("%s (breadth %llu): %zu of %zu accesses denied\n", r->type,
	       (unsigned long long)r->breadth, r->ndenied, r->accesses);
	for (size_t i = 0; i < r->ndenied; i++) {
		const mcs_try_denial *x = &r->denied[i];
		const mcs_avc *a = &avcs[x->index];

		printf("  line %u: %s -> %s:%s {", a->lineno, x->scontext,
		       x->tcontext, a->tclass);
		for (size_t k = 0; k < a->nperms; k++)
			printf(" %s", a->perms[k]);
		printf(" }: %s\n", x->verdict);
	}
}

/* Read the accesses and load the policy; the types to try in *ret_types. */
static int prepare(int argc, char **argv, bool one_type, mcs_avc **avcs,
		   size_t *n, char ***ret_types, size_t *ntypes)
{
	mcs_error err = {0};
	size_t malformed = 0;
	int r;

	if (argc != 2) {
		usage(stderr);
		return -1;
	}
	if (mcs_avc_read(argv[1], avcs, n, &malformed, &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return -1;
	}
	if (malformed)
		fprintf(stderr,
			"mcs-policy: %s: %zu damaged AVC lines skipped\n",
			argv[1], malformed);
	if (load_policy() < 0)
		return -1;
	if (one_type && arg.type) {
		*ret_types = calloc(2, sizeof(char *));
		if (!*ret_types || !((*ret_types)[0] = strdup(arg.type))) {
			fputs("mcs-policy: out of memory\n", stderr);
			return -1;
		}
		*ntypes = 1;
		return 0;
	}
	r = mcs_rank_types_with(arg.attribute, ret_types, &err);
	if (r < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return -1;
	}
	*ntypes = (size_t)r;
	return 0;
}

int cmd_try(int argc, char **argv)
{
	mcs_avc *avcs = NULL;
	char **types = NULL;
	size_t n = 0, ntypes = 0, denied = 0;
	tried t = {0};
	int rc = EXIT_ERROR;

	if (prepare(argc, argv, true, &avcs, &n, &types, &ntypes) < 0 ||
	    try_types(types, ntypes, avcs, n, &t) < 0)
		goto out;
	if (arg.json) {
		json_object *o = json_object_new_array();

		for (size_t i = 0; i < t.n; i++)
			json_object_array_add(o, result_json(&t.res[i], avcs));
		puts(json_object_to_json_string_ext(o,
						    JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		for (size_t i = 0; i < t.n; i++)
			result_human(&t.res[i], avcs);
	}
	for (size_t i = 0; i < t.n; i++)
		denied += t.res[i].ndenied;
	rc = denied ? EXIT_DENIED : 0;
out:
	tried_free(&t);
	mcs_rank_strv_free(types);
	mcs_avc_free(avcs, n);
	return rc;
}

static int by_breadth(const void *a, const void *b)
{
	const mcs_try_result *x = a, *y = b;

	if (x->breadth != y->breadth)
		return x->breadth < y->breadth ? -1 : 1;
	return strcmp(x->type, y->type);
}

int cmd_rank(int argc, char **argv)
{
	mcs_avc *avcs = NULL;
	char **types = NULL;
	size_t n = 0, ntypes = 0;
	const char *pick = NULL;
	tried t = {0};
	int rc = EXIT_ERROR;

	if (prepare(argc, argv, false, &avcs, &n, &types, &ntypes) < 0 ||
	    try_types(types, ntypes, avcs, n, &t) < 0)
		goto out;
	qsort(t.res, t.n, sizeof(*t.res), by_breadth);
	for (size_t i = 0; i < t.n && !pick; i++)
		if (t.res[i].ndenied == 0)
			pick = t.res[i].type;
	if (arg.json) {
		json_object *o = json_object_new_object(),
			    *a = json_object_new_array();

		for (size_t i = 0; i < t.n; i++)
			json_object_array_add(a, result_json(&t.res[i], avcs));
		json_object_object_add(
			o, "measure",
			json_object_new_string("allowed (class, permission, "
					       "target type) triples"));
		json_object_object_add(o, "types", a);
		json_object_object_add(o, "narrowest",
				       pick ? json_object_new_string(pick)
					    : NULL);
		puts(json_object_to_json_string_ext(o,
						    JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		printf("%-4s %-24s %10s  %s\n", "rank", "type", "breadth",
		       "denied");
		for (size_t i = 0; i < t.n; i++)
			printf("%-4zu %-24s %10llu  %zu of %zu\n", i + 1,
			       t.res[i].type,
			       (unsigned long long)t.res[i].breadth,
			       t.res[i].ndenied, t.res[i].accesses);
		if (pick)
			printf("narrowest type that denies nothing: %s\n",
			       pick);
		else
			puts("no container type allows every access; "
			     "`mcs-policy try` lists what each denies");
	}
	rc = pick ? 0 : EXIT_DENIED;
out:
	tried_free(&t);
	mcs_rank_strv_free(types);
	mcs_avc_free(avcs, n);
	return rc;
}
