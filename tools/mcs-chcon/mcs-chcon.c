/* SPDX-License-Identifier: MIT */
/*
 * mcs-chcon - chcon-compatible relabeling plus container volume modes
 * (--shared, --private, --restore): parses the command line, resolves the
 * target context (asking mcsd for --private --owner), runs mcs_relabel()
 * on each path and reports (report.c).  Exit 0: every file carries its
 * label; 1: something failed; 2: usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <selinux/selinux.h>

#include <mcs/client.h>
#include <mcs/label.h>
#include <mcs/relabel.h>

#include "mcs-chcon.h"

enum mode { M_FULL, M_PARTIAL, M_REFERENCE, M_SHARED, M_PRIVATE, M_RESTORE };

enum {
	OPT_REFERENCE = 256,
	OPT_DEREFERENCE,
	OPT_SHARED,
	OPT_PRIVATE,
	OPT_OWNER,
	OPT_SOCKET,
	OPT_RESTORE,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_THREADS,
	OPT_CROSS_MOUNTS,
	OPT_NO_REMEMBER,
	OPT_STATE_DIR,
	OPT_HELP,
};

static void usage(FILE *f)
{
	fputs("Usage: mcs-chcon [OPTION]... CONTEXT FILE...\n"
	      "  or:  mcs-chcon [OPTION]... [-u USER] [-r ROLE] [-t TYPE] "
	      "[-l RANGE] FILE...\n"
	      "  or:  mcs-chcon [OPTION]... --reference=RFILE FILE...\n"
	      "  or:  mcs-chcon [OPTION]... --shared PATH...\n"
	      "  or:  mcs-chcon [OPTION]... --private LEVEL PATH...\n"
	      "  or:  mcs-chcon [OPTION]... --private [LEVEL] --owner ID "
	      "PATH...\n"
	      "  or:  mcs-chcon [OPTION]... --restore PATH...\n"
	      "Options:\n"
	      "  -R, --recursive      relabel directories and their contents\n"
	      "  -h, --no-dereference relabel a symlink argument, not its "
	      "target\n"
	      "      --dereference    relabel a symlink argument's target "
	      "(default)\n"
	      "  -v, --verbose        print every change\n"
	      "  -u, -r, -t, -l       set only the user, role, type or range\n"
	      "                       (-t also sets the file type of volume "
	      "modes)\n"
	      "      --shared         svirt_sandbox_file_t:s0, recursive\n"
	      "      --private        svirt_sandbox_file_t at LEVEL or at the\n"
	      "                       level mcsd holds for --owner ID\n"
	      "      --owner ID       with --private: reserve ID's level "
	      "(or LEVEL) in mcsd\n"
	      "      --socket PATH    mcsd's socket "
	      "(default " MCS_DEFAULT_SOCKET ")\n"
	      "      --restore        put back the labels from before a volume "
	      "relabel\n"
	      "      --no-remember    volume modes: keep no restore journal "
	      "(faster)\n"
	      "      --state-dir DIR  restore journals "
	      "(default " MCS_RELABEL_STATE_DIR ")\n"
	      "      --cross-mounts   enter directories of other mounts\n"
	      "      --threads N      worker threads (default: online CPUs)\n"
	      "      --dry-run        change nothing, count what would change\n"
	      "      --json           print the summary as JSON on stdout\n"
	      "      --help           this text\n",
	      f);
}

/* The label RFILE carries (dereferenced, as chcon does). */
static int reference_label(const char *rfile, char **ret)
{
	char buf[4096];
	ssize_t n = getxattr(rfile, "security.selinux", buf, sizeof(buf) - 1);

	if (n < 0) {
		fprintf(stderr, "mcs-chcon: cannot read the label of %s: %s\n",
			rfile, errno == ENODATA ? "no label" : strerror(errno));
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\0')
		n--;
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -1;
}

/* Full context check: our syntax always; the loaded policy when there is
 * one (this host has no SELinux, so that branch runs only on SELinux
 * hosts). */
static int validate_context(const char *ctx)
{
	mcs_error err = {0};
	mcs_context c;

	if (mcs_context_parse(ctx, &c, &err) < 0) {
		fprintf(stderr, "mcs-chcon: invalid context %s: %s\n", ctx,
			err.msg);
		return -1;
	}
	if (is_selinux_enabled() > 0 && security_check_context(ctx) < 0) {
		fprintf(stderr,
			"mcs-chcon: context %s is not valid in the loaded "
			"policy\n",
			ctx);
		return -1;
	}
	return 0;
}

/* Ask mcsd for owner's level (want: that level, or NULL: any), as a
 * persistent reservation. */
static int owner_level(const char *socket, const char *owner, const char *want,
		       char *level, size_t size)
{
	mcs_error err = {0};
	mcs_client *c = NULL;
	mcs_lease lease;
	mcs_alloc_request req = {
		.owner = owner, .level = want, .persistent = true};
	int r = mcs_client_connect(socket, &c, &err);

	if (r >= 0)
		r = mcs_client_allocate(c, &req, &lease, &err);
	mcs_client_free(c);
	if (r < 0) {
		fprintf(stderr, "mcs-chcon: mcsd (%s): %s\n",
			socket ? socket : MCS_DEFAULT_SOCKET, err.msg);
		return -1;
	}
	snprintf(level, size, "%s", lease.level);
	return 0;
}

static int parse_threads(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);

	if (errno || *end || end == s || n < 1 || n > 64) {
		fprintf(stderr, "mcs-chcon: --threads takes 1..64, not %s\n",
			s);
		return -1;
	}
	*ret = (unsigned)n;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"recursive", no_argument, NULL, 'R'},
		{"no-dereference", no_argument, NULL, 'h'},
		{"dereference", no_argument, NULL, OPT_DEREFERENCE},
		{"verbose", no_argument, NULL, 'v'},
		{"user", required_argument, NULL, 'u'},
		{"role", required_argument, NULL, 'r'},
		{"type", required_argument, NULL, 't'},
		{"range", required_argument, NULL, 'l'},
		{"reference", required_argument, NULL, OPT_REFERENCE},
		{"shared", no_argument, NULL, OPT_SHARED},
		{"private", no_argument, NULL, OPT_PRIVATE},
		{"owner", required_argument, NULL, OPT_OWNER},
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"restore", no_argument, NULL, OPT_RESTORE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"json", no_argument, NULL, OPT_JSON},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"cross-mounts", no_argument, NULL, OPT_CROSS_MOUNTS},
		{"no-remember", no_argument, NULL, OPT_NO_REMEMBER},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	mcs_relabel_opts o = {0};
	struct chcon_report rep = {0};
	const char *reference = NULL, *owner = NULL, *socket = NULL;
	bool shared = false, private = false, restore = false, remember = true;
	bool follow = true, recursive = false;
	char *refctx = NULL;
	char ctx[MCS_LABEL_MAX + MCS_LEVEL_STR_MAX];
	char level[MCS_LEVEL_STR_MAX];
	enum mode mode;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "Rhvu:r:t:l:", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'R':
			recursive = true;
			break;
		case 'h':
			follow = false;
			break;
		case OPT_DEREFERENCE:
			follow = true;
			break;
		case 'v':
			rep.verbose = true;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'r':
			o.role = optarg;
			break;
		case 't':
			o.type = optarg;
			break;
		case 'l':
			o.range = optarg;
			break;
		case OPT_REFERENCE:
			reference = optarg;
			break;
		case OPT_SHARED:
			shared = true;
			break;
		case OPT_PRIVATE:
			private
			= true;
			break;
		case OPT_OWNER:
			owner = optarg;
			break;
		case OPT_SOCKET:
			socket = optarg;
			break;
		case OPT_RESTORE:
			restore = true;
			break;
		case OPT_DRY_RUN:
			o.flags |= MCS_RELABEL_DRY_RUN;
			break;
		case OPT_JSON:
			rep.json = true;
			break;
		case OPT_THREADS:
			if (parse_threads(optarg, &o.threads) < 0)
				return 2;
			break;
		case OPT_CROSS_MOUNTS:
			o.flags |= MCS_RELABEL_CROSS_MOUNTS;
			break;
		case OPT_NO_REMEMBER:
			remember = false;
			break;
		case OPT_STATE_DIR:
			o.state_dir = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (shared + private + restore + (reference != NULL) > 1) {
		fputs("mcs-chcon: --shared, --private, --restore and "
		      "--reference exclude each other\n",
		      stderr);
		return 2;
	}
	if (owner && !private) {
		fputs("mcs-chcon: --owner goes with --private\n", stderr);
		return 2;
	}
	if (shared || private || restore) {
		if (o.user || o.role || o.range) {
			fputs("mcs-chcon: volume modes take only -t\n", stderr);
			return 2;
		}
		const char *type = o.type ? o.type : MCS_SANDBOX_FILE_TYPE;
		o.type = NULL;
		mode = shared ? M_SHARED : private ? M_PRIVATE : M_RESTORE;
		/* --private LEVEL [--owner ID]: the first operand is the
		 * LEVEL (getopt moves it after the options).  With --owner it
		 * is optional: an operand that parses as a level is one (a
		 * directory named like a level is written ./NAME). */
		mcs_level probe;
		bool has_level = mode == M_PRIVATE && optind < argc &&
				 (!owner || mcs_level_parse(argv[optind],
							    &probe, NULL) >= 0);
		if (mode == M_PRIVATE && !owner && !has_level) {
			fputs("mcs-chcon: --private needs a LEVEL or "
			      "--owner ID\n",
			      stderr);
			return 2;
		}
		if (has_level) {
			const char *l = argv[optind++];
			mcs_error err = {0};
			mcs_level lv;
			if (mcs_level_parse(l, &lv, &err) < 0) {
				fprintf(stderr,
					"mcs-chcon: invalid level %s: %s\n", l,
					err.msg);
				return 1;
			}
			if (mcs_level_cat_count(&lv) == 0) {
				fprintf(stderr,
					"mcs-chcon: --private %s: a private "
					"level needs categories "
					"(s0:cX,cY); use --shared for s0\n",
					l);
				return 1;
			}
			mcs_level_format(&lv, level, sizeof(level));
		}
		if (optind >= argc) {
			fputs("mcs-chcon: no PATH given\n", stderr);
			return 2;
		}
		if (mode == M_PRIVATE && owner &&
		    owner_level(socket, owner, has_level ? level : NULL, level,
				sizeof(level)) < 0)
			return 1;
		snprintf(ctx, sizeof(ctx), "system_u:object_r:%s:%s", type,
			 mode == M_SHARED ? "s0" : level);
		o.flags |= MCS_RELABEL_RECURSIVE;
		if (remember && mode != M_RESTORE)
			o.flags |= MCS_RELABEL_REMEMBER;
		/* A volume named through a symlink is its target, as for a
		 * bind mount; the protected check sees the target. */
		follow = true;
	} else if (reference) {
		mode = M_REFERENCE;
		if (reference_label(reference, &refctx) < 0)
			return 1;
		snprintf(ctx, sizeof(ctx), "%s", refctx);
		free(refctx);
	} else if (o.user || o.role || o.type || o.range) {
		mode = M_PARTIAL;
	} else {
		if (optind >= argc) {
			usage(stderr);
			return 2;
		}
		mode = M_FULL;
		snprintf(ctx, sizeof(ctx), "%s", argv[optind++]);
	}
	if (optind >= argc) {
		fputs("mcs-chcon: no FILE given\n", stderr);
		return 2;
	}
	if (mode != M_PARTIAL && mode != M_RESTORE) {
		if (validate_context(ctx) < 0)
			return 1;
		o.context = ctx;
	}
	if (recursive)
		o.flags |= MCS_RELABEL_RECURSIVE;
	if (follow)
		o.flags |= MCS_RELABEL_FOLLOW_TOP;

	report_setup(&rep, &o);
	for (int i = optind; i < argc; i++) {
		mcs_relabel_result res = {0};
		mcs_error err = {0};
		int r;

		rep.top = argv[i];
		if (mode == M_RESTORE)
			r = mcs_relabel_restore(argv[i], &o, &res, &err);
		else
			r = mcs_relabel(argv[i], &o, &res, &err);
		report_path(&rep, argv[i], &res, r, &err);
		if (r < 0)
			status = 1;
	}
	report_finish(&rep, mode == M_RESTORE ? "(restore)" : o.context,
		      argv + optind, argc - optind, status);
	return status;
}
