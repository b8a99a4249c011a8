/* SPDX-License-Identifier: MIT */
/*
 * rank.c - the container-type questions of `mcs-policy try` and `rank`:
 * which types are container types (by attribute), how much a type is
 * allowed (its breadth, mcs/rank.h) and which of a container's recorded
 * accesses a type would deny.  Decisions come from lib/policy.c; the
 * avtab walk for breadth reads the loaded policydb directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sepol/policydb/avtab.h>
#include <sepol/policydb/ebitmap.h>
#include <sepol/policydb/policydb.h>

#include <mcs/policy.h>
#include <mcs/rank.h>

#include "policy_int.h"
#include "util.h"

MCS_EXPORT void mcs_rank_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static bool rank_ebit(const ebitmap_t *e, uint32_t bit)
{
	for (const ebitmap_node_t *n = e->node; n && n->startbit <= bit;
	     n = n->next)
		if (bit < n->startbit + MAPSIZE)
			return (n->map >> (bit - n->startbit)) & 1;
	return false;
}

static bool rank_is_type(const policydb_t *p, uint32_t v)
{
	return v && v <= p->p_types.nprim && p->type_val_to_struct[v - 1] &&
	       p->type_val_to_struct[v - 1]->flavor == TYPE_TYPE;
}

static int rank_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

MCS_EXPORT int mcs_rank_types_with(const char *attr, char ***ret,
				   mcs_error *err)
{
	const policydb_t *p;
	uint32_t a;
	char **v = NULL;
	size_t n = 0;
	int r = 0;

	if (!attr)
		attr = MCS_CONTAINER_ATTRIBUTE;
	policy_lock_acquire();
	p = policy_db_locked();
	a = p ? policy_type_value_locked(attr) : 0;
	if (!p || !a || !p->type_attr_map) {
		policy_lock_release();
		return mcs_error_set(err, -ENOENT,
				     p ? "the policy has no attribute %s"
				       : "no policy loaded",
				     attr);
	}
	v = calloc(p->p_types.nprim + 1, sizeof(*v));
	for (uint32_t t = 1; v && t <= p->p_types.nprim; t++)
		if (t != a && rank_is_type(p, t) &&
		    rank_ebit(&p->type_attr_map[t - 1], a - 1) &&
		    !(v[n++] = strdup(p->p_type_val_to_name[t - 1])))
			r = -ENOMEM;
	policy_lock_release();
	if (!v || r < 0) {
		mcs_rank_strv_free(v);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	qsort(v, n, sizeof(*v), rank_cmp_str);
	*ret = v;
	return (int)n;
}

/* The types an avtab key's type or attribute stands for. */
typedef struct rank_attr_types {
	uint32_t *types;
	size_t n, cap;
} rank_attr_types;

static int rank_breadth_locked(const policydb_t *p, uint32_t type,
			       uint64_t *ret)
{
	const uint32_t ntypes = p->p_types.nprim, ncls = p->p_classes.nprim;
	_cleanup_free_ uint32_t *granted = NULL; /* [target][class] perms */
	rank_attr_types *members = NULL;
	const avtab_t *tabs[] = {&p->te_avtab, &p->te_cond_avtab};
	uint64_t count = 0;
	int r = 0;

	granted = calloc((size_t)ntypes * ncls, sizeof(*granted));
	members = calloc(ntypes, sizeof(*members));
	if (!granted || !members) {
		r = -ENOMEM;
		goto out;
	}
	/* attribute -> its types */
	for (uint32_t t = 1; t <= ntypes && r == 0; t++) {
		ebitmap_node_t *n;

		if (!rank_is_type(p, t))
			continue;
		for (n = p->type_attr_map[t - 1].node; n && r == 0; n = n->next)
			for (uint32_t b = 0; b < MAPSIZE; b++) {
				uint32_t a = n->startbit + b;
				rank_attr_types *m;

				if (!((n->map >> b) & 1) || a >= ntypes)
					continue;
				m = &members[a];
				if (m->n == m->cap) {
					size_t c = m->cap ? 2 * m->cap : 8;
					uint32_t *nt = reallocarray(
						m->types, c, sizeof(*nt));

					if (!nt) {
						r = -ENOMEM;
						break;
					}
					m->types = nt;
					m->cap = c;
				}
				m->types[m->n++] = t;
			}
	}
	for (size_t ti = 0; ti < ELEMENTSOF(tabs) && r == 0; ti++) {
		const avtab_t *tab = tabs[ti];

		for (uint32_t s = 0; s < tab->nslot; s++)
			for (avtab_ptr_t e = tab->htable ? tab->htable[s]
							 : NULL;
			     e; e = e->next) {
				const avtab_key_t *k = &e->key;
				const rank_attr_types *m;

				if (!(k->specified & AVTAB_ALLOWED) ||
				    (ti == 1 &&
				     !(k->specified & AVTAB_ENABLED)) ||
				    k->source_type == 0 ||
				    k->source_type > ntypes ||
				    k->target_type == 0 ||
				    k->target_type > ntypes ||
				    k->target_class == 0 ||
				    k->target_class > ncls)
					continue;
				if (k->source_type != type &&
				    !rank_ebit(&p->type_attr_map[type - 1],
					       k->source_type - 1))
					continue;
				m = &members[k->target_type - 1];
				for (size_t i = 0; i < m->n; i++)
					granted[(size_t)(m->types[i] - 1) *
							ncls +
						k->target_class - 1] |=
						e->datum.data;
			}
	}
	for (size_t i = 0; i < (size_t)ntypes * ncls; i++)
		count += (uint64_t)__builtin_popcount(granted[i]);
	*ret = count;
out:
	for (uint32_t t = 0; members && t < ntypes; t++)
		free(members[t].types);
	free(members);
	return r;
}

MCS_EXPORT int mcs_rank_breadth(const char *type, uint64_t *ret, mcs_error *err)
{
	const policydb_t *p;
	uint32_t t;
	int r;

	policy_lock_acquire();
	p = policy_db_locked();
	t = p ? policy_type_value_locked(type) : 0;
	if (!p)
		r = mcs_error_set(err, -ENOENT, "no policy loaded");
	else if (!rank_is_type(p, t) || !p->type_attr_map)
		r = mcs_error_set(err, -EINVAL, "no type %s in the policy",
				  type);
	else if ((r = rank_breadth_locked(p, t, ret)) < 0)
		r = mcs_error_set(err, r, "out of memory");
	policy_lock_release();
	return r;
}

MCS_EXPORT void mcs_try_result_done(mcs_try_result *res)
{
	for (size_t i = 0; i < res->ndenied; i++) {
		free(res->denied[i].scontext);
		free(res->denied[i].tcontext);
		free(res->denied[i].verdict);
	}
	free(res->denied);
	free(res->type);
	*res = (mcs_try_result){0};
}

/* con with its type field replaced by type, in a new string. */
static char *rank_with_type(const char *con, const char *type)
{
	const char *a = strchr(con, ':'), *b, *c;
	char *out;

	if (!a || !(b = strchr(a + 1, ':')))
		return NULL;
	c = strchr(b + 1, ':');
	if (asprintf(&out, "%.*s%s%s", (int)(b + 1 - con), con, type,
		     c ? c : "") < 0)
		return NULL;
	return out;
}

static bool rank_same_type(const char *x, const char *y)
{
	const char *a = strchr(x, ':'), *b = strchr(y, ':');
	size_t lx, ly;

	if (!a || !b || !(a = strchr(a + 1, ':')) || !(b = strchr(b + 1, ':')))
		return false;
	a++, b++;
	lx = strcspn(a, ":");
	ly = strcspn(b, ":");
	return lx == ly && memcmp(a, b, lx) == 0;
}

/* Same access (ignoring line and permission order is not attempted). */
static bool rank_same_access(const mcs_avc *x, const mcs_avc *y)
{
	if (x->nperms != y->nperms || strcmp(x->scontext, y->scontext) ||
	    strcmp(x->tcontext, y->tcontext) || strcmp(x->tclass, y->tclass))
		return false;
	for (size_t i = 0; i < x->nperms; i++)
		if (strcmp(x->perms[i], y->perms[i]))
			return false;
	return true;
}

static int rank_cmp_avc(const void *a, const void *b)
{
	const mcs_avc *x = *(const mcs_avc *const *)a,
		      *y = *(const mcs_avc *const *)b;
	int c = strcmp(x->scontext, y->scontext);

	if (!c)
		c = strcmp(x->tcontext, y->tcontext);
	if (!c)
		c = strcmp(x->tclass, y->tclass);
	if (!c)
		c = (x->nperms > y->nperms) - (x->nperms < y->nperms);
	for (size_t i = 0; !c && i < x->nperms; i++)
		c = strcmp(x->perms[i], y->perms[i]);
	if (!c)
		c = (x > y) - (x < y); /* keep input order among equals */
	return c;
}

static int rank_cmp_denial(const void *a, const void *b)
{
	const mcs_try_denial *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

MCS_EXPORT int mcs_try_type(const mcs_avc *avcs, size_t n, const char *type,
			    mcs_try_result *ret, mcs_error *err)
{
	_cleanup_free_ const mcs_avc **order = NULL;
	int r;

	*ret = (mcs_try_result){0};
	r = mcs_rank_breadth(type, &ret->breadth, err);
	if (r < 0)
		return r;
	ret->type = strdup(type);
	order = calloc(n ? n : 1, sizeof(*order));
	if (!ret->type || !order)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		order[i] = &avcs[i];
	qsort(order, n, sizeof(*order), rank_cmp_avc);
	for (size_t k = 0; k < n; k++) {
		const mcs_avc *a = order[k];
		_cleanup_free_ char *s = NULL, *t = NULL;
		mcs_policy_result res;
		mcs_error e = {0};
		mcs_try_denial *d;
		char *verdict = NULL;

		if (!a->denied || (k && rank_same_access(order[k - 1], a)))
			continue;
		ret->accesses++;
		s = rank_with_type(a->scontext, type);
		t = rank_same_type(a->scontext, a->tcontext)
			    ? rank_with_type(a->tcontext, type)
			    : strdup(a->tcontext);
		if (!s || !t)
			goto nomem;
		r = mcs_policy_check(s, t, a->tclass, a->perms, a->nperms, &res,
				     &e);
		if (r == -ENOMEM)
			goto nomem;
		if (r == 0 && res.verdict == MCS_VERDICT_ALLOWED)
			continue;
		if (r < 0 ? asprintf(&verdict, "error: %s", e.msg) < 0
			  : asprintf(&verdict, "%s: %s",
				     mcs_verdict_name(res.verdict),
				     res.reason ? res.reason : "") < 0) {
			if (r == 0)
				mcs_policy_result_done(&res);
			goto nomem;
		}
		if (r == 0)
			mcs_policy_result_done(&res);
		d = reallocarray(ret->denied, ret->ndenied + 1,
				 sizeof(*ret->denied));
		if (!d) {
			free(verdict);
			goto nomem;
		}
		ret->denied = d;
		ret->denied[ret->ndenied++] = (mcs_try_denial){
			.index = (size_t)(a - avcs),
			.scontext = TAKE_PTR(s),
			.tcontext = TAKE_PTR(t),
			.verdict = verdict,
		};
	}
	/* in input order, as the author recorded them */
	if (ret->ndenied)
		qsort(ret->denied, ret->ndenied, sizeof(*ret->denied),
		      rank_cmp_denial);
	return 0;
nomem:
	mcs_try_result_done(ret);
	return mcs_error_set(err, -ENOMEM, "out of memory");
}
