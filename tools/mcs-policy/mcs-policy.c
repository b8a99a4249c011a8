/* SPDX-License-Identifier: MIT */
/*
 * mcs-policy - offline SELinux policy checks (no SELinux kernel needed).
 *
 *   mcs-policy [OPTIONS] check SCONTEXT TCONTEXT CLASS PERM...
 *   mcs-policy [OPTIONS] port tcp|udp|sctp|dccp PORT
 *   mcs-policy [OPTIONS] test TABLE
 *   mcs-policy [OPTIONS] context CONTEXT...
 *   mcs-policy [OPTIONS] why FILE|-
 *   mcs-policy [OPTIONS] try [--type T] FILE|-
 *   mcs-policy [OPTIONS] rank FILE|-
 *   mcs-policy [--store-root DIR] install FILE.pp|FILE.cil... | remove NAME...
 *                                 | list | bool get|set NAME [on|off]
 *
 * Options may come before or after the verb.  The default policy is the
 * build tree's policy.33 next to this program (../policy/policy.33), else
 * the host's.  Exit 0 allowed / success, 1 denied / a test failed, 2
 * error.  Parsing and printing only: decisions come from libmcs.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mcs/policy.h>

#include "mcs-policy.h"

struct policy_args arg;

void usage(FILE *f)
{
	fputs("usage: mcs-policy [OPTIONS] check SCONTEXT TCONTEXT CLASS "
	      "PERM...\n"
	      "       mcs-policy [OPTIONS] port tcp|udp|sctp|dccp PORT\n"
	      "       mcs-policy [OPTIONS] test TABLE\n"
	      "       mcs-policy [OPTIONS] context CONTEXT...\n"
	      "       mcs-policy [OPTIONS] why FILE|-\n"
	      "       mcs-policy [OPTIONS] try [--type TYPE] FILE|-\n"
	      "       mcs-policy [OPTIONS] rank FILE|-\n"
	      "       mcs-policy [--store-root DIR] install "
	      "FILE.pp|FILE.cil...\n"
	      "       mcs-policy [--store-root DIR] remove NAME...\n"
	      "       mcs-policy [--store-root DIR] list\n"
	      "       mcs-policy [--store-root DIR] bool get NAME | set NAME "
	      "on|off\n"
	      "options: --policy FILE, --json, --interfaces FILE, "
	      "--attribute ATTR, --store-root DIR\n",
	      f);
}

const char *program_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (!dir[0]) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(dir, sizeof(dir), "%s", dirname(exe));
	}
	return dir;
}

int load_policy(void)
{
	char hint[PATH_MAX + 32], path[PATH_MAX];
	mcs_error err = {0};

	if (arg.policy) {
		snprintf(path, sizeof(path), "%s", arg.policy);
	} else {
		snprintf(hint, sizeof(hint), "%s/../policy/policy.33",
			 program_dir());
		if (mcs_policy_default_path(hint, path, sizeof(path), &err) <
		    0) {
			fprintf(stderr, "mcs-policy: %s\n", err.msg);
			return -1;
		}
	}
	if (mcs_policy_load(path, &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	mcs_policy_result res;
	mcs_error err = {0};
	int r;

	if (argc < 5) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (load_policy() < 0)
		return EXIT_ERROR;
	r = mcs_policy_check(argv[1], argv[2], argv[3],
			     (const char *const *)argv + 4, (size_t)argc - 4,
			     &res, &err);
	if (r < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return EXIT_ERROR;
	}
	if (res.verdict == MCS_VERDICT_ALLOWED) {
		puts("allowed");
		return 0;
	}
	printf("%s: %s\n", mcs_verdict_name(res.verdict), res.reason);
	mcs_policy_result_done(&res);
	return EXIT_DENIED;
}

static int cmd_port(int argc, char **argv)
{
	char type[MCS_POLICY_NAME_MAX + 1], *end;
	mcs_error err = {0};
	unsigned long port;

	if (argc != 3) {
		usage(stderr);
		return EXIT_ERROR;
	}
	/* strtoul skips blanks and takes a sign: digits only. */
	errno = 0;
	port = strtoul(argv[2], &end, 10);
	if (errno || *end || end == argv[2] ||
	    !isdigit((unsigned char)argv[2][0]) || port > 65535) {
		fprintf(stderr, "mcs-policy: bad port \"%s\" (0..65535)\n",
			argv[2]);
		return EXIT_ERROR;
	}
	if (load_policy() < 0)
		return EXIT_ERROR;
	if (mcs_policy_port_type(argv[1], (unsigned)port, type, sizeof(type),
				 &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return EXIT_ERROR;
	}
	puts(type);
	return 0;
}

static int cmd_test(int argc, char **argv)
{
	mcs_policytest_row *rows = NULL;
	mcs_error err = {0};
	size_t n = 0, failed = 0;

	if (argc != 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (mcs_policytest_parse(argv[1], &rows, &n, &err) < 0) {
		fprintf(stderr, "mcs-policy: %s\n", err.msg);
		return EXIT_ERROR;
	}
	if (load_policy() < 0) {
		mcs_policytest_free(rows, n);
		return EXIT_ERROR;
	}
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const mcs_policytest_row *t = &rows[i];
		mcs_policy_result res;
		bool ok;

		mcs_error_clear(&err);
		if (mcs_policy_check(t->scontext, t->tcontext, t->tclass,
				     t->perms, t->nperms, &res, &err) < 0) {
			/* "invalid": the check must be refused. */
			ok = t->expected == MCS_VERDICT_INVALID;
			printf("%sok %zu - line %u: %s\n", ok ? "" : "not ",
			       i + 1, t->lineno, err.msg);
			failed += !ok;
			continue;
		}
		ok = res.verdict == t->expected ||
		     (t->expected == MCS_VERDICT_DENIED &&
		      res.verdict != MCS_VERDICT_ALLOWED);
		printf("%sok %zu - %s %s %s ", ok ? "" : "not ", i + 1,
		       t->scontext, t->tcontext, t->tclass);
		for (size_t k = 0; k < t->nperms; k++)
			printf("%s%s", k ? "," : "", t->perms[k]);
		printf(" %s%s%s\n", mcs_verdict_name(t->expected),
		       *t->comment ? ": " : "", t->comment);
		if (!ok) {
			printf("#   line %u: got %s%s%s\n", t->lineno,
			       mcs_verdict_name(res.verdict),
			       res.reason ? ": " : "",
			       res.reason ? res.reason : "");
			failed++;
		}
		mcs_policy_result_done(&res);
	}
	mcs_policytest_free(rows, n);
	return failed ? EXIT_DENIED : 0;
}

/* Print the kernel's canonical form of each context (exit 2 on one the
 * policy rejects). */
static int cmd_context(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (load_policy() < 0)
		return EXIT_ERROR;
	for (int i = 1; i < argc; i++) {
		mcs_error err = {0};
		char *c = NULL;

		if (mcs_policy_canonical_context(argv[i], &c, &err) < 0) {
			fprintf(stderr, "mcs-policy: %s\n", err.msg);
			rc = EXIT_ERROR;
			continue;
		}
		puts(c);
		free(c);
	}
	return rc;
}

static const struct {
	const char *verb;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"check", cmd_check},	{"port", cmd_port},
	{"test", cmd_test},	{"context", cmd_context},
	{"why", cmd_why},	{"try", cmd_try},
	{"rank", cmd_rank},	{"install", cmd_install},
	{"remove", cmd_remove}, {"list", cmd_list},
	{"bool", cmd_bool},
};

/* Options anywhere: returns the positional arguments (verb first) in argv. */
static int parse_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"store-root", required_argument, NULL, 'r'},
		{"interfaces", required_argument, NULL, 'i'},
		{"type", required_argument, NULL, 't'},
		{"attribute", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "p:r:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			arg.policy = optarg;
			break;
		case 'r':
			arg.store_root = optarg;
			break;
		case 'i':
			arg.interfaces = optarg;
			break;
		case 't':
			arg.type = optarg;
			break;
		case 'a':
			arg.attribute = optarg;
			break;
		case 'j':
			arg.json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	int first = parse_options(argc, argv);

	if (first < 0)
		return EXIT_ERROR;
	if (first >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	argc -= first;
	argv += first;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].verb) == 0)
			return commands[i].run(argc, argv);
	fprintf(stderr, "mcs-policy: unknown command \"%s\"\n", argv[0]);
	usage(stderr);
	return EXIT_ERROR;
}
