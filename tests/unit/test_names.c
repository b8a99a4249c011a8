/* SPDX-License-Identifier: MIT */
/*
 * test_names.c - one table of names (tests/names.tsv) fed to every entry
 * point that accepts a name inside the process: the validator
 * (mcs_name_check), the registry (mcsd_registry_allocate) and the daemon's
 * protocol (Allocate through protocol_handle); each must give the table's
 * verdict.  tests/integration/mcsd/names.sh feeds the same table to
 * mcsctl against a real mcsd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <mcs/names.h>

#include "protocol.h"
#include "registry.h"

struct row {
	mcs_name_kind kind;
	const char *kind_name;
	char name[1024];
	bool ok;
	int line;
};

static struct row rows[256];
static size_t nrows;

static int load_table(void **state)
{
	const char *path = getenv("MCS_NAMES_TABLE");
	char line[2048];
	FILE *f;
	int lineno = 0;

	(void)state;
	f = fopen(path ? path : "tests/names.tsv", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[5] = {0}, *p = line;
		struct row *r = &rows[nrows];
		long times;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		for (int i = 0; i < 5 && p; i++) {
			fields[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (!fields[3] || nrows == sizeof(rows) / sizeof(rows[0]))
			return -1;
		if (strcmp(fields[0], "owner") == 0)
			r->kind = MCS_NAME_OWNER;
		else if (strcmp(fields[0], "group") == 0)
			r->kind = MCS_NAME_GROUP;
		else if (strcmp(fields[0], "type") == 0)
			r->kind = MCS_NAME_TYPE;
		else
			return -1;
		r->kind_name = r->kind == MCS_NAME_OWNER   ? "owner"
			       : r->kind == MCS_NAME_GROUP ? "group"
							   : "type";
		times = strtol(fields[2], NULL, 10);
		if (times < 1 ||
		    strlen(fields[1]) * (size_t)times >= sizeof(r->name))
			return -1;
		for (long i = 0; i < times; i++)
			strcat(r->name, fields[1]);
		r->ok = strcmp(fields[3], "ok") == 0;
		r->line = lineno;
		nrows++;
	}
	fclose(f);
	return nrows > 0 ? 0 : -1;
}

static void test_validator(void **state)
{
	(void)state;
	for (size_t i = 0; i < nrows; i++) {
		mcs_error err = {0};
		int k = mcs_name_check(rows[i].kind, rows[i].name, &err);

		if ((k == 0) != rows[i].ok)
			fail_msg("names.tsv:%d %s \"%.40s\": validator says %s",
				 rows[i].line, rows[i].kind_name, rows[i].name,
				 k == 0 ? "ok" : err.msg);
		if (k < 0 && (k != -EINVAL || !strstr(err.msg, "invalid")))
			fail_msg("names.tsv:%d: bad error %d %s", rows[i].line,
				 k, err.msg);
	}
}

/* The request that puts row r's name in its slot. */
static void request_of(const struct row *r, size_t i, char owner[32],
		       mcsd_registry_request *req)
{
	snprintf(owner, 32, "o%zu", i);
	*req = (mcsd_registry_request){.owner = owner,
				       .kind = MCSD_REGISTRY_RESERVATION};
	if (r->kind == MCS_NAME_OWNER)
		req->owner = r->name;
	else if (r->kind == MCS_NAME_GROUP)
		req->group = r->name;
	else
		req->type = r->name;
}

static void test_registry(void **state)
{
	mcsd_registry *reg = NULL;
	mcs_error err = {0};

	(void)state;
	assert_int_equal(mcsd_registry_open(":memory:", NULL, &reg, &err), 0);
	for (size_t i = 0; i < nrows; i++) {
		mcsd_registry_request req;
		char owner[32];
		int k;

		request_of(&rows[i], i, owner, &req);
		k = mcsd_registry_allocate(reg, &req, NULL, &err);
		if ((k >= 0) != rows[i].ok || (k < 0 && k != -EINVAL))
			fail_msg("names.tsv:%d %s \"%.40s\": registry says %d "
				 "%s",
				 rows[i].line, rows[i].kind_name, rows[i].name,
				 k, k < 0 ? err.msg : "");
	}
	mcsd_registry_close(reg);
}

static const char *str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_protocol(void **state)
{
	static const protocol_peer root = {.uid = 0, .may_allocate = true};
	mcsd_registry *reg = NULL;
	mcs_error err = {0};

	(void)state;
	assert_int_equal(mcsd_registry_open(":memory:", NULL, &reg, &err), 0);
	for (size_t i = 0; i < nrows; i++) {
		struct json_object *call = json_object_new_object();
		struct json_object *params = json_object_new_object();
		mcsd_registry_request req;
		protocol_result res;
		char owner[32];

		request_of(&rows[i], i, owner, &req);
		json_object_object_add(
			call, "method",
			json_object_new_string("io.mcskit.Labels.Allocate"));
		json_object_object_add(params, "owner",
				       json_object_new_string(req.owner));
		if (req.group)
			json_object_object_add(
				params, "group",
				json_object_new_string(req.group));
		if (req.type)
			json_object_object_add(
				params, "type",
				json_object_new_string(req.type));
		json_object_object_add(params, "persistent",
				       json_object_new_boolean(1));
		json_object_object_add(call, "parameters", params);
		assert_int_equal(mcsd_registry_begin(reg, NULL), 0);
		assert_int_equal(protocol_handle(reg, &root, call, &res), 0);
		assert_int_equal(mcsd_registry_commit(reg, NULL), 0);
		const char *error = str_at(res.reply, "error", NULL);
		const char *param =
			str_at(res.reply, "parameters", "parameter");
		bool ok = !error;
		bool refused = error &&
			       strcmp(error, "org.varlink.service."
					     "InvalidParameter") == 0 &&
			       param && strcmp(param, rows[i].kind_name) == 0;
		if (rows[i].ok ? !ok : !refused)
			fail_msg("names.tsv:%d %s \"%.40s\": protocol says %s",
				 rows[i].line, rows[i].kind_name, rows[i].name,
				 json_object_to_json_string(res.reply));
		json_object_put(res.reply);
		json_object_put(call);
	}
	mcsd_registry_close(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_protocol),
	};
	return cmocka_run_group_tests(tests, load_table, NULL);
}
