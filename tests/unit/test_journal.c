/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c - unit tests for the restore journal's format
 * (lib/journal.c): CRC32C against its check value; a journal written by
 * the writer reads back record for record; every single bit flipped
 * anywhere in it, and every truncation into its header, is refused; a
 * torn last frame (what a kill inside write() leaves) is the one damage
 * accepted; another volume and another version are refused; a writer
 * appending to a torn journal cuts the torn bytes, and refuses to append
 * to a damaged one; a journal left under an old device number (a disk
 * moved) is taken over, another volume's is not.  The walk refuses a top that
 * is no longer the volume restore checked the journal against.
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
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "journal.h"
#include "relabel_walk.h"

static char dir[64];
static const journal_volume vol = {
	.dev_major = 8,
	.dev_minor = 1,
	.ino = 1234,
	.fsid = 0x9f3c0e1d2a4b5c6dULL,
	.btime_sec = 1700000000,
	.btime_nsec = 123456789,
};

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write a journal of two runs into dir; return its bytes. */
static char *make_journal(size_t *len, char **path)
{
	journal_writer *j = NULL;
	journal_batch b = {0};
	mcs_error err = {0};
	char *buf;

	*path = journal_path(dir, &vol);
	unlink(*path);
	assert_int_equal(journal_writer_open(dir, &vol, "/srv/vol",
					     "system_u:object_r:a_t:s0", &j,
					     &err),
			 0);
	assert_int_equal(journal_batch_add(&b, 10, "u:r:old_t:s0", 13), 0);
	assert_int_equal(journal_batch_add(&b, 11, "u:r:old_t:s0", 13), 0);
	assert_int_equal(journal_batch_add(&b, 12, NULL, -1), 0);
	assert_int_equal(journal_writer_append(j, &b), 0);
	assert_int_equal(journal_batch_add(&b, 13, "raw\xff", 4), 0);
	assert_int_equal(journal_batch_add(&b, 14, "nonul", 5), 0);
	assert_int_equal(journal_writer_append(j, &b), 0);
	assert_int_equal(journal_writer_commit(j), 0);
	journal_writer_close(j);
	/* a second run: inode 10 again (the first record must win) */
	assert_int_equal(
		journal_writer_open(dir, &vol, "/srv/vol", NULL, &j, &err), 0);
	assert_int_equal(journal_batch_add(&b, 10, "u:r:new_t:s0", 13), 0);
	assert_int_equal(journal_batch_add(&b, 15, "", 0), 0);
	assert_int_equal(journal_writer_append(j, &b), 0);
	assert_int_equal(journal_writer_commit(j), 0);
	journal_writer_close(j);
	journal_batch_free(&b);
	assert_int_equal(fileio_read(*path, 0, 1 << 20, &buf, len, &err), 0);
	return buf;
}

static void test_crc32c(void **state)
{
	/* the CRC-32C check value (RFC 3720, B.4) */
	assert_int_equal(journal_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(
		journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5),
		0xe3069283);
}

static void test_roundtrip(void **state)
{
	size_t len;
	char *path, *buf = make_journal(&len, &path);
	journal_map *m = NULL;
	journal_info info;
	mcs_error err = {0};
	const char *v;
	ssize_t l;

	assert_int_equal(journal_parse(buf, len, path, &vol, &m, &info, &err),
			 0);
	assert_int_equal(info.runs, 2);
	assert_false(info.last_open);
	assert_int_equal(info.torn_len, 0);
	assert_int_equal(info.good_len, len);
	assert_int_equal(journal_map_count(m), 6);
	assert_int_equal(journal_map_lookup(m, 10, &v, &l), 1);
	assert_int_equal(l, 13);
	assert_memory_equal(v, "u:r:old_t:s0", 13); /* first record wins */
	assert_int_equal(journal_map_lookup(m, 12, &v, &l), 1);
	assert_true(l < 0);
	assert_int_equal(journal_map_lookup(m, 13, &v, &l), 1);
	assert_int_equal(l, 4);
	assert_memory_equal(v, "raw\xff", 4);
	assert_int_equal(journal_map_lookup(m, 14, &v, &l), 1);
	assert_int_equal(l, 5);
	assert_int_equal(journal_map_lookup(m, 15, &v, &l), 1);
	assert_int_equal(l, 0);
	assert_int_equal(journal_map_lookup(m, 99, &v, &l), 0);
	journal_map_free(m);
	free(buf);
	free(path);
}

static void test_every_bit_flip_refused(void **state)
{
	size_t len;
	char *path, *buf = make_journal(&len, &path);
	unsigned refused = 0;

	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			mcs_error err = {0};
			journal_map *m = NULL;
			buf[i] ^= (char)(1 << bit);
			int r = journal_parse(buf, len, path, &vol, &m, NULL,
					      &err);
			buf[i] ^= (char)(1 << bit);
			if (r >= 0)
				fail_msg("bit %d of byte %zu flipped: accepted",
					 bit, i);
			assert_null(m);
			assert_non_null(strstr(err.msg, path));
			refused++;
		}
	}
	assert_int_equal(refused, len * 8);
	free(buf);
	free(path);
}

static void test_truncation(void **state)
{
	size_t len;
	char *path, *buf = make_journal(&len, &path);
	mcs_error err = {0};
	journal_info info;
	const char *run = strstr(buf, "\nR ") + 1;
	size_t hdr = (size_t)(run - buf);

	/* into or right after the header: refused */
	for (size_t n = 0; n <= hdr; n++) {
		int r = journal_parse(buf, n, path, &vol, NULL, NULL, &err);
		if (r >= 0)
			fail_msg("truncated to %zu bytes: accepted", n);
	}
	assert_non_null(strstr(err.msg, "no relabel run"));
	/* anywhere after the first run start: accepted, the torn frame
	 * (if any) counted and its records not read */
	for (size_t n = hdr + 29 + 49; n < len; n++) {
		int r = journal_parse(buf, n, path, &vol, NULL, &info, &err);
		if (r < 0)
			fail_msg("truncated to %zu bytes: %s", n, err.msg);
		assert_int_equal(info.good_len + info.torn_len, n);
	}
	free(buf);
	free(path);
}

static void test_other_volume_and_version(void **state)
{
	size_t len;
	char *path, *buf = make_journal(&len, &path);
	mcs_error err = {0};
	journal_volume other = vol;

	other.btime_nsec++; /* the top was recreated */
	assert_int_equal(
		journal_parse(buf, len, path, &other, NULL, NULL, &err),
		-ESTALE);
	assert_non_null(strstr(err.msg, "another volume"));
	other = vol;
	other.fsid++;
	assert_int_equal(
		journal_parse(buf, len, path, &other, NULL, NULL, &err),
		-ESTALE);
	/* the same filesystem seen under another device number (a disk
	 * moved): the same volume */
	other = vol;
	other.dev_minor = 17;
	assert_int_equal(
		journal_parse(buf, len, path, &other, NULL, NULL, &err), 0);

	const char v1[] = "mcskit-relabel-journal 1\ntop /x\n=a\n12\n";
	assert_int_equal(
		journal_parse(v1, sizeof(v1) - 1, path, &vol, NULL, NULL, &err),
		-EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "version 1"));
	assert_int_equal(
		journal_parse("\0\0\0\0", 4, path, &vol, NULL, NULL, &err),
		-EBADMSG);
	free(buf);
	free(path);
}

static void test_writer_cuts_torn_tail(void **state)
{
	size_t len, len2;
	char *path, *buf = make_journal(&len, &path), *buf2;
	journal_writer *j = NULL;
	mcs_error err = {0};
	journal_info info;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "B 0000ff", 8), 8); /* torn frame */
	close(fd);
	assert_int_equal(
		journal_writer_open(dir, &vol, "/srv/vol", NULL, &j, &err), 0);
	assert_int_equal(journal_writer_commit(j), 0);
	journal_writer_close(j);
	assert_int_equal(fileio_read(path, 0, 1 << 20, &buf2, &len2, &err), 0);
	assert_int_equal(
		journal_parse(buf2, len2, path, &vol, NULL, &info, &err), 0);
	assert_int_equal(info.torn_len, 0);
	assert_int_equal(info.runs, 3);
	assert_memory_equal(buf, buf2, len); /* the old frames untouched */
	free(buf2);

	/* a damaged journal is never appended to */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "X", 1, (off_t)len - 3), 1);
	close(fd);
	struct stat st1, st2;
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(
		journal_writer_open(dir, &vol, "/srv/vol", NULL, &j, &err),
		-EBADMSG);
	assert_non_null(strstr(err.msg, "damaged journal"));
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_size, st2.st_size);
	free(buf);
	free(path);
}

static void test_disk_moved(void **state)
{
	size_t len, len2;
	char *path, *buf = make_journal(&len, &path), *buf2;
	journal_volume moved = vol;
	journal_writer *j = NULL;
	mcs_error err = {0};
	journal_info info;
	char *npath;

	moved.dev_minor = 17; /* sdb1 became sdc1 */
	npath = journal_path(dir, &moved);
	/* restore finds it under the old name and takes it over */
	assert_int_equal(journal_adopt_moved(dir, &moved, npath), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fileio_read(npath, 0, 1 << 20, &buf2, &len2, &err), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf, buf2, len);
	free(buf2);
	/* a relabel after the move appends to it rather than start anew */
	assert_int_equal(rename(npath, path), 0);
	assert_int_equal(
		journal_writer_open(dir, &moved, "/srv/vol", NULL, &j, &err),
		0);
	assert_int_equal(journal_writer_commit(j), 0);
	journal_writer_close(j);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fileio_read(npath, 0, 1 << 20, &buf2, &len2, &err), 0);
	assert_int_equal(
		journal_parse(buf2, len2, npath, &moved, NULL, &info, &err), 0);
	assert_int_equal(info.runs, 3);
	free(buf2);
	/* another volume's journal (other birth time) is left alone */
	journal_volume other = moved;
	other.dev_minor = 33;
	other.btime_sec++;
	char *opath = journal_path(dir, &other);
	assert_int_equal(journal_adopt_moved(dir, &other, opath), 0);
	assert_int_equal(access(npath, F_OK), 0);
	unlink(npath);
	free(opath);
	free(npath);
	free(buf);
	free(path);
}

static void test_special_files(void **state)
{
	journal_volume v = vol;
	char *path;
	int fd = -1;
	journal_map *m = NULL;
	mcs_error err = {0};
	journal_writer *j = NULL;

	v.ino = 777;
	path = journal_path(dir, &v);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(journal_read(path, &v, &fd, &m, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fifo"));
	assert_int_equal(journal_writer_open(dir, &v, "/x", NULL, &j, &err),
			 -EINVAL);
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(journal_read(path, &v, &fd, &m, NULL, &err), -ELOOP);
	assert_int_equal(journal_writer_open(dir, &v, "/x", NULL, &j, &err),
			 -ELOOP);
	unlink(path);
	free(path);
}

static void test_walk_refuses_swapped_top(void **state)
{
	char top[128], f[160], got[256];
	const char *old = "system_u:object_r:user_home_t:s0";
	mcs_relabel_opts o = {
		.context = "system_u:object_r:svirt_sandbox_file_t:s0",
		.flags = MCS_RELABEL_RECURSIVE | MCS_RELABEL_FOLLOW_TOP,
		.threads = 1,
	};
	mcs_error err = {0};
	journal_volume v;

	snprintf(top, sizeof(top), "%s/top", dir);
	snprintf(f, sizeof(f), "%s/f", top);
	assert_int_equal(mkdir(top, 0700), 0);
	close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	if (lsetxattr(f, "security.selinux", old, strlen(old) + 1, 0) < 0)
		skip(); /* no security xattrs here */
	assert_int_equal(relabel_top_volume(top, o.flags, &v, &err), 0);
	v.btime_nsec ^= 1; /* as if the top was made again */
	assert_int_equal(relabel_walk(top, &o, NULL, &v, NULL, &err), -ESTALE);
	assert_non_null(strstr(err.msg, "changed since its journal"));
	ssize_t n = lgetxattr(f, "security.selinux", got, sizeof(got));
	assert_int_equal(n, (ssize_t)strlen(old) + 1);
	assert_string_equal(got, old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_other_volume_and_version),
		cmocka_unit_test(test_writer_cuts_torn_tail),
		cmocka_unit_test(test_disk_moved),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_walk_refuses_swapped_top),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
