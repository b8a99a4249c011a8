/* SPDX-License-Identifier: MIT */
/*
 * explain.c - why the loaded policy denies (or allows) one access: the
 * logic of `mcs-policy why`.  Each denied permission is decided alone
 * (lib/policy.c), then classified: no TE rule (and the allow rule and
 * refpolicy interface that would grant it), a conditional rule switched
 * off by booleans (read from libsepol's conditional avtab), a failed
 * MLS/MCS constraint (only those covering the permission), or RBAC/type
 * bounds.  Denials a dontaudit rule silences are noted as such.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sepol/policydb/avtab.h>
#include <sepol/policydb/conditional.h>
#include <sepol/policydb/ebitmap.h>
#include <sepol/policydb/services.h>

/* cond_expr_t has a member named "bool": read it before <stdbool.h>. */
static inline uint32_t explain_cond_bool(const cond_expr_t *e)
{
	return e->bool;
}

#include <mcs/explain.h>

#include "policy_int.h"
#include "util.h"

static const char *const why_names[] = {
	[MCS_WHY_ALLOWED] = "allowed", [MCS_WHY_TE] = "te",
	[MCS_WHY_BOOLEAN] = "boolean", [MCS_WHY_CONSTRAINT] = "constraint",
	[MCS_WHY_OTHER] = "other",
};

MCS_EXPORT const char *mcs_why_kind_name(mcs_why_kind kind)
{
	return (unsigned)kind < ELEMENTSOF(why_names) ? why_names[kind]
						      : "unknown";
}

MCS_EXPORT void mcs_why_done(mcs_why *w)
{
	free(w->scontext);
	free(w->tcontext);
	free(w->te_perms);
	free(w->allow_rule);
	free(w->interface);
	free(w->bool_perms);
	free(w->booleans);
	free(w->cons_perms);
	free(w->constraints);
	free(w->other_perms);
	free(w->dontaudit_perms);
	*w = (mcs_why){0};
}

/* Bit (0-based) of an ebitmap, without libsepol's unexported helpers. */
static bool explain_ebit(const ebitmap_t *e, uint32_t bit)
{
	for (const ebitmap_node_t *n = e->node; n && n->startbit <= bit;
	     n = n->next)
		if (bit < n->startbit + MAPSIZE)
			return (n->map >> (bit - n->startbit)) & 1;
	return false;
}

/* Does the avtab key's source/target (type or attribute) cover t? */
static bool explain_covers(const policydb_t *p, uint32_t key_type,
			   uint32_t type)
{
	if (key_type == type)
		return true;
	if (!p->type_attr_map || type == 0 || type > p->p_types.nprim)
		return false;
	return explain_ebit(&p->type_attr_map[type - 1], key_type - 1);
}

/* The type field of a context "user:role:type[:level]", in a new string. */
static char *explain_context_type(const char *con)
{
	const char *a = strchr(con, ':'), *b, *c;

	if (!a || !(b = strchr(a + 1, ':')))
		return NULL;
	c = strchr(b + 1, ':');
	return c ? strndup(b + 1, (size_t)(c - b - 1)) : strdup(b + 1);
}

/* Append word to the blank-separated list *list. */
static int explain_append(char **list, const char *word, const char *sep)
{
	char *n;

	if (*list && strstr(*list, word))
		return 0; /* already named (constraints repeat) */
	if (asprintf(&n, "%s%s%s", *list ? *list : "", *list ? sep : "", word) <
	    0)
		return -ENOMEM;
	free(*list);
	*list = n;
	return 0;
}

/* Render a conditional expression (RPN) with the booleans' values. */
static char *explain_cond_expr(const policydb_t *p, const cond_expr_t *e)
{
	char *stack[COND_EXPR_MAXDEPTH] = {0};
	int sp = 0;
	char *out = NULL;

	for (; e; e = e->next) {
		char *s = NULL;
		static const char *const ops[] = {
			[COND_OR] = "||", [COND_AND] = "&&", [COND_XOR] = "^",
			[COND_EQ] = "==", [COND_NEQ] = "!=",
		};

		if (e->expr_type == COND_BOOL) {
			if (sp == COND_EXPR_MAXDEPTH ||
			    explain_cond_bool(e) == 0 ||
			    explain_cond_bool(e) > p->p_bools.nprim)
				goto fail;
			if (asprintf(
				    &s, "%s=%s",
				    p->p_bool_val_to_name[explain_cond_bool(e) -
							  1],
				    p->bool_val_to_struct[explain_cond_bool(e) -
							  1]
						    ->state
					    ? "on"
					    : "off") < 0)
				goto fail;
			stack[sp++] = s;
		} else if (e->expr_type == COND_NOT) {
			if (sp < 1 || asprintf(&s, "!%s", stack[sp - 1]) < 0)
				goto fail;
			free(stack[sp - 1]);
			stack[sp - 1] = s;
		} else if (e->expr_type <= COND_LAST && ops[e->expr_type]) {
			if (sp < 2 ||
			    asprintf(&s, "(%s %s %s)", stack[sp - 2],
				     ops[e->expr_type], stack[sp - 1]) < 0)
				goto fail;
			free(stack[--sp]);
			free(stack[sp - 1]);
			stack[sp - 1] = s;
		} else {
			goto fail;
		}
	}
	if (sp == 1)
		out = TAKE_PTR(stack[0]);
fail:
	for (int i = 0; i < sp; i++)
		free(stack[i]);
	return out;
}

/*
 * A conditional allow rule for stype -> ttype:cls perm that the current
 * booleans switch off: its condition, worded, in *ret.  0 and *ret NULL
 * when there is none.
 */
static int explain_boolean(const policydb_t *p, uint32_t stype, uint32_t ttype,
			   uint16_t cls, uint32_t perm, char **ret)
{
	*ret = NULL;
	for (const cond_node_t *c = p->cond_list; c; c = c->next) {
		for (int branch = 1; branch >= 0; branch--) {
			const cond_av_list_t *l =
				branch ? c->true_list : c->false_list;

			if (c->cur_state == branch)
				continue; /* enabled now: not why it failed */
			for (; l; l = l->next) {
				const avtab_key_t *k = &l->node->key;
				_cleanup_free_ char *expr = NULL;

				if (!(k->specified & AVTAB_ALLOWED) ||
				    k->target_class != cls ||
				    !(l->node->datum.data & perm) ||
				    !explain_covers(p, k->source_type, stype) ||
				    !explain_covers(p, k->target_type, ttype))
					continue;
				expr = explain_cond_expr(p, c->expr);
				if (!expr)
					return -ENOMEM;
				if (c->expr && !c->expr->next &&
				    c->expr->expr_type == COND_BOOL)
					/* one boolean: "name=off (on allows
					 * it)" */
					return asprintf(ret,
							"%s (%s allows it)",
							expr,
							branch ? "on" : "off") <
							       0
						       ? -ENOMEM
						       : 0;
				return asprintf(ret, "%s is %s (%s allows it)",
						expr, branch ? "false" : "true",
						branch ? "true" : "false") < 0
					       ? -ENOMEM
					       : 0;
			}
		}
	}
	return 0;
}

static int explain_locked(const mcs_avc *avc, const mcs_ifindex *idx,
			  mcs_why *w, mcs_error *err)
{
	const policydb_t *p = policy_db_locked();
	_cleanup_free_ char *stype_name = NULL, *ttype_name = NULL;
	uint32_t stype, ttype, denied;
	policy_av all;
	int r;

	r = policy_canonical_locked("source", avc->scontext, &w->scontext, err);
	if (r < 0)
		return r;
	r = policy_canonical_locked("target", avc->tcontext, &w->tcontext, err);
	if (r < 0)
		return r;
	r = policy_av_locked(avc->scontext, avc->tcontext, avc->tclass,
			     avc->perms, avc->nperms, &all, err);
	if (r < 0)
		return r;
	denied = all.requested & ~all.allowed;
	policy_av_done(&all);
	if (!p)
		return mcs_error_set(err, -ENOENT, "no policy loaded");
	stype_name = explain_context_type(w->scontext);
	ttype_name = explain_context_type(w->tcontext);
	if (!stype_name || !ttype_name)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	stype = policy_type_value_locked(stype_name);
	ttype = policy_type_value_locked(ttype_name);

	for (size_t i = 0; i < avc->nperms; i++) {
		_cleanup_free_ char *cond = NULL;
		const char *perm = avc->perms[i];
		policy_av one;
		char **list;

		r = policy_av_locked(avc->scontext, avc->tcontext, avc->tclass,
				     &perm, 1, &one, err);
		if (r < 0)
			return r;
		if (!(one.requested & denied)) {
			policy_av_done(&one);
			continue;
		}
		if (!(one.auditdeny & one.requested))
			r = explain_append(&w->dontaudit_perms, perm, " ");
		if (r == 0 && (one.reason & SEPOL_COMPUTEAV_TE)) {
			r = explain_boolean(p, stype, ttype, one.cls,
					    one.requested, &cond);
			list = cond ? &w->bool_perms : &w->te_perms;
			if (r == 0)
				r = explain_append(list, perm, " ");
			if (r == 0 && cond)
				r = explain_append(&w->booleans, cond, "; ");
		} else if (r == 0 && (one.reason & SEPOL_COMPUTEAV_CONS)) {
			r = explain_append(&w->cons_perms, perm, " ");
			if (r == 0 && one.constraints)
				r = explain_append(&w->constraints,
						   one.constraints, "; ");
		} else if (r == 0) {
			r = explain_append(&w->other_perms, perm, " ");
		}
		policy_av_done(&one);
		if (r < 0)
			return mcs_error_set(err, -ENOMEM, "out of memory");
	}

	w->kind = w->te_perms	   ? MCS_WHY_TE
		  : w->bool_perms  ? MCS_WHY_BOOLEAN
		  : w->cons_perms  ? MCS_WHY_CONSTRAINT
		  : w->other_perms ? MCS_WHY_OTHER
				   : MCS_WHY_ALLOWED;
	if (w->te_perms) {
		bool self = strcmp(stype_name, ttype_name) == 0;
		const char *iface =
			idx ? mcs_ifindex_find(idx, ttype_name, avc->tclass,
					       w->te_perms)
			    : NULL;

		if (asprintf(&w->allow_rule, "allow %s %s:%s { %s };",
			     stype_name, self ? "self" : ttype_name,
			     avc->tclass, w->te_perms) < 0 ||
		    (iface &&
		     asprintf(&w->interface, "%s(%s)", iface, stype_name) < 0))
			return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

MCS_EXPORT int mcs_why_explain(const mcs_avc *avc, const mcs_ifindex *idx,
			       mcs_why *ret, mcs_error *err)
{
	int r;

	*ret = (mcs_why){0};
	if (avc->nperms == 0)
		return mcs_error_set(err, -EINVAL, "no permission");
	policy_lock_acquire();
	r = explain_locked(avc, idx, ret, err);
	policy_lock_release();
	if (r < 0)
		mcs_why_done(ret);
	return r;
}
