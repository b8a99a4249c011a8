/* SPDX-License-Identifier: MIT */
/*
 * protocol.h - the io.mcskit.Labels varlink interface (internal): one
 * decoded call in, one reply out, registry changes made inside the
 * transaction the server opened around a batch of calls.
 */
#ifndef MCS_PROTOCOL_H
#define MCS_PROTOCOL_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <mcs/error.h>

#define PROTOCOL_INTERFACE "io.mcskit.Labels"
#define PROTOCOL_OWNER_MAX 255

typedef struct protocol protocol;

/* Who is calling, from SO_PEERCRED / SO_PEERGROUPS / SO_PEERSEC. */
typedef struct protocol_peer {
	uid_t uid;
	pid_t pid;
	bool may_allocate; /* root or member of the configured group */
	bool denied;	   /* refused by the SELinux policy: every call fails */
} protocol_peer;

/*
 * Open the registry at db_path over the category range (e.g. "c0.c1023"),
 * reconciling stale leases.  Returns 0 or -errno with err set.
 */
int protocol_new(const char *db_path, const char *range, protocol **ret,
		 mcs_error *err);
void protocol_free(protocol *p);

/* One registry transaction around a batch of calls.  commit returns only
 * when the changes are durable; 0 or -errno. */
int protocol_begin(protocol *p, mcs_error *err);
int protocol_commit(protocol *p, mcs_error *err);
/* mcs_registry_commit_nowait() and mcs_registry_sync(): see registry.h */
int protocol_commit_nowait(protocol *p, mcs_error *err);
int protocol_sync(protocol *p, mcs_error *err);
/* mcs_registry_checkpoint_elsewhere(), _due() and mcs_registry_checkpoint() */
int protocol_checkpoint_elsewhere(protocol *p, mcs_error *err);
bool protocol_checkpoint_due(protocol *p);
int protocol_checkpoint(protocol *p, mcs_error *err);

/*
 * Answer one call (a parsed JSON object).  *ret_reply is a new reply or
 * error object, or NULL when the call asked for no reply ("oneway").
 * When the call created a lease bound to a live pid, *ret_pidfd is a pidfd
 * (CLOEXEC) the caller watches and hands to protocol_pid_exited() when it
 * becomes readable; else -1.  Returns 0, or -ENOMEM.
 */
int protocol_handle(protocol *p, const protocol_peer *peer,
		    struct json_object *call, struct json_object **ret_reply,
		    int *ret_pidfd);

/*
 * The process owner's lease was bound to (pid) has exited: release the
 * lease if it is still bound to that pid.  Returns 1 when released, 0 when
 * there was nothing to release, or -errno.
 */
int protocol_lease_ended(protocol *p, const char *owner, pid_t pid);

/* A lease bound to a live process, found at start. */
typedef struct protocol_lease {
	int pidfd; /* CLOEXEC, readable when the process exits */
	pid_t pid;
	char owner[PROTOCOL_OWNER_MAX + 1];
} protocol_lease;

/*
 * Pidfds for the leases of live processes the registry holds (after a
 * restart): a malloc'ed array of *ret_n entries (caller frees it and owns
 * the fds).  Returns 0 or -errno.
 */
int protocol_watch_existing(protocol *p, protocol_lease **ret, size_t *ret_n);

/* Error reply helpers, shared with the server for framing errors. */
struct json_object *protocol_error(const char *name, const char *key,
				   const char *value);

#endif
