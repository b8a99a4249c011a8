/* SPDX-License-Identifier: MIT */
/*
 * readinput.c - the input files of the policy readers (policy.c,
 * policytest.c, avc.c, ifindex.c) as a FILE: the bytes come from
 * lib/fileio.c's fileio_read() (never block on a fifo, never read a
 * device, regular files only, bounded), so the rule is in one place;
 * this file adds only standard input ("-", which may be a pipe the user
 * chose, read to the same bound) and a stdio stream over the bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "readinput.h"
#include "util.h"

typedef struct readinput_buf {
	char *data;
	size_t len, pos;
} readinput_buf;

static ssize_t readinput_cookie_read(void *c, char *out, size_t size)
{
	readinput_buf *b = c;
	size_t n = b->len - b->pos < size ? b->len - b->pos : size;

	memcpy(out, b->data + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

static int readinput_cookie_seek(void *c, off64_t *off, int whence)
{
	readinput_buf *b = c;
	off64_t base = whence == SEEK_SET   ? 0
		       : whence == SEEK_CUR ? (off64_t)b->pos
					    : (off64_t)b->len;

	if (*off < -base || base + *off > (off64_t)b->len)
		return -1;
	b->pos = (size_t)(base + *off);
	*off = (off64_t)b->pos;
	return 0;
}

static int readinput_cookie_close(void *c)
{
	readinput_buf *b = c;

	free(b->data);
	free(b);
	return 0;
}

/* A pipe on standard input: read to EOF, at most max bytes. */
static int readinput_pipe(size_t max, char **ret, size_t *ret_len,
			  mcs_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nb;

			if (cap > max)
				return mcs_error_set(
					err, -EFBIG,
					"standard input: more than %zu bytes",
					max);
			nb = realloc(buf, ncap + 1);
			if (!nb)
				return mcs_error_set(err, -ENOMEM,
						     "out of memory");
			buf = nb;
			cap = ncap;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mcs_error_set(err, negative_errno(),
					     "read standard input: %m");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return mcs_error_set(err, -EFBIG,
				     "standard input: more than %zu bytes",
				     max);
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int readinput_open(const char *path, off_t max_size, FILE **ret, mcs_error *err)
{
	static const cookie_io_functions_t io = {
		.read = readinput_cookie_read,
		.seek = readinput_cookie_seek,
		.close = readinput_cookie_close,
	};
	readinput_buf *b;
	char *data = NULL;
	size_t len = 0, max = (size_t)max_size;
	struct stat st;
	FILE *f;
	int r;

	if (strcmp(path, "-") != 0)
		r = fileio_read(path, 0, max, &data, &len, err);
	else if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		r = fileio_read_fd(STDIN_FILENO, "standard input", max, &data,
				   &len, err);
	else if (fstat(STDIN_FILENO, &st) == 0 &&
		 (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		r = readinput_pipe(max, &data, &len, err);
	else
		r = mcs_error_set(err, -EINVAL,
				  "standard input: not a file or a pipe");
	if (r < 0)
		return r;
	b = malloc(sizeof(*b));
	if (!b) {
		free(data);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	*b = (readinput_buf){.data = data, .len = len};
	f = fopencookie(b, "r", io);
	if (!f) {
		readinput_cookie_close(b);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	*ret = f;
	return 0;
}
