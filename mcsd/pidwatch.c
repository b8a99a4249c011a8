/* SPDX-License-Identifier: MIT */
/*
 * pidwatch.c - the processes leases are bound to: a pidfd per process in
 * the loop's epoll set with the owners of its leases, loaded again at
 * start for the leases that survived a restart; an exit joins the batch
 * being gathered, whose transaction releases those leases (in the
 * registry thread), and is watched again if that batch failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server_int.h"

#include "log.h"
#include "proc.h"
#include "registry.h"
#include "util.h"

/* Watch pidfd for owner's lease (pidfd taken: closed when pid is already
 * watched). */
int pidwatch_add(mcsd_server *s, int pidfd, pid_t pid, const char *owner)
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

void pidwatch_free(struct pidwatch *p)
{
	close(p->w.fd);
	for (size_t i = 0; i < p->nowners; i++)
		free(p->owners[i]);
	free(p->owners);
	free(p);
}

size_t pidwatch_count(const mcsd_server *s)
{
	size_t n = 0;
	for (const struct pidwatch *p = s->pids; p; p = p->next)
		n++;
	return n;
}

/* Rows read per page when walking the whole registry. */
#define WALK_PAGE 256

/* Watch the pids of the leases the registry holds (after a restart): only
 * this host's leases (a registry shared by many hosts holds pids of
 * other machines). */
int pidwatch_load(mcsd_server *s)
{
	_cleanup_free_ mcsd_registry_lease *rows =
		calloc(WALK_PAGE, sizeof(*rows));
	char after[sizeof(rows->owner)] = "";
	size_t n;

	if (!rows)
		return -ENOMEM;
	/* a page at a time: a full registry's leases take 100 MB at once */
	do {
		int r = mcsd_registry_lease_page(s->reg, after, rows, WALK_PAGE,
						 &n, NULL);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].pid <= 0)
				continue;
			int fd =
				proc_pidfd_open(rows[i].pid, rows[i].pid_start);
			if (fd < 0)
				continue; /* gone since reconcile */
			if (pidwatch_add(s, fd, rows[i].pid, rows[i].owner) < 0)
				log_msg(MCS_LOG_WARNING, "cannot watch pid %d",
					(int)rows[i].pid);
		}
		if (n)
			snprintf(after, sizeof(after), "%s", rows[n - 1].owner);
	} while (n == WALK_PAGE);
	return 0;
}

void pidwatch_gather(mcsd_server *s, struct pidwatch *pw)
{
	struct batch *b = pipeline_gathering(s);

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

/* Registry thread: release the leases of an exited pid. */
void pidwatch_end_leases(mcsd_server *s, struct pidwatch *pw)
{
	int released = 0;
	for (size_t i = 0; i < pw->nowners; i++) {
		int r = mcsd_registry_end_lease(s->reg, pw->owners[i], pw->pid,
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

/* Loop thread: the batch that released pw's leases is answered; ok when
 * it committed. */
void pidwatch_done(mcsd_server *s, struct pidwatch *pw, bool ok)
{
	if (!ok) {
		/* its releases were rolled back: watch it again, the
		 * next batch retries them */
		pw->exiting = false;
		if (epoll_add(s, &pw->w, EPOLLIN) == 0)
			return;
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
