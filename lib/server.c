/* SPDX-License-Identifier: MIT */
/*
 * server.c - mcsd's event loop: the listening socket (systemd's, or our own
 * created 0660), one non-blocking connection per client with its peer
 * credentials, read and idle timeouts, a message size limit, pidfds of
 * leases, and SIGTERM/SIGINT through a signalfd.
 *
 * Group commit: every loop iteration gathers all complete requests of all
 * readable clients, answers them inside ONE registry transaction, and only
 * after that transaction is durable queues the replies.  Throughput thus
 * grows with concurrency instead of being one fsync per request.
 *
 * The server decides who may do what only coarsely (may_allocate, denied);
 * protocol.c applies it per method.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <selinux/selinux.h>
#include <systemd/sd-daemon.h>

#include <mcs/server.h>

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "varlink.h"

/* Reply bytes a client may leave unread before it is dropped. */
#define OUT_MAX (4 * 1024 * 1024)
/* Bytes read from one client per iteration (fairness). */
#define READ_BUDGET (256 * 1024)

enum watch_kind { W_LISTEN, W_SIGNAL, W_CONN, W_PIDFD };

/* What an epoll event points at. */
struct watch {
	enum watch_kind kind;
	int fd;
};

/* A process that leases are bound to, and the owners of those leases. */
struct pidwatch {
	struct watch w; /* W_PIDFD */
	pid_t pid;
	char **owners; /* malloc'ed strings */
	size_t nowners;
	struct pidwatch *next;
};

struct conn {
	struct watch w; /* W_CONN; w.fd the connection */
	protocol_peer peer;
	varlink_buf in;
	char *out; /* pending reply bytes out[out_off..out_len) */
	size_t out_len, out_off;
	long long idle_deadline;    /* ms; reset by each complete request */
	long long partial_deadline; /* ms; 0 when no partial message held */
	bool closing;		    /* close once out is flushed */
	bool dead;		    /* close at end of iteration */
	bool want_out;		    /* EPOLLOUT registered */
	struct conn *next;
};

/* A request gathered for the batch. */
struct pending {
	struct conn *c;
	struct json_object *call;
};

struct mcs_server {
	mcs_server_config cfg;
	protocol *proto;
	int epfd;
	struct watch listen; /* W_LISTEN */
	struct watch sig;    /* W_SIGNAL */
	bool own_socket;     /* we created socket_path: unlink at free */
	sigset_t oldmask;
	struct conn *conns;
	int nconns;
	struct pidwatch *pids;
	struct pending *batch;
	size_t nbatch, batch_cap;
	bool quit;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int epoll_add(mcs_server *s, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0
		       ? negative_errno()
		       : 0;
}

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

/* Watch pidfd for owner's lease (pidfd taken: closed when pid is already
 * watched). */
static int watch_pid(mcs_server *s, int pidfd, pid_t pid, const char *owner)
{
	struct pidwatch *p;
	for (p = s->pids; p; p = p->next)
		if (p->pid == pid)
			break;
	if (p) {
		close(pidfd);
	} else {
		p = calloc(1, sizeof(*p));
		if (!p) {
			close(pidfd);
			return -ENOMEM;
		}
		p->w = (struct watch){.kind = W_PIDFD, .fd = pidfd};
		p->pid = pid;
		int r = epoll_add(s, &p->w, EPOLLIN);
		if (r < 0) {
			close(pidfd);
			free(p);
			return r;
		}
		p->next = s->pids;
		s->pids = p;
	}
	for (size_t i = 0; i < p->nowners; i++)
		if (strcmp(p->owners[i], owner) == 0)
			return 0;
	char **n = realloc(p->owners, (p->nowners + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->owners = n;
	p->owners[p->nowners] = strdup(owner);
	if (!p->owners[p->nowners])
		return -ENOMEM;
	p->nowners++;
	return 0;
}

static void pidwatch_free(struct pidwatch *p)
{
	close(p->w.fd);
	for (size_t i = 0; i < p->nowners; i++)
		free(p->owners[i]);
	free(p->owners);
	free(p);
}

MCS_EXPORT int mcs_server_new(const mcs_server_config *cfg, mcs_server **ret,
			      mcs_error *err)
{
	mcs_server *s = calloc(1, sizeof(*s));
	if (!s)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	s->cfg = *cfg;
	s->epfd = -1;
	s->listen.fd = -1;
	s->sig.fd = -1;
	s->listen.kind = W_LISTEN;
	s->sig.kind = W_SIGNAL;
	sigemptyset(&s->oldmask);

	int r = protocol_new(cfg->db_path, cfg->range, &s->proto, err);
	if (r < 0)
		goto fail;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		r = mcs_error_set(err, negative_errno(), "epoll: %m");
		goto fail;
	}

	int n = sd_listen_fds(1);
	if (n > 1) {
		r = mcs_error_set(err, -EINVAL,
				  "expected one socket from systemd, got %d",
				  n);
		goto fail;
	}
	if (n == 1) {
		s->listen.fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(s->listen.fd, SOCK_STREAM, 1, NULL, 0) <=
		    0) {
			r = mcs_error_set(err, -EINVAL,
					  "socket from systemd is not a "
					  "listening unix stream socket");
			goto fail;
		}
		/* Non-blocking accept, CLOEXEC (systemd passes it without). */
		(void)!fcntl(s->listen.fd, F_SETFD, FD_CLOEXEC);
		(void)!fcntl(s->listen.fd, F_SETFL, O_NONBLOCK | O_RDWR);
	} else {
		r = listen_own(cfg->socket_path, err);
		if (r < 0)
			goto fail;
		s->listen.fd = r;
		s->own_socket = true;
	}
	r = epoll_add(s, &s->listen, EPOLLIN);
	if (r < 0) {
		mcs_error_set(err, r, "epoll_ctl: %s", strerror(-r));
		goto fail;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &s->oldmask);
	s->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig.fd < 0 || epoll_add(s, &s->sig, EPOLLIN) < 0) {
		r = mcs_error_set(err, negative_errno(), "signalfd: %m");
		goto fail;
	}

	/* Leases that survived a restart: watch their pids again. */
	_cleanup_free_ protocol_lease *leases = NULL;
	size_t nleases = 0;
	r = protocol_watch_existing(s->proto, &leases, &nleases);
	if (r < 0) {
		mcs_error_set(err, r, "registry %s: cannot list leases: %s",
			      cfg->db_path, strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < nleases; i++)
		if (watch_pid(s, leases[i].pidfd, leases[i].pid,
			      leases[i].owner) < 0)
			log_msg(MCS_LOG_WARNING, "cannot watch pid %d",
				(int)leases[i].pid);

	*ret = s;
	return 0;
fail:
	mcs_server_free(s);
	return r;
}

static void conn_free(mcs_server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	varlink_buf_free(&c->in);
	free(c->out);
	free(c);
	s->nconns--;
}

MCS_EXPORT void mcs_server_free(mcs_server *s)
{
	if (!s)
		return;
	while (s->conns) {
		struct conn *c = s->conns;
		s->conns = c->next;
		conn_free(s, c);
	}
	while (s->pids) {
		struct pidwatch *p = s->pids;
		s->pids = p->next;
		pidwatch_free(p);
	}
	for (size_t i = 0; i < s->nbatch; i++)
		json_object_put(s->batch[i].call);
	free(s->batch);
	if (s->listen.fd >= 0)
		close(s->listen.fd);
	if (s->own_socket)
		unlink(s->cfg.socket_path);
	if (s->sig.fd >= 0) {
		close(s->sig.fd);
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	protocol_free(s->proto);
	free(s);
}

/* May this peer allocate?  root, or primary/supplementary member of gid. */
static bool peer_in_group(const mcs_server *s, int fd, const struct ucred *uc)
{
	if (uc->uid == 0)
		return true;
	if (!s->cfg.group[0])
		return false;
	if (uc->gid == s->cfg.gid)
		return true;
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->cfg.gid)
			return true;
	return false;
}

/* SO_PEERSEC: log the peer's context; check it where SELinux is on. */
static bool peer_selinux_denied(int fd, const struct ucred *uc)
{
	char con[4096];
	socklen_t len = sizeof(con) - 1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERSEC, con, &len) < 0) {
		log_msg(MCS_LOG_DEBUG, "client uid=%u pid=%d connected",
			(unsigned)uc->uid, (int)uc->pid);
		return false;
	}
	con[len] = '\0';
	log_msg(MCS_LOG_INFO, "client uid=%u pid=%d context=%s connected",
		(unsigned)uc->uid, (int)uc->pid, con);
	if (is_selinux_enabled() <= 0)
		return false;
	char *self = NULL;
	if (getcon(&self) < 0)
		return false;
	bool denied = selinux_check_access(con, self, "unix_stream_socket",
					   "connectto", NULL) < 0;
	freecon(self);
	if (denied)
		log_msg(MCS_LOG_NOTICE, "policy denies %s access to mcsd", con);
	return denied;
}

static void do_accept(mcs_server *s)
{
	for (;;) {
		int fd = accept4(s->listen.fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_msg(MCS_LOG_WARNING, "accept: %m");
			return;
		}
		struct ucred uc;
		socklen_t len = sizeof(uc);
		if (s->nconns >= s->cfg.max_clients ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
			log_msg(MCS_LOG_WARNING,
				"refusing connection (%d clients)", s->nconns);
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->w = (struct watch){.kind = W_CONN, .fd = fd};
		c->peer.uid = uc.uid;
		c->peer.pid = uc.pid;
		c->peer.may_allocate = peer_in_group(s, fd, &uc);
		c->peer.denied = peer_selinux_denied(fd, &uc);
		c->idle_deadline = now_ms() + s->cfg.idle_timeout_ms;
		if (epoll_add(s, &c->w, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
	}
}

/* Append a reply (taken) to c's output. */
static void conn_queue(struct conn *c, struct json_object *reply)
{
	_cleanup_free_ char *msg = NULL;
	size_t len = 0;

	if (!reply)
		return;
	int r = varlink_serialize(reply, &msg, &len);
	json_object_put(reply);
	if (r < 0 || c->out_len - c->out_off + len > OUT_MAX) {
		c->dead = true;
		return;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	char *n = realloc(c->out, c->out_len + len);
	if (!n) {
		c->dead = true;
		return;
	}
	memcpy(n + c->out_len, msg, len);
	c->out = n;
	c->out_len += len;
}

static void conn_flush(mcs_server *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				c->dead = true;
				return;
			}
			break;
		}
		c->out_off += (size_t)n;
	}
	bool pending = c->out_off < c->out_len;
	if (!pending && c->closing) {
		c->dead = true;
		return;
	}
	if (pending != c->want_out) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP |
						   (pending ? EPOLLOUT : 0),
					 .data.ptr = &c->w};
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->w.fd, &ev);
		c->want_out = pending;
	}
}

static int batch_push(mcs_server *s, struct conn *c, struct json_object *call)
{
	if (s->nbatch == s->batch_cap) {
		size_t ncap = s->batch_cap ? 2 * s->batch_cap : 64;
		struct pending *n = realloc(s->batch, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->batch = n;
		s->batch_cap = ncap;
	}
	s->batch[s->nbatch++] = (struct pending){.c = c, .call = call};
	return 0;
}

/* Read what c sent and gather its complete requests into the batch. */
static void conn_read(mcs_server *s, struct conn *c)
{
	size_t got = 0;

	while (!c->closing && got < READ_BUDGET) {
		int r = varlink_buf_fill(&c->in, c->w.fd);
		if (r == -EAGAIN)
			break;
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			/* EOF or error: answer what is complete, then close. */
			c->closing = true;
			break;
		}
		got += (size_t)r;
		for (;;) {
			struct json_object *call = NULL;
			r = varlink_buf_take(&c->in, &call);
			if (r == 0)
				break;
			if (r == -EMSGSIZE) {
				/* Cannot find the next message: answer, close.
				 */
				conn_queue(c,
					   protocol_error("org.varlink.service."
							  "InvalidParameter",
							  "parameter",
							  "message too large"));
				c->closing = true;
				break;
			}
			c->idle_deadline = now_ms() + s->cfg.idle_timeout_ms;
			if (r == -EBADMSG) {
				conn_queue(c, protocol_error(
						      "org.varlink.service."
						      "InvalidParameter",
						      "parameter",
						      "message is not a JSON "
						      "object"));
				continue;
			}
			if (r < 0 || batch_push(s, c, call) < 0) {
				json_object_put(call);
				c->dead = true;
				return;
			}
		}
	}
	if (c->in.len == 0)
		c->partial_deadline = 0;
	else if (!c->partial_deadline)
		c->partial_deadline = now_ms() + s->cfg.read_timeout_ms;
}

static void pid_exited(mcs_server *s, struct pidwatch *pw)
{
	int released = 0;
	for (size_t i = 0; i < pw->nowners; i++) {
		int r = protocol_lease_ended(s->proto, pw->owners[i], pw->pid);
		if (r < 0)
			log_msg(MCS_LOG_WARNING,
				"cannot release lease of %s (pid %d "
				"exited): %s",
				pw->owners[i], (int)pw->pid, strerror(-r));
		else
			released += r;
	}
	log_msg(MCS_LOG_INFO, "pid %d exited: released %d lease(s)",
		(int)pw->pid, released);
	for (struct pidwatch **pp = &s->pids; *pp; pp = &(*pp)->next)
		if (*pp == pw) {
			*pp = pw->next;
			break;
		}
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, pw->w.fd, NULL);
	pidwatch_free(pw);
}

/* Answer the gathered batch in one durable transaction. */
static void run_batch(mcs_server *s, struct pidwatch **exited, size_t nexited)
{
	struct json_object **replies = NULL;
	int *pidfds = NULL;
	mcs_error err = {0};

	if (s->nbatch == 0 && nexited == 0)
		return;
	replies = calloc(s->nbatch + 1, sizeof(*replies));
	pidfds = malloc((s->nbatch + 1) * sizeof(*pidfds));
	for (size_t i = 0; pidfds && i <= s->nbatch; i++)
		pidfds[i] = -1;
	int r = replies && pidfds ? protocol_begin(s->proto, &err) : -ENOMEM;
	bool ok = r >= 0;
	if (!ok)
		log_msg(MCS_LOG_ERR, "registry: %s",
			err.code ? err.msg : strerror(-r));

	for (size_t i = 0; ok && i < nexited; i++)
		pid_exited(s, exited[i]);
	for (size_t i = 0; ok && i < s->nbatch; i++) {
		if (protocol_handle(s->proto, &s->batch[i].c->peer,
				    s->batch[i].call, &replies[i],
				    &pidfds[i]) < 0)
			s->batch[i].c->dead = true;
	}
	if (ok) {
		r = protocol_commit(s->proto, &err);
		if (r < 0) {
			log_msg(MCS_LOG_ERR, "registry commit: %s", err.msg);
			protocol_rollback(s->proto);
			ok = false;
		}
	}

	for (size_t i = 0; i < s->nbatch; i++) {
		struct conn *c = s->batch[i].c;
		struct json_object *reply = replies ? replies[i] : NULL;
		if (!ok) {
			json_object_put(reply);
			reply = protocol_error("io.mcskit.Labels.StorageError",
					       "message",
					       "registry commit failed");
			if (pidfds && pidfds[i] >= 0)
				close(pidfds[i]);
		} else if (pidfds[i] >= 0) {
			/* protocol_handle validated both parameters. */
			struct json_object *call = s->batch[i].call, *pp, *pid,
					   *owner;
			if (json_object_object_get_ex(call, "parameters",
						      &pp) &&
			    json_object_object_get_ex(pp, "pid", &pid) &&
			    json_object_object_get_ex(pp, "owner", &owner)) {
				if (watch_pid(s, pidfds[i],
					      (pid_t)json_object_get_int(pid),
					      json_object_get_string(owner)) <
				    0)
					log_msg(MCS_LOG_WARNING,
						"cannot watch pid of %s",
						json_object_get_string(owner));
			} else {
				close(pidfds[i]);
			}
		}
		if (!c->dead)
			conn_queue(c, reply);
		else
			json_object_put(reply);
		json_object_put(s->batch[i].call);
	}
	s->nbatch = 0;
	free(replies);
	free(pidfds);
}

static void reap_conns(mcs_server *s)
{
	long long now = now_ms();
	for (struct conn **pp = &s->conns; *pp;) {
		struct conn *c = *pp;
		bool expired =
			now >= c->idle_deadline ||
			(c->partial_deadline && now >= c->partial_deadline);
		if (expired && !c->dead)
			log_msg(MCS_LOG_INFO,
				"closing silent connection of uid %u pid %d",
				(unsigned)c->peer.uid, (int)c->peer.pid);
		if (c->dead || expired) {
			*pp = c->next;
			conn_free(s, c);
		} else {
			pp = &c->next;
		}
	}
}

static int next_timeout(const mcs_server *s)
{
	long long now = now_ms(), next = now + 60000;
	for (const struct conn *c = s->conns; c; c = c->next) {
		if (c->idle_deadline < next)
			next = c->idle_deadline;
		if (c->partial_deadline && c->partial_deadline < next)
			next = c->partial_deadline;
	}
	return next <= now ? 0 : (int)(next - now);
}

MCS_EXPORT int mcs_server_run(mcs_server *s, mcs_error *err)
{
	struct epoll_event evs[256];
	struct pidwatch *exited[256];

	sd_notify(0, "READY=1\nSTATUS=serving");
	log_msg(MCS_LOG_NOTICE, "serving %s (registry %s, range %s)",
		s->own_socket ? s->cfg.socket_path : "the socket from systemd",
		s->cfg.db_path, s->cfg.range);

	while (!s->quit) {
		int n = epoll_wait(s->epfd, evs, ELEMENTSOF(evs),
				   next_timeout(s));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mcs_error_set(err, negative_errno(),
					     "epoll_wait: %m");
		}
		size_t nexited = 0;
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			switch (w->kind) {
			case W_LISTEN:
				do_accept(s);
				break;
			case W_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(w->fd, &si, sizeof(si)) > 0)
					s->quit = true;
				break;
			}
			case W_PIDFD:
				exited[nexited++] = (struct pidwatch *)w;
				break;
			case W_CONN: {
				struct conn *c = (struct conn *)w;
				if (evs[i].events & (EPOLLIN | EPOLLHUP |
						     EPOLLRDHUP | EPOLLERR))
					conn_read(s, c);
				if (evs[i].events & EPOLLOUT)
					conn_flush(s, c);
				break;
			}
			}
		}
		run_batch(s, exited, nexited);
		for (struct conn *c = s->conns; c; c = c->next)
			if (c->out_off < c->out_len || c->closing)
				conn_flush(s, c);
		reap_conns(s);
	}
	sd_notify(0, "STOPPING=1");
	log_msg(MCS_LOG_NOTICE, "stopping");
	return 0;
}
