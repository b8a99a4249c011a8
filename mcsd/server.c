/* SPDX-License-Identifier: MIT */
/*
 * server.c - mcsd's event loop: it sets the server up (registry, socket,
 * signals, the pipeline's eventfd, pids of surviving leases), then waits
 * on one epoll set and hands each event to the file that owns it:
 * listen.c (the socket), admission.c (accepting and refusing), conn.c
 * (connections and peers), pidwatch.c (lease processes), pipeline.c (the
 * batches and their threads).  SIGTERM/SIGINT arrive through a signalfd.
 * server_int.h holds the state they share.
 *
 * The server decides who may do what only coarsely (may_allocate, denied);
 * protocol.c applies it per method.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "server_int.h"

#include "log.h"
#include "registry.h"
#include "util.h"

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int epoll_add(mcsd_server *s, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0
		       ? negative_errno()
		       : 0;
}

/* Open the registry over the configured range and release the leases of
 * dead processes and earlier boots. */
static int registry_start(const mcsd_server_config *cfg, mcsd_registry **ret,
			  mcs_error *err)
{
	mcsd_registry_config rcfg = {.host_id = cfg->host_id};
	size_t released = 0;
	int r = mcs_cat_range_parse(cfg->range, &rcfg.range, err);

	if (r < 0)
		return mcs_error_prefix(err, "range '%s': ", cfg->range);
	r = mcsd_registry_open(cfg->db_path, &rcfg, ret, err);
	if (r < 0)
		return r; /* err already names the registry */
	r = mcsd_registry_reconcile(*ret, &released, err);
	if (r < 0) {
		mcsd_registry_close(*ret);
		*ret = NULL;
		return mcs_error_prefix(
			err, "registry %s: reconcile: ", cfg->db_path);
	}
	if (released)
		log_msg(MCS_LOG_NOTICE,
			"released %zu stale lease(s) of dead processes or an "
			"earlier boot",
			released);
	return 0;
}

int mcsd_server_new(const mcsd_server_config *cfg, mcsd_server **ret,
		    mcs_error *err)
{
	mcsd_server *s = calloc(1, sizeof(*s));
	if (!s)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	s->cfg = *cfg;
	s->epfd = -1;
	s->listen.fd = -1;
	s->sig.fd = -1;
	s->done.fd = -1;
	s->spare_fd = -1;
	s->listen.kind = W_LISTEN;
	s->sig.kind = W_SIGNAL;
	s->done.kind = W_DONE;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake_registry, NULL);
	pthread_cond_init(&s->wake_sync, NULL);
	pthread_cond_init(&s->wake_ckpt, NULL);
	sigemptyset(&s->oldmask);

	admission_raise_nofile();
	int r = registry_start(cfg, &s->reg, err);
	if (r < 0)
		goto fail;

	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		r = mcs_error_set(err, negative_errno(), "epoll: %m");
		goto fail;
	}

	r = listen_open(s, err);
	if (r < 0)
		goto fail;

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
	s->done.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->done.fd < 0 || epoll_add(s, &s->done, EPOLLIN) < 0) {
		r = mcs_error_set(err, negative_errno(), "eventfd: %m");
		goto fail;
	}

	/* Leases that survived a restart: watch their pids again. */
	r = pidwatch_load(s);
	if (r < 0) {
		mcs_error_set(err, r, "registry %s: cannot list leases: %s",
			      cfg->db_path, strerror(-r));
		goto fail;
	}

	*ret = s;
	return 0;
fail:
	mcsd_server_free(s);
	return r;
}

void mcsd_server_free(mcsd_server *s)
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
	batch_free(s->gather);
	while (s->spare) {
		struct batch *b = s->spare;
		s->spare = b->next;
		batch_free(b);
	}
	if (s->done.fd >= 0)
		close(s->done.fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake_registry);
	pthread_cond_destroy(&s->wake_sync);
	pthread_cond_destroy(&s->wake_ckpt);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
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
	mcsd_registry_close(s->reg);
	free(s);
}

static int next_timeout(const mcsd_server *s)
{
	long long now = now_ms(), next = now + 60000;
	next = admission_deadline(s, next);
	for (const struct conn *c = s->conns; c; c = c->next) {
		if (c->idle_deadline < next)
			next = c->idle_deadline;
		if (c->partial_deadline && c->partial_deadline < next)
			next = c->partial_deadline;
	}
	return next <= now ? 0 : (int)(next - now);
}

int mcsd_server_run(mcsd_server *s, mcs_error *err)
{
	struct epoll_event evs[256];
	int r = pipeline_start(s, err);

	if (r < 0)
		return r;
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
			r = mcs_error_set(err, negative_errno(),
					  "epoll_wait: %m");
			pipeline_stop(s);
			return r;
		}
		bool done = false, accept_ready = false;
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			switch (w->kind) {
			case W_LISTEN:
				/* after this round's hang-ups are reaped: a
				 * client that just left frees a descriptor */
				accept_ready = true;
				break;
			case W_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(w->fd, &si, sizeof(si)) > 0)
					s->quit = true;
				break;
			}
			case W_PIDFD:
				pidwatch_gather(s, (struct pidwatch *)w);
				break;
			case W_DONE:
				/* after the loop: answering a batch frees the
				 * pidwatches it released, and a later event of
				 * this same round may point at one */
				done = true;
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
		if (done)
			pipeline_collect(s);
		for (struct conn *c = s->conns; c; c = c->next)
			if (c->out_off < c->out_len || c->closing)
				conn_flush(s, c);
		/* clients no longer full: their next requests join the
		 * batch dispatched now */
		conn_resume(s);
		pipeline_dispatch(s);
		admission_tick(s);
		conn_reap(s);
		if (accept_ready)
			admission_accept(s);
	}
	sd_notify(0, "STOPPING=1");
	log_msg(MCS_LOG_NOTICE, "stopping");
	pipeline_stop(s);
	for (struct conn *c = s->conns; c; c = c->next)
		conn_flush(s, c);
	if (s->sync_error)
		return mcs_error_set(err, s->sync_error,
				     "the registry could not be flushed to "
				     "disk");
	return 0;
}
