/*
 * render.c — the `clip.render` job: fetch the source, run
 * `cosmiv media-job clip` in the sandbox, store clips/<id>.mp4, record the
 * result. A refused or crashing render fails for good; storage and database
 * trouble is retried (see jobs.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clips/clips.h"
#include "core/config.h"
#include "core/util.h"
#include "jobs/jobs.h"
#include "videos/videos.h"

static store_t *the_store;

static bool set_failed(db_conn_t *c, int64_t id, const char *reason)
{
	err_t e;
	db_stmt_t *s =
	    db_prepare(c, "UPDATE clips SET status = 'failed', error = ?, updated_at = ? WHERE id = ?", &e);
	if (!s)
		return false;
	db_bind_text(s, 1, reason);
	db_bind_i64(s, 2, time_now_ms());
	db_bind_i64(s, 3, id);
	int rc = db_step(s, &e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool set_ready(db_conn_t *c, int64_t id, json_t *res, const char *key, const char *thumb_key, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c,
	    "UPDATE clips SET status = 'ready', duration_ms = ?, width = ?, height = ?, copied = ?,"
	    " object_key = ?, thumb_key = ?, error = NULL, updated_at = ? WHERE id = ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, (int64_t)(json_number_value(json_object_get(res, "duration_s")) * 1000));
	db_bind_i64(s, 2, json_integer_value(json_object_get(res, "width")));
	db_bind_i64(s, 3, json_integer_value(json_object_get(res, "height")));
	db_bind_i64(s, 4, json_is_true(json_object_get(res, "copied")) ? 1 : 0);
	db_bind_text(s, 5, key);
	db_bind_text(s, 6, thumb_key);
	db_bind_i64(s, 7, time_now_ms());
	db_bind_i64(s, 8, id);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool render_clip(jobs_ctx_t *ctx, const job_t *job, bool *permanent, err_t *e)
{
	db_conn_t *c = jobs_conn(ctx);
	const config_t *cfg = config_get();
	json_t *payload = json_loads(job->payload, 0, NULL);
	int64_t id = 0;
	bool have = id_parse(json_string_value(json_object_get(payload, "clip_id")), &id);
	json_decref(payload);
	clip_t k;
	video_t v;
	if (!have || !clips_get(c, id, 0, &k, e) || !videos_get(c, k.video_id, 0, &v, e)) {
		*permanent = !have || e->kind == ERR_NOT_FOUND;
		return have ? false : err_set(e, ERR_INVALID, "bad_payload", NULL, "the job has no clip_id");
	}
	char *dir = videos_work_dir(job->id, e);
	if (!dir)
		return false;
	bool ok = false;
	json_t *result = NULL;
	char src[PATH_MAX], out[PATH_MAX], thumb[PATH_MAX], start[32], end[32], mem[24], cpu[24];
	if (!videos_local_source(the_store, &v, dir, src, sizeof(src), e))
		goto out;
	snprintf(out, sizeof(out), "%s/clip.mp4", dir);
	snprintf(thumb, sizeof(thumb), "%s/thumb.jpg", dir);
	snprintf(start, sizeof(start), "%.3f", (double)k.start_ms / 1000.0);
	snprintf(end, sizeof(end), "%.3f", (double)k.end_ms / 1000.0);
	snprintf(mem, sizeof(mem), "%lld", (long long)cfg->media_memory_bytes);
	snprintf(cpu, sizeof(cpu), "%d", cfg->media_timeout_s * 2);
	const char *args[] = {"media-job", "clip", "--in",	  src,
			      "--out",	   out,	   "--start",	  start,
			      "--end",	   end,	   "--aspect",	  k.aspect,
			      "--fill",	   k.fill, "--watermark", k.watermark ? "1" : "0",
			      "--memory",  mem,	   "--cpu",	  cpu,
			      "--thumb",   thumb,  NULL};
	if (!videos_run_media(ctx, args, &result, e)) {
		if (e->kind == ERR_INVALID) {
			*permanent = true;
			set_failed(c, k.id, e->detail);
		}
		goto out;
	}
	char key[64];
	snprintf(key, sizeof(key), "clips/%lld.mp4", (long long)k.id);
	uint64_t t0 = time_mono_ns();
	if (!store_put_file(the_store, key, out, "video/mp4", e))
		goto out;
	char tkey[64] = "";
	if (json_is_true(json_object_get(result, "thumb"))) {
		snprintf(tkey, sizeof(tkey), "clips/%lld.jpg", (long long)k.id);
		if (!store_put_file(the_store, tkey, thumb, "image/jpeg", e))
			goto out;
	}
	jobs_timing(ctx, "store", (double)(time_mono_ns() - t0) / 1e6);
	ok = set_ready(c, k.id, result, key, tkey[0] ? tkey : NULL, e);
out:
	if (!ok && !*permanent && job->attempts >= job->max_attempts)
		set_failed(c, k.id, e->detail);
	json_decref(result);
	videos_work_done(dir);
	return ok;
}

void clips_register_jobs(store_t *st, const char *data_dir)
{
	(void)data_dir;
	the_store = st;
	jobs_register("clip.render", render_clip);
}
