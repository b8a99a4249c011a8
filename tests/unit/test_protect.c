/* SPDX-License-Identifier: MIT */
/*
 * test_protect.c - unit tests for lib/protect.c: the protected set is a set
 * of identities (device, inode), so every spelling and a symlink of a
 * protected directory is recognised; homes come from the passwd file
 * given; subdirectories are not protected.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "protect.h"

static char tmp[128];

static int setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/var/tmp/mcs-protect-test.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static bool has_path(const mcs_protect_set *set, const char *p,
		     const char **name)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return mcs_protect_set_has(set, st.st_dev, st.st_ino, name);
}

static void test_homes_from_passwd(void **state)
{
	char home[256], sub[300], pw[300], extra[300];
	mcs_protect_set *set = NULL;
	const char *name = NULL;
	FILE *f;

	snprintf(home, sizeof(home), "%s/alice", tmp);
	snprintf(sub, sizeof(sub), "%s/alice/data", tmp);
	snprintf(extra, sizeof(extra), "%s/extra", tmp);
	snprintf(pw, sizeof(pw), "%s/passwd", tmp);
	assert_int_equal(mkdir(home, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkdir(extra, 0755), 0);
	f = fopen(pw, "w");
	assert_non_null(f);
	fprintf(f,
		"alice:x:1000:1000::%s:/bin/sh\n"
		"ghost:x:1001:1001::/nonexistent/home:/bin/sh\n",
		home);
	fclose(f);
	const char *const ex[] = {extra, NULL};
	assert_int_equal(protect_set_new_from(ex, pw, &set, NULL), 0);
	assert_true(has_path(set, home, &name));
	assert_string_equal(name, home);
	assert_false(has_path(set, sub, NULL)); /* subdirectories allowed */
	assert_true(has_path(set, extra, NULL));
	assert_true(has_path(set, "/usr", &name));
	assert_string_equal(name, "/usr");
	assert_true(has_path(set, "/", NULL));
	assert_true(has_path(set, "/var/lib", NULL));
	assert_false(has_path(set, "/usr/share", NULL));
	mcs_protect_set_free(set);
	/* a missing passwd file is an error, not an empty set */
	snprintf(pw, sizeof(pw), "%s/nope", tmp);
	assert_int_equal(protect_set_new_from(NULL, pw, &set, NULL), -ENOENT);
}

static void test_spellings_and_symlink(void **state)
{
	static const char *const spellings[] = {"/usr",	  "//usr",
						"/./usr", "/var/../usr",
						"/usr/",  "/usr/bin/.."};
	char link[256];
	mcs_protect_set *set = NULL;
	mcs_error err = {0};

	assert_int_equal(mcs_protect_set_new(NULL, &set, NULL), 0);
	for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
		int fd = open(spellings[i], O_PATH | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(
			mcs_protect_check_fd(set, fd, spellings[i], &err),
			-EPERM);
		close(fd);
	}
	assert_non_null(strstr(err.msg, "it is /usr"));
	snprintf(link, sizeof(link), "%s/usrlink", tmp);
	assert_int_equal(symlink("/usr", link), 0);
	int fd = open(link, O_PATH | O_CLOEXEC); /* followed */
	assert_int_equal(mcs_protect_check_fd(set, fd, link, NULL), -EPERM);
	close(fd);
	fd = open(link, O_PATH | O_NOFOLLOW | O_CLOEXEC); /* the link itself */
	assert_int_equal(mcs_protect_check_fd(set, fd, link, NULL), 0);
	close(fd);
	fd = open(tmp, O_PATH | O_CLOEXEC);
	assert_int_equal(mcs_protect_check_fd(set, fd, tmp, NULL), 0);
	close(fd);
	mcs_protect_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_homes_from_passwd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spellings_and_symlink,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("protect", tests, NULL, NULL);
}
