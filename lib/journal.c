/* SPDX-License-Identifier: MIT */
/*
 * journal.c - the restore journal's bytes: writing runs of checksummed
 * record batches, and reading them back only when every byte checks out.
 * What each file had before a relabel with MCS_RELABEL_REMEMBER; restore
 * puts it back and deletes the journal, so a journal read wrongly loses
 * the originals for good: on any doubt the reader refuses.
 *
 * One journal per relabeled top, <state_dir>/<major>:<minor>:<ino>.journal,
 * mode 0600 in a 0700 directory, under flock() while a run or a restore
 * uses it.  A header, then frames:
 *
 *   mcskit-relabel-journal 2
 *   volume 8:1 1234 9f3c0e1d2a4b5c6d 1700000000.123456789
 *          dev    ino  fsid (statfs)    btime of the top (statx)
 *   top /srv/vol                         as first spelled, informative
 *   crc 1a2b3c4d                         CRC32C of the lines above
 *
 *   K LLLLLLLL PPPPPPPP HHHHHHHH\n       frame header, 29 bytes:
 *   <LLLLLLLL bytes of payload>          kind, payload length, CRC32C of
 *                                        the payload, CRC32C of the 19
 *                                        bytes before it (all hex)
 *
 * Kinds: R starts a run ("target <context>\n"); B is one directory's
 * batch of records, written with one write() BEFORE its labels change:
 *
 *   =system_u:object_r:var_t:s0   the inodes below had this label,
 *   1234                          stored with a trailing NUL
 *   ~unconfined_u:object_r:x:s0   ... stored without a NUL
 *   #c3a9                         ... these raw bytes (hex)
 *   -                             ... no label at all
 *
 * C commits a run ("batches N records M\n": what the run wrote).  A later
 * relabel of the same top appends a run; the first record of an inode
 * wins, so the original label survives any number of relabels.
 *
 * The one damage a journal may legitimately carry is a torn last frame:
 * frames are written one at a time under a lock, and a file's label is
 * written only after the write() of its batch returned, so a run killed
 * inside a write() leaves a prefix of a frame at the end whose files were
 * never relabeled.  The reader ignores exactly that: fewer than 29 bytes
 * at the end, or a frame whose header checks out and whose payload runs
 * past the end.  Everything else (a bad header or header checksum, a
 * payload checksum that fails, a record that does not parse, counts that
 * disagree with the commit, no run at all, another version, another
 * volume) is refused.  A writer appending to a journal cuts a torn tail
 * off first, so torn bytes never sit between frames.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <mcs/relabel.h>

#include "fileio.h"
#include "journal.h"
#include "util.h"

#define MAGIC	    "mcskit-relabel-journal "
#define VERSION	    2
#define HDR_MAX	    (8192)
#define FRAME_HDR   29
#define FRAME_MAX   ((size_t)64 << 20)
#define RECORD_HINT 24

/* ---- CRC32C ----------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- the volume ------------------------------------------------------- */

int journal_volume_of(int fd, const struct stat *st, journal_volume *ret)
{
	struct statfs sfs;
	struct statx stx;
	journal_volume v = {
		.dev_major = major(st->st_dev),
		.dev_minor = minor(st->st_dev),
		.ino = (uint64_t)st->st_ino,
	};

	if (fstatfs(fd, &sfs) < 0)
		return negative_errno();
	v.fsid = (uint64_t)(uint32_t)sfs.f_fsid.__val[0] << 32 |
		 (uint32_t)sfs.f_fsid.__val[1];
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BTIME,
		  &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME)) {
		v.btime_sec = stx.stx_btime.tv_sec;
		v.btime_nsec = stx.stx_btime.tv_nsec;
	}
	*ret = v;
	return 0;
}

char *journal_path(const char *state_dir, const journal_volume *vol)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%u:%u:%" PRIu64 ".journal",
		     state_dir ? state_dir : MCS_RELABEL_STATE_DIR,
		     vol->dev_major, vol->dev_minor, vol->ino) < 0)
		return NULL;
	return p;
}

static void volume_str(const journal_volume *v, char *buf, size_t size)
{
	snprintf(buf, size,
		 "device %u:%u inode %" PRIu64 " fsid %016" PRIx64
		 " born %" PRId64 ".%09" PRIu32,
		 v->dev_major, v->dev_minor, v->ino, v->fsid, v->btime_sec,
		 v->btime_nsec);
}

/* The same volume: inode, fsid and birth time; the device number only
 * where the filesystem has no fsid (it changes when a disk moves). */
static bool volume_same(const journal_volume *a, const journal_volume *b)
{
	if (a->ino != b->ino || a->fsid != b->fsid ||
	    a->btime_sec != b->btime_sec || a->btime_nsec != b->btime_nsec)
		return false;
	if (a->fsid == 0)
		return a->dev_major == b->dev_major &&
		       a->dev_minor == b->dev_minor;
	return true;
}

static int parse_header(const char *buf, size_t len, const char *path,
			journal_volume *vol, mcs_error *err);

/*
 * A disk moved to another slot keeps its fsid but may change its device
 * number, and so the journal's name.  Look in dir for the journal of vol
 * under another device number (same inode, fsid and birth time; only
 * where there is an fsid) and rename it to path.  Returns 1 when one was
 * moved, 0 when there was none, -errno.
 */
static int adopt_moved(const char *dir, const journal_volume *vol,
		       const char *path)
{
	char suffix[40];
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (vol->fsid == 0)
		return 0;
	snprintf(suffix, sizeof(suffix), ":%" PRIu64 ".journal", vol->ino);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : negative_errno();
	while (r == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name), sl = strlen(suffix);
		_cleanup_free_ char *p = NULL, *buf = NULL;
		_cleanup_close_ int fd = -1;
		journal_volume jv;
		ssize_t got;

		struct stat st;

		if (n <= sl || strcmp(de->d_name + n - sl, suffix) != 0 ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (strcmp(p, path) == 0)
			continue;
		fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
		buf = malloc(HDR_MAX);
		if (fd < 0 || !buf || fstat(fd, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		got = pread(fd, buf, HDR_MAX, 0);
		if (got <= 0 ||
		    parse_header(buf, (size_t)got, p, &jv, NULL) < 0 ||
		    jv.ino != vol->ino || jv.fsid != vol->fsid ||
		    jv.btime_sec != vol->btime_sec ||
		    jv.btime_nsec != vol->btime_nsec)
			continue;
		/* never over an existing journal */
		if (renameat2(AT_FDCWD, p, AT_FDCWD, path, RENAME_NOREPLACE) <
		    0)
			r = negative_errno();
		else
			r = 1;
	}
	closedir(d);
	return r;
}

/* ---- writing ---------------------------------------------------------- */

struct journal_writer {
	int fd;
	char *path;
	pthread_mutex_t lock;
	off_t end;	  /* end of the last whole frame */
	bool failed;	  /* an append failed: no more appends, no commit */
	uint64_t batches; /* B frames of this run */
	uint64_t records; /* records of this run */
};

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

static void frame_header(char out[FRAME_HDR + 1], char kind, const char *p,
			 size_t len)
{
	snprintf(out, FRAME_HDR + 1, "%c %08zx %08" PRIx32 " ", kind, len,
		 journal_crc32c(0, p, len));
	snprintf(out + 19, FRAME_HDR + 1 - 19, " %08" PRIx32 "\n",
		 journal_crc32c(0, out, 19));
}

/* Append one frame (one write) at j->end; on failure cut the file back
 * to j->end.  Caller holds j->lock. */
static int frame_write(journal_writer *j, char kind, const char *payload,
		       size_t len)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	if (j->failed)
		return -EIO;
	if (len > FRAME_MAX)
		return -EFBIG;
	buf = malloc(FRAME_HDR + 1 + len);
	if (!buf)
		return -ENOMEM;
	frame_header(buf, kind, payload, len);
	memcpy(buf + FRAME_HDR, payload, len);
	r = write_all(j->fd, buf, FRAME_HDR + len);
	if (r < 0) {
		j->failed = true;
		(void)!ftruncate(j->fd, j->end);
		return r;
	}
	j->end += (off_t)(FRAME_HDR + len);
	return 0;
}

static int write_header(int fd, const journal_volume *vol, const char *top)
{
	_cleanup_free_ char *hdr = NULL, *flat = strdup(top);
	int n;

	if (!flat)
		return -ENOMEM;
	/* The top line is informative only: keep it one printable line. */
	for (char *p = flat; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	if (strlen(flat) > 4000)
		flat[4000] = '\0';
	n = asprintf(&hdr,
		     MAGIC "%d\nvolume %u:%u %" PRIu64 " %016" PRIx64
			   " %" PRId64 ".%09" PRIu32 "\ntop %s\ncrc ",
		     VERSION, vol->dev_major, vol->dev_minor, vol->ino,
		     vol->fsid, vol->btime_sec, vol->btime_nsec, flat);
	if (n < 0)
		return -ENOMEM;
	char crc[16];
	snprintf(crc, sizeof(crc), "%08" PRIx32 "\n",
		 journal_crc32c(0, hdr, (size_t)n - 4));
	_cleanup_free_ char *all = NULL;
	if (asprintf(&all, "%s%s", hdr, crc) < 0)
		return -ENOMEM;
	return write_all(fd, all, strlen(all));
}

int journal_writer_open(const char *state_dir, const journal_volume *vol,
			const char *top, const char *target,
			journal_writer **ret, mcs_error *err)
{
	const char *dir = state_dir ? state_dir : MCS_RELABEL_STATE_DIR;
	_cleanup_free_ char *path = journal_path(dir, vol), *run = NULL;
	_cleanup_close_ int fd = -1;
	journal_writer *j;
	struct stat st;
	int r;

	if (!path)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return mcs_error_set(err, r,
				     "cannot create state directory %s: %s",
				     dir, strerror(-r));
	/* The volume's journal from before a disk move keeps the
	 * originals: append to it, never start a second one. */
	r = access(path, F_OK) < 0 ? adopt_moved(dir, vol, path) : 0;
	if (r < 0)
		return mcs_error_set(err, r,
				     "cannot take over the journal of %s "
				     "from before a device change: %s",
				     path, strerror(-r));
	fd = open(path,
		  O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
			  O_NONBLOCK | O_NOCTTY,
		  0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot open journal %s: %s", path,
				     strerror(-r));
	}
	if (!S_ISREG(st.st_mode))
		return mcs_error_set(err, -EINVAL,
				     "journal %s is not a regular file (%s), "
				     "refused",
				     path, fileio_type_name(st.st_mode));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = negative_errno();
		if (r == -EWOULDBLOCK)
			r = -EBUSY;
		return mcs_error_set(err, r,
				     "journal %s is in use by another relabel "
				     "or restore",
				     path);
	}
	/* Re-stat under the lock: another run may have written it. */
	if (fstat(fd, &st) < 0) {
		r = negative_errno();
		return mcs_error_set(err, r, "cannot stat journal %s: %s", path,
				     strerror(-r));
	}
	off_t end = 0;
	if (st.st_size == 0) {
		r = write_header(fd, vol, top);
		if (r < 0) {
			(void)!ftruncate(fd, 0);
			return mcs_error_set(err, r,
					     "cannot write journal %s: %s",
					     path, strerror(-r));
		}
		if (fstat(fd, &st) < 0)
			return mcs_error_set(err, negative_errno(),
					     "cannot stat journal %s", path);
		end = st.st_size;
	} else {
		/* Never append to a journal restore would refuse. */
		_cleanup_free_ char *buf = NULL;
		size_t len;
		journal_info info;
		r = fileio_read_fd(fd, path, JOURNAL_MAX_BYTES, &buf, &len,
				   err);
		if (r < 0)
			return mcs_error_prefix(err, "journal: ");
		r = journal_parse(buf, len, path, vol, NULL, &info, err);
		if (r < 0)
			return mcs_error_prefix(
				err, "refusing to add to a damaged journal: ");
		if (info.torn_len > 0 &&
		    ftruncate(fd, (off_t)info.good_len) < 0) {
			r = negative_errno();
			return mcs_error_set(err, r,
					     "cannot cut the torn end of "
					     "journal %s: %s",
					     path, strerror(-r));
		}
		end = (off_t)info.good_len;
	}
	/* Appends may not block, but regular files never do: clear it. */
	(void)fcntl(fd, F_SETFL, O_APPEND);

	j = calloc(1, sizeof(*j));
	if (!j)
		return mcs_error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&j->lock, NULL);
	j->fd = TAKE_FD(fd);
	j->path = TAKE_PTR(path);
	j->end = end;

	int n = asprintf(&run, "target %s\n", target ? target : "(partial)");
	if (n < 0) {
		journal_writer_close(j);
		return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	for (char *p = run + 7; p < run + n - 1; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	r = frame_write(j, 'R', run, (size_t)n);
	if (r < 0) {
		mcs_error_set(err, r, "cannot write journal %s: %s", j->path,
			      strerror(-r));
		journal_writer_close(j);
		return r;
	}
	*ret = j;
	return 0;
}

int journal_writer_sync(journal_writer *j)
{
	return fsync(j->fd) < 0 ? negative_errno() : 0;
}

int journal_writer_commit(journal_writer *j)
{
	char buf[96];
	int r;

	pthread_mutex_lock(&j->lock);
	int n = snprintf(buf, sizeof(buf),
			 "batches %" PRIu64 " records %" PRIu64 "\n",
			 j->batches, j->records);
	r = frame_write(j, 'C', buf, (size_t)n);
	pthread_mutex_unlock(&j->lock);
	if (r < 0)
		return r;
	return journal_writer_sync(j);
}

void journal_writer_close(journal_writer *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->lock);
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
	r = batch_reserve(b, RECORD_HINT);
	if (r < 0)
		return r;
	b->len += (size_t)snprintf(b->buf + b->len, RECORD_HINT,
				   "%" PRIu64 "\n", (uint64_t)ino);
	b->nrecords++;
	return 0;
}

int journal_writer_append(journal_writer *j, journal_batch *b)
{
	int r = 0;

	if (b->len > 0 && j) {
		pthread_mutex_lock(&j->lock);
		r = frame_write(j, 'B', b->buf, b->len);
		if (r >= 0) {
			j->batches++;
			j->records += b->nrecords;
		}
		pthread_mutex_unlock(&j->lock);
	}
	b->len = 0;
	b->nrecords = 0;
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

/* Decode a label line (without its newline); m NULL: check only. */
static int decode_label(journal_map *m, const char *line, size_t len)
{
	struct journal_label l = {NULL, -1};
	size_t n = len - 1;

	switch (line[0]) {
	case '-':
		if (len != 1)
			return -EBADMSG;
		break;
	case '=':
	case '~':
		if (!printable(line + 1, n) || (line[0] == '~' && n == 0))
			return -EBADMSG;
		break;
	case '#':
		if (n % 2)
			return -EBADMSG;
		for (size_t i = 1; i < len; i++)
			if (hexval(line[i]) < 0)
				return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (!m)
		return 0;
	if (m->nlabels == m->labels_cap) {
		size_t ncap = m->labels_cap ? m->labels_cap * 2 : 16;
		struct journal_label *nl =
			realloc(m->labels, ncap * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		m->labels = nl;
		m->labels_cap = ncap;
	}
	if (line[0] == '=' || line[0] == '~') {
		l.val = malloc(n + 1);
		if (!l.val)
			return -ENOMEM;
		memcpy(l.val, line + 1, n);
		l.val[n] = '\0';
		l.len = (ssize_t)(line[0] == '=' ? n + 1 : n);
	} else if (line[0] == '#') {
		l.val = malloc(n / 2 + 1);
		if (!l.val)
			return -ENOMEM;
		for (size_t i = 0; i < n / 2; i++)
			l.val[i] = (char)(hexval(line[1 + 2 * i]) << 4 |
					  hexval(line[2 + 2 * i]));
		l.val[n / 2] = '\0';
		l.len = (ssize_t)(n / 2);
	}
	m->labels[m->nlabels++] = l;
	return 0;
}

/* A decimal without sign or leading zero, [1, UINT64_MAX]. */
static bool parse_u64(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

static bool parse_hex32(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return true;
}

/* One batch payload: label lines and inode lines, a label line first. */
static int parse_batch(journal_map *m, const char *p, size_t len,
		       uint64_t *ret_records)
{
	bool have_label = false;
	uint64_t records = 0;

	if (len == 0 || p[len - 1] != '\n')
		return -EBADMSG;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t l = (size_t)(nl - (p + i));
		const char *line = p + i;
		int r;

		if (l == 0)
			return -EBADMSG;
		if (line[0] >= '0' && line[0] <= '9') {
			uint64_t ino;
			if (!have_label || !parse_u64(line, l, &ino) ||
			    ino == 0)
				return -EBADMSG;
			if (m) {
				r = map_insert(m, ino,
					       (uint32_t)(m->nlabels - 1));
				if (r < 0)
					return r;
			}
			records++;
		} else {
			r = decode_label(m, line, l);
			if (r < 0)
				return r;
			have_label = true;
		}
		i += l + 1;
	}
	if (records == 0)
		return -EBADMSG;
	*ret_records = records;
	return 0;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl;
}

/* The header: fills info->vol, returns its length or -errno with err. */
static int parse_header(const char *buf, size_t len, const char *path,
			journal_volume *vol, mcs_error *err)
{
	const char *end = buf + (len < HDR_MAX ? len : HDR_MAX);
	const char *p = buf, *nl;
	uint32_t crc;

	nl = line_end(p, end);
	if (!nl || (size_t)(nl - p) < strlen(MAGIC) ||
	    memcmp(p, MAGIC, strlen(MAGIC)) != 0)
		return mcs_error_set(err, -EBADMSG,
				     "journal %s: not a relabel journal (no "
				     "\"" MAGIC "%d\" header%s)",
				     path, VERSION,
				     len < strlen(MAGIC) ? ", truncated" : "");
	{
		uint64_t v;
		const char *num = p + strlen(MAGIC);
		if (!parse_u64(num, (size_t)(nl - num), &v))
			return mcs_error_set(err, -EBADMSG,
					     "journal %s: damaged header "
					     "(version line)",
					     path);
		if (v != VERSION)
			return mcs_error_set(
				err, -EPROTONOSUPPORT,
				"journal %s has format version %" PRIu64
				", this mcs-chcon reads version %d only; "
				"restore with the mcs-chcon that wrote it",
				path, v, VERSION);
	}
	p = nl + 1;
	nl = line_end(p, end);
	if (!nl || nl - p < 7 || memcmp(p, "volume ", 7) != 0)
		goto bad;
	{
		/* "volume MAJ:MIN INO FSID16 SEC.NSEC9" */
		char tmp[160];
		size_t l = (size_t)(nl - p);
		unsigned maj, min, ns;
		unsigned long long ino, fsid;
		long long sec;
		int used = -1;
		char fsidhex[17], nsec[10];
		if (l >= sizeof(tmp))
			goto bad;
		memcpy(tmp, p, l);
		tmp[l] = '\0';
		if (sscanf(tmp, "volume %u:%u %llu %16[0-9a-f] %lld.%9[0-9]%n",
			   &maj, &min, &ino, fsidhex, &sec, nsec, &used) != 6 ||
		    used != (int)l || strlen(fsidhex) != 16 ||
		    strlen(nsec) != 9)
			goto bad;
		fsid = strtoull(fsidhex, NULL, 16);
		ns = (unsigned)strtoul(nsec, NULL, 10);
		*vol = (journal_volume){
			.dev_major = maj,
			.dev_minor = min,
			.ino = ino,
			.fsid = fsid,
			.btime_sec = sec,
			.btime_nsec = ns,
		};
	}
	p = nl + 1;
	nl = line_end(p, end);
	if (!nl || nl - p < 4 || memcmp(p, "top ", 4) != 0)
		goto bad;
	p = nl + 1;
	nl = line_end(p, end);
	if (!nl || nl - p != 12 || memcmp(p, "crc ", 4) != 0 ||
	    !parse_hex32(p + 4, &crc))
		goto bad;
	if (journal_crc32c(0, buf, (size_t)(p - buf)) != crc)
		return mcs_error_set(err, -EBADMSG,
				     "journal %s: damaged header (checksum "
				     "mismatch)",
				     path);
	return (int)(nl + 1 - buf);
bad:
	return mcs_error_set(err, -EBADMSG,
			     "journal %s: damaged or truncated header", path);
}

int journal_parse(const char *buf, size_t len, const char *path,
		  const journal_volume *expect, journal_map **ret_map,
		  journal_info *info, mcs_error *err)
{
	journal_info in = {0};
	journal_map *m = NULL;
	bool open = false;
	uint64_t run_batches = 0, run_records = 0;
	size_t pos;
	int r;

	r = parse_header(buf, len, path, &in.vol, err);
	if (r < 0)
		return r;
	pos = (size_t)r;
	if (expect && !volume_same(&in.vol, expect)) {
		char a[160], b[160];
		volume_str(&in.vol, a, sizeof(a));
		volume_str(expect, b, sizeof(b));
		return mcs_error_set(err, -ESTALE,
				     "journal %s belongs to another volume "
				     "(%s; this one is %s)",
				     path, a, b);
	}
	if (ret_map) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return mcs_error_set(err, -ENOMEM, "out of memory");
	}
	while (pos < len) {
		size_t rem = len - pos;
		const char *f = buf + pos;
		uint32_t plen, pcrc, hcrc;

		if (rem < FRAME_HDR) {
			in.torn_len = rem; /* killed inside a frame header */
			break;
		}
		if (!(f[0] == 'R' || f[0] == 'B' || f[0] == 'C') ||
		    f[1] != ' ' || f[10] != ' ' || f[19] != ' ' ||
		    f[28] != '\n' || !parse_hex32(f + 2, &plen) ||
		    !parse_hex32(f + 11, &pcrc) ||
		    !parse_hex32(f + 20, &hcrc) ||
		    journal_crc32c(0, f, 19) != hcrc) {
			r = mcs_error_set(err, -EBADMSG,
					  "journal %s: damaged frame header at "
					  "byte %zu",
					  path, pos);
			goto fail;
		}
		if (plen == 0 || plen > FRAME_MAX) {
			r = mcs_error_set(err, -EBADMSG,
					  "journal %s: impossible frame length "
					  "at byte %zu",
					  path, pos);
			goto fail;
		}
		if (plen > rem - FRAME_HDR) {
			in.torn_len = rem; /* killed inside a frame */
			break;
		}
		const char *p = f + FRAME_HDR;
		r = 0;
		if (journal_crc32c(0, p, plen) != pcrc) {
			r = mcs_error_set(err, -EBADMSG,
					  "journal %s: checksum mismatch in "
					  "the frame at byte %zu",
					  path, pos);
			goto fail;
		}
		switch (f[0]) {
		case 'R':
			if (plen < 8 || memcmp(p, "target ", 7) != 0 ||
			    memchr(p, '\n', plen) != p + plen - 1) {
				r = -EBADMSG;
				break;
			}
			/* An open run before this one was killed: its
			 * frames stand, it just has no commit. */
			open = true;
			in.runs++;
			run_batches = run_records = 0;
			break;
		case 'B': {
			uint64_t n = 0;
			if (!open) {
				r = -EBADMSG;
				break;
			}
			r = parse_batch(m, p, plen, &n);
			run_batches++;
			run_records += n;
			in.records += n;
			break;
		}
		case 'C': {
			char tmp[96], want[96];
			if (!open || plen >= sizeof(tmp)) {
				r = -EBADMSG;
				break;
			}
			memcpy(tmp, p, plen);
			tmp[plen] = '\0';
			snprintf(want, sizeof(want),
				 "batches %" PRIu64 " records %" PRIu64 "\n",
				 run_batches, run_records);
			if (strcmp(tmp, want) != 0) {
				r = mcs_error_set(err, -EBADMSG,
						  "journal %s: the commit at "
						  "byte %zu does not match "
						  "the run's records (frames "
						  "lost?)",
						  path, pos);
				goto fail;
			}
			open = false;
			break;
		}
		}
		if (r == -ENOMEM) {
			mcs_error_set(err, r, "out of memory");
			goto fail;
		}
		if (r < 0) {
			r = mcs_error_set(err, -EBADMSG,
					  "journal %s: malformed %s frame at "
					  "byte %zu",
					  path,
					  f[0] == 'R'	? "run start"
					  : f[0] == 'B' ? "record"
							: "commit",
					  pos);
			goto fail;
		}
		pos += FRAME_HDR + plen;
	}
	if (in.runs == 0) {
		r = mcs_error_set(err, -EBADMSG,
				  "journal %s holds no relabel run "
				  "(truncated after its header?)",
				  path);
		goto fail;
	}
	in.good_len = pos;
	in.last_open = open;
	if (info)
		*info = in;
	if (ret_map)
		*ret_map = m;
	return 0;
fail:
	journal_map_free(m);
	return r;
}

int journal_adopt_moved(const char *state_dir, const journal_volume *vol,
			const char *path)
{
	return adopt_moved(state_dir ? state_dir : MCS_RELABEL_STATE_DIR, vol,
			   path);
}

int journal_read(const char *path, const journal_volume *expect, int *ret_fd,
		 journal_map **ret_map, journal_info *info, mcs_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	fd = open(path,
		  O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		r = negative_errno();
		if (r == -ELOOP)
			return mcs_error_set(err, r,
					     "journal %s is a symlink, refused",
					     path);
		return mcs_error_set(err, r, "cannot open journal %s: %s", path,
				     strerror(-r));
	}
	/* fstat before flock: a fifo or device is refused, never locked. */
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fileio_read_fd(fd, path, JOURNAL_MAX_BYTES, &buf, &len,
				   err);
		return r < 0 ? mcs_error_prefix(err, "journal: ") : -EINVAL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = negative_errno();
		if (r == -EWOULDBLOCK)
			r = -EBUSY;
		return mcs_error_set(err, r,
				     "journal %s is in use by a relabel "
				     "running now",
				     path);
	}
	r = fileio_read_fd(fd, path, JOURNAL_MAX_BYTES, &buf, &len, err);
	if (r < 0)
		return mcs_error_prefix(err, "journal: ");
	r = journal_parse(buf, len, path, expect, ret_map, info, err);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
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
