/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c - unit tests for lib/policy.c and lib/policytest.c: the
 * libsepol verdicts on the built mcskit policy ($(O)/policy/policy.33,
 * found next to this binary), the reasons, the errors for bad input, the
 * portcon lookup and the expectation table parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <mcs/policy.h>

#define NET    "system_u:system_r:svirt_lxc_net_t:s0:c1,c2"
#define NONET  "system_u:system_r:lxc_nonet_t:s0:c1,c2"
#define FILE_A "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2"
#define FILE_B "system_u:object_r:svirt_sandbox_file_t:s0:c3,c4"

static char policy_path[PATH_MAX];

/* $(O)/tests/unit/test_policy -> $(O)/policy/policy.33 */
static void find_policy(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(policy_path, sizeof(policy_path), "%s/../../policy/policy.33",
		 dirname(exe));
	if (access(policy_path, R_OK) != 0)
		fail_msg("%s missing: run `make policy` first", policy_path);
}

/* Runs first: nothing is loaded yet. */
static void test_no_policy(void **state)
{
	const char *perms[] = {"read"};
	mcs_policy_result res;
	mcs_error err = {0};
	char type[64];

	assert_int_equal(
		mcs_policy_check(NONET, FILE_A, "file", perms, 1, &res, &err),
		-ENOENT);
	assert_string_equal(err.msg, "no policy loaded");
	assert_int_equal(
		mcs_policy_port_type("tcp", 80, type, sizeof(type), NULL),
		-ENOENT);
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/test_policy.XXXXXX";
	mcs_error err = {0};
	int fd;

	assert_int_equal(mcs_policy_load("/nonexistent/policy.33", &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/policy.33"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a policy", 12), 12);
	close(fd);
	mcs_error_clear(&err);
	assert_int_equal(mcs_policy_load(path, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a binary policy"));
	unlink(path);
}

static void test_load(void **state)
{
	mcs_error err = {0};

	find_policy();
	assert_int_equal(mcs_policy_load(policy_path, &err), 0);
}

static mcs_verdict verdict(const char *s, const char *t, const char *cls,
			   const char *perm, char **ret_reason)
{
	const char *perms[] = {perm};
	mcs_policy_result res;
	mcs_error err = {0};
	mcs_verdict v;

	if (mcs_policy_check(s, t, cls, perms, 1, &res, &err) < 0)
		fail_msg("%s %s %s %s: %s", s, t, cls, perm, err.msg);
	v = res.verdict;
	if (ret_reason)
		*ret_reason = res.reason ? strdup(res.reason) : NULL;
	mcs_policy_result_done(&res);
	return v;
}

static void test_verdicts(void **state)
{
	char *reason = NULL;

	assert_int_equal(verdict(NONET, FILE_A, "file", "write", &reason),
			 MCS_VERDICT_ALLOWED);
	assert_null(reason);

	assert_int_equal(verdict(NONET, NONET, "tcp_socket", "create", &reason),
			 MCS_VERDICT_DENIED_TE);
	assert_string_equal(reason, "no allow rule for { create }");
	free(reason);

	assert_int_equal(verdict(NET, NET, "tcp_socket", "create", NULL),
			 MCS_VERDICT_ALLOWED);

	assert_int_equal(verdict(NET, FILE_B, "file", "read", &reason),
			 MCS_VERDICT_DENIED_CONSTRAINT);
	assert_non_null(strstr(reason, "constraint denies { read }"));
	assert_non_null(strstr(reason, "mcs_constrained_type"));
	assert_null(strchr(reason, '\n'));
	free(reason);

	/* The control: the runtime is not MCS-constrained. */
	assert_int_equal(verdict("system_u:system_r:mcskit_runtime_t:s0",
				 FILE_B, "file", "read", NULL),
			 MCS_VERDICT_ALLOWED);
}

static void test_several_perms(void **state)
{
	const char *perms[] = {"create", "bind", "name_connect"};
	mcs_policy_result res;
	mcs_error err = {0};

	assert_int_equal(
		mcs_policy_check("system_u:system_r:lxc_apache_t:s0:c1,c2",
				 "system_u:object_r:http_port_t:s0",
				 "tcp_socket", perms, 3, &res, &err),
		0);
	assert_int_equal(res.verdict, MCS_VERDICT_DENIED_TE);
	/* create and bind on a port type are not granted either: all listed */
	assert_non_null(strstr(res.reason, "name_connect"));
	mcs_policy_result_done(&res);
	assert_null(res.reason);
}

static void test_check_errors(void **state)
{
	const char *read[] = {"read"}, *bad[] = {"read", "fly"};
	mcs_policy_result res;
	mcs_error err = {0};

	assert_int_equal(
		mcs_policy_check(NONET, FILE_A, "flie", read, 1, &res, &err),
		-EINVAL);
	assert_string_equal(err.msg, "unknown class \"flie\"");
	mcs_error_clear(&err);
	assert_int_equal(
		mcs_policy_check(NONET, FILE_A, "file", bad, 2, &res, &err),
		-EINVAL);
	assert_string_equal(err.msg, "class file has no permission \"fly\"");
	mcs_error_clear(&err);
	assert_int_equal(mcs_policy_check("system_u:system_r:nosuch_t:s0",
					  FILE_A, "file", read, 1, &res, &err),
			 -EINVAL);
	assert_non_null(strstr(
		err.msg,
		"source context system_u:system_r:nosuch_t:s0 is not valid"));
	mcs_error_clear(&err);
	assert_int_equal(
		mcs_policy_check(NONET, "garbage", "file", read, 1, &res, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "target context"));
	mcs_error_clear(&err);
	assert_int_equal(
		mcs_policy_check(NONET, FILE_A, "file", read, 0, &res, &err),
		-EINVAL);
}

static void test_ports(void **state)
{
	char type[64];
	mcs_error err = {0};

	assert_int_equal(
		mcs_policy_port_type("tcp", 80, type, sizeof(type), &err), 11);
	assert_string_equal(type, "http_port_t");
	assert_true(mcs_policy_port_type("udp", 53, type, sizeof(type), &err) >
		    0);
	assert_string_equal(type, "dns_port_t");
	assert_true(mcs_policy_port_type("tcp", 40000, type, sizeof(type),
					 &err) > 0);
	assert_string_equal(type, "unreserved_port_t");
	assert_int_equal(mcs_policy_port_type("tcp", 80, type, 4, &err),
			 -ENOSPC);
	assert_int_equal(
		mcs_policy_port_type("icmp", 1, type, sizeof(type), &err),
		-EINVAL);
	assert_int_equal(
		mcs_policy_port_type("tcp", 65536, type, sizeof(type), &err),
		-EINVAL);
}

static void test_verdict_names(void **state)
{
	mcs_verdict v;

	for (int i = MCS_VERDICT_ALLOWED; i <= MCS_VERDICT_INVALID; i++) {
		assert_int_equal(mcs_verdict_from_name(
					 mcs_verdict_name((mcs_verdict)i), &v),
				 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(mcs_verdict_from_name("denied", &v), 0);
	assert_int_equal(v, MCS_VERDICT_DENIED);
	assert_int_equal(mcs_verdict_from_name("deny", &v), -EINVAL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_table_parse(void **state)
{
	char path[] = "/tmp/test_policy_tsv.XXXXXX";
	mcs_policytest_row *rows = NULL;
	mcs_error err = {0};
	size_t n = 0;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# header\n\n  a:b:c_t:s0\td:e:f_t:s0 file "
			 "read,write,open allowed # own\n"
			 "x:y:z_t:s0 x:y:z_t:s0 tcp_socket create denied-te\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].lineno, 3);
	assert_string_equal(rows[0].scontext, "a:b:c_t:s0");
	assert_string_equal(rows[0].tcontext, "d:e:f_t:s0");
	assert_string_equal(rows[0].tclass, "file");
	assert_int_equal(rows[0].nperms, 3);
	assert_string_equal(rows[0].perms[2], "open");
	assert_int_equal(rows[0].expected, MCS_VERDICT_ALLOWED);
	assert_string_equal(rows[0].comment, "own");
	assert_int_equal(rows[1].expected, MCS_VERDICT_DENIED_TE);
	assert_string_equal(rows[1].comment, "");
	mcs_policytest_free(rows, n);

	write_file(path, "a b c d allowed\na b c d maybe\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":2: verdict \"maybe\""));

	write_file(path, "a b c allowed\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":1: expected SCONTEXT"));

	write_file(path, "a b c , allowed\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty permission"));

	/* issue 13.11: "read,,write", NUL bytes, a table with no row */
	write_file(path, "a b c read,,write allowed\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":1: empty permission"));
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\0\0\0\n\0", 5), 5);
	close(fd);
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":1: NUL byte"));
	write_file(path, "# only a comment\n\n");
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no test row"));
	unlink(path);

	/* issue 13.10: a device or a fifo is refused, never read */
	assert_int_equal(mcs_policytest_parse("/dev/zero", &rows, &n, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mcs_policytest_parse(path, &rows, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "(fifo)"));
	assert_int_equal(mcs_policy_load(path, &err), -EINVAL);
	unlink(path);

	assert_int_equal(
		mcs_policytest_parse("/nonexistent.tsv", &rows, &n, &err),
		-ENOENT);
}

static void test_default_path(void **state)
{
	char buf[PATH_MAX];
	mcs_error err = {0};

	assert_int_equal(
		mcs_policy_default_path(policy_path, buf, sizeof(buf), &err),
		(int)strlen(policy_path));
	assert_string_equal(buf, policy_path);
	/* A missing hint falls back to the host's policy (or ENOENT). */
	int r = mcs_policy_default_path("/nonexistent/policy.33", buf,
					sizeof(buf), &err);
	if (r >= 0)
		assert_non_null(strstr(buf, "/policy/policy."));
	else
		assert_int_equal(r, -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_several_perms),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_table_parse),
		cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
