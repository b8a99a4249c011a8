/* SPDX-License-Identifier: MIT */
/*
 * varlink_error.c - the table of varlink errors and -errno codes shared by
 * the client (decoding) and mcsd (encoding), so that a code the daemon
 * means is the code the client reports.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "util.h"
#include "varlink_error.h"

/* The first row of a code is what the daemon answers for it; later rows
 * with the same code are names the client also decodes to it. */
static const struct {
	const char *name;
	int code;
} table[] = {
	{VARLINK_ERROR_EXHAUSTED, -ENOSPC},
	{VARLINK_ERROR_INVALID_LEVEL, -EINVAL},
	{VARLINK_ERROR_LEVEL_IN_USE, -EEXIST},
	{VARLINK_ERROR_NOT_FOUND, -ENOENT},
	{VARLINK_ERROR_PERMISSION_DENIED, -EPERM},
	{VARLINK_ERROR_STORAGE, -EIO},
	{VARLINK_ERROR_INVALID_PARAMETER, -EINVAL},
	{VARLINK_ERROR_METHOD_NOT_FOUND, -EOPNOTSUPP},
	{VARLINK_ERROR_INTERFACE_NOT_FOUND, -EOPNOTSUPP},
};

int varlink_error_errno(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(table); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].code;
	return -EPROTO;
}

const char *varlink_error_name(int code)
{
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (table[i].code == code)
			return table[i].name;
	return VARLINK_ERROR_STORAGE;
}

const char *varlink_error_row(unsigned i, int *ret_code)
{
	if (i >= ELEMENTSOF(table))
		return NULL;
	*ret_code = table[i].code;
	return table[i].name;
}
