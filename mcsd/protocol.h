/* SPDX-License-Identifier: MIT */
/*
 * protocol.h - the io.mcskit.Labels varlink interface (internal): one
 * call in, one reply out, registry changes made inside the transaction
 * the server's pipeline opened around a batch of calls.
 */
#ifndef MCSD_PROTOCOL_H
#define MCSD_PROTOCOL_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <mcs/error.h>
#include <mcs/names.h>

#include "registry.h"

#define PROTOCOL_INTERFACE "io.mcskit.Labels"
#define PROTOCOL_OWNER_MAX MCS_NAME_OWNER_MAX

/* Who is calling, from SO_PEERCRED / SO_PEERGROUPS / SO_PEERSEC. */
typedef struct protocol_peer {
	uid_t uid;
	pid_t pid;
	bool may_allocate; /* root or member of the configured group */
	bool denied;	   /* refused by the SELinux policy: every call fails */
} protocol_peer;

/* What one call leaves for the pipeline. */
typedef struct protocol_result {
	/* The reply or error object (owned), NULL when the call asked for
	 * none ("oneway"). */
	struct json_object *reply;
	/* A lease bound to a live process was created or confirmed: a
	 * pidfd (CLOEXEC, owned) readable when pid exits, the pid, and
	 * the lease's owner; pidfd -1 otherwise. */
	int pidfd;
	pid_t pid;
	char owner[PROTOCOL_OWNER_MAX + 1];
} protocol_result;

/*
 * Answer one call (a parsed JSON object) on reg, inside the caller's
 * transaction.  *ret is filled in every case.  Returns 0, or -ENOMEM
 * (nothing to send: the caller drops the client).
 */
int protocol_handle(mcsd_registry *reg, const protocol_peer *peer,
		    struct json_object *call, protocol_result *ret);

/* An error reply {"error": name, "parameters": {key: value}} (key may be
 * NULL: no parameters), shared with the server for framing errors; NULL
 * when out of memory. */
struct json_object *protocol_error(const char *name, const char *key,
				   const char *value);

#endif
