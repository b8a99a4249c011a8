/* SPDX-License-Identifier: MIT */
/*
 * names.h - internal parts of names.c for the label parser: the
 * characters of an SELinux identifier and what may start one.
 */
#ifndef MCS_NAMES_INT_H
#define MCS_NAMES_INT_H

#include <stdbool.h>

#include <mcs/names.h>

/* A character of a user, role or type name ([A-Za-z0-9_.-]). */
bool names_identifier_char(int c);
/* A character that may start one (a letter). */
bool names_identifier_start(int c);

#endif
