/* SPDX-License-Identifier: MIT */
/*
 * policy.c - offline access decisions with libsepol.
 *
 * This file owns libsepol's global decision state (the policydb and sidtab
 * behind sepol_set_policydb_from_file(), sepol_context_to_sid() and
 * sepol_compute_av_reason_buffer()).  No other file may call those
 * functions.  One policy is loaded per process; every entry point takes
 * policy_lock so concurrent callers see one consistent policy.
 *
 * A decision is reported as libsepol computes it: permissions with no TE
 * allow rule give MCS_VERDICT_DENIED_TE, permissions allowed by TE but
 * removed by a (MLS/MCS) constraint give MCS_VERDICT_DENIED_CONSTRAINT
 * with the failed constraint expression as the reason.
 */
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <selinux/selinux.h>
#include <sepol/debug.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/services.h>
#include <sepol/sepol.h>

#include <mcs/label.h>
#include <mcs/policy.h>

#include "policy_int.h"
#include "readinput.h"
#include "util.h"

/* Largest binary policy read (Debian's refpolicy is about 3 MiB). */
#define POLICY_FILE_MAX (256LL << 20)

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static bool policy_loaded; /* under policy_lock: a policy is in libsepol */
/*
 * A second, private copy of the same policy for the object contexts
 * (portcon): libsepol's sepol_port_sid() is not exported by the shared
 * library.  Under policy_lock; NULL until a policy is loaded.
 */
static sepol_policydb_t *policy_db;

/* The initial SID "port" (refpolicy's initial_sids order): unlisted ports. */
#define POLICY_ISID_PORT 9

static const char *const verdict_names[] = {
	[MCS_VERDICT_ALLOWED] = "allowed",
	[MCS_VERDICT_DENIED_TE] = "denied-te",
	[MCS_VERDICT_DENIED_CONSTRAINT] = "denied-constraint",
	[MCS_VERDICT_DENIED_OTHER] = "denied-other",
	[MCS_VERDICT_DENIED] = "denied",
	[MCS_VERDICT_INVALID] = "invalid",
};

MCS_EXPORT const char *mcs_verdict_name(mcs_verdict v)
{
	if ((unsigned)v >= ELEMENTSOF(verdict_names))
		return "unknown";
	return verdict_names[v];
}

MCS_EXPORT int mcs_verdict_from_name(const char *name, mcs_verdict *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(verdict_names); i++)
		if (strcmp(name, verdict_names[i]) == 0) {
			*ret = (mcs_verdict)i;
			return 0;
		}
	return -EINVAL;
}

static bool policy_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Highest policy.N next to libselinux's binary policy path. */
static int policy_host_path(char *buf, size_t size)
{
	const char *base = selinux_binary_policy_path();
	_cleanup_free_ char *pattern = NULL;
	glob_t g = {0};
	long best = -1;
	int r = -ENOENT;

	if (!base)
		return -ENOENT;
	if (asprintf(&pattern, "%s.*", base) < 0)
		return -ENOMEM;
	if (glob(pattern, 0, NULL, &g) != 0)
		return -ENOENT;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *dot = strrchr(g.gl_pathv[i], '.');
		char *end;
		long v = strtol(dot + 1, &end, 10);

		if (*end || end == dot + 1 || v <= best ||
		    !policy_file_exists(g.gl_pathv[i]))
			continue;
		best = v;
		r = snprintf(buf, size, "%s", g.gl_pathv[i]);
		r = (r < 0 || (size_t)r >= size) ? -ENOSPC : r;
	}
	globfree(&g);
	return r;
}

MCS_EXPORT int mcs_policy_default_path(const char *path_hint, char *buf,
				       size_t size, mcs_error *err)
{
	int r;

	if (path_hint && policy_file_exists(path_hint)) {
		r = snprintf(buf, size, "%s", path_hint);
		if (r < 0 || (size_t)r >= size)
			return mcs_error_set(err, -ENOSPC,
					     "policy path too long");
		return r;
	}
	r = policy_host_path(buf, size);
	if (r < 0)
		return mcs_error_set(err, r,
				     "no policy file: %s missing and no host "
				     "policy under %s",
				     path_hint ? path_hint : "(none)",
				     selinux_binary_policy_path()
					     ?: "/etc/selinux");
	return r;
}

/* Read a second copy of the policy from f into a new sepol_policydb. */
static int policy_read_db(FILE *f, sepol_policydb_t **ret)
{
	sepol_policy_file_t *pf = NULL;
	sepol_policydb_t *db = NULL;
	int r = -ENOMEM;

	if (sepol_policy_file_create(&pf) < 0 || sepol_policydb_create(&db) < 0)
		goto out;
	sepol_policy_file_set_fp(pf, f);
	r = sepol_policydb_read(db, pf) < 0 ? -EINVAL : 0;
out:
	sepol_policy_file_free(pf);
	if (r < 0)
		sepol_policydb_free(db);
	else
		*ret = db;
	return r;
}

MCS_EXPORT int mcs_policy_load(const char *path, mcs_error *err)
{
	sepol_policydb_t *db = NULL;
	FILE *f;
	int r;

	r = readinput_open(path, POLICY_FILE_MAX, &f, err);
	if (r < 0)
		return r;
	sepol_debug(0);
	r = policy_read_db(f, &db);
	rewind(f);
	if (r == 0) {
		pthread_mutex_lock(&policy_lock);
		r = sepol_set_policydb_from_file(f) == 0 ? 0 : -EINVAL;
		policy_loaded = r == 0;
		sepol_policydb_free(policy_db);
		policy_db = r == 0 ? db : NULL;
		if (r < 0)
			sepol_policydb_free(db);
		pthread_mutex_unlock(&policy_lock);
	}
	fclose(f);
	if (r == -ENOMEM)
		return mcs_error_set(err, r, "%s: out of memory", path);
	if (r < 0)
		return mcs_error_set(
			err, -EINVAL,
			"%s: not a binary policy libsepol can read", path);
	return 0;
}

MCS_EXPORT void mcs_policy_result_done(mcs_policy_result *ret)
{
	free(ret->reason);
	ret->reason = NULL;
	ret->verdict = MCS_VERDICT_ALLOWED;
}

/* Under policy_lock: the SID of a context string, with a clear error. */
static int policy_sid(const char *what, const char *con,
		      sepol_security_id_t *ret, mcs_error *err)
{
	mcs_context c;
	size_t len = strlen(con);

	/*
	 * libsepol parses as the kernel does (categories in any order,
	 * "s0-s0", c1.c1 ...); lib/label.c is stricter, so it only words
	 * the error for a context libsepol refused.
	 */
	if (len == 0 || len > POLICY_CONTEXT_MAX ||
	    sepol_context_to_sid(con, len + 1, ret) != 0) {
		if (len > POLICY_CONTEXT_MAX)
			return mcs_error_set(err, -EINVAL,
					     "%s context: longer than %d bytes",
					     what, POLICY_CONTEXT_MAX);
		if (mcs_context_parse(con, &c, err) < 0)
			return mcs_error_prefix(err, "%s context: ", what);
		return mcs_error_set(err, -EINVAL,
				     "%s context %s is not valid in the policy "
				     "(unknown user, role or type, or a "
				     "role/type/level the user may not have)",
				     what, con);
	}
	return 0;
}

/* Names of the bits in av, space separated, appended to a new string. */
static char *policy_perm_names(sepol_security_class_t cls,
			       sepol_access_vector_t av)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (unsigned bit = 0; bit < 32; bit++) {
		sepol_access_vector_t b = 1U << bit;
		const char *n;

		if (!(av & b))
			continue;
		n = sepol_av_perm_to_string(cls, b);
		if (n) /* libsepol writes " perm" */
			n += strspn(n, " ");
		fprintf(f, "%s%s", first ? "" : " ", n ? n : "?");
		first = false;
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * libsepol's reason buffer lists every failed constraint of the class
 * whose permissions meet the allowed set, one "...Constraint DENIED" each.
 * Keep only those whose permission list names one of the requested
 * permissions, joined by "; ", on one line.  NULL when none (or no
 * memory: the caller then reports without an expression).
 */
static char *policy_filter_constraints(const char *buf,
				       const char *requested_names)
{
	static const char end_mark[] = "Constraint DENIED";
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	const char *p = buf;

	if (!buf || !*buf)
		return NULL;
	f = open_memstream(&out, &outlen);
	if (!f)
		return NULL;
	for (;;) {
		const char *end, *open, *close;
		size_t len;
		bool covers = false;

		p += strspn(p, " \n");
		if (!*p)
			break;
		end = strstr(p, end_mark);
		len = end ? (size_t)(end - p) + sizeof(end_mark) - 1
			  : strlen(p);
		open = memchr(p, '{', len);
		close = open ? memchr(open, '}', len - (size_t)(open - p))
			     : NULL;
		if (open && close) {
			_cleanup_free_ char *req = strdup(requested_names);
			char *save = NULL;

			for (char *w = req ? strtok_r(req, " ", &save) : NULL;
			     w && !covers; w = strtok_r(NULL, " ", &save)) {
				size_t wl = strlen(w);

				for (const char *q = open + 1; q + wl <= close;
				     q++)
					if (memcmp(q, w, wl) == 0 &&
					    q[-1] == ' ' && q[wl] == ' ') {
						covers = true;
						break;
					}
			}
		}
		if (covers) {
			if (ftell(f) > 0)
				fputs("; ", f);
			for (size_t i = 0; i < len; i++)
				fputc(p[i] == '\n' ? ' ' : p[i], f);
		}
		p += len;
	}
	if (fclose(f) != 0 || outlen == 0) {
		free(out);
		return NULL;
	}
	return out;
}

int policy_av_locked(const char *scontext, const char *tcontext,
		     const char *tclass, const char *const *perms,
		     size_t nperms, policy_av *ret, mcs_error *err)
{
	sepol_security_id_t ssid, tsid;
	sepol_security_class_t cls;
	sepol_access_vector_t requested = 0;
	struct sepol_av_decision avd;
	unsigned int reason = 0;
	_cleanup_free_ char *buf = NULL, *names = NULL;
	int r;

	*ret = (policy_av){0};
	if (!policy_loaded)
		return mcs_error_set(err, -ENOENT, "no policy loaded");
	r = policy_sid("source", scontext, &ssid, err);
	if (r < 0)
		return r;
	r = policy_sid("target", tcontext, &tsid, err);
	if (r < 0)
		return r;
	if (strlen(tclass) > MCS_POLICY_NAME_MAX ||
	    sepol_string_to_security_class(tclass, &cls) != 0)
		return mcs_error_set(err, -EINVAL, "unknown class \"%.64s\"",
				     tclass);
	for (size_t i = 0; i < nperms; i++) {
		sepol_access_vector_t av;

		if (sepol_string_to_av_perm(cls, perms[i], &av) != 0)
			return mcs_error_set(
				err, -EINVAL,
				"class %s has no permission \"%.64s\"", tclass,
				perms[i]);
		requested |= av;
	}

	memset(&avd, 0, sizeof(avd));
	if (sepol_compute_av_reason_buffer(ssid, tsid, cls, requested, &avd,
					   &reason, &buf, 0) != 0)
		return mcs_error_set(err, -EINVAL,
				     "libsepol could not compute %s -> %s:%s",
				     scontext, tcontext, tclass);
	ret->cls = cls;
	ret->requested = requested;
	ret->allowed = avd.allowed;
	ret->auditdeny = avd.auditdeny;
	ret->reason = reason;
	if ((requested & ~avd.allowed) && (reason & SEPOL_COMPUTEAV_CONS)) {
		names = policy_perm_names(cls, requested & ~avd.allowed);
		if (!names)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		ret->constraints = policy_filter_constraints(buf, names);
	}
	return 0;
}

void policy_av_done(policy_av *av)
{
	free(av->constraints);
	av->constraints = NULL;
}

char *policy_perm_names_locked(uint16_t cls, uint32_t av)
{
	return policy_perm_names(cls, av);
}

static int policy_check_locked(const char *scontext, const char *tcontext,
			       const char *tclass, const char *const *perms,
			       size_t nperms, mcs_policy_result *ret,
			       mcs_error *err)
{
	_cleanup_free_ char *names = NULL;
	sepol_access_vector_t denied;
	policy_av av;
	int r;

	r = policy_av_locked(scontext, tcontext, tclass, perms, nperms, &av,
			     err);
	if (r < 0)
		return r;
	denied = av.requested & ~av.allowed;
	if (!denied) {
		policy_av_done(&av);
		*ret = (mcs_policy_result){.verdict = MCS_VERDICT_ALLOWED};
		return 0;
	}
	names = policy_perm_names(av.cls, denied);
	if (!names) {
		policy_av_done(&av);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}

	if (av.reason & SEPOL_COMPUTEAV_TE)
		ret->verdict = MCS_VERDICT_DENIED_TE;
	else if (av.reason & SEPOL_COMPUTEAV_CONS)
		ret->verdict = MCS_VERDICT_DENIED_CONSTRAINT;
	else
		ret->verdict = MCS_VERDICT_DENIED_OTHER;

	r = asprintf(&ret->reason, "%s { %s }%s%s",
		     av.reason & SEPOL_COMPUTEAV_TE	? "no allow rule for"
		     : av.reason & SEPOL_COMPUTEAV_CONS ? "constraint denies"
		     : av.reason & SEPOL_COMPUTEAV_RBAC
			     ? "role transition not allowed for"
			     : "type bounds deny",
		     names, av.constraints ? "; " : "",
		     av.constraints ? av.constraints : "");
	policy_av_done(&av);
	if (r < 0) {
		ret->reason = NULL;
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t n = strlen(ret->reason); n && ret->reason[n - 1] == ' ';)
		ret->reason[--n] = '\0';
	return 0;
}
MCS_EXPORT int mcs_policy_check(const char *scontext, const char *tcontext,
				const char *tclass, const char *const *perms,
				size_t nperms, mcs_policy_result *ret,
				mcs_error *err)
{
	int r;

	*ret = (mcs_policy_result){.verdict = MCS_VERDICT_ALLOWED};
	if (nperms == 0 || nperms > MCS_POLICY_PERMS_MAX)
		return mcs_error_set(err, -EINVAL,
				     "between 1 and %d permissions, not %zu",
				     MCS_POLICY_PERMS_MAX, nperms);
	if (strlen(tclass) > MCS_POLICY_NAME_MAX)
		return mcs_error_set(err, -EINVAL, "class name too long");
	pthread_mutex_lock(&policy_lock);
	r = policy_check_locked(scontext, tcontext, tclass, perms, nperms, ret,
				err);
	pthread_mutex_unlock(&policy_lock);
	return r;
}

/*
 * Under policy_lock: the type of the first portcon entry covering port
 * (the order the kernel searches), else of the initial SID "port".
 */
static int policy_port_type_locked(uint8_t ipproto, uint16_t port, char *buf,
				   size_t size)
{
	const policydb_t *p;
	const ocontext_t *c, *match = NULL;
	const char *name;
	int r;

	if (!policy_db)
		return -ENOENT;
	p = &policy_db->p;
	for (c = p->ocontexts[OCON_PORT]; c && !match; c = c->next)
		if (c->u.port.protocol == ipproto &&
		    c->u.port.low_port <= port && port <= c->u.port.high_port)
			match = c;
	for (c = p->ocontexts[OCON_ISID]; c && !match; c = c->next)
		if (c->sid[0] == POLICY_ISID_PORT)
			match = c;
	if (!match || match->context[0].type == 0 ||
	    match->context[0].type > p->p_types.nprim)
		return -EINVAL;
	name = p->p_type_val_to_name[match->context[0].type - 1];
	r = snprintf(buf, size, "%s", name);
	return (r < 0 || (size_t)r >= size) ? -ENOSPC : r;
}

MCS_EXPORT int mcs_policy_port_type(const char *proto, unsigned port, char *buf,
				    size_t size, mcs_error *err)
{
	static const struct {
		const char *name;
		uint8_t ipproto;
	} protos[] = {
		{"tcp", IPPROTO_TCP},
		{"udp", IPPROTO_UDP},
		{"sctp", IPPROTO_SCTP},
		{"dccp", IPPROTO_DCCP},
	};
	int r;
	uint8_t ipproto = 0;

	for (size_t i = 0; i < ELEMENTSOF(protos); i++)
		if (strcmp(proto, protos[i].name) == 0)
			ipproto = protos[i].ipproto;
	if (!ipproto)
		return mcs_error_set(
			err, -EINVAL,
			"unknown protocol \"%s\" (tcp, udp, sctp, dccp)",
			proto);
	if (port > 65535)
		return mcs_error_set(err, -EINVAL,
				     "port %u out of range 0..65535", port);

	pthread_mutex_lock(&policy_lock);
	r = policy_port_type_locked(ipproto, (uint16_t)port, buf, size);
	pthread_mutex_unlock(&policy_lock);
	if (r == -ENOENT)
		return mcs_error_set(err, r, "no policy loaded");
	if (r == -ENOSPC)
		return mcs_error_set(err, r, "type name too long");
	if (r < 0)
		return mcs_error_set(err, r,
				     "the policy has no context for %s port %u",
				     proto, port);
	return r;
}

void policy_lock_acquire(void)
{
	pthread_mutex_lock(&policy_lock);
}

void policy_lock_release(void)
{
	pthread_mutex_unlock(&policy_lock);
}

const policydb_t *policy_db_locked(void)
{
	return policy_db ? &policy_db->p : NULL;
}

uint32_t policy_type_value_locked(const char *name)
{
	const policydb_t *p = policy_db_locked();

	if (!p)
		return 0;
	for (uint32_t i = 0; i < p->p_types.nprim; i++)
		if (p->p_type_val_to_name[i] &&
		    strcmp(p->p_type_val_to_name[i], name) == 0)
			return i + 1;
	return 0;
}

int policy_canonical_locked(const char *what, const char *con, char **ret,
			    mcs_error *err)
{
	sepol_security_id_t sid;
	sepol_security_context_t ctx = NULL;
	size_t len = 0;
	int r;

	if (!policy_loaded)
		return mcs_error_set(err, -ENOENT, "no policy loaded");
	r = policy_sid(what, con, &sid, err);
	if (r < 0)
		return r;
	if (sepol_sid_to_context(sid, &ctx, &len) != 0 || !ctx)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	*ret = ctx;
	return 0;
}

MCS_EXPORT int mcs_policy_canonical_context(const char *context, char **ret,
					    mcs_error *err)
{
	int r;

	pthread_mutex_lock(&policy_lock);
	r = policy_canonical_locked("the", context, ret, err);
	pthread_mutex_unlock(&policy_lock);
	return r;
}
