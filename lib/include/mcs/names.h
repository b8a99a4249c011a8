/* SPDX-License-Identifier: MIT */
/*
 * mcs/names.h - the one validator of each kind of name mcskit accepts.
 * The daemon's protocol and registry, the label parser and the tools all
 * call these, so a name is valid in one place exactly when it is in all.
 *
 * Pure computation, safe from any thread.
 */
#ifndef MCS_NAMES_H
#define MCS_NAMES_H

#include <stdbool.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCS_NAME_OWNER_MAX 255 /* owner (container id) and group (pod) */

typedef enum mcs_name_kind {
	/* An owner (container id) or group (pod): 1..255 of
	 * [A-Za-z0-9_.:@-], not starting with '-' or '.' (it could pass
	 * for an option or a hidden file). */
	MCS_NAME_OWNER = 0,
	MCS_NAME_GROUP = 1,
	/* An SELinux user, role or type identifier as the policy language
	 * writes it: a letter, then letters, digits, '_', '.' or '-';
	 * 1..MCS_NAME_MAX (255). */
	MCS_NAME_TYPE = 2,
} mcs_name_kind;

/*
 * Is s a valid name of kind?  Returns 0, or -EINVAL with err (may be
 * NULL) saying "invalid <kind> \"<s>\": want ..." (s cut at 64 bytes).
 * NULL s is invalid.
 */
MCS_EXPORT int mcs_name_check(mcs_name_kind kind, const char *s,
			      mcs_error *err);

#ifdef __cplusplus
}
#endif
#endif
