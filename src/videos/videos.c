/*
 * videos.c — see videos.h.
 */
#include "videos/videos.h"

#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "clips/clips.h"
#include "jobs/jobs.h"
#include "uploads/uploads.h"

#define VIDEO_COLS                                                                                           \
	"v.id, v.user_id, v.title, v.game, v.status, v.job_id, v.sha256, v.size_bytes, v.duration_ms,"       \
	" v.width, v.height, v.fps_milli, v.source_key, v.web_key, v.thumb_key, v.error, v.created_at,"      \
	" coalesce(j.progress, 0)"
#define VIDEO_FROM " FROM videos v LEFT JOIN jobs j ON j.id = v.job_id"

static void col(db_stmt_t *s, int i, char *dst, size_t n)
{
	const char *v = db_col_text(s, i);
	str_copy(dst, n, v ? v : "");
}

static void read_video(db_stmt_t *s, video_t *v)
{
	memset(v, 0, sizeof(*v));
	v->id = db_col_i64(s, 0);
	v->user_id = db_col_i64(s, 1);
	col(s, 2, v->title, sizeof(v->title));
	v->has_game = !db_col_is_null(s, 3);
	col(s, 3, v->game, sizeof(v->game));
	col(s, 4, v->status, sizeof(v->status));
	v->job_id = db_col_i64(s, 5);
	col(s, 6, v->sha256, sizeof(v->sha256));
	v->size_bytes = db_col_i64(s, 7);
	v->duration_ms = db_col_i64(s, 8);
	v->width = (int)db_col_i64(s, 9);
	v->height = (int)db_col_i64(s, 10);
	v->fps_milli = (int)db_col_i64(s, 11);
	col(s, 12, v->source_key, sizeof(v->source_key));
	col(s, 13, v->web_key, sizeof(v->web_key));
	col(s, 14, v->thumb_key, sizeof(v->thumb_key));
	col(s, 15, v->error, sizeof(v->error));
	v->created_at = db_col_i64(s, 16);
	v->progress = (int)db_col_i64(s, 17);
	if (strcmp(v->status, "ready") == 0)
		v->progress = 100;
}

static bool not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "video_not_found", NULL, "no such video");
}

bool videos_get(db_conn_t *c, int64_t id, int64_t owner, video_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c, "SELECT " VIDEO_COLS VIDEO_FROM " WHERE v.id = ? AND (CAST(? AS BIGINT) = 0 OR v.user_id = ?)",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, owner);
	db_bind_i64(s, 3, owner);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_video(s, out);
	db_finish(s);
	if (rc == DB_DONE)
		return not_found(e);
	return rc == DB_ROW;
}

static void read_video_row(db_stmt_t *s, void *elem)
{
	read_video(s, elem);
}

bool videos_list(db_conn_t *c, int64_t owner, int64_t before, int limit, video_t **out, int *count,
		 int64_t *next, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "SELECT " VIDEO_COLS VIDEO_FROM " WHERE v.user_id = ? AND v.id < ?"
				  " ORDER BY v.id DESC LIMIT ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, owner);
	return db_page(s, 2, before, limit, sizeof(video_t), offsetof(video_t, id), read_video_row, NULL,
		       (void **)out, count, next, e);
}

bool videos_create_from_upload(db_conn_t *c, store_t *st, int64_t user_id, const char *upload_id,
			       const char *title, const char *game, video_t *out, err_t *e)
{
	upload_t u;
	if (!uploads_get(c, upload_id, user_id, &u, e)) {
		e->field[0] = '\0';
		str_copy(e->field, sizeof(e->field), "upload_id");
		return false;
	}
	if (strcmp(u.state, "complete") != 0)
		return err_set(e, ERR_CONFLICT, "upload_not_complete", "upload_id",
			       strcmp(u.state, "consumed") == 0
				   ? "this upload already became a video"
				   : "the upload is not complete yet (%lld of %lld bytes)",
			       (long long)u.offset, (long long)u.length);
	char sha[65];
	if (!uploads_sha256(upload_id, sha, e))
		return false;
	int64_t id = id_new();
	char key[128], spool[PATH_MAX];
	snprintf(key, sizeof(key), "videos/%lld/source", (long long)id);
	uploads_spool_path(upload_id, spool, sizeof(spool));
	if (!store_put_file(st, key, spool, "application/octet-stream", e))
		return false;
	int64_t now = time_now_ms();
	char ukey[64];
	snprintf(ukey, sizeof(ukey), "video.process:%lld", (long long)id);
	char payload[64];
	snprintf(payload, sizeof(payload), "{\"video_id\":\"%lld\"}", (long long)id);
	int64_t job_id = 0;
	if (!db_begin(c, e))
		goto fail_store;
	if (!uploads_consume(c, upload_id, user_id, e))
		goto fail_tx;
	job_spec_t spec = {.kind = "video.process",
			   .payload = payload,
			   .owner_id = user_id,
			   .unique_key = ukey,
			   .priority = 0,
			   .max_attempts = 3};
	if (!jobs_enqueue(c, &spec, &job_id, e))
		goto fail_tx;
	db_stmt_t *s = db_prepare(
	    c,
	    "INSERT INTO videos (id, user_id, title, game, status, job_id, sha256, size_bytes,"
	    " source_key, created_at, updated_at) VALUES (?, ?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?)",
	    e);
	if (!s)
		goto fail_tx;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, user_id);
	db_bind_text(s, 3, title);
	db_bind_text(s, 4, game);
	db_bind_i64(s, 5, job_id);
	db_bind_text(s, 6, sha);
	db_bind_i64(s, 7, u.length);
	db_bind_text(s, 8, key);
	db_bind_i64(s, 9, now);
	db_bind_i64(s, 10, now);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE || !db_commit(c, e))
		goto fail_tx;
	unlink(spool);
	jobs_notify(c);
	return videos_get(c, id, user_id, out, e);
fail_tx:
	db_rollback(c);
fail_store:;
	err_t e2;
	store_delete(st, key, &e2);
	return false;
}

bool videos_delete(db_conn_t *c, store_t *st, int64_t id, int64_t owner, err_t *e)
{
	video_t v;
	if (!videos_get(c, id, owner, &v, e))
		return false;
	clips_delete_objects_of_video(c, st, id);
	db_stmt_t *s = db_prepare(c, "DELETE FROM videos WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		return false;
	/* The row is gone first: a crash here leaves orphan objects, never a row without its bytes. */
	const char *keys[] = {v.source_key, v.web_key, v.thumb_key};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		err_t e2;
		if (keys[i][0] && (i == 0 || strcmp(keys[i], v.source_key) != 0) &&
		    !store_delete(st, keys[i], &e2))
			log_warn("could not delete a stored object", "key", keys[i], "detail", e2.detail,
				 NULL);
	}
	return true;
}

#define HL_COLS "h.id, h.video_id, h.rank, h.start_ms, h.end_ms, h.score_milli, h.reasons, h.model"

static void read_hl(db_stmt_t *s, highlight_t *h)
{
	memset(h, 0, sizeof(*h));
	h->id = db_col_i64(s, 0);
	h->video_id = db_col_i64(s, 1);
	h->rank = (int)db_col_i64(s, 2);
	h->start_ms = db_col_i64(s, 3);
	h->end_ms = db_col_i64(s, 4);
	h->score_milli = (int)db_col_i64(s, 5);
	const char *r = db_col_text(s, 6);
	h->reasons = xstrdup(r ? r : "[]");
	col(s, 7, h->model, sizeof(h->model));
}

bool videos_highlights(db_conn_t *c, int64_t video_id, highlight_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	db_stmt_t *s =
	    db_prepare(c, "SELECT " HL_COLS " FROM highlights h WHERE h.video_id = ? ORDER BY h.rank", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, video_id);
	int cap = 8, n = 0, rc;
	highlight_t *items = xcalloc((size_t)cap, sizeof(*items));
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap *= 2;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		read_hl(s, &items[n++]);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		videos_highlights_free(items, n);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

void videos_highlights_free(highlight_t *h, int count)
{
	for (int i = 0; i < count; i++)
		free(h[i].reasons);
	free(h);
}

bool videos_highlight_get(db_conn_t *c, int64_t id, highlight_t *out, int64_t *owner, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT " HL_COLS ", v.user_id FROM highlights h JOIN videos v ON v.id = h.video_id"
		       " WHERE h.id = ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		read_hl(s, out);
		*owner = db_col_i64(s, 8);
	}
	db_finish(s);
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, "highlight_not_found", NULL, "no such highlight");
	return rc == DB_ROW;
}

bool videos_feedback_report(db_conn_t *c, feedback_stat_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	db_stmt_t *s = db_prepare(
	    c, "SELECT model, count(*), sum(kept) FROM highlight_feedback GROUP BY model ORDER BY model", e);
	if (!s)
		return false;
	int cap = 4, n = 0, rc;
	feedback_stat_t *items = xcalloc((size_t)cap, sizeof(*items));
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap *= 2;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		col(s, 0, items[n].model, sizeof(items[n].model));
		items[n].judged = db_col_i64(s, 1);
		items[n].kept = db_col_i64(s, 2);
		n++;
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(items);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

bool videos_feedback(db_conn_t *c, int64_t highlight_id, int64_t user_id, bool kept, err_t *e)
{
	highlight_t h;
	int64_t owner = 0;
	if (!videos_highlight_get(c, highlight_id, &h, &owner, e))
		return false;
	if (owner != user_id) {
		free(h.reasons);
		return err_set(e, ERR_NOT_FOUND, "highlight_not_found", NULL, "no such highlight");
	}
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO highlight_feedback (highlight_id, user_id, kept, model, created_at)"
		       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (highlight_id, user_id)"
		       " DO UPDATE SET kept = excluded.kept, created_at = excluded.created_at",
		       e);
	bool ok = false;
	if (s) {
		db_bind_i64(s, 1, highlight_id);
		db_bind_i64(s, 2, user_id);
		db_bind_i64(s, 3, kept ? 1 : 0);
		db_bind_text(s, 4, h.model);
		db_bind_i64(s, 5, time_now_ms());
		ok = db_step(s, e) == DB_DONE;
		db_finish(s);
	}
	free(h.reasons);
	return ok;
}
