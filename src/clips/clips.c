/*
 * clips.c — see clips.h.
 */
#include "clips/clips.h"

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "jobs/jobs.h"
#include "videos/videos.h"

#define CLIP_COLS                                                                                            \
	"c.id, c.user_id, c.video_id, c.highlight_id, c.job_id, c.title, c.status, c.aspect, c.fill,"        \
	" c.start_ms, c.end_ms, c.duration_ms, c.width, c.height, c.copied, c.watermark, c.object_key,"      \
	" c.error, c.created_at, coalesce(j.progress, 0), c.thumb_key"
#define CLIP_FROM " FROM clips c LEFT JOIN jobs j ON j.id = c.job_id"

static void col(db_stmt_t *s, int i, char *dst, size_t n)
{
	const char *v = db_col_text(s, i);
	str_copy(dst, n, v ? v : "");
}

static void read_clip(db_stmt_t *s, clip_t *k)
{
	memset(k, 0, sizeof(*k));
	k->id = db_col_i64(s, 0);
	k->user_id = db_col_i64(s, 1);
	k->video_id = db_col_i64(s, 2);
	k->highlight_id = db_col_i64(s, 3);
	k->job_id = db_col_i64(s, 4);
	k->has_title = !db_col_is_null(s, 5);
	col(s, 5, k->title, sizeof(k->title));
	col(s, 6, k->status, sizeof(k->status));
	col(s, 7, k->aspect, sizeof(k->aspect));
	col(s, 8, k->fill, sizeof(k->fill));
	k->start_ms = db_col_i64(s, 9);
	k->end_ms = db_col_i64(s, 10);
	k->duration_ms = db_col_i64(s, 11);
	k->width = (int)db_col_i64(s, 12);
	k->height = (int)db_col_i64(s, 13);
	k->copied = db_col_i64(s, 14) != 0;
	k->watermark = db_col_i64(s, 15) != 0;
	col(s, 16, k->object_key, sizeof(k->object_key));
	col(s, 17, k->error, sizeof(k->error));
	k->created_at = db_col_i64(s, 18);
	k->progress = strcmp(k->status, "ready") == 0 ? 100 : (int)db_col_i64(s, 19);
	col(s, 20, k->thumb_key, sizeof(k->thumb_key));
}

bool clips_get(db_conn_t *c, int64_t id, int64_t owner, clip_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c, "SELECT " CLIP_COLS CLIP_FROM " WHERE c.id = ? AND (CAST(? AS BIGINT) = 0 OR c.user_id = ?)",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, owner);
	db_bind_i64(s, 3, owner);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_clip(s, out);
	db_finish(s);
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, "clip_not_found", NULL, "no such clip");
	return rc == DB_ROW;
}

static void read_clip_row(db_stmt_t *s, void *elem)
{
	read_clip(s, elem);
}

bool clips_list(db_conn_t *c, int64_t owner, int64_t before, int limit, clip_t **out, int *count,
		int64_t *next, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c, "SELECT " CLIP_COLS CLIP_FROM " WHERE c.user_id = ? AND c.id < ? ORDER BY c.id DESC LIMIT ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, owner);
	return db_page(s, 2, before, limit, sizeof(clip_t), offsetof(clip_t, id), read_clip_row, NULL,
		       (void **)out, count, next, e);
}

static bool valid_spec(const clip_spec_t *sp, const video_t *v, err_t *e)
{
	if (strcmp(sp->aspect, "16:9") && strcmp(sp->aspect, "9:16") && strcmp(sp->aspect, "1:1"))
		return err_set(e, ERR_INVALID, "invalid_aspect", "aspect",
			       "aspect must be 16:9, 9:16 or 1:1");
	if (sp->fill && strcmp(sp->fill, "crop") && strcmp(sp->fill, "blur"))
		return err_set(e, ERR_INVALID, "invalid_fill", "fill", "fill must be crop or blur");
	if (sp->start_ms < 0)
		return err_set(e, ERR_INVALID, "invalid_range", "start_s", "start_s must not be negative");
	if (sp->end_ms <= sp->start_ms)
		return err_set(e, ERR_INVALID, "invalid_range", "end_s", "end_s must be after start_s");
	if (sp->end_ms - sp->start_ms < CLIP_MIN_MS)
		return err_set(e, ERR_INVALID, "clip_too_short", "end_s", "a clip lasts at least 1 s");
	if (sp->end_ms - sp->start_ms > CLIP_MAX_MS)
		return err_set(e, ERR_INVALID, "clip_too_long", "end_s", "a clip lasts at most 180 s");
	if (sp->end_ms > v->duration_ms + 50) /* 50 ms: rounding of the stored duration */
		return err_set(e, ERR_INVALID, "invalid_range", "end_s",
			       "end_s is past the end of the video (%.3f s)",
			       (double)v->duration_ms / 1000.0);
	return true;
}

bool clips_create(db_conn_t *c, int64_t user_id, const char *plan, const clip_spec_t *sp, clip_t *out,
		  err_t *e)
{
	video_t v;
	if (!videos_get(c, sp->video_id, user_id, &v, e)) {
		str_copy(e->field, sizeof(e->field), "video_id");
		return false;
	}
	if (strcmp(v.status, "ready") != 0)
		return err_set(e, ERR_CONFLICT, "video_not_ready", "video_id",
			       "the video is not ready yet (%s)", v.status);
	if (!valid_spec(sp, &v, e))
		return false;
	if (sp->highlight_id) {
		highlight_t h;
		int64_t owner = 0;
		if (!videos_highlight_get(c, sp->highlight_id, &h, &owner, e) || h.video_id != v.id ||
		    owner != user_id) {
			if (owner)
				free(h.reasons);
			return err_set(e, ERR_INVALID, "invalid_highlight", "highlight_id",
				       "highlight_id is not a highlight of this video");
		}
		free(h.reasons);
	}
	int64_t id = id_new(), job_id = 0, now = time_now_ms();
	bool watermark = strcmp(plan, "pro") != 0;
	char payload[64];
	snprintf(payload, sizeof(payload), "{\"clip_id\":\"%lld\"}", (long long)id);
	if (!db_begin(c, e))
		return false;
	job_spec_t js = {.kind = "clip.render",
			 .payload = payload,
			 .owner_id = user_id,
			 .priority = 10,
			 .max_attempts = 3};
	db_stmt_t *s = NULL;
	if (!jobs_enqueue(c, &js, &job_id, e))
		goto fail;
	s = db_prepare(
	    c,
	    "INSERT INTO clips (id, user_id, video_id, highlight_id, title, status, job_id, aspect, fill,"
	    " start_ms, end_ms, watermark, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?, ?)",
	    e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, user_id);
	db_bind_i64(s, 3, v.id);
	if (sp->highlight_id)
		db_bind_i64(s, 4, sp->highlight_id);
	else
		db_bind_null(s, 4);
	db_bind_text(s, 5, sp->title);
	db_bind_i64(s, 6, job_id);
	db_bind_text(s, 7, sp->aspect);
	db_bind_text(s, 8, sp->fill ? sp->fill : "crop");
	db_bind_i64(s, 9, sp->start_ms);
	db_bind_i64(s, 10, sp->end_ms);
	db_bind_i64(s, 11, watermark ? 1 : 0);
	db_bind_i64(s, 12, now);
	db_bind_i64(s, 13, now);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE || !db_commit(c, e))
		goto fail;
	/* Exporting a highlight is the strongest "kept" signal the detector gets. */
	err_t e2;
	if (sp->highlight_id && !videos_feedback(c, sp->highlight_id, user_id, true, &e2))
		log_warn("could not record highlight feedback", "detail", e2.detail, NULL);
	jobs_notify(c);
	return clips_get(c, id, user_id, out, e);
fail:
	db_rollback(c);
	return false;
}

bool clips_delete(db_conn_t *c, store_t *st, int64_t id, int64_t owner, err_t *e)
{
	clip_t k;
	if (!clips_get(c, id, owner, &k, e))
		return false;
	db_stmt_t *s = db_prepare(c, "DELETE FROM clips WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		return false;
	err_t e2;
	if (k.object_key[0] && !store_delete(st, k.object_key, &e2))
		log_warn("could not delete a stored clip", "key", k.object_key, NULL);
	if (k.thumb_key[0] && !store_delete(st, k.thumb_key, &e2))
		log_warn("could not delete a stored clip thumbnail", "key", k.thumb_key, NULL);
	return true;
}

void clips_delete_objects_of_video(db_conn_t *c, store_t *st, int64_t video_id)
{
	err_t e;
	int64_t after = 0;
	for (;;) { /* in pages, so a video with many clips needs no big buffer */
		db_stmt_t *s =
		    db_prepare(c,
			       "SELECT id, object_key, thumb_key FROM clips WHERE video_id = ? AND id > ?"
			       " AND object_key IS NOT NULL ORDER BY id LIMIT 64",
			       &e);
		if (!s)
			return;
		db_bind_i64(s, 1, video_id);
		db_bind_i64(s, 2, after);
		char keys[64][128], thumbs[64][128];
		int n = 0;
		while (n < 64 && db_step(s, &e) == DB_ROW) {
			after = db_col_i64(s, 0);
			str_copy(keys[n], sizeof(keys[0]), db_col_text(s, 1));
			str_copy(thumbs[n++], sizeof(thumbs[0]),
				 db_col_is_null(s, 2) ? "" : db_col_text(s, 2));
		}
		db_finish(s);
		for (int i = 0; i < n; i++) {
			store_delete(st, keys[i], &e);
			if (thumbs[i][0])
				store_delete(st, thumbs[i], &e);
		}
		if (n < 64)
			return;
	}
}
