/* SPDX-License-Identifier: MIT */
/*
 * mcs-chcon.h - what mcs-chcon's parts share: the report (per-file errors,
 * -v lines, the progress line, the summary and --json).
 */
#ifndef MCS_CHCON_H
#define MCS_CHCON_H

#include <stdbool.h>

#include <mcs/error.h>
#include <mcs/relabel.h>

struct chcon_report {
	bool verbose;	 /* -v: a line per change */
	bool json;	 /* --json: the summary as JSON on stdout */
	bool progress;	 /* stderr is a terminal */
	const char *top; /* path being relabeled now */
	mcs_relabel_result total;
	int failed_paths;
};

/* Install the callbacks of o that print through rep. */
void report_setup(struct chcon_report *rep, mcs_relabel_opts *o);
/* One path done: add its counts, report its error once (r < 0). */
void report_path(struct chcon_report *rep, const char *path,
		 const mcs_relabel_result *res, int r, const mcs_error *err);
/* The summary line (stderr), and the JSON object with --json. */
void report_finish(struct chcon_report *rep, const char *target,
		   char *const *paths, int npaths, int status);

#endif
