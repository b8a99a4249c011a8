/* SPDX-License-Identifier: MIT */
/*
 * fuzz_protocol.c - libFuzzer target: decoding of every method's
 * parameters (protocol_handle(), mcsd/protocol.c) on a real
 * registry over c0.c9 in a private temporary directory.  The first input
 * byte picks the peer (root or not, allowed to allocate or not, denied by
 * SELinux or not); the rest is one varlink message.  Every call must be
 * answered with a reply or an error object that serialises, or no reply
 * for a oneway call; pidfds handed out are closed.
 *
 * With MCS_FUZZ_STRICT=1 in the environment, a call whose parameters hold
 * a string with an embedded NUL must be answered with an error (issue 13,
 * item 7: today "ab\u0000cd" is allocated as "ab"; reproducer in
 * tests/fuzz/crashes/).  Off by default until the daemon rejects them.
 *
 * Kept to the one entry point protocol_handle() so it follows the daemon
 * when it moves (only the include below changes).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"
#include "varlink.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static mcsd_registry *reg;
static char dir[64];
static bool strict;

/* A string value anywhere in params holds a NUL byte. */
static bool has_nul_string(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		return strlen(json_object_get_string(o)) !=
		       (size_t)json_object_get_string_len(o);
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (has_nul_string(v))
				return true;
		}
		return false;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (has_nul_string(json_object_array_get_idx(o, i)))
				return true;
		return false;
	default:
		return false;
	}
}

static void cleanup(void)
{
	char cmd[128];

	mcsd_registry_close(reg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char db[128];
	mcs_error err = {0};

	/* tmpfs when there is one (commits fsync); run.sh passes a
	 * directory it removes, as a crash skips the atexit cleanup */
	const char *base = getenv("MCS_FUZZ_TMPDIR");
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%.40s/mcs-fuzz-protocol.XXXXXX", base);
	check(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	mcsd_registry_config cfg = {.range = {0, 9}};
	if (mcsd_registry_open(db, &cfg, &reg, &err) < 0) {
		fprintf(stderr, "fuzz_protocol: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
	strict = getenv("MCS_FUZZ_STRICT") &&
		 strcmp(getenv("MCS_FUZZ_STRICT"), "1") == 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	varlink_buf b = {0};
	struct json_object *call = NULL, *reply = NULL;
	protocol_result res;
	mcs_error err = {0};

	if (size < 1)
		return 0;
	protocol_peer peer = {
		.uid = data[0] & 1 ? 0 : 1000 + (data[0] >> 6),
		.pid = 1,
		.may_allocate = data[0] & 2,
		.denied = (data[0] & 0x3c) == 0x3c,
	};
	b.data = malloc(size);
	check(b.data != NULL);
	memcpy(b.data, data + 1, size - 1);
	b.len = b.cap = size - 1;
	/* the message up to its NUL (or the whole input) */
	if (!memchr(b.data, '\0', b.len)) {
		char *n = realloc(b.data, b.len + 1);
		check(n != NULL);
		b.data = n;
		b.data[b.len++] = '\0';
		b.cap = b.len;
	}
	if (varlink_buf_take(&b, &call) == 1) {
		check(mcsd_registry_begin(reg, &err) >= 0);
		int r = protocol_handle(reg, &peer, call, &res);
		check(r >= 0 || r == -ENOMEM);
		check(mcsd_registry_commit(reg, &err) >= 0);
		reply = res.reply;
		if (reply && strict) {
			struct json_object *params = NULL;
			json_object_object_get_ex(call, "parameters", &params);
			if (params && has_nul_string(params))
				check(json_object_object_get_ex(reply, "error",
								NULL));
		}
		if (reply) {
			char *out = NULL;
			size_t len = 0;
			check(json_object_is_type(reply, json_type_object));
			check(varlink_serialize(reply, &out, &len) == 0);
			free(out);
			json_object_put(reply);
		}
		if (res.pidfd >= 0)
			close(res.pidfd);
		json_object_put(call);
	}
	varlink_buf_free(&b);
	return 0;
}
