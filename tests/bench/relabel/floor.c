/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the syscall floor of a relabel: collect every path under ROOT
 * first (untimed), then time exactly one lsetxattr per inode with THREADS
 * threads, each on its own slice.  Prints "INODES SECONDS".
 *   floor ROOT LABEL THREADS
 */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>

static char **paths;
static size_t npaths, cap;
static const char *label;
static size_t label_len;
static unsigned nthreads;

static int collect(const char *p, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	if (npaths == cap) {
		cap = cap ? cap * 2 : 1 << 16;
		paths = realloc(paths, cap * sizeof(*paths));
		if (!paths)
			return -1;
	}
	paths[npaths] = strdup(p);
	return paths[npaths++] ? 0 : -1;
}

static void *work(void *arg)
{
	size_t t = (size_t)arg;
	size_t lo = npaths * t / nthreads, hi = npaths * (t + 1) / nthreads;

	for (size_t i = lo; i < hi; i++)
		if (lsetxattr(paths[i], "security.selinux", label, label_len,
			      0) < 0) {
			perror(paths[i]);
			exit(1);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	struct timespec a, b;

	if (argc != 4) {
		fprintf(stderr, "usage: floor ROOT LABEL THREADS\n");
		return 2;
	}
	label = argv[2];
	label_len = strlen(label) + 1;
	nthreads = (unsigned)atoi(argv[3]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	if (nftw(argv[1], collect, 64, FTW_PHYS) < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t t = 0; t < nthreads; t++)
		pthread_create(&tid[t], NULL, work, (void *)t);
	for (size_t t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%zu %.6f\n", npaths,
	       (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
