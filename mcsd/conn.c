/* SPDX-License-Identifier: MIT */
/*
 * conn.c - mcsd's client connections: who the peer is (SO_PEERCRED, its
 * groups for the allocate permission, its SELinux context checked against
 * the policy), reading and framing its requests into the pipeline with a
 * read budget per round, its output buffer (bounded: a client that does
 * not read is dropped), and closing silent or finished connections.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "server_int.h"

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "varlink.h"
#include "varlink_error.h"

/* Reply bytes a client may leave unread before it is dropped: never
 * reached by a client that is only slow (reading stops far below). */
#define OUT_MAX (4 * 1024 * 1024)
/* Bytes read from one client per iteration (fairness). */
#define READ_BUDGET (256 * 1024)
/* Requests of one client in batches at once: reading stops there.  16
 * Lists of 64 long rows are under 1 MiB of replies. */
#define CONN_INFLIGHT_MAX 16
/* Unread reply bytes of one client at which reading it stops. */
#define CONN_OUT_HIGH (64 * 1024)
/* Unread reply bytes of all clients together at which no client that
 * has any is read. */
#define SERVER_OUT_HIGH (8 * 1024 * 1024)

static size_t out_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

/* Whether c may not be read from now (see the top of the file). */
static bool conn_full(const mcsd_server *s, const struct conn *c)
{
	size_t out = out_pending(c);
	return c->inflight >= CONN_INFLIGHT_MAX || out >= CONN_OUT_HIGH ||
	       (out > 0 && s->out_total >= SERVER_OUT_HIGH);
}

/* Watch c for what it needs now: input unless it is full or closing,
 * output while replies are pending; neither: not watched at all (epoll
 * reports a hang-up whatever the mask, and would wake the loop for it
 * again and again while the client waits for its batch). */
static void conn_events(mcsd_server *s, struct conn *c)
{
	bool in = !conn_full(s, c) && !c->closing, out = out_pending(c) > 0;
	if (in == c->want_in && out == c->want_out)
		return;
	struct epoll_event ev = {.events = (in ? EPOLLIN | EPOLLRDHUP : 0) |
					   (out ? EPOLLOUT : 0),
				 .data.ptr = &c->w};
	int op = !in && !out		       ? EPOLL_CTL_DEL
		 : !c->want_in && !c->want_out ? EPOLL_CTL_ADD
					       : EPOLL_CTL_MOD;
	if (epoll_ctl(s->epfd, op, c->w.fd, &ev) == 0) {
		c->want_in = in;
		c->want_out = out;
	} else {
		c->dead = true;
	}
}

/*
 * A socket option of unknown size: read into buf (size bytes) when it fits,
 * else into a malloc'ed buffer of the size the kernel asked for with
 * ERANGE, plus one byte for a NUL.  Returns buf or that buffer (the caller
 * frees it when it is not buf), *ret_len set; NULL with errno on failure.
 */
static void *sockopt_read(int fd, int opt, void *buf, socklen_t size,
			  socklen_t *ret_len)
{
	socklen_t len = size;
	if (getsockopt(fd, SOL_SOCKET, opt, buf, &len) == 0) {
		*ret_len = len;
		return buf;
	}
	if (errno != ERANGE || len <= size)
		return NULL;
	void *big = malloc((size_t)len + 1);
	if (!big)
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, opt, big, &len) < 0) {
		int e = errno;
		free(big);
		errno = e;
		return NULL;
	}
	*ret_len = len;
	return big;
}

/* May this peer allocate?  root, or primary/supplementary member of gid,
 * however many groups it has (a directory user may have hundreds). */
static bool peer_in_group(const mcsd_server *s, int fd, const struct ucred *uc)
{
	if (uc->uid == 0)
		return true;
	if (!s->cfg.group[0])
		return false;
	if (uc->gid == s->cfg.gid)
		return true;
	gid_t few[64];
	socklen_t len = 0;
	gid_t *groups = sockopt_read(fd, SO_PEERGROUPS, few, sizeof(few), &len);
	bool in = false;
	for (size_t i = 0; groups && i < len / sizeof(gid_t); i++)
		in = in || groups[i] == s->cfg.gid;
	if (groups != few)
		free(groups);
	return in;
}

/* SO_PEERSEC: log the peer's context; check it where SELinux is on.  With
 * SELinux on, a peer whose context or ours cannot be read is denied. */
static bool peer_selinux_denied(int fd, const struct ucred *uc)
{
	char few[256];
	socklen_t len = 0;
	char *con = sockopt_read(fd, SO_PEERSEC, few, sizeof(few) - 1, &len);
	bool on = is_selinux_enabled() > 0, denied = false;

	if (!con) {
		log_msg(on ? MCS_LOG_WARNING : MCS_LOG_DEBUG,
			"client uid=%u pid=%d connected%s", (unsigned)uc->uid,
			(int)uc->pid,
			on ? ": its context cannot be read, denied" : "");
		return on;
	}
	con[len] = '\0';
	log_msg(MCS_LOG_INFO, "client uid=%u pid=%d context=%s connected",
		(unsigned)uc->uid, (int)uc->pid, con);
	if (on) {
		char *self = NULL;
		denied = getcon(&self) < 0 ||
			 selinux_check_access(con, self, "unix_stream_socket",
					      "connectto", NULL) < 0;
		freecon(self);
		if (denied)
			log_msg(MCS_LOG_NOTICE,
				"policy denies %s access to mcsd", con);
	}
	if (con != few)
		free(con);
	return denied;
}

/* A connection accepted as fd from the peer uc (fd taken). */
void conn_new(mcsd_server *s, int fd, const struct ucred *uc)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w = (struct watch){.kind = W_CONN, .fd = fd};
	c->peer.uid = uc->uid;
	c->peer.pid = uc->pid;
	c->peer.may_allocate = peer_in_group(s, fd, uc);
	c->peer.denied = peer_selinux_denied(fd, uc);
	c->idle_deadline = now_ms() + s->cfg.idle_timeout_ms;
	if (epoll_add(s, &c->w, EPOLLIN | EPOLLRDHUP) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->want_in = true;
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
}

void conn_free(mcsd_server *s, struct conn *c)
{
	if (c->want_in || c->want_out)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	varlink_buf_free(&c->in);
	free(c->out);
	free(c);
	s->nconns--;
}

/* Append a serialised reply (len bytes, NUL included) to c's output. */
void conn_queue_bytes(struct conn *c, const char *msg, size_t len)
{
	if (c->out_len - c->out_off + len > OUT_MAX) {
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

/* Append a reply (taken) to c's output. */
void conn_queue(struct conn *c, struct json_object *reply)
{
	_cleanup_free_ char *msg = NULL;
	size_t len = 0;

	if (!reply)
		return;
	int r = varlink_serialize(reply, &msg, &len);
	json_object_put(reply);
	if (r < 0) {
		c->dead = true;
		return;
	}
	conn_queue_bytes(c, msg, len);
}

void conn_flush(mcsd_server *s, struct conn *c)
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
	if (out_pending(c) == 0 && c->closing && c->inflight == 0 &&
	    !varlink_buf_complete(&c->in)) {
		c->dead = true;
		return;
	}
	conn_events(s, c);
}

/* Answer a message that could not be framed or parsed, in its turn:
 * InvalidParameter naming why.  -ENOMEM when it cannot be answered. */
static int push_refusal(mcsd_server *s, struct conn *c, const char *why)
{
	struct json_object *e = protocol_error(VARLINK_ERROR_INVALID_PARAMETER,
					       "parameter", why);

	if (!e)
		return -ENOMEM; /* no reply would go out: drop the client */
	return pipeline_push(s, c, NULL, e);
}

/* Gather c's complete messages already read into the batch, as long as
 * it is not full.  Returns -1 when c is dead. */
static int conn_take(mcsd_server *s, struct conn *c)
{
	while (!conn_full(s, c)) {
		struct json_object *call = NULL;
		int r = varlink_buf_take(&c->in, &call);
		if (r == 0)
			break;
		c->partial_deadline = 0; /* progress; set again at the end */
		if (r == -EMSGSIZE) {
			/* Cannot find the next message: answer, close. */
			if (push_refusal(s, c, "message too large") < 0)
				c->dead = true;
			c->closing = true;
			break;
		}
		c->idle_deadline = now_ms() + s->cfg.idle_timeout_ms;
		if (r == -EBADMSG) {
			if (push_refusal(s, c, "message is not a JSON object") <
			    0) {
				c->dead = true;
				return -1;
			}
			continue;
		}
		if (r < 0) {
			json_object_put(call);
			c->dead = true;
			return -1;
		}
		if (pipeline_push(s, c, call, NULL) < 0) {
			c->dead = true;
			return -1;
		}
	}
	return c->dead ? -1 : 0;
}

/* Take c's requests already read, then read more while it is not full,
 * up to READ_BUDGET bytes this round.  Also called for a client that was
 * full and no longer is: its requests already read come first. */
void conn_read(mcsd_server *s, struct conn *c)
{
	size_t got = 0;

	for (;;) {
		if (conn_take(s, c) < 0)
			return;
		if (c->closing || conn_full(s, c) || got >= READ_BUDGET)
			break;
		int r = varlink_buf_fill(&c->in, c->w.fd);
		if (r == -EAGAIN)
			break;
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			/* EOF or error: answer what is complete, then close. */
			c->closing = true;
			continue;
		}
		got += (size_t)r;
		/* A read shorter than asked drained the socket: no second
		 * recv just to learn EAGAIN (epoll is level-triggered, more
		 * data wakes us again).  Asked: the room fill read into. */
		if ((size_t)r < c->in.cap - (c->in.len - (size_t)r)) {
			conn_take(s, c);
			break;
		}
	}
	if (c->dead)
		return;
	conn_events(s, c);
	if (c->in.len == 0)
		c->partial_deadline = 0;
	else if (!c->partial_deadline && !varlink_buf_complete(&c->in))
		c->partial_deadline = now_ms() + s->cfg.read_timeout_ms;
}

/* After replies were queued or flushed: read clients that were full and
 * are not any more; count what all clients leave unread. */
void conn_resume(mcsd_server *s)
{
	size_t total = 0;
	for (struct conn *c = s->conns; c; c = c->next)
		total += out_pending(c);
	s->out_total = total;
	for (struct conn *c = s->conns; c; c = c->next)
		if (!c->dead && !conn_full(s, c) &&
		    (varlink_buf_complete(&c->in) ||
		     (!c->want_in && !c->closing)))
			conn_read(s, c);
}

void conn_reap(mcsd_server *s)
{
	long long now = now_ms();
	for (struct conn **pp = &s->conns; *pp;) {
		struct conn *c = *pp;
		bool expired =
			now >= c->idle_deadline ||
			(c->partial_deadline && now >= c->partial_deadline);
		if (c->inflight > 0) {
			/* in a batch: the registry thread reads c->peer */
			pp = &c->next;
			continue;
		}
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
