/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c - mcsd's batch pipeline and its threads.
 *
 * Threads, a pipeline of batches:
 *  - the loop thread owns every socket: it accepts, reads and parses
 *    requests and gathers them into a batch; it serialises and sends the
 *    replies of finished batches;
 *  - the registry thread owns the registry (and its store): it answers a whole
 *    batch inside ONE transaction and commits it without waiting for the
 *    disk (mcsd_registry_commit_nowait);
 *  - the sync thread makes committed batches durable, one fdatasync for
 *    all batches committed since the last (mcsd_registry_sync);
 *  - a fourth thread, at a lower priority, copies the WAL into the
 *    database (checkpoints) when the registry thread says it is time, so
 *    no commit stalls for that copy.
 * While a batch is being flushed, the next one executes, and while one
 * executes, the loop thread gathers the next: the batch grows with the
 * load (group commit, not one fsync per request).  A reply is queued only
 * after a sync that began after its batch committed.  Replies of one
 * connection keep the order of its requests (varlink): even a parse error
 * is answered through the batch, in its turn.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server_int.h"

#include "log.h"
#include "protocol.h"
#include "registry.h"
#include "util.h"
#include "varlink.h"
#include "varlink_error.h"

void batch_free(struct batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		json_object_put(b->v[i].call);
		json_object_put(b->v[i].res.reply);
		if (b->v[i].res.pidfd >= 0)
			close(b->v[i].res.pidfd);
	}
	free(b->v);
	free(b->exited);
	free(b->text);
	free(b);
}

/* The batch being gathered (loop thread), NULL when out of memory. */
struct batch *pipeline_gathering(mcsd_server *s)
{
	if (!s->gather) {
		if (s->spare) {
			s->gather = s->spare;
			s->spare = s->gather->next;
			s->gather->next = NULL;
		} else {
			s->gather = calloc(1, sizeof(*s->gather));
		}
	}
	return s->gather;
}

/* Add c's request call, or its ready reply, to the gathered batch (both
 * taken, also on failure). */
int pipeline_push(mcsd_server *s, struct conn *c, struct json_object *call,
		  struct json_object *reply)
{
	struct batch *b = pipeline_gathering(s);

	if (b && b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 64;
		struct pending *n = realloc(b->v, ncap * sizeof(*n));
		if (n) {
			b->v = n;
			b->cap = ncap;
		}
	}
	if (!b || b->n == b->cap) {
		json_object_put(call);
		json_object_put(reply);
		return -ENOMEM;
	}
	b->v[b->n++] = (struct pending){
		.c = c, .call = call, .res = {.reply = reply, .pidfd = -1}};
	c->inflight++;
	return 0;
}

static void bqueue_push(struct bqueue *q, struct batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
}

/* Take the whole queue. */
static struct batch *bqueue_take(struct bqueue *q)
{
	struct batch *b = q->head;
	q->head = q->tail = NULL;
	return b;
}

/* Wake the loop thread (lock held or not). */
static void notify_loop(mcsd_server *s)
{
	uint64_t one = 1;
	(void)!write(s->done.fd, &one, sizeof(one));
}

/* Registry thread: answer batch b in one transaction, committed but not
 * yet durable. */
static void batch_execute(mcsd_server *s, struct batch *b)
{
	mcs_error err = {0};
	int r = mcsd_registry_begin(s->reg, &err);

	b->text_len = 0;
	b->ok = r >= 0;
	b->why[0] = '\0';
	if (!b->ok) {
		log_msg(MCS_LOG_ERR, "registry: %s",
			err.code ? err.msg : strerror(-r));
		snprintf(b->why, sizeof(b->why), "%.200s",
			 err.code ? err.msg : strerror(-r));
		return;
	}
	for (size_t i = 0; i < b->nexited; i++)
		pidwatch_end_leases(s, b->exited[i]);
	for (size_t i = 0; i < b->n; i++) {
		struct pending *p = &b->v[i];
		if (!p->call)
			continue;
		p->handled = true;
		if (protocol_handle(s->reg, &p->c->peer, p->call, &p->res) < 0)
			p->failed = true;
		/* serialised here and freed by the thread that made it:
		 * json-c objects freed in the loop thread made both threads
		 * fight over malloc's arena lock */
		if (p->res.reply) {
			p->msg_off = b->text_len;
			if (varlink_append(p->res.reply, &b->text, &b->text_len,
					   &b->text_cap) < 0)
				p->failed = true;
			else
				p->msg_len = b->text_len - p->msg_off;
		}
		json_object_put(p->res.reply);
		p->res.reply = NULL;
	}
	r = mcsd_registry_commit_nowait(s->reg, &err);
	if (r < 0) {
		log_msg(MCS_LOG_ERR, "registry commit: %s", err.msg);
		b->ok = false; /* rolled back */
		snprintf(b->why, sizeof(b->why), "registry commit: %.200s",
			 err.msg);
	}
}

static void *registry_main(void *arg)
{
	mcsd_server *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->to_execute && !s->stop_threads)
			pthread_cond_wait(&s->wake_registry, &s->lock);
		struct batch *b = s->to_execute;
		if (!b)
			break; /* stopping, nothing left */
		pthread_mutex_unlock(&s->lock);
		batch_execute(s, b);
		bool due = mcsd_registry_checkpoint_due(s->reg);
		pthread_mutex_lock(&s->lock);
		if (due && !s->ckpt_wanted) {
			s->ckpt_wanted = true;
			pthread_cond_signal(&s->wake_ckpt);
		}
		s->to_execute = NULL;
		s->executed = true;
		bqueue_push(&s->to_sync, b);
		pthread_cond_signal(&s->wake_sync);
		notify_loop(s); /* the next batch may go */
	}
	s->registry_stopped = true;
	pthread_cond_signal(&s->wake_sync);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *sync_main(void *arg)
{
	mcsd_server *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->to_sync.head && !s->registry_stopped)
			pthread_cond_wait(&s->wake_sync, &s->lock);
		struct batch *b = bqueue_take(&s->to_sync);
		if (!b)
			break; /* the registry thread stopped, all flushed */
		pthread_mutex_unlock(&s->lock);
		/* one flush for every batch committed so far */
		mcs_error err = {0};
		int r = mcsd_registry_sync(s->reg, &err);
		if (r < 0)
			log_msg(MCS_LOG_ERR, "registry: %s%s", err.msg,
				r == -ENOTCONN ? "" : ": stopping");
		pthread_mutex_lock(&s->lock);
		/* -ENOTCONN: a registry database unreachable; its batches
		 * fail (their outcome is unknown: nothing was answered) and
		 * the daemon goes on, failing closed until it is back */
		if (r < 0 && r != -ENOTCONN)
			s->sync_error = r;
		while (b) {
			struct batch *next = b->next;
			if (r < 0 && b->ok)
				snprintf(b->why, sizeof(b->why), "%.200s",
					 err.msg);
			if (r < 0)
				b->ok = false;
			bqueue_push(&s->finished, b);
			b = next;
		}
		notify_loop(s);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *ckpt_main(void *arg)
{
	mcsd_server *s = arg;

	/* behind the pipeline: checkpoints only use what it leaves */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->ckpt_wanted && !s->stop_threads)
			pthread_cond_wait(&s->wake_ckpt, &s->lock);
		if (s->stop_threads)
			break;
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->lock);
		mcs_error err = {0};
		int r = mcsd_registry_checkpoint(s->reg, &err);
		if (r < 0)
			log_msg(MCS_LOG_WARNING, "registry: %s", err.msg);
		else
			log_msg(MCS_LOG_DEBUG,
				"registry: checkpointed %d frames", r);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Loop thread: hand the gathered batch to the registry thread when it is
 * idle; until then more requests join the gathered batch. */
void pipeline_dispatch(mcsd_server *s)
{
	struct batch *b = s->gather;

	if (s->executing || !b || (b->n == 0 && b->nexited == 0))
		return;
	s->gather = NULL;
	s->executing = true;
	pthread_mutex_lock(&s->lock);
	s->to_execute = b;
	pthread_cond_signal(&s->wake_registry);
	pthread_mutex_unlock(&s->lock);
}

/* Loop thread: batch b is durable (or failed); queue its replies. */
static void batch_finish(mcsd_server *s, struct batch *b)
{
	for (size_t i = 0; i < b->nexited; i++)
		pidwatch_done(s, b->exited[i], b->ok);
	for (size_t i = 0; i < b->n; i++) {
		struct pending *p = &b->v[i];
		struct conn *c = p->c;
		struct json_object *reply = p->res.reply;

		/* a oneway call gets no reply, not even an error */
		bool oneway = p->handled && !p->msg_len && !p->failed;
		if (p->call && !b->ok && !oneway) {
			p->msg_len = 0;
			reply = protocol_error(
				VARLINK_ERROR_STORAGE, "message",
				*b->why ? b->why : "registry commit failed");
			if (!reply)
				c->dead = true; /* no answer to send */
			if (p->res.pidfd >= 0)
				close(p->res.pidfd);
		} else if (p->res.pidfd >= 0) {
			if (pidwatch_add(s, p->res.pidfd, p->res.pid,
					 p->res.owner) < 0)
				log_msg(MCS_LOG_WARNING,
					"cannot watch pid of %s", p->res.owner);
		} else if (p->failed) {
			c->dead = true; /* out of memory answering it */
		}
		c->inflight--;
		if (c->dead)
			json_object_put(reply);
		else if (p->msg_len)
			conn_queue_bytes(c, b->text + p->msg_off, p->msg_len);
		else
			conn_queue(c, reply);
		json_object_put(p->call);
	}
	b->n = 0;
	b->nexited = 0;
	b->next = s->spare;
	s->spare = b;
}

/* Loop thread: after a W_DONE wake-up, answer what is durable. */
void pipeline_collect(mcsd_server *s)
{
	uint64_t v;
	(void)!read(s->done.fd, &v, sizeof(v));
	pthread_mutex_lock(&s->lock);
	struct batch *b = bqueue_take(&s->finished);
	if (s->executed) {
		s->executed = false;
		s->executing = false;
	}
	if (s->sync_error)
		s->quit = true;
	pthread_mutex_unlock(&s->lock);
	while (b) {
		struct batch *next = b->next;
		batch_finish(s, b);
		b = next;
	}
}

/* Tell the pipeline threads to stop, once nothing is left to do. */
static void pipeline_signal_stop(mcsd_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop_threads = true;
	pthread_cond_signal(&s->wake_registry);
	pthread_cond_signal(&s->wake_ckpt);
	pthread_mutex_unlock(&s->lock);
}

int pipeline_start(mcsd_server *s, mcs_error *err)
{
	static void *(*const mains[])(void *) = {registry_main, sync_main,
						 ckpt_main};
	pthread_t *tids[] = {&s->registry_thread, &s->sync_thread,
			     &s->ckpt_thread};
	size_t n = 0;
	int r = mcsd_registry_checkpoint_elsewhere(s->reg, err);

	if (r < 0)
		return r;
	for (; n < ELEMENTSOF(mains); n++) {
		r = pthread_create(tids[n], NULL, mains[n], s);
		if (r != 0)
			break;
	}
	if (r == 0) {
		s->threads_started = true;
		return 0;
	}
	/* the sync thread ends after the registry thread, which ends on
	 * stop_threads: joining in order is enough */
	pipeline_signal_stop(s);
	while (n > 0)
		pthread_join(*tids[--n], NULL);
	return mcs_error_set(err, -r, "cannot start a thread: %s", strerror(r));
}

/* Finish the batches in flight, answer them, and stop the threads. */
void pipeline_stop(mcsd_server *s)
{
	if (!s->threads_started)
		return;
	pipeline_signal_stop(s);
	pthread_join(s->registry_thread, NULL);
	pthread_join(s->sync_thread, NULL);
	pthread_join(s->ckpt_thread, NULL);
	s->threads_started = false;
	pipeline_collect(s);
}
