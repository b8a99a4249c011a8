/* SPDX-License-Identifier: MIT */
/*
 * mcs-oci.h - what the parts of mcs-oci share: the parsed OCI runtime
 * command line, the configuration, the bundle's label, and the calls
 * between the files (one job each: args.c, config.c, bundle.c,
 * register.c, lock.c, runtime.c, gc.c, mcs-oci.c).
 */
#ifndef MCS_OCI_H
#define MCS_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <mcs/client.h>

#define OCI_DEFAULT_CONFIG "/etc/mcskit/mcs-oci.conf"
/* Owners mcs-oci registers are "oci:<container id>", groups
 * "pod:<sandbox id>": gc releases only owners of this prefix. */
#define OCI_OWNER_PREFIX "oci:"
#define OCI_GROUP_PREFIX "pod:"
/* Annotation that asks mcs-oci to choose the level (assign mode). */
#define OCI_LEVEL_ANNOTATION "io.mcskit.level"
#define OCI_MAX_ROOTS	     16

/* The runtime command line, as the engine gave it (nothing is copied:
 * every pointer points into argv). */
struct oci_cmdline {
	int argc;
	char **argv;	    /* argv[0] is mcs-oci itself */
	int cmd;	    /* index of the command word; 0 when none */
	const char *root;   /* global --root, NULL when not given */
	const char *id;	    /* container id of create/run/delete, or NULL */
	const char *bundle; /* create/run --bundle, NULL: the cwd */
	const char *config; /* crun create --config FILE, NULL: bundle's */
	bool regex;	    /* crun delete --regex: id is a pattern */
};

enum oci_on_unavailable { OCI_FAIL_CLOSED = 0, OCI_PASS };

struct oci_config {
	char runtime[4096]; /* real runtime: absolute path, or "" */
	char socket[108];   /* mcsd socket */
	enum oci_on_unavailable on_unavailable;
	int timeout_ms; /* per mcsd call */
	/* state roots gc looks in (glob patterns), besides --root */
	char roots[OCI_MAX_ROOTS][256];
	size_t n_roots;
	/* creation locks of uid 0's registrations (lock.c) */
	char lock_dir[256];
	char path[4096]; /* the file read, "" when none */
};

/* What the bundle asks for. */
enum oci_mode {
	OCI_NOTHING, /* no label, s0, spc_t, a range: pass through */
	OCI_ADOPT,   /* the engine chose a two-category level: register it */
	OCI_ASSIGN,  /* io.mcskit.level=auto: mcsd chooses, we rewrite */
};

struct oci_bundle {
	char path[4096]; /* config.json (or --config) */
	enum oci_mode mode;
	char level[MCS_LEVEL_MAX];	 /* ADOPT: the engine's level */
	char type[MCS_TYPE_MAX + 1];	 /* process type, "" when none */
	char sandbox[MCS_OWNER_MAX + 1]; /* pod/sandbox id, "" when none */
	struct json_object *json;	 /* the parsed document */
};

/* args.c: split argv into globals, command and the fields above.
 * Returns 0; a command line we cannot read is passed through as is. */
void oci_args_parse(int argc, char **argv, struct oci_cmdline *ret);
/* True for the commands that start a container (create, run). */
bool oci_args_starts(const struct oci_cmdline *cl);
bool oci_args_is(const struct oci_cmdline *cl, const char *cmd);

/* config.c: defaults, then the file, then the environment.  Returns 0 or
 * -errno with err naming the file and line. */
int oci_config_load(struct oci_config *cfg, mcs_error *err);

/* bundle.c */
int oci_bundle_read(const struct oci_cmdline *cl, struct oci_bundle *ret,
		    mcs_error *err);
void oci_bundle_done(struct oci_bundle *b);
/* Put lease's level into process.selinuxLabel and linux.mountLabel,
 * relabel the bind-mount sources marked z/Z (and drop those options),
 * and write the file back atomically. */
int oci_bundle_assign(struct oci_bundle *b, const mcs_lease *lease,
		      mcs_error *err);

/* register.c: talk to mcsd.  Each returns 0 or -errno with err set. */
int oci_connect(const struct oci_config *cfg, mcs_client **ret, mcs_error *err);
int oci_owner(const char *id, char ret[MCS_OWNER_MAX + 1], mcs_error *err);
int oci_register(mcs_client *c, const struct oci_cmdline *cl,
		 struct oci_bundle *b, mcs_lease *ret, mcs_error *err);
/* 1 released, 0 nothing was registered. */
int oci_release(mcs_client *c, const char *id, mcs_error *err);

/* lock.c: a container's creation lock, held from before its registration
 * until its runtime has state (see lock.c). */
bool oci_plain_id(const char *id); /* may id name a file? */
/* The directory of uid's locks: lock_dir for root, else
 * /run/user/UID/mcs-oci. */
void oci_lock_dir(const struct oci_config *cfg, uid_t uid, char *buf,
		  size_t size);
/*
 * Take id's lock for a registration of uid.  OCI_LOCK_CREATING (`create`,
 * `run`): make the directory and the file, wait up to 5 s for a holder,
 * and return a descriptor that survives exec.  OCI_LOCK_FILE (gc): make
 * the file (and root's directory) but do not wait.  0 (delete): neither
 * make nor wait.  Returns the held descriptor, -EWOULDBLOCK (held
 * elsewhere), -ENOENT (no lock file or directory), -EINVAL (id cannot
 * name a file), -EPERM (a lock directory that uid does not own alone),
 * -errno.
 */
#define OCI_LOCK_CREATING (1 << 0)
#define OCI_LOCK_FILE	  (1 << 1)
int oci_lock_take(const struct oci_config *cfg, uid_t uid, const char *id,
		  int flags);
/* Unlink id's lock file, held as fd, then close fd. */
void oci_lock_drop(const struct oci_config *cfg, uid_t uid, const char *id,
		   int fd);

/* runtime.c */
/* exec the runtime with argv[1..]; returns only on failure (-errno). */
int oci_runtime_exec(const struct oci_config *cfg, const struct oci_cmdline *cl,
		     mcs_error *err);
/* fork, exec, wait: the runtime's exit status as a shell gives it. */
int oci_runtime_run(const struct oci_config *cfg, const struct oci_cmdline *cl);
/* 1 when `runtime [globals] state id` says the container exists. */
int oci_runtime_has(const struct oci_config *cfg, const struct oci_cmdline *cl,
		    const char *id);

/* gc.c: `mcs-oci gc [--dry-run]`; returns the exit status. */
int oci_gc(const struct oci_config *cfg, int argc, char **argv);

/* mcs-oci.c: print "mcs-oci: <msg>" once and return 1. */
int oci_fail(const mcs_error *err);

#endif
