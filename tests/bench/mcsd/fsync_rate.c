/*
 * fsync_rate: the machine's single-stream durable write rate.  Writes 64
 * bytes and calls fdatasync() in a loop for ~2 s on a file in the given
 * directory (the same filesystem as the mcsd database) and prints
 * "fdatasync/s <rate>".  The mcsd bench compares daemon throughput to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char path[4096], buf[64];
	double secs = argc > 2 ? atof(argv[2]) : 2.0, t0, t;
	unsigned long n = 0;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: fsync_rate DIR [SECONDS]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/fsync_rate.XXXXXX", argv[1]);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fsync_rate: %s: %s\n", path, strerror(errno));
		return 1;
	}
	unlink(path);
	memset(buf, 'x', sizeof(buf));
	t0 = now_s();
	do {
		if (pwrite(fd, buf, sizeof(buf), (off_t)(n % 64) * 4096) < 0 ||
		    fdatasync(fd) < 0) {
			fprintf(stderr, "fsync_rate: %s: %s\n", argv[1],
				strerror(errno));
			close(fd);
			return 1;
		}
		n++;
		t = now_s();
	} while (t - t0 < secs);
	close(fd);
	printf("fdatasync/s %.0f\n", n / (t - t0));
	return 0;
}
