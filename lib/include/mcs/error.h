/* SPDX-License-Identifier: MIT */
/*
 * mcs/error.h - how libmcs reports failure and logs.
 *
 * Every library call returns >= 0 on success or a negative errno value.
 * Calls whose failure needs words (a bad label at column 12, a protected
 * path) also take an optional `mcs_error *err` as their last argument; when
 * it is non-NULL the call fills it with the same code and a one-line
 * message that already names the label or path involved.  Callers print
 * err->msg once; the library never prints and never exits.
 *
 * Long-running work (a relabel walk, the daemon's registry) reports
 * per-item events through a log callback instead of printing, in the
 * spirit of libselinux's selinux_set_callback().
 */
#ifndef MCS_ERROR_H
#define MCS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function that is part of libmcs' public ABI. */
#define MCS_EXPORT __attribute__((visibility("default")))

#define MCS_ERROR_MSG_MAX 512

typedef struct mcs_error {
	int code;		     /* negative errno, 0 when unset */
	char msg[MCS_ERROR_MSG_MAX]; /* one line, no trailing newline */
} mcs_error;

/*
 * Set err (if non-NULL) to code and a printf-style message; returns code,
 * so a caller can write `return mcs_error_set(err, -EINVAL, "...")`.
 * code must be negative.
 */
MCS_EXPORT int mcs_error_set(mcs_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Prefix err's message with context ("relabel /srv/vol: " + old message),
 * as the error travels up.  No-op when err is NULL or unset.  Returns
 * err->code (or 0 when err is NULL).
 */
MCS_EXPORT int mcs_error_prefix(mcs_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clear err (code 0, empty message). */
MCS_EXPORT void mcs_error_clear(mcs_error *err);

/* Log priorities, the syslog ones. */
enum {
	MCS_LOG_ERR = 3,
	MCS_LOG_WARNING = 4,
	MCS_LOG_NOTICE = 5,
	MCS_LOG_INFO = 6,
	MCS_LOG_DEBUG = 7,
};

typedef void (*mcs_log_fn)(int priority, const char *msg, void *userdata);

/*
 * Install the process-wide log callback (NULL: drop all messages, the
 * default).  The library calls it with one formatted line per event.
 */
MCS_EXPORT void mcs_set_log_callback(mcs_log_fn fn, void *userdata);

/*
 * Messages less urgent than max_priority (a larger number) are not even
 * formatted, let alone passed to the callback.  Default MCS_LOG_DEBUG:
 * everything.  (mcsd logs one line per allocation at MCS_LOG_INFO; its
 * registry thread spent 2-3 % formatting lines nobody printed.)
 */
MCS_EXPORT void mcs_set_log_level(int max_priority);

#ifdef __cplusplus
}
#endif
#endif
