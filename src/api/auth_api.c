/*
 * auth_api.c — /api/v2/auth: register, login, refresh, logout.
 *
 * API clients get the refresh token in the JSON body. The web app sends
 * `X-Cosmiv-Client: web`; it then gets the refresh token only as an
 * HttpOnly, SameSite=Strict cookie scoped to /api/v2/auth, so script on the
 * page (an XSS) can never read it, and it may refresh or sign out with the
 * cookie instead of a body token. The custom header is also what stops a
 * cross-site form from using the cookie: a cross-origin request with it
 * needs a CORS preflight, which only allow-listed origins pass.
 *
 * Rate limits (GCRA, see http/ratelimit.h): per client IP and per account
 * on every endpoint here.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"

#define REFRESH_COOKIE "cosmiv_refresh"

static bool web_client(http_req_t *r)
{
	const char *h = http_header(r, "X-Cosmiv-Client");
	return h && strcmp(h, "web") == 0;
}

static void set_refresh_cookie(http_req_t *r, const char *token, int max_age)
{
	char c[256];
	snprintf(c, sizeof(c), "%s=%s; Path=/api/v2/auth; Max-Age=%d; HttpOnly; SameSite=Strict%s",
		 REFRESH_COOKIE, token, max_age, http_is_https(r) ? "; Secure" : "");
	http_add_header(r, "Set-Cookie", c);
}

static void send_tokens(http_req_t *r, int status, auth_result_t *res)
{
	json_t *out = json_object();
	json_object_set_new(out, "user", api_user_json(&res->user, true));
	json_object_set_new(out, "access_token", json_string(res->access_token));
	json_object_set_new(out, "token_type", json_string("Bearer"));
	json_object_set_new(out, "expires_in", json_integer(res->expires_in));
	if (web_client(r))
		set_refresh_cookie(r, res->refresh_token, config_get()->refresh_ttl_s);
	else
		json_object_set_new(out, "refresh_token", json_string(res->refresh_token));
	http_json(r, status, out);
	auth_result_cleanup(res);
}

static bool limit_ip(http_req_t *r, const char *scope)
{
	const config_t *cfg = config_get();
	return api_rate_limit(r, scope, http_client_ip(r), cfg->rate_auth_per_min, cfg->rate_auth_burst);
}

static bool limit_account(http_req_t *r, const char *scope, const char *account)
{
	const config_t *cfg = config_get();
	char lower[256];
	size_t i = 0;
	for (; i < sizeof(lower) - 1 && account[i]; i++)
		lower[i] = (char)((account[i] >= 'A' && account[i] <= 'Z') ? account[i] + 32 : account[i]);
	lower[i] = '\0';
	char scoped[48];
	snprintf(scoped, sizeof(scoped), "%s:acct", scope);
	return api_rate_limit(r, scoped, lower, cfg->rate_auth_per_min, cfg->rate_auth_burst);
}

static auth_client_t client_of(http_req_t *r)
{
	return (auth_client_t){.user_agent = http_header(r, "User-Agent"), .ip = http_client_ip(r)};
}

static void do_register(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"username", JX_STRING, .required = true, .max = 64},
	    {"email", JX_STRING, .required = true, .max = 254},
	    {"password", JX_STRING, .required = true, .max = 1024},
	    {0},
	};
	if (!limit_ip(r, "register"))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c;
	if (!limit_account(r, "register", jx_str(in, "username")) || !(c = api_conn(r)))
		goto out;
	auth_client_t cl = client_of(r);
	auth_result_t res;
	err_t e;
	if (!auth_register(c, jx_str(in, "username"), jx_str(in, "email"), jx_str(in, "password"), &cl, &res,
			   &e)) {
		http_problem(r, &e);
		goto out;
	}
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v2/users/%s", res.user.username);
	http_add_header(r, "Location", loc);
	send_tokens(r, 201, &res);
out:
	json_decref(in);
}

static void do_login(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"login", JX_STRING, .required = true, .min = 1, .max = 254},
	    {"password", JX_STRING, .required = true, .min = 1, .max = 1024},
	    {0},
	};
	if (!limit_ip(r, "login"))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c;
	if (!limit_account(r, "login", jx_str(in, "login")) || !(c = api_conn(r)))
		goto out;
	auth_client_t cl = client_of(r);
	auth_result_t res;
	err_t e;
	if (!auth_login(c, jx_str(in, "login"), jx_str(in, "password"), &cl, &res, &e)) {
		http_problem(r, &e);
		goto out;
	}
	send_tokens(r, 200, &res);
out:
	json_decref(in);
}

/* The refresh token from the body, else (web clients only) from the cookie. */
static bool refresh_token_of(http_req_t *r, json_t *in, char *out, size_t outlen)
{
	const char *t = jx_str(in, "refresh_token");
	if (t)
		return str_copy(out, outlen, t);
	return web_client(r) && http_cookie(r, REFRESH_COOKIE, out, outlen);
}

static const jx_field_t refresh_fields[] = {
    {"refresh_token", JX_STRING, .max = 128},
    {0},
};

static json_t *parse_optional_body(http_req_t *r)
{
	size_t len;
	http_body(r, &len);
	if (len == 0)
		return json_object();
	return api_parse_body(r, refresh_fields);
}

static void do_refresh(http_req_t *r)
{
	if (!limit_ip(r, "refresh"))
		return;
	json_t *in = parse_optional_body(r);
	if (!in)
		return;
	char token[REFRESH_TOKEN_LEN + 8];
	db_conn_t *c;
	if (!refresh_token_of(r, in, token, sizeof(token))) {
		http_error(r, ERR_UNAUTHORIZED, "missing_refresh_token", "refresh_token",
			   "refresh_token is required");
		goto out;
	}
	if (!(c = api_conn(r)))
		goto out;
	auth_client_t cl = client_of(r);
	auth_result_t res;
	err_t e;
	if (!auth_refresh(c, token, &cl, &res, &e)) {
		if (web_client(r))
			set_refresh_cookie(r, "", 0);
		http_problem(r, &e);
		goto out;
	}
	send_tokens(r, 200, &res);
out:
	json_decref(in);
}

static void do_logout(http_req_t *r)
{
	json_t *in = parse_optional_body(r);
	if (!in)
		return;
	char token[REFRESH_TOKEN_LEN + 8];
	db_conn_t *c;
	if (!refresh_token_of(r, in, token, sizeof(token))) {
		if (web_client(r)) { /* nothing to end; make sure the cookie is gone */
			set_refresh_cookie(r, "", 0);
			http_no_content(r);
		} else {
			http_error(r, ERR_INVALID, "missing_field", "refresh_token",
				   "refresh_token is required");
		}
		goto out;
	}
	if (!(c = api_conn(r)))
		goto out;
	err_t e;
	if (!auth_logout(c, token, &e)) {
		http_problem(r, &e);
		goto out;
	}
	if (web_client(r))
		set_refresh_cookie(r, "", 0);
	http_no_content(r);
out:
	json_decref(in);
}

void api_auth_routes(void)
{
	http_route(HTTP_POST, "/api/v2/auth/register", do_register, HTTP_ROUTE_JSON);
	http_route(HTTP_POST, "/api/v2/auth/login", do_login, HTTP_ROUTE_JSON);
	http_route(HTTP_POST, "/api/v2/auth/refresh", do_refresh, HTTP_ROUTE_JSON);
	http_route(HTTP_POST, "/api/v2/auth/logout", do_logout, HTTP_ROUTE_JSON);
}
