/* SPDX-License-Identifier: MIT */
/*
 * test_protocol_fuzz.c - random calls, well-formed and not, against
 * mcsd/protocol.c and the varlink framing, on a real registry over c0.c9
 * (45 pairs: Exhausted and LevelInUse come often).  The calls are built
 * from the interface's methods and parameters with wrong types, bad names,
 * bad levels, unknown keys, strangers and SELinux-denied peers mixed in;
 * one in four is then damaged as bytes (flipped, inserted, dropped, cut,
 * NULs) and fed through varlink_buf_take in random chunks.
 *
 * After every call, what the registry holds (all of List, as root) and
 * Status are checked against the call and its reply:
 *  - every reply is a reply or one of the interface's errors, and fits in a
 *    message;
 *  - an error, a read-only method and a oneway call that failed change
 *    nothing;
 *  - a level is held by one owner, or by the members of one group only;
 *    Status agrees with List;
 *  - Allocate gives a level of the range, keeps an owner's level, and
 *    never succeeds for a peer that may not allocate; Release removes that
 *    owner alone, and only for root or the owner's uid; Lookup answers what
 *    List holds; a non-root List shows only the caller's entries.
 * At the end the registry is reopened and must hold the same entries.
 *
 * MCS_FUZZ_SEED and MCS_FUZZ_CALLS override the seed (printed) and the
 * number of calls (default 4000).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocol.h"
#include "registry.h"
#include "varlink.h"

#define IFACE	 "io.mcskit.Labels."
#define NPAIRS	 45 /* c0.c9 */
#define MAX_ENTS 256

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) % n);
}

static bool chance(uint32_t percent)
{
	return rnd(100) < percent;
}

/* ---- the registry as List shows it to root ---------------------------- */

struct ent {
	char owner[PROTOCOL_OWNER_MAX + 1];
	char group[PROTOCOL_OWNER_MAX + 1]; /* "" none */
	char level[32];
	char text[1024]; /* the whole entry, for "unchanged" */
	int64_t uid;
};

struct snap {
	struct ent e[MAX_ENTS];
	size_t n;
	int64_t total, used, free_;
};

struct fx {
	char dir[64];
	char db[96];
	mcsd_registry *reg;
	struct snap a, b; /* before and after a call */
	unsigned long calls, errors, oneways, damaged, unframed;
	/* what was reached: a test that reaches none of it tests nothing */
	unsigned long allocated, released, looked_up, exhausted, in_use, shared;
};

/* The registry as mcsd opens it: range c0.c9, stale leases reconciled. */
static mcsd_registry *open_registry(const char *db)
{
	mcsd_registry_config cfg = {.range = {0, 9}};
	mcsd_registry *reg = NULL;
	mcs_error err = {0};

	if (mcsd_registry_open(db, &cfg, &reg, &err) < 0 ||
	    mcsd_registry_reconcile(reg, NULL, &err) < 0)
		fail_msg("open %s: %s", db, err.msg);
	return reg;
}

static const protocol_peer root = {.uid = 0, .pid = 1, .may_allocate = true};

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *obj_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* Handle one call object in its own transaction (not waiting for the disk:
 * synced once at the end). */
static struct json_object *handle(struct fx *f, const protocol_peer *peer,
				  struct json_object *call)
{
	struct json_object *reply = NULL;
	int pidfd = -1;
	assert_int_equal(mcsd_registry_begin(f->reg, NULL), 0);
	protocol_result res;
	assert_int_equal(protocol_handle(f->reg, peer, call, &res), 0);
	reply = res.reply;
	pidfd = res.pidfd;
	assert_int_equal(mcsd_registry_commit_nowait(f->reg, NULL), 0);
	if (pidfd >= 0)
		close(pidfd);
	return reply;
}

static struct json_object *handle_text(struct fx *f, const char *text)
{
	struct json_object *c = json_tokener_parse(text);
	assert_non_null(c);
	struct json_object *r = handle(f, &root, c);
	json_object_put(c);
	assert_non_null(r);
	assert_null(obj_of(r, "error"));
	return r;
}

static bool level_ok(const char *l)
{
	unsigned x, y;
	int end = 0;
	return l && sscanf(l, "s0:c%u,c%u%n", &x, &y, &end) == 2 &&
	       l[end] == '\0' && x < y && y <= 9;
}

/* The two categories of a level as lo * 1000 + hi ("s0:cX,cY" either way
 * round, or "s0:cX.cY" of two), or -1. */
static int pair_of(const char *l)
{
	unsigned x, y;
	char sep;
	int end = 0;
	if (sscanf(l, "s0:c%u%cc%u%n", &x, &sep, &y, &end) != 3 || l[end] ||
	    (sep != ',' && sep != '.') || (sep == '.' && y != x + 1))
		return -1;
	return x < y ? (int)(x * 1000 + y) : (int)(y * 1000 + x);
}

static void snapshot(struct fx *f, struct snap *s)
{
	char after[PROTOCOL_OWNER_MAX + 1] = "";
	s->n = 0;
	for (;;) {
		struct json_object *pa = json_object_new_object();
		if (*after)
			json_object_object_add(pa, "after",
					       json_object_new_string(after));
		struct json_object *c = varlink_call_new(IFACE "List", pa);
		struct json_object *r =
			handle_text(f, json_object_to_json_string(c));
		json_object_put(c);
		struct json_object *p = obj_of(r, "parameters");
		struct json_object *es = obj_of(p, "entries");
		assert_non_null(es);
		for (size_t i = 0; i < json_object_array_length(es); i++) {
			struct json_object *e =
				json_object_array_get_idx(es, i);
			struct ent *d = &s->e[s->n++];
			assert_true(s->n <= MAX_ENTS);
			assert_non_null(str_of(e, "owner"));
			snprintf(d->owner, sizeof(d->owner), "%s",
				 str_of(e, "owner"));
			snprintf(d->group, sizeof(d->group), "%s",
				 str_of(e, "group") ? str_of(e, "group") : "");
			snprintf(d->level, sizeof(d->level), "%s",
				 str_of(e, "level") ? str_of(e, "level") : "");
			snprintf(d->text, sizeof(d->text), "%s",
				 json_object_to_json_string(e));
			d->uid = json_object_get_int64(obj_of(e, "uid"));
		}
		const char *next = str_of(p, "next");
		if (!next) {
			json_object_put(r);
			break;
		}
		snprintf(after, sizeof(after), "%s", next);
		json_object_put(r);
	}
	struct json_object *r =
		handle_text(f, "{\"method\":\"" IFACE "Status\"}");
	struct json_object *p = obj_of(r, "parameters");
	s->total = json_object_get_int64(obj_of(p, "total"));
	s->used = json_object_get_int64(obj_of(p, "used"));
	s->free_ = json_object_get_int64(obj_of(p, "free"));
	json_object_put(r);
}

static const struct ent *find(const struct snap *s, const char *owner)
{
	for (size_t i = 0; owner && i < s->n; i++)
		if (strcmp(s->e[i].owner, owner) == 0)
			return &s->e[i];
	return NULL;
}

static bool same(const struct snap *a, const struct snap *b)
{
	if (a->n != b->n || a->used != b->used || a->free_ != b->free_)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->e[i].text, b->e[i].text) != 0)
			return false;
	return true;
}

/* b equals a without owner, and holds one level less when owner was its
 * last holder (else as many). */
static bool same_but(const struct snap *a, const struct snap *b,
		     const char *owner)
{
	const struct ent *gone = find(a, owner);
	size_t j = 0;
	bool last = gone != NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->e[i].owner, owner) == 0)
			continue;
		if (gone && strcmp(a->e[i].level, gone->level) == 0)
			last = false;
		if (j >= b->n || strcmp(a->e[i].text, b->e[j].text) != 0)
			return false;
		j++;
	}
	return j == b->n && b->used == a->used - (last ? 1 : 0);
}

/* What holds in every state. */
static void check_state(const struct snap *s, const char *what)
{
	size_t levels = 0;
	if (s->total != NPAIRS || s->used + s->free_ != s->total)
		fail_msg("%s: Status total %lld used %lld free %lld", what,
			 (long long)s->total, (long long)s->used,
			 (long long)s->free_);
	for (size_t i = 0; i < s->n; i++) {
		const struct ent *e = &s->e[i];
		if (i && strcmp(s->e[i - 1].owner, e->owner) >= 0)
			fail_msg("%s: List out of order at %s", what, e->owner);
		if (!level_ok(e->level))
			fail_msg("%s: %s holds '%s'", what, e->owner, e->level);
		bool first = true;
		for (size_t j = 0; j < s->n; j++) {
			if (j == i || strcmp(s->e[j].level, e->level) != 0)
				continue;
			if (!*e->group || strcmp(s->e[j].group, e->group) != 0)
				fail_msg("%s: %s and %s share %s", what,
					 e->owner, s->e[j].owner, e->level);
			if (j < i)
				first = false;
		}
		levels += first;
	}
	if ((int64_t)levels != s->used)
		fail_msg("%s: %zu levels held, Status says %lld used", what,
			 levels, (long long)s->used);
}

/* ---- random calls -------------------------------------------------- */

static void rand_name(char *buf, size_t size, const char *prefix, int n)
{
	switch (rnd(40)) {
	case 0:
		snprintf(buf, size, "%s", "");
		break;
	case 1:
		snprintf(buf, size, "%s", rnd(2) ? "a b" : "-x");
		break;
	case 2: /* 255 (valid) or 256 (not) characters */
		memset(buf, 'n', 256);
		buf[rnd(2) ? 255 : 256] = '\0';
		buf[0] = (char)('A' + rnd(26));
		break;
	case 3:
		snprintf(buf, size, "%s%c%d", prefix, "/\n\x01\xc3"[rnd(4)],
			 (int)rnd(3));
		break;
	default:
		snprintf(buf, size, "%s%d", prefix, (int)rnd((uint32_t)n));
	}
}

static void rand_level(char *buf, size_t size)
{
	unsigned x = rnd(12), y = rnd(12);
	switch (rnd(10)) {
	case 0:
		snprintf(buf, size, "s0");
		break;
	case 1:
		snprintf(buf, size, "s0:c%u", x);
		break;
	case 2:
		snprintf(buf, size, "s0:c%u.c%u", x, y);
		break;
	case 3:
		snprintf(buf, size, "s1:c%u,c%u", x, y);
		break;
	case 4:
		snprintf(buf, size, "s0:c%u,c%u,c%u", x, y, rnd(12));
		break;
	default: /* c10, c11: outside the range; x == y, x > y: bad */
		snprintf(buf, size, "s0:c%u,c%u", x, y);
	}
}

/* A value of a random wrong type. */
static struct json_object *rand_junk(void)
{
	switch (rnd(7)) {
	case 0:
		return json_object_new_int64((int64_t)rnd(1u << 31) -
					     (1 << 30));
	case 1:
		return json_object_new_double(1.5);
	case 2:
		return json_object_new_boolean(rnd(2));
	case 3:
		return NULL; /* JSON null */
	case 4:
		return json_object_new_array();
	case 5:
		return json_object_new_object();
	default:
		return json_object_new_int64(INT64_MAX);
	}
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	if (chance(3)) {
		json_object_put(v);
		v = rand_junk();
	}
	json_object_object_add(o, k, v);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (chance(3))
		json_object_object_add(o, k, rand_junk());
	else
		json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *rand_call(const char **ret_method)
{
	static const char *const methods[] = {
		IFACE "Allocate",
		IFACE "Allocate",
		IFACE "Allocate",
		IFACE "Allocate",
		IFACE "Release",
		IFACE "Release",
		IFACE "Lookup",
		IFACE "List",
		IFACE "Status",
		IFACE "Nope",
		"org.varlink.service.GetInfo",
		"org.varlink.service.GetInterfaceDescription",
		"org.example.X.Y",
		"Allocate",
	};
	const char *m = methods[rnd(sizeof(methods) / sizeof(*methods))];
	struct json_object *c = json_object_new_object(), *pa = NULL;
	char buf[300];

	*ret_method = m;
	if (chance(97))
		add_str(c, "method", m);
	if (strstr(m, "Allocate")) {
		pa = json_object_new_object();
		if (chance(95)) {
			rand_name(buf, sizeof(buf), "o", 80);
			add_str(pa, "owner", buf);
		}
		if (chance(30)) {
			rand_name(buf, sizeof(buf), "g", 4);
			add_str(pa, "group", buf);
		}
		if (chance(25)) {
			rand_level(buf, sizeof(buf));
			add_str(pa, "level", buf);
		}
		if (chance(15))
			add_str(pa, "type",
				rnd(3) ? "container_t"
				       : (rnd(2) ? "9t" : "a:b"));
		if (chance(15)) {
			static const int64_t pids[] = {0, -1, 1, 4194303,
						       INT32_MAX + 1LL};
			add(pa, "pid",
			    json_object_new_int64(rnd(2) ? (int64_t)getpid()
							 : pids[rnd(5)]));
		}
		if (chance(20))
			add(pa, "persistent", json_object_new_boolean(rnd(2)));
	} else if (strstr(m, "Release") || strstr(m, "Lookup")) {
		pa = json_object_new_object();
		if (chance(95)) {
			rand_name(buf, sizeof(buf), "o", 40);
			add_str(pa, "owner", buf);
		}
	} else if (strstr(m, "List") && chance(30)) {
		pa = json_object_new_object();
		rand_name(buf, sizeof(buf), "o", 40);
		add_str(pa, "after", buf);
	} else if (strstr(m, "GetInterfaceDescription")) {
		pa = json_object_new_object();
		add_str(pa, "interface", rnd(4) ? "io.mcskit.Labels" : "x.y");
	}
	if (pa && chance(3))
		json_object_object_add(pa, "frobnicate",
				       json_object_new_int(1));
	if (pa || chance(5))
		add(c, "parameters", pa ? pa : json_object_new_object());
	if (chance(3))
		json_object_object_add(c, "oneway", json_object_new_boolean(1));
	return c;
}

/* ---- checking one call -------------------------------------------- */

static bool known_error(const char *e)
{
	static const char *const names[] = {
		IFACE "Exhausted",
		IFACE "InvalidLevel",
		IFACE "LevelInUse",
		IFACE "NotFound",
		IFACE "PermissionDenied",
		"org.varlink.service.InvalidParameter",
		"org.varlink.service.MethodNotFound",
		"org.varlink.service.InterfaceNotFound",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(e, names[i]) == 0)
			return true;
	return false;
}

static void check_call(struct fx *f, const protocol_peer *peer,
		       struct json_object *call)
{
	const char *text = json_object_to_json_string(call);
	const char *m = str_of(call, "method");
	struct json_object *pa = obj_of(call, "parameters");
	const char *owner = json_object_is_type(pa, json_type_object)
				    ? str_of(pa, "owner")
				    : NULL;
	struct json_object *ow = obj_of(call, "oneway");
	bool oneway = json_object_is_type(ow, json_type_boolean) &&
		      json_object_get_boolean(ow);
	const struct ent *before = find(&f->a, owner);

	struct json_object *r = handle(f, peer, call);
	snapshot(f, &f->b);
	check_state(&f->b, text);
	f->calls++;
	if (oneway) {
		f->oneways++;
		if (r)
			fail_msg("%s: a oneway call got a reply", text);
		/* it may have changed something: only the state is checked */
		return;
	}
	if (!r)
		fail_msg("%s: no reply", text);
	char *wire;
	size_t len;
	assert_int_equal(varlink_serialize(r, &wire, &len), 0);
	free(wire);
	if (len > VARLINK_MSG_MAX + 1)
		fail_msg("%s: a reply of %zu bytes", text, len);

	const char *err = str_of(r, "error");
	struct json_object *rp = obj_of(r, "parameters");
	if (err) {
		f->errors++;
		if (!known_error(err))
			fail_msg("%s: error '%s'", text, err);
		f->exhausted += strcmp(err, IFACE "Exhausted") == 0;
		f->in_use += strcmp(err, IFACE "LevelInUse") == 0;
		if (!same(&f->a, &f->b))
			fail_msg("%s: failed (%s) yet changed the registry",
				 text, err);
		json_object_put(r);
		return;
	}
	if (!json_object_is_type(rp, json_type_object) && rp)
		fail_msg("%s: reply parameters not an object", text);
	if (peer->denied && m && strncmp(m, IFACE, strlen(IFACE)) == 0)
		fail_msg("%s: a denied peer got an answer", text);
	if (!m || !strstr(m, IFACE) ||
	    (strcmp(m, IFACE "Allocate") != 0 &&
	     strcmp(m, IFACE "Release") != 0)) {
		if (!same(&f->a, &f->b))
			fail_msg("%s: read-only, yet changed the registry",
				 text);
	}
	if (m && strcmp(m, IFACE "Allocate") == 0) {
		const char *level = str_of(rp, "level");
		const struct ent *now = find(&f->b, owner);
		if (!peer->may_allocate)
			fail_msg("%s: uid %u may not allocate", text,
				 (unsigned)peer->uid);
		const char *got = str_of(rp, "owner");
		if (!owner || !level_ok(level) || !now ||
		    strcmp(now->level, level) != 0 || !got ||
		    strcmp(got, owner) != 0)
			fail_msg("%s: allocated '%s', List holds '%s'", text,
				 level ? level : "(none)",
				 now ? now->level : "(none)");
		const char *wg = str_of(pa, "group"), *gg = str_of(rp, "group");
		if (strcmp(wg ? wg : "", gg ? gg : "") != 0 ||
		    strcmp(now->group, wg ? wg : "") != 0)
			fail_msg("%s: in group '%s', List says '%s'", text,
				 gg ? gg : "", now->group);
		const char *want = str_of(pa, "level");
		if (want && pair_of(want) != pair_of(level))
			fail_msg("%s: asked for %s, got %s", text, want, level);
		if (before && strcmp(before->level, level) != 0)
			fail_msg("%s: %s moved from %s to %s", text, owner,
				 before->level, level);
		if (!before && now->uid != (int64_t)peer->uid)
			fail_msg("%s: new entry of uid %lld, caller %u", text,
				 (long long)now->uid, (unsigned)peer->uid);
		f->allocated++;
		for (size_t i = 0; str_of(pa, "group") && i < f->b.n; i++)
			if (strcmp(f->b.e[i].level, level) == 0 &&
			    strcmp(f->b.e[i].owner, owner) != 0) {
				f->shared++; /* joined a group's level */
				break;
			}
		const char *ml = str_of(rp, "mount_label");
		size_t n = ml ? strlen(ml) : 0, k = strlen(level);
		if (n <= k || strcmp(ml + n - k, level) != 0)
			fail_msg("%s: mount label '%s'", text, ml ? ml : "");
	} else if (m && strcmp(m, IFACE "Release") == 0) {
		if (!before || find(&f->b, owner) ||
		    !same_but(&f->a, &f->b, owner))
			fail_msg("%s: Release changed more or less than %s",
				 text, owner ? owner : "(none)");
		if (peer->uid != 0 && before->uid != (int64_t)peer->uid)
			fail_msg("%s: uid %u released uid %lld's %s", text,
				 (unsigned)peer->uid, (long long)before->uid,
				 owner);
		f->released++;
	} else if (m && strcmp(m, IFACE "Lookup") == 0) {
		if (!before || !str_of(rp, "level") ||
		    strcmp(str_of(rp, "level"), before->level) != 0)
			fail_msg("%s: Lookup said '%s'", text,
				 str_of(rp, "level") ? str_of(rp, "level")
						     : "(none)");
		if (peer->uid != 0 && before->uid != (int64_t)peer->uid)
			fail_msg("%s: uid %u was shown uid %lld's %s", text,
				 (unsigned)peer->uid, (long long)before->uid,
				 owner);
		f->looked_up++;
	} else if (m && strcmp(m, IFACE "List") == 0) {
		struct json_object *es = obj_of(rp, "entries");
		for (size_t i = 0; es && i < json_object_array_length(es);
		     i++) {
			struct json_object *e =
				json_object_array_get_idx(es, i);
			if (peer->uid != 0 &&
			    json_object_get_int64(obj_of(e, "uid")) !=
				    (int64_t)peer->uid)
				fail_msg("%s: uid %u was shown %s", text,
					 (unsigned)peer->uid,
					 json_object_to_json_string(e));
		}
	}
	json_object_put(r);
}

/* ---- framing: damaged bytes in random chunks ------------------------- */

static void damage(char *buf, size_t *len, size_t cap)
{
	for (int k = (int)rnd(4); k >= 0; k--) {
		size_t at = *len ? rnd((uint32_t)*len) : 0;
		switch (rnd(5)) {
		case 0:
			if (*len)
				buf[at] ^= (char)(1u << rnd(8));
			break;
		case 1:
			if (*len + 1 < cap) {
				memmove(buf + at + 1, buf + at, *len - at);
				buf[at] = "\0{}\",:[\\"[rnd(8)];
				(*len)++;
			}
			break;
		case 2:
			if (*len) {
				memmove(buf + at, buf + at + 1, *len - at - 1);
				(*len)--;
			}
			break;
		case 3:
			*len = at;
			break;
		default: /* a second message glued on */
			if (2 * *len + 1 < cap) {
				buf[*len] = '\0';
				memcpy(buf + *len + 1, buf, *len);
				*len = 2 * *len + 1;
			}
		}
	}
}

/* Send len bytes and a closing NUL through a socket pair in chunks and
 * handle every message that comes out of the framing. */
static void check_bytes(struct fx *f, const protocol_peer *peer, char *bytes,
			size_t len, int sv[2], varlink_buf *vb)
{
	size_t off = 0;
	bytes[len++] = '\0';
	while (off < len) {
		size_t chunk = 1 + rnd(rnd(2) ? 16 : 4096);
		if (chunk > len - off)
			chunk = len - off;
		assert_int_equal(write(sv[0], bytes + off, chunk),
				 (ssize_t)chunk);
		off += chunk;
		assert_true(varlink_buf_fill(vb, sv[1]) > 0);
		for (;;) {
			struct json_object *c = NULL;
			int k = varlink_buf_take(vb, &c);
			if (k == 0)
				break;
			if (k == -EBADMSG) {
				f->unframed++;
				continue;
			}
			if (k == -EMSGSIZE)
				fail_msg("a %zu-byte message too long", len);
			assert_int_equal(k, 1);
			memcpy(&f->a, &f->b, sizeof(f->a));
			check_call(f, peer, c);
			memcpy(&f->a, &f->b, sizeof(f->a));
			json_object_put(c);
		}
	}
}

static void test_random_calls(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *e = getenv("MCS_FUZZ_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0x6d63736b6974ull;
	e = getenv("MCS_FUZZ_CALLS");
	long n = e ? strtol(e, NULL, 10) : 4000;
	int sv[2];
	varlink_buf vb = {0};
	static char bytes[4 * VARLINK_MSG_MAX];

	(void)state;
	rng = seed;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_protocol_fuzz.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/r.db", f->dir);
	f->reg = open_registry(f->db);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snapshot(f, &f->b);
	for (long i = 0; i < n; i++) {
		static const protocol_peer peers[] = {
			{.uid = 0, .pid = 1, .may_allocate = true},
			{.uid = 0, .pid = 1, .may_allocate = true},
			{.uid = 1000, .pid = 2, .may_allocate = true},
			{.uid = 1001, .pid = 3, .may_allocate = true},
			{.uid = 2000, .pid = 4},
			{.uid = 0, .pid = 1, .may_allocate = true, .denied = 1},
		};
		const protocol_peer *peer = &peers[rnd(6)];
		const char *m;
		struct json_object *c = rand_call(&m);
		if (chance(75)) {
			memcpy(&f->a, &f->b, sizeof(f->a));
			check_call(f, peer, c);
		} else {
			size_t len;
			snprintf(bytes, sizeof(bytes), "%s",
				 json_object_to_json_string(c));
			len = strlen(bytes);
			damage(bytes, &len, sizeof(bytes) - 1);
			f->damaged++;
			check_bytes(f, peer, bytes, len, sv, &vb);
		}
		json_object_put(c);
	}
	/* acknowledged is durable: synced, reopened, the same */
	assert_int_equal(mcsd_registry_sync(f->reg, NULL), 0);
	mcsd_registry_close(f->reg);
	f->reg = open_registry(f->db);
	memcpy(&f->a, &f->b, sizeof(f->a));
	snapshot(f, &f->b);
	if (!same(&f->a, &f->b))
		fail_msg("reopened registry differs (%zu entries, was %zu)",
			 f->b.n, f->a.n);
	print_message("seed 0x%llx: %lu calls (%lu errors, %lu oneway), %lu "
		      "damaged, %lu unframed; %lu allocated (%lu with a "
		      "level shared), %lu released, %lu looked up, %lu "
		      "Exhausted, %lu LevelInUse; %zu entries, %lld levels "
		      "at the end\n",
		      (unsigned long long)seed, f->calls, f->errors, f->oneways,
		      f->damaged, f->unframed, f->allocated, f->shared,
		      f->released, f->looked_up, f->exhausted, f->in_use,
		      f->b.n, (long long)f->b.used);
	if (n >= 2000)
		assert_true(f->allocated && f->shared && f->released &&
			    f->looked_up && f->exhausted && f->in_use &&
			    f->unframed && f->damaged > f->unframed);
	varlink_buf_free(&vb);
	close(sv[0]);
	close(sv[1]);
	mcsd_registry_close(f->reg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_calls),
	};
	return cmocka_run_group_tests_name("protocol_fuzz", tests, NULL, NULL);
}
