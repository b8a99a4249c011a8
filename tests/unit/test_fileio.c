/* SPDX-License-Identifier: MIT */
/*
 * test_fileio.c - unit tests for lib/fileio.c: a regular file is read
 * whole; a fifo (with no writer: a blocking open would hang the test),
 * /dev/zero, a directory, an oversized file and a symlink under
 * FILEIO_NOFOLLOW are refused with the documented code and a message
 * naming the path.
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

#include "fileio.h"

static char dir[64];

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char p[128];
	path_of(p, sizeof(p), name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_fileio.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_regular(void **state)
{
	char p[128], *buf = NULL;
	size_t len = 0;
	mcs_error err = {0};

	write_file("reg", "ab\0cd", 5);
	path_of(p, sizeof(p), "reg");
	assert_int_equal(fileio_read(p, 0, 5, &buf, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "ab\0cd", 5);
	assert_int_equal(buf[5], '\0');
	free(buf);

	/* empty file: a valid empty buffer */
	write_file("empty", "", 0);
	path_of(p, sizeof(p), "empty");
	assert_int_equal(fileio_read(p, 0, 10, &buf, &len, &err), 0);
	assert_int_equal(len, 0);
	free(buf);
}

static void test_oversized(void **state)
{
	char p[128], *buf = NULL;
	mcs_error err = {0};
	char data[100];

	memset(data, 'x', sizeof(data));
	write_file("big", data, sizeof(data));
	path_of(p, sizeof(p), "big");
	assert_int_equal(fileio_read(p, 0, 99, &buf, NULL, &err), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "too large"));
	/* exactly max bytes is fine */
	assert_int_equal(fileio_read(p, 0, 100, &buf, NULL, &err), 0);
	free(buf);
}

static void test_fifo(void **state)
{
	char p[128], *buf = NULL;
	mcs_error err = {0};

	path_of(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	/* no writer: a blocking open would never return */
	assert_int_equal(fileio_read(p, 0, 1 << 20, &buf, NULL, &err), -EINVAL);
	assert_null(buf);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "not a regular file (fifo)"));
}

static void test_dev_zero(void **state)
{
	char *buf = NULL;
	mcs_error err = {0};

	assert_int_equal(fileio_read("/dev/zero", 0, 1 << 20, &buf, NULL, &err),
			 -EINVAL);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "/dev/zero"));
	assert_non_null(strstr(err.msg, "character device"));
}

static void test_directory(void **state)
{
	char *buf = NULL;
	mcs_error err = {0};

	assert_int_equal(fileio_read(dir, 0, 1 << 20, &buf, NULL, &err),
			 -EINVAL);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "directory"));
}

static void test_nofollow(void **state)
{
	char p[128], l[128], *buf = NULL;
	mcs_error err = {0};

	write_file("target", "x", 1);
	path_of(p, sizeof(p), "target");
	path_of(l, sizeof(l), "link");
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(fileio_read(l, FILEIO_NOFOLLOW, 10, &buf, NULL, &err),
			 -ELOOP);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "symlink"));
	/* without the flag the link is followed */
	assert_int_equal(fileio_read(l, 0, 10, &buf, NULL, &err), 0);
	assert_string_equal(buf, "x");
	free(buf);
}

static void test_missing(void **state)
{
	char p[128], *buf = NULL;
	mcs_error err = {0};

	path_of(p, sizeof(p), "nope");
	assert_int_equal(fileio_read(p, 0, 10, &buf, NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_dev_zero),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_nofollow),
		cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
