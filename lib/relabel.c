/* SPDX-License-Identifier: MIT */
/*
 * relabel.c - the relabel walk behind mcs_relabel() and
 * mcs_relabel_restore(): opens the top safely, refuses protected paths,
 * shares the tree's directories out between worker threads, decides each
 * file's target label (a fixed context, chcon-style partial fields, or the
 * journal's original) and writes only what differs.  The top is labeled
 * last.  See mcs/relabel.h for the contract and docs/relabel.md for the
 * design.
 *
 * Safety: every directory is opened relative to its parent with
 * O_NOFOLLOW|O_DIRECTORY and its entries are labeled relative to that fd
 * (xattrat.c), so a directory swapped for a symlink mid-walk is labeled as
 * the symlink it now is and never entered.  Directories are labeled
 * through their own fd (fsetxattr), so the inode checked for mounts and
 * protection is the inode labeled.
 *
 * Speed: getdents64 with a 64 KiB buffer and d_type, no stat except for
 * directories.  Reading a label costs about 2.8 us and writing about
 * 4.4 us, so a label is read before writing only when it can pay off or
 * is needed: when the file's directory already carries the target label
 * (a re-run, or a tree that looks right at the top: check every file, no
 * needless write, no ctime change), and always in partial mode, restore,
 * dry runs, -v (on_change) and with MCS_RELABEL_REMEMBER (the journal
 * needs the old label).  A directory that is wrong gets its files written
 * blindly: a file already right inside a wrong directory is then written
 * again with the same value (ctime changes, the label does not).
 *
 * Parallelism: a shared LIFO of directories to do, kept short (2 per
 * worker); beyond that a worker keeps subdirectories on its own stack
 * (depth first, so open fds stay about the depth of the tree).  Workers
 * are threads of their own even for threads == 1, because the fallback of
 * xattrat.c moves the thread's working directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <mcs/label.h>
#include <mcs/protect.h>
#include <mcs/relabel.h>

#include "journal.h"
#include "relabel_walk.h"
#include "util.h"
#include "xattrat.h"

#define XATTR_NAME    "security.selinux"
#define DENTS_BUF     (64 * 1024)
#define MAX_WORKERS   64
#define LABEL_BUF     4096
#define GLOBAL_TARGET 2 /* directories per worker kept in the shared stack */

enum mode { MODE_FIXED, MODE_PARTIAL, MODE_RESTORE };

struct counters {
	_Atomic uint64_t examined, changed, unchanged, errors, skipped;
} __attribute__((aligned(64)));

/* A directory being walked: its fd stays open while it is scanned and
 * while subdirectories named in it wait to be opened. */
struct dnode {
	int fd;
	atomic_uint refs;
	uint64_t mnt_id; /* statx mount id: other mounts are not entered */
	bool check;	 /* read each entry's label before writing */
	char *path;	 /* relative to the top; "." for the top */
};

struct work {
	struct dnode *parent; /* open the child name in parent... */
	struct dnode *scan;   /* ... or scan this directory (the top) */
	char name[];
};

struct run;

struct worker {
	struct run *run;
	struct counters c;
	struct work **local;
	size_t nlocal, caplocal;
	journal_batch batch;
	char *dents;
	char *old; /* label read buffer */
	size_t oldcap;
	char tgt[MCS_CONTEXT_STR_MAX]; /* partial mode's computed target */
	struct pending *pend;	       /* deferred writes (journal on) */
	size_t npend, cappend;
	pthread_t tid;
};

/* A change recorded in the journal batch, written after the batch. */
struct pending {
	const char *name; /* in the worker's getdents buffer */
	const char *tgt;
	ssize_t tgtlen;
	char *owned; /* tgt when it had to be copied (partial mode) */
	char *old;   /* for on_change only */
	ssize_t oldlen;
};

struct run {
	const mcs_relabel_opts *o;
	unsigned flags;
	enum mode mode;
	bool read_all;	 /* read every label before writing */
	bool need_paths; /* a callback wants paths */
	char target[MCS_CONTEXT_STR_MAX];
	size_t target_len; /* with the trailing NUL */
	mcs_range range;   /* partial mode's -l */
	const journal_map *restore;
	journal_writer *journal;
	mcs_protect_set *protect;

	pthread_mutex_t lock;
	pthread_cond_t cond;	  /* work arrived or the walk ended */
	pthread_cond_t done_cond; /* the walk ended (progress loop) */
	struct work **stack;
	size_t n, cap;
	atomic_size_t nshared; /* n, readable without the lock */
	unsigned active;       /* workers holding work */
	bool done;
	int fatal;	  /* a worker could not start */
	unsigned nexited; /* worker threads that ended */
	unsigned nworkers;
	struct worker *workers;
};

/* ---- small helpers ---------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
	char *p = NULL;

	if (strcmp(dir, ".") == 0)
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static void dnode_unref(struct dnode *d)
{
	if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	close(d->fd);
	free(d->path);
	free(d);
}

static void report_error(struct worker *w, const char *dir, const char *name,
			 int error)
{
	const mcs_relabel_opts *o = w->run->o;

	atomic_fetch_add_explicit(&w->c.errors, 1, memory_order_relaxed);
	if (!o->on_error)
		return;
	_cleanup_free_ char *p = name ? path_join(dir, name) : NULL;
	o->on_error(p ? p : dir, error, o->userdata);
}

static void report_change(struct worker *w, const char *dir, const char *name,
			  const char *old, ssize_t oldlen, const char *tgt,
			  ssize_t tgtlen)
{
	const mcs_relabel_opts *o = w->run->o;
	char obuf[LABEL_BUF], nbuf[LABEL_BUF];

	if (!o->on_change)
		return;
	_cleanup_free_ char *p = name ? path_join(dir, name) : NULL;
	snprintf(obuf, sizeof(obuf), "%.*s", oldlen < 0 ? 6 : (int)oldlen,
		 oldlen < 0 ? "(none)" : old);
	snprintf(nbuf, sizeof(nbuf), "%.*s", tgtlen < 0 ? 6 : (int)tgtlen,
		 tgtlen < 0 ? "(none)" : tgt);
	o->on_change(p ? p : dir, obuf, nbuf, o->userdata);
}

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

/* Identity and mount of an open file (statx: st_dev cannot tell a bind
 * mount of the same filesystem). */
static int identify(int fd, struct stat *st, uint64_t *mnt_id)
{
	struct statx sx;

	if (fstat(fd, st) < 0)
		return negative_errno();
	*mnt_id = 0;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID,
		  &sx) == 0 &&
	    (sx.stx_mask & STATX_MNT_ID))
		*mnt_id = sx.stx_mnt_id;
	else
		*mnt_id = (uint64_t)st->st_dev; /* old kernel: st_dev only */
	return 0;
}

/* ---- label access: by name in a directory, or through an fd ----------- */

/* How to reach one inode's label. */
struct target_ref {
	int dfd;	  /* entry name in dfd (xattrat), or ... */
	const char *name; /* ... NULL: fd below */
	int fd;		  /* f*xattr on an open fd */
	const char *path; /* ... or a path (the top: /proc/self/fd/N...) */
	bool nofollow;	  /* path variant: l*xattr */
};

static ssize_t ref_get(const struct target_ref *t, char *buf, size_t size)
{
	ssize_t r;

	if (t->name)
		return xattrat_get(t->dfd, t->name, XATTR_NAME, buf, size);
	if (t->path)
		r = t->nofollow ? lgetxattr(t->path, XATTR_NAME, buf, size)
				: getxattr(t->path, XATTR_NAME, buf, size);
	else
		r = fgetxattr(t->fd, XATTR_NAME, buf, size);
	return r < 0 ? negative_errno() : r;
}

static int ref_set(const struct target_ref *t, const char *val, ssize_t len)
{
	int r;

	if (len < 0) {
		if (t->name)
			return xattrat_remove(t->dfd, t->name, XATTR_NAME);
		if (t->path)
			r = t->nofollow ? lremovexattr(t->path, XATTR_NAME)
					: removexattr(t->path, XATTR_NAME);
		else
			r = fremovexattr(t->fd, XATTR_NAME);
		return r < 0 ? negative_errno() : 0;
	}
	if (t->name)
		return xattrat_set(t->dfd, t->name, XATTR_NAME, val,
				   (size_t)len);
	if (t->path)
		r = t->nofollow ? lsetxattr(t->path, XATTR_NAME, val,
					    (size_t)len, 0)
				: setxattr(t->path, XATTR_NAME, val,
					   (size_t)len, 0);
	else
		r = fsetxattr(t->fd, XATTR_NAME, val, (size_t)len, 0);
	return r < 0 ? negative_errno() : 0;
}

/* Read the label into w->old; returns its length, -ENODATA when unset, or
 * -errno. */
static ssize_t read_label(struct worker *w, const struct target_ref *t)
{
	for (;;) {
		ssize_t r = ref_get(t, w->old, w->oldcap);
		if (r != -ERANGE)
			return r;
		ssize_t need = ref_get(t, NULL, 0);
		if (need < 0)
			return need;
		char *n = realloc(w->old, (size_t)need + 1);
		if (!n)
			return -ENOMEM;
		w->old = n;
		w->oldcap = (size_t)need + 1;
	}
}

/* ---- what a file should carry ----------------------------------------- */

enum action { ACT_NONE, ACT_SET };

/*
 * Decide the target of one inode.  have_old: the old label was read
 * (oldlen < 0: it has none).  Returns ACT_NONE (already right or nothing
 * recorded), ACT_SET with the target in tgt, tgtlen (tgtlen < 0: remove the
 * label), or -errno (partial mode on a file without a usable label).
 */
static int decide(struct worker *w, ino_t ino, bool have_old, const char *old,
		  ssize_t oldlen, const char **tgt, ssize_t *tgtlen)
{
	struct run *run = w->run;

	switch (run->mode) {
	case MODE_FIXED:
		*tgt = run->target;
		*tgtlen = (ssize_t)run->target_len;
		break;
	case MODE_RESTORE:
		if (!journal_map_lookup(run->restore, ino, tgt, tgtlen))
			return ACT_NONE;
		if (*tgtlen < 0)
			return have_old && oldlen < 0 ? ACT_NONE : ACT_SET;
		break;
	case MODE_PARTIAL: {
		const mcs_relabel_opts *o = run->o;
		mcs_context c;
		size_t n = (size_t)oldlen;

		if (oldlen < 0)
			return -ENODATA;
		if (n > 0 && old[n - 1] == '\0')
			n--;
		if (mcs_context_parse_n(old, n, &c, NULL) < 0)
			return -EINVAL;
		if (o->user)
			snprintf(c.user, sizeof(c.user), "%s", o->user);
		if (o->role)
			snprintf(c.role, sizeof(c.role), "%s", o->role);
		if (o->type)
			snprintf(c.type, sizeof(c.type), "%s", o->type);
		if (o->range) {
			c.range = run->range;
			c.has_range = true;
		}
		int r = mcs_context_format(&c, w->tgt, sizeof(w->tgt));
		if (r < 0)
			return r;
		*tgt = w->tgt;
		*tgtlen = (ssize_t)strlen(w->tgt) + 1;
		break;
	}
	}
	if (have_old && oldlen >= 0 && *tgtlen >= 0 &&
	    mcs_context_str_equal(old, (size_t)oldlen, *tgt, (size_t)*tgtlen))
		return ACT_NONE;
	return ACT_SET;
}

static int defer_write(struct worker *w, const char *name, const char *tgt,
		       ssize_t tgtlen, ssize_t oldlen)
{
	struct pending *p;

	if (w->npend == w->cappend) {
		size_t ncap = w->cappend ? w->cappend * 2 : 256;
		struct pending *n = realloc(w->pend, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		w->pend = n;
		w->cappend = ncap;
	}
	p = &w->pend[w->npend];
	*p = (struct pending){.name = name, .tgt = tgt, .tgtlen = tgtlen};
	if (tgt == w->tgt) {
		p->owned = strdup(tgt);
		if (!p->owned)
			return -ENOMEM;
		p->tgt = p->owned;
	}
	if (w->run->o->on_change) {
		p->old = malloc(oldlen > 0 ? (size_t)oldlen : 1);
		if (!p->old) {
			free(p->owned);
			return -ENOMEM;
		}
		if (oldlen > 0)
			memcpy(p->old, w->old, (size_t)oldlen);
		p->oldlen = oldlen;
	}
	w->npend++;
	return 1;
}

/* Append the batch of records to the journal, then write the labels it
 * recorded (entries of directory dn). */
static void flush_pending(struct worker *w, struct dnode *dn)
{
	struct run *run = w->run;
	int r = journal_writer_append(run->journal, &w->batch);

	for (size_t i = 0; i < w->npend; i++) {
		struct pending *p = &w->pend[i];
		struct target_ref t = {.dfd = dn->fd, .name = p->name};
		int e = r;

		if (e >= 0 && !(run->flags & MCS_RELABEL_DRY_RUN))
			e = ref_set(&t, p->tgt, p->tgtlen);
		if (e == -ENOENT) {
			atomic_fetch_sub_explicit(&w->c.examined, 1,
						  memory_order_relaxed);
		} else if (e < 0) {
			report_error(w, dn->path, p->name, e);
		} else {
			count(&w->c.changed);
			report_change(w, dn->path, p->name, p->old, p->oldlen,
				      p->tgt, p->tgtlen);
		}
		free(p->owned);
		free(p->old);
	}
	w->npend = 0;
}

/*
 * Relabel one inode reached through t.  check: read before writing.
 * Returns 1 when it now carries (or already carried) its target, 0 when
 * it vanished, -errno on failure (already counted and reported).  With
 * the journal on and defer set, the change is only recorded in the
 * worker's batch and its write queued: flush_pending() does both.
 */
static int relabel_one(struct worker *w, const struct target_ref *t, ino_t ino,
		       bool check, const char *dir, const char *name,
		       bool *was_right, bool defer)
{
	struct run *run = w->run;
	const char *tgt = NULL;
	ssize_t oldlen = -1, tgtlen = 0;
	bool have_old = false;
	int r;

	count(&w->c.examined);
	if (check || run->read_all) {
		oldlen = read_label(w, t);
		if (oldlen == -ENOENT)
			goto vanished;
		if (oldlen < 0 && oldlen != -ENODATA) {
			report_error(w, dir, name, (int)oldlen);
			return (int)oldlen;
		}
		if (oldlen == -ENODATA)
			oldlen = -1;
		have_old = true;
	}
	r = decide(w, ino, have_old, w->old, oldlen, &tgt, &tgtlen);
	if (r < 0) {
		report_error(w, dir, name, r);
		return r;
	}
	if (was_right)
		*was_right = r == ACT_NONE;
	if (r == ACT_NONE) {
		count(&w->c.unchanged);
		return 1;
	}
	if (run->journal && have_old) {
		/* The record goes to the journal before the label changes. */
		r = journal_batch_add(&w->batch, ino, w->old, oldlen);
		if (r >= 0 && defer)
			return defer_write(w, name, tgt, tgtlen, oldlen);
		if (r >= 0)
			r = journal_writer_append(run->journal, &w->batch);
		if (r < 0) {
			report_error(w, dir, name, r);
			return r;
		}
	}
	if (!(run->flags & MCS_RELABEL_DRY_RUN)) {
		r = ref_set(t, tgt, tgtlen);
		if (r == -ENOENT)
			goto vanished;
		if (r < 0) {
			report_error(w, dir, name, r);
			return r;
		}
	}
	count(&w->c.changed);
	report_change(w, dir, name, have_old ? w->old : NULL,
		      have_old ? oldlen : -1, tgt, tgtlen);
	return 1;
vanished:
	atomic_fetch_sub_explicit(&w->c.examined, 1, memory_order_relaxed);
	return 0;
}

/* ---- the work stack --------------------------------------------------- */

static int push_shared(struct run *run, struct work *it)
{
	pthread_mutex_lock(&run->lock);
	if (run->n == run->cap) {
		size_t ncap = run->cap ? run->cap * 2 : 64;
		struct work **n = realloc(run->stack, ncap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&run->lock);
			return -ENOMEM;
		}
		run->stack = n;
		run->cap = ncap;
	}
	run->stack[run->n++] = it;
	atomic_store_explicit(&run->nshared, run->n, memory_order_relaxed);
	pthread_cond_signal(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return 0;
}

static int push_work(struct worker *w, struct work *it)
{
	struct run *run = w->run;

	if (atomic_load_explicit(&run->nshared, memory_order_relaxed) <
	    (size_t)GLOBAL_TARGET * run->nworkers)
		return push_shared(run, it);
	if (w->nlocal == w->caplocal) {
		size_t ncap = w->caplocal ? w->caplocal * 2 : 64;
		struct work **n = realloc(w->local, ncap * sizeof(*n));
		if (!n)
			return push_shared(run, it);
		w->local = n;
		w->caplocal = ncap;
	}
	w->local[w->nlocal++] = it;
	return 0;
}

/* Next work item: own stack first, then the shared one (waiting while
 * other workers may still produce work).  NULL: the walk is over. */
static struct work *pop_work(struct worker *w, bool *holding)
{
	struct run *run = w->run;
	struct work *it = NULL;

	if (w->nlocal > 1 &&
	    atomic_load_explicit(&run->nshared, memory_order_relaxed) == 0 &&
	    run->nworkers > 1) {
		/* Others may be idle: share the oldest (biggest) subtrees. */
		size_t give = w->nlocal / 2;
		pthread_mutex_lock(&run->lock);
		if (run->cap - run->n < give) {
			size_t ncap = (run->n + give) * 2;
			struct work **n =
				realloc(run->stack, ncap * sizeof(*n));
			if (n) {
				run->stack = n;
				run->cap = ncap;
			}
		}
		if (run->cap - run->n >= give) {
			memcpy(run->stack + run->n, w->local,
			       give * sizeof(*w->local));
			run->n += give;
			memmove(w->local, w->local + give,
				(w->nlocal - give) * sizeof(*w->local));
			w->nlocal -= give;
			atomic_store_explicit(&run->nshared, run->n,
					      memory_order_relaxed);
			pthread_cond_broadcast(&run->cond);
		}
		pthread_mutex_unlock(&run->lock);
	}
	if (w->nlocal > 0)
		return w->local[--w->nlocal];
	pthread_mutex_lock(&run->lock);
	if (*holding) {
		run->active--;
		*holding = false;
	}
	while (run->n == 0 && run->active > 0 && !run->done)
		pthread_cond_wait(&run->cond, &run->lock);
	if (run->n > 0) {
		it = run->stack[--run->n];
		atomic_store_explicit(&run->nshared, run->n,
				      memory_order_relaxed);
		run->active++;
		*holding = true;
	} else if (!run->done) {
		run->done = true;
		pthread_cond_broadcast(&run->cond);
		pthread_cond_broadcast(&run->done_cond);
	}
	pthread_mutex_unlock(&run->lock);
	return it;
}

/* ---- directories ------------------------------------------------------ */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void scan_dir(struct worker *w, struct dnode *dn)
{
	struct run *run = w->run;
	bool recurse = run->flags & MCS_RELABEL_RECURSIVE;
	int r = xattrat_enter(dn->fd);

	if (r < 0) {
		report_error(w, dn->path, NULL, r);
		return;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, dn->fd, w->dents, DENTS_BUF);
		if (n == 0)
			break;
		if (n < 0) {
			report_error(w, dn->path, NULL, negative_errno());
			break;
		}
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d =
				(struct linux_dirent64 *)(w->dents + off);
			const char *name = d->d_name;
			unsigned char type = d->d_type;

			off += d->d_reclen;
			if (name[0] == '.' &&
			    (name[1] == '\0' ||
			     (name[1] == '.' && name[2] == '\0')))
				continue;
			if (type == DT_UNKNOWN) {
				struct stat st;
				if (fstatat(dn->fd, name, &st,
					    AT_SYMLINK_NOFOLLOW) < 0) {
					if (errno != ENOENT)
						report_error(w, dn->path, name,
							     negative_errno());
					continue;
				}
				type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
			}
			if (type == DT_DIR && recurse) {
				size_t len = strlen(name) + 1;
				struct work *it = malloc(sizeof(*it) + len);
				if (!it) {
					report_error(w, dn->path, name,
						     -ENOMEM);
					continue;
				}
				memcpy(it->name, name, len);
				it->scan = NULL;
				it->parent = dn;
				atomic_fetch_add(&dn->refs, 1);
				if (push_work(w, it) < 0) {
					report_error(w, dn->path, name,
						     -ENOMEM);
					dnode_unref(dn);
					free(it);
				}
				continue;
			}
			struct target_ref t = {.dfd = dn->fd, .name = name};
			relabel_one(w, &t, (ino_t)d->d_ino, dn->check, dn->path,
				    name, NULL, run->journal != NULL);
		}
		if (run->journal)
			flush_pending(w, dn);
	}
}

/* Open, check and label the subdirectory it->name of it->parent, then
 * scan it. */
static void do_child(struct worker *w, struct work *it)
{
	struct run *run = w->run;
	struct dnode *p = it->parent;
	const char *pname = NULL;
	struct stat st;
	bool right = false;
	int fd = openat(p->fd, it->name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
				O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		int r = negative_errno();
		if (r == -ENOENT)
			return;
		if (r == -ELOOP || r == -ENOTDIR) {
			/* Swapped for a symlink or a file since getdents:
			 * label what is there now, never follow it. */
			struct target_ref t = {.dfd = p->fd, .name = it->name};
			struct stat lst;
			if (fstatat(p->fd, it->name, &lst,
				    AT_SYMLINK_NOFOLLOW) < 0)
				return;
			r = xattrat_enter(p->fd);
			if (r < 0)
				report_error(w, p->path, it->name, r);
			else
				relabel_one(w, &t, lst.st_ino, p->check,
					    p->path, it->name, NULL, false);
			return;
		}
		report_error(w, p->path, it->name, r);
		return;
	}
	uint64_t mnt_id;
	int e = identify(fd, &st, &mnt_id);
	if (e < 0) {
		report_error(w, p->path, it->name, e);
		close(fd);
		return;
	}
	if (mnt_id != p->mnt_id && !(run->flags & MCS_RELABEL_CROSS_MOUNTS)) {
		count(&w->c.examined);
		count(&w->c.skipped);
		close(fd);
		return;
	}
	if (mcs_protect_set_has(run->protect, st.st_dev, st.st_ino, &pname)) {
		count(&w->c.examined);
		report_error(w, p->path, it->name, -EPERM);
		close(fd);
		return;
	}
	struct target_ref t = {.fd = fd};
	if (relabel_one(w, &t, st.st_ino, true, p->path, it->name, &right,
			false) == 0) {
		close(fd);
		return;
	}
	struct dnode *dn = calloc(1, sizeof(*dn));
	char *path = path_join(p->path, it->name);
	if (!dn || !path) {
		report_error(w, p->path, it->name, -ENOMEM);
		free(dn);
		free(path);
		close(fd);
		return;
	}
	dn->fd = fd;
	atomic_init(&dn->refs, 1);
	dn->mnt_id = mnt_id;
	dn->check = right || run->read_all;
	dn->path = path;
	scan_dir(w, dn);
	dnode_unref(dn);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	bool holding = false;
	struct work *it;

	while ((it = pop_work(w, &holding))) {
		if (it->scan) {
			scan_dir(w, it->scan);
			dnode_unref(it->scan);
		} else {
			do_child(w, it);
			dnode_unref(it->parent);
		}
		free(it);
	}
	return NULL;
}

static void *worker_start(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	int r = xattrat_thread_init();

	/* Without a working directory of its own this thread would move
	 * everyone's: then it does no work at all. */
	if (r >= 0)
		worker_main(w);
	pthread_mutex_lock(&run->lock);
	if (r < 0)
		run->fatal = r;
	run->nexited++;
	pthread_cond_broadcast(&run->done_cond);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* Work items nobody ran (no worker could start). */
static void drop_work(struct run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct work *it = run->stack[i];
		dnode_unref(it->scan ? it->scan : it->parent);
		free(it);
	}
	run->n = 0;
}

static void sum_counters(const struct run *run, mcs_relabel_result *res)
{
	*res = (mcs_relabel_result){0};
	for (unsigned i = 0; i < run->nworkers; i++) {
		const struct counters *c = &run->workers[i].c;
		res->examined += atomic_load_explicit(&c->examined,
						      memory_order_relaxed);
		res->changed +=
			atomic_load_explicit(&c->changed, memory_order_relaxed);
		res->unchanged += atomic_load_explicit(&c->unchanged,
						       memory_order_relaxed);
		res->errors +=
			atomic_load_explicit(&c->errors, memory_order_relaxed);
		res->skipped +=
			atomic_load_explicit(&c->skipped, memory_order_relaxed);
	}
}

static int worker_init(struct worker *w, struct run *run)
{
	w->run = run;
	w->dents = malloc(DENTS_BUF);
	w->oldcap = LABEL_BUF;
	w->old = malloc(w->oldcap);
	return w->dents && w->old ? 0 : -ENOMEM;
}

static void worker_fini(struct worker *w)
{
	for (size_t i = 0; i < w->nlocal; i++)
		free(w->local[i]);
	free(w->local);
	free(w->pend);
	free(w->dents);
	free(w->old);
	journal_batch_free(&w->batch);
}

/* Walk the top directory top (fd open O_RDONLY|O_DIRECTORY, owned by the
 * caller) with the run's workers; workers[0] was used for the top. */
static int run_workers(struct run *run, struct dnode *top)
{
	unsigned started = 0;
	int r = 0;

	struct work *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->scan = top;
	atomic_fetch_add(&top->refs, 1);
	r = push_shared(run, it);
	if (r < 0) {
		dnode_unref(top);
		free(it);
		return r;
	}
	pthread_mutex_lock(&run->lock);
	run->active = 0;
	pthread_mutex_unlock(&run->lock);
	for (unsigned i = 0; i < run->nworkers; i++) {
		if (pthread_create(&run->workers[i].tid, NULL, worker_start,
				   &run->workers[i]) != 0)
			break;
		started++;
	}
	if (started == 0) {
		/* Nothing runs the item: take it back. */
		pthread_mutex_lock(&run->lock);
		run->n = 0;
		pthread_mutex_unlock(&run->lock);
		dnode_unref(top);
		free(it);
		return -EAGAIN;
	}
	if (run->o->on_progress) {
		pthread_mutex_lock(&run->lock);
		while (!run->done && run->nexited < started) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&run->done_cond, &run->lock,
					       &ts);
			if (run->done)
				break;
			pthread_mutex_unlock(&run->lock);
			mcs_relabel_result sofar;
			sum_counters(run, &sofar);
			run->o->on_progress(&sofar, run->o->userdata);
			pthread_mutex_lock(&run->lock);
		}
		pthread_mutex_unlock(&run->lock);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(run->workers[i].tid, NULL);
	if (run->n > 0) {
		drop_work(run);
		return run->fatal ? run->fatal : -EAGAIN;
	}
	return 0;
}

/* ---- options ---------------------------------------------------------- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MCS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || s[i] == '.' || s[i] == '-' ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int setup_run(struct run *run, const mcs_relabel_opts *o,
		     const journal_map *restore, mcs_error *err)
{
	run->o = o;
	run->flags = o->flags;
	run->restore = restore;
	if (restore) {
		run->mode = MODE_RESTORE;
	} else if (o->context) {
		mcs_context c;
		int r = mcs_context_parse(o->context, &c, err);
		if (r < 0)
			return mcs_error_prefix(
				err, "invalid context %s: ", o->context);
		if (o->user || o->role || o->type || o->range)
			return mcs_error_set(err, -EINVAL,
					     "a full context and -u/-r/-t/-l "
					     "exclude each other");
		r = mcs_context_format(&c, run->target, sizeof(run->target));
		if (r < 0)
			return mcs_error_set(err, r, "cannot format %s",
					     o->context);
		run->target_len = strlen(run->target) + 1;
		run->mode = MODE_FIXED;
	} else {
		const char *names[] = {o->user, o->role, o->type};
		const char *what[] = {"user", "role", "type"};
		if (!o->user && !o->role && !o->type && !o->range)
			return mcs_error_set(err, -EINVAL,
					     "no target context given");
		for (size_t i = 0; i < ELEMENTSOF(names); i++)
			if (names[i] && !valid_name(names[i]))
				return mcs_error_set(err, -EINVAL,
						     "invalid %s name \"%s\"",
						     what[i], names[i]);
		if (o->range && mcs_range_parse(o->range, &run->range, err) < 0)
			return mcs_error_prefix(err,
						"invalid range %s: ", o->range);
		run->mode = MODE_PARTIAL;
	}
	run->need_paths = o->on_error || o->on_change;
	run->read_all =
		run->mode != MODE_FIXED ||
		(o->flags & (MCS_RELABEL_REMEMBER | MCS_RELABEL_DRY_RUN)) ||
		o->on_change;
	run->nworkers = o->threads;
	if (run->nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		run->nworkers = n > 0 ? (unsigned)n : 1;
	}
	if (run->nworkers > MAX_WORKERS)
		run->nworkers = MAX_WORKERS;
	if (!(o->flags & MCS_RELABEL_RECURSIVE))
		run->nworkers = 1;
	return 0;
}

/* ---- the top ---------------------------------------------------------- */

static int open_top(const char *path, unsigned flags, struct stat *st,
		    mcs_error *err)
{
	int fd =
		open(path,
		     O_PATH | O_CLOEXEC |
			     (flags & MCS_RELABEL_FOLLOW_TOP ? 0 : O_NOFOLLOW));
	if (fd < 0 || fstat(fd, st) < 0) {
		int r = negative_errno();
		if (fd >= 0)
			close(fd);
		return mcs_error_set(err, r, "%s: %s", path, strerror(-r));
	}
	return fd;
}

int relabel_top_volume(const char *path, unsigned flags, journal_volume *ret,
		       mcs_error *err)
{
	struct stat st;
	_cleanup_close_ int fd = open_top(path, flags, &st, err);
	int r;

	if (fd < 0)
		return fd;
	r = journal_volume_of(fd, &st, ret);
	if (r < 0)
		return mcs_error_set(err, r, "%s: %s", path, strerror(-r));
	return 0;
}

/* How to label the top: a directory through its O_RDONLY fd; a symlink
 * through its parent (after checking the parent's entry is still the inode
 * we opened); anything else through /proc/self/fd/N, which reaches exactly
 * the opened inode. */
static int top_ref(const char *path, int ofd, const struct stat *st, int dfd,
		   struct target_ref *t, int *pfd, char *buf, size_t size,
		   mcs_error *err)
{
	*t = (struct target_ref){.fd = -1};
	if (dfd >= 0) {
		t->fd = dfd;
		return 0;
	}
	/* /proc/self/fd/N reaches the opened inode only if /proc really is
	 * procfs (as crun checks before writing attr/exec). */
	struct statfs sfs;
	if (statfs("/proc/self/fd", &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return mcs_error_set(err, -ENOTSUP,
				     "%s: /proc is not procfs, cannot reach "
				     "the opened file safely",
				     path);
	if (!S_ISLNK(st->st_mode)) {
		snprintf(buf, size, "/proc/self/fd/%d", ofd);
		t->path = buf;
		return 0;
	}
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	const char *parent = slash ? (slash == dir ? "/" : dir) : ".";
	if (slash)
		*slash = '\0';
	*pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat lst;
	if (*pfd < 0 || fstatat(*pfd, base, &lst, AT_SYMLINK_NOFOLLOW) < 0) {
		int r = negative_errno();
		return mcs_error_set(err, r, "%s: %s", path, strerror(-r));
	}
	if (lst.st_dev != st->st_dev || lst.st_ino != st->st_ino)
		return mcs_error_set(err, -EAGAIN,
				     "%s changed while being relabeled", path);
	if ((size_t)snprintf(buf, size, "/proc/self/fd/%d/%s", *pfd, base) >=
	    size)
		return mcs_error_set(err, -ENAMETOOLONG, "%s: name too long",
				     path);
	t->path = buf;
	t->nofollow = true;
	return 0;
}

int relabel_walk(const char *path, const mcs_relabel_opts *opts,
		 const journal_map *restore, const journal_volume *expect,
		 mcs_relabel_result *res, mcs_error *err)
{
	mcs_relabel_opts none = {0};
	const mcs_relabel_opts *o = opts ? opts : &none;
	struct run *run = calloc(1, sizeof(*run));
	_cleanup_close_ int ofd = -1, dfd = -1, pfd = -1;
	char procpath[PATH_MAX + 32];
	struct target_ref t;
	struct stat st;
	mcs_relabel_result sum = {0};
	int r;

	if (res)
		*res = sum;
	if (!run)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&run->lock, NULL);
	pthread_cond_init(&run->cond, NULL);
	pthread_cond_init(&run->done_cond, NULL);
	r = setup_run(run, o, restore, err);
	if (r < 0)
		goto out;
	ofd = open_top(path, o->flags, &st, err);
	if (ofd < 0) {
		r = ofd;
		goto out;
	}
	if (expect) {
		/* The top restore checked the journal against, not one
		 * swapped in since. */
		journal_volume v;
		r = journal_volume_of(ofd, &st, &v);
		if (r >= 0 && (v.dev_major != expect->dev_major ||
			       v.dev_minor != expect->dev_minor ||
			       v.ino != expect->ino || v.fsid != expect->fsid ||
			       v.btime_sec != expect->btime_sec ||
			       v.btime_nsec != expect->btime_nsec))
			r = -ESTALE;
		if (r < 0) {
			mcs_error_set(err, r,
				      "%s changed since its journal was "
				      "checked",
				      path);
			goto out;
		}
	}
	r = mcs_protect_set_new(NULL, &run->protect, err);
	if (r < 0)
		goto out;
	r = mcs_protect_check_fd(run->protect, ofd, path, err);
	if (r < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		dfd = openat(ofd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			r = negative_errno();
			mcs_error_set(err, r, "%s: %s", path, strerror(-r));
			goto out;
		}
	}
	r = top_ref(path, ofd, &st, dfd, &t, &pfd, procpath, sizeof(procpath),
		    err);
	if (r < 0)
		goto out;
	if ((o->flags & MCS_RELABEL_REMEMBER) &&
	    !(o->flags & MCS_RELABEL_DRY_RUN) && !restore) {
		journal_volume vol;
		r = journal_volume_of(ofd, &st, &vol);
		if (r < 0) {
			mcs_error_set(err, r, "%s: %s", path, strerror(-r));
			goto out;
		}
		r = journal_writer_open(o->state_dir, &vol, path, o->context,
					&run->journal, err);
		if (r < 0)
			goto out;
	}
	run->workers = calloc(run->nworkers, sizeof(*run->workers));
	if (!run->workers) {
		r = mcs_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < run->nworkers; i++) {
		if (worker_init(&run->workers[i], run) < 0) {
			r = mcs_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}

	/* Does the top already carry its target?  Then check every file of
	 * the directories that do too. */
	struct worker *w0 = &run->workers[0];
	ssize_t topold = read_label(w0, &t);
	bool top_right = false;
	if (topold >= 0 || topold == -ENODATA) {
		const char *tgt;
		ssize_t tgtlen;
		top_right = decide(w0, st.st_ino, true, w0->old,
				   topold < 0 ? -1 : topold, &tgt,
				   &tgtlen) == ACT_NONE;
	}

	if (dfd >= 0 && (o->flags & MCS_RELABEL_RECURSIVE)) {
		struct dnode *top = calloc(1, sizeof(*top));
		if (!top) {
			r = mcs_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		top->fd = dup(dfd);
		top->path = strdup(".");
		atomic_init(&top->refs, 1);
		struct stat dst;
		if (identify(dfd, &dst, &top->mnt_id) < 0)
			top->mnt_id = (uint64_t)st.st_dev;
		top->check = top_right || run->read_all;
		if (top->fd < 0 || !top->path) {
			if (top->fd >= 0)
				close(top->fd);
			free(top->path);
			free(top);
			r = mcs_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		r = run_workers(run, top);
		dnode_unref(top);
		if (r < 0) {
			mcs_error_set(err, r, "%s: cannot start workers: %s",
				      path, strerror(-r));
			goto out;
		}
	}

	/* The journal is durable before the top changes; then the top. */
	if (run->journal && (r = journal_writer_sync(run->journal)) < 0) {
		mcs_error_set(err, r, "%s: journal: %s", path, strerror(-r));
		goto out;
	}
	relabel_one(w0, &t, st.st_ino, true, ".", NULL, NULL, false);
	/* The run's commit (below) syncs again. */
	sum_counters(run, &sum);
	r = sum.errors ? mcs_error_set(err, -EIO,
				       "%s: %" PRIu64 " of %" PRIu64
				       " files could not be relabeled",
				       path, sum.errors, sum.examined)
		       : 0;
out:
	if (res)
		*res = sum;
	if (run->workers) {
		for (unsigned i = 0; i < run->nworkers; i++)
			worker_fini(&run->workers[i]);
		free(run->workers);
	}
	free(run->stack);
	/* Every batch written is whole (or was cut off): commit the run,
	 * also after an error, so restore sees it ended in order. */
	if (run->journal) {
		int c = journal_writer_commit(run->journal);
		if (c < 0 && r >= 0)
			r = mcs_error_set(err, c, "%s: journal: %s", path,
					  strerror(-c));
		journal_writer_close(run->journal);
	}
	mcs_protect_set_free(run->protect);
	pthread_mutex_destroy(&run->lock);
	pthread_cond_destroy(&run->cond);
	pthread_cond_destroy(&run->done_cond);
	free(run);
	return r;
}

MCS_EXPORT int mcs_relabel(const char *path, const mcs_relabel_opts *opts,
			   mcs_relabel_result *res, mcs_error *err)
{
	if (!path || !opts)
		return mcs_error_set(err, -EINVAL, "no path or options");
	return relabel_walk(path, opts, NULL, NULL, res, err);
}
