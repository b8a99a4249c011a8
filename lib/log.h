/* SPDX-License-Identifier: MIT */
/*
 * log.h - internal logging: lib code calls log_msg(); the message goes to
 * the callback installed with mcs_set_log_callback(), or nowhere.
 */
#ifndef MCS_LOG_H
#define MCS_LOG_H

#include <mcs/error.h>

void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
