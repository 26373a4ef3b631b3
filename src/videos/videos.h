/*
 * videos.h — uploaded videos, their processing state and their highlights.
 *
 * A video is created from a complete upload (videos_create_from_upload): the
 * bytes move from the upload spool into object storage under
 * "videos/<id>/source", and a `video.process` job is queued. The job
 * (process.c) probes, thumbnails, makes a web-playable proxy when needed and
 * finds the highlights, all inside a sandboxed child process, then stores the
 * results here. Identical uploads (same SHA-256) reuse the analysis of a
 * ready twin instead of processing again.
 *
 * Owner checks are part of every lookup: a video of someone else is
 * ERR_NOT_FOUND, exactly like a missing one (no existence oracle).
 */
#ifndef COSMIV_VIDEOS_H
#define COSMIV_VIDEOS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"
#include "store/store.h"

typedef struct {
	int64_t id;
	int64_t user_id;
	char title[512];
	char game[256];
	bool has_game;
	char status[16]; /* processing | ready | failed */
	int64_t job_id;
	char sha256[65];
	int64_t size_bytes;
	int64_t duration_ms;
	int width, height, fps_milli;
	char source_key[128], web_key[128], thumb_key[128];
	char error[512];
	int progress; /* from the job */
	int64_t created_at;
} video_t;

typedef struct {
	int64_t id;
	int64_t video_id;
	int rank;
	int64_t start_ms, end_ms;
	int score_milli;
	char *reasons; /* JSON array text (heap) */
	char model[64];
} highlight_t;

bool videos_create_from_upload(db_conn_t *c, store_t *st, int64_t user_id, const char *upload_id,
			       const char *title, const char *game, video_t *out, err_t *e);
/* owner 0: any owner (jobs, admins). */
bool videos_get(db_conn_t *c, int64_t id, int64_t owner, video_t *out, err_t *e);
bool videos_list(db_conn_t *c, int64_t owner, int64_t before, int limit, video_t **out, int *count,
		 int64_t *next, err_t *e);
/* Deletes the row (highlights go with it) and the stored objects. */
bool videos_delete(db_conn_t *c, store_t *st, int64_t id, int64_t owner, err_t *e);

bool videos_highlights(db_conn_t *c, int64_t video_id, highlight_t **out, int *count, err_t *e);
void videos_highlights_free(highlight_t *h, int count);
/* The highlight with its video's owner (for feedback and clips). */
bool videos_highlight_get(db_conn_t *c, int64_t id, highlight_t *out, int64_t *owner, err_t *e);
bool videos_feedback(db_conn_t *c, int64_t highlight_id, int64_t user_id, bool kept, err_t *e);

/* Precision users saw, per model version: highlights judged and kept
 * (feedback, or exported to a clip). Heap array, caller frees. */
typedef struct {
	char model[64];
	int64_t judged, kept;
} feedback_stat_t;
bool videos_feedback_report(db_conn_t *c, feedback_stat_t **out, int *count, err_t *e);

/* ==== The video.process job (process.c) ==== */

/* Registers the job handler; st and data_dir must outlive the workers. */
void videos_register_jobs(store_t *st, const char *data_dir);

/* ==== Shared by media jobs (process.c) ==== */

struct jobs_ctx;
struct json_t;
/* A readable local path of the video's source: the object itself on the local
 * backend, else a download into dir/source. */
bool videos_local_source(store_t *st, const video_t *v, const char *dir, char *out, size_t n, err_t *e);
/* Runs `cosmiv media-job ARGS…` in the sandbox; its progress goes to the job.
 * On success *result is the child's result object (new reference). On
 * failure e says why in words (ERR_INVALID when the input was refused,
 * crashed the child or timed out: not worth retrying). */
bool videos_run_media(struct jobs_ctx *ctx, const char *const args[], struct json_t **result, err_t *e);
/* A fresh private work directory for a job (removed by videos_work_done). */
char *videos_work_dir(int64_t job_id, err_t *e);
void videos_work_done(char *dir);

#endif
