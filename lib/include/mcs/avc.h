/* SPDX-License-Identifier: MIT */
/*
 * mcs/avc.h - read the access decisions a kernel logged (AVC lines) and
 * the access lists recorded from a permissive run, for `mcs-policy why`,
 * `try` and `rank`.
 *
 * Accepted lines (lib/avc.c):
 *   audit.log  type=AVC msg=audit(1700000000.123:45): avc:  denied  { read }
 *              for  pid=1 comm="sh" ... scontext=S tcontext=T tclass=C
 *              permissive=0
 *   dmesg      [   14.84] audit: type=1400 audit(...): avc:  denied ...
 *   journal    ... kernel: audit: type=1400 ... avc:  denied ...
 *   USER_AVC   type=USER_AVC msg=audit(...): pid=1 ... msg='avc:  denied ...'
 *   access     SCONTEXT TCONTEXT CLASS PERM[,PERM...]  (one access a line)
 * Other lines (other audit records, kernel messages, '#' comments) are
 * not accesses and are skipped without complaint.  A line that is an AVC
 * record but damaged (truncated, a NUL byte, too long, an unterminated
 * quote, a field twice) is counted as malformed and skipped.
 */
#ifndef MCS_AVC_H
#define MCS_AVC_H

#include <stdbool.h>
#include <stddef.h>

#include <mcs/error.h>
#include <mcs/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest line considered (longer AVC lines are malformed). */
#define MCS_AVC_LINE_MAX 65536
/* Most records one read returns. */
#define MCS_AVC_RECORDS_MAX 1000000

typedef struct mcs_avc {
	unsigned lineno; /* 1-based line in the input (0: not from a file) */
	bool denied;	 /* "denied"; false: "granted" (auditallow) */
	bool access;	 /* an access-list line, not a logged decision */
	int permissive;	 /* permissive=1 / 0; -1 when the line has none */
	const char *scontext, *tcontext, *tclass;
	const char *comm; /* comm="..." or NULL */
	const char *perms[MCS_POLICY_PERMS_MAX];
	size_t nperms;
	char *storage; /* owns every string above */
} mcs_avc;

/*
 * Parse one line (len bytes, need not be NUL-terminated; a trailing
 * newline is ignored).  Returns 1 and fills *ret (release with
 * mcs_avc_done()) when the line is an access, 0 when it is not one (other
 * text), -EINVAL when it is a damaged AVC record (err says what),
 * -ENOMEM.  Never reads past len.  This is the fuzzing entry point.
 */
MCS_EXPORT int mcs_avc_parse_line(const char *line, size_t len, mcs_avc *ret,
				  mcs_error *err);

/* Free what *avc owns; *avc is then empty. */
MCS_EXPORT void mcs_avc_done(mcs_avc *avc);

/*
 * Read every access from path ("-" for standard input) into a new array
 * *ret (release with mcs_avc_free()) of *ret_n records, in input order.
 * Regular files (or stdin) only, at most 256 MiB.  *ret_malformed (may be
 * NULL) counts damaged AVC lines that were skipped.  Returns 0, -errno
 * (open/read), -E2BIG (more than MCS_AVC_RECORDS_MAX), -ENOMEM.
 */
MCS_EXPORT int mcs_avc_read(const char *path, mcs_avc **ret, size_t *ret_n,
			    size_t *ret_malformed, mcs_error *err);
MCS_EXPORT void mcs_avc_free(mcs_avc *avcs, size_t n);

#ifdef __cplusplus
}
#endif
#endif
