/*
 * http.h — the HTTP server as handlers see it.
 *
 * A handler is `void fn(http_req_t *r)`: it reads the request through the
 * accessors below and answers with exactly one of http_json / http_problem /
 * http_no_content / http_send_file / http_send. It runs on one of the
 * server's worker threads, synchronously; it must be short (slow work goes to
 * jobs). libmicrohttpd types never leave src/http.
 *
 * Ownership: everything reachable from http_req_t belongs to the request and
 * is freed after the response is sent. Strings returned by accessors are
 * valid for the handler's duration. http_json takes ownership of the json_t
 * it is given (it steals the reference).
 */
#ifndef COSMIV_HTTP_H
#define COSMIV_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct http_req http_req_t;
typedef void (*http_handler_fn)(http_req_t *r);

enum {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

/* Route flags. */
enum {
	HTTP_ROUTE_JSON = 1 << 0,  /* a non-empty body must be application/json */
	HTTP_ROUTE_NOLOG = 1 << 1, /* do not log successful requests (health probes) */
};

#define HTTP_MAX_PARAMS 6

/*
 * Streaming request bodies (uploads): the handler is called at each phase
 * instead of once with a buffered body. BEGIN comes after the headers (the
 * handler may answer at once, e.g. with an error; the body is then drained),
 * DATA once per received piece, END when the body is complete (the handler
 * must answer unless it did at BEGIN), ABORT when the client went away
 * before END (no answer possible; release resources, keep what is durable).
 */
typedef enum { HTTP_STREAM_BEGIN, HTTP_STREAM_DATA, HTTP_STREAM_END, HTTP_STREAM_ABORT } http_stream_phase_t;
typedef void (*http_stream_fn)(http_req_t *r, http_stream_phase_t phase, const char *data, size_t len);

/* ==== Request ==== */

const char *http_method(const http_req_t *r);
int http_method_id(const http_req_t *r);
const char *http_path(const http_req_t *r);
/* Path parameter by name ("username" for /users/{username}); NULL if absent. */
const char *http_param(const http_req_t *r, const char *name);
const char *http_query(const http_req_t *r, const char *name);
const char *http_header(const http_req_t *r, const char *name);
/* Value of cookie `name`, copied into out; false when absent or too long. */
bool http_cookie(const http_req_t *r, const char *name, char *out, size_t outlen);
const char *http_body(const http_req_t *r, size_t *len);
/* The client address (X-Forwarded-For's last hop when COSMIV_TRUST_PROXY=1). */
const char *http_client_ip(const http_req_t *r);
const char *http_request_id(const http_req_t *r);
/* True when the client reached us over TLS (directly or via a trusted proxy). */
bool http_is_https(const http_req_t *r);

/* Per-request slot for the API layer (the authenticated principal). */
void http_set_user_data(http_req_t *r, void *p, void (*free_fn)(void *));
void *http_user_data(const http_req_t *r);
/* A second slot, for a handler's own state across streaming phases. */
void http_set_handler_data(http_req_t *r, void *p, void (*free_fn)(void *));
void *http_handler_data(const http_req_t *r);

/* ==== Response ==== */

void http_add_header(http_req_t *r, const char *name, const char *value);
void http_json(http_req_t *r, int status, json_t *body);
void http_problem(http_req_t *r, const err_t *e);
/* A problem with an explicit status (protocol-specific codes such as tus's 460). */
void http_problem_status(http_req_t *r, int status, const err_t *e);
/* Shorthand: http_problem with an error built on the spot. */
void http_error(http_req_t *r, err_kind_t kind, const char *code, const char *field, const char *detail);
void http_no_content(http_req_t *r);
/* Raw bytes (copied). */
void http_send(http_req_t *r, int status, const char *content_type, const void *data, size_t len);
/* A file with HTTP Range support (206/416), ETag/If-None-Match, sendfile. */
void http_send_file(http_req_t *r, const char *path, const char *content_type, const char *cache_control);
/* Bytes pulled from a reader (e.g. object storage), with Range support like
 * http_send_file. fn returns the bytes copied into buf (≤ max) for absolute
 * offset pos, or -1 on error. ctx is freed with free_fn after the response. */
typedef long (*http_read_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
void http_send_reader(http_req_t *r, int64_t size, const char *content_type, const char *cache_control,
		      const char *etag, http_read_fn fn, void *ctx, void (*free_fn)(void *));
/* The HTTP status for an error kind. */
int http_status_for(err_kind_t kind);

/* ==== Server ==== */

void http_route(int methods, const char *pattern, http_handler_fn fn, int flags);
/* A route whose body is streamed to fn (no body size limit of its own: fn enforces one). */
void http_route_stream(int methods, const char *pattern, http_stream_fn fn, int flags);
/* True once a response has been set (handlers of streams check it). */
bool http_answered(const http_req_t *r);
/* Starts listening (host:port). false + reason on failure. */
bool http_start(const char *listen, err_t *e);
/* Lets the web app connect to url's origin (the gateway on its own port): added to the
 * Content-Security-Policy's connect-src. Set once at start-up; the string lives until exit. */
void http_allow_connect(const char *url);
/* Stops accepting, waits up to grace_s for in-flight requests, then stops. */
void http_stop(int grace_s);
/* The bound port (useful when listening on port 0). */
int http_port(void);

/* The built web app served at / (SPA). false when web_dir holds no index.html:
 * the server then answers the API only. */
bool http_static_init(const char *web_dir);
bool http_static_available(void);
void http_static_cleanup(void);

#endif
