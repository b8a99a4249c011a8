/* SPDX-License-Identifier: MIT */
/*
 * readinput.h - the one way mcs-policy's library code opens a file it reads
 * (binary policy, expectation table, AVC log, access list).  Internal.
 */
#ifndef MCS_READINPUT_H
#define MCS_READINPUT_H

#include <stdio.h>
#include <sys/types.h>

#include <mcs/error.h>

/*
 * Open path for reading; its bytes come from fileio_read() (O_NONBLOCK,
 * fstat): only a regular file of at most max_size bytes is accepted
 * (a fifo, a device such as /dev/zero, a directory: -EINVAL; larger:
 * -EFBIG).  "-" is standard input, which may also be a pipe (the caller
 * asked for it), read to the same bound.  On success
 * *ret is a FILE over the bytes (fclose() frees them).  Returns 0 or
 * -errno, err naming the path.
 */
int readinput_open(const char *path, off_t max_size, FILE **ret,
		   mcs_error *err);

#endif
