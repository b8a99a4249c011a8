/* SPDX-License-Identifier: MIT */
/*
 * mcsctl.h - what the mcsctl verbs share: global options, the verb
 * signature, and the printers (text or --json).
 */
#ifndef MCSCTL_H
#define MCSCTL_H

#include <stdbool.h>

#include <mcs/client.h>

struct mcsctl_globals {
	const char *socket; /* --socket, NULL: default */
	bool json;	    /* --json */
};

/* A verb: argv[0] is the verb name; returns the exit status. */
typedef int (*mcsctl_cmd_fn)(const struct mcsctl_globals *g, int argc,
			     char **argv);

int cmd_allocate(const struct mcsctl_globals *g, int argc, char **argv);
int cmd_release(const struct mcsctl_globals *g, int argc, char **argv);
int cmd_lookup(const struct mcsctl_globals *g, int argc, char **argv);
int cmd_list(const struct mcsctl_globals *g, int argc, char **argv);
int cmd_status(const struct mcsctl_globals *g, int argc, char **argv);
int cmd_migrate(const struct mcsctl_globals *g, int argc, char **argv);

/* Connect or print the error once; NULL on failure. */
mcs_client *mcsctl_connect(const struct mcsctl_globals *g);
/* Print "mcsctl: <msg>" to stderr and return 1. */
int mcsctl_fail(const mcs_error *err);
/* Print one lease (text: key: value lines; --json: an object). */
void mcsctl_print_lease(const struct mcsctl_globals *g, const mcs_lease *l);
/* Print leases as a table or a JSON array. */
void mcsctl_print_leases(const struct mcsctl_globals *g, const mcs_lease *v,
			 size_t n);
/* Confirm a release (--json: {"owner": ID, "released": true}). */
void mcsctl_print_released(const struct mcsctl_globals *g, const char *owner);
void mcsctl_print_status(const struct mcsctl_globals *g, const mcs_status *st);

#endif
