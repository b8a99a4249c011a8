/* SPDX-License-Identifier: MIT */
/*
 * mcs-oci - an OCI runtime wrapper that registers every container's MCS
 * level in mcsd, then runs the real runtime (crun, runc) with the very
 * same arguments.  create/run: take the container's creation lock
 * (lock.c), register (adopt the engine's level, or assign one when the
 * bundle asks for it) and exec the runtime with the lock still held;
 * delete: run the runtime, then release when the container is gone;
 * every other command: exec the runtime untouched.  `mcs-oci gc` is our
 * own.
 * Errors are printed once, "mcs-oci: ...", with exit status 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "mcs-oci.h"

int oci_fail(const mcs_error *err)
{
	fprintf(stderr, "mcs-oci: %s\n", err->msg);
	return 1;
}

/* Errors of a call (the connection worked) that mean mcsd went away or
 * did not answer, rather than a refusal: PermissionDenied is -EACCES too
 * and must never let a container through. */
static bool lost(int r)
{
	return r == -ECONNRESET || r == -EPIPE || r == -ETIMEDOUT;
}

/* on_unavailable = pass: say so loudly, on stderr and in syslog. */
static void warn_pass(const struct oci_cmdline *cl, const mcs_error *err)
{
	fprintf(stderr,
		"mcs-oci: WARNING: %s; starting %s UNREGISTERED "
		"(on_unavailable = pass): its level is not protected "
		"against reuse\n",
		err->msg, cl->id);
	syslog(LOG_WARNING | LOG_AUTH,
	       "mcs-oci: %s; container %s started unregistered "
	       "(on_unavailable = pass)",
	       err->msg, cl->id);
}

/*
 * Take the container's creation lock (lock.c) into *ret_fd, -1 for none
 * (a user without /run/user/UID: rootless podman on a host without
 * logind keeps its state elsewhere, where root's gc does not look
 * either).  0 or -errno with err set.
 */
static int take_lock(const struct oci_config *cfg, const struct oci_cmdline *cl,
		     int *ret_fd, mcs_error *err)
{
	char dir[300];
	int r = oci_lock_take(cfg, geteuid(), cl->id, OCI_LOCK_CREATING);

	*ret_fd = r >= 0 ? r : -1;
	if (r >= 0 || (r == -ENOENT && geteuid() != 0))
		return 0;
	oci_lock_dir(cfg, geteuid(), dir, sizeof(dir));
	if (r == -EWOULDBLOCK)
		return mcs_error_set(err, r,
				     "refusing to start %s: another process "
				     "is creating a container of that id "
				     "(its lock in %s is held)",
				     cl->id, dir);
	return mcs_error_set(err, r,
			     "refusing to start %s: cannot take its creation "
			     "lock in %s: %s",
			     cl->id, dir, strerror(-r));
}

static int start(const struct oci_config *cfg, const struct oci_cmdline *cl)
{
	struct oci_bundle b;
	mcs_client *c = NULL;
	mcs_lease lease;
	mcs_error err = {0};
	int r, lock;

	r = oci_bundle_read(cl, &b, &err);
	if (r < 0 || b.mode == OCI_NOTHING) {
		oci_bundle_done(&b);
		if (r < 0)
			return oci_fail(&err);
		r = oci_runtime_exec(cfg, cl, &err);
		return oci_fail(&err);
	}
	/* held until the runtime has state: gc never releases us before */
	r = take_lock(cfg, cl, &lock, &err);
	if (r < 0) {
		oci_bundle_done(&b);
		return oci_fail(&err);
	}
	bool down;
	r = oci_connect(cfg, &c, &err);
	down = r < 0; /* any failure to connect: no socket, refused, ... */
	if (r >= 0) {
		r = oci_register(c, cl, &b, &lease, &err);
		down = lost(r);
	}
	if (down) {
		mcs_error_prefix(&err, "mcsd at %s unreachable: ", cfg->socket);
		if (cfg->on_unavailable == OCI_PASS && b.mode == OCI_ADOPT) {
			warn_pass(cl, &err);
			r = 0;
			b.mode = OCI_NOTHING;
		} else
			mcs_error_prefix(&err,
					 "refusing to start %s: ", cl->id);
	}
	if (r >= 0 && b.mode == OCI_ASSIGN) {
		r = oci_bundle_assign(&b, &lease, &err);
		if (r < 0) /* nothing started: give the level back */
			oci_release(c, cl->id, NULL);
	}
	oci_bundle_done(&b);
	mcs_client_free(c);
	if (r >= 0)
		oci_runtime_exec(cfg, cl, &err);
	/* nothing is being created */
	if (lock >= 0)
		oci_lock_drop(cfg, geteuid(), cl->id, lock);
	return oci_fail(&err);
}

/*
 * The runtime runs first: a delete it refuses (a running container
 * without --force) must keep the registration.  It is released when the
 * runtime deleted the container or says it does not exist.
 */
static int delete (const struct oci_config *cfg, const struct oci_cmdline *cl)
{
	mcs_client *c = NULL;
	mcs_error err = {0};
	int rc = oci_runtime_run(cfg, cl);

	if (rc != 0 && oci_runtime_has(cfg, cl, cl->id) != 0)
		return rc;
	if (oci_connect(cfg, &c, &err) < 0 || oci_release(c, cl->id, &err) < 0)
		fprintf(stderr,
			"mcs-oci: WARNING: %s; the registration of %s stays "
			"until `mcs-oci gc`\n",
			err.msg, cl->id);
	else {
		int lk = oci_lock_take(cfg, geteuid(), cl->id, 0);
		if (lk >= 0)
			oci_lock_drop(cfg, geteuid(), cl->id, lk);
	}
	mcs_client_free(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct oci_config cfg;
	struct oci_cmdline cl;
	mcs_error err = {0};

	if (oci_config_load(&cfg, &err) < 0)
		return oci_fail(&err);
	if (argc > 1 && strcmp(argv[1], "gc") == 0)
		return oci_gc(&cfg, argc - 1, argv + 1);
	oci_args_parse(argc, argv, &cl);
	if (cl.id && oci_args_starts(&cl))
		return start(&cfg, &cl);
	if (cl.id && !cl.regex && oci_args_is(&cl, "delete"))
		return delete (&cfg, &cl);
	oci_runtime_exec(&cfg, &cl, &err);
	return oci_fail(&err);
}
