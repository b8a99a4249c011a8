/* SPDX-License-Identifier: MIT */
/*
 * policytest.c - parse the expectation tables `mcs-policy test` runs.
 *
 * One row a line: SCONTEXT TCONTEXT CLASS PERM[,PERM...] EXPECTED, fields
 * separated by blanks, optionally followed by "# comment".  Blank lines
 * and '#' lines are skipped.  Each row owns a copy of its line; its string
 * fields point into that copy.  Decisions are not made here (policy.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcs/policy.h>

#include "util.h"

#define POLICYTEST_ROWS_MAX 100000

static char *policytest_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Parse line (owned by row on success) into *row. */
static int policytest_parse_line(char *line, unsigned lineno, const char *path,
				 mcs_policytest_row *row, mcs_error *err)
{
	char *fields[5], *hash, *save = NULL, *tok, *perm;
	size_t n = 0;

	*row = (mcs_policytest_row){.lineno = lineno, .storage = line};
	hash = strchr(line, '#');
	if (hash) {
		*hash = '\0';
		row->comment = policytest_trim(hash + 1);
	} else {
		row->comment = line + strlen(line);
	}
	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == ELEMENTSOF(fields))
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: more than 5 fields", path,
					     lineno);
		fields[n++] = tok;
	}
	if (n != ELEMENTSOF(fields))
		return mcs_error_set(err, -EINVAL,
				     "%s:%u: expected SCONTEXT TCONTEXT CLASS "
				     "PERMS VERDICT, got %zu fields",
				     path, lineno, n);
	row->scontext = fields[0];
	row->tcontext = fields[1];
	row->tclass = fields[2];
	save = NULL;
	for (perm = strtok_r(fields[3], ",", &save); perm;
	     perm = strtok_r(NULL, ",", &save)) {
		if (row->nperms == MCS_POLICY_PERMS_MAX)
			return mcs_error_set(
				err, -EINVAL, "%s:%u: more than %d permissions",
				path, lineno, MCS_POLICY_PERMS_MAX);
		row->perms[row->nperms++] = perm;
	}
	if (row->nperms == 0)
		return mcs_error_set(err, -EINVAL, "%s:%u: no permission", path,
				     lineno);
	if (mcs_verdict_from_name(fields[4], &row->expected) < 0)
		return mcs_error_set(
			err, -EINVAL,
			"%s:%u: verdict \"%s\" is not allowed, denied-te, "
			"denied-constraint or denied-other",
			path, lineno, fields[4]);
	return 0;
}

MCS_EXPORT void mcs_policytest_free(mcs_policytest_row *rows, size_t n)
{
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		free(rows[i].storage);
	free(rows);
}

MCS_EXPORT int mcs_policytest_parse(const char *path,
				    mcs_policytest_row **ret_rows,
				    size_t *ret_n, mcs_error *err)
{
	_cleanup_free_ char *line = NULL;
	mcs_policytest_row *rows = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return mcs_error_set(err, negative_errno(), "open %s: %m",
				     path);
	while (getline(&line, &linecap, f) >= 0) {
		char *s = policytest_trim(line), *copy;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if (n == POLICYTEST_ROWS_MAX) {
			r = mcs_error_set(err, -E2BIG, "%s: more than %d rows",
					  path, POLICYTEST_ROWS_MAX);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			mcs_policytest_row *nr =
				realloc(rows, ncap * sizeof(*rows));

			if (!nr) {
				r = mcs_error_set(err, -ENOMEM,
						  "out of memory");
				break;
			}
			rows = nr;
			cap = ncap;
		}
		copy = strdup(s);
		if (!copy) {
			r = mcs_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		r = policytest_parse_line(copy, lineno, path, &rows[n], err);
		if (r < 0) {
			free(copy);
			break;
		}
		n++;
	}
	if (r == 0 && ferror(f))
		r = mcs_error_set(err, -EIO, "read %s: I/O error", path);
	fclose(f);
	if (r < 0) {
		mcs_policytest_free(rows, n);
		return r;
	}
	*ret_rows = rows;
	*ret_n = n;
	return 0;
}
