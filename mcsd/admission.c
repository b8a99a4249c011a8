/* SPDX-License-Identifier: MIT */
/*
 * admission.c - who gets in: accepting connections in bounded rounds,
 * sharing the max_clients slots fairly between uids, and running out of
 * descriptors
 * without a busy loop (a spare descriptor to take and close one pending
 * connection; with none left, the listening socket rests).  A refusal
 * episode is logged once when it starts and once when it ends, with the
 * count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_int.h"

#include "log.h"

/* Connections accepted per round: a backlog of thousands (a connect
 * storm, most of them already closed) is taken in steps, with the
 * hang-ups of each step reaped before the next, not all at once up to
 * max_clients; and the clients already in are served in between. */
#define ACCEPT_BUDGET 64
/* A refusal episode ends after this long without one. */
#define REFUSING_QUIET_MS 1000
/* Out of descriptors and of the spare one: the socket rests this long. */
#define LISTEN_PAUSE_MS 100
/* Slots of max_clients only root may take: uids other than root together
 * never hold more than max_clients - ROOT_RESERVE. */
#define ROOT_RESERVE 16

/*
 * Every client and every watched lease pid holds a descriptor: take the
 * hard limit of RLIMIT_NOFILE, not the soft 1024 (mcsd uses epoll, never
 * select, so a higher soft limit is safe).
 */
void admission_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_msg(MCS_LOG_WARNING,
				"cannot raise the open files limit: %m");
	}
}

/* Say once, not for every connection, that connections are refused. */
static void refusal_start(mcsd_server *s, const char *why)
{
	if (!s->refusing)
		log_msg(MCS_LOG_WARNING,
			"refusing connections (%d clients, %zu watched pids): "
			"%s",
			s->nconns, pidwatch_count(s), why);
	s->refusing = true;
	s->last_refusal_ms = now_ms();
}

/* One connection was closed unserved. */
static void refusal_count(mcsd_server *s)
{
	s->refused++;
	s->last_refusal_ms = now_ms();
}

/* The episode is over once a second has passed without a refusal. */
static void refusal_end(mcsd_server *s, long long now)
{
	if (!s->refusing || now - s->last_refusal_ms < REFUSING_QUIET_MS)
		return;
	log_msg(MCS_LOG_NOTICE,
		"no refusal for 1 s: %lu connections refused in all "
		"(%d clients)",
		s->refused, s->nconns);
	s->refusing = false;
	s->refused = 0;
}

/* Out of descriptors: take one pending connection with the spare one and
 * close it.  False when that is not possible either. */
static bool refuse_pending(mcsd_server *s)
{
	if (s->spare_fd < 0)
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->spare_fd < 0)
		return false;
	close(s->spare_fd);
	int fd = accept4(s->listen.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		refusal_count(s);
	}
	/* another thread may take the slot first: retried next time */
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

/* Neither a descriptor nor a spare one: stop watching the socket for a
 * while rather than spin on it. */
static void accept_pause(mcsd_server *s)
{
	if (s->listen_paused_until_ms ||
	    epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen.fd, NULL) < 0)
		return;
	s->listen_paused_until_ms = now_ms() + LISTEN_PAUSE_MS;
}

static void accept_resume(mcsd_server *s, long long now)
{
	if (!s->listen_paused_until_ms || now < s->listen_paused_until_ms)
		return;
	if (epoll_add(s, &s->listen, EPOLLIN) == 0)
		s->listen_paused_until_ms = 0;
	else
		s->listen_paused_until_ms = now + LISTEN_PAUSE_MS;
}

/* The uid other than root with the most connections, in one pass (a
 * table of uids sized for the clients present). */
static uid_t heaviest_uid(const mcsd_server *s, int *ret_n)
{
	size_t size = 64;
	while (size < 2 * (size_t)s->nconns)
		size *= 2;
	struct slot {
		uid_t uid;
		int n;
	} *t = calloc(size, sizeof(*t));
	uid_t best = 0;
	int best_n = 0;

	for (const struct conn *c = s->conns; t && c; c = c->next) {
		if (c->peer.uid == 0)
			continue;
		size_t i = (c->peer.uid * 2654435761u) & (size - 1);
		while (t[i].n && t[i].uid != c->peer.uid)
			i = (i + 1) & (size - 1);
		t[i].uid = c->peer.uid;
		if (++t[i].n > best_n) {
			best_n = t[i].n;
			best = c->peer.uid;
		}
	}
	free(t);
	*ret_n = best_n;
	return best;
}

/* Whether c is idle: nothing in flight, half read or unread. */
static bool conn_idle(const struct conn *c)
{
	return !c->dead && c->inflight == 0 && c->in.len == 0 &&
	       c->out_off == c->out_len;
}

/*
 * The slots, shared fairly (issue 13: ~1,030 idle connections of one uid
 * locked every other client out, root included):
 *  - a uid other than root holds at most max_clients_per_uid; at that
 *    limit its own longest-idle connection makes room for its new one
 *    (a client that leaks connections only hurts itself), else the new
 *    one is refused;
 *  - uids other than root hold at most max_clients - ROOT_RESERVE in
 *    all, root max_clients;
 *  - when all those slots are taken, the longest-idle connection of the
 *    uid holding the most makes room, if that uid holds more than the
 *    newcomer's would after it; else the newcomer is refused.
 * Returns true when uid may come in (a connection may have been closed
 * for it).
 */
static bool admit(mcsd_server *s, uid_t uid)
{
	int mine = 0, others = 0, heavy_n = 0;
	uid_t heavy = 0;
	struct conn *oldest_mine = NULL;

	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->peer.uid == uid) {
			mine++;
			if (conn_idle(c) &&
			    (!oldest_mine ||
			     c->idle_deadline < oldest_mine->idle_deadline))
				oldest_mine = c;
		}
		if (c->peer.uid != 0)
			others++;
	}
	if (uid != 0 && mine >= s->cfg.max_clients_per_uid) {
		if (!oldest_mine)
			return false;
		oldest_mine->dead = true; /* reaped next round */
		return true;
	}
	int cap = uid == 0 ? s->cfg.max_clients
			   : s->cfg.max_clients - ROOT_RESERVE;
	int used = uid == 0 ? s->nconns : others;
	if (used < cap && s->nconns < s->cfg.max_clients)
		return true;
	/* full: the heaviest uid other than root gives way, if it can */
	heavy = heaviest_uid(s, &heavy_n);
	if (heavy_n <= (uid == 0 ? 0 : mine + 1))
		return false;
	struct conn *victim = NULL;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->peer.uid == heavy && conn_idle(c) &&
		    (!victim || c->idle_deadline < victim->idle_deadline))
			victim = c;
	if (!victim)
		return false;
	log_msg(MCS_LOG_INFO,
		"closing an idle connection of uid %u (it holds %d) for one "
		"of uid %u",
		(unsigned)heavy, heavy_n, (unsigned)uid);
	victim->dead = true;
	return true;
}

void admission_accept(mcsd_server *s)
{
	for (int budget = ACCEPT_BUDGET; budget > 0; budget--) {
		int fd = accept4(s->listen.fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				refusal_start(s, "out of file descriptors");
				if (refuse_pending(s))
					continue;
				accept_pause(s);
			} else if (errno != EAGAIN && errno != EINTR) {
				log_msg(MCS_LOG_WARNING, "accept: %m");
			}
			return;
		}
		struct ucred uc;
		socklen_t len = sizeof(uc);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
			log_msg(MCS_LOG_WARNING, "SO_PEERCRED: %m");
			close(fd);
			continue;
		}
		if (!admit(s, uc.uid)) {
			refusal_start(s, "max_clients (or its share of a uid) "
					 "reached");
			refusal_count(s);
			close(fd);
			continue;
		}
		conn_new(s, fd, &uc);
	}
}

void admission_tick(mcsd_server *s)
{
	if (s->refusing || s->listen_paused_until_ms) {
		long long now = now_ms();
		refusal_end(s, now);
		accept_resume(s, now);
	}
}

long long admission_deadline(const mcsd_server *s, long long next)
{
	if (s->refusing && s->last_refusal_ms + REFUSING_QUIET_MS < next)
		next = s->last_refusal_ms + REFUSING_QUIET_MS;
	if (s->listen_paused_until_ms && s->listen_paused_until_ms < next)
		next = s->listen_paused_until_ms;
	return next;
}
