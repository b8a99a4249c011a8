/* SPDX-License-Identifier: MIT */
/*
 * mcskit_av - the kernel's verdicts, for the agreement test.
 *
 *   mcskit_av verdicts < "SCON TCON CLASS PERM" lines
 *     prints each line + " allowed|denied|invalid": security_compute_av()
 *     on the running kernel; "invalid" when the kernel rejects a context
 *     (security_check_context) or the computation (EINVAL).
 *   mcskit_av canon < contexts
 *     prints "CONTEXT CANONICAL" for each context the kernel accepts,
 *     "CONTEXT -" for the others (security_canonicalize_context).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <selinux/selinux.h>

static int verdicts(void)
{
	char s[4096], t[4096], c[256], p[256], line[10000];
	unsigned long n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct av_decision avd;
		security_class_t cls;
		access_vector_t av;
		const char *v;

		if (sscanf(line, "%4095s %4095s %255s %255s", s, t, c, p) != 4)
			continue;
		cls = string_to_security_class(c);
		av = cls ? string_to_av_perm(cls, p) : 0;
		if (!cls || !av) {
			fprintf(stderr, "mcskit_av: unknown %s:%s\n", c, p);
			return 2;
		}
		if (security_check_context(s) < 0 ||
		    security_check_context(t) < 0)
			v = "invalid";
		else if (security_compute_av(s, t, cls, av, &avd) < 0)
			v = errno == EINVAL ? "invalid" : NULL;
		else
			v = (avd.allowed & av) == av ? "allowed" : "denied";
		if (!v) {
			perror("mcskit_av: security_compute_av");
			return 2;
		}
		printf("%s %s %s %s %s\n", s, t, c, p, v);
		n++;
	}
	fprintf(stderr, "mcskit_av: %lu verdicts\n", n);
	return 0;
}

static int canon(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		char *out = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (security_check_context(line) == 0 &&
		    security_canonicalize_context(line, &out) == 0) {
			printf("%s %s\n", line, out);
			freecon(out);
		} else {
			printf("%s -\n", line);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "verdicts") == 0)
		return verdicts();
	if (argc == 2 && strcmp(argv[1], "canon") == 0)
		return canon();
	fputs("usage: mcskit_av verdicts|canon < input\n", stderr);
	return 2;
}
