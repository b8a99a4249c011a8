/* SPDX-License-Identifier: MIT */
/*
 * test_avc.c - unit tests for lib/avc.c, the AVC reader: real lines the
 * enforcing VM logged (tests/policy/avc/vm-avc.log: dmesg format) and
 * written audit.log, journal, USER_AVC and access-list lines; hostile
 * lines: truncated at every byte, huge, binary, NUL bytes, forged and
 * repeated fields, too many permissions, an unterminated quote.
 */
#include <errno.h>
#include <fcntl.h>
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

#include <mcs/avc.h>

#define VM_LINE                                                                \
	"[  163.739552] audit: type=1400 audit(1796234115.612:41): avc:  "     \
	"denied  { create } for  pid=1266 comm=\"exe\" "                       \
	"scontext=unconfined_u:unconfined_r:lxc_nonet_t:s0:c21,c22 "           \
	"tcontext=unconfined_u:unconfined_r:lxc_nonet_t:s0:c21,c22 "           \
	"tclass=tcp_socket permissive=0\n"

static int parse(const char *line, mcs_avc *a)
{
	return mcs_avc_parse_line(line, strlen(line), a, NULL);
}

static void test_dmesg_line(void **state)
{
	mcs_avc a;

	assert_int_equal(parse(VM_LINE, &a), 1);
	assert_true(a.denied);
	assert_false(a.access);
	assert_int_equal(a.permissive, 0);
	assert_string_equal(a.scontext,
			    "unconfined_u:unconfined_r:lxc_nonet_t:s0:c21,c22");
	assert_string_equal(a.tclass, "tcp_socket");
	assert_string_equal(a.comm, "exe");
	assert_int_equal(a.nperms, 1);
	assert_string_equal(a.perms[0], "create");
	mcs_avc_done(&a);
}

static void test_formats(void **state)
{
	mcs_avc a;

	/* audit.log, two permissions, permissive=1 */
	assert_int_equal(
		parse("type=AVC msg=audit(1.2:3): avc:  denied  { read write } "
		      "for  pid=1 comm=\"sh\" name=\"f\" scontext=a:b:c_t:s0 "
		      "tcontext=d:e:f_t:s0:c1 tclass=file permissive=1",
		      &a),
		1);
	assert_int_equal(a.nperms, 2);
	assert_string_equal(a.perms[1], "write");
	assert_int_equal(a.permissive, 1);
	mcs_avc_done(&a);
	/* USER_AVC: the message in single quotes, tclass not last */
	assert_int_equal(
		parse("type=USER_AVC msg=audit(1.2:4): pid=1 uid=81 msg='avc:  "
		      "denied  { send_msg } for msgtype=method_call "
		      "scontext=a:b:c_t:s0 tcontext=d:e:f_t:s0 tclass=dbus "
		      "permissive=0 exe=\"/usr/bin/dbus-daemon\" terminal=?'",
		      &a),
		1);
	assert_string_equal(a.tclass, "dbus");
	mcs_avc_done(&a);
	/* granted (auditallow), no permissive= (older kernels) */
	assert_int_equal(parse("kernel: audit: type=1400 audit(1:5): avc:  "
			       "granted  { setenforce } for pid=1 "
			       "scontext=a:b:c_t:s0 tcontext=a:b:c_t:s0 "
			       "tclass=security",
			       &a),
			 1);
	assert_false(a.denied);
	assert_int_equal(a.permissive, -1);
	mcs_avc_done(&a);
	/* an access-list line */
	assert_int_equal(
		parse("a:b:c_t:s0:c1,c2 d:e:f_t:s0 file read,open\n", &a), 1);
	assert_true(a.access);
	assert_int_equal(a.nperms, 2);
	mcs_avc_done(&a);
	/* not accesses: other records, policy load notice, comments */
	assert_int_equal(
		parse("type=SYSCALL msg=audit(1:5): arch=c000003e", &a), 0);
	assert_int_equal(parse("audit: type=1403 audit(1:6): avc:  received "
			       "policyload notice (seqno=2)",
			       &a),
			 0);
	assert_int_equal(parse("# a:b:c d:e:f file read", &a), 0);
	assert_int_equal(parse("", &a), 0);
}

static void test_forged_fields(void **state)
{
	mcs_avc a;
	mcs_error err = {0};
	const char *forged =
		"avc:  denied  { read } for name=\"x scontext=evil:r:t:s0\" "
		"scontext=a:b:c_t:s0 tcontext=d:e:f_t:s0 tclass=file";
	const char *twice =
		"avc:  denied  { read } for scontext=a:b:c_t:s0 "
		"scontext=x:y:z_t:s0 tcontext=d:e:f_t:s0 tclass=file";
	const char *open_quote = "avc:  denied  { read } for name=\"x "
				 "scontext=a:b:c_t:s0 tcontext=d:e:f_t:s0 "
				 "tclass=file";

	/* a quoted value cannot forge a field */
	assert_int_equal(parse(forged, &a), 1);
	assert_string_equal(a.scontext, "a:b:c_t:s0");
	mcs_avc_done(&a);
	assert_int_equal(mcs_avc_parse_line(twice, strlen(twice), &a, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "scontext given twice"));
	assert_int_equal(
		mcs_avc_parse_line(open_quote, strlen(open_quote), &a, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "not closed"));
	assert_int_equal(parse("avc:  denied  { read } for scontext=a:b:c_t:s0 "
			       "tcontext=d:e:f_t:s0 tclass=fi/le",
			       &a),
			 -EINVAL);
	assert_int_equal(
		parse("avc:  denied  { re\"ad } for scontext=a:b:c_t:s0 "
		      "tcontext=d:e:f_t:s0 tclass=file",
		      &a),
		-EINVAL);
	assert_int_equal(parse("avc:  denied  { read } for scontext=a:b:c_t:s0 "
			       "tcontext=d:e:f_t:s0 tclass=file permissive=2",
			       &a),
			 -EINVAL);
	assert_int_equal(parse("a:b:c d:e:f file read,,write", &a), -EINVAL);
}

static void test_truncated_everywhere(void **state)
{
	size_t len = strlen(VM_LINE) - 1; /* without the newline */
	mcs_avc a;

	/* Every prefix: never a crash; a record only once tclass= has
	 * begun (the contexts before it are then whole).  A cut inside the
	 * class name cannot be told from a short name (older kernels end
	 * the line there): the policy check then rejects the class. */
	size_t cls = (size_t)(strstr(VM_LINE, "tclass=") - VM_LINE) + 7;

	for (size_t n = 0; n < len; n++) {
		int r = mcs_avc_parse_line(VM_LINE, n, &a, NULL);

		assert_true(r == 0 || r == -EINVAL || r == 1);
		if (r == 1) {
			assert_int_equal(strncmp(a.tclass, "tcp_socket",
						 strlen(a.tclass)),
					 0);
			assert_string_equal(a.scontext,
					    "unconfined_u:unconfined_r:"
					    "lxc_nonet_t:s0:c21,c22");
			mcs_avc_done(&a);
		}
		if (n <= cls)
			assert_int_not_equal(r, 1);
	}
}

static void test_huge_and_binary(void **state)
{
	size_t big = MCS_AVC_LINE_MAX + 100;
	char *s = malloc(big + 1);
	char perms[64 * 4 + 64] = "avc:  denied  {";
	mcs_avc a;

	assert_non_null(s);
	memset(s, 'a', big);
	memcpy(s, "avc:  denied  { read } for name=", 32);
	s[big] = '\0';
	assert_int_equal(mcs_avc_parse_line(s, big, &a, NULL), -EINVAL);
	memcpy(s, "no avc here.....................", 32);
	assert_int_equal(mcs_avc_parse_line(s, big, &a, NULL), 0);
	/* binary: every byte value, with and without an "avc:" */
	for (unsigned i = 0; i < 4096; i++)
		s[i] = (char)(i * 131 + (i >> 3));
	assert_true(mcs_avc_parse_line(s, 4096, &a, NULL) <= 0);
	memcpy(s + 100, "avc:  denied  { read }", 22);
	assert_true(mcs_avc_parse_line(s, 4096, &a, NULL) < 0);
	free(s);
	/* a NUL byte inside an AVC line */
	assert_int_equal(
		mcs_avc_parse_line("avc:  denied \0 { read }", 23, &a, NULL),
		-EINVAL);
	/* more permissions than MCS_POLICY_PERMS_MAX */
	for (int i = 0; i < 40; i++)
		strcat(perms, " p");
	strcat(perms, " } for scontext=a:b:c tcontext=a:b:c tclass=file");
	assert_int_equal(parse(perms, &a), -EINVAL);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/test_avc.XXXXXX";
	mcs_avc *v = NULL;
	mcs_error err = {0};
	size_t n = 0, bad = 0;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(VM_LINE, f);
	fputs("type=SYSCALL msg=audit(1:5): arch=c000003e\n", f);
	fputs("avc:  denied  { read } for scontext=a:b:c_t:s0\n", f); /* cut */
	fwrite("\0\1\2avc:\n", 1, 8, f);
	fputs(VM_LINE, f);
	fclose(f);
	assert_int_equal(mcs_avc_read(path, &v, &n, &bad, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 2);
	assert_int_equal(v[0].lineno, 1);
	assert_int_equal(v[1].lineno, 5);
	mcs_avc_free(v, n);
	unlink(path);
	/* devices and fifos are refused, never read */
	assert_int_equal(mcs_avc_read("/dev/zero", &v, &n, &bad, &err),
			 -EINVAL);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mcs_avc_read(path, &v, &n, &bad, &err), -EINVAL);
	unlink(path);
}

/* Every line the enforcing VM logged (the fixture) parses. */
static void test_vm_fixture(void **state)
{
	char path[4096], exe[4096];
	mcs_avc *v = NULL;
	size_t n = 0, bad = 0;
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *src = getenv("MCS_SRCDIR");

	assert_true(l > 0);
	snprintf(path, sizeof(path), "%s/tests/policy/avc/vm-avc.log",
		 src ? src : ".");
	if (access(path, R_OK) != 0)
		fail_msg("%s missing (run from the source tree)", path);
	assert_int_equal(mcs_avc_read(path, &v, &n, &bad, NULL), 0);
	assert_int_equal(n, 6);
	assert_int_equal(bad, 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].denied);
		assert_true(v[i].permissive == 0 || v[i].permissive == 1);
	}
	assert_int_equal(v[5].permissive, 1);
	mcs_avc_free(v, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dmesg_line),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_forged_fields),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_huge_and_binary),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_vm_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
