/*
 * users_api.c — /api/v2/users: my account and public profiles.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/config.h"

static void me_get(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	if (p)
		http_json(r, 200, api_user_json(&p->user, true));
}

static void me_patch(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"display_name", JX_STRING, .nullable = true, .max = DISPLAY_NAME_MAX},
	    {"bio", JX_STRING, .nullable = true, .max = BIO_MAX},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	err_t e;
	user_t u;
	if (c &&
	    users_update_profile(c, p->user.id, jx_str(in, "display_name"), jx_has(in, "display_name"),
				 jx_str(in, "bio"), jx_has(in, "bio"), &e) &&
	    users_get_by_id(c, p->user.id, &u, &e))
		http_json(r, 200, api_user_json(&u, true));
	else if (c)
		http_problem(r, &e);
	json_decref(in);
}

static void me_password(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"current_password", JX_STRING, .required = true, .max = 1024},
	    {"new_password", JX_STRING, .required = true, .max = 1024},
	    {0},
	};
	const config_t *cfg = config_get();
	if (!api_rate_limit(r, "password:ip", http_client_ip(r), cfg->rate_auth_per_min,
			    cfg->rate_auth_burst))
		return;
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	char uid[24];
	snprintf(uid, sizeof(uid), "%lld", (long long)p->user.id);
	if (!api_rate_limit(r, "password:acct", uid, cfg->rate_auth_per_min, cfg->rate_auth_burst))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	err_t e;
	if (c && auth_change_password(c, p, jx_str(in, "current_password"), jx_str(in, "new_password"), &e))
		http_no_content(r);
	else if (c)
		http_problem(r, &e);
	json_decref(in);
}

static void me_delete(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"password", JX_STRING, .required = true, .max = 1024},
	    {0},
	};
	const config_t *cfg = config_get();
	if (!api_rate_limit(r, "password:ip", http_client_ip(r), cfg->rate_auth_per_min,
			    cfg->rate_auth_burst))
		return;
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	err_t e;
	if (c && auth_delete_account(c, p, jx_str(in, "password"), &e))
		http_no_content(r);
	else if (c)
		http_problem(r, &e);
	json_decref(in);
}

void api_users_routes(void)
{
	http_route(HTTP_GET, "/api/v2/users/me", me_get, 0);
	http_route(HTTP_PATCH, "/api/v2/users/me", me_patch, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/users/me", me_delete, HTTP_ROUTE_JSON);
	http_route(HTTP_POST, "/api/v2/users/me/password", me_password, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/users/{username}", api_profile, 0);
}
