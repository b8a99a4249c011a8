/* SPDX-License-Identifier: MIT */
/*
 * varlink.h - varlink framing (internal): JSON objects terminated by a NUL
 * byte on a Unix stream socket, parsed and written with json-c only.
 */
#ifndef MCS_VARLINK_H
#define MCS_VARLINK_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* Largest message accepted (the JSON text without its NUL). */
#define VARLINK_MSG_MAX (64 * 1024)

/* Bytes received but not yet parsed. */
typedef struct varlink_buf {
	char *data;		  /* owned, malloc'ed */
	size_t len;		  /* bytes held */
	size_t cap;		  /* bytes allocated */
	size_t scan;		  /* data[0..scan) holds no NUL */
	struct json_tokener *tok; /* reused for every message, or NULL */
} varlink_buf;

void varlink_buf_free(varlink_buf *b);

/*
 * Append the bytes readable now from fd (non-blocking or blocking) to b.
 * Returns the number of bytes read (0: peer closed), or -errno
 * (-EAGAIN when nothing is there).
 */
int varlink_buf_fill(varlink_buf *b, int fd);

/*
 * Take the next complete message out of b.  Returns 1 and sets *ret (a new
 * reference the caller puts) when one was there, 0 when more bytes are
 * needed, -EMSGSIZE when the pending message exceeds VARLINK_MSG_MAX,
 * -EBADMSG when it is not a JSON object, or a string in it (key or value)
 * holds an escaped NUL ("\u0000": every string taken out of the object is
 * a C string) (the bad message is consumed, so the caller may carry on
 * with the next one).
 */
int varlink_buf_take(varlink_buf *b, struct json_object **ret);

/* Whether b holds a complete message (its NUL), not taken yet. */
bool varlink_buf_complete(const varlink_buf *b);

/*
 * Serialise obj plus the terminating NUL into a new malloc'ed buffer
 * (*ret, *ret_len bytes including the NUL).  Returns 0 or -ENOMEM.
 */
int varlink_serialize(struct json_object *obj, char **ret, size_t *ret_len);

/*
 * Append obj plus its NUL to the growable buffer *buf (*len bytes used,
 * *cap allocated).  Returns 0 or -ENOMEM (buffer unchanged).
 */
int varlink_append(struct json_object *obj, char **buf, size_t *len,
		   size_t *cap);

/* Write obj plus NUL to a blocking fd.  Returns 0 or -errno. */
int varlink_send(int fd, struct json_object *obj);

/*
 * Read one message from a blocking fd into *ret, buffering the surplus in
 * b.  timeout_ms > 0 bounds the whole wait (-ETIMEDOUT).  It waits in
 * poll(), then reads without blocking: a blocking recv would also be woken,
 * for nothing, when the peer reads our request.  Returns 0,
 * -ECONNRESET when the peer closed, -EMSGSIZE, -EBADMSG or -errno.
 */
int varlink_recv(int fd, varlink_buf *b, struct json_object **ret,
		 int timeout_ms);

/* Build {"method": method, "parameters": params}; takes params' reference
 * (params may be NULL: no "parameters").  NULL on ENOMEM. */
struct json_object *varlink_call_new(const char *method,
				     struct json_object *params);

/* Build {"error": name, "parameters": params} (params taken, may be NULL). */
struct json_object *varlink_error_new(const char *name,
				      struct json_object *params);

/* Build {"parameters": params} (params taken, may be NULL: {}). */
struct json_object *varlink_reply_new(struct json_object *params);

#endif
