/* SPDX-License-Identifier: MIT */
/*
 * test_client.c - unit tests for lib/client.c against a scripted varlink
 * peer on a real Unix socket: the exact request each call sends, decoding
 * of replies (lease, list, status), the mapping of every varlink error to
 * -errno with a message, timeouts and a vanished server.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <mcs/client.h>

#include "varlink.h"

struct peer {
	char dir[64];
	char path[128];
	int lfd;
	const char *reply;	  /* JSON text sent back for each request */
	int requests;		  /* how many to serve */
	struct json_object *last; /* the last request received */
	bool joined;
	pthread_t th;
};

static void *serve(void *arg)
{
	struct peer *p = arg;
	int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	varlink_buf b = {0};
	for (int i = 0; fd >= 0 && i < p->requests; i++) {
		struct json_object *req = NULL;
		if (varlink_recv(fd, &b, &req, 5000) < 0)
			break;
		json_object_put(p->last);
		p->last = req;
		if (p->reply) {
			struct json_object *r = json_tokener_parse(p->reply);
			varlink_send(fd, r);
			json_object_put(r);
		}
	}
	varlink_buf_free(&b);
	if (!p->reply)
		usleep(300 * 1000); /* silent: hold the connection open */
	if (fd >= 0)
		close(fd);
	return NULL;
}

static struct peer *peer_start(const char *reply, int requests)
{
	struct peer *p = calloc(1, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/test_client.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/s", p->dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	p->reply = reply;
	p->requests = requests;
	pthread_create(&p->th, NULL, serve, p);
	return p;
}

static void peer_stop(struct peer *p)
{
	if (!p->joined)
		pthread_join(p->th, NULL);
	close(p->lfd);
	unlink(p->path);
	rmdir(p->dir);
	json_object_put(p->last);
	free(p);
}

static const char *req_str(struct peer *p, const char *k)
{
	struct json_object *params, *v;
	if (!json_object_object_get_ex(p->last, "parameters", &params) ||
	    !json_object_object_get_ex(params, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *req_method(struct peer *p)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(p->last, "method", &v));
	return json_object_get_string(v);
}

static void test_allocate_request_and_reply(void **state)
{
	(void)state;
	struct peer *p = peer_start(
		"{\"parameters\":{\"owner\":\"c1\",\"group\":\"pod\","
		"\"level\":\"s0:c1,c2\",\"process_label\":\"system_u:system_r:"
		"t:s0:c1,c2\",\"mount_label\":\"m\",\"persistent\":true}}",
		1);
	mcs_client *c = NULL;
	assert_int_equal(mcs_client_connect(p->path, &c, NULL), 0);
	mcs_alloc_request req = {.owner = "c1",
				 .group = "pod",
				 .pid = 42,
				 .persistent = true,
				 .type = "t"};
	mcs_lease l;
	assert_int_equal(mcs_client_allocate(c, &req, &l, NULL), 0);
	mcs_client_free(c);
	assert_string_equal(l.level, "s0:c1,c2");
	assert_string_equal(l.group, "pod");
	assert_string_equal(l.process_label, "system_u:system_r:t:s0:c1,c2");
	assert_true(l.persistent);
	pthread_join(p->th, NULL);
	p->joined = true;
	assert_string_equal(req_method(p), "io.mcskit.Labels.Allocate");
	assert_string_equal(req_str(p, "owner"), "c1");
	assert_string_equal(req_str(p, "group"), "pod");
	assert_string_equal(req_str(p, "type"), "t");
	assert_string_equal(req_str(p, "pid"), "42");
	assert_null(req_str(p, "level")); /* omitted when NULL */
	peer_stop(p);
}

static void test_error_mapping(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int code;
	} cases[] = {
		{"io.mcskit.Labels.Exhausted", -ENOSPC},
		{"io.mcskit.Labels.InvalidLevel", -EINVAL},
		{"io.mcskit.Labels.LevelInUse", -EEXIST},
		{"io.mcskit.Labels.NotFound", -ENOENT},
		{"io.mcskit.Labels.PermissionDenied", -EPERM},
		{"io.mcskit.Labels.StorageError", -EIO},
		{"org.varlink.service.InvalidParameter", -EINVAL},
		{"org.varlink.service.MethodNotFound", -EOPNOTSUPP},
		{"org.varlink.service.InterfaceNotFound", -EOPNOTSUPP},
		{"com.example.Whatever", -EPROTO},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char reply[256];
		snprintf(reply, sizeof(reply),
			 "{\"error\":\"%s\",\"parameters\":{\"message\":"
			 "\"why\"}}",
			 cases[i].name);
		struct peer *p = peer_start(reply, 1);
		mcs_client *c = NULL;
		mcs_error err = {0};
		assert_int_equal(mcs_client_connect(p->path, &c, NULL), 0);
		assert_int_equal(mcs_client_release(c, "x", &err),
				 cases[i].code);
		assert_int_equal(err.code, cases[i].code);
		assert_non_null(strstr(err.msg, cases[i].name));
		assert_non_null(strstr(err.msg, "why"));
		mcs_client_free(c);
		peer_stop(p);
	}
}

static void test_list_and_status(void **state)
{
	(void)state;
	struct peer *p = peer_start(
		"{\"parameters\":{\"entries\":[{\"owner\":\"a\",\"level\":"
		"\"s0:c1,c2\",\"uid\":7,\"pid\":99,\"persistent\":false},"
		"{\"owner\":\"b\",\"level\":\"s0:c3,c4\",\"uid\":0,"
		"\"persistent\":true}],\"total\":45,\"used\":2,\"free\":43,"
		"\"quarantined\":0}}",
		2);
	mcs_client *c = NULL;
	assert_int_equal(mcs_client_connect(p->path, &c, NULL), 0);
	mcs_lease *v = NULL;
	size_t n = 0;
	assert_int_equal(mcs_client_list(c, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].owner, "a");
	assert_int_equal(v[0].uid, 7);
	assert_int_equal(v[0].pid, 99);
	assert_string_equal(v[1].level, "s0:c3,c4");
	assert_true(v[1].persistent);
	free(v);
	mcs_status st;
	assert_int_equal(mcs_client_status(c, &st, NULL), 0);
	assert_int_equal(st.total, 45);
	assert_int_equal(st.free, 43);
	mcs_client_free(c);
	peer_stop(p);
}

static void test_timeout_and_gone(void **state)
{
	(void)state;
	/* A peer that never answers. */
	struct peer *p = peer_start(NULL, 1);
	mcs_client *c = NULL;
	mcs_error err = {0};
	assert_int_equal(mcs_client_connect(p->path, &c, NULL), 0);
	mcs_client_set_timeout(c, 100);
	assert_int_equal(mcs_client_status(c, &(mcs_status){0}, &err),
			 -ETIMEDOUT);
	mcs_client_free(c);
	peer_stop(p);

	assert_int_equal(mcs_client_connect("/nonexistent/mcsd.sock", &c, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/mcsd.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocate_request_and_reply),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_list_and_status),
		cmocka_unit_test(test_timeout_and_gone),
	};
	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
