/* SPDX-License-Identifier: MIT */
/*
 * store.c - `mcs-policy [--store-root DIR] install FILE... | remove
 * NAME... | list | bool get NAME | bool set NAME on|off`: the module
 * store through modstore.h (libsemanage).  Without --store-root
 * the system's store (and the kernel) is changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modstore.h"

#include "mcs-policy.h"

static modstore *open_store(void)
{
	mcs_error err = {0};
	modstore *s = NULL;

	if (modstore_open(arg.store_root, &s, &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return NULL;
	}
	return s;
}

static int done(modstore *s, int r, const mcs_error *err)
{
	if (r < 0)
		fprintf(stderr, "mcs-policy: %s\n", err->msg);
	modstore_close(s);
	return r < 0 ? EXIT_ERROR : 0;
}

/* `install FILE...`, `remove NAME...`: fn over argv[1..] in one
 * transaction. */
static int on_args(int argc, char **argv,
		   int (*fn)(modstore *, const char *const *, size_t,
			     mcs_error *))
{
	mcs_error err = {0};
	modstore *s;

	if (argc < 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	s = open_store();
	if (!s)
		return EXIT_ERROR;
	return done(
		s, fn(s, (const char *const *)argv + 1, (size_t)argc - 1, &err),
		&err);
}

int cmd_install(int argc, char **argv)
{
	return on_args(argc, argv, modstore_install);
}

int cmd_remove(int argc, char **argv)
{
	return on_args(argc, argv, modstore_remove);
}

int cmd_list(int argc, char **argv)
{
	mcs_error err = {0};
	modstore *s;
	char **v = NULL;
	int n;

	if (argc != 1) {
		usage(stderr);
		return EXIT_ERROR;
	}
	s = open_store();
	if (!s)
		return EXIT_ERROR;
	n = modstore_list(s, &v, &err);
	for (int i = 0; i < n; i++) {
		puts(v[i]);
		free(v[i]);
	}
	free(v);
	return done(s, n, &err);
}

int cmd_bool(int argc, char **argv)
{
	mcs_error err = {0};
	modstore *s;
	bool value = false;
	int r;

	if (!(argc == 3 && strcmp(argv[1], "get") == 0) &&
	    !(argc == 4 && strcmp(argv[1], "set") == 0 &&
	      (strcmp(argv[3], "on") == 0 || strcmp(argv[3], "off") == 0))) {
		usage(stderr);
		return EXIT_ERROR;
	}
	s = open_store();
	if (!s)
		return EXIT_ERROR;
	if (argc == 3) {
		r = modstore_bool_get(s, argv[2], &value, &err);
		if (r == 0)
			printf("%s %s\n", argv[2], value ? "on" : "off");
	} else {
		r = modstore_bool_set(s, argv[2], strcmp(argv[3], "on") == 0,
				      &err);
	}
	return done(s, r, &err);
}
