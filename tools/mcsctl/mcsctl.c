/* SPDX-License-Identifier: MIT */
/*
 * mcsctl - command-line client of mcsd: global options, then one verb from
 * the commands[] table (one file per verb).  Errors are printed once, to
 * stderr, and give exit status 1; usage errors give 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mcsctl.h"

static const struct {
	const char *name;
	mcsctl_cmd_fn fn;
	const char *help;
} commands[] = {
	{"allocate", cmd_allocate,
	 "allocate [--owner ID] [--group G] [--level L] [--type T] [--pid P] "
	 "[--persistent]"},
	{"release", cmd_release, "release ID"},
	{"lookup", cmd_lookup, "lookup ID"},
	{"list", cmd_list, "list"},
	{"status", cmd_status, "status"},
	{"migrate", cmd_migrate,
	 "migrate --from sqlite:PATH --to postgresql://... (runs mcsd "
	 "migrate)"},
};

static void usage(FILE *f)
{
	fputs("Usage: mcsctl [--socket PATH] [--json] COMMAND [ARGS]\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  mcsctl %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct mcsctl_globals g = {0};
	int c;

	/* '+': stop at the verb; its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g.socket = optarg;
			break;
		case 'j':
			g.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **vargv = argv + optind;
			int vargc = argc - optind;
			optind = 1; /* getopt restarts for the verb */
			return commands[i].fn(&g, vargc, vargv);
		}
	fprintf(stderr, "mcsctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
