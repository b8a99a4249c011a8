/* SPDX-License-Identifier: MIT */
/*
 * test_varlink.c - unit tests for lib/varlink.c: NUL framing over a real
 * socketpair (several messages in one read, one message split across
 * reads), the size limit, broken JSON, trailing bytes and non-objects,
 * the timeout (also for a message that arrives in pieces), one wake-up
 * per reply, and the call/reply/error builders.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "varlink.h"

struct pair {
	int a, b;
};

static int setup(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	p->a = sv[0];
	p->b = sv[1];
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	close(p->a);
	close(p->b);
	free(p);
	return 0;
}

static void raw_send(int fd, const char *s, size_t n)
{
	assert_int_equal(write(fd, s, n), (ssize_t)n);
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static void test_roundtrip(void **state)
{
	struct pair *p = *state;
	struct json_object *params = json_object_new_object();
	json_object_object_add(params, "owner",
			       json_object_new_string("c1\"/\\x"));
	struct json_object *call =
		varlink_call_new("io.mcskit.Labels.Lookup", params);
	assert_non_null(call);
	assert_int_equal(varlink_send(p->a, call), 0);
	json_object_put(call);

	varlink_buf b = {0};
	struct json_object *got = NULL;
	assert_int_equal(varlink_recv(p->b, &b, &got, 1000), 0);
	assert_string_equal(str_of(got, "method"), "io.mcskit.Labels.Lookup");
	struct json_object *gp;
	assert_true(json_object_object_get_ex(got, "parameters", &gp));
	assert_string_equal(str_of(gp, "owner"), "c1\"/\\x");
	json_object_put(got);
	assert_int_equal(b.len, 0);
	varlink_buf_free(&b);
}

static void test_two_in_one_and_split(void **state)
{
	struct pair *p = *state;
	static const char two[] = "{\"a\":1}\0{\"b\":2}";
	varlink_buf b = {0};
	struct json_object *o = NULL;

	raw_send(p->a, two, sizeof(two)); /* includes the final NUL */
	assert_int_equal(varlink_recv(p->b, &b, &o, 1000), 0);
	assert_true(json_object_object_get_ex(o, "a", NULL));
	json_object_put(o);
	/* The second is already buffered: no read needed. */
	assert_int_equal(varlink_buf_take(&b, &o), 1);
	assert_true(json_object_object_get_ex(o, "b", NULL));
	json_object_put(o);

	/* Split in the middle of a string. */
	raw_send(p->a, "{\"key\":\"va", 10);
	assert_int_equal(varlink_buf_fill(&b, p->b), 10);
	assert_int_equal(varlink_buf_take(&b, &o), 0);
	raw_send(p->a, "lue\"}", 6);
	assert_int_equal(varlink_recv(p->b, &b, &o, 1000), 0);
	assert_string_equal(str_of(o, "key"), "value");
	json_object_put(o);
	varlink_buf_free(&b);
}

static void test_bad_messages(void **state)
{
	struct pair *p = *state;
	static const char bad[] = "{\"a\":\0[1,2]\0{\"x\":1} trailing\0{\"ok\":"
				  "true}";
	varlink_buf b = {0};
	struct json_object *o = NULL;

	raw_send(p->a, bad, sizeof(bad));
	assert_true(varlink_buf_fill(&b, p->b) > 0);
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* broken */
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* array */
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* trailing */
	assert_int_equal(varlink_buf_take(&b, &o), 1); /* next one still ok */
	assert_true(json_object_object_get_ex(o, "ok", NULL));
	json_object_put(o);
	varlink_buf_free(&b);
}

/* An escaped NUL in any string (value or key) is refused: C strings taken
 * from the object would end there.  An escaped backslash before "u0000"
 * is no NUL. */
static void test_escaped_nul(void **state)
{
	struct pair *p = *state;
	static const char msgs[] = "{\"owner\":\"ab\\u0000cd\"}\0"
				   "{\"a\":[\"x\",\"\\u0000\"]}\0"
				   "{\"own\\u0000er\":\"x\"}\0"
				   "{\"ok\":\"a\\\\u0000\"}";
	varlink_buf b = {0};
	struct json_object *o = NULL;

	raw_send(p->a, msgs, sizeof(msgs));
	assert_true(varlink_buf_fill(&b, p->b) > 0);
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* value */
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* in an array */
	assert_int_equal(varlink_buf_take(&b, &o), -EBADMSG); /* key */
	assert_int_equal(varlink_buf_take(&b, &o), 1);
	assert_string_equal(str_of(o, "ok"), "a\\u0000");
	json_object_put(o);
	varlink_buf_free(&b);
}

static void test_oversized(void **state)
{
	struct pair *p = *state;
	size_t n = VARLINK_MSG_MAX + 100;
	char *big = malloc(n);
	memset(big, ' ', n);
	varlink_buf b = {0};
	struct json_object *o = NULL;

	/* No NUL yet but already too long: refused before it ends. */
	for (size_t off = 0; off < n;) {
		ssize_t w = write(p->a, big + off, n - off);
		assert_true(w > 0);
		off += (size_t)w;
		int r;
		while ((r = varlink_buf_fill(&b, p->b)) > 0)
			;
	}
	assert_int_equal(varlink_buf_take(&b, &o), -EMSGSIZE);
	free(big);
	varlink_buf_free(&b);

	/* Exactly at the limit is still accepted. */
	char *max = malloc(VARLINK_MSG_MAX + 1);
	memset(max, ' ', VARLINK_MSG_MAX);
	max[0] = '{';
	max[VARLINK_MSG_MAX - 1] = '}';
	max[VARLINK_MSG_MAX] = '\0';
	varlink_buf b2 = {0};
	size_t off = 0;
	int r = 0;
	while (off < VARLINK_MSG_MAX + 1 || r == 0) {
		if (off < VARLINK_MSG_MAX + 1) {
			ssize_t w = write(p->a, max + off,
					  VARLINK_MSG_MAX + 1 - off);
			assert_true(w > 0);
			off += (size_t)w;
		}
		while (varlink_buf_fill(&b2, p->b) > 0)
			;
		r = varlink_buf_take(&b2, &o);
		assert_true(r >= 0);
	}
	assert_int_equal(r, 1);
	json_object_put(o);
	free(max);
	varlink_buf_free(&b2);
}

static void test_timeout_and_eof(void **state)
{
	struct pair *p = *state;
	varlink_buf b = {0};
	struct json_object *o = NULL;

	assert_int_equal(varlink_recv(p->b, &b, &o, 50), -ETIMEDOUT);
	shutdown(p->a, SHUT_WR);
	assert_int_equal(varlink_recv(p->b, &b, &o, 1000), -ECONNRESET);
	varlink_buf_free(&b);
}

/* Half a message 200 ms into a 300 ms timeout, the rest at 450 ms: the
 * wait ends at 300 ms with -ETIMEDOUT.  A timeout that started again with
 * the half (ending at 500 ms) would receive the whole message instead:
 * the outcome says which, no duration is asserted. */
static void test_timeout_split_message(void **state)
{
	struct pair *p = *state;
	varlink_buf b = {0};
	struct json_object *o = NULL;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		struct timespec rest = {0, 250 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (write(p->a, "{\"a\":", 5) != 5)
			_exit(1);
		nanosleep(&rest, NULL);
		_exit(write(p->a, "1}", 3) == 3 ? 0 : 1);
	}
	assert_int_equal(varlink_recv(p->b, &b, &o, 300), -ETIMEDOUT);
	assert_null(o);
	int st = -1;
	waitpid(child, &st, 0);
	assert_int_equal(st, 0);
	varlink_buf_free(&b);
}

/* A client waiting for its reply sleeps once: the peer reading the
 * request 30 ms later must not wake it (a blocking recv is woken then, as
 * the kernel wakes a socket's sleepers for write space too), only the
 * reply 30 ms after that.  Counted as this thread's voluntary context
 * switches. */
static void test_one_wakeup_per_reply(void **state)
{
	struct pair *p = *state;
	varlink_buf b = {0};
	struct json_object *o = NULL;
	struct rusage before, after;

	raw_send(p->b, "{\"method\":\"x\"}", 15);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char buf[64];
		struct timespec ts = {0, 30 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (read(p->a, buf, sizeof(buf)) != 15)
			_exit(1);
		nanosleep(&ts, NULL);
		_exit(write(p->a, "{\"parameters\":{}}", 18) == 18 ? 0 : 1);
	}
	assert_int_equal(getrusage(RUSAGE_THREAD, &before), 0);
	assert_int_equal(varlink_recv(p->b, &b, &o, 5000), 0);
	assert_int_equal(getrusage(RUSAGE_THREAD, &after), 0);
	int st = -1;
	waitpid(child, &st, 0);
	assert_int_equal(st, 0);
	assert_true(json_object_object_get_ex(o, "parameters", NULL));
	assert_int_equal(after.ru_nvcsw - before.ru_nvcsw, 1);
	json_object_put(o);
	varlink_buf_free(&b);
}

static void test_builders(void **state)
{
	(void)state;
	struct json_object *e =
		varlink_error_new("io.mcskit.Labels.NotFound", NULL);
	assert_string_equal(str_of(e, "error"), "io.mcskit.Labels.NotFound");
	assert_true(json_object_object_get_ex(e, "parameters", NULL));
	char *s = NULL;
	size_t len = 0;
	assert_int_equal(varlink_serialize(e, &s, &len), 0);
	assert_int_equal(s[len - 1], '\0');
	assert_int_equal(strlen(s), len - 1);
	assert_non_null(strstr(s, "\"error\":\"io.mcskit.Labels.NotFound\""));
	free(s);
	json_object_put(e);

	struct json_object *r = varlink_reply_new(NULL);
	assert_true(json_object_object_get_ex(r, "parameters", NULL));
	assert_false(json_object_object_get_ex(r, "error", NULL));
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_in_one_and_split,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_escaped_nul, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_eof, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_split_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_wakeup_per_reply,
						setup, teardown),
		cmocka_unit_test(test_builders),
	};
	return cmocka_run_group_tests_name("varlink", tests, NULL, NULL);
}
