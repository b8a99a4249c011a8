/* SPDX-License-Identifier: MIT */
/*
 * server.c - mcsd's event loop: the listening socket (systemd's, or our own
 * created 0660), one non-blocking connection per client with its peer
 * credentials, read and idle timeouts, a message size limit, pidfds of
 * leases, and SIGTERM/SIGINT through a signalfd.
 *
 * Threads, a pipeline of batches:
 *  - the loop thread owns every socket: it accepts, reads and parses
 *    requests and gathers them into a batch; it serialises and sends the
 *    replies of finished batches;
 *  - the registry thread owns the registry (sqlite): it answers a whole
 *    batch inside ONE transaction and commits it without waiting for the
 *    disk (mcs_registry_commit_nowait);
 *  - the sync thread makes committed batches durable, one fdatasync for
 *    all batches committed since the last (mcs_registry_sync);
 *  - a fourth thread, at a lower priority, copies the WAL into the
 *    database (checkpoints) when the registry thread says it is time, so
 *    no commit stalls for that copy.
 * While a batch is being flushed, the next one executes, and while one
 * executes, the loop thread gathers the next: the batch grows with the
 * load (group commit, not one fsync per request).  A reply is queued only
 * after a sync that began after its batch committed.  Replies of one
 * connection keep the order of its requests (varlink): even a parse error
 * is answered through the batch, in its turn.
 *
 * The server decides who may do what only coarsely (may_allocate, denied);
 * protocol.c applies it per method.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <selinux/selinux.h>
#include <systemd/sd-daemon.h>

#include "server.h"

#include "log.h"
#include "proc.h"
#include "protocol.h"
#include "registry.h"
#include "util.h"
#include "varlink.h"

/* Reply bytes a client may leave unread before it is dropped. */
#define OUT_MAX (4 * 1024 * 1024)
/* Bytes read from one client per iteration (fairness). */
#define READ_BUDGET (256 * 1024)
/* Connections accepted per round: a backlog of thousands (a connect
 * storm, most of them already closed) is taken in steps, with the
 * hang-ups of each step reaped before the next, not all at once up to
 * max_clients; and the clients already in are served in between. */
#define ACCEPT_BUDGET 64
/* A refusal episode ends after this long without one. */
#define REFUSING_QUIET_MS 1000
/* Out of descriptors and of the spare one: the socket rests this long. */
#define LISTEN_PAUSE_MS 100

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
	size_t inflight;	    /* requests in batches, not yet answered */
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
	bool ok;    /* committed and durable */
	char *text; /* serialised replies, one after the other; kept and */
	size_t text_len, text_cap; /* reused with the batch: no malloc per
				      reply crossing threads */
	struct batch *next;
};

/* A FIFO of batches. */
struct bqueue {
	struct batch *head, *tail;
};

struct mcs_server {
	mcs_server_config cfg;
	mcs_registry *reg; /* the registry thread's, once threads run */
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

/*
 * Every client and every watched lease pid holds a descriptor: take the
 * hard limit of RLIMIT_NOFILE, not the soft 1024 (mcsd uses epoll, never
 * select, so a higher soft limit is safe).
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_msg(MCS_LOG_WARNING,
				"cannot raise the open files limit: %m");
	}
}

/* Open the registry over the configured range and release the leases of
 * dead processes and earlier boots. */
static int registry_start(const mcs_server_config *cfg, mcs_registry **ret,
			  mcs_error *err)
{
	mcs_registry_config rcfg = {0};
	size_t released = 0;
	int r = mcs_cat_range_parse(cfg->range, &rcfg.range, err);

	if (r < 0)
		return mcs_error_prefix(err, "range '%s': ", cfg->range);
	r = mcs_registry_open(cfg->db_path, &rcfg, ret, err);
	if (r < 0)
		return r; /* err already names the registry */
	r = mcs_registry_reconcile(*ret, &released, err);
	if (r < 0) {
		mcs_registry_close(*ret);
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

/* Rows read per page when walking the whole registry. */
#define WALK_PAGE 256

/* Watch the pids of the leases the registry holds (after a restart). */
static int watch_existing(mcs_server *s)
{
	_cleanup_free_ mcs_registry_entry *rows =
		calloc(WALK_PAGE, sizeof(*rows));
	char after[sizeof(rows->owner)] = "";
	size_t n;

	if (!rows)
		return -ENOMEM;
	/* a page at a time: a full registry's rows take 300 MB at once,
	 * its leases with a pid far fewer */
	do {
		int r = mcs_registry_list_page(s->reg, after, rows, WALK_PAGE,
					       &n, NULL);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].kind != MCS_REGISTRY_LEASE ||
			    rows[i].pid <= 0)
				continue;
			int fd =
				proc_pidfd_open(rows[i].pid, rows[i].pid_start);
			if (fd < 0)
				continue; /* gone since reconcile */
			if (watch_pid(s, fd, rows[i].pid, rows[i].owner) < 0)
				log_msg(MCS_LOG_WARNING, "cannot watch pid %d",
					(int)rows[i].pid);
		}
		if (n)
			snprintf(after, sizeof(after), "%s", rows[n - 1].owner);
	} while (n == WALK_PAGE);
	return 0;
}

int mcs_server_new(const mcs_server_config *cfg, mcs_server **ret,
		   mcs_error *err)
{
	mcs_server *s = calloc(1, sizeof(*s));
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

	raise_nofile();
	int r = registry_start(cfg, &s->reg, err);
	if (r < 0)
		goto fail;

	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
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
	s->done.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->done.fd < 0 || epoll_add(s, &s->done, EPOLLIN) < 0) {
		r = mcs_error_set(err, negative_errno(), "eventfd: %m");
		goto fail;
	}

	/* Leases that survived a restart: watch their pids again. */
	r = watch_existing(s);
	if (r < 0) {
		mcs_error_set(err, r, "registry %s: cannot list leases: %s",
			      cfg->db_path, strerror(-r));
		goto fail;
	}

	*ret = s;
	return 0;
fail:
	mcs_server_free(s);
	return r;
}

static void batch_free(struct batch *b)
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

static void conn_free(mcs_server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	varlink_buf_free(&c->in);
	free(c->out);
	free(c);
	s->nconns--;
}

void mcs_server_free(mcs_server *s)
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
	mcs_registry_close(s->reg);
	free(s);
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
static bool peer_in_group(const mcs_server *s, int fd, const struct ucred *uc)
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

static size_t pidwatch_count(const mcs_server *s)
{
	size_t n = 0;
	for (const struct pidwatch *p = s->pids; p; p = p->next)
		n++;
	return n;
}

/* Say once, not for every connection, that connections are refused. */
static void refusing(mcs_server *s, const char *why)
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
static void refused_one(mcs_server *s)
{
	s->refused++;
	s->last_refusal_ms = now_ms();
}

/* The episode is over once a second has passed without a refusal. */
static void refusing_end(mcs_server *s, long long now)
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
static bool refuse_one(mcs_server *s)
{
	if (s->spare_fd < 0)
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->spare_fd < 0)
		return false;
	close(s->spare_fd);
	int fd = accept4(s->listen.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		refused_one(s);
	}
	/* another thread may take the slot first: retried next time */
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

/* Neither a descriptor nor a spare one: stop watching the socket for a
 * while rather than spin on it. */
static void listen_pause(mcs_server *s)
{
	if (s->listen_paused_until_ms ||
	    epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen.fd, NULL) < 0)
		return;
	s->listen_paused_until_ms = now_ms() + LISTEN_PAUSE_MS;
}

static void listen_resume(mcs_server *s, long long now)
{
	if (!s->listen_paused_until_ms || now < s->listen_paused_until_ms)
		return;
	if (epoll_add(s, &s->listen, EPOLLIN) == 0)
		s->listen_paused_until_ms = 0;
	else
		s->listen_paused_until_ms = now + LISTEN_PAUSE_MS;
}

static void do_accept(mcs_server *s)
{
	for (int budget = ACCEPT_BUDGET; budget > 0; budget--) {
		int fd = accept4(s->listen.fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				refusing(s, "out of file descriptors");
				if (refuse_one(s))
					continue;
				listen_pause(s);
			} else if (errno != EAGAIN && errno != EINTR) {
				log_msg(MCS_LOG_WARNING, "accept: %m");
			}
			return;
		}
		struct ucred uc;
		socklen_t len = sizeof(uc);
		if (s->nconns >= s->cfg.max_clients) {
			refusing(s, "max_clients reached");
			refused_one(s);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
			log_msg(MCS_LOG_WARNING, "SO_PEERCRED: %m");
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

/* Append a serialised reply (len bytes, NUL included) to c's output. */
static void conn_queue_bytes(struct conn *c, const char *msg, size_t len)
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
static void conn_queue(struct conn *c, struct json_object *reply)
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
	if (!pending && c->closing && c->inflight == 0) {
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

/* The batch being gathered (loop thread), NULL when out of memory. */
static struct batch *gathering(mcs_server *s)
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
static int batch_push(mcs_server *s, struct conn *c, struct json_object *call,
		      struct json_object *reply)
{
	struct batch *b = gathering(s);

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
		/* A read shorter than asked drained the socket: no second
		 * recv just to learn EAGAIN (epoll is level-triggered, more
		 * data wakes us again).  Asked: the room fill read into. */
		bool drained = (size_t)r < c->in.cap - (c->in.len - (size_t)r);
		for (;;) {
			struct json_object *call = NULL;
			r = varlink_buf_take(&c->in, &call);
			if (r == 0)
				break;
			if (r == -EMSGSIZE) {
				/* Cannot find the next message: answer, close.
				 */
				if (batch_push(s, c, NULL,
					       protocol_error(
						       "org.varlink.service."
						       "InvalidParameter",
						       "parameter",
						       "message too large")) <
				    0)
					c->dead = true;
				c->closing = true;
				break;
			}
			c->idle_deadline = now_ms() + s->cfg.idle_timeout_ms;
			if (r == -EBADMSG) {
				if (batch_push(s, c, NULL,
					       protocol_error(
						       "org.varlink.service."
						       "InvalidParameter",
						       "parameter",
						       "message is not a JSON "
						       "object")) < 0) {
					c->dead = true;
					return;
				}
				continue;
			}
			if (r < 0) {
				json_object_put(call);
				c->dead = true;
				return;
			}
			if (batch_push(s, c, call, NULL) < 0) {
				c->dead = true;
				return;
			}
		}
		if (drained)
			break;
	}
	if (c->in.len == 0)
		c->partial_deadline = 0;
	else if (!c->partial_deadline)
		c->partial_deadline = now_ms() + s->cfg.read_timeout_ms;
}

/* ---- the pipeline ------------------------------------------------------ */

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
static void notify_loop(mcs_server *s)
{
	uint64_t one = 1;
	(void)!write(s->done.fd, &one, sizeof(one));
}

/* Registry thread: release the leases of an exited pid. */
static void pid_exited(mcs_server *s, struct pidwatch *pw)
{
	int released = 0;
	for (size_t i = 0; i < pw->nowners; i++) {
		int r = mcs_registry_end_lease(s->reg, pw->owners[i], pw->pid,
					       NULL);
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
}

/* Registry thread: answer batch b in one transaction, committed but not
 * yet durable. */
static void batch_execute(mcs_server *s, struct batch *b)
{
	mcs_error err = {0};
	int r = mcs_registry_begin(s->reg, &err);

	b->text_len = 0;
	b->ok = r >= 0;
	if (!b->ok) {
		log_msg(MCS_LOG_ERR, "registry: %s",
			err.code ? err.msg : strerror(-r));
		return;
	}
	for (size_t i = 0; i < b->nexited; i++)
		pid_exited(s, b->exited[i]);
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
	r = mcs_registry_commit_nowait(s->reg, &err);
	if (r < 0) {
		log_msg(MCS_LOG_ERR, "registry commit: %s", err.msg);
		b->ok = false; /* rolled back */
	}
}

static void *registry_main(void *arg)
{
	mcs_server *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->to_execute && !s->stop_threads)
			pthread_cond_wait(&s->wake_registry, &s->lock);
		struct batch *b = s->to_execute;
		if (!b)
			break; /* stopping, nothing left */
		pthread_mutex_unlock(&s->lock);
		batch_execute(s, b);
		bool due = mcs_registry_checkpoint_due(s->reg);
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
	mcs_server *s = arg;

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
		int r = mcs_registry_sync(s->reg, &err);
		if (r < 0)
			log_msg(MCS_LOG_ERR, "registry: %s: stopping", err.msg);
		pthread_mutex_lock(&s->lock);
		if (r < 0)
			s->sync_error = r;
		while (b) {
			struct batch *next = b->next;
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
	mcs_server *s = arg;

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
		int r = mcs_registry_checkpoint(s->reg, &err);
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
static void batch_dispatch(mcs_server *s)
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
static void batch_finish(mcs_server *s, struct batch *b)
{
	for (size_t i = 0; i < b->nexited; i++) {
		struct pidwatch *pw = b->exited[i];
		if (!b->ok) {
			/* its releases were rolled back: watch it again, the
			 * next batch retries them */
			pw->exiting = false;
			if (epoll_add(s, &pw->w, EPOLLIN) == 0)
				continue;
			log_msg(MCS_LOG_WARNING,
				"cannot watch pid %d again: its leases stay "
				"until the next start",
				(int)pw->pid);
		}
		for (struct pidwatch **pp = &s->pids; *pp; pp = &(*pp)->next)
			if (*pp == pw) {
				*pp = pw->next;
				break;
			}
		pidwatch_free(pw); /* unwatched when gathered */
	}
	for (size_t i = 0; i < b->n; i++) {
		struct pending *p = &b->v[i];
		struct conn *c = p->c;
		struct json_object *reply = p->res.reply;

		/* a oneway call gets no reply, not even an error */
		bool oneway = p->handled && !p->msg_len && !p->failed;
		if (p->call && !b->ok && !oneway) {
			p->msg_len = 0;
			reply = protocol_error("io.mcskit.Labels.StorageError",
					       "message",
					       "registry commit failed");
			if (p->res.pidfd >= 0)
				close(p->res.pidfd);
		} else if (p->res.pidfd >= 0) {
			if (watch_pid(s, p->res.pidfd, p->res.pid,
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
static void pipeline_collect(mcs_server *s)
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

static void gather_exited(mcs_server *s, struct pidwatch *pw)
{
	struct batch *b = gathering(s);

	if (!b || pw->exiting)
		return; /* already in a batch (or no memory: next time) */
	if (b->nexited == b->exited_cap) {
		size_t ncap = b->exited_cap ? 2 * b->exited_cap : 16;
		struct pidwatch **n = realloc(b->exited, ncap * sizeof(*n));
		if (!n)
			return; /* level-triggered: next time */
		b->exited = n;
		b->exited_cap = ncap;
	}
	b->exited[b->nexited++] = pw;
	pw->exiting = true;
	/* level-triggered: unwatched now, or every epoll_wait would return
	 * it at once until its batch is answered */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, pw->w.fd, NULL);
}

/* Tell the pipeline threads to stop, once nothing is left to do. */
static void threads_signal_stop(mcs_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop_threads = true;
	pthread_cond_signal(&s->wake_registry);
	pthread_cond_signal(&s->wake_ckpt);
	pthread_mutex_unlock(&s->lock);
}

static int threads_start(mcs_server *s, mcs_error *err)
{
	static void *(*const mains[])(void *) = {registry_main, sync_main,
						 ckpt_main};
	pthread_t *tids[] = {&s->registry_thread, &s->sync_thread,
			     &s->ckpt_thread};
	size_t n = 0;
	int r = mcs_registry_checkpoint_elsewhere(s->reg, err);

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
	threads_signal_stop(s);
	while (n > 0)
		pthread_join(*tids[--n], NULL);
	return mcs_error_set(err, -r, "cannot start a thread: %s", strerror(r));
}

/* Finish the batches in flight, answer them, and stop the threads. */
static void threads_stop(mcs_server *s)
{
	if (!s->threads_started)
		return;
	threads_signal_stop(s);
	pthread_join(s->registry_thread, NULL);
	pthread_join(s->sync_thread, NULL);
	pthread_join(s->ckpt_thread, NULL);
	s->threads_started = false;
	pipeline_collect(s);
}

static void reap_conns(mcs_server *s)
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

static int next_timeout(const mcs_server *s)
{
	long long now = now_ms(), next = now + 60000;
	if (s->refusing && s->last_refusal_ms + REFUSING_QUIET_MS < next)
		next = s->last_refusal_ms + REFUSING_QUIET_MS;
	if (s->listen_paused_until_ms && s->listen_paused_until_ms < next)
		next = s->listen_paused_until_ms;
	for (const struct conn *c = s->conns; c; c = c->next) {
		if (c->idle_deadline < next)
			next = c->idle_deadline;
		if (c->partial_deadline && c->partial_deadline < next)
			next = c->partial_deadline;
	}
	return next <= now ? 0 : (int)(next - now);
}

int mcs_server_run(mcs_server *s, mcs_error *err)
{
	struct epoll_event evs[256];
	int r = threads_start(s, err);

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
			threads_stop(s);
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
				gather_exited(s, (struct pidwatch *)w);
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
		batch_dispatch(s);
		if (s->refusing || s->listen_paused_until_ms) {
			long long now = now_ms();
			refusing_end(s, now);
			listen_resume(s, now);
		}
		for (struct conn *c = s->conns; c; c = c->next)
			if (c->out_off < c->out_len || c->closing)
				conn_flush(s, c);
		reap_conns(s);
		if (accept_ready)
			do_accept(s);
	}
	sd_notify(0, "STOPPING=1");
	log_msg(MCS_LOG_NOTICE, "stopping");
	threads_stop(s);
	for (struct conn *c = s->conns; c; c = c->next)
		conn_flush(s, c);
	if (s->sync_error)
		return mcs_error_set(err, s->sync_error,
				     "the registry could not be flushed to "
				     "disk");
	return 0;
}
