/* SPDX-License-Identifier: MIT */
/*
 * restore.c - the restore journal: what label each file had before a
 * relabel with MCS_RELABEL_REMEMBER, and mcs_relabel_restore() that puts
 * those labels back.
 *
 * One journal per relabeled top, named by the top's identity:
 * <state_dir>/<major>:<minor>:<ino>.journal, mode 0600 in a 0700
 * directory.  A text file:
 *
 *   mcskit-relabel-journal 1
 *   top /srv/vol                  (as the user spelled it, informative)
 *   target system_u:object_r:svirt_sandbox_file_t:s0
 *   =system_u:object_r:var_t:s0   the records below had this label,
 *   1234                          stored with a trailing NUL
 *   1235
 *   ~unconfined_u:object_r:x:s0   ... this one, stored without a NUL
 *   #c3a9...                      ... these raw bytes (hex)
 *   -                             ... no label at all
 *   1236
 *
 * The walk appends one batch per directory (one write(), O_APPEND, so
 * concurrent workers never interleave inside a batch) BEFORE it writes
 * that directory's labels, and fsyncs before it relabels the top: a killed
 * run keeps the originals of everything it changed (a power loss may lose
 * the last unsynced batches).  A later relabel of the same top appends;
 * on restore the first record of an inode wins, so the original label
 * survives any number of relabels.
 *
 * Limits: files are found by inode number, so a file deleted and another
 * created with the same inode would get the old label; files moved out of
 * the tree are not restored (nothing walks there).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <mcs/relabel.h>

#include "relabel_int.h"
#include "util.h"

#define JOURNAL_MAGIC "mcskit-relabel-journal 1\n"

struct relabel_journal {
	int fd;
	char *path;
};

/* ---- writing ---------------------------------------------------------- */

static int mkdir_p(const char *dir, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(dir);

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return negative_errno();
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

char *journal_path(const char *state_dir, dev_t dev, ino_t ino)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%u:%u:%" PRIu64 ".journal",
		     state_dir ? state_dir : MCS_RELABEL_STATE_DIR, major(dev),
		     minor(dev), (uint64_t)ino) < 0)
		return NULL;
	return p;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int journal_open(const char *state_dir, dev_t dev, ino_t ino, const char *top,
		 const char *target, relabel_journal **ret, mcs_error *err)
{
	const char *dir = state_dir ? state_dir : MCS_RELABEL_STATE_DIR;
	_cleanup_free_ char *path = journal_path(dir, dev, ino);
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (!path)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return mcs_error_set(err, r,
				     "cannot create state directory %s: %s",
				     dir, strerror(-r));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot open journal %s: %s", path,
				     strerror(-r));
	}
	if (st.st_size == 0) {
		_cleanup_free_ char *hdr = NULL, *flat = strdup(top);
		if (!flat)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		/* The top line is informative only: keep it one line. */
		for (char *p = flat; *p; p++)
			if (*p == '\n')
				*p = '?';
		int n = asprintf(&hdr, JOURNAL_MAGIC "top %s\ntarget %s\n",
				 flat, target ? target : "(partial)");
		if (n < 0)
			return mcs_error_set(err, -ENOMEM, "out of memory");
		r = write_all(fd, hdr, (size_t)n);
		if (r < 0)
			return mcs_error_set(err, r,
					     "cannot write journal %s: %s",
					     path, strerror(-r));
	}
	relabel_journal *j = calloc(1, sizeof(*j));
	if (!j)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	j->fd = TAKE_FD(fd);
	j->path = TAKE_PTR(path);
	*ret = j;
	return 0;
}

int journal_sync(relabel_journal *j)
{
	return fsync(j->fd) < 0 ? negative_errno() : 0;
}

void journal_close(relabel_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}

static int batch_reserve(journal_batch *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap < b->len + more)
		ncap *= 2;
	char *n = realloc(b->buf, ncap);
	if (!n)
		return -ENOMEM;
	b->buf = n;
	b->cap = ncap;
	return 0;
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return false;
	return true;
}

/* Encode a label line: "=lbl\n", "~lbl\n", "#hex\n" or "-\n". */
static int encode_label(const char *old, ssize_t oldlen, char **ret,
			size_t *ret_len)
{
	size_t n = oldlen < 0 ? 0 : (size_t)oldlen;
	char *out = malloc(2 * n + 3);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	if (oldlen < 0) {
		out[o++] = '-';
	} else if (n > 0 && old[n - 1] == '\0' && printable(old, n - 1)) {
		out[o++] = '=';
		memcpy(out + o, old, n - 1);
		o += n - 1;
	} else if (printable(old, n) && n > 0) {
		out[o++] = '~';
		memcpy(out + o, old, n);
		o += n;
	} else {
		static const char hex[] = "0123456789abcdef";
		out[o++] = '#';
		for (size_t i = 0; i < n; i++) {
			out[o++] = hex[(unsigned char)old[i] >> 4];
			out[o++] = hex[(unsigned char)old[i] & 15];
		}
	}
	out[o++] = '\n';
	*ret = out;
	*ret_len = o;
	return 0;
}

int journal_batch_add(journal_batch *b, ino_t ino, const char *old,
		      ssize_t oldlen)
{
	_cleanup_free_ char *line = NULL;
	size_t line_len;
	int r = encode_label(old, oldlen, &line, &line_len);

	if (r < 0)
		return r;
	if (!b->cur || b->cur_len != line_len ||
	    memcmp(b->cur, line, line_len) != 0) {
		r = batch_reserve(b, line_len);
		if (r < 0)
			return r;
		memcpy(b->buf + b->len, line, line_len);
		b->len += line_len;
		free(b->cur);
		b->cur = TAKE_PTR(line);
		b->cur_len = line_len;
	}
	r = batch_reserve(b, 24);
	if (r < 0)
		return r;
	b->len += (size_t)snprintf(b->buf + b->len, 24, "%" PRIu64 "\n",
				   (uint64_t)ino);
	return 0;
}

int journal_batch_flush(relabel_journal *j, journal_batch *b)
{
	int r = 0;

	if (b->len > 0 && j)
		r = write_all(j->fd, b->buf, b->len);
	b->len = 0;
	free(b->cur);
	b->cur = NULL;
	b->cur_len = 0;
	return r;
}

void journal_batch_free(journal_batch *b)
{
	free(b->buf);
	free(b->cur);
	*b = (journal_batch){0};
}

/* ---- reading ---------------------------------------------------------- */

struct journal_label {
	char *val;
	ssize_t len; /* < 0: no label */
};

struct journal_entry {
	uint64_t ino; /* 0: empty slot (inode 0 does not exist) */
	uint32_t label;
};

struct journal_map {
	struct journal_label *labels;
	size_t nlabels, labels_cap;
	struct journal_entry *slots;
	size_t cap, count;
};

static size_t ino_slot(uint64_t ino, size_t cap)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL;
	return (size_t)((h ^ (h >> 31)) & (cap - 1));
}

static int map_insert(journal_map *m, uint64_t ino, uint32_t label)
{
	if ((m->count + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 1024;
		struct journal_entry *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].ino)
				continue;
			size_t k = ino_slot(m->slots[i].ino, ncap);
			while (n[k].ino)
				k = (k + 1) & (ncap - 1);
			n[k] = m->slots[i];
		}
		free(m->slots);
		m->slots = n;
		m->cap = ncap;
	}
	size_t k = ino_slot(ino, m->cap);
	while (m->slots[k].ino) {
		if (m->slots[k].ino == ino)
			return 0; /* first record wins */
		k = (k + 1) & (m->cap - 1);
	}
	m->slots[k] = (struct journal_entry){ino, label};
	m->count++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int map_add_label(journal_map *m, const char *line, size_t len)
{
	struct journal_label l = {NULL, -1};

	if (m->nlabels == m->labels_cap) {
		size_t ncap = m->labels_cap ? m->labels_cap * 2 : 16;
		struct journal_label *n = realloc(m->labels, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->labels = n;
		m->labels_cap = ncap;
	}
	switch (line[0]) {
	case '-':
		break;
	case '=':
	case '~': {
		size_t n = len - 1;
		l.val = malloc(n + 1);
		if (!l.val)
			return -ENOMEM;
		memcpy(l.val, line + 1, n);
		l.val[n] = '\0';
		l.len = (ssize_t)(line[0] == '=' ? n + 1 : n);
		break;
	}
	case '#': {
		size_t n = (len - 1) / 2;
		if ((len - 1) % 2)
			return -EBADMSG;
		l.val = malloc(n + 1);
		if (!l.val)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			int hi = hexval(line[1 + 2 * i]);
			int lo = hexval(line[2 + 2 * i]);
			if (hi < 0 || lo < 0) {
				free(l.val);
				return -EBADMSG;
			}
			l.val[i] = (char)(hi << 4 | lo);
		}
		l.val[n] = '\0';
		l.len = (ssize_t)n;
		break;
	}
	default:
		return -EBADMSG;
	}
	m->labels[m->nlabels++] = l;
	return 0;
}

int journal_load(const char *path, journal_map **ret, mcs_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *f = fopen(path, "re");
	journal_map *m;
	int r = 0;

	if (!f) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot open journal %s: %s", path,
				     strerror(-r));
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		fclose(f);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	while (r >= 0 && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "mcskit-relabel-journal 1") != 0)
				r = -EBADMSG;
			continue;
		}
		if (len == 0 || strncmp(line, "top ", 4) == 0 ||
		    strncmp(line, "target ", 7) == 0)
			continue;
		if (line[0] >= '0' && line[0] <= '9') {
			char *end;
			errno = 0;
			unsigned long long ino = strtoull(line, &end, 10);
			if (*end || errno || ino == 0 || m->nlabels == 0)
				r = -EBADMSG;
			else
				r = map_insert(m, ino,
					       (uint32_t)(m->nlabels - 1));
		} else {
			r = map_add_label(m, line, (size_t)len);
		}
	}
	fclose(f);
	if (r >= 0 && lineno == 0)
		r = -EBADMSG;
	if (r < 0) {
		journal_map_free(m);
		if (r == -EBADMSG)
			return mcs_error_set(
				err, r, "journal %s is corrupt at line %lu",
				path, lineno);
		return mcs_error_set(err, r, "reading journal %s: %s", path,
				     strerror(-r));
	}
	*ret = m;
	return 0;
}

int journal_map_lookup(const journal_map *m, ino_t ino, const char **val,
		       ssize_t *len)
{
	if (!m->cap)
		return 0;
	size_t k = ino_slot((uint64_t)ino, m->cap);
	while (m->slots[k].ino) {
		if (m->slots[k].ino == (uint64_t)ino) {
			const struct journal_label *l =
				&m->labels[m->slots[k].label];
			*val = l->val;
			*len = l->len;
			return 1;
		}
		k = (k + 1) & (m->cap - 1);
	}
	return 0;
}

size_t journal_map_count(const journal_map *m)
{
	return m->count;
}

void journal_map_free(journal_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i].val);
	free(m->labels);
	free(m->slots);
	free(m);
}

/* ---- restore ---------------------------------------------------------- */

MCS_EXPORT int mcs_relabel_restore(const char *path,
				   const mcs_relabel_opts *opts,
				   mcs_relabel_result *res, mcs_error *err)
{
	mcs_relabel_opts o = opts ? *opts : (mcs_relabel_opts){0};
	_cleanup_free_ char *jpath = NULL;
	journal_map *map = NULL;
	dev_t dev;
	ino_t ino;
	int r;

	if (res)
		*res = (mcs_relabel_result){0};
	o.context = o.user = o.role = o.type = o.range = NULL;
	/* The journal is keyed by what path resolves to, as the volume
	 * modes relabel it. */
	o.flags = (o.flags & (MCS_RELABEL_DRY_RUN | MCS_RELABEL_CROSS_MOUNTS)) |
		  MCS_RELABEL_RECURSIVE | MCS_RELABEL_FOLLOW_TOP;
	r = relabel_top_identity(path, o.flags, &dev, &ino, err);
	if (r < 0)
		return r;
	jpath = journal_path(o.state_dir, dev, ino);
	if (!jpath)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	if (access(jpath, F_OK) < 0)
		return mcs_error_set(err, -ENOENT,
				     "%s: no relabel journal (%s): nothing was "
				     "remembered for it",
				     path, jpath);
	r = journal_load(jpath, &map, err);
	if (r < 0)
		return r;
	r = relabel_walk(path, &o, map, res, err);
	journal_map_free(map);
	if (r < 0)
		return r;
	if (!(o.flags & MCS_RELABEL_DRY_RUN) && unlink(jpath) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot remove journal %s: %s",
				     jpath, strerror(-r));
	}
	return 0;
}
