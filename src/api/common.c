/*
 * common.c — helpers shared by the API handlers. See api.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"
#include "core/util.h"
#include "http/ratelimit.h"

static db_t *the_db;

void api_init(db_t *db)
{
	the_db = db;
	api_health_routes();
	api_auth_routes();
	api_users_routes();
	api_admin_routes();
	api_uploads_routes();
	api_videos_routes();
	api_clips_routes();
	api_social_routes();
	api_feed_routes();
	api_gateway_routes();
	api_communities_routes();
	api_messages_routes();
}

db_t *api_db(void)
{
	return the_db;
}

db_conn_t *api_conn(http_req_t *r)
{
	err_t e;
	db_conn_t *c = db_thread_conn(the_db, &e);
	if (!c)
		http_error(r, ERR_UNAVAILABLE, "db_unavailable", NULL, "the database is not reachable");
	return c;
}

json_t *api_parse_body(http_req_t *r, const jx_field_t *fields)
{
	size_t len;
	const char *body = http_body(r, &len);
	err_t e;
	json_t *in = jx_parse_object(body, len, &e);
	if (!in) {
		http_problem(r, &e);
		return NULL;
	}
	if (!jx_validate(in, fields, &e)) {
		json_decref(in);
		http_problem(r, &e);
		return NULL;
	}
	return in;
}

static void principal_free(void *p)
{
	free(p);
}

const auth_principal_t *api_principal(http_req_t *r)
{
	auth_principal_t *p = http_user_data(r);
	if (p)
		return p;
	const char *h = http_header(r, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		http_error(r, ERR_UNAUTHORIZED, "missing_token", NULL,
			   "sign in first: send Authorization: Bearer <access token>");
		return NULL;
	}
	db_conn_t *c = api_conn(r);
	if (!c)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	err_t e;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (!auth_authenticate(c, tok, p, &e)) {
		free(p);
		http_problem(r, &e);
		return NULL;
	}
	http_set_user_data(r, p, principal_free);
	return p;
}

const auth_principal_t *api_require_role(http_req_t *r, const char *role)
{
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return NULL;
	if (users_role_rank(p->user.role) < users_role_rank(role)) {
		char d[96];
		snprintf(d, sizeof(d), "this needs the %s role", role);
		http_error(r, ERR_FORBIDDEN, "forbidden", NULL, d);
		return NULL;
	}
	return p;
}

bool api_rate_limit(http_req_t *r, const char *scope, const char *subject, int per_min, int burst)
{
	char key[320];
	snprintf(key, sizeof(key), "%s:%s", scope, subject);
	int retry = 0;
	if (ratelimit_allow(key, per_min, burst, &retry))
		return true;
	err_t e;
	err_set(&e, ERR_RATE_LIMITED, "rate_limited", NULL, "too many attempts; try again in %d s", retry);
	e.retry_after = retry;
	http_problem(r, &e);
	return false;
}

bool api_page_params(http_req_t *r, int deflt, int max, int *limit, int64_t *cursor)
{
	const char *l = http_query(r, "limit");
	const char *cur = http_query(r, "cursor");
	int64_t v = deflt;
	if (l && (!parse_i64(l, &v) || v < 1 || v > max)) {
		char d[64];
		snprintf(d, sizeof(d), "limit must be an integer from 1 to %d", max);
		http_error(r, ERR_INVALID, "invalid_limit", "limit", d);
		return false;
	}
	*limit = (int)v;
	*cursor = 0;
	if (cur && cur[0] && !id_parse(cur, cursor)) {
		http_error(r, ERR_INVALID, "invalid_cursor", "cursor", "cursor is not valid");
		return false;
	}
	return true;
}

json_t *api_user_json(const user_t *u, bool include_private)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(u->id));
	json_object_set_new(j, "username", json_string(u->username));
	if (include_private)
		json_object_set_new(j, "email", json_string(u->email));
	json_object_set_new(j, "role", json_string(u->role));
	json_object_set_new(j, "display_name",
			    u->has_display_name ? json_string(u->display_name) : json_null());
	json_object_set_new(j, "bio", u->has_bio ? json_string(u->bio) : json_null());
	json_object_set_new(j, "created_at", jx_time(u->created_at));
	if (include_private) {
		json_object_set_new(j, "disabled", json_boolean(u->disabled));
		json_object_set_new(j, "plan", json_string(u->plan));
	}
	return j;
}
