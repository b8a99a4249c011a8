/* SPDX-License-Identifier: MIT */
/*
 * varlink.c - varlink message framing: the byte stream of a Unix socket
 * split at NUL bytes into JSON objects, with a hard size limit, and the
 * construction of calls, replies and errors.  json-c does every parse and
 * every serialisation; this file never builds JSON text by hand.  It knows
 * nothing about methods (protocol.c) or sockets' lifetime (server.c,
 * client.c).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "varlink.h"

void varlink_buf_free(varlink_buf *b)
{
	if (b->tok)
		json_tokener_free(b->tok);
	free(b->data);
	*b = (varlink_buf){0};
}

static int buf_fill(varlink_buf *b, int fd, int flags)
{
	/* Room for one maximal message plus its NUL, read in 16 KiB steps. */
	const size_t step = 16 * 1024;

	if (b->cap - b->len < step) {
		size_t ncap = b->len + step;
		char *n = realloc(b->data, ncap);
		if (!n)
			return -ENOMEM;
		b->data = n;
		b->cap = ncap;
	}
	ssize_t r = recv(fd, b->data + b->len, b->cap - b->len, flags);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : negative_errno();
	b->len += (size_t)r;
	return (int)r;
}

int varlink_buf_fill(varlink_buf *b, int fd)
{
	return buf_fill(b, fd, MSG_DONTWAIT);
}

static void buf_consume(varlink_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->scan = 0;
}

/*
 * Whether the JSON text s (n bytes) escapes a NUL inside a string ("\u0000",
 * a key's or a value's): json-c keeps it, and every C string taken from
 * the object would silently end there ("ab\u0000cd" read as "ab").  A
 * backslash escapes the next character, so "\\u0000" is no NUL.
 */
static bool escapes_nul(const char *s, size_t n)
{
	if (!memmem(s, n, "\\u0000", 6))
		return false;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			in_string = !in_string;
		} else if (in_string && s[i] == '\\') {
			if (i + 5 < n && memcmp(s + i + 1, "u0000", 5) == 0)
				return true;
			i++; /* the escaped character */
		}
	}
	return false;
}

bool varlink_buf_complete(const varlink_buf *b)
{
	return b->len > b->scan &&
	       memchr(b->data + b->scan, '\0', b->len - b->scan) != NULL;
}

int varlink_buf_take(varlink_buf *b, struct json_object **ret)
{
	char *nul = b->len > b->scan
			    ? memchr(b->data + b->scan, '\0', b->len - b->scan)
			    : NULL;
	if (!nul) {
		b->scan = b->len;
		if (b->len > VARLINK_MSG_MAX)
			return -EMSGSIZE;
		return 0;
	}
	size_t mlen = (size_t)(nul - b->data);
	if (mlen > VARLINK_MSG_MAX) {
		buf_consume(b, mlen + 1);
		return -EMSGSIZE;
	}

	/* one tokener per buffer, reset for each message */
	if (!b->tok)
		b->tok = json_tokener_new_ex(32);
	else
		json_tokener_reset(b->tok);
	if (!b->tok)
		return -ENOMEM;
	struct json_tokener *tok = b->tok;
	struct json_object *obj =
		json_tokener_parse_ex(tok, b->data, (int)mlen);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	/* Trailing bytes after the object are an error too. */
	bool whole = jerr == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == mlen &&
		     !escapes_nul(b->data, mlen);
	buf_consume(b, mlen + 1);

	if (!obj || !whole || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*ret = obj;
	return 1;
}

int varlink_append(struct json_object *obj, char **buf, size_t *len,
		   size_t *cap)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&n);
	if (!s)
		return -ENOMEM;
	if (*len + n + 1 > *cap) {
		/* an empty buffer gets just what the message needs */
		size_t ncap = *cap ? *cap : n + 1;
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n + 1); /* json-c NUL-terminates */
	*len += n + 1;
	return 0;
}

int varlink_serialize(struct json_object *obj, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = varlink_append(obj, &buf, &len, &cap);

	if (r < 0)
		return r;
	*ret = buf;
	*ret_len = len;
	return 0;
}

int varlink_send(int fd, struct json_object *obj)
{
	_cleanup_free_ char *msg = NULL;
	size_t len = 0, off = 0;
	int r = varlink_serialize(obj, &msg, &len);
	if (r < 0)
		return r;
	while (off < len) {
		ssize_t n = send(fd, msg + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		off += (size_t)n;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int varlink_recv(int fd, varlink_buf *b, struct json_object **ret,
		 int timeout_ms)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	for (;;) {
		int r = varlink_buf_take(b, ret);
		if (r != 0)
			return r < 0 ? r : 0;

		/* poll, then a recv that does not block: a task asleep in
		 * recv is woken whenever the peer reads what it sent (the
		 * kernel wakes a socket's sleepers for write space too),
		 * while poll sleeps through that: one wake-up per reply, not
		 * two, and the peer's read makes no wake-up at all */
		int wait = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int k = poll(&pfd, 1, wait);
		if (k < 0 && errno != EINTR)
			return negative_errno();
		if (k <= 0)
			continue; /* EINTR, or the deadline: checked above */
		r = buf_fill(b, fd, MSG_DONTWAIT);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			return -ECONNRESET;
	}
}

static struct json_object *wrap(const char *key, const char *val,
				struct json_object *params)
{
	struct json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(params);
		return NULL;
	}
	if (key &&
	    json_object_object_add(o, key, json_object_new_string(val)) < 0)
		goto fail;
	if (!params)
		params = json_object_new_object();
	if (!params || json_object_object_add(o, "parameters", params) < 0)
		goto fail;
	return o;
fail:
	json_object_put(params);
	json_object_put(o);
	return NULL;
}

struct json_object *varlink_call_new(const char *method,
				     struct json_object *params)
{
	return wrap("method", method, params);
}

struct json_object *varlink_error_new(const char *name,
				      struct json_object *params)
{
	return wrap("error", name, params);
}

struct json_object *varlink_reply_new(struct json_object *params)
{
	return wrap(NULL, NULL, params);
}
