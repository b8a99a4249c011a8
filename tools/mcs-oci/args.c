/* SPDX-License-Identifier: MIT */
/*
 * args.c - reading the OCI runtime command line (crun and runc) without
 * changing it: where the global options end, which command it is, and for
 * create/run/delete the container id, --bundle and crun's --config.
 * Options are recognised with one or two dashes and in the NAME=VALUE and
 * NAME VALUE forms (runc's flag library takes both); an option we do not
 * know is taken as a flag, which is what every unknown global option of
 * both runtimes is.
 */
#include <string.h>

#include "mcs-oci.h"

/* Global options of crun and runc that take a value. */
static const char *const global_valued[] = {
	"root",		  "log",  "log-format", "log-level",
	"cgroup-manager", "criu", NULL,
};
/* Options of create/run that take a value. */
static const char *const create_valued[] = {
	"bundle",	  "b",	      "config",	      "f",
	"console-socket", "pid-file", "preserve-fds", NULL,
};

static bool in(const char *const *set, const char *name, size_t len)
{
	for (; *set; set++)
		if (strlen(*set) == len && strncmp(*set, name, len) == 0)
			return true;
	return false;
}

/* "--name=value" / "-name": name (not NUL-terminated) and its length. */
static const char *opt_name(const char *arg, size_t *len, const char **val)
{
	const char *n = arg + 1 + (arg[1] == '-');
	const char *eq = strchr(n, '=');

	*len = eq ? (size_t)(eq - n) : strlen(n);
	*val = eq ? eq + 1 : NULL;
	return n;
}

static bool is_opt(const char *a)
{
	return a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0;
}

bool oci_args_is(const struct oci_cmdline *cl, const char *cmd)
{
	return cl->cmd > 0 && strcmp(cl->argv[cl->cmd], cmd) == 0;
}

bool oci_args_starts(const struct oci_cmdline *cl)
{
	return oci_args_is(cl, "create") || oci_args_is(cl, "run");
}

/* The options and first operand of a command from index i on. */
static void parse_command(struct oci_cmdline *cl, int i)
{
	bool creates = oci_args_starts(cl);

	for (; i < cl->argc; i++) {
		const char *a = cl->argv[i], *val;
		size_t len;

		if (strcmp(a, "--") == 0) {
			if (i + 1 < cl->argc && !cl->id)
				cl->id = cl->argv[i + 1];
			return;
		}
		if (!is_opt(a)) {
			if (!cl->id)
				cl->id = a;
			continue;
		}
		const char *n = opt_name(a, &len, &val);
		if (oci_args_is(cl, "delete") &&
		    (in((const char *const[]){"regex", "r", NULL}, n, len)))
			cl->regex = true;
		if (!creates || !in(create_valued, n, len))
			continue;
		if (!val && i + 1 < cl->argc)
			val = cl->argv[++i];
		if (!val)
			continue;
		if ((len == 6 && strncmp(n, "bundle", 6) == 0) ||
		    (len == 1 && n[0] == 'b'))
			cl->bundle = val;
		else if ((len == 6 && strncmp(n, "config", 6) == 0) ||
			 (len == 1 && n[0] == 'f'))
			cl->config = val;
	}
}

void oci_args_parse(int argc, char **argv, struct oci_cmdline *ret)
{
	int i;

	memset(ret, 0, sizeof(*ret));
	ret->argc = argc;
	ret->argv = argv;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		size_t len;

		if (!is_opt(a))
			break;
		const char *n = opt_name(a, &len, &val);
		if (!in(global_valued, n, len))
			continue;
		if (!val && i + 1 < argc)
			val = argv[++i];
		if (len == 4 && strncmp(n, "root", 4) == 0)
			ret->root = val;
	}
	if (i >= argc || strcmp(argv[i], "--") == 0)
		return;
	ret->cmd = i;
	parse_command(ret, i + 1);
}
