/* SPDX-License-Identifier: MIT */
/*
 * proc.h - process liveness for leases (see proc.c).  Private to mcsd.
 */
#ifndef MCSD_PROC_H
#define MCSD_PROC_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Start time of pid (clock ticks since boot, /proc/<pid>/stat field 22)
 * into *ret.  Returns 0, -ESRCH (no such process), -errno.
 */
int proc_pid_start_time(pid_t pid, uint64_t *ret);

/*
 * Open a pidfd (O_CLOEXEC) for pid that becomes readable when the process
 * exits, and check it is still the process that started at start_time
 * (0: no check).  Returns the fd (caller closes), -ESRCH (gone or
 * reused), -errno.
 */
int proc_pidfd_open(pid_t pid, uint64_t start_time);

/*
 * The real uid of the process behind pidfd (pid, opened with
 * proc_pidfd_open) into *ret: read from /proc/<pid>/status, then the pidfd
 * checked still alive, so the uid is that process's and not of a later
 * one with its number.  Returns 0, -ESRCH (gone), -errno.
 */
int proc_pidfd_uid(int pidfd, pid_t pid, uid_t *ret);

/* The current boot id (36 chars + NUL) into buf.  Returns 0 or -errno. */
int proc_boot_id(char buf[static 37]);

#endif
