/*
 * uploads_api.c — tus 1.0 resumable uploads at /api/v2/uploads.
 *
 * Extensions: creation, creation-with-upload, termination, expiration,
 * checksum (sha256). PATCH bodies are streamed to the spool file as they
 * arrive (http_route_stream), never buffered; the new offset is acknowledged
 * only after fsync + commit (uploads.h). Errors are problem+json like the
 * rest of the API, with tus's status codes: 409 for a wrong Upload-Offset,
 * 412 for a missing/unsupported Tus-Resumable, 415 for a wrong Content-Type,
 * 460 for a checksum mismatch, 413 over the plan's size limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "core/config.h"
#include "uploads/uploads.h"

#define TUS_VERSION    "1.0.0"
#define TUS_EXTENSIONS "creation,creation-with-upload,termination,expiration,checksum"

int64_t api_plan_max_upload(const char *plan)
{
	const config_t *cfg = config_get();
	return strcmp(plan, "pro") == 0 ? cfg->pro_max_upload_bytes : cfg->free_max_upload_bytes;
}

/* (Cache-Control: no-store comes with every API response; tus asks for it on HEAD.) */
static void tus_headers(http_req_t *r)
{
	http_add_header(r, "Tus-Resumable", TUS_VERSION);
}

static void http_date(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void offset_headers(http_req_t *r, const upload_t *u, int64_t offset)
{
	char v[32], d[40];
	snprintf(v, sizeof(v), "%lld", (long long)offset);
	http_add_header(r, "Upload-Offset", v);
	snprintf(v, sizeof(v), "%lld", (long long)u->length);
	http_add_header(r, "Upload-Length", v);
	if (strcmp(u->state, "uploading") == 0) {
		http_date(u->expires_at, d);
		http_add_header(r, "Upload-Expires", d);
	}
}

static bool tus_version_ok(http_req_t *r)
{
	const char *v = http_header(r, "Tus-Resumable");
	if (v && strcmp(v, TUS_VERSION) == 0)
		return true;
	http_add_header(r, "Tus-Version", TUS_VERSION);
	err_t e;
	err_set(&e, ERR_INVALID, "tus_version", "Tus-Resumable", "send Tus-Resumable: %s", TUS_VERSION);
	http_problem_status(r, 412, &e);
	return false;
}

static void tus_options(http_req_t *r)
{
	char max[32];
	snprintf(max, sizeof(max), "%lld", (long long)config_get()->pro_max_upload_bytes);
	http_no_content(r);
	http_add_header(r, "Tus-Resumable", TUS_VERSION);
	http_add_header(r, "Tus-Version", TUS_VERSION);
	http_add_header(r, "Tus-Extension", TUS_EXTENSIONS);
	http_add_header(r, "Tus-Max-Size", max);
	http_add_header(r, "Tus-Checksum-Algorithm", "sha256");
}

/* Upload-Metadata: "key base64,key2 base64" — take filename and filetype. */
static void parse_metadata(const char *h, char *filename, size_t fl, char *filetype, size_t tl)
{
	filename[0] = filetype[0] = '\0';
	for (const char *p = h; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *sp = memchr(p, ' ', len);
		if (sp) {
			size_t kl = (size_t)(sp - p);
			char *out = NULL;
			size_t outl = 0;
			if (kl == 8 && strncmp(p, "filename", 8) == 0)
				out = filename, outl = fl;
			else if (kl == 8 && strncmp(p, "filetype", 8) == 0)
				out = filetype, outl = tl;
			if (out) {
				size_t n = 0;
				const char *b64 = sp + 1;
				size_t bl = len - kl - 1;
				if (sodium_base642bin((unsigned char *)out, outl - 1, b64, bl, NULL, &n, NULL,
						      sodium_base64_VARIANT_ORIGINAL) != 0)
					n = 0;
				out[n] = '\0';
				/* keep printable text only: it is shown to people and logged */
				for (size_t i = 0; i < n; i++)
					if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
						out[i] = '_';
			}
		}
		p = end;
	}
}

/* ==== Streaming handlers ==== */

typedef struct {
	upload_write_t w;
	bool open;
	bool creating; /* POST with creation-with-upload */
	err_t err;
	bool failed;
} tus_state_t;

static void state_free(void *p)
{
	tus_state_t *st = p;
	if (st->open) /* the request ended without END/ABORT reaching us */
		uploads_write_abort(NULL, &st->w);
	free(st);
}

static bool parse_checksum(http_req_t *r, unsigned char out[crypto_hash_sha256_BYTES], bool *has)
{
	const char *h = http_header(r, "Upload-Checksum");
	*has = false;
	if (!h)
		return true;
	if (strncmp(h, "sha256 ", 7) != 0) {
		err_t e;
		err_set(&e, ERR_BAD_REQUEST, "checksum_algorithm", "Upload-Checksum",
			"only the sha256 checksum algorithm is supported");
		http_problem(r, &e);
		return false;
	}
	size_t n = 0;
	if (sodium_base642bin(out, crypto_hash_sha256_BYTES, h + 7, strlen(h + 7), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != crypto_hash_sha256_BYTES) {
		http_error(r, ERR_BAD_REQUEST, "bad_checksum", "Upload-Checksum",
			   "Upload-Checksum must be \"sha256 <base64 of 32 bytes>\"");
		return false;
	}
	*has = true;
	return true;
}

static bool is_offset_stream(http_req_t *r)
{
	const char *ct = http_header(r, "Content-Type");
	return ct && strncmp(ct, "application/offset+octet-stream", 31) == 0;
}

/* Opens the write of a PATCH (or of POST creation-with-upload) at `offset`. */
static bool open_write(http_req_t *r, tus_state_t *st, const char *id, int64_t user_id, int64_t offset)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	bool has = false;
	db_conn_t *c = api_conn(r);
	if (!c || !parse_checksum(r, sum, &has))
		return false;
	err_t e;
	if (!uploads_write_begin(c, id, user_id, offset, has ? sum : NULL, &st->w, &e)) {
		http_problem(r, &e);
		return false;
	}
	st->open = true;
	/* Refuse at once what Content-Length says cannot fit, before reading a byte. */
	const char *cl = http_header(r, "Content-Length");
	int64_t n;
	if (cl && parse_i64(cl, &n) && offset + n > st->w.up.length) {
		st->open = false;
		uploads_write_discard(&st->w);
		http_error(r, ERR_INVALID, "upload_too_long", "Content-Length",
			   "the data goes past Upload-Length");
		return false;
	}
	return true;
}

static void finish_write(http_req_t *r, tus_state_t *st, int status_ok)
{
	db_conn_t *c = api_conn(r);
	int64_t offset = st->w.start;
	err_t e;
	st->open = false;
	if (st->failed) { /* a refused request keeps nothing */
		uploads_write_discard(&st->w);
		http_problem(r, &st->err);
		return;
	}
	if (!c) {
		uploads_write_abort(NULL, &st->w);
		return;
	}
	if (!uploads_write_end(c, &st->w, &offset, &e)) {
		if (strcmp(e.code, "checksum_mismatch") == 0)
			http_problem_status(r, 460, &e);
		else
			http_problem(r, &e);
		return;
	}
	upload_t u = st->w.up;
	if (status_ok == 201) {
		char loc[80];
		snprintf(loc, sizeof(loc), "/api/v2/uploads/%s", u.id);
		http_send(r, 201, NULL, "", 0);
		http_add_header(r, "Location", loc);
	} else {
		http_no_content(r);
	}
	if (offset == u.length)
		str_copy(u.state, sizeof(u.state), "complete");
	offset_headers(r, &u, offset);
	tus_headers(r);
}

static void on_data(tus_state_t *st, const char *data, size_t len)
{
	if (!st->open || st->failed)
		return;
	if (!uploads_write(&st->w, data, len, &st->err))
		st->failed = true;
}

static void tus_create(http_req_t *r, http_stream_phase_t phase, const char *data, size_t len)
{
	tus_state_t *st = http_handler_data(r);
	if (phase == HTTP_STREAM_BEGIN) {
		if (!tus_version_ok(r))
			return;
		const auth_principal_t *p = api_principal(r);
		if (!p)
			return;
		char uid[24];
		snprintf(uid, sizeof(uid), "%lld", (long long)p->user.id);
		if (!api_rate_limit(r, "upload:acct", uid, config_get()->rate_upload_per_min,
				    config_get()->rate_upload_per_min))
			return;
		const char *lh = http_header(r, "Upload-Length");
		int64_t length;
		if (http_header(r, "Upload-Defer-Length")) {
			http_error(r, ERR_BAD_REQUEST, "defer_length_unsupported", "Upload-Defer-Length",
				   "Upload-Defer-Length is not supported; send Upload-Length");
			return;
		}
		if (!lh || !parse_i64(lh, &length) || length < 1) {
			http_error(r, ERR_BAD_REQUEST, "bad_upload_length", "Upload-Length",
				   "Upload-Length must be a positive integer");
			return;
		}
		int64_t max = api_plan_max_upload(p->user.plan);
		if (length > max) {
			char d[160];
			snprintf(d, sizeof(d),
				 "the file is %lld bytes; the %s plan allows uploads up to %lld bytes",
				 (long long)length, p->user.plan, (long long)max);
			http_error(r, ERR_TOO_LARGE, "upload_too_large", "Upload-Length", d);
			char m[32];
			snprintf(m, sizeof(m), "%lld", (long long)max);
			http_add_header(r, "Tus-Max-Size", m);
			return;
		}
		char filename[256], filetype[128];
		parse_metadata(http_header(r, "Upload-Metadata"), filename, sizeof(filename), filetype,
			       sizeof(filetype));
		db_conn_t *c = api_conn(r);
		if (!c)
			return;
		uploads_expire(c, time_now_ms(), 20);
		upload_t u;
		err_t e;
		if (!uploads_create(c, p->user.id, length, filename, filetype, config_get()->upload_expiry_s,
				    &u, &e)) {
			http_problem(r, &e);
			return;
		}
		st = xcalloc(1, sizeof(*st));
		st->creating = true;
		st->w.up = u;
		http_set_handler_data(r, st, state_free);
		/* creation-with-upload: the body is the first chunk */
		if (is_offset_stream(r) && !open_write(r, st, u.id, p->user.id, 0))
			return;
	} else if (phase == HTTP_STREAM_DATA) {
		if (st)
			on_data(st, data, len);
	} else if (phase == HTTP_STREAM_END) {
		if (!st)
			return;
		if (st->open) {
			finish_write(r, st, 201);
			return;
		}
		char loc[80];
		snprintf(loc, sizeof(loc), "/api/v2/uploads/%s", st->w.up.id);
		http_send(r, 201, NULL, "", 0);
		http_add_header(r, "Location", loc);
		offset_headers(r, &st->w.up, 0);
		tus_headers(r);
	} else if (phase == HTTP_STREAM_ABORT && st && st->open) {
		st->open = false;
		uploads_write_abort(api_conn(r), &st->w);
	}
}

static void tus_patch(http_req_t *r, http_stream_phase_t phase, const char *data, size_t len)
{
	tus_state_t *st = http_handler_data(r);
	if (phase == HTTP_STREAM_BEGIN) {
		if (!tus_version_ok(r))
			return;
		const auth_principal_t *p = api_principal(r);
		if (!p)
			return;
		if (!is_offset_stream(r)) {
			err_t e;
			err_set(&e, ERR_BAD_REQUEST, "unsupported_media_type", "Content-Type",
				"PATCH needs Content-Type: application/offset+octet-stream");
			http_problem_status(r, 415, &e);
			return;
		}
		const char *oh = http_header(r, "Upload-Offset");
		int64_t offset;
		if (!oh || !parse_i64(oh, &offset) || offset < 0) {
			http_error(r, ERR_BAD_REQUEST, "bad_upload_offset", "Upload-Offset",
				   "Upload-Offset must be a non-negative integer");
			return;
		}
		st = xcalloc(1, sizeof(*st));
		http_set_handler_data(r, st, state_free);
		open_write(r, st, http_param(r, "id"), p->user.id, offset);
	} else if (phase == HTTP_STREAM_DATA) {
		if (st)
			on_data(st, data, len);
	} else if (phase == HTTP_STREAM_END) {
		if (st && st->open)
			finish_write(r, st, 204);
	} else if (phase == HTTP_STREAM_ABORT && st && st->open) {
		st->open = false;
		uploads_write_abort(api_conn(r), &st->w);
	}
}

/* ==== HEAD, DELETE, OPTIONS ==== */

static void tus_head(http_req_t *r)
{
	if (!tus_version_ok(r))
		return;
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	upload_t u;
	err_t e;
	if (!uploads_get(c, http_param(r, "id"), p->user.id, &u, &e)) {
		http_problem(r, &e);
		return;
	}
	http_send(r, 200, NULL, "", 0);
	offset_headers(r, &u, u.offset);
	tus_headers(r);
}

static void tus_delete(http_req_t *r)
{
	if (!tus_version_ok(r))
		return;
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	err_t e;
	if (!uploads_delete(c, http_param(r, "id"), p->user.id, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	tus_headers(r);
}

void api_uploads_routes(void)
{
	http_route(HTTP_OPTIONS, "/api/v2/uploads", tus_options, 0);
	http_route_stream(HTTP_POST, "/api/v2/uploads", tus_create, 0);
	http_route(HTTP_OPTIONS, "/api/v2/uploads/{id}", tus_options, 0);
	http_route(HTTP_HEAD, "/api/v2/uploads/{id}", tus_head, 0);
	http_route_stream(HTTP_PATCH, "/api/v2/uploads/{id}", tus_patch, 0);
	http_route(HTTP_DELETE, "/api/v2/uploads/{id}", tus_delete, 0);
}
