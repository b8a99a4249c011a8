/* SPDX-License-Identifier: MIT */
/*
 * ifindex.c - which refpolicy interface grants an access: an index of
 * sepolgen-ifgen's interface_info (the file audit2allow -R reads), built
 * from the policy headers at build time ($(O)/policy/interface_info) or
 * found at /var/lib/sepolgen/interface_info.
 *
 * Format: "[InterfaceVector NAME $1:source ... ]" then one access vector
 * a line, "SRC,TGT,CLASS,PERM,PERM...".  Only interfaces with one
 * argument are kept, and of their vectors only those "$1,TYPE,...": the
 * domain given gets PERMs on a named type.  The best match for an access
 * is the interface that covers it and grants the fewest permissions in
 * all (the narrowest).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcs/explain.h>

#include "readinput.h"
#include "util.h"

#define IFINDEX_FILE_MAX (64LL << 20)

typedef struct ifindex_vec {
	char *ttype, *tclass, *perms; /* one allocation; perms ",p1,p2," */
	size_t iface;		      /* index into ifaces */
} ifindex_vec;

typedef struct ifindex_iface {
	char *name;
	size_t breadth; /* permissions its vectors grant in all */
} ifindex_iface;

struct mcs_ifindex {
	ifindex_iface *ifaces;
	size_t nifaces, capifaces;
	ifindex_vec *vecs;
	size_t nv, capv;
};

MCS_EXPORT void mcs_ifindex_free(mcs_ifindex *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->nifaces; i++)
		free(idx->ifaces[i].name);
	for (size_t i = 0; i < idx->nv; i++)
		free(idx->vecs[i].ttype);
	free(idx->ifaces);
	free(idx->vecs);
	free(idx);
}

static int ifindex_grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 256;
	nv = reallocarray(*v, ncap, size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* "[InterfaceVector name $1:source ]": add it when it has one argument. */
static int ifindex_header(mcs_ifindex *idx, char *line, bool *keep)
{
	char *save = NULL, *tok, *name;
	unsigned args = 0;

	*keep = false;
	strtok_r(line, " ]\n", &save); /* "[InterfaceVector" */
	name = strtok_r(NULL, " ]\n", &save);
	if (!name)
		return 0;
	while ((tok = strtok_r(NULL, " ]\n", &save)))
		args += tok[0] == '$';
	if (args != 1)
		return 0;
	if (ifindex_grow((void **)&idx->ifaces, &idx->capifaces, idx->nifaces,
			 sizeof(*idx->ifaces)) < 0)
		return -ENOMEM;
	name = strdup(name);
	if (!name)
		return -ENOMEM;
	idx->ifaces[idx->nifaces++] = (ifindex_iface){.name = name};
	*keep = true;
	return 0;
}

/* "$1,TYPE,CLASS,P1,P2": index it for the last interface. */
static int ifindex_vector(mcs_ifindex *idx, const char *line)
{
	const char *c1, *c2;
	char *buf;
	size_t tl, cl;

	if (strncmp(line, "$1,", 3) != 0)
		return 0;
	line += 3;
	c1 = strchr(line, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2 || line[0] == '$')
		return 0;
	tl = (size_t)(c1 - line);
	cl = (size_t)(c2 - c1 - 1);
	if (ifindex_grow((void **)&idx->vecs, &idx->capv, idx->nv,
			 sizeof(*idx->vecs)) < 0 ||
	    asprintf(&buf, "%.*s%c%.*s%c%s,", (int)tl, line, 0, (int)cl, c1 + 1,
		     0, c2) < 0)
		return -ENOMEM;
	idx->vecs[idx->nv++] = (ifindex_vec){
		.ttype = buf,
		.tclass = buf + tl + 1,
		.perms = buf + tl + 1 + cl + 1,
		.iface = idx->nifaces - 1,
	};
	return 0;
}

MCS_EXPORT int mcs_ifindex_load(const char *path, mcs_ifindex **ret,
				mcs_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t linecap = 0;
	mcs_ifindex *idx;
	bool keep = false;
	ssize_t len;
	FILE *f;
	int r;

	r = readinput_open(path, IFINDEX_FILE_MAX, &f, err);
	if (r < 0)
		return r;
	idx = calloc(1, sizeof(*idx));
	if (!idx) {
		fclose(f);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	while (r == 0 && (len = getline(&line, &linecap, f)) >= 0) {
		if (memchr(line, '\0', (size_t)len)) {
			r = mcs_error_set(err, -EINVAL, "%s: NUL byte", path);
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "[InterfaceVector ", 17) == 0) {
			r = ifindex_header(idx, line, &keep);
		} else if (keep) {
			size_t commas = 0;

			for (const char *c = line; *c; c++)
				commas += *c == ',';
			idx->ifaces[idx->nifaces - 1].breadth +=
				commas > 2 ? commas - 2 : 0;
			r = ifindex_vector(idx, line);
		}
	}
	if (r == 0 && ferror(f))
		r = mcs_error_set(err, -EIO, "read %s: I/O error", path);
	fclose(f);
	if (r == -ENOMEM)
		r = mcs_error_set(err, r, "out of memory");
	if (r == 0 && idx->nifaces == 0)
		r = mcs_error_set(err, -EINVAL,
				  "%s: no interface (not sepolgen's "
				  "interface_info?)",
				  path);
	if (r < 0) {
		mcs_ifindex_free(idx);
		return r;
	}
	*ret = idx;
	return 0;
}

/* Every blank-separated word of perms is in the ",a,b," list have. */
static bool ifindex_has_all(const char *have, const char *perms)
{
	const char *p = perms;

	while (*p) {
		char word[MCS_POLICY_NAME_MAX + 3];
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n > MCS_POLICY_NAME_MAX)
			return false;
		word[0] = ',';
		memcpy(word + 1, p, n);
		word[n + 1] = ',';
		word[n + 2] = '\0';
		if (!strstr(have, word))
			return false;
		p += n;
	}
	return true;
}

MCS_EXPORT const char *mcs_ifindex_find(const mcs_ifindex *idx,
					const char *ttype, const char *tclass,
					const char *perms)
{
	const char *best = NULL;
	size_t best_n = SIZE_MAX;

	if (!idx)
		return NULL;
	for (size_t i = 0; i < idx->nv; i++) {
		const ifindex_vec *v = &idx->vecs[i];

		if (strcmp(v->ttype, ttype) != 0 ||
		    strcmp(v->tclass, tclass) != 0 ||
		    idx->ifaces[v->iface].breadth >= best_n ||
		    !ifindex_has_all(v->perms, perms))
			continue;
		best = idx->ifaces[v->iface].name;
		best_n = idx->ifaces[v->iface].breadth;
	}
	return best;
}
