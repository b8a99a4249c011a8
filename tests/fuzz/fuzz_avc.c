/* SPDX-License-Identifier: MIT */
/*
 * fuzz_avc.c - libFuzzer target: the AVC reader of `mcs-policy why`,
 * `try` and `rank` (lib/avc.c): mcs_avc_parse_line() on the input as one
 * line, and mcs_avc_read() on it as a file (a memfd).  Every record
 * accepted has its contexts, class and 1..MCS_POLICY_PERMS_MAX
 * permissions, each a non-empty string inside the record's storage, and
 * a line number within the input.  (Built by `make fuzz`, tests/fuzz/.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mcs/avc.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_record(const mcs_avc *a, size_t lines)
{
	check(a->scontext && *a->scontext && a->tcontext && *a->tcontext);
	check(a->tclass && *a->tclass);
	check(a->nperms >= 1 && a->nperms <= MCS_POLICY_PERMS_MAX);
	for (size_t i = 0; i < a->nperms; i++)
		check(a->perms[i] && *a->perms[i]);
	check(a->permissive >= -1 && a->permissive <= 1);
	check(a->lineno <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	mcs_avc one, *v = NULL;
	size_t n = 0, bad = 0, lines = 1;
	mcs_error err = {0};

	if (mcs_avc_parse_line((const char *)data, size, &one, &err) == 1) {
		check_record(&one, 0);
		mcs_avc_done(&one);
	}
	if (fd < 0) {
		fd = memfd_create("fuzz-avc", MFD_CLOEXEC);
		check(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	check(ftruncate(fd, 0) == 0);
	check(pwrite(fd, data, size, 0) == (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (mcs_avc_read(path, &v, &n, &bad, &err) == 0) {
		check(n + bad <= lines);
		for (size_t i = 0; i < n; i++)
			check_record(&v[i], lines);
		mcs_avc_free(v, n);
	}
	return 0;
}
