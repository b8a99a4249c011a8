/* SPDX-License-Identifier: MIT */
/*
 * server_int.h - the state mcsd's server files share (internal to
 * server.c, listen.c, admission.c, conn.c, pidwatch.c, pipeline.c): the
 * server, its connections, watched lease processes and batches, and the
 * functions each file offers the others.  Threads: everything here
 * belongs to the loop thread unless a field says "guarded by lock";
 * pipeline.c's threads touch only those and the batch they hold.
 */
#ifndef MCSD_SERVER_INT_H
#define MCSD_SERVER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <mcs/error.h>

#include "protocol.h"
#include "registry.h"
#include "server.h"
#include "varlink.h"

enum watch_kind { W_LISTEN, W_SIGNAL, W_CONN, W_PIDFD, W_DONE };

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
	bool exiting; /* in a batch: its leases are being released */
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
	bool want_in;	 /* EPOLLIN registered (neither: not in epoll) */
	size_t inflight; /* requests in batches, not yet answered */
	struct conn *next;
};

/* A request gathered for a batch. */
struct pending {
	struct conn *c;
	struct json_object *call; /* NULL: reply was made when reading */
	/* the answer (reply NULL: none, "oneway") and a lease's pid to
	 * watch (res.pidfd, or -1) */
	protocol_result res;
	bool failed;		 /* out of memory answering: drop the client */
	bool handled;		 /* protocol_handle ran on it */
	size_t msg_off, msg_len; /* the reply, serialised by the registry
				    thread into its batch's text (len 0:
				    none) */
};

/* Requests and exited lease pids answered in one transaction. */
struct batch {
	struct pending *v;
	size_t n, cap;
	struct pidwatch **exited;
	size_t nexited, exited_cap;
	bool ok;       /* committed and durable */
	char why[256]; /* when not ok: the registry's reason, for the
			  StorageError of every call ("" unknown) */
	char *text;    /* serialised replies, one after the other; kept and */
	size_t text_len, text_cap; /* reused with the batch: no malloc per
				      reply crossing threads */
	struct batch *next;
};

/* A FIFO of batches. */
struct bqueue {
	struct batch *head, *tail;
};

struct mcsd_server {
	mcsd_server_config cfg;
	mcsd_registry *reg; /* the registry thread's, once threads run */
	int epfd;
	struct watch listen; /* W_LISTEN */
	/* /dev/null, held to be given up when we run out of descriptors:
	 * then a pending connection is taken and closed at once, instead of
	 * left queued to wake epoll again and again (a busy loop) */
	int spare_fd;
	/* Refusing connections: said once when it starts, and once when a
	 * second has gone by without a refusal (with the count), however
	 * often a connection got through in between. */
	bool refusing;
	unsigned long refused;	   /* connections refused in this episode */
	long long last_refusal_ms; /* now_ms() of the last one */
	/* No spare descriptor either: the listening socket is unwatched
	 * until then, as level-triggered epoll would otherwise spin on it */
	long long listen_paused_until_ms;
	struct watch sig; /* W_SIGNAL */
	bool own_socket;  /* we created socket_path: unlink at free */
	sigset_t oldmask;
	struct conn *conns;
	int nconns;
	size_t out_total; /* unread reply bytes of all clients (conn.c) */
	struct pidwatch *pids;
	struct batch *gather; /* loop thread: requests being gathered */
	struct batch *spare;  /* loop thread: finished batches to reuse */
	bool executing;	      /* loop thread: a batch is with the registry */
	struct watch done;    /* W_DONE: eventfd, a stage moved a batch */
	pthread_t registry_thread, sync_thread, ckpt_thread;
	bool threads_started;
	/* guarded by lock: */
	pthread_mutex_t lock;
	pthread_cond_t wake_registry, wake_sync, wake_ckpt;
	bool ckpt_wanted;
	struct batch *to_execute; /* at most one */
	struct bqueue to_sync;	  /* committed, not durable yet */
	struct bqueue finished;	  /* durable (or failed): to answer */
	bool executed;		  /* registry thread is done with one */
	bool stop_threads, registry_stopped;
	int sync_error; /* a failed fdatasync: fatal */
	bool quit;
};

/* server.c */
long long now_ms(void);
int epoll_add(mcsd_server *s, struct watch *w, uint32_t events);

/* listen.c: take systemd's socket or create cfg.socket_path; watched. */
int listen_open(mcsd_server *s, mcs_error *err);

/* admission.c */
void admission_raise_nofile(void);
/* Accept up to a round of pending connections. */
void admission_accept(mcsd_server *s);
/* End a refusal episode or a rest of the socket when their time came. */
void admission_tick(mcsd_server *s);
/* The earlier of next and admission's next deadline (ms). */
long long admission_deadline(const mcsd_server *s, long long next);

/* conn.c */
void conn_new(mcsd_server *s, int fd, const struct ucred *uc);
void conn_free(mcsd_server *s, struct conn *c);
void conn_read(mcsd_server *s, struct conn *c);
void conn_flush(mcsd_server *s, struct conn *c);
void conn_queue_bytes(struct conn *c, const char *msg, size_t len);
void conn_queue(struct conn *c, struct json_object *reply);
/* Close dead and expired connections that have nothing in flight. */
void conn_reap(mcsd_server *s);
/* Read clients that were full and are not any more (after replies were
 * queued or flushed). */
void conn_resume(mcsd_server *s);

/* pidwatch.c */
int pidwatch_add(mcsd_server *s, int pidfd, pid_t pid, const char *owner);
void pidwatch_free(struct pidwatch *p);
size_t pidwatch_count(const mcsd_server *s);
int pidwatch_load(mcsd_server *s);
void pidwatch_gather(mcsd_server *s, struct pidwatch *pw);
void pidwatch_end_leases(mcsd_server *s, struct pidwatch *pw);
void pidwatch_done(mcsd_server *s, struct pidwatch *pw, bool ok);

/* pipeline.c */
void batch_free(struct batch *b);
struct batch *pipeline_gathering(mcsd_server *s);
int pipeline_push(mcsd_server *s, struct conn *c, struct json_object *call,
		  struct json_object *reply);
void pipeline_dispatch(mcsd_server *s);
void pipeline_collect(mcsd_server *s);
int pipeline_start(mcsd_server *s, mcs_error *err);
void pipeline_stop(mcsd_server *s);

#endif
