/* SPDX-License-Identifier: MIT */
/*
 * test_protocol.c - unit tests for mcsd/protocol.c on a real registry in a
 * temporary file: each call decoded into the right reply or varlink error
 * (table of malformed calls), authorisation per method and uid, the
 * labels built from the level, GetInfo, and GetInterfaceDescription equal
 * to mcsd/io.mcskit.Labels.varlink, List by pages (the largest page fits
 * in a message), oneway calls answered by nothing.  A rejected call
 * leaves the registry's Status unchanged.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocol.h"
#include "registry.h"
#include "varlink.h"

struct fx {
	char dir[64];
	char db[96];
	mcsd_registry *reg;
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
static const protocol_peer member = {
	.uid = 1000, .pid = 2, .may_allocate = true};
static const protocol_peer stranger = {.uid = 2000, .pid = 3};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_protocol.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/r.db", f->dir);
	f->reg = open_registry(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	mcsd_registry_close(f->reg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Run one call (JSON text) in its own transaction; return the reply. */
static struct json_object *call(struct fx *f, const protocol_peer *peer,
				const char *text)
{
	struct json_object *c = json_tokener_parse(text), *reply = NULL;
	int pidfd = -1;
	assert_non_null(c);
	assert_int_equal(mcsd_registry_begin(f->reg, NULL), 0);
	protocol_result res;
	assert_int_equal(protocol_handle(f->reg, peer, c, &res), 0);
	reply = res.reply;
	pidfd = res.pidfd;
	assert_int_equal(mcsd_registry_commit(f->reg, NULL), 0);
	if (pidfd >= 0)
		close(pidfd);
	json_object_put(c);
	return reply;
}

static const char *error_of(struct json_object *r)
{
	struct json_object *e;
	if (!r || !json_object_object_get_ex(r, "error", &e))
		return "";
	return json_object_get_string(e);
}

static const char *param(struct json_object *r, const char *k)
{
	struct json_object *p, *v;
	if (!json_object_object_get_ex(r, "parameters", &p) ||
	    !json_object_object_get_ex(p, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t used(struct fx *f)
{
	struct json_object *r =
		call(f, &root, "{\"method\":\"io.mcskit.Labels.Status\"}");
	int64_t u = atoll(param(r, "used"));
	json_object_put(r);
	return u;
}

#define IP "org.varlink.service.InvalidParameter"
#define AL "{\"method\":\"io.mcskit.Labels.Allocate\",\"parameters\":"

static const struct bad_case {
	const char *call;
	const char *error;
	const char *parameter; /* expected "parameter", or NULL */
} bad_cases[] = {
	{"{}", IP, "method"},
	{"{\"method\":7}", IP, "method"},
	{"{\"method\":\"io.mcskit.Labels.Nope\"}",
	 "org.varlink.service.MethodNotFound", NULL},
	{"{\"method\":\"org.example.X.Y\"}",
	 "org.varlink.service.InterfaceNotFound", NULL},
	{"{\"method\":\"io.mcskit.Labels.Status\",\"parameters\":[]}", IP,
	 "parameters"},
	{"{\"method\":\"io.mcskit.Labels.Status\",\"parameters\":{\"x\":1}}",
	 IP, "x"},
	{AL "{}}", IP, "owner"},
	{AL "{\"owner\":1}}", IP, "owner"},
	{AL "{\"owner\":\"\"}}", IP, "owner"},
	{AL "{\"owner\":\"a b\"}}", IP, "owner"},
	{AL "{\"owner\":\"-x\"}}", IP, "owner"},
	{AL "{\"owner\":\"ok\",\"group\":\"a/b\"}}", IP, "group"},
	{AL "{\"owner\":\"ok\",\"group\":true}}", IP, "group"},
	{AL "{\"owner\":\"ok\",\"type\":\"9t\"}}", IP, "type"},
	{AL "{\"owner\":\"ok\",\"type\":\"a:b\"}}", IP, "type"},
	{AL "{\"owner\":\"ok\",\"pid\":0}}", IP, "pid"},
	{AL "{\"owner\":\"ok\",\"pid\":-5}}", IP, "pid"},
	{AL "{\"owner\":\"ok\",\"pid\":99999999}}", IP, "pid"},
	{AL "{\"owner\":\"ok\",\"pid\":1.5}}", IP, "pid"},
	{AL "{\"owner\":\"ok\",\"persistent\":\"yes\"}}", IP, "persistent"},
	{AL "{\"owner\":\"ok\",\"level\":5}}", IP, "level"},
	{AL "{\"owner\":\"ok\",\"level\":\"s0\"}}",
	 "io.mcskit.Labels.InvalidLevel", NULL},
	{AL "{\"owner\":\"ok\",\"level\":\"s0:c1\"}}",
	 "io.mcskit.Labels.InvalidLevel", NULL},
	{AL "{\"owner\":\"ok\",\"level\":\"s0:c1,c1\"}}",
	 "io.mcskit.Labels.InvalidLevel", NULL},
	{AL "{\"owner\":\"ok\",\"level\":\"s0:c1.c3\"}}",
	 "io.mcskit.Labels.InvalidLevel", NULL},
	{AL "{\"owner\":\"ok\",\"level\":\"s0:c100,c200\"}}",
	 "io.mcskit.Labels.InvalidLevel", NULL}, /* outside c0.c9 */
	{"{\"method\":\"io.mcskit.Labels.Lookup\",\"parameters\":{\"owner\":"
	 "\"none\"}}",
	 "io.mcskit.Labels.NotFound", NULL},
	{"{\"method\":\"io.mcskit.Labels.Release\",\"parameters\":{\"owner\":"
	 "\"none\"}}",
	 "io.mcskit.Labels.NotFound", NULL},
	{"{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	 "\"parameters\":{\"interface\":\"x.y\"}}",
	 "org.varlink.service.InterfaceNotFound", NULL},
};

static void test_bad_calls(void **state)
{
	struct fx *f = *state;
	int64_t u0 = used(f);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct json_object *r = call(f, &root, bad_cases[i].call);
		if (strcmp(error_of(r), bad_cases[i].error) != 0)
			fail_msg("%s: got '%s', want %s", bad_cases[i].call,
				 error_of(r), bad_cases[i].error);
		if (bad_cases[i].parameter) {
			const char *p = param(r, "parameter");
			if (!p || strcmp(p, bad_cases[i].parameter) != 0)
				fail_msg("%s: parameter '%s', want '%s'",
					 bad_cases[i].call, p ? p : "(none)",
					 bad_cases[i].parameter);
		}
		json_object_put(r);
	}
	assert_int_equal(used(f), u0);
}

static void test_allocate_labels_and_idempotence(void **state)
{
	struct fx *f = *state;
	struct json_object *a = call(
		f, &root, AL "{\"owner\":\"c1\",\"type\":\"container_t\"}}");
	assert_string_equal(error_of(a), "");
	char want[128];
	snprintf(want, sizeof(want), "system_u:system_r:container_t:%s",
		 param(a, "level"));
	assert_string_equal(param(a, "process_label"), want);
	snprintf(want, sizeof(want),
		 "system_u:object_r:svirt_sandbox_file_t:%s",
		 param(a, "level"));
	assert_string_equal(param(a, "mount_label"), want);
	struct json_object *b = call(f, &root, AL "{\"owner\":\"c1\"}}");
	assert_string_equal(param(a, "level"), param(b, "level"));
	assert_non_null(strstr(param(b, "process_label"), "svirt_lxc_net_t"));
	json_object_put(a);
	json_object_put(b);
	assert_int_equal(used(f), 1);
}

static void test_authorisation(void **state)
{
	struct fx *f = *state;
	struct json_object *r;
	const char *PD = "io.mcskit.Labels.PermissionDenied";

	r = call(f, &stranger, AL "{\"owner\":\"s1\"}}");
	assert_string_equal(error_of(r), PD);
	json_object_put(r);
	r = call(f, &member, AL "{\"owner\":\"m1\"}}");
	assert_string_equal(error_of(r), "");
	json_object_put(r);
	/* Not the stranger's to read, release or take over. */
	r = call(f, &stranger,
		 "{\"method\":\"io.mcskit.Labels.Lookup\",\"parameters\":{"
		 "\"owner\":\"m1\"}}");
	assert_string_equal(error_of(r), PD);
	json_object_put(r);
	r = call(f, &stranger,
		 "{\"method\":\"io.mcskit.Labels.Release\",\"parameters\":{"
		 "\"owner\":\"m1\"}}");
	assert_string_equal(error_of(r), PD);
	json_object_put(r);
	protocol_peer other_member = member;
	other_member.uid = 1001;
	r = call(f, &other_member, AL "{\"owner\":\"m1\"}}");
	assert_string_equal(error_of(r), PD);
	json_object_put(r);
	/* List: own entries only; root sees all. */
	r = call(f, &stranger, "{\"method\":\"io.mcskit.Labels.List\"}");
	struct json_object *p, *e;
	assert_true(json_object_object_get_ex(r, "parameters", &p));
	assert_true(json_object_object_get_ex(p, "entries", &e));
	assert_int_equal(json_object_array_length(e), 0);
	json_object_put(r);
	r = call(f, &root, "{\"method\":\"io.mcskit.Labels.List\"}");
	assert_true(json_object_object_get_ex(r, "parameters", &p));
	assert_true(json_object_object_get_ex(p, "entries", &e));
	assert_int_equal(json_object_array_length(e), 1);
	json_object_put(r);
	/* SELinux-denied peers get nothing, even root. */
	protocol_peer denied = root;
	denied.denied = true;
	r = call(f, &denied, "{\"method\":\"io.mcskit.Labels.Status\"}");
	assert_string_equal(error_of(r), PD);
	json_object_put(r);
	/* The owner itself may release. */
	r = call(f, &member,
		 "{\"method\":\"io.mcskit.Labels.Release\",\"parameters\":{"
		 "\"owner\":\"m1\"}}");
	assert_string_equal(error_of(r), "");
	json_object_put(r);
	assert_int_equal(used(f), 0);
}

/* Allocate owner (in group, when not NULL) as root; assert it worked. */
static void alloc_ok(struct fx *f, const char *owner, const char *group)
{
	struct json_object *params = json_object_new_object();
	json_object_object_add(params, "owner", json_object_new_string(owner));
	if (group)
		json_object_object_add(params, "group",
				       json_object_new_string(group));
	struct json_object *c =
		varlink_call_new("io.mcskit.Labels.Allocate", params);
	struct json_object *r = call(f, &root, json_object_to_json_string(c));
	assert_string_equal(error_of(r), "");
	json_object_put(r);
	json_object_put(c);
}

/* One List call after `after` (NULL: none); the entries array. */
static size_t list_page(struct fx *f, const protocol_peer *peer,
			const char *after, char *next, size_t next_size,
			struct json_object **ret_reply)
{
	char text[512];
	struct json_object *p, *e, *nx;

	if (after)
		snprintf(text, sizeof(text),
			 "{\"method\":\"io.mcskit.Labels.List\","
			 "\"parameters\":{\"after\":\"%s\"}}",
			 after);
	else
		snprintf(text, sizeof(text),
			 "{\"method\":\"io.mcskit.Labels.List\"}");
	struct json_object *r = call(f, peer, text);
	assert_string_equal(error_of(r), "");
	assert_true(json_object_object_get_ex(r, "parameters", &p));
	assert_true(json_object_object_get_ex(p, "entries", &e));
	snprintf(next, next_size, "%s",
		 json_object_object_get_ex(p, "next", &nx)
			 ? json_object_get_string(nx)
			 : "");
	*ret_reply = r;
	return json_object_array_length(e);
}

/* 150 owners (one pod: the range has 45 pairs) come in pages of 64, 64
 * and 22, each owner once and in order; a stranger's pages hold none of
 * them yet go on; a bad cursor is refused. */
static void test_list_pages(void **state)
{
	struct fx *f = *state;
	char owner[32], next[300] = "", after[300], prev[300] = "";
	size_t sizes[4], npages = 0, total = 0;
	struct json_object *r, *p, *e;

	for (int i = 0; i < 150; i++) {
		snprintf(owner, sizeof(owner), "m%03d", i);
		alloc_ok(f, owner, "pod");
	}
	do {
		snprintf(after, sizeof(after), "%s", next);
		size_t n = list_page(f, &root, npages ? after : NULL, next,
				     sizeof(next), &r);
		assert_true(npages < 4);
		sizes[npages++] = n;
		assert_true(json_object_object_get_ex(r, "parameters", &p));
		assert_true(json_object_object_get_ex(p, "entries", &e));
		for (size_t i = 0; i < n; i++) {
			struct json_object *o, *v;
			o = json_object_array_get_idx(e, i);
			assert_true(json_object_object_get_ex(o, "owner", &v));
			const char *name = json_object_get_string(v);
			assert_true(strcmp(prev, name) < 0);
			snprintf(prev, sizeof(prev), "%s", name);
		}
		total += n;
		if (*next)
			assert_string_equal(next, prev);
		json_object_put(r);
	} while (*next);
	assert_int_equal(npages, 3);
	assert_int_equal(sizes[0], 64);
	assert_int_equal(sizes[1], 64);
	assert_int_equal(sizes[2], 22);
	assert_int_equal(total, 150);

	assert_int_equal(list_page(f, &stranger, NULL, next, sizeof(next), &r),
			 0);
	assert_string_equal(next, "m063");
	json_object_put(r);

	r = call(f, &root,
		 "{\"method\":\"io.mcskit.Labels.List\",\"parameters\":{"
		 "\"after\":\"a b\"}}");
	assert_string_equal(error_of(r), IP);
	assert_string_equal(param(r, "parameter"), "after");
	json_object_put(r);
	r = call(f, &root,
		 "{\"method\":\"io.mcskit.Labels.List\",\"parameters\":{"
		 "\"after\":7}}");
	assert_string_equal(error_of(r), IP);
	json_object_put(r);
}

/* The largest page there can be (64 owners and their group, all names
 * 255 characters long) fits in one message. */
static void test_list_page_fits(void **state)
{
	struct fx *f = *state;
	char owner[256], group[256], next[300];
	struct json_object *r;
	char *text = NULL;
	size_t len = 0;

	memset(group, 'g', 255);
	group[255] = '\0';
	for (int i = 0; i < 64; i++) {
		memset(owner, 'o', 255);
		owner[255] = '\0';
		owner[0] = (char)('0' + i / 10);
		owner[1] = (char)('0' + i % 10);
		alloc_ok(f, owner, group);
	}
	assert_int_equal(list_page(f, &root, NULL, next, sizeof(next), &r), 64);
	assert_int_equal(varlink_serialize(r, &text, &len), 0);
	assert_true(len > 64 * 2 * 255);
	assert_true(len <= VARLINK_MSG_MAX);
	free(text);
	json_object_put(r);
}

static void test_service(void **state)
{
	struct fx *f = *state;
	struct json_object *r = call(
		f, &stranger, "{\"method\":\"org.varlink.service.GetInfo\"}");
	assert_string_equal(param(r, "product"), "mcsd");
	json_object_put(r);

	r = call(f, &stranger,
		 "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
		 "\"parameters\":{\"interface\":\"io.mcskit.Labels\"}}");
	FILE *fp = fopen("mcsd/io.mcskit.Labels.varlink", "r");
	assert_non_null(fp);
	static char file[65536];
	size_t n = fread(file, 1, sizeof(file) - 1, fp);
	fclose(fp);
	file[n] = '\0';
	assert_string_equal(param(r, "description"), file);
	json_object_put(r);

	/* oneway: no reply at all, not even an error; only true is oneway */
	r = call(f, &root,
		 "{\"method\":\"io.mcskit.Labels.Status\",\"oneway\":true}");
	assert_null(r);
	r = call(f, &root, "{\"method\":7,\"oneway\":true}");
	assert_null(r);
	r = call(f, &root,
		 "{\"method\":\"io.mcskit.Labels.Status\",\"oneway\":\"no\"}");
	assert_non_null(r);
	assert_string_equal(error_of(r), "");
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_calls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_allocate_labels_and_idempotence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorisation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_page_fits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_service, setup, teardown),
	};
	return cmocka_run_group_tests_name("protocol", tests, NULL, NULL);
}
