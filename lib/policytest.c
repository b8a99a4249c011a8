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

#include "readinput.h"
#include "util.h"

#define POLICYTEST_ROWS_MAX 100000
/* Largest table and longest line read. */
#define POLICYTEST_FILE_MAX (64LL << 20)
#define POLICYTEST_LINE_MAX 16384

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
	/* strsep, not strtok: "read,,write" has an empty permission. */
	for (char *list = fields[3]; (perm = strsep(&list, ","));) {
		if (*perm == '\0')
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: empty permission in the "
					     "list (\",,\" or "
					     "a leading or trailing \",\")",
					     path, lineno);
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
			"denied-constraint, denied-other, denied or invalid",
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
	ssize_t len;
	int r;

	r = readinput_open(path, POLICYTEST_FILE_MAX, &f, err);
	if (r < 0)
		return r;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		char *s, *copy;

		lineno++;
		if (memchr(line, '\0', (size_t)len)) {
			r = mcs_error_set(err, -EINVAL,
					  "%s:%u: NUL byte in the line", path,
					  lineno);
			break;
		}
		if (len > POLICYTEST_LINE_MAX) {
			r = mcs_error_set(err, -EINVAL,
					  "%s:%u: line longer than %d bytes",
					  path, lineno, POLICYTEST_LINE_MAX);
			break;
		}
		s = policytest_trim(line);
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
	if (r == 0 && n == 0)
		r = mcs_error_set(err, -EINVAL, "%s: no test row", path);
	fclose(f);
	if (r < 0) {
		mcs_policytest_free(rows, n);
		return r;
	}
	*ret_rows = rows;
	*ret_n = n;
	return 0;
}
