/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the machine's floor under the mcsd latency figures: the closed
 * loop of loadgen.c (one thread and one connection per client, a request
 * sent, its reply awaited, the next sent) against a server that does no
 * work at all.  The server, a forked process with one thread and epoll
 * like mcsd's loop thread, answers each NUL-terminated message at once
 * with a fixed reply; requests and replies have the sizes of a real
 * Allocate call and reply.  No JSON, no sqlite, no fdatasync: what the
 * Unix socket and scheduling the client threads cost here, which no
 * daemon on this machine can go below.
 *   floor SOCKET CLIENTS PER_CLIENT
 * Prints loadgen's summary line (latency.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latency.h"

/* What mcsd answers an Allocate with (219 bytes with the NUL). */
static const char reply[] =
	"{\"parameters\":{\"owner\":\"bench-prefix-0-0\",\"level\":"
	"\"s0:c543,c572\",\"process_label\":\"system_u:system_r:"
	"svirt_lxc_net_t:s0:c543,c572\",\"mount_label\":\"system_u:object_r:"
	"svirt_sandbox_file_t:s0:c543,c572\",\"persistent\":false}}";

static struct sockaddr_un addr = {.sun_family = AF_UNIX};
static unsigned long per;

/* The server: answer every NUL of every connection; runs until killed. */
static void serve(int lfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	char buf[16384];

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		_exit(1);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL,
						SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct epoll_event cev = {.events = EPOLLIN,
							  .data.fd = c};
				if (c >= 0)
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				continue;
			}
			ssize_t k = read(fd, buf, sizeof(buf));
			if (k <= 0) {
				if (k == 0 || errno != EAGAIN)
					close(fd);
				continue;
			}
			/* A closed loop has one reply outstanding at most:
			 * it fits in the socket buffer. */
			for (ssize_t j = 0; j < k; j++)
				if (buf[j] == '\0' &&
				    write(fd, reply, sizeof(reply)) !=
					    (ssize_t)sizeof(reply))
					close(fd);
		}
	}
}

static void *client(void *arg)
{
	struct lat_thread *t = arg;
	char req[256], in[1024];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		t->failed = -errno;
		return NULL;
	}
	for (unsigned long i = 0; i < per; i++) {
		/* the bytes of loadgen's Allocate call */
		int len =
			snprintf(req, sizeof(req),
				 "{\"method\":\"io.mcskit.Labels.Allocate\","
				 "\"parameters\":{\"owner\":\"bench-%u-%lu\"}}",
				 t->idx, i);
		double a = lat_now_us();
		if (write(fd, req, (size_t)len + 1) != len + 1) {
			t->failed = -EIO;
			break;
		}
		for (;;) {
			ssize_t k = read(fd, in, sizeof(in));
			if (k <= 0) {
				t->failed = -EIO;
				goto out;
			}
			if (in[k - 1] == '\0')
				break;
		}
		if (lat_record(t, lat_now_us() - a) < 0)
			break;
		t->n++;
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: floor SOCKET CLIENTS PER_CLIENT\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	unsigned clients = (unsigned)atoi(argv[2]);
	per = strtoul(argv[3], NULL, 10);
	if (clients < 1 || clients > 1024)
		return 2;

	int lfd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1024) < 0) {
		perror("floor: listen");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		serve(lfd);
	close(lfd);

	struct lat_thread *th = calloc(clients, sizeof(*th));
	int rc = th ? lat_run(th, clients, client) : 1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(addr.sun_path);
	return rc;
}
