/* SPDX-License-Identifier: MIT */
/*
 * config.c - mcs-oci's configuration: built-in defaults, then the
 * `key = value` file (/etc/mcskit/mcs-oci.conf, or $MCS_OCI_CONFIG), then
 * the environment ($MCS_OCI_RUNTIME, $MCSD_SOCKET).  The default file may
 * be missing; a file named by $MCS_OCI_CONFIG must exist.  Any bad line
 * makes the whole load fail (mcs-oci then refuses to run: fail closed).
 *
 *   runtime = /usr/bin/crun       the real runtime (else crun, runc on PATH)
 *   socket = /run/mcsd/mcsd.sock  mcsd's socket
 *   on_unavailable = fail | pass  mcsd unreachable: refuse, or start anyway
 *   timeout_ms = 30000            per call to mcsd (0: wait forever)
 *   state_roots = /run/crun /run/runc /run/user/STAR/crun  (glob patterns)
 *   lock_dir = /run/mcs-oci       root's creation locks (lock.c); other
 *                                 uids lock in /run/user/UID/mcs-oci
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcs-oci.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int set_str(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -ENAMETOOLONG;
	snprintf(dst, size, "%s", v);
	return 0;
}

static int set_roots(struct oci_config *cfg, char *v)
{
	char *save = NULL;

	cfg->n_roots = 0;
	for (char *t = strtok_r(v, " \t:", &save); t;
	     t = strtok_r(NULL, " \t:", &save)) {
		if (cfg->n_roots == OCI_MAX_ROOTS)
			return -E2BIG;
		if (set_str(cfg->roots[cfg->n_roots++], sizeof(cfg->roots[0]),
			    t) < 0)
			return -ENAMETOOLONG;
	}
	return 0;
}

static int set_key(struct oci_config *cfg, const char *k, char *v)
{
	if (strcmp(k, "runtime") == 0) {
		if (v[0] != '/')
			return -EINVAL;
		return set_str(cfg->runtime, sizeof(cfg->runtime), v);
	}
	if (strcmp(k, "socket") == 0)
		return set_str(cfg->socket, sizeof(cfg->socket), v);
	if (strcmp(k, "on_unavailable") == 0) {
		if (strcmp(v, "fail") == 0)
			cfg->on_unavailable = OCI_FAIL_CLOSED;
		else if (strcmp(v, "pass") == 0)
			cfg->on_unavailable = OCI_PASS;
		else
			return -EINVAL;
		return 0;
	}
	if (strcmp(k, "timeout_ms") == 0) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*v == '\0' || *end || n < 0 || n > 600000)
			return -EINVAL;
		cfg->timeout_ms = (int)n;
		return 0;
	}
	if (strcmp(k, "state_roots") == 0)
		return set_roots(cfg, v);
	if (strcmp(k, "lock_dir") == 0)
		return *v == '/' ? set_str(cfg->lock_dir, sizeof(cfg->lock_dir),
					   v)
				 : -EINVAL;
	return -ENOKEY;
}

static int load_file(struct oci_config *cfg, const char *path, bool must,
		     mcs_error *err)
{
	__attribute__((cleanup(fclosep))) FILE *f = fopen(path, "re");
	char line[4096];
	unsigned no = 0;

	if (!f) {
		if (errno == ENOENT && !must)
			return 0;
		return mcs_error_set(err, -errno, "%s: %s", path,
				     strerror(errno));
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;
		int r;

		no++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: want key = value", path,
					     no);
		*eq = '\0';
		r = set_key(cfg, trim(s), trim(eq + 1));
		if (r == -ENOKEY)
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: unknown key \"%s\"", path,
					     no, trim(s));
		if (r < 0)
			return mcs_error_set(err, r, "%s:%u: bad value for %s",
					     path, no, trim(s));
	}
	return 0;
}

int oci_config_load(struct oci_config *cfg, mcs_error *err)
{
	const char *path = getenv("MCS_OCI_CONFIG"), *v;
	char roots[] = "/run/crun /run/runc /run/user/*/crun";
	int r;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", MCS_DEFAULT_SOCKET);
	cfg->timeout_ms = 30000;
	set_roots(cfg, roots);
	snprintf(cfg->lock_dir, sizeof(cfg->lock_dir), "/run/mcs-oci");
	r = load_file(cfg, path && *path ? path : OCI_DEFAULT_CONFIG,
		      path && *path, err);
	if (r < 0)
		return r;
	v = getenv("MCS_OCI_RUNTIME");
	if (v && *v) {
		if (set_str(cfg->runtime, sizeof(cfg->runtime), v) < 0)
			return mcs_error_set(err, -ENAMETOOLONG,
					     "MCS_OCI_RUNTIME too long");
	}
	v = getenv("MCSD_SOCKET");
	if (v && *v && set_str(cfg->socket, sizeof(cfg->socket), v) < 0)
		return mcs_error_set(err, -ENAMETOOLONG,
				     "MCSD_SOCKET too long: %s", v);
	return 0;
}
