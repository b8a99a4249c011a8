/* SPDX-License-Identifier: MIT */
/*
 * avc.c - the AVC reader: turn lines of audit.log, dmesg, the journal or
 * a recorded access list into mcs_avc records (mcs/avc.h).  It owns the
 * syntax of those lines only; what a record means under a policy is
 * explain.c's and rank.c's job.
 *
 * The kernel writes `avc:  denied  { perm ... } for  key=value ...`,
 * with values either quoted (never containing a quote) or unquoted (no
 * blank: untrusted strings are hex-encoded), so the key=value words are
 * tokenised, never searched for: a file named "x scontext=y" cannot
 * forge a field.  Every record is bounded (line length, permission
 * count, field length) and a field given twice is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcs/avc.h>

#include "readinput.h"
#include "util.h"

#define AVC_FILE_MAX	(256LL << 20)
#define AVC_CONTEXT_MAX 4096
#define AVC_BLANKS	" \t\r\n\x1d"

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

MCS_EXPORT void mcs_avc_done(mcs_avc *avc)
{
	free(avc->storage);
	*avc = (mcs_avc){.permissive = -1};
}

/* A class or permission name (or a kernel's 0x... for an unknown bit). */
static bool avc_valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MCS_POLICY_NAME_MAX && strspn(s, name_chars) == n;
}

/* A context as the kernel prints it: printable, no blank, has a ':'. */
static bool avc_valid_context(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AVC_CONTEXT_MAX || !strchr(s, ':'))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

/* Split a comma-separated permission list into ret. */
static int avc_perm_list(char *list, mcs_avc *ret, mcs_error *err)
{
	char *perm;

	while ((perm = strsep(&list, ","))) {
		if (!avc_valid_name(perm))
			return mcs_error_set(err, -EINVAL,
					     "bad permission \"%.64s\"", perm);
		if (ret->nperms == MCS_POLICY_PERMS_MAX)
			return mcs_error_set(err, -EINVAL,
					     "more than %d permissions",
					     MCS_POLICY_PERMS_MAX);
		ret->perms[ret->nperms++] = perm;
	}
	return 0;
}

/* SCONTEXT TCONTEXT CLASS PERM[,PERM...]: 1, 0 (not one), -EINVAL. */
static int avc_parse_access(char *s, mcs_avc *ret, mcs_error *err)
{
	char *fields[4], *save = NULL, *tok;
	size_t n = 0;

	s += strspn(s, AVC_BLANKS);
	if (*s == '\0' || *s == '#')
		return 0;
	for (tok = strtok_r(s, AVC_BLANKS, &save); tok;
	     tok = strtok_r(NULL, AVC_BLANKS, &save)) {
		if (n == ELEMENTSOF(fields))
			return 0;
		fields[n++] = tok;
	}
	if (n != ELEMENTSOF(fields) || !avc_valid_context(fields[0]) ||
	    !avc_valid_context(fields[1]))
		return 0;
	if (!avc_valid_name(fields[2]))
		return mcs_error_set(err, -EINVAL, "bad class \"%.64s\"",
				     fields[2]);
	ret->scontext = fields[0];
	ret->tcontext = fields[1];
	ret->tclass = fields[2];
	ret->access = true;
	ret->denied = true;
	return avc_perm_list(fields[3], ret, err) < 0 ? -EINVAL : 1;
}

/* Set *slot to val once; a second occurrence is refused. */
static int avc_field(const char **slot, const char *key, const char *val,
		     mcs_error *err)
{
	if (*slot)
		return mcs_error_set(err, -EINVAL, "%s given twice", key);
	*slot = val;
	return 0;
}

/* The text after "avc:".  1, 0 (another avc: message), -EINVAL. */
static int avc_parse_record(char *p, mcs_avc *ret, mcs_error *err)
{
	const char *permissive = NULL;
	int r;

	p += strspn(p, " ");
	if (strncmp(p, "denied", 6) == 0 && strchr(" {", p[6])) {
		ret->denied = true;
		p += 6;
	} else if (strncmp(p, "granted", 7) == 0 && strchr(" {", p[7])) {
		p += 7;
	} else {
		return 0; /* "avc:  received policyload notice" and the like */
	}
	p += strspn(p, " ");
	if (*p++ != '{')
		return mcs_error_set(err, -EINVAL, "no { permission list }");
	for (;;) {
		char *tok, end;

		p += strspn(p, " ");
		if (*p == '}') {
			p++;
			break;
		}
		if (*p == '\0')
			return mcs_error_set(err, -EINVAL,
					     "permission list not closed");
		tok = p;
		p += strcspn(p, " }");
		end = *p;
		*p = '\0';
		if (!avc_valid_name(tok))
			return mcs_error_set(err, -EINVAL,
					     "bad permission \"%.64s\"", tok);
		if (ret->nperms == MCS_POLICY_PERMS_MAX)
			return mcs_error_set(err, -EINVAL,
					     "more than %d permissions",
					     MCS_POLICY_PERMS_MAX);
		ret->perms[ret->nperms++] = tok;
		if (end == '\0')
			return mcs_error_set(err, -EINVAL,
					     "permission list not closed");
		p++;
		if (end == '}')
			break;
	}
	if (ret->nperms == 0)
		return mcs_error_set(err, -EINVAL, "empty permission list");

	/* key=value words; other words ("for") are skipped. */
	while (*p) {
		char *key, *val;

		p += strspn(p, AVC_BLANKS "'");
		if (!*p)
			break;
		key = p;
		p += strspn(p, name_chars);
		if (*p != '=' || p == key) {
			p += strcspn(p, AVC_BLANKS);
			continue;
		}
		*p++ = '\0';
		if (*p == '"') {
			char *q = strchr(++p, '"');

			if (!q)
				return mcs_error_set(err, -EINVAL,
						     "%s=\" not closed", key);
			val = p;
			*q = '\0';
			p = q + 1;
		} else {
			size_t vl;

			val = p;
			p += strcspn(p, AVC_BLANKS);
			if (*p)
				*p++ = '\0';
			vl = strlen(val); /* USER_AVC: msg='... terminal=?' */
			if (vl && val[vl - 1] == '\'')
				val[vl - 1] = '\0';
		}
		if (strcmp(key, "scontext") == 0)
			r = avc_field(&ret->scontext, key, val, err);
		else if (strcmp(key, "tcontext") == 0)
			r = avc_field(&ret->tcontext, key, val, err);
		else if (strcmp(key, "tclass") == 0)
			r = avc_field(&ret->tclass, key, val, err);
		else if (strcmp(key, "permissive") == 0)
			r = avc_field(&permissive, key, val, err);
		else if (strcmp(key, "comm") == 0)
			r = avc_field(&ret->comm, key, val, err);
		else
			r = 0;
		if (r < 0)
			return r;
	}
	if (!ret->scontext || !ret->tcontext || !ret->tclass)
		return mcs_error_set(err, -EINVAL, "no %s (truncated record?)",
				     !ret->scontext   ? "scontext"
				     : !ret->tcontext ? "tcontext"
						      : "tclass");
	if (!avc_valid_context(ret->scontext))
		return mcs_error_set(err, -EINVAL, "bad scontext \"%.64s\"",
				     ret->scontext);
	if (!avc_valid_context(ret->tcontext))
		return mcs_error_set(err, -EINVAL, "bad tcontext \"%.64s\"",
				     ret->tcontext);
	if (!avc_valid_name(ret->tclass))
		return mcs_error_set(err, -EINVAL, "bad tclass \"%.64s\"",
				     ret->tclass);
	if (permissive && strcmp(permissive, "0") != 0 &&
	    strcmp(permissive, "1") != 0)
		return mcs_error_set(err, -EINVAL, "bad permissive=%.16s",
				     permissive);
	ret->permissive = permissive ? permissive[0] - '0' : -1;
	return 1;
}

MCS_EXPORT int mcs_avc_parse_line(const char *line, size_t len, mcs_avc *ret,
				  mcs_error *err)
{
	bool has_avc;
	char *a;
	int r;

	*ret = (mcs_avc){.permissive = -1};
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	has_avc = memmem(line, len, "avc:", 4) != NULL;
	if (len > MCS_AVC_LINE_MAX)
		return has_avc ? mcs_error_set(err, -EINVAL,
					       "line longer than %d bytes",
					       MCS_AVC_LINE_MAX)
			       : 0;
	if (memchr(line, '\0', len))
		return has_avc ? mcs_error_set(err, -EINVAL, "NUL byte") : 0;
	ret->storage = strndup(line, len);
	if (!ret->storage)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	a = has_avc ? strstr(ret->storage, "avc:") : NULL;
	r = a ? avc_parse_record(a + 4, ret, err)
	      : avc_parse_access(ret->storage, ret, err);
	if (r <= 0)
		mcs_avc_done(ret);
	return r;
}

MCS_EXPORT void mcs_avc_free(mcs_avc *avcs, size_t n)
{
	if (!avcs)
		return;
	for (size_t i = 0; i < n; i++)
		mcs_avc_done(&avcs[i]);
	free(avcs);
}

MCS_EXPORT int mcs_avc_read(const char *path, mcs_avc **ret, size_t *ret_n,
			    size_t *ret_malformed, mcs_error *err)
{
	_cleanup_free_ char *line = NULL;
	mcs_avc *v = NULL;
	size_t n = 0, cap = 0, linecap = 0, malformed = 0;
	long long total = 0;
	unsigned lineno = 0;
	ssize_t len;
	FILE *f;
	int r;

	r = readinput_open(path, AVC_FILE_MAX, &f, err);
	if (r < 0)
		return r;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		mcs_avc rec;

		lineno++;
		total += len;
		if (total > AVC_FILE_MAX) {
			r = mcs_error_set(err, -EFBIG,
					  "%s: more than %lld bytes", path,
					  AVC_FILE_MAX);
			break;
		}
		r = mcs_avc_parse_line(line, (size_t)len, &rec, NULL);
		if (r == -ENOMEM) {
			r = mcs_error_set(err, r, "out of memory");
			break;
		}
		if (r < 0)
			malformed++;
		if (r <= 0) {
			r = 0;
			continue;
		}
		if (n == MCS_AVC_RECORDS_MAX) {
			mcs_avc_done(&rec);
			r = mcs_error_set(err, -E2BIG,
					  "%s: more than %d records", path,
					  MCS_AVC_RECORDS_MAX);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			mcs_avc *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				mcs_avc_done(&rec);
				r = mcs_error_set(err, -ENOMEM,
						  "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		rec.lineno = lineno;
		v[n++] = rec;
	}
	if (r == 0 && ferror(f))
		r = mcs_error_set(err, -EIO, "read %s: I/O error", path);
	fclose(f);
	if (r < 0) {
		mcs_avc_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	if (ret_malformed)
		*ret_malformed = malformed;
	return 0;
}
