/* SPDX-License-Identifier: MIT */
/*
 * fuzz_label.c - libFuzzer target: the label, level and range parsers of
 * lib/label.c on arbitrary bytes.  Whatever parses must format, and the
 * formatted text must parse again to the same value (canonical form is a
 * fixed point); nothing may read past the input (it is passed counted,
 * without a NUL).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mcs/label.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char buf[8192];
	mcs_error err = {0};
	mcs_level l, l2;
	mcs_range r, r2;
	mcs_context c, c2;

	if (mcs_level_parse_n(s, size, &l, &err) >= 0) {
		check(mcs_level_format(&l, buf, sizeof(buf)) >= 0);
		check(mcs_level_parse(buf, &l2, &err) >= 0);
		check(mcs_level_equal(&l, &l2));
	}
	if (mcs_range_parse_n(s, size, &r, &err) >= 0) {
		check(mcs_range_format(&r, buf, sizeof(buf)) >= 0);
		check(mcs_range_parse(buf, &r2, &err) >= 0);
		check(mcs_range_equal(&r, &r2));
	}
	if (mcs_context_parse_n(s, size, &c, &err) >= 0) {
		check(mcs_context_format(&c, buf, sizeof(buf)) >= 0);
		check(mcs_context_parse(buf, &c2, &err) >= 0);
		check(mcs_context_equal(&c, &c2));
		/* a parsed context equals its canonical form as stored */
		(void)mcs_context_str_equal(s, size, buf, strlen(buf));
	}
	return 0;
}
