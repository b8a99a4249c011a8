/* SPDX-License-Identifier: MIT */
/*
 * mktree.c - build a benchmark volume: ROOT/aNN/dNNN/ directories of 1000
 * entries each (1% of them symlinks to a sibling file), every inode
 * labeled LABEL ("-": unlabeled).  Prints the number of inodes.
 *   mktree ROOT INODES LABEL
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *label;
static unsigned long made;

static void mk(const char *path, int kind)
{
	int r = 0;

	if (kind == 'd') {
		r = mkdir(path, 0755);
	} else if (kind == 'f') {
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		r = fd < 0 ? -1 : close(fd);
	}
	if (r < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	if (label && lsetxattr(path, "security.selinux", label,
			       strlen(label) + 1, 0) < 0) {
		perror(path);
		exit(1);
	}
	made++;
}

int main(int argc, char **argv)
{
	char p[4096], t[4096];

	if (argc != 4) {
		fprintf(stderr, "usage: mktree ROOT INODES LABEL\n");
		return 2;
	}
	unsigned long want = strtoul(argv[2], NULL, 10);
	label = strcmp(argv[3], "-") ? argv[3] : NULL;
	mk(argv[1], 'd');
	for (unsigned a = 0; made < want; a++) {
		snprintf(p, sizeof(p), "%s/a%02u", argv[1], a);
		mk(p, 'd');
		for (unsigned d = 0; d < 100 && made < want; d++) {
			snprintf(p, sizeof(p), "%s/a%02u/d%03u", argv[1], a, d);
			mk(p, 'd');
			for (unsigned f = 0; f < 1000 && made < want; f++) {
				snprintf(p, sizeof(p), "%s/a%02u/d%03u/f%u",
					 argv[1], a, d, f);
				if (f % 100 == 99) {
					snprintf(t, sizeof(t), "f%u", f - 1);
					if (symlink(t, p) < 0 &&
					    errno != EEXIST) {
						perror(p);
						return 1;
					}
					mk(p, 'l');
				} else {
					mk(p, 'f');
				}
			}
		}
	}
	printf("%lu\n", made);
	return 0;
}
