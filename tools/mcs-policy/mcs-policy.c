/* SPDX-License-Identifier: MIT */
/*
 * mcs-policy - offline SELinux policy checks (no SELinux kernel needed).
 *
 *   mcs-policy [--policy FILE] check SCONTEXT TCONTEXT CLASS PERM...
 *   mcs-policy [--policy FILE] port tcp|udp|sctp|dccp PORT
 *   mcs-policy [--policy FILE] test TABLE
 *
 * --policy may also follow the verb.  The default policy is the build
 * tree's policy.33 next to this program (../policy/policy.33), else the
 * host's.  Exit 0 allowed / success, 1 denied / a test failed, 2 error.
 * Parsing and printing only: decisions come from libmcs (mcs/policy.h).
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

#define EXIT_DENIED 1
#define EXIT_ERROR  2

static const char *arg_policy;

static void usage(FILE *f)
{
	fputs("usage: mcs-policy [--policy FILE] check SCONTEXT TCONTEXT CLASS "
	      "PERM...\n"
	      "       mcs-policy [--policy FILE] port tcp|udp|sctp|dccp PORT\n"
	      "       mcs-policy [--policy FILE] test TABLE\n",
	      f);
}

static int load_policy(void)
{
	char exe[PATH_MAX], hint[PATH_MAX + 32], path[PATH_MAX];
	mcs_error err = {0};
	ssize_t n;

	if (arg_policy) {
		snprintf(path, sizeof(path), "%s", arg_policy);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(hint, sizeof(hint), "%s/../policy/policy.33",
			 dirname(exe));
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

static const struct {
	const char *verb;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"check", cmd_check},
	{"port", cmd_port},
	{"test", cmd_test},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	/* "+": stop at the verb; options after it are parsed again below. */
	while ((c = getopt_long(argc, argv, "+p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			arg_policy = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	argc -= optind;
	argv += optind;
	/* Accept --policy FILE right after the verb, too. */
	if (argc >= 3 &&
	    (strcmp(argv[1], "--policy") == 0 || strcmp(argv[1], "-p") == 0)) {
		arg_policy = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].verb) == 0)
			return commands[i].run(argc, argv);
	fprintf(stderr, "mcs-policy: unknown command \"%s\"\n", argv[0]);
	usage(stderr);
	return EXIT_ERROR;
}
