/* SPDX-License-Identifier: MIT */
/*
 * alloc.h - the in-memory index of category pairs behind the registry
 * (internal; no sqlite here).  See alloc.c.
 */
#ifndef MCS_ALLOC_H
#define MCS_ALLOC_H

#include <stdint.h>

/* State of one pair index. */
enum {
	ALLOC_FREE = 0,	   /* never used: in the random-pick set */
	ALLOC_QUARANTINED, /* released: reused LRU when no free pair left */
	ALLOC_HELD,	   /* held by an owner or a group */
	ALLOC_EXCLUDED,	   /* never handed out */
};

typedef struct alloc alloc;

/* New index of n pairs, all ALLOC_FREE.  0 or -ENOMEM/-EINVAL. */
int alloc_new(uint32_t n, alloc **ret);
void alloc_free(alloc *a);
/* Back to all ALLOC_FREE, quarantine empty. */
void alloc_reset(alloc *a);

uint32_t alloc_size(const alloc *a);
int alloc_state(const alloc *a, uint32_t idx);
/*
 * Move idx to state.  Entering ALLOC_QUARANTINED appends idx at the tail
 * of the quarantine (most recently released); callers loading from disk
 * therefore add quarantined pairs in release order.  O(1).
 */
void alloc_set(alloc *a, uint32_t idx, int state);
/*
 * Choose the pair the next allocation gets, without taking it: uniform at
 * random over the free pairs, else the least recently released
 * quarantined pair.  0, -ENOSPC (nothing left) or -errno of getrandom.
 */
int alloc_choose(const alloc *a, uint32_t *ret_idx);

uint32_t alloc_count(const alloc *a, int state);

/* Uniform random integer in [0, bound), bound > 0 (getrandom, unbiased). */
int alloc_random_below(uint32_t bound, uint32_t *ret);

#endif
