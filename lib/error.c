/* SPDX-License-Identifier: MIT */
/*
 * error.c - owns the mcs_error object (set, prefix, clear) and the
 * process-wide log callback.  The library reports through these two only;
 * it never prints.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

static mcs_log_fn log_fn;
static void *log_userdata;
static int log_max = MCS_LOG_DEBUG;

int mcs_error_set(mcs_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int mcs_error_prefix(mcs_error *err, const char *fmt, ...)
{
	char prefix[MCS_ERROR_MSG_MAX], old[MCS_ERROR_MSG_MAX];
	size_t plen, olen;
	va_list ap;

	if (!err)
		return 0;
	if (err->code == 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	plen = strnlen(prefix, sizeof(err->msg) - 1);
	olen = strnlen(old, sizeof(old));
	if (plen + olen > sizeof(err->msg) - 1)
		olen = sizeof(err->msg) - 1 - plen;
	memcpy(err->msg, prefix, plen);
	memcpy(err->msg + plen, old, olen);
	err->msg[plen + olen] = '\0';
	return err->code;
}

void mcs_error_clear(mcs_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

void mcs_set_log_callback(mcs_log_fn fn, void *userdata)
{
	log_fn = fn;
	log_userdata = userdata;
}

MCS_EXPORT void mcs_set_log_level(int max_priority)
{
	log_max = max_priority;
}

void log_msg(int priority, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	mcs_log_fn fn = log_fn;

	if (!fn || priority > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(priority, buf, log_userdata);
}
