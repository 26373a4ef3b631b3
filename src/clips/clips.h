/*
 * clips.h — clips exported from a video: a time range (1–180 s), an aspect
 * preset (16:9, 9:16, 1:1) and a fill (center crop or blurred background).
 *
 * Creating a clip queues a `clip.render` job (render.c), which runs the
 * renderer in the media sandbox: stream copy when the cut allows, otherwise
 * a re-encode to H.264/AAC MP4 with faststart. Free-plan clips carry a small
 * Cosmiv watermark (which forces a re-encode). The output lives in object
 * storage under "clips/<id>.mp4".
 *
 * Owner checks are part of every lookup (someone else's clip is not found).
 */
#ifndef COSMIV_CLIPS_H
#define COSMIV_CLIPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"
#include "store/store.h"

#define CLIP_MIN_MS 1000
#define CLIP_MAX_MS 180000

typedef struct {
	int64_t id, user_id, video_id, highlight_id, job_id;
	char title[512];
	bool has_title;
	char status[16];
	char aspect[8];
	char fill[8];
	int64_t start_ms, end_ms, duration_ms;
	int width, height;
	bool copied, watermark;
	char object_key[128];
	char thumb_key[128]; /* "" when the clip has no poster frame */
	char error[512];
	int progress;
	int64_t created_at;
} clip_t;

typedef struct {
	int64_t video_id;
	int64_t start_ms, end_ms;
	const char *aspect;
	const char *fill; /* NULL: crop */
	const char *title;
	int64_t highlight_id; /* 0: none */
} clip_spec_t;

bool clips_create(db_conn_t *c, int64_t user_id, const char *plan, const clip_spec_t *spec, clip_t *out,
		  err_t *e);
bool clips_get(db_conn_t *c, int64_t id, int64_t owner, clip_t *out, err_t *e);
bool clips_list(db_conn_t *c, int64_t owner, int64_t before, int limit, clip_t **out, int *count,
		int64_t *next, err_t *e);
bool clips_delete(db_conn_t *c, store_t *st, int64_t id, int64_t owner, err_t *e);
/* Deletes the stored files of every clip of a video (before the video goes). */
void clips_delete_objects_of_video(db_conn_t *c, store_t *st, int64_t video_id);

void clips_register_jobs(store_t *st, const char *data_dir);

#endif
