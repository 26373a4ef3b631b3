/*
 * uploads.c — see uploads.h.
 */
#include "uploads/uploads.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static char *spool_dir;

bool uploads_init(const char *data_dir, const char *dir, err_t *e)
{
	free(spool_dir);
	spool_dir = dir && *dir ? xstrdup(dir) : xasprintf("%s/uploads", data_dir);
	if (mkdir(spool_dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL, "cannot create %s: %s",
			       spool_dir, strerror(errno));
	return true;
}

void uploads_cleanup(void)
{
	free(spool_dir);
	spool_dir = NULL;
}

void uploads_spool_path(const char *id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.part", spool_dir, id);
}

static bool id_ok(const char *id)
{
	if (!id || strlen(id) != UPLOAD_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

#define UPLOAD_COLS "id, user_id, length, offset_bytes, filename, filetype, state, created_at, expires_at"

static void read_upload(db_stmt_t *s, upload_t *u)
{
	memset(u, 0, sizeof(*u));
	const char *v;
	str_copy(u->id, sizeof(u->id), db_col_text(s, 0));
	u->user_id = db_col_i64(s, 1);
	u->length = db_col_i64(s, 2);
	u->offset = db_col_i64(s, 3);
	v = db_col_text(s, 4);
	str_copy(u->filename, sizeof(u->filename), v ? v : "");
	v = db_col_text(s, 5);
	str_copy(u->filetype, sizeof(u->filetype), v ? v : "");
	str_copy(u->state, sizeof(u->state), db_col_text(s, 6));
	u->created_at = db_col_i64(s, 7);
	u->expires_at = db_col_i64(s, 8);
}

/* The row exists but this node's spool has no file for it: the spool is another node's (uploads.h). */
static bool missing_spool(err_t *e)
{
	return err_set(e, ERR_UNAVAILABLE, "upload_elsewhere", NULL,
		       "this server cannot see the upload's data: it is in the upload spool of another node "
		       "(send the upload's requests to that node, or share COSMIV_UPLOAD_DIR between nodes)");
}

static bool not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "upload_not_found", NULL, "no such upload");
}

bool uploads_create(db_conn_t *c, int64_t user_id, int64_t length, const char *filename, const char *filetype,
		    int expiry_s, upload_t *out, err_t *e)
{
	unsigned char raw[UPLOAD_ID_LEN / 2];
	char id[UPLOAD_ID_LEN + 1];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
	char path[PATH_MAX];
	uploads_spool_path(id, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL,
			       "cannot create the upload file");
	close(fd);
	int64_t now = time_now_ms();
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO uploads (id, user_id, length, offset_bytes, filename, filetype, state,"
		       " created_at, updated_at, expires_at) VALUES (?, ?, ?, 0, ?, ?, 'uploading', ?, ?, ?)",
		       e);
	if (!s) {
		unlink(path);
		return false;
	}
	db_bind_text(s, 1, id);
	db_bind_i64(s, 2, user_id);
	db_bind_i64(s, 3, length);
	db_bind_text(s, 4, filename);
	db_bind_text(s, 5, filetype);
	db_bind_i64(s, 6, now);
	db_bind_i64(s, 7, now);
	db_bind_i64(s, 8, now + (int64_t)expiry_s * 1000);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE) {
		unlink(path);
		return false;
	}
	return uploads_get(c, id, user_id, out, e);
}

bool uploads_get(db_conn_t *c, const char *id, int64_t user_id, upload_t *out, err_t *e)
{
	if (!id_ok(id))
		return not_found(e);
	db_stmt_t *s = db_prepare(c, "SELECT " UPLOAD_COLS " FROM uploads WHERE id = ? AND user_id = ?", e);
	if (!s)
		return false;
	db_bind_text(s, 1, id);
	db_bind_i64(s, 2, user_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_upload(s, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc == DB_DONE || (strcmp(out->state, "uploading") == 0 && out->expires_at < time_now_ms()))
		return not_found(e);
	return true;
}

bool uploads_delete(db_conn_t *c, const char *id, int64_t user_id, err_t *e)
{
	upload_t u;
	if (!uploads_get(c, id, user_id, &u, e))
		return false;
	char path[PATH_MAX];
	uploads_spool_path(id, path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	/* no file: consumed (its data became a video), or in another node's spool, where deleting the
	 * row would leave the data for good */
	if (fd < 0 && strcmp(u.state, "consumed") != 0)
		return missing_spool(e);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return err_set(e, ERR_CONFLICT, "upload_busy", NULL, "the upload is being written right now");
	}
	db_stmt_t *s = db_prepare(c, "DELETE FROM uploads WHERE id = ? AND user_id = ?", e);
	int rc = DB_ERROR;
	if (s) {
		db_bind_text(s, 1, id);
		db_bind_i64(s, 2, user_id);
		rc = db_step(s, e);
		db_finish(s);
	}
	if (rc == DB_DONE && fd >= 0)
		unlink(path);
	if (fd >= 0)
		close(fd);
	return rc == DB_DONE;
}

bool uploads_write_begin(db_conn_t *c, const char *id, int64_t user_id, int64_t client_offset,
			 const unsigned char *checksum, upload_write_t *w, err_t *e)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!uploads_get(c, id, user_id, &w->up, e))
		return false;
	if (strcmp(w->up.state, "uploading") != 0)
		return err_set(e, ERR_CONFLICT, "upload_complete", NULL, "this upload is already complete");
	char path[PATH_MAX];
	uploads_spool_path(id, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return missing_spool(e);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return err_set(e, ERR_CONFLICT, "upload_busy", NULL,
			       "another request is writing this upload; retry after it ends");
	}
	/* Re-read under the lock: the offset may have moved while we waited. */
	err_t e2;
	if (!uploads_get(c, id, user_id, &w->up, &e2)) {
		close(fd);
		*e = e2;
		return false;
	}
	if (client_offset != w->up.offset) {
		close(fd);
		return err_set(e, ERR_CONFLICT, "offset_mismatch", "Upload-Offset",
			       "Upload-Offset is %lld but the upload is at %lld", (long long)client_offset,
			       (long long)w->up.offset);
	}
	/* Drop bytes that were written but never acknowledged. */
	if (ftruncate(fd, w->up.offset) != 0 || lseek(fd, w->up.offset, SEEK_SET) < 0) {
		close(fd);
		return err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL,
			       "cannot prepare the upload file");
	}
	w->fd = fd;
	w->start = w->up.offset;
	crypto_hash_sha256_init(&w->sha);
	if (checksum) {
		w->checksum = true;
		memcpy(w->expect, checksum, sizeof(w->expect));
	}
	return true;
}

bool uploads_write(upload_write_t *w, const char *data, size_t len, err_t *e)
{
	if (w->start + w->written + (int64_t)len > w->up.length)
		return err_set(e, ERR_INVALID, "upload_too_long", NULL,
			       "the data goes past Upload-Length (%lld bytes)", (long long)w->up.length);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(w->fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, ERR_UNAVAILABLE, "storage_full", NULL, "cannot store the data: %s",
				       strerror(errno));
		}
		off += (size_t)n;
	}
	if (w->checksum) /* hashing costs more CPU than the disk write: only when asked */
		crypto_hash_sha256_update(&w->sha, (const unsigned char *)data, len);
	w->written += (int64_t)len;
	return true;
}

static void release(upload_write_t *w)
{
	if (w->fd >= 0)
		close(w->fd); /* also drops the flock */
	w->fd = -1;
}

static bool commit_offset(db_conn_t *c, upload_write_t *w, int64_t *offset, err_t *e)
{
	if (fsync(w->fd) != 0)
		return err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL,
			       "cannot make the data durable");
	int64_t next = w->start + w->written;
	db_stmt_t *s = db_prepare(c,
				  "UPDATE uploads SET offset_bytes = ?, state = ?, updated_at = ?"
				  " WHERE id = ? AND offset_bytes = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, next);
	db_bind_text(s, 2, next == w->up.length ? "complete" : "uploading");
	db_bind_i64(s, 3, time_now_ms());
	db_bind_text(s, 4, w->up.id);
	db_bind_i64(s, 5, w->start);
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (n != 1)
		return err_set(e, ERR_CONFLICT, "offset_mismatch", NULL, "the upload moved on meanwhile");
	*offset = next;
	return true;
}

bool uploads_write_end(db_conn_t *c, upload_write_t *w, int64_t *offset, err_t *e)
{
	*offset = w->start;
	bool ok;
	if (w->checksum) {
		unsigned char got[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_final(&w->sha, got);
		if (sodium_memcmp(got, w->expect, sizeof(got)) != 0) {
			if (ftruncate(w->fd, w->start) != 0)
				log_warn("cannot cut a rejected chunk", "upload", w->up.id, NULL);
			release(w);
			return err_set(e, ERR_INVALID, "checksum_mismatch", "Upload-Checksum",
				       "the chunk's sha256 does not match Upload-Checksum; nothing was kept");
		}
	}
	ok = commit_offset(c, w, offset, e);
	release(w);
	return ok;
}

void uploads_write_discard(upload_write_t *w)
{
	if (w->fd >= 0 && ftruncate(w->fd, w->start) != 0)
		log_warn("cannot cut a refused chunk", "upload", w->up.id, NULL);
	release(w);
}

void uploads_write_abort(db_conn_t *c, upload_write_t *w)
{
	err_t e;
	int64_t offset;
	/* Without a checksum the received prefix is good data: keep it, like tus servers do. */
	if (c && !w->checksum && w->written > 0 && !commit_offset(c, w, &offset, &e))
		log_warn("could not keep the bytes of an interrupted upload", "upload", w->up.id, "detail",
			 e.detail, NULL);
	release(w);
}

bool uploads_sha256(const char *id, char out[65], err_t *e)
{
	char path[PATH_MAX];
	uploads_spool_path(id, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return missing_spool(e);
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	char *buf = xmalloc(1 << 20);
	ssize_t n;
	while ((n = read(fd, buf, 1 << 20)) > 0)
		crypto_hash_sha256_update(&st, (unsigned char *)buf, (size_t)n);
	free(buf);
	close(fd);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return n == 0 || err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL, "cannot read the upload");
}

bool uploads_consume(db_conn_t *c, const char *id, int64_t user_id, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "UPDATE uploads SET state = 'consumed', updated_at = ?"
				  " WHERE id = ? AND user_id = ? AND state = 'complete'",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, time_now_ms());
	db_bind_text(s, 2, id);
	db_bind_i64(s, 3, user_id);
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (n != 1)
		return err_set(e, ERR_CONFLICT, "upload_not_complete", "upload_id",
			       "the upload is not complete, or was already used");
	return true;
}

int uploads_expire(db_conn_t *c, int64_t now_ms, int max)
{
	err_t e;
	db_stmt_t *s =
	    db_prepare(c, "SELECT id FROM uploads WHERE state <> 'consumed' AND expires_at < ? LIMIT ?", &e);
	if (!s)
		return 0;
	db_bind_i64(s, 1, now_ms);
	db_bind_i64(s, 2, max);
	char(*ids)[UPLOAD_ID_LEN + 1] = xcalloc((size_t)max, sizeof(*ids));
	int n = 0;
	while (n < max && db_step(s, &e) == DB_ROW)
		str_copy(ids[n++], sizeof(ids[0]), db_col_text(s, 0));
	db_finish(s);
	int done = 0;
	for (int i = 0; i < n; i++) {
		s = db_prepare(c, "DELETE FROM uploads WHERE id = ? AND state <> 'consumed'", &e);
		if (!s)
			break;
		db_bind_text(s, 1, ids[i]);
		int rc = db_step(s, &e);
		db_finish(s);
		if (rc == DB_DONE) {
			char path[PATH_MAX];
			uploads_spool_path(ids[i], path, sizeof(path));
			unlink(path);
			done++;
		}
	}
	free(ids);
	return done;
}
