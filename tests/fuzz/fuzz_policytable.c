/* SPDX-License-Identifier: MIT */
/*
 * fuzz_policytable.c - libFuzzer target: the expectation-table reader of
 * `mcs-policy test` (mcs_policytest_parse() of lib/policytest.c) on
 * arbitrary bytes, handed over as a regular file (a memfd).  Every row
 * accepted has its four fields, at least one permission and a line number
 * within the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mcs/policy.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	mcs_policytest_row *rows = NULL;
	size_t n = 0, lines = 1;
	mcs_error err = {0};

	if (fd < 0) {
		fd = memfd_create("fuzz-policytable", MFD_CLOEXEC);
		check(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	check(ftruncate(fd, 0) == 0);
	check(pwrite(fd, data, size, 0) == (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (mcs_policytest_parse(path, &rows, &n, &err) >= 0) {
		for (size_t i = 0; i < n; i++) {
			check(rows[i].scontext && rows[i].tcontext &&
			      rows[i].tclass);
			check(rows[i].nperms > 0);
			check(rows[i].lineno >= 1 && rows[i].lineno <= lines);
		}
		mcs_policytest_free(rows, n);
	}
	return 0;
}
