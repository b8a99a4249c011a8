/* SPDX-License-Identifier: MIT */
/*
 * store.c - picks the registry's storage engine from its location: a
 * scheme ("sqlite:", "postgresql://") names the engine, anything else is
 * a path of the sqlite engine.  The engines themselves live in
 * store_<name>.c behind store.h.
 */
#include <errno.h>
#include <string.h>

#include "store.h"

static const struct {
	const char *scheme; /* up to and without the ':' */
	const struct store_ops *ops;
	bool whole_uri; /* the engine gets the URI, not what follows ':' */
} engines[] = {
	{"sqlite", &store_sqlite_ops, false},
	{"postgresql", &store_pg_ops, true},
	{"postgres", &store_pg_ops, true},
	{"pg", &store_pg_ops, false}, /* pg:CONNINFO */
};

int store_open(const char *uri, const store_config *cfg, store **ret,
	       mcs_error *err)
{
	size_t n;

	if (!uri || !*uri || !cfg || !ret)
		return mcs_error_set(err, -EINVAL, "no registry location");
	/* a scheme: [a-z]+ then ':' ("/a:b" and ":memory:" are paths) */
	n = strspn(uri, "abcdefghijklmnopqrstuvwxyz");
	if (n == 0 || uri[n] != ':')
		return store_sqlite_ops.open(uri, cfg, ret, err);
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strlen(engines[i].scheme) == n &&
		    strncmp(uri, engines[i].scheme, n) == 0)
			return engines[i].ops->open(
				engines[i].whole_uri ? uri : uri + n + 1, cfg,
				ret, err);
	return mcs_error_set(err, -EPROTONOSUPPORT,
			     "no storage engine for \"%.*s:\"", (int)n, uri);
}
