/* SPDX-License-Identifier: MIT */
/*
 * protect.h - internal entry to protect.c for tests: build the protected
 * set from a given passwd file instead of the system's database.
 */
#ifndef MCS_PROTECT_INT_H
#define MCS_PROTECT_INT_H

#include <mcs/protect.h>

/* As mcs_protect_set_new(), home directories read from passwd_file
 * (NULL: the passwd database). */
int protect_set_new_from(const char *const *extra, const char *passwd_file,
			 mcs_protect_set **ret, mcs_error *err);

#endif
