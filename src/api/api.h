/*
 * api.h — the REST API under /api/v2: HTTP handlers, one file per resource.
 *
 * A handler parses the request (api_parse_body), authenticates
 * (api_principal), calls the domain module and renders JSON. No SQL here:
 * that lives in the domain modules behind src/db.
 *
 * Each helper that can fail has already answered the request with a problem
 * when it returns false/NULL; the handler just returns.
 */
#ifndef COSMIV_API_H
#define COSMIV_API_H

#include "auth/auth.h"
#include "core/jsonx.h"
#include "core/util.h"
#include "db/db.h"
#include "http/http.h"
#include "users/users.h"

/* Registers every route. db must outlive the server. */
void api_init(db_t *db);

/* ==== Helpers shared by the handlers (common.c) ==== */

db_t *api_db(void);
/* The calling thread's connection, or NULL after answering 503. */
db_conn_t *api_conn(http_req_t *r);
/* Parsed and validated JSON object body (new reference), or NULL after answering. */
json_t *api_parse_body(http_req_t *r, const jx_field_t *fields);
/* The authenticated caller, or NULL after answering 401. Owned by the request. */
const auth_principal_t *api_principal(http_req_t *r);
/* Same, and requires a role rank ≥ min_rank (403 otherwise). */
const auth_principal_t *api_require_role(http_req_t *r, const char *role);
/* Answers 429 and returns false when over the limit. */
bool api_rate_limit(http_req_t *r, const char *scope, const char *subject, int per_min, int burst);
/* Cursor pagination parameters: ?limit=1..max (default deflt) and ?cursor=<id>. */
bool api_page_params(http_req_t *r, int deflt, int max, int *limit, int64_t *cursor);

json_t *api_user_json(const user_t *u, bool include_private);

/* Route registration per resource. */
void api_health_routes(void);
void api_auth_routes(void);
void api_users_routes(void);
void api_admin_routes(void);
void api_uploads_routes(void);
void api_videos_routes(void);

void api_clips_routes(void);
void api_social_routes(void);
void api_feed_routes(void);
/* communities_api.c: communities, channels, roles, members, invites */
void api_communities_routes(void);
/* messages_api.c: messages, reactions, pins, read state */
void api_messages_routes(void);
/* gateway_api.c: where the WebSocket gateway listens */
void api_gateway_routes(void);

/* ==== social rendering shared by social_api.c and feed_api.c ==== */
/* The caller when an Authorization header is sent (a bad token answers 401 and sets *failed);
 * NULL and *failed false when anonymous. */
const auth_principal_t *api_viewer(http_req_t *r, bool *failed);
/* GET /api/v2/users/{username}: the public profile with its social counts. */
void api_profile(http_req_t *r);

struct store;
/* The object store media handlers serve from (set before the server starts). */
void api_set_store(struct store *st);
struct store *api_store(void);
/* The expiry of media URLs signed now (6 h ahead, rounded to the hour so URLs stay cacheable). */
int64_t api_signed_exp(void);
/* "path?exp=…&sig=…", valid 6 h (rounded to the hour so URLs stay cacheable). */
json_t *api_signed_url(const char *path);
/* Checks ?exp and ?sig for path; answers 403 and returns false when wrong. */
bool api_check_signed(http_req_t *r, const char *path);
/* Serves a stored object (local: sendfile; S3: ranged reads), with Range. */
void api_serve_object(http_req_t *r, const char *key, const char *content_type);

/* The largest upload the plan allows, in bytes. */
int64_t api_plan_max_upload(const char *plan);

#endif
