/* SPDX-License-Identifier: MIT */
/*
 * fuzz_journal.c - libFuzzer target: the restore journal reader
 * (journal_parse() of lib/journal.c) on arbitrary bytes, with and without
 * the volume to check against.  A journal accepted must have whole frames
 * up to good_len and at most a torn tail after it; every inode it maps
 * must be found again by lookup.
 *
 * Random bytes rarely pass a CRC32C, so the records behind them would
 * see little fuzzing: when the first byte is 0x01, the rest is taken with
 * its header and frame checksums recomputed (a well-checksummed journal
 * with arbitrary content), reaching the record, run and commit checks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void put_hex(char *p, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, v >>= 4)
		p[i] = hex[v & 15];
}

/* Recompute the header CRC and every frame's CRCs in place. */
static void fix_checksums(char *b, size_t len)
{
	char *crc = memmem(b, len, "\ncrc ", 5);
	size_t pos;

	if (!crc || (size_t)(crc - b) + 14 > len)
		return;
	put_hex(crc + 5, journal_crc32c(0, b, (size_t)(crc + 1 - b)));
	crc[13] = '\n';
	pos = (size_t)(crc - b) + 14;
	while (pos + 29 <= len) {
		char *f = b + pos;
		uint32_t plen = 0;
		for (int i = 2; i < 10; i++) {
			int d = hexval(f[i]);
			if (d < 0)
				return;
			plen = plen << 4 | (uint32_t)d;
		}
		f[1] = f[10] = f[19] = ' ';
		f[28] = '\n';
		if (plen <= len - pos - 29)
			put_hex(f + 11, journal_crc32c(0, f + 29, plen));
		put_hex(f + 20, journal_crc32c(0, f, 19));
		if (plen > len - pos - 29)
			return;
		pos += 29 + plen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const journal_volume vol = {
		.dev_major = 8,
		.dev_minor = 1,
		.ino = 1234,
		.fsid = 0x9f3c0e1d2a4b5c6dULL,
		.btime_sec = 1700000000,
		.btime_nsec = 123456789,
	};
	journal_map *m = NULL;
	journal_info info;
	mcs_error err = {0};
	char *copy = NULL;
	const char *buf = (const char *)data;

	if (size > 0 && data[0] == 1) {
		copy = malloc(size);
		check(copy != NULL);
		memcpy(copy, data + 1, size - 1);
		size--;
		fix_checksums(copy, size);
		buf = copy;
	}

	if (journal_parse(buf, size, "fuzz", NULL, &m, &info, &err) >= 0) {
		check(info.good_len + info.torn_len == size);
		check(info.runs > 0);
		check(journal_map_count(m) <= info.records);
		journal_map_free(m);
		m = NULL;
		/* the same bytes against a volume: same verdict or -ESTALE */
		int r = journal_parse(buf, size, "fuzz", &vol, &m, &info, &err);
		check(r >= 0 || r == -ESTALE);
		journal_map_free(m);
	} else {
		check(err.code < 0 && strstr(err.msg, "fuzz"));
	}
	free(copy);
	return 0;
}
