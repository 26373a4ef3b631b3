/*
 * videos_api.c — /api/v2/videos, highlights and feedback, jobs, and the
 * media files themselves.
 *
 * Media URLs (thumbnail_url, playback_url) are signed and expire after 6 h:
 * a <video> or <img> element cannot send a bearer token, and a signed URL
 * can be handed to the browser without exposing the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"
#include "jobs/jobs.h"
#include "media/detect.h"
#include "store/store.h"
#include "videos/videos.h"

#define MEDIA_URL_TTL_S (6 * 3600)

static store_t *the_store;

void api_set_store(store_t *st)
{
	the_store = st;
}

struct store *api_store(void)
{
	return the_store;
}

int64_t api_signed_exp(void)
{
	return (time_now_s() / 3600 + 1) * 3600 + MEDIA_URL_TTL_S; /* rounded to the hour: cacheable */
}

json_t *api_signed_url(const char *path)
{
	char sig[48];
	char *url;
	int64_t exp = api_signed_exp();
	auth_sign_path(path, exp, sig);
	url = xasprintf("%s?exp=%lld&sig=%s", path, (long long)exp, sig);
	json_t *j = json_string(url);
	free(url);
	return j;
}

bool api_check_signed(http_req_t *r, const char *path)
{
	int64_t exp;
	const char *exps = http_query(r, "exp");
	if (exps && parse_i64(exps, &exp) && auth_verify_path(path, exp, http_query(r, "sig")))
		return true;
	http_error(r, ERR_FORBIDDEN, "bad_signature", NULL,
		   "this media link is invalid or has expired; fetch the item again for a fresh one");
	return false;
}

static json_t *signed_url(int64_t video_id, const char *what)
{
	char path[96];
	snprintf(path, sizeof(path), "/api/v2/videos/%lld/%s", (long long)video_id, what);
	return api_signed_url(path);
}

static json_t *video_json(const video_t *v)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(v->id));
	json_object_set_new(j, "title", json_string(v->title));
	json_object_set_new(j, "game", v->has_game ? json_string(v->game) : json_null());
	json_object_set_new(j, "status", json_string(v->status));
	json_object_set_new(j, "progress", json_integer(v->progress));
	json_object_set_new(j, "job_id", v->job_id ? jx_id(v->job_id) : json_null());
	json_object_set_new(j, "size_bytes", json_integer(v->size_bytes));
	bool ready = strcmp(v->status, "ready") == 0;
	json_object_set_new(j, "duration_s",
			    ready ? json_real((double)v->duration_ms / 1000.0) : json_null());
	json_object_set_new(j, "width", ready ? json_integer(v->width) : json_null());
	json_object_set_new(j, "height", ready ? json_integer(v->height) : json_null());
	json_object_set_new(j, "fps", ready ? json_real((double)v->fps_milli / 1000.0) : json_null());
	json_object_set_new(j, "error", v->error[0] ? json_string(v->error) : json_null());
	json_object_set_new(j, "thumbnail_url",
			    ready && v->thumb_key[0] ? signed_url(v->id, "thumbnail") : json_null());
	json_object_set_new(j, "playback_url", ready ? signed_url(v->id, "playback") : json_null());
	json_object_set_new(j, "created_at", jx_time(v->created_at));
	return j;
}

static bool video_id_param(http_req_t *r, int64_t *id)
{
	if (id_parse(http_param(r, "id"), id))
		return true;
	http_error(r, ERR_NOT_FOUND, "video_not_found", NULL, "no such video");
	return false;
}

static void create_video(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"upload_id", JX_STRING, .required = true, .max = 64},
	    {"title", JX_STRING, .required = true, .min = 1, .max = 200},
	    {"game", JX_STRING, .nullable = true, .max = 80},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	video_t v;
	err_t e;
	if (c && videos_create_from_upload(c, the_store, p->user.id, jx_str(in, "upload_id"),
					   jx_str(in, "title"), jx_str(in, "game"), &v, &e))
		http_json(r, 201, video_json(&v));
	else if (c)
		http_problem(r, &e);
	json_decref(in);
}

static void get_video(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !video_id_param(r, &id) || !(c = api_conn(r)))
		return;
	video_t v;
	err_t e;
	if (!videos_get(c, id, p->user.id, &v, &e)) {
		http_problem(r, &e);
		return;
	}
	http_json(r, 200, video_json(&v));
}

static void list_videos(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int limit;
	int64_t cursor;
	db_conn_t *c;
	if (!p || !api_page_params(r, 20, 100, &limit, &cursor) || !(c = api_conn(r)))
		return;
	video_t *items;
	int n;
	int64_t next;
	err_t e;
	if (!videos_list(c, p->user.id, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, video_json(&items[i]));
	free(items);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void delete_video(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !video_id_param(r, &id) || !(c = api_conn(r)))
		return;
	bool admin = users_role_rank(p->user.role) >= users_role_rank("admin");
	err_t e;
	if (!videos_delete(c, the_store, id, admin ? 0 : p->user.id, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
}

static void list_highlights(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !video_id_param(r, &id) || !(c = api_conn(r)))
		return;
	video_t v;
	err_t e;
	highlight_t *hl;
	int n;
	if (!videos_get(c, id, p->user.id, &v, &e) || !videos_highlights(c, id, &hl, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *reasons = json_loads(hl[i].reasons, 0, NULL);
		json_array_append_new(
		    arr, json_pack("{s:o, s:i, s:f, s:f, s:f, s:o, s:s}", "id", jx_id(hl[i].id), "rank",
				   hl[i].rank, "start_s", (double)hl[i].start_ms / 1000.0, "end_s",
				   (double)hl[i].end_ms / 1000.0, "score", (double)hl[i].score_milli / 1000.0,
				   "reasons", reasons ? reasons : json_array(), "model", hl[i].model));
	}
	videos_highlights_free(hl, n);
	http_json(r, 200, json_pack("{s:s, s:o}", "status", v.status, "items", arr));
}

static void highlight_feedback(http_req_t *r)
{
	static const jx_field_t fields[] = {{"kept", JX_BOOL, .required = true}, {0}};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	if (!p)
		return;
	if (!id_parse(http_param(r, "id"), &id)) {
		http_error(r, ERR_NOT_FOUND, "highlight_not_found", NULL, "no such highlight");
		return;
	}
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	err_t e;
	if (c && videos_feedback(c, id, p->user.id, jx_bool(in, "kept", false), &e))
		http_no_content(r);
	else if (c)
		http_problem(r, &e);
	json_decref(in);
}

static json_t *job_json(const job_t *j)
{
	json_t *t = j->timings[0] ? json_loads(j->timings, 0, NULL) : NULL;
	return json_pack("{s:o, s:s, s:s, s:i, s:s?, s:i, s:i, s:o, s:o, s:o}", "id", jx_id(j->id), "kind",
			 j->kind, "state", j->state, "progress", j->progress, "message",
			 j->message[0] ? j->message : NULL, "attempts", j->attempts, "max_attempts",
			 j->max_attempts, "error", j->error[0] ? json_string(j->error) : json_null(),
			 "timings_ms", t ? t : json_null(), "created_at", jx_time(j->created_at));
}

static void get_job(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p)
		return;
	if (!id_parse(http_param(r, "id"), &id)) {
		http_error(r, ERR_NOT_FOUND, "job_not_found", NULL, "no such job");
		return;
	}
	if (!(c = api_conn(r)))
		return;
	job_t j;
	err_t e;
	if (!jobs_get(c, id, &j, &e)) {
		http_problem(r, &e);
		return;
	}
	bool admin = users_role_rank(p->user.role) >= users_role_rank("admin");
	if (j.owner_id != p->user.id && !admin)
		http_error(r, ERR_NOT_FOUND, "job_not_found", NULL, "no such job");
	else
		http_json(r, 200, job_json(&j));
	jobs_job_cleanup(&j);
}

static void dead_jobs(http_req_t *r)
{
	int limit;
	int64_t cursor;
	db_conn_t *c;
	if (!api_require_role(r, "admin") || !api_page_params(r, 50, 100, &limit, &cursor) ||
	    !(c = api_conn(r)))
		return;
	job_t *items;
	int n;
	int64_t next;
	err_t e;
	if (!jobs_list_dead(c, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, job_json(&items[i]));
		jobs_job_cleanup(&items[i]);
	}
	free(items);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void retry_job(http_req_t *r)
{
	int64_t id;
	db_conn_t *c;
	if (!api_require_role(r, "admin"))
		return;
	if (!id_parse(http_param(r, "id"), &id)) {
		http_error(r, ERR_NOT_FOUND, "job_not_found", NULL, "no such job");
		return;
	}
	if (!(c = api_conn(r)))
		return;
	err_t e;
	job_t j;
	if (!jobs_retry(c, id, &e) || !jobs_get(c, id, &j, &e)) {
		http_problem(r, &e);
		return;
	}
	http_json(r, 200, job_json(&j));
	jobs_job_cleanup(&j);
}

/* ==== Media files ==== */

typedef struct {
	store_t *st;
	char key[128];
} obj_reader_t;

static long obj_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	obj_reader_t *o = ctx;
	buf_t b;
	buf_init(&b);
	err_t e;
	long n = -1;
	if (store_read(o->st, o->key, (int64_t)pos, max, &b, &e)) {
		n = (long)(b.len < max ? b.len : max);
		if (n > 0)
			memcpy(buf, b.data, (size_t)n);
	}
	buf_cleanup(&b);
	return n;
}

void api_serve_object(http_req_t *r, const char *key, const char *content_type)
{
	const char *cache = "private, max-age=3600";
	char local[512];
	err_t e;
	if (store_local_path(the_store, key, local, sizeof(local))) {
		http_send_file(r, local, content_type, cache);
		return;
	}
	int64_t size;
	if (!store_size(the_store, key, &size, &e)) {
		http_problem(r, &e);
		return;
	}
	obj_reader_t *o = xcalloc(1, sizeof(*o));
	o->st = the_store;
	str_copy(o->key, sizeof(o->key), key);
	char etag[160];
	snprintf(etag, sizeof(etag), "\"%s-%lld\"", key, (long long)size);
	for (char *q = etag; *q; q++)
		if (*q == '/')
			*q = '-';
	http_send_reader(r, size, content_type, cache, etag, obj_read, o, free);
}

static void serve_media(http_req_t *r, bool thumbnail)
{
	int64_t id;
	char path[96];
	if (!video_id_param(r, &id))
		return;
	snprintf(path, sizeof(path), "/api/v2/videos/%lld/%s", (long long)id,
		 thumbnail ? "thumbnail" : "playback");
	if (!api_check_signed(r, path))
		return;
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	video_t v;
	err_t e;
	if (!videos_get(c, id, 0, &v, &e) || strcmp(v.status, "ready") != 0) {
		http_error(r, ERR_NOT_FOUND, "video_not_found", NULL, "no such video");
		return;
	}
	const char *key = thumbnail ? v.thumb_key : v.web_key;
	if (!key[0]) {
		http_error(r, ERR_NOT_FOUND, "not_found", NULL, "no such file");
		return;
	}
	api_serve_object(r, key, thumbnail ? "image/jpeg" : "video/mp4");
}

static void media_thumbnail(http_req_t *r)
{
	serve_media(r, true);
}

static void media_playback(http_req_t *r)
{
	serve_media(r, false);
}

/*
 * GET /api/v2/highlights/models: which detector a video gets, so the upload
 * form can say it before the upload (public: nothing here is per user). A
 * video whose game matches one of "games" (any case) gets that model; every
 * other video gets "default".
 */
static void highlight_models(http_req_t *r)
{
	media_model_t m[8];
	err_t e;
	int n = media_game_models(m, 8, &e);
	media_model_t def;
	if (n < 0 || !media_model_default(&def, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		json_t *games = json_array();
		for (int k = 0; k < m[i].n_games; k++)
			json_array_append_new(games, json_string(m[i].games[k]));
		json_array_append_new(items, json_pack("{s:s, s:o, s:o, s:s}", "model", m[i].version, "games",
						       games, "reads_screen",
						       m[i].hud.on ? json_string(m[i].hud.what) : json_null(),
						       "trained_on", m[i].trained_on));
	}
	http_json(r, 200,
		  json_pack("{s:o, s:{s:s, s:s}}", "items", items, "default", "model", def.version,
			    "trained_on", def.trained_on));
}

void api_videos_routes(void)
{
	http_route(HTTP_GET, "/api/v2/highlights/models", highlight_models, 0);
	http_route(HTTP_POST, "/api/v2/videos", create_video, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/videos", list_videos, 0);
	http_route(HTTP_GET, "/api/v2/videos/{id}", get_video, 0);
	http_route(HTTP_DELETE, "/api/v2/videos/{id}", delete_video, 0);
	http_route(HTTP_GET, "/api/v2/videos/{id}/highlights", list_highlights, 0);
	http_route(HTTP_GET, "/api/v2/videos/{id}/thumbnail", media_thumbnail, HTTP_ROUTE_NOLOG);
	http_route(HTTP_GET, "/api/v2/videos/{id}/playback", media_playback, HTTP_ROUTE_NOLOG);
	http_route(HTTP_POST, "/api/v2/highlights/{id}/feedback", highlight_feedback, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/jobs/{id}", get_job, 0);
	http_route(HTTP_GET, "/api/v2/admin/jobs/dead", dead_jobs, 0);
	http_route(HTTP_POST, "/api/v2/admin/jobs/{id}/retry", retry_job, 0);
}
