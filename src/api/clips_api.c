/*
 * clips_api.c — /api/v2/clips: export a time range of a video as a clip.
 * The download URL is signed like the video media URLs (videos_api.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "clips/clips.h"
#include "store/store.h"

static json_t *clip_json(const clip_t *k)
{
	bool ready = strcmp(k->status, "ready") == 0;
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(k->id));
	json_object_set_new(j, "video_id", jx_id(k->video_id));
	json_object_set_new(j, "highlight_id", k->highlight_id ? jx_id(k->highlight_id) : json_null());
	json_object_set_new(j, "title", k->has_title ? json_string(k->title) : json_null());
	json_object_set_new(j, "status", json_string(k->status));
	json_object_set_new(j, "progress", json_integer(k->progress));
	json_object_set_new(j, "job_id", k->job_id ? jx_id(k->job_id) : json_null());
	json_object_set_new(j, "aspect", json_string(k->aspect));
	json_object_set_new(j, "fill", json_string(k->fill));
	json_object_set_new(j, "start_s", json_real((double)k->start_ms / 1000.0));
	json_object_set_new(j, "end_s", json_real((double)k->end_ms / 1000.0));
	json_object_set_new(j, "watermark", json_boolean(k->watermark));
	json_object_set_new(j, "duration_s",
			    ready ? json_real((double)k->duration_ms / 1000.0) : json_null());
	json_object_set_new(j, "width", ready ? json_integer(k->width) : json_null());
	json_object_set_new(j, "height", ready ? json_integer(k->height) : json_null());
	json_object_set_new(j, "copied", ready ? json_boolean(k->copied) : json_null());
	json_object_set_new(j, "error", k->error[0] ? json_string(k->error) : json_null());
	char path[80];
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/file", (long long)k->id);
	json_object_set_new(j, "download_url", ready ? api_signed_url(path) : json_null());
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/thumbnail", (long long)k->id);
	json_object_set_new(j, "thumbnail_url",
			    ready && k->thumb_key[0] ? api_signed_url(path) : json_null());
	json_object_set_new(j, "created_at", jx_time(k->created_at));
	return j;
}

static bool seconds_ms(json_t *in, const char *name, int64_t *out, http_req_t *r)
{
	double v = json_number_value(json_object_get(in, name));
	if (!isfinite(v) || v < 0 || v > 1e7) {
		char d[64];
		snprintf(d, sizeof(d), "%s must be a number of seconds from 0", name);
		http_error(r, ERR_INVALID, "invalid_range", name, d);
		return false;
	}
	*out = (int64_t)llround(v * 1000.0);
	return true;
}

static void create_clip(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"video_id", JX_STRING, .required = true, .max = 24},
	    {"start_s", JX_NUMBER, .required = true},
	    {"end_s", JX_NUMBER, .required = true},
	    {"aspect", JX_STRING, .required = true, .max = 8},
	    {"fill", JX_STRING, .nullable = true, .max = 8},
	    {"title", JX_STRING, .nullable = true, .max = 200},
	    {"highlight_id", JX_STRING, .nullable = true, .max = 24},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	clip_spec_t sp = {
	    .aspect = jx_str(in, "aspect"), .fill = jx_str(in, "fill"), .title = jx_str(in, "title")};
	const char *hid = jx_str(in, "highlight_id");
	db_conn_t *c;
	err_t e;
	clip_t k;
	if (!id_parse(jx_str(in, "video_id"), &sp.video_id)) {
		http_error(r, ERR_NOT_FOUND, "video_not_found", "video_id", "no such video");
		goto out;
	}
	if (hid && !id_parse(hid, &sp.highlight_id)) {
		http_error(r, ERR_INVALID, "invalid_highlight", "highlight_id", "highlight_id is not valid");
		goto out;
	}
	if (!seconds_ms(in, "start_s", &sp.start_ms, r) || !seconds_ms(in, "end_s", &sp.end_ms, r) ||
	    !(c = api_conn(r)))
		goto out;
	if (!clips_create(c, p->user.id, p->user.plan, &sp, &k, &e)) {
		http_problem(r, &e);
		goto out;
	}
	http_json(r, 202, clip_json(&k));
out:
	json_decref(in);
}

static bool clip_id(http_req_t *r, int64_t *id)
{
	if (id_parse(http_param(r, "id"), id))
		return true;
	http_error(r, ERR_NOT_FOUND, "clip_not_found", NULL, "no such clip");
	return false;
}

static void get_clip(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !clip_id(r, &id) || !(c = api_conn(r)))
		return;
	clip_t k;
	err_t e;
	if (clips_get(c, id, p->user.id, &k, &e))
		http_json(r, 200, clip_json(&k));
	else
		http_problem(r, &e);
}

static void list_clips(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int limit;
	int64_t cursor, next;
	db_conn_t *c;
	if (!p || !api_page_params(r, 20, 100, &limit, &cursor) || !(c = api_conn(r)))
		return;
	clip_t *items;
	int n;
	err_t e;
	if (!clips_list(c, p->user.id, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, clip_json(&items[i]));
	free(items);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void delete_clip(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !clip_id(r, &id) || !(c = api_conn(r)))
		return;
	bool admin = users_role_rank(p->user.role) >= users_role_rank("admin");
	err_t e;
	if (clips_delete(c, api_store(), id, admin ? 0 : p->user.id, &e))
		http_no_content(r);
	else
		http_problem(r, &e);
}

static void clip_file(http_req_t *r)
{
	int64_t id;
	char path[80];
	if (!clip_id(r, &id))
		return;
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/file", (long long)id);
	if (!api_check_signed(r, path))
		return;
	db_conn_t *c = api_conn(r);
	clip_t k;
	err_t e;
	if (!c)
		return;
	if (!clips_get(c, id, 0, &k, &e) || strcmp(k.status, "ready") != 0) {
		http_error(r, ERR_NOT_FOUND, "clip_not_found", NULL, "no such clip");
		return;
	}
	char disp[96];
	snprintf(disp, sizeof(disp), "attachment; filename=\"cosmiv-clip-%lld.mp4\"", (long long)k.id);
	http_add_header(r, "Content-Disposition", disp);
	api_serve_object(r, k.object_key, "video/mp4");
}

static void clip_thumbnail(http_req_t *r)
{
	int64_t id;
	char path[80];
	if (!clip_id(r, &id))
		return;
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/thumbnail", (long long)id);
	if (!api_check_signed(r, path))
		return;
	db_conn_t *c = api_conn(r);
	clip_t k;
	err_t e;
	if (!c)
		return;
	if (!clips_get(c, id, 0, &k, &e) || !k.thumb_key[0]) {
		http_error(r, ERR_NOT_FOUND, "clip_not_found", NULL, "no such clip thumbnail");
		return;
	}
	api_serve_object(r, k.thumb_key, "image/jpeg");
}

void api_clips_routes(void)
{
	http_route(HTTP_POST, "/api/v2/clips", create_clip, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/clips", list_clips, 0);
	http_route(HTTP_GET, "/api/v2/clips/{id}", get_clip, 0);
	http_route(HTTP_DELETE, "/api/v2/clips/{id}", delete_clip, 0);
	http_route(HTTP_GET, "/api/v2/clips/{id}/file", clip_file, HTTP_ROUTE_NOLOG);
	http_route(HTTP_GET, "/api/v2/clips/{id}/thumbnail", clip_thumbnail, HTTP_ROUTE_NOLOG);
}
