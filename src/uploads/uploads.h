/*
 * uploads.h — resumable uploads (the storage side of tus 1.0).
 *
 * An upload is a row (id, owner, length, acknowledged offset, metadata,
 * expiry) and a spool file DATA_DIR/uploads/<id>.part that only grows by
 * appending. The acknowledged offset in the database is the truth: bytes in
 * the file beyond it (a PATCH that died before it was acknowledged, or a
 * kill -9 between write and commit) are cut off when the next PATCH begins.
 * A PATCH is acknowledged only after fsync of the file and the commit of the
 * new offset, so an acknowledged byte is never lost, and a resumed client
 * never sends a byte twice.
 *
 * One PATCH at a time per upload: the writer holds flock(LOCK_EX) on the
 * spool file (works across processes too); a second concurrent PATCH gets
 * ERR_CONFLICT.
 *
 * The spool is a directory (COSMIV_UPLOAD_DIR, default DATA_DIR/uploads).
 * In a scaled-out deployment either every node mounts the same one (NFSv4:
 * flock, O_EXCL and fsync hold across clients) and any node takes any
 * request, or the load balancer sends all upload requests, and the
 * POST /api/v2/videos that consumes them, to one node (deploy/nginx.conf).
 * A node that gets a request for an upload it cannot see in its spool
 * answers 503 and changes nothing. Once consumed, the file is in object
 * storage and any node processes it.
 */
#ifndef COSMIV_UPLOADS_H
#define COSMIV_UPLOADS_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "core/err.h"
#include "db/db.h"

#define UPLOAD_ID_LEN 32

typedef struct {
	char id[UPLOAD_ID_LEN + 1];
	int64_t user_id;
	int64_t length;
	int64_t offset;
	char filename[256];
	char filetype[128];
	char state[16]; /* uploading | complete | consumed */
	int64_t created_at, expires_at;
} upload_t;

/* An open PATCH: the locked spool file and a running checksum. */
typedef struct {
	upload_t up;
	int fd;
	int64_t start;	 /* offset when the PATCH began */
	int64_t written; /* bytes appended by this PATCH */
	crypto_hash_sha256_state sha;
	bool checksum; /* verify the Upload-Checksum at the end */
	unsigned char expect[crypto_hash_sha256_BYTES];
} upload_write_t;

/* The spool (dir, or DATA_DIR/uploads when dir is empty) is created if missing; called at start-up. */
bool uploads_init(const char *data_dir, const char *dir, err_t *e);
void uploads_cleanup(void);

bool uploads_create(db_conn_t *c, int64_t user_id, int64_t length, const char *filename, const char *filetype,
		    int expiry_s, upload_t *out, err_t *e);
/* Foreign or unknown ids are ERR_NOT_FOUND, expired ones ERR_NOT_FOUND too. */
bool uploads_get(db_conn_t *c, const char *id, int64_t user_id, upload_t *out, err_t *e);
bool uploads_delete(db_conn_t *c, const char *id, int64_t user_id, err_t *e);

/* Begins a PATCH at client_offset (must equal the acknowledged offset: else ERR_CONFLICT). */
bool uploads_write_begin(db_conn_t *c, const char *id, int64_t user_id, int64_t client_offset,
			 const unsigned char *checksum, upload_write_t *w, err_t *e);
/* Appends; ERR_INVALID when the upload would grow past its length. */
bool uploads_write(upload_write_t *w, const char *data, size_t len, err_t *e);
/* fsync, checksum check (ERR_INVALID code checksum_mismatch → nothing kept),
 * commit the new offset; then releases w. *offset is the acknowledged offset. */
bool uploads_write_end(db_conn_t *c, upload_write_t *w, int64_t *offset, err_t *e);
/* The PATCH is refused: drop what it wrote and release w. */
void uploads_write_discard(upload_write_t *w);
/* The client went away: keep what was written (durably) and release w. */
void uploads_write_abort(db_conn_t *c, upload_write_t *w);

/* Path of the spool file of an upload (for the video step). */
void uploads_spool_path(const char *id, char *out, size_t outlen);
/* SHA-256 (hex) of a complete upload's bytes. */
bool uploads_sha256(const char *id, char out[65], err_t *e);
/* Marks a complete upload consumed (it became a video); the caller removes the spool file. */
bool uploads_consume(db_conn_t *c, const char *id, int64_t user_id, err_t *e);
/* Deletes expired, unfinished uploads (rows and files); returns how many. */
int uploads_expire(db_conn_t *c, int64_t now_ms, int max);

#endif
