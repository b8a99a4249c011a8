/* SPDX-License-Identifier: MIT */
/*
 * varlink_error.h - the one table between the varlink errors of
 * io.mcskit.Labels (and org.varlink.service) and -errno, used by the
 * client to decode a reply and by mcsd to encode its result.  Internal to
 * libmcs (mcsd links libmcs.a).
 */
#ifndef MCS_VARLINK_ERROR_H
#define MCS_VARLINK_ERROR_H

#define VARLINK_ERROR_EXHAUSTED		"io.mcskit.Labels.Exhausted"
#define VARLINK_ERROR_INVALID_LEVEL	"io.mcskit.Labels.InvalidLevel"
#define VARLINK_ERROR_LEVEL_IN_USE	"io.mcskit.Labels.LevelInUse"
#define VARLINK_ERROR_NOT_FOUND		"io.mcskit.Labels.NotFound"
#define VARLINK_ERROR_PERMISSION_DENIED "io.mcskit.Labels.PermissionDenied"
#define VARLINK_ERROR_STORAGE		"io.mcskit.Labels.StorageError"
#define VARLINK_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VARLINK_ERROR_METHOD_NOT_FOUND	"org.varlink.service.MethodNotFound"
#define VARLINK_ERROR_INTERFACE_NOT_FOUND                                      \
	"org.varlink.service.InterfaceNotFound"

/* The -errno a client reports for error name: -EPROTO for a name not in
 * the table. */
int varlink_error_errno(const char *name);

/* The error name the daemon answers for -errno code: the first name of
 * the table with that code, StorageError for a code not in it.  Every
 * code of the table round-trips: varlink_error_errno(varlink_error_name(c))
 * == c. */
const char *varlink_error_name(int code);

/* Row i of the table (for tests): its name and code; NULL past the end. */
const char *varlink_error_row(unsigned i, int *ret_code);

#endif
