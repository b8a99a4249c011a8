/* SPDX-License-Identifier: MIT */
/*
 * names.c - the one validator of each kind of name (mcs/names.h): owners
 * and groups of the registry, and SELinux identifiers (user, role, type).
 * Everything that accepts such a name calls mcs_name_check() or, while
 * scanning a context, the character classes in names.h.
 */
#include <errno.h>
#include <string.h>

#include <mcs/label.h>
#include <mcs/names.h>

#include "names.h"

static bool ascii_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(int c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9');
}

bool names_identifier_char(int c)
{
	return ascii_alnum(c) || c == '_' || c == '.' || c == '-';
}

bool names_identifier_start(int c)
{
	return ascii_alpha(c);
}

static bool owner_char(int c)
{
	return ascii_alnum(c) || c == '_' || c == '.' || c == ':' || c == '@' ||
	       c == '-';
}

static const struct {
	const char *what;
	const char *want;
	size_t max;
	bool (*start)(int c);
	bool (*rest)(int c);
} kinds[] = {
	[MCS_NAME_OWNER] = {"owner",
			    "1-255 of [A-Za-z0-9_.:@-], not starting with "
			    "'-' or '.'",
			    MCS_NAME_OWNER_MAX, NULL, owner_char},
	[MCS_NAME_GROUP] = {"group",
			    "1-255 of [A-Za-z0-9_.:@-], not starting with "
			    "'-' or '.'",
			    MCS_NAME_OWNER_MAX, NULL, owner_char},
	[MCS_NAME_TYPE] = {"type", "a letter, then up to 254 of [A-Za-z0-9_.-]",
			   MCS_NAME_MAX, names_identifier_start,
			   names_identifier_char},
};

static bool name_ok(mcs_name_kind kind, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > kinds[kind].max)
		return false;
	if (kinds[kind].start ? !kinds[kind].start((unsigned char)s[0])
			      : s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!kinds[kind].rest((unsigned char)s[i]))
			return false;
	return true;
}

MCS_EXPORT int mcs_name_check(mcs_name_kind kind, const char *s, mcs_error *err)
{
	if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
		return mcs_error_set(err, -EINVAL, "invalid name kind %d",
				     (int)kind);
	if (s && name_ok(kind, s))
		return 0;
	return mcs_error_set(err, -EINVAL, "invalid %s \"%.64s\": want %s",
			     kinds[kind].what, s ? s : "", kinds[kind].want);
}
