/* SPDX-License-Identifier: MIT */
/*
 * fuzz_varlink.c - libFuzzer target: varlink framing (lib/varlink.c).
 * The input is fed to varlink_buf_take() in chunks whose sizes come from
 * the input itself, as a socket would deliver it; every message taken
 * must be a JSON object that serialises back with its NUL, and the
 * buffer never holds more than one message beyond VARLINK_MSG_MAX.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	varlink_buf b = {0};
	size_t pos = 0;
	/* first byte: chunk size (1..256) */
	size_t chunk = size ? (size_t)data[0] + 1 : 1;

	if (size)
		pos = 1;
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		if (b.len + n > b.cap) {
			size_t ncap = b.cap ? b.cap * 2 : 256;
			while (ncap < b.len + n)
				ncap *= 2;
			char *nd = realloc(b.data, ncap);
			check(nd != NULL);
			b.data = nd;
			b.cap = ncap;
		}
		memcpy(b.data + b.len, data + pos, n);
		b.len += n;
		pos += n;
		for (;;) {
			struct json_object *o = NULL;
			int r = varlink_buf_take(&b, &o);
			if (r == 1) {
				char *out = NULL;
				size_t len = 0;
				check(json_object_is_type(o, json_type_object));
				check(varlink_serialize(o, &out, &len) == 0);
				check(len > 0 && out[len - 1] == '\0');
				check(memchr(out, '\0', len - 1) == NULL);
				free(out);
				json_object_put(o);
				continue;
			}
			check(r == 0 || r == -EBADMSG || r == -EMSGSIZE);
			if (r == -EMSGSIZE)
				goto out;
			if (r == 0)
				break;
		}
		check(b.len <= VARLINK_MSG_MAX + 1 + chunk);
	}
out:
	varlink_buf_free(&b);
	return 0;
}
