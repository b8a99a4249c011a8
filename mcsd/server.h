/* SPDX-License-Identifier: MIT */
/*
 * server.h - the mcsd daemon behind main.c: its configuration (flags and
 * config file parsed into a fresh struct) and the server that owns the
 * socket, the registry and the event loop.  mcsd/main.c only parses its
 * command line, calls these and logs once.  Private to mcsd (built into
 * the daemon's own archive, never into libmcs).
 */
#ifndef MCSD_SERVER_H
#define MCSD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include <mcs/error.h>

#define MCS_DEFAULT_DB	  "/var/lib/mcsd/registry.db"
#define MCS_DEFAULT_RANGE "c0.c1023"
#define MCS_PATH_MAX	  4096

typedef struct mcsd_server_config {
	char socket_path[108];	    /* listening socket (sun_path limit) */
	char db_path[MCS_PATH_MAX]; /* registry: sqlite path or
				       postgresql:// URI */
	char host_id[256];	 /* this host for its leases, "": machine id */
	char range[32];		 /* category range, "c0.c1023" */
	char group[256];	 /* group allowed to allocate, "" none */
	gid_t gid;		 /* resolved group; valid when group[0] */
	int read_timeout_ms;	 /* a started message must complete within */
	int idle_timeout_ms;	 /* a silent connection is closed after */
	int max_clients;	 /* connections beyond are refused */
	int max_clients_per_uid; /* of one uid other than root */
} mcsd_server_config;

/* Fill cfg with the built-in defaults (default paths, c0.c1023, 5 s read
 * timeout, 60 s idle timeout, 1024 clients, 64 per uid). */
void mcsd_server_config_init(mcsd_server_config *cfg);

/*
 * Parse the config file at path into a fresh copy of *cfg: `key = value`
 * lines, '#' comments; keys socket, db (or registry), host_id, range,
 * group, read_timeout_ms, idle_timeout_ms, max_clients, max_clients_per_uid.
 * *cfg is replaced only
 * when the whole file is valid.  Returns 0, -errno of open, or -EINVAL (err
 * names the file and line).
 */
int mcsd_server_config_load(mcsd_server_config *cfg, const char *path,
			    mcs_error *err);

/*
 * Check cfg (range syntax, group exists and resolves into cfg->gid,
 * timeouts positive).  Returns 0 or -EINVAL with err set.
 */
int mcsd_server_config_check(mcsd_server_config *cfg, mcs_error *err);

typedef struct mcsd_server mcsd_server;

/*
 * Open the registry (reconciling leases of dead pids and earlier boots),
 * take the listening socket from systemd (sd_listen_fds) or create
 * cfg->socket_path with mode 0660, and block SIGTERM/SIGINT into a
 * signalfd.  Raises the process's soft RLIMIT_NOFILE to its hard limit
 * (each client and each watched lease pid holds a descriptor).  On
 * success *ret owns the server.  Returns 0 or -errno.
 */
int mcsd_server_new(const mcsd_server_config *cfg, mcsd_server **ret,
		    mcs_error *err);

/*
 * Serve until SIGTERM or SIGINT, then close every connection and return 0;
 * sends sd_notify("READY=1") once listening.  -errno on a fatal error.
 */
int mcsd_server_run(mcsd_server *s, mcs_error *err);

/* Close the socket (unlinking it when created by us) and the registry. */
void mcsd_server_free(mcsd_server *s);

#endif
