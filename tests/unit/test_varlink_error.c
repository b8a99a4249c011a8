/* SPDX-License-Identifier: MIT */
/*
 * test_varlink_error.c - the table of varlink errors and -errno codes
 * (lib/varlink_error.c) that mcsd encodes with and the client decodes
 * with: every code round-trips, every name decodes to its code, unknown
 * codes are StorageError and unknown names -EPROTO.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "varlink_error.h"

static void test_every_code_round_trips(void **state)
{
	const char *name;
	unsigned i;
	int code;

	(void)state;
	for (i = 0; (name = varlink_error_row(i, &code)); i++) {
		const char *back = varlink_error_name(code);

		if (varlink_error_errno(name) != code)
			fail_msg("%s decodes to %d, not %d", name,
				 varlink_error_errno(name), code);
		if (varlink_error_errno(back) != code)
			fail_msg("%d encodes as %s, which decodes to %d", code,
				 back, varlink_error_errno(back));
	}
	assert_true(i >= 9);
}

/* The codes the registry returns are the codes a client reports: the
 * ones that did not round-trip before the table was shared. */
static void test_registry_codes(void **state)
{
	static const struct {
		int code;
		const char *name;
	} cases[] = {
		{-ENOSPC, VARLINK_ERROR_EXHAUSTED},
		{-EINVAL, VARLINK_ERROR_INVALID_LEVEL},
		{-EEXIST, VARLINK_ERROR_LEVEL_IN_USE},
		{-ENOENT, VARLINK_ERROR_NOT_FOUND},
		{-EPERM, VARLINK_ERROR_PERMISSION_DENIED},
		{-EIO, VARLINK_ERROR_STORAGE},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(varlink_error_name(cases[i].code),
				    cases[i].name);
		assert_int_equal(varlink_error_errno(cases[i].name),
				 cases[i].code);
	}
}

static void test_unknown(void **state)
{
	(void)state;
	/* a storage engine's own failures are StorageError, never
	 * PermissionDenied or LevelInUse */
	assert_string_equal(varlink_error_name(-EACCES), VARLINK_ERROR_STORAGE);
	assert_string_equal(varlink_error_name(-EBUSY), VARLINK_ERROR_STORAGE);
	assert_string_equal(varlink_error_name(-ENOTCONN),
			    VARLINK_ERROR_STORAGE);
	assert_int_equal(varlink_error_errno("com.example.Whatever"), -EPROTO);
	assert_int_equal(varlink_error_errno(NULL), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_round_trips),
		cmocka_unit_test(test_registry_codes),
		cmocka_unit_test(test_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
