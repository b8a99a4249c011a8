/* SPDX-License-Identifier: MIT */
/*
 * mcs/client.h - the libmcs client of mcsd, for container runtimes in C.
 *
 * A client is one connection to mcsd's Unix socket speaking varlink
 * (interface io.mcskit.Labels, see docs/protocol.md).  Calls are
 * synchronous: each sends one request and waits for its reply.  A client
 * is not thread-safe; use one per thread (connections are cheap).
 *
 * Every call returns >= 0 on success or a negative errno; the daemon's
 * varlink errors map to (one table, lib/varlink_error.c, that the daemon
 * encodes with too, so the code the registry meant is the code returned):
 *   io.mcskit.Labels.Exhausted         -ENOSPC
 *   io.mcskit.Labels.InvalidLevel      -EINVAL
 *   io.mcskit.Labels.LevelInUse        -EEXIST
 *   io.mcskit.Labels.NotFound          -ENOENT
 *   io.mcskit.Labels.PermissionDenied  -EPERM
 *   io.mcskit.Labels.StorageError      -EIO
 *   org.varlink.service.InvalidParameter        -EINVAL
 *   org.varlink.service.MethodNotFound /
 *   org.varlink.service.InterfaceNotFound       -EOPNOTSUPP
 *   any other error                             -EPROTO
 * (LevelInUse was -EBUSY, PermissionDenied -EACCES and StorageError
 * -EPROTO before the table was shared.)
 * and err (when non-NULL) holds a message naming the error and the owner
 * or level involved.  A broken connection gives -ECONNRESET/-EPIPE; the
 * client must then be freed.
 */
#ifndef MCS_CLIENT_H
#define MCS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <mcs/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default socket path of mcsd. */
#define MCS_DEFAULT_SOCKET "/run/mcsd/mcsd.sock"

#define MCS_OWNER_MAX 255 /* longest owner (container id) or group name */
#define MCS_TYPE_MAX  255 /* longest SELinux type name */
#define MCS_LEVEL_MAX 32  /* "s0:c1022,c1023" fits with room to spare */
#define MCS_LABEL_MAX (MCS_TYPE_MAX + MCS_LEVEL_MAX + 64)

typedef struct mcs_client mcs_client;

/* What Allocate asks for.  NULL/0/false fields are omitted. */
typedef struct mcs_alloc_request {
	const char *owner; /* required: container id, [A-Za-z0-9_.:@-]{1,255} */
	const char *group; /* optional pod: members share one level */
	const char *level; /* optional explicit level "s0:cX,cY" */
	const char *type;  /* optional process type, default svirt_lxc_net_t */
	pid_t pid;	   /* optional: lease ends when this pid exits */
	bool persistent;   /* reservation that outlives processes and boots */
} mcs_alloc_request;

/* One registry entry as the daemon reports it. */
typedef struct mcs_lease {
	char owner[MCS_OWNER_MAX + 1];
	char group[MCS_OWNER_MAX + 1]; /* "" when none */
	char level[MCS_LEVEL_MAX];     /* "s0:cX,cY" */
	/* system_u:system_r:<type>:<level> (Allocate only; "" in List) */
	char process_label[MCS_LABEL_MAX];
	/* system_u:object_r:svirt_sandbox_file_t:<level> */
	char mount_label[MCS_LABEL_MAX];
	bool persistent; /* reservation rather than lease */
	uint32_t uid;	 /* uid of the client that allocated */
	int32_t pid;	 /* pid the lease is bound to, 0 when none */
} mcs_lease;

typedef struct mcs_status {
	uint64_t total; /* pairs in the configured range */
	uint64_t used;	/* pairs held by an owner or group */
	uint64_t free;	/* pairs that can be handed out now (quarantined
			 * included) */
	/* released pairs whose files may still carry them: handed out
	 * again only after the never-used ones, least recently released
	 * first */
	uint64_t quarantined;
} mcs_status;

/*
 * Connect to mcsd at path (NULL: MCS_DEFAULT_SOCKET).  On success *ret
 * owns a new client that the caller frees with mcs_client_free().
 * Returns 0 or -errno of socket/connect (err names the path).
 */
MCS_EXPORT int mcs_client_connect(const char *path, mcs_client **ret,
				  mcs_error *err);

/* Close the connection and free c.  NULL is a no-op. */
MCS_EXPORT void mcs_client_free(mcs_client *c);

/*
 * Per-call timeout for waiting on a reply, in milliseconds (0: wait
 * forever, the default).  A call that times out returns -ETIMEDOUT and the
 * client must be freed.
 */
MCS_EXPORT void mcs_client_set_timeout(mcs_client *c, int timeout_ms);

/*
 * Allocate (or, idempotently, return again) the level of req->owner.
 * Fills *ret (may be NULL) with owner, group, level and both labels.
 */
MCS_EXPORT int mcs_client_allocate(mcs_client *c, const mcs_alloc_request *req,
				   mcs_lease *ret, mcs_error *err);

/* Release owner's level.  -ENOENT when owner holds nothing. */
MCS_EXPORT int mcs_client_release(mcs_client *c, const char *owner,
				  mcs_error *err);

/* Look owner up into *ret.  -ENOENT when owner holds nothing. */
MCS_EXPORT int mcs_client_lookup(mcs_client *c, const char *owner,
				 mcs_lease *ret, mcs_error *err);

/*
 * List the entries the caller may see (root: all; others: their own), in
 * owner order: every page of List, one call each (64 rows a page).  On
 * success *ret_leases is a malloc'ed array of *ret_n entries the caller
 * frees with free() (NULL when *ret_n is 0).
 */
MCS_EXPORT int mcs_client_list(mcs_client *c, mcs_lease **ret_leases,
			       size_t *ret_n, mcs_error *err);

/*
 * One page of that list: the entries after owner `after` (NULL or "": from
 * the first), as mcs_client_list() returns them, with ret_next set to the
 * `after` of the next page, or "" after the last.  A page may hold no
 * entry of the caller's and still have a next one.  To walk a large
 * registry without holding all of it.
 */
MCS_EXPORT int mcs_client_list_page(mcs_client *c, const char *after,
				    mcs_lease **ret_leases, size_t *ret_n,
				    char ret_next[MCS_OWNER_MAX + 1],
				    mcs_error *err);

/* Counts of the registry. */
MCS_EXPORT int mcs_client_status(mcs_client *c, mcs_status *ret,
				 mcs_error *err);

#ifdef __cplusplus
}
#endif
#endif
