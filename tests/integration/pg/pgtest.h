/* SPDX-License-Identifier: MIT */
/*
 * pgtest.h - shared by the PostgreSQL backend's tests: run under
 * pg-harness.sh (re-exec through it when MCS_PG_CONNINFO is unset), a
 * fresh database per test, and SQL reads of the rows a test asserts on.
 */
#ifndef MCS_PGTEST_H
#define MCS_PGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <postgresql/libpq-fe.h>

/* Run argv[0] under the harness unless it already runs under one. */
static inline void pgtest_harness(char **argv)
{
	const char *h = getenv("PG_HARNESS");

	if (getenv("MCS_PG_CONNINFO"))
		return;
	if (!h)
		h = "tests/integration/pg/pg-harness.sh";
	execlp("sh", "sh", h, "run", argv[0], (char *)NULL);
	perror("exec pg-harness.sh");
	exit(1);
}

/* Drop and create database name; its conninfo (static buffer). */
static inline const char *pgtest_fresh_db(const char *name)
{
	static char ci[1024];
	char sql[256];
	PGconn *c = PQconnectdb(getenv("MCS_PG_CONNINFO"));

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
		exit(1);
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	PQclear(PQexec(c, sql));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pgtest: %s", PQresultErrorMessage(r));
		exit(1);
	}
	PQclear(r);
	PQfinish(c);
	/* the last dbname of a conninfo wins */
	snprintf(ci, sizeof(ci), "%s dbname=%s", getenv("MCS_PG_CONNINFO"),
		 name);
	return ci;
}

/* The first column of the first row of sql on conninfo as a number;
 * -1 on an error (printed), -2 when there is no row. */
static inline long long pgtest_int(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	long long v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			v = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -2;
		else
			fprintf(stderr, "pgtest: %s: %s", sql,
				PQresultErrorMessage(r));
		PQclear(r);
	} else {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return v;
}

/* Run sql; 0, or -1 with the error kept in err (may be NULL). */
static inline int pgtest_exec(const char *conninfo, const char *sql, char *err,
			      size_t size)
{
	PGconn *c = PQconnectdb(conninfo);
	int k = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		ExecStatusType st = PQresultStatus(r);
		k = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
		if (k < 0 && err)
			snprintf(err, size, "%s", PQresultErrorMessage(r));
		PQclear(r);
	}
	PQfinish(c);
	return k;
}

/* sh pg-harness.sh VERB... inside the harness (restart, stop, start). */
static inline int pgtest_ctl(const char *verb)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sh '%s' %s", getenv("MCS_PG_HARNESS"),
		 verb);
	return system(cmd);
}

#endif
