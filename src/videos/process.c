/*
 * process.c — the `video.process` job.
 *
 *   1. fetch the source from object storage to a private work directory
 *      (the local backend is read in place);
 *   2. run `cosmiv media-job process` in the sandbox (media/sandbox.h): probe
 *      and validate against the owner's plan, thumbnail, web-playable proxy
 *      when the source is not one, highlight detection — progress comes back
 *      as JSON lines and is recorded on the job;
 *   3. store the thumbnail and proxy, write the highlights, mark the video
 *      ready — or failed with the child's reason.
 *
 * A refusal of the input (exit code 3: not a video, too long, damaged…), a
 * crash or a timeout of the child fails the job for good: trying a hostile
 * file again cannot help. Only failures of our own (storage, database) are
 * retried.
 *
 * Identical uploads: when a ready video with the same SHA-256 exists, its
 * analysis is copied instead (objects copied, not shared, so deleting one
 * video never breaks the other).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/util.h"
#include "jobs/jobs.h"
#include "media/sandbox.h"
#include "users/users.h"
#include "videos/videos.h"

static store_t *the_store;
static char *work_root;

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* ==== Database updates ==== */

static bool set_failed(db_conn_t *c, int64_t id, const char *reason, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c, "UPDATE videos SET status = 'failed', error = ?, updated_at = ? WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_text(s, 1, reason);
	db_bind_i64(s, 2, time_now_ms());
	db_bind_i64(s, 3, id);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool insert_highlight(db_conn_t *c, int64_t video_id, int rank, int64_t start_ms, int64_t end_ms,
			     int score_milli, const char *reasons, const char *model, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO highlights (id, video_id, rank, start_ms, end_ms, score_milli, reasons,"
		       " model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id_new());
	db_bind_i64(s, 2, video_id);
	db_bind_i64(s, 3, rank);
	db_bind_i64(s, 4, start_ms);
	db_bind_i64(s, 5, end_ms);
	db_bind_i64(s, 6, score_milli);
	db_bind_text(s, 7, reasons);
	db_bind_text(s, 8, model);
	db_bind_i64(s, 9, time_now_ms());
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool set_ready(db_conn_t *c, int64_t id, int64_t duration_ms, int w, int h, int fps_milli,
		      const char *web_key, const char *thumb_key, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c,
	    "UPDATE videos SET status = 'ready', duration_ms = ?, width = ?, height = ?,"
	    " fps_milli = ?, web_key = ?, thumb_key = ?, error = NULL, updated_at = ? WHERE id = ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, duration_ms);
	db_bind_i64(s, 2, w);
	db_bind_i64(s, 3, h);
	db_bind_i64(s, 4, fps_milli);
	db_bind_text(s, 5, web_key);
	db_bind_text(s, 6, thumb_key[0] ? thumb_key : NULL);
	db_bind_i64(s, 7, time_now_ms());
	db_bind_i64(s, 8, id);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

/* ==== Reuse of an identical upload ==== */

static bool copy_object(const char *from, const char *to, const char *tmpdir, err_t *e)
{
	char *tmp = xasprintf("%s/copy", tmpdir);
	bool ok = store_get_file(the_store, from, tmp, e) && store_put_file(the_store, to, tmp, NULL, e);
	unlink(tmp);
	free(tmp);
	return ok;
}

/* true with *done when a ready twin was found and copied. A twin is the same file of the same game
 * (the game picks the detector's model: media_model_for_game). */
static bool reuse_twin(db_conn_t *c, const video_t *v, const char *tmpdir, bool *done, err_t *e)
{
	*done = false;
	db_stmt_t *s = db_prepare(c,
				  "SELECT id FROM videos WHERE sha256 = ? AND status = 'ready' AND id <> ?"
				  " AND lower(coalesce(game, '')) = lower(?) LIMIT 1",
				  e);
	if (!s)
		return false;
	db_bind_text(s, 1, v->sha256);
	db_bind_i64(s, 2, v->id);
	db_bind_text(s, 3, v->has_game ? v->game : "");
	int rc = db_step(s, e);
	int64_t twin_id = rc == DB_ROW ? db_col_i64(s, 0) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	video_t t;
	if (!twin_id || !videos_get(c, twin_id, 0, &t, e))
		return rc != DB_ERROR;
	char web[128], thumb[128] = "";
	if (strcmp(t.web_key, t.source_key) == 0) {
		str_copy(web, sizeof(web), v->source_key);
	} else {
		snprintf(web, sizeof(web), "videos/%lld/web.mp4", (long long)v->id);
		if (!copy_object(t.web_key, web, tmpdir, e))
			return false;
	}
	if (t.thumb_key[0]) {
		snprintf(thumb, sizeof(thumb), "videos/%lld/thumb.jpg", (long long)v->id);
		if (!copy_object(t.thumb_key, thumb, tmpdir, e))
			return false;
	}
	highlight_t *hl;
	int n;
	if (!videos_highlights(c, twin_id, &hl, &n, e))
		return false;
	bool ok = db_begin(c, e);
	for (int i = 0; ok && i < n; i++)
		ok = insert_highlight(c, v->id, hl[i].rank, hl[i].start_ms, hl[i].end_ms, hl[i].score_milli,
				      hl[i].reasons, hl[i].model, e);
	videos_highlights_free(hl, n);
	ok = ok && set_ready(c, v->id, t.duration_ms, t.width, t.height, t.fps_milli, web, thumb, e) &&
	     db_commit(c, e);
	if (!ok) {
		db_rollback(c);
		return false;
	}
	*done = true;
	return true;
}

/* ==== The sandboxed run ==== */

typedef struct {
	jobs_ctx_t *job;
	json_t *result;
	int percent;
	char stage[64];
} run_ctx_t;

static void on_line(void *p, const char *line)
{
	run_ctx_t *rc = p;
	if (!line) { /* the child is busy and quiet: keep the lease */
		jobs_progress(rc->job, rc->percent, rc->stage);
		return;
	}
	json_t *j = json_loads(line, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	json_t *res = json_object_get(j, "result");
	if (json_is_object(res)) {
		json_decref(rc->result);
		rc->result = json_incref(res);
	} else if (json_is_integer(json_object_get(j, "progress"))) {
		const char *stage = json_string_value(json_object_get(j, "stage"));
		rc->percent = (int)json_integer_value(json_object_get(j, "progress"));
		str_copy(rc->stage, sizeof(rc->stage), stage ? stage : "");
		jobs_progress(rc->job, rc->percent, rc->stage);
	}
	json_decref(j);
}

/* The child's reason, from the last "cosmiv: …" line of its stderr. */
static void child_reason(const media_run_result_t *res, char *out, size_t n)
{
	const char *tail = res->stderr_tail;
	const char *best = NULL;
	for (const char *p = tail; (p = strstr(p, "cosmiv: ")); p++)
		best = p + 8;
	if (best) {
		str_copy(out, n, best);
		out[strcspn(out, "\n")] = '\0';
	} else if (res->timed_out) {
		str_copy(out, n, "processing took longer than the time limit");
	} else if (res->signal) {
		snprintf(out, n, "the media process crashed (signal %d) on this file", res->signal);
	} else {
		snprintf(out, n, "the media process failed (exit code %d)", res->exit_code);
	}
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static bool store_results(jobs_ctx_t *ctx, const video_t *v, json_t *result, const char *outdir, err_t *e)
{
	db_conn_t *c = jobs_conn(ctx);
	json_t *info = json_object_get(result, "info");
	char web[128], thumb[128] = "", path[PATH_MAX];
	uint64_t t0 = time_mono_ns();
	snprintf(path, sizeof(path), "%s/thumb.jpg", outdir);
	if (access(path, R_OK) == 0) {
		snprintf(thumb, sizeof(thumb), "videos/%lld/thumb.jpg", (long long)v->id);
		if (!store_put_file(the_store, thumb, path, "image/jpeg", e))
			return false;
	}
	snprintf(path, sizeof(path), "%s/web.mp4", outdir);
	if (access(path, R_OK) == 0) {
		snprintf(web, sizeof(web), "videos/%lld/web.mp4", (long long)v->id);
		if (!store_put_file(the_store, web, path, "video/mp4", e))
			return false;
	} else {
		str_copy(web, sizeof(web), v->source_key);
	}
	jobs_timing(ctx, "store", (double)(time_mono_ns() - t0) / 1e6);
	const char *model = json_string_value(json_object_get(result, "model"));
	json_t *hls = json_object_get(result, "highlights");
	if (!db_begin(c, e))
		return false;
	bool ok = true;
	size_t i;
	json_t *h;
	json_array_foreach(hls, i, h)
	{
		char *reasons = jx_dump(json_object_get(h, "reasons"));
		ok = insert_highlight(c, v->id, (int)i + 1, (int64_t)(num(h, "start_s") * 1000),
				      (int64_t)(num(h, "end_s") * 1000), (int)(num(h, "score") * 1000),
				      reasons, model ? model : "unknown", e);
		free(reasons);
		if (!ok)
			break;
	}
	ok = ok &&
	     set_ready(c, v->id, (int64_t)(num(info, "duration_s") * 1000), (int)num(info, "display_width"),
		       (int)num(info, "display_height"), (int)(num(info, "fps") * 1000), web, thumb, e) &&
	     db_commit(c, e);
	if (!ok)
		db_rollback(c);
	return ok;
}

bool videos_local_source(store_t *st, const video_t *v, const char *dir, char *out, size_t n, err_t *e)
{
	if (store_local_path(st, v->source_key, out, n))
		return true;
	snprintf(out, n, "%s/source", dir);
	return store_get_file(st, v->source_key, out, e);
}

bool videos_run_media(jobs_ctx_t *ctx, const char *const args[], json_t **result, err_t *e)
{
	run_ctx_t rc = {.job = ctx};
	media_run_result_t res;
	uint64_t t0 = time_mono_ns();
	*result = NULL;
	if (!media_sandbox_run(args, config_get()->media_timeout_s, on_line, &rc, &res, e))
		return false;
	jobs_timing(ctx, "sandbox", (double)(time_mono_ns() - t0) / 1e6);
	if (res.exit_code != 0 || !rc.result) {
		char reason[400];
		child_reason(&res, reason, sizeof(reason));
		json_decref(rc.result);
		return err_set(e, ERR_INVALID, "media_rejected", NULL, "%s", reason);
	}
	json_t *timings = json_object_get(rc.result, "timings_ms");
	const char *stage;
	json_t *ms;
	json_object_foreach(timings, stage, ms)
	{
		jobs_timing(ctx, stage, json_number_value(ms));
	}
	*result = rc.result;
	return true;
}

char *videos_work_dir(int64_t job_id, err_t *e)
{
	/* the pid keeps a dead worker's leftovers apart from the retry's files */
	char *dir = xasprintf("%s/job-%lld-%d", work_root, (long long)job_id, (int)getpid());
	rm_rf(dir);
	if (mkdir(dir, 0700) != 0) {
		err_set(e, ERR_UNAVAILABLE, "workdir", NULL, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

void videos_work_done(char *dir)
{
	if (dir)
		rm_rf(dir);
	free(dir);
}

static bool process_video(jobs_ctx_t *ctx, const job_t *job, bool *permanent, err_t *e)
{
	db_conn_t *c = jobs_conn(ctx);
	const config_t *cfg = config_get();
	json_t *payload = json_loads(job->payload, 0, NULL);
	int64_t vid = 0;
	bool have = id_parse(json_string_value(json_object_get(payload, "video_id")), &vid);
	json_decref(payload);
	if (!have) {
		*permanent = true;
		return err_set(e, ERR_INVALID, "bad_payload", NULL, "the job has no video_id");
	}
	video_t v;
	if (!videos_get(c, vid, 0, &v, e)) {
		*permanent = e->kind == ERR_NOT_FOUND; /* deleted meanwhile */
		return false;
	}
	user_t owner;
	if (!users_get_by_id(c, v.user_id, &owner, e)) {
		*permanent = true;
		return false;
	}
	bool ok = false, reused = false;
	json_t *result = NULL;
	char *dir = videos_work_dir(job->id, e);
	if (!dir)
		return false;
	if (!reuse_twin(c, &v, dir, &reused, e))
		goto out;
	if (reused) {
		jobs_timing(ctx, "reused_analysis", 1);
		ok = true;
		goto out;
	}
	/* 1. the source, local */
	char src[PATH_MAX];
	uint64_t t0 = time_mono_ns();
	if (!videos_local_source(the_store, &v, dir, src, sizeof(src), e))
		goto out;
	jobs_timing(ctx, "fetch", (double)(time_mono_ns() - t0) / 1e6);
	jobs_progress(ctx, 2, "starting");
	/* 2. sandboxed analysis, limits from the owner's plan */
	char max_dur[24], max_bytes[24], mem[24], cpu[24];
	bool pro = strcmp(owner.plan, "pro") == 0;
	snprintf(max_dur, sizeof(max_dur), "%d", pro ? cfg->pro_max_duration_s : cfg->free_max_duration_s);
	snprintf(max_bytes, sizeof(max_bytes), "%lld",
		 (long long)(pro ? cfg->pro_max_upload_bytes : cfg->free_max_upload_bytes));
	snprintf(mem, sizeof(mem), "%lld", (long long)cfg->media_memory_bytes);
	snprintf(cpu, sizeof(cpu), "%d", cfg->media_timeout_s * 2);
	const char *args[] = {"media-job",
			      "process",
			      "--in",
			      src,
			      "--out",
			      dir,
			      "--max-duration",
			      max_dur,
			      "--max-bytes",
			      max_bytes,
			      "--memory",
			      mem,
			      "--cpu",
			      cpu,
			      v.has_game ? "--game" : NULL,
			      v.game,
			      NULL};
	if (!videos_run_media(ctx, args, &result, e)) {
		if (e->kind == ERR_INVALID) {
			*permanent = true;
			err_t e2;
			set_failed(c, v.id, e->detail, &e2);
		}
		goto out;
	}
	/* 3. results */
	ok = store_results(ctx, &v, result, dir, e);
out:
	if (!ok && !*permanent && job->attempts >= job->max_attempts) {
		err_t e2;
		set_failed(c, v.id, e->detail, &e2);
	}
	json_decref(result);
	videos_work_done(dir);
	return ok;
}

void videos_register_jobs(store_t *st, const char *data_dir)
{
	the_store = st;
	free(work_root);
	work_root = xasprintf("%s/work", data_dir);
	mkdir(work_root, 0700);
	jobs_register("video.process", process_video);
}
