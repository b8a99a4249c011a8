/* SPDX-License-Identifier: MIT */
/*
 * listen.c - mcsd's listening socket: the one systemd passes (socket
 * activation, checked to be a listening unix stream socket), or one
 * created here with mode 0660 after making sure no other mcsd listens on
 * the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "server_int.h"

#include "util.h"

/* Create and bind the socket ourselves: umask 0117 at bind, so 0660. */
static int listen_own(const char *path, mcs_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return mcs_error_set(err, -ENAMETOOLONG,
				     "socket path too long: %s", path);
	strcpy(sa.sun_path, path);

	_cleanup_close_ int fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mcs_error_set(err, negative_errno(), "socket: %m");

	/* The default /run/mcsd may not exist without systemd: create the
	 * last directory level (0755; the socket itself is 0660). */
	char parent[sizeof(sa.sun_path)];
	memcpy(parent, path, strlen(path) + 1);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return mcs_error_set(err, negative_errno(),
					     "cannot create %s: %m", parent);
	}

	/* A stale socket from a crash: remove it only if nobody listens. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		_cleanup_close_ int probe =
			socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return mcs_error_set(err, -EADDRINUSE,
					     "%s: another mcsd is listening",
					     path);
		unlink(path);
	}
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return mcs_error_set(err, negative_errno(), "bind %s: %m",
				     path);
	if (listen(fd, SOMAXCONN) < 0)
		return mcs_error_set(err, negative_errno(), "listen %s: %m",
				     path);
	return TAKE_FD(fd);
}

/*
 * The socket file belongs to root and the configured group (--group /
 * group =), mode 0660, whoever made it (we, or systemd with the unit's
 * SocketUser/SocketGroup): the group given to mcsd is the one that may
 * connect, with one setting in one place.
 */
static int listen_group(mcsd_server *s, mcs_error *err)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	if (!s->cfg.group[0])
		return 0;
	if (getsockname(s->listen.fd, (struct sockaddr *)&sa, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sa.sun_path[0] == '\0')
		return 0; /* abstract or unnamed: no file to own */
	size_t n = (size_t)len - offsetof(struct sockaddr_un, sun_path);
	sa.sun_path[n < sizeof(sa.sun_path) ? n : sizeof(sa.sun_path) - 1] =
		'\0';
	if (chown(sa.sun_path, 0, s->cfg.gid) < 0 ||
	    chmod(sa.sun_path, 0660) < 0)
		return mcs_error_set(err, negative_errno(),
				     "socket %s: cannot give it to group %s: "
				     "%m",
				     sa.sun_path, s->cfg.group);
	return 0;
}

/* Take systemd's socket, or create cfg.socket_path; watch it. */
int listen_open(mcsd_server *s, mcs_error *err)
{
	int n = sd_listen_fds(1), r;

	if (n > 1)
		return mcs_error_set(err, -EINVAL,
				     "expected one socket from systemd, got %d",
				     n);
	if (n == 1) {
		s->listen.fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(s->listen.fd, SOCK_STREAM, 1, NULL, 0) <=
		    0) {
			return mcs_error_set(err, -EINVAL,
					     "socket from systemd is not a "
					     "listening unix stream socket");
		}
		/* Non-blocking accept, CLOEXEC (systemd passes it without). */
		(void)!fcntl(s->listen.fd, F_SETFD, FD_CLOEXEC);
		(void)!fcntl(s->listen.fd, F_SETFL, O_NONBLOCK | O_RDWR);
	} else {
		r = listen_own(s->cfg.socket_path, err);
		if (r < 0)
			return r;
		s->listen.fd = r;
		s->own_socket = true;
	}
	r = listen_group(s, err);
	if (r < 0)
		return r;
	r = epoll_add(s, &s->listen, EPOLLIN);
	if (r < 0)
		return mcs_error_set(err, r, "epoll_ctl: %s", strerror(-r));
	return 0;
}
