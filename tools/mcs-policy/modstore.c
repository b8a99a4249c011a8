/* SPDX-License-Identifier: MIT */
/*
 * modstore.c - the module store through libsemanage (modstore.h).  Owns
 * the semanage handle: root selection, the transaction lock, MLS check,
 * and turning libsemanage's printed messages into one mcs_error.  No other
 * file calls libsemanage: mcs-policy is its only user, so libsemanage
 * (and libaudit, libbz2, libcap-ng behind it) stays out of libmcs.so and
 * out of every other program.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <semanage/semanage.h>

#include "modstore.h"

struct modstore {
	semanage_handle_t *sh;
	bool private_root;
	char root[PATH_MAX];	      /* "" for the system store */
	char last[MCS_ERROR_MSG_MAX]; /* libsemanage's last error message */
};

static void store_msg(void *data, semanage_handle_t *sh, const char *fmt, ...)
{
	modstore *s = data;
	va_list ap;

	if (semanage_msg_get_level(sh) != SEMANAGE_MSG_ERR)
		return; /* warnings, e.g. genhomedircon's "not in password file"
			 */
	va_start(ap, fmt);
	vsnprintf(s->last, sizeof(s->last), fmt, ap);
	va_end(ap);
	s->last[strcspn(s->last, "\n")] = '\0';
}

MCS_EXPORT void modstore_close(modstore *s)
{
	if (!s)
		return;
	if (s->sh) {
		if (semanage_is_connected(s->sh))
			semanage_disconnect(s->sh);
		semanage_handle_destroy(s->sh);
	}
	free(s);
}

/* libsemanage's message, or what we know. */
static int store_fail(modstore *s, mcs_error *err, int code, const char *what)
{
	return mcs_error_set(err, code, "%s%s%s: %s", what,
			     s->root[0] ? " in store " : " in the system store",
			     s->root, s->last[0] ? s->last : "failed");
}

MCS_EXPORT int modstore_open(const char *root, modstore **ret, mcs_error *err)
{
	modstore *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (root) {
		char store[PATH_MAX + 32];

		if (!realpath(root, s->root)) {
			r = mcs_error_set(err, -errno, "store root %s: %m",
					  root);
			goto fail;
		}
		snprintf(store, sizeof(store), "%s/var/lib/selinux/default",
			 s->root);
		if (access(store, F_OK) != 0) {
			r = mcs_error_set(err, -ENOENT,
					  "no module store under %s (%s "
					  "missing)",
					  s->root, store);
			goto fail;
		}
		s->private_root = true;
		/* process-wide in libsemanage: set before the handle */
		if (semanage_set_root(s->root) < 0) {
			r = mcs_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	} else {
		semanage_set_root("");
	}
	s->sh = semanage_handle_create();
	if (!s->sh) {
		r = mcs_error_set(err, -ENOMEM,
				  "cannot create a semanage handle");
		goto fail;
	}
	semanage_msg_set_callback(s->sh, store_msg, s);
	if (s->private_root) {
		char store_name[] = "default";

		semanage_select_store(s->sh, store_name, SEMANAGE_CON_DIRECT);
		semanage_set_reload(s->sh, 0);
		semanage_set_create_store(s->sh, 0);
	}
	if (semanage_access_check(s->sh) < SEMANAGE_CAN_READ) {
		r = store_fail(s, err, -EACCES, "cannot read the store");
		goto fail;
	}
	if (semanage_connect(s->sh) < 0) {
		r = store_fail(s, err, -EIO, "cannot connect");
		goto fail;
	}
	r = semanage_mls_enabled(s->sh);
	if (r <= 0) {
		r = mcs_error_set(err, r < 0 ? -EIO : -EPROTO,
				  "store %s: its policy is %s",
				  s->root[0] ? s->root : "(system)",
				  r < 0 ? "unreadable" : "not MLS/MCS");
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	modstore_close(s);
	return r;
}

/*
 * Take the transaction lock without waiting: libsemanage would block
 * until the holder finishes.  -EBUSY when another process has it.
 */
static int store_begin(modstore *s, mcs_error *err)
{
	char lock[PATH_MAX + 64];

	if (s->private_root) {
		bool busy;
		int fd;

		snprintf(lock, sizeof(lock),
			 "%s/var/lib/selinux/default/semanage.trans.LOCK",
			 s->root);
		fd = open(lock, O_RDONLY | O_CLOEXEC);
		busy = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
		       errno == EWOULDBLOCK;
		/* released at once; libsemanage takes it for real below
		 * (it would retry for seconds, then fail) */
		if (fd >= 0)
			close(fd);
		if (busy)
			return mcs_error_set(err, -EBUSY,
					     "store %s is locked by another "
					     "process (%s)",
					     s->root, lock);
	}
	s->last[0] = '\0';
	if (semanage_begin_transaction(s->sh) < 0)
		return store_fail(s, err, -EBUSY, "cannot lock");
	return 0;
}

static int store_commit(modstore *s, mcs_error *err, const char *what)
{
	if (semanage_commit(s->sh) < 0)
		return store_fail(s, err, -EINVAL, what);
	return 0;
}

MCS_EXPORT int modstore_install(modstore *s, const char *const *paths, size_t n,
				mcs_error *err)
{
	int r;

	for (size_t i = 0; i < n; i++)
		if (access(paths[i], R_OK) != 0)
			return mcs_error_set(err, -errno, "module %s: %m",
					     paths[i]);
	r = store_begin(s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (semanage_module_install_file(s->sh, paths[i]) < 0)
			return store_fail(s, err, -EINVAL, paths[i]);
	return store_commit(s, err, "the modules do not compile or link");
}

MCS_EXPORT int modstore_remove(modstore *s, const char *const *names, size_t n,
			       mcs_error *err)
{
	int r = store_begin(s, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *name = strdup(names[i]);
		int k;

		if (!name)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		k = semanage_module_remove(s->sh, name);
		free(name);
		if (k < 0)
			return store_fail(s, err, -ENOENT, names[i]);
	}
	return store_commit(s, err, "removing");
}

static int store_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

MCS_EXPORT int modstore_list(modstore *s, char ***ret, mcs_error *err)
{
	semanage_module_info_t *list = NULL;
	int n = 0, r = 0;
	char **v;

	if (semanage_module_list(s->sh, &list, &n) < 0)
		return store_fail(s, err, -EIO, "cannot list modules");
	v = calloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		semanage_module_info_t *m = semanage_module_list_nth(list, i);
		const char *name = NULL, *ext = NULL;
		uint16_t prio = 0;

		semanage_module_info_get_name(s->sh, m, &name);
		semanage_module_info_get_priority(s->sh, m, &prio);
		semanage_module_info_get_lang_ext(s->sh, m, &ext);
		if (v && asprintf(&v[i], "%s %u %s", name ? name : "?", prio,
				  ext ? ext : "?") < 0) {
			v[i] = NULL;
			r = -ENOMEM;
		}
		semanage_module_info_datum_destroy(m);
	}
	free(list);
	if (!v || r < 0) {
		for (int i = 0; v && i < n; i++)
			free(v[i]);
		free(v);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	qsort(v, (size_t)n, sizeof(*v), store_cmp);
	*ret = v;
	return n;
}

static int store_bool_lookup(modstore *s, const char *name,
			     semanage_bool_key_t **key, semanage_bool_t **b,
			     mcs_error *err)
{
	int exists = 0;

	if (semanage_bool_key_create(s->sh, name, key) < 0)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (semanage_bool_exists(s->sh, *key, &exists) < 0 || !exists)
		return mcs_error_set(err, -ENOENT,
				     "no boolean %s in the policy", name);
	if (semanage_bool_query(s->sh, *key, b) < 0)
		return store_fail(s, err, -EIO, name);
	return 0;
}

MCS_EXPORT int modstore_bool_get(modstore *s, const char *name, bool *ret,
				 mcs_error *err)
{
	semanage_bool_key_t *key = NULL;
	semanage_bool_t *b = NULL;
	int r = store_bool_lookup(s, name, &key, &b, err);

	if (r == 0)
		*ret = semanage_bool_get_value(b) != 0;
	semanage_bool_free(b);
	semanage_bool_key_free(key);
	return r;
}

MCS_EXPORT int modstore_bool_set(modstore *s, const char *name, bool value,
				 mcs_error *err)
{
	semanage_bool_key_t *key = NULL;
	semanage_bool_t *b = NULL;
	int r = store_bool_lookup(s, name, &key, &b, err);

	if (r == 0)
		r = store_begin(s, err);
	if (r == 0) {
		semanage_bool_set_value(b, value);
		if (semanage_bool_modify_local(s->sh, key, b) < 0 ||
		    (!s->private_root &&
		     semanage_bool_set_active(s->sh, key, b) < 0))
			r = store_fail(s, err, -EIO, name);
		else
			r = store_commit(s, err, "setting the boolean");
	}
	semanage_bool_free(b);
	semanage_bool_key_free(key);
	return r;
}
