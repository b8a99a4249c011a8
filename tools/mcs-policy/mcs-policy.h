/* SPDX-License-Identifier: MIT */
/*
 * mcs-policy.h - what the verbs of mcs-policy share: exit codes, the
 * parsed options, the policy loader.  One file per verb group
 * (mcs-policy.c: check/port/test/context; why.c; rank.c: try/rank;
 * store.c: install/remove/list/bool).
 */
#ifndef MCS_POLICY_TOOL_H
#define MCS_POLICY_TOOL_H

#include <stdbool.h>
#include <stdio.h>

#define EXIT_DENIED 1
#define EXIT_ERROR  2

struct policy_args {
	const char *policy;	/* --policy FILE */
	const char *store_root; /* --store-root DIR */
	const char *interfaces; /* --interfaces FILE */
	const char *type;	/* --type T (try) */
	const char *attribute;	/* --attribute A (rank, try without --type) */
	bool json;		/* --json */
};
extern struct policy_args arg;

/* Load --policy (or the default); prints the error.  0 or -1. */
int load_policy(void);
/* The directory of this program, for build-tree defaults. */
const char *program_dir(void);
void usage(FILE *f);

int cmd_why(int argc, char **argv);
int cmd_try(int argc, char **argv);
int cmd_rank(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_bool(int argc, char **argv);

#endif
