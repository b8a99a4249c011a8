/* SPDX-License-Identifier: MIT */
/*
 * bundle.c - the bundle's config.json (json-c): what it asks for (adopt
 * the engine's level, let mcsd assign one, or nothing), and the rewrite
 * of assign mode: process.selinuxLabel and linux.mountLabel get the
 * level mcsd handed out, bind-mount sources marked with the option "z"
 * (shared) or "Z" (private) are relabeled with libmcs's relabel walk and
 * the option is dropped (runtimes do not know it), and the file is
 * replaced atomically (a temporary file in the same directory, renamed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mcs/label.h>
#include <mcs/relabel.h>

#include "mcs-oci.h"

/* Annotations that name the pod (sandbox) of a container: CRI-O and
 * podman (which sets CRI-O's for containers in a pod), containerd. */
static const char *const sandbox_keys[] = {
	"io.kubernetes.cri-o.SandboxID",
	"io.kubernetes.cri.sandbox-id",
	NULL,
};

static const char *get_str(struct json_object *o, const char *k1,
			   const char *k2)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* The level of a process label when it is one two-category level. */
static bool two_cat_level(const mcs_context *c, char *buf, size_t size)
{
	if (!c->has_range || !mcs_level_equal(&c->range.low, &c->range.high))
		return false;
	if (c->range.low.sens != 0 || mcs_level_cat_count(&c->range.low) != 2)
		return false;
	return mcs_level_format(&c->range.low, buf, size) >= 0;
}

int oci_bundle_read(const struct oci_cmdline *cl, struct oci_bundle *ret,
		    mcs_error *err)
{
	const char *label, *mode;
	struct json_object *ann;
	mcs_context ctx;

	memset(ret, 0, sizeof(*ret));
	if (cl->config)
		snprintf(ret->path, sizeof(ret->path), "%s", cl->config);
	else if (snprintf(ret->path, sizeof(ret->path), "%s/config.json",
			  cl->bundle ? cl->bundle : ".") >=
		 (int)sizeof(ret->path))
		return mcs_error_set(err, -ENAMETOOLONG,
				     "bundle path too long");
	ret->json = json_object_from_file(ret->path);
	if (!ret->json)
		return mcs_error_set(err, -EINVAL, "%s: %s", ret->path,
				     json_util_get_last_err());
	if (!json_object_is_type(ret->json, json_type_object))
		return mcs_error_set(err, -EINVAL, "%s: not a JSON object",
				     ret->path);

	if (json_object_object_get_ex(ret->json, "annotations", &ann))
		for (const char *const *k = sandbox_keys; *k; k++) {
			const char *s = get_str(ann, *k, NULL);
			if (s && *s) {
				snprintf(ret->sandbox, sizeof(ret->sandbox),
					 "%s", s);
				break;
			}
		}
	else
		ann = NULL;

	label = get_str(ret->json, "process", "selinuxLabel");
	if (label && *label) {
		if (mcs_context_parse(label, &ctx, err) < 0)
			return mcs_error_prefix(
				err, "%s: process.selinuxLabel: ", ret->path);
		snprintf(ret->type, sizeof(ret->type), "%s", ctx.type);
	}
	mode = get_str(ann, OCI_LEVEL_ANNOTATION, NULL);
	if (mode && strcmp(mode, "auto") == 0) {
		ret->mode = OCI_ASSIGN;
		return 0;
	}
	if (mode)
		return mcs_error_set(err, -EINVAL,
				     "%s: annotation %s=\"%s\": only \"auto\" "
				     "is known",
				     ret->path, OCI_LEVEL_ANNOTATION, mode);
	if (label && *label &&
	    two_cat_level(&ctx, ret->level, sizeof(ret->level)))
		ret->mode = OCI_ADOPT;
	return 0;
}

void oci_bundle_done(struct oci_bundle *b)
{
	if (b->json)
		json_object_put(b->json);
	b->json = NULL;
}

/* label with its range replaced by level; fallback when it does not
 * parse or is missing. */
static int relevel(const char *label, const char *level, const char *fallback,
		   char *buf, size_t size)
{
	mcs_context c;

	if (!label || !*label || mcs_context_parse(label, &c, NULL) < 0)
		return snprintf(buf, size, "%s", fallback) < (int)size
			       ? 0
			       : -ENAMETOOLONG;
	return snprintf(buf, size, "%s:%s:%s:%s", c.user, c.role, c.type,
			level) < (int)size
		       ? 0
		       : -ENAMETOOLONG;
}

static int set_path(struct json_object *root, const char *k1, const char *k2,
		    const char *value)
{
	struct json_object *o;

	if (!json_object_object_get_ex(root, k1, &o)) {
		o = json_object_new_object();
		if (!o || json_object_object_add(root, k1, o) < 0)
			return -ENOMEM;
	}
	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	return json_object_object_add(o, k2, json_object_new_string(value)) < 0
		       ? -ENOMEM
		       : 0;
}

/* Relabel one mount's source when its options carry z or Z; the options
 * are rebuilt without them. */
static int relabel_mount(struct json_object *m, const char *mount_label,
			 const char *cfg, mcs_error *err)
{
	struct json_object *opts, *keep;
	const char *src = get_str(m, "source", NULL), *ctx = NULL;
	bool bind = false;
	size_t n;

	if (!json_object_object_get_ex(m, "options", &opts) ||
	    !json_object_is_type(opts, json_type_array))
		return 0;
	n = json_object_array_length(opts);
	keep = json_object_new_array();
	if (!keep)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(opts, i);
		const char *s = json_object_get_string(o);

		if (s && strcmp(s, "Z") == 0)
			ctx = mount_label;
		else if (s && strcmp(s, "z") == 0)
			ctx = ctx ? ctx : MCS_SHARED_VOLUME_CONTEXT;
		else {
			if (s &&
			    (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
				bind = true;
			json_object_array_add(keep, json_object_get(o));
		}
	}
	const char *type = get_str(m, "type", NULL);
	if (type && strcmp(type, "bind") == 0)
		bind = true;
	if (!ctx) {
		json_object_put(keep);
		return 0;
	}
	json_object_object_add(m, "options", keep);
	if (!bind || !src || src[0] != '/')
		return mcs_error_set(err, -EINVAL,
				     "%s: a z/Z option on a mount that is not "
				     "a bind mount of an absolute path (%s)",
				     cfg, src ? src : "no source");

	mcs_relabel_opts ro = {
		.context = ctx,
		.flags = MCS_RELABEL_RECURSIVE,
	};
	mcs_relabel_result res;
	int r = mcs_relabel(src, &ro, &res, err);
	if (r < 0)
		return mcs_error_prefix(err, "relabel %s to %s: ", src, ctx);
	return 0;
}

int oci_bundle_assign(struct oci_bundle *b, const mcs_lease *lease,
		      mcs_error *err)
{
	char proc[MCS_LABEL_MAX], mnt[MCS_LABEL_MAX], tmp[4200];
	struct json_object *mounts;
	int r;

	if (relevel(get_str(b->json, "process", "selinuxLabel"), lease->level,
		    lease->process_label, proc, sizeof(proc)) < 0 ||
	    relevel(get_str(b->json, "linux", "mountLabel"), lease->level,
		    lease->mount_label, mnt, sizeof(mnt)) < 0)
		return mcs_error_set(err, -ENAMETOOLONG, "label too long");
	if (set_path(b->json, "process", "selinuxLabel", proc) < 0 ||
	    set_path(b->json, "linux", "mountLabel", mnt) < 0)
		return mcs_error_set(err, -EINVAL,
				     "%s: process or linux is not an object",
				     b->path);
	if (json_object_object_get_ex(b->json, "mounts", &mounts) &&
	    json_object_is_type(mounts, json_type_array))
		for (size_t i = 0; i < json_object_array_length(mounts); i++) {
			r = relabel_mount(json_object_array_get_idx(mounts, i),
					  mnt, b->path, err);
			if (r < 0)
				return r;
		}

	snprintf(tmp, sizeof(tmp), "%s.mcs-oci.tmp", b->path);
	if (json_object_to_file_ext(tmp, b->json, JSON_C_TO_STRING_PLAIN) < 0) {
		r = -errno ? -errno : -EIO;
		unlink(tmp);
		return mcs_error_set(err, r, "write %s: %s", tmp,
				     json_util_get_last_err());
	}
	if (rename(tmp, b->path) < 0) {
		r = -errno;
		unlink(tmp);
		return mcs_error_set(err, r, "rename %s: %s", b->path,
				     strerror(-r));
	}
	return 0;
}
