/* SPDX-License-Identifier: MIT */
/*
 * config.c - mcsd's configuration: built-in defaults, the `key = value`
 * config file parsed into a fresh struct that replaces the caller's only
 * when the whole file is valid (OpenBSD style), and the check behind
 * `mcsd -n`.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcs/label.h>
#include "server.h"

#include "util.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void mcsd_server_config_init(mcsd_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
		 "/run/mcsd/mcsd.sock");
	snprintf(cfg->db_path, sizeof(cfg->db_path), "%s", MCS_DEFAULT_DB);
	snprintf(cfg->range, sizeof(cfg->range), "%s", MCS_DEFAULT_RANGE);
	cfg->read_timeout_ms = 5000;
	cfg->idle_timeout_ms = 60000;
	cfg->max_clients = 1024;
	cfg->max_clients_per_uid = 64;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		     s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int set_str(char *dst, size_t size, const char *val)
{
	if (!*val || strlen(val) >= size)
		return -EINVAL;
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int set_int(int *dst, const char *val)
{
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (errno || end == val || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*dst = (int)v;
	return 0;
}

static int config_set(mcsd_server_config *c, const char *key, const char *val)
{
	if (strcmp(key, "socket") == 0)
		return set_str(c->socket_path, sizeof(c->socket_path), val);
	if (strcmp(key, "db") == 0 || strcmp(key, "registry") == 0)
		return set_str(c->db_path, sizeof(c->db_path), val);
	if (strcmp(key, "host_id") == 0)
		return set_str(c->host_id, sizeof(c->host_id), val);
	if (strcmp(key, "range") == 0)
		return set_str(c->range, sizeof(c->range), val);
	if (strcmp(key, "group") == 0)
		return set_str(c->group, sizeof(c->group), val);
	if (strcmp(key, "read_timeout_ms") == 0)
		return set_int(&c->read_timeout_ms, val);
	if (strcmp(key, "idle_timeout_ms") == 0)
		return set_int(&c->idle_timeout_ms, val);
	if (strcmp(key, "max_clients") == 0)
		return set_int(&c->max_clients, val);
	if (strcmp(key, "max_clients_per_uid") == 0)
		return set_int(&c->max_clients_per_uid, val);
	return -ENOENT;
}

int mcsd_server_config_load(mcsd_server_config *cfg, const char *path,
			    mcs_error *err)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	if (!f)
		return mcs_error_set(err, negative_errno(), "%s: %m", path);

	mcsd_server_config fresh = *cfg;
	char line[8192];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: expected key = value",
					     path, lineno);
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		int r = config_set(&fresh, key, val);
		if (r == -ENOENT)
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: unknown key '%s'", path,
					     lineno, key);
		if (r < 0)
			return mcs_error_set(err, -EINVAL,
					     "%s:%u: bad value for %s: '%s'",
					     path, lineno, key, val);
	}
	if (ferror(f))
		return mcs_error_set(err, -EIO, "%s: read error", path);
	*cfg = fresh;
	return 0;
}

int mcsd_server_config_check(mcsd_server_config *cfg, mcs_error *err)
{
	mcs_cat_range range;
	int r = mcs_cat_range_parse(cfg->range, &range, err);
	if (r < 0)
		return mcs_error_prefix(err, "range '%s': ", cfg->range);
	if (cfg->read_timeout_ms <= 0 || cfg->idle_timeout_ms <= 0 ||
	    cfg->max_clients <= 0 || cfg->max_clients_per_uid <= 0)
		return mcs_error_set(err, -EINVAL,
				     "timeouts and max_clients must be "
				     "positive");
	if (!cfg->socket_path[0] || !cfg->db_path[0])
		return mcs_error_set(err, -EINVAL,
				     "socket and db paths must be set");
	if (cfg->group[0]) {
		struct group gr, *res = NULL;
		char buf[16384];
		char *end;
		unsigned long gid = strtoul(cfg->group, &end, 10);
		if (*end == '\0') {
			cfg->gid = (gid_t)gid;
			return 0;
		}
		if (getgrnam_r(cfg->group, &gr, buf, sizeof(buf), &res) != 0 ||
		    !res)
			return mcs_error_set(err, -EINVAL,
					     "group '%s' does not exist",
					     cfg->group);
		cfg->gid = res->gr_gid;
	}
	return 0;
}
