/* SPDX-License-Identifier: MIT */
/*
 * entry.h - the registry's values, shared by its rules (registry.h) and
 * its storage engines (store.h): an owner's row, the kinds of holding,
 * the counts of Status, and the limits of names and levels.  Plain
 * values: no pointers, nothing to free.  Private to mcsd.
 */
#ifndef MCSD_ENTRY_H
#define MCSD_ENTRY_H

#include <stdint.h>
#include <sys/types.h>

#include <mcs/label.h>
#include <mcs/names.h>

#define MCSD_REGISTRY_OWNER_MAX MCS_NAME_OWNER_MAX /* mcs/names.h */
#define MCSD_REGISTRY_LEVEL_MAX 32 /* "s0:c1022,c1023" and NUL fit */
/* The level runtimes use for privileged mounts; never handed out. */
#define MCSD_REGISTRY_RESERVED_LEVEL "s0:c1022,c1023"

typedef enum mcsd_registry_kind {
	MCSD_REGISTRY_LEASE = 0,       /* ends with its pid or its boot */
	MCSD_REGISTRY_RESERVATION = 1, /* persistent until released */
} mcsd_registry_kind;

/* One owner's row.  Plain value: no pointers, nothing to free. */
typedef struct mcsd_registry_entry {
	char owner[MCSD_REGISTRY_OWNER_MAX + 1];
	char group[MCSD_REGISTRY_OWNER_MAX + 1]; /* "" when none */
	char level[MCSD_REGISTRY_LEVEL_MAX];	 /* canonical "s0:cX,cY" */
	char type[MCS_NAME_MAX + 1];		 /* "" when none */
	mcsd_registry_kind kind;
	pid_t pid;	    /* 0 when none */
	uint64_t pid_start; /* /proc/<pid>/stat field 22, 0 when none */
	uid_t uid;
	int64_t created; /* unix time, seconds */
} mcsd_registry_entry;

typedef struct mcsd_registry_counts {
	uint64_t total;	      /* pairs in the range, minus excluded ones */
	uint64_t used;	      /* pairs held by an owner or a group */
	uint64_t free;	      /* pairs that can be handed out now (never
				 used + quarantined) */
	uint64_t quarantined; /* released pairs, reused LRU when no
				 never-used pair is left (part of free) */
	uint64_t excluded;    /* pairs in the range never handed out */
	uint64_t owners;      /* owner rows (>= used: groups share) */
} mcsd_registry_counts;

#endif
