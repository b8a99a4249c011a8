/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the in-memory free-pair index of the registry and the choice
 * of the next pair.  It owns no durable state: store_sqlite.c rebuilds it from
 * sqlite at open (and after a rollback) and mirrors every committed change.
 *
 * Layout (n = number of pairs in the range, indices from label.h):
 *   perm[0..n)   a permutation of all indices; perm[0..nfree) are exactly
 *                the ALLOC_FREE ones (a "sparse set"), in no order.
 *   pos[i]       position of index i in perm (pos[perm[p]] == p).
 *   state[i]     ALLOC_* of index i.
 *   prev/next    the quarantine: a doubly linked list of ALLOC_QUARANTINED
 *                indices, head = least recently released.
 * Choosing is O(1): a uniform r in [0, nfree) gives perm[r]; taking or
 * returning a free index is a swap with the boundary.  No retry loop, so
 * the cost is the same at 0% and 99.9% full.  Memory: 17 bytes per pair
 * (8.5 MiB for c0.c1023).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>

#include "alloc.h"

#define NIL UINT32_MAX

struct alloc {
	uint32_t n;	       /* number of indices */
	uint32_t nfree;	       /* perm[0..nfree) are ALLOC_FREE */
	uint32_t *perm;	       /* permutation of 0..n-1 */
	uint32_t *pos;	       /* inverse of perm */
	uint32_t *prev, *next; /* quarantine links, NIL at the ends */
	uint32_t qhead, qtail; /* oldest / newest quarantined, NIL if none */
	uint8_t *state;	       /* ALLOC_* per index */
	uint32_t count[4];     /* indices per state */
};

void alloc_reset(alloc *a)
{
	for (uint32_t i = 0; i < a->n; i++) {
		a->perm[i] = i;
		a->pos[i] = i;
		a->prev[i] = a->next[i] = NIL;
		a->state[i] = ALLOC_FREE;
	}
	a->nfree = a->n;
	a->qhead = a->qtail = NIL;
	a->count[ALLOC_FREE] = a->n;
	a->count[ALLOC_QUARANTINED] = a->count[ALLOC_HELD] =
		a->count[ALLOC_EXCLUDED] = 0;
}

int alloc_new(uint32_t n, alloc **ret)
{
	alloc *a;

	if (n == 0 || n == NIL)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->n = n;
	a->perm = malloc(sizeof(uint32_t) * n);
	a->pos = malloc(sizeof(uint32_t) * n);
	a->prev = malloc(sizeof(uint32_t) * n);
	a->next = malloc(sizeof(uint32_t) * n);
	a->state = malloc(n);
	if (!a->perm || !a->pos || !a->prev || !a->next || !a->state) {
		alloc_free(a);
		return -ENOMEM;
	}
	alloc_reset(a);
	*ret = a;
	return 0;
}

void alloc_free(alloc *a)
{
	if (!a)
		return;
	free(a->perm);
	free(a->pos);
	free(a->prev);
	free(a->next);
	free(a->state);
	free(a);
}

uint32_t alloc_size(const alloc *a)
{
	return a->n;
}

int alloc_state(const alloc *a, uint32_t idx)
{
	return a->state[idx];
}

uint32_t alloc_count(const alloc *a, int state)
{
	return a->count[state];
}

/* Swap the entries at positions p and q of perm, keeping pos in step. */
static void alloc_swap(alloc *a, uint32_t p, uint32_t q)
{
	uint32_t ip = a->perm[p], iq = a->perm[q];

	a->perm[p] = iq;
	a->pos[iq] = p;
	a->perm[q] = ip;
	a->pos[ip] = q;
}

static void alloc_leave(alloc *a, uint32_t idx)
{
	switch (a->state[idx]) {
	case ALLOC_FREE:
		/* move idx to the last free slot, then shrink the set */
		alloc_swap(a, a->pos[idx], a->nfree - 1);
		a->nfree--;
		break;
	case ALLOC_QUARANTINED:
		if (a->prev[idx] != NIL)
			a->next[a->prev[idx]] = a->next[idx];
		else
			a->qhead = a->next[idx];
		if (a->next[idx] != NIL)
			a->prev[a->next[idx]] = a->prev[idx];
		else
			a->qtail = a->prev[idx];
		a->prev[idx] = a->next[idx] = NIL;
		break;
	default:
		break;
	}
	a->count[a->state[idx]]--;
}

static void alloc_enter(alloc *a, uint32_t idx, int state)
{
	switch (state) {
	case ALLOC_FREE:
		alloc_swap(a, a->pos[idx], a->nfree);
		a->nfree++;
		break;
	case ALLOC_QUARANTINED:
		a->prev[idx] = a->qtail;
		a->next[idx] = NIL;
		if (a->qtail != NIL)
			a->next[a->qtail] = idx;
		else
			a->qhead = idx;
		a->qtail = idx;
		break;
	default:
		break;
	}
	a->state[idx] = (uint8_t)state;
	a->count[state]++;
}

void alloc_set(alloc *a, uint32_t idx, int state)
{
	if (a->state[idx] == state && state != ALLOC_QUARANTINED)
		return;
	alloc_leave(a, idx);
	alloc_enter(a, idx, state);
}

/*
 * Random words from getrandom(), 32 per system call (one call per pick
 * cost a few percent of mcsd's registry thread).  Per thread; a forked
 * child drops what its parent had buffered, so the two never share a
 * pick.
 */
#define RANDOM_WORDS 32
static _Thread_local uint64_t random_buf[RANDOM_WORDS];
static _Thread_local unsigned random_left;
static pthread_once_t random_once = PTHREAD_ONCE_INIT;

static void random_forget(void)
{
	random_left = 0;
}

static void random_init(void)
{
	pthread_atfork(NULL, NULL, random_forget);
}

static int random_word(uint64_t *ret)
{
	pthread_once(&random_once, random_init);
	while (random_left == 0) {
		ssize_t k = getrandom(random_buf, sizeof(random_buf), 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		random_left = (unsigned)((size_t)k / sizeof(uint64_t));
	}
	*ret = random_buf[--random_left];
	random_buf[random_left] = 0; /* used once, then gone */
	return 0;
}

int alloc_random_below(uint32_t bound, uint32_t *ret)
{
	/* Reject the low (2^64 mod bound) values so that r % bound is
	 * exactly uniform. */
	uint64_t threshold = (0 - (uint64_t)bound) % bound;

	for (;;) {
		uint64_t r = 0;
		int k = random_word(&r);

		if (k < 0)
			return k;
		if (r >= threshold) {
			*ret = (uint32_t)(r % bound);
			return 0;
		}
	}
}

int alloc_choose(const alloc *a, uint32_t *ret_idx)
{
	if (a->nfree > 0) {
		uint32_t r;
		int k = alloc_random_below(a->nfree, &r);

		if (k < 0)
			return k;
		*ret_idx = a->perm[r];
		return 0;
	}
	if (a->qhead != NIL) {
		*ret_idx = a->qhead;
		return 0;
	}
	return -ENOSPC;
}
