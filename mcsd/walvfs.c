/* SPDX-License-Identifier: MIT */
/*
 * walvfs.c - the sqlite VFS "mcs-wal" that the registry opens its database
 * with: the default VFS, except that the frames a transaction appends to
 * the WAL are gathered in memory (up to 1 MiB) and written when the
 * commit frame is complete, one pwrite per 124 KiB, instead of two
 * pwrites per page (header, then page).  A batch of 64 allocations dirties
 * about 200 pages: those 400 system calls were a sixth of mcsd's registry
 * thread.
 *
 * Only appends are gathered.  Any other call on the WAL file (a read, a
 * write elsewhere, sync, truncate, size, lock, close, file control) first
 * writes what is gathered, and so does the database file's shared-memory
 * barrier, which sqlite calls before it publishes a commit in the
 * wal-index: no reader ever sees a frame that is not in the file.  A
 * commit whose frames cannot be written fails in the xWrite of its commit
 * frame, so sqlite rolls it back as it would without us.  A failed write
 * from the barrier (where sqlite takes no error) is remembered and
 * reported by walvfs_failed().
 *
 * Together with store_sqlite.c the only file that includes sqlite3.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "walvfs.h"

/* Gather at most this much; a bigger transaction writes in pieces. */
#define GATHER_MAX (1024 * 1024)
/* The most one pwrite of the default VFS takes (see wv_flush). */
#define WRITE_MAX 0x1f000
/* sqlite's WAL frame header: page number, then the database size in
 * pages after a commit (0 for other frames), ... */
#define FRAME_HDR 24

struct wv_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, right after us */
	bool is_wal;
	struct wv_file *main; /* WAL: the database file it belongs to */
	struct wv_file *wal;  /* database: its open WAL, if any */
	unsigned char *buf;   /* WAL: gathered bytes for file offset off */
	size_t len, cap;
	sqlite3_int64 off;
	bool commit_next; /* the last write was a commit frame's header */
};

static sqlite3_vfs *parent;
static sqlite3_vfs wv_vfs;
static pthread_once_t wv_once = PTHREAD_ONCE_INIT;
static int wv_register_rc = SQLITE_ERROR;
static atomic_int wv_failed;

static int wv_flush(struct wv_file *f)
{
	int rc = SQLITE_OK;

	/* In pieces: the unix VFS masks the length of one pwrite with
	 * 0x1ffff, and reports "disk full" when the rest of a write is a
	 * multiple of 128 KiB. */
	for (size_t done = 0; done < f->len && rc == SQLITE_OK;) {
		size_t n = f->len - done;

		if (n > WRITE_MAX)
			n = WRITE_MAX;
		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
					       f->off + (sqlite3_int64)done);
		done += n;
	}
	f->len = 0;
	return rc;
}

#define REAL(id) (((struct wv_file *)(id))->real)
#define FLUSHED(id)                                                            \
	do {                                                                   \
		int rc_ = wv_flush((struct wv_file *)(id));                    \
		if (rc_ != SQLITE_OK)                                          \
			return rc_;                                            \
	} while (0)

static int wv_close(sqlite3_file *id)
{
	struct wv_file *f = (struct wv_file *)id;
	int rc = wv_flush(f);
	int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real)
				    : SQLITE_OK;

	if (f->is_wal && f->main && f->main->wal == f)
		f->main->wal = NULL;
	if (!f->is_wal && f->wal)
		f->wal->main = NULL;
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wv_read(sqlite3_file *id, void *p, int amt, sqlite3_int64 off)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xRead(REAL(id), p, amt, off);
}

static int wv_write(sqlite3_file *id, const void *p, int amt, sqlite3_int64 off)
{
	struct wv_file *f = (struct wv_file *)id;
	bool commit = f->commit_next;

	if (!f->is_wal)
		return f->real->pMethods->xWrite(f->real, p, amt, off);
	f->commit_next = false;
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
			   f->len + (size_t)amt > GATHER_MAX))
		FLUSHED(f);
	if ((size_t)amt > WRITE_MAX) {
		FLUSHED(f);
		return f->real->pMethods->xWrite(f->real, p, amt, off);
	}
	if (f->len + (size_t)amt > f->cap) {
		size_t ncap = f->cap ? f->cap : 64 * 1024;
		while (ncap < f->len + (size_t)amt)
			ncap *= 2;
		unsigned char *n = realloc(f->buf, ncap);
		if (!n) {
			FLUSHED(f);
			return f->real->pMethods->xWrite(f->real, p, amt, off);
		}
		f->buf = n;
		f->cap = ncap;
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, p, (size_t)amt);
	f->len += (size_t)amt;
	if (amt == FRAME_HDR) {
		const unsigned char *h = p;
		f->commit_next = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	/* the page of a commit frame: the transaction's frames are all
	 * here, write them now and fail the commit if that fails */
	return commit ? wv_flush(f) : SQLITE_OK;
}

static int wv_truncate(sqlite3_file *id, sqlite3_int64 size)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xTruncate(REAL(id), size);
}

static int wv_sync(sqlite3_file *id, int flags)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xSync(REAL(id), flags);
}

static int wv_file_size(sqlite3_file *id, sqlite3_int64 *size)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xFileSize(REAL(id), size);
}

static int wv_lock(sqlite3_file *id, int lock)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xLock(REAL(id), lock);
}

static int wv_unlock(sqlite3_file *id, int lock)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xUnlock(REAL(id), lock);
}

static int wv_check_reserved(sqlite3_file *id, int *out)
{
	return REAL(id)->pMethods->xCheckReservedLock(REAL(id), out);
}

static int wv_file_control(sqlite3_file *id, int op, void *arg)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xFileControl(REAL(id), op, arg);
}

static int wv_sector_size(sqlite3_file *id)
{
	return REAL(id)->pMethods->xSectorSize(REAL(id));
}

static int wv_device_characteristics(sqlite3_file *id)
{
	return REAL(id)->pMethods->xDeviceCharacteristics(REAL(id));
}

static int wv_shm_map(sqlite3_file *id, int page, int size, int extend,
		      void volatile **p)
{
	return REAL(id)->pMethods->xShmMap(REAL(id), page, size, extend, p);
}

/* The database's WAL: write what it gathered (sqlite publishes commits
 * in the wal-index right after a barrier). */
static void wv_flush_wal_of(sqlite3_file *id)
{
	struct wv_file *f = (struct wv_file *)id;

	if (f->wal && wv_flush(f->wal) != SQLITE_OK)
		atomic_store(&wv_failed, 1); /* sqlite takes no error here */
}

static int wv_shm_lock(sqlite3_file *id, int offset, int n, int flags)
{
	wv_flush_wal_of(id);
	return REAL(id)->pMethods->xShmLock(REAL(id), offset, n, flags);
}

static void wv_shm_barrier(sqlite3_file *id)
{
	wv_flush_wal_of(id);
	REAL(id)->pMethods->xShmBarrier(REAL(id));
}

static int wv_shm_unmap(sqlite3_file *id, int delete_flag)
{
	wv_flush_wal_of(id);
	return REAL(id)->pMethods->xShmUnmap(REAL(id), delete_flag);
}

static int wv_fetch(sqlite3_file *id, sqlite3_int64 off, int amt, void **pp)
{
	FLUSHED(id);
	return REAL(id)->pMethods->xFetch(REAL(id), off, amt, pp);
}

static int wv_unfetch(sqlite3_file *id, sqlite3_int64 off, void *p)
{
	return REAL(id)->pMethods->xUnfetch(REAL(id), off, p);
}

static const sqlite3_io_methods wv_io = {
	.iVersion = 3,
	.xClose = wv_close,
	.xRead = wv_read,
	.xWrite = wv_write,
	.xTruncate = wv_truncate,
	.xSync = wv_sync,
	.xFileSize = wv_file_size,
	.xLock = wv_lock,
	.xUnlock = wv_unlock,
	.xCheckReservedLock = wv_check_reserved,
	.xFileControl = wv_file_control,
	.xSectorSize = wv_sector_size,
	.xDeviceCharacteristics = wv_device_characteristics,
	.xShmMap = wv_shm_map,
	.xShmLock = wv_shm_lock,
	.xShmBarrier = wv_shm_barrier,
	.xShmUnmap = wv_shm_unmap,
	.xFetch = wv_fetch,
	.xUnfetch = wv_unfetch,
};

static int wv_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *id,
		   int flags, int *out_flags)
{
	struct wv_file *f = (struct wv_file *)id;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = parent->xOpen(parent, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->base.pMethods = f->real->pMethods ? &wv_io : NULL;
		return rc;
	}
	/* wv_io has version 3: it forwards the shm and mmap methods */
	if (!f->real->pMethods || f->real->pMethods->iVersion < 3) {
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	f->base.pMethods = &wv_io;
	if ((flags & SQLITE_OPEN_WAL) && name) {
		f->is_wal = true;
		f->main = (struct wv_file *)sqlite3_database_file_object(name);
		if (f->main)
			f->main->wal = f;
	}
	return SQLITE_OK;
}

/* Everything else is the default VFS's. */
static int wv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return parent->xDelete(parent, name, sync_dir);
}

static int wv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return parent->xAccess(parent, name, flags, out);
}

static int wv_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
			    char *out)
{
	(void)vfs;
	return parent->xFullPathname(parent, name, n, out);
}

static void *wv_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return parent->xDlOpen(parent, name);
}

static void wv_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	parent->xDlError(parent, n, msg);
}

static void (*wv_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return parent->xDlSym(parent, h, sym);
}

static void wv_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	parent->xDlClose(parent, h);
}

static int wv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return parent->xRandomness(parent, n, out);
}

static int wv_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return parent->xSleep(parent, us);
}

static int wv_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return parent->xCurrentTime(parent, out);
}

static int wv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return parent->xGetLastError(parent, n, out);
}

static int wv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return parent->xCurrentTimeInt64(parent, out);
}

static void wv_register(void)
{
	parent = sqlite3_vfs_find(NULL);
	if (!parent || parent->iVersion < 2)
		return;
	wv_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wv_file) + parent->szOsFile,
		.mxPathname = parent->mxPathname,
		.zName = WALVFS_NAME,
		.xOpen = wv_open,
		.xDelete = wv_delete,
		.xAccess = wv_access,
		.xFullPathname = wv_full_pathname,
		.xDlOpen = wv_dlopen,
		.xDlError = wv_dlerror,
		.xDlSym = wv_dlsym,
		.xDlClose = wv_dlclose,
		.xRandomness = wv_randomness,
		.xSleep = wv_sleep,
		.xCurrentTime = wv_current_time,
		.xGetLastError = wv_last_error,
		.xCurrentTimeInt64 = wv_current_time64,
	};
	wv_register_rc = sqlite3_vfs_register(&wv_vfs, 0);
}

int walvfs_register(void)
{
	pthread_once(&wv_once, wv_register);
	return wv_register_rc == SQLITE_OK ? 0 : -ENOSYS;
}

bool walvfs_failed(void)
{
	return atomic_load(&wv_failed) != 0;
}
