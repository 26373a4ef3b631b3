/*
 * server.c — the HTTP server: libmicrohttpd glue, request life cycle and
 * the middleware every request passes through.
 *
 * Threads: MHD runs a pool of worker threads, each an epoll loop over its
 * share of the connections (MHD_USE_EPOLL + MHD_OPTION_THREAD_POOL_SIZE).
 * A handler runs on the worker thread that owns the connection.
 *
 * Life of a request
 *   1. first callback: allocate http_req_t, take the request id, client
 *      address, start time; refuse early when Content-Length is over the
 *      limit (the body is then drained, never buffered);
 *   2. body callbacks: append to the request buffer up to the limit;
 *   3. last callback: CORS preflight, body-size and content-type checks,
 *      routing (404 / 405 with Allow), the handler, then common headers
 *      (request id, security headers, CORS) and the response is queued;
 *   4. completion callback: metrics, one JSON log line, free.
 *
 * Shutdown (http_stop): MHD_quiesce_daemon closes the listening socket, so
 * no new connection is accepted, then we wait until the in-flight counter
 * drops to zero (or the grace period ends), then stop the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "http/internal.h"
#include "http/metrics.h"

#define MEMORY_LIMIT (64 * 1024) /* per connection: bounds request headers */

static struct MHD_Daemon *daemon_;
static int bound_port;

/* ==== Request accessors ==== */

const char *http_method(const http_req_t *r)
{
	return r->method;
}

int http_method_id(const http_req_t *r)
{
	return r->method_id;
}

const char *http_path(const http_req_t *r)
{
	return r->path;
}

const char *http_param(const http_req_t *r, const char *name)
{
	for (int i = 0; i < r->params.n; i++)
		if (strcmp(r->params.names[i], name) == 0)
			return r->params.values[i];
	return NULL;
}

const char *http_query(const http_req_t *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const http_req_t *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool http_cookie(const http_req_t *r, const char *name, char *out, size_t outlen)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
	return v && v[0] && str_copy(out, outlen, v);
}

const char *http_body(const http_req_t *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

const char *http_client_ip(const http_req_t *r)
{
	return r->ip;
}

const char *http_request_id(const http_req_t *r)
{
	return r->rid;
}

bool http_is_https(const http_req_t *r)
{
	return r->https;
}

void http_set_user_data(http_req_t *r, void *p, void (*free_fn)(void *))
{
	if (r->user && r->user_free)
		r->user_free(r->user);
	r->user = p;
	r->user_free = free_fn;
}

void *http_user_data(const http_req_t *r)
{
	return r->user;
}

void http_set_handler_data(http_req_t *r, void *p, void (*free_fn)(void *))
{
	if (r->hdata && r->hdata_free)
		r->hdata_free(r->hdata);
	r->hdata = p;
	r->hdata_free = free_fn;
}

void *http_handler_data(const http_req_t *r)
{
	return r->hdata;
}

/* ==== Responses ==== */

void http_add_header(http_req_t *r, const char *name, const char *value)
{
	r->hdrs = xrealloc(r->hdrs, (r->nhdrs + 1) * sizeof(*r->hdrs));
	r->hdrs[r->nhdrs].name = xstrdup(name);
	r->hdrs[r->nhdrs].value = xstrdup(value);
	r->nhdrs++;
}

static void set_response(http_req_t *r, int status, struct MHD_Response *resp)
{
	if (r->resp) /* a handler answered twice: keep the first answer */
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
}

void http_send(http_req_t *r, int status, const char *content_type, const void *data, size_t len)
{
	void *copy = xmalloc(len ? len : 1);
	if (len)
		memcpy(copy, data, len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	set_response(r, status, resp);
}

static void send_owned(http_req_t *r, int status, const char *content_type, char *data)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(data), data, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", content_type);
	set_response(r, status, resp);
}

void http_json(http_req_t *r, int status, json_t *body)
{
	send_owned(r, status, "application/json", jx_dump(body));
	json_decref(body);
}

void http_no_content(http_req_t *r)
{
	set_response(r, 204, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
}

int http_status_for(err_kind_t kind)
{
	switch (kind) {
	case ERR_NONE:
		return 200;
	case ERR_BAD_REQUEST:
		return 400;
	case ERR_INVALID:
		return 422;
	case ERR_UNAUTHORIZED:
		return 401;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_NOT_FOUND:
		return 404;
	case ERR_CONFLICT:
		return 409;
	case ERR_TOO_LARGE:
		return 413;
	case ERR_RATE_LIMITED:
		return 429;
	case ERR_INTERNAL:
		return 500;
	case ERR_UNAVAILABLE:
		return 503;
	}
	return 500;
}

static const char *status_title(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 412:
		return "Precondition Failed";
	case 416:
		return "Range Not Satisfiable";
	case 429:
		return "Too Many Requests";
	case 460:
		return "Checksum Mismatch";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static void problem(http_req_t *r, int status, const char *code, const char *field, const char *detail)
{
	char type[96];
	snprintf(type, sizeof(type), "/docs/problems#%s", code);
	json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "type", type, "title",
			      status_title(status), "status", status, "code", code, "detail", detail,
			      "instance", r->path, "request_id", r->rid);
	if (field && field[0])
		json_object_set_new(p, "field", json_string(field));
	send_owned(r, status, "application/problem+json", jx_dump(p));
	json_decref(p);
}

void http_problem(http_req_t *r, const err_t *e)
{
	int status = http_status_for(e->kind);
	if (e->kind == ERR_RATE_LIMITED) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", e->retry_after > 0 ? e->retry_after : 1);
		http_add_header(r, "Retry-After", ra);
	}
	if (e->kind == ERR_UNAUTHORIZED)
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cosmiv\"");
	problem(r, status, e->code[0] ? e->code : "error", e->field, e->detail);
}

void http_problem_status(http_req_t *r, int status, const err_t *e)
{
	problem(r, status, e->code[0] ? e->code : "error", e->field, e->detail);
}

void http_error(http_req_t *r, err_kind_t kind, const char *code, const char *field, const char *detail)
{
	err_t e;
	err_set(&e, kind, code, field, "%s", detail);
	http_problem(r, &e);
}

/* ==== Files with Range ==== */

#include <fcntl.h>
#include <sys/stat.h>

/* Parses a single "bytes=a-b" range against size. 1: range, 0: none/ignored, -1: unsatisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *start, int64_t *end)
{
	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6;
	const char *dash = strchr(p, '-');
	if (!dash)
		return 0;
	char a[24] = "", b[24] = "";
	size_t al = (size_t)(dash - p), bl = strlen(dash + 1);
	if (al >= sizeof(a) || bl >= sizeof(b))
		return 0;
	memcpy(a, p, al);
	memcpy(b, dash + 1, bl + 1);
	int64_t x = 0, y = 0;
	if (al == 0) { /* suffix: last N bytes */
		if (!parse_i64(b, &y) || y < 0)
			return 0;
		if (y == 0)
			return -1;
		*start = y >= size ? 0 : size - y;
		*end = size - 1;
		return size > 0 ? 1 : -1;
	}
	if (!parse_i64(a, &x) || x < 0)
		return 0;
	if (bl == 0)
		y = size - 1;
	else if (!parse_i64(b, &y) || y < x)
		return 0;
	if (x >= size)
		return -1;
	*start = x;
	*end = y >= size ? size - 1 : y;
	return 1;
}

void http_send_file(http_req_t *r, const char *path, const char *content_type, const char *cache_control)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_error(r, ERR_NOT_FOUND, "not_found", NULL, "no such file");
		return;
	}
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		     (unsigned long long)st.st_mtim.tv_nsec);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		close(fd);
		set_response(r, 304, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
		http_add_header(r, "ETag", etag);
		if (cache_control)
			http_add_header(r, "Cache-Control", cache_control);
		return;
	}
	int64_t size = st.st_size, start = 0, end = size - 1;
	int rr = parse_range(http_header(r, "Range"), size, &start, &end);
	if (rr < 0) {
		close(fd);
		char cr[48];
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
		http_add_header(r, "Content-Range", cr);
		problem(r, 416, "range_not_satisfiable", NULL, "the requested range is outside the file");
		r->status = 416;
		return;
	}
	int64_t len = rr > 0 ? end - start + 1 : size;
	struct MHD_Response *resp =
	    MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)(rr > 0 ? start : 0));
	if (!resp) {
		close(fd);
		http_error(r, ERR_INTERNAL, "internal", NULL, "cannot serve the file");
		return;
	}
	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	MHD_add_response_header(resp, "ETag", etag);
	if (cache_control)
		MHD_add_response_header(resp, "Cache-Control", cache_control);
	if (rr > 0) {
		char cr[80];
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start, (long long)end,
			 (long long)size);
		MHD_add_response_header(resp, "Content-Range", cr);
	}
	set_response(r, rr > 0 ? 206 : 200, resp);
}

typedef struct {
	http_read_fn fn;
	void *ctx;
	void (*free_fn)(void *);
	uint64_t base;
} reader_t;

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	reader_t *rd = cls;
	long n = rd->fn(rd->ctx, rd->base + pos, buf, max);
	return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : (ssize_t)n;
}

static void reader_free(void *cls)
{
	reader_t *rd = cls;
	if (rd->free_fn)
		rd->free_fn(rd->ctx);
	free(rd);
}

void http_send_reader(http_req_t *r, int64_t size, const char *content_type, const char *cache_control,
		      const char *etag, http_read_fn fn, void *ctx, void (*free_fn)(void *))
{
	const char *inm = http_header(r, "If-None-Match");
	if (etag && inm && strcmp(inm, etag) == 0) {
		if (free_fn)
			free_fn(ctx);
		set_response(r, 304, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
		http_add_header(r, "ETag", etag);
		return;
	}
	int64_t start = 0, end = size - 1;
	int rr = parse_range(http_header(r, "Range"), size, &start, &end);
	if (rr < 0) {
		if (free_fn)
			free_fn(ctx);
		char cr[48];
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
		http_add_header(r, "Content-Range", cr);
		problem(r, 416, "range_not_satisfiable", NULL, "the requested range is outside the file");
		return;
	}
	int64_t len = rr > 0 ? end - start + 1 : size;
	reader_t *rd = xcalloc(1, sizeof(*rd));
	*rd = (reader_t){fn, ctx, free_fn, (uint64_t)(rr > 0 ? start : 0)};
	struct MHD_Response *resp =
	    MHD_create_response_from_callback((uint64_t)len, 256 * 1024, reader_cb, rd, reader_free);
	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (etag)
		MHD_add_response_header(resp, "ETag", etag);
	if (cache_control)
		MHD_add_response_header(resp, "Cache-Control", cache_control);
	if (rr > 0) {
		char cr[80];
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start, (long long)end,
			 (long long)size);
		MHD_add_response_header(resp, "Content-Range", cr);
	}
	set_response(r, rr > 0 ? 206 : 200, resp);
}

/* ==== Middleware ==== */

static bool rid_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= 36 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
				 (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
			return false;
	return n >= 8;
}

static void take_request_id(http_req_t *r)
{
	const char *in = http_header(r, "X-Request-Id");
	if (in && rid_ok(in)) {
		str_copy(r->rid, sizeof(r->rid), in);
		return;
	}
	unsigned char raw[8];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(r->rid, sizeof(r->rid), raw, sizeof(raw));
}

static void take_client_ip(http_req_t *r)
{
	const config_t *cfg = config_get();
	if (cfg->trust_proxy) {
		const char *xff = http_header(r, "X-Forwarded-For");
		if (xff && xff[0]) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			str_copy(r->ip, sizeof(r->ip), last);
			const char *proto = http_header(r, "X-Forwarded-Proto");
			r->https = proto && strcmp(proto, "https") == 0;
			return;
		}
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	str_copy(r->ip, sizeof(r->ip), "unknown");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->ip, sizeof(r->ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->ip, sizeof(r->ip));
}

/* Is origin in the comma-separated allow-list? */
static bool origin_allowed(const char *origin)
{
	const char *list = config_get()->cors_origins;
	size_t ol = strlen(origin);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *te = end;
		while (te > p && te[-1] == ' ')
			te--;
		size_t n = (size_t)(te - p);
		if ((n == 1 && *p == '*') || (n == ol && memcmp(p, origin, n) == 0))
			return n > 0;
		p = end;
	}
	return false;
}

static const char *csp_api = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
static const char *csp_web =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* The web policy with the gateway's origin in connect-src (http_allow_connect); NULL: csp_web. */
static char *csp_web_gateway;

void http_allow_connect(const char *url)
{
	const char *scheme_end = url ? strstr(url, "://") : NULL;
	if (!scheme_end)
		return;
	size_t n = strcspn(scheme_end + 3, "/?#") + (size_t)(scheme_end + 3 - url);
	char *csp = xasprintf("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
			      "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' %.*s; "
			      "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
			      "frame-ancestors 'none'",
			      (int)n, url);
	char *old = __atomic_exchange_n(&csp_web_gateway, csp, __ATOMIC_ACQ_REL);
	free(old);
}

static void finish_headers(http_req_t *r)
{
	struct MHD_Response *resp = r->resp;
	MHD_add_response_header(resp, "X-Request-Id", r->rid);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	const char *web = __atomic_load_n(&csp_web_gateway, __ATOMIC_ACQUIRE);
	MHD_add_response_header(resp, "Content-Security-Policy", r->is_web ? (web ? web : csp_web) : csp_api);
	const char *pub = config_get()->public_url;
	if (r->https || (pub && str_has_prefix(pub, "https://")))
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=63072000; includeSubDomains");
	if (!r->is_web && r->status != 304 && !MHD_get_response_header(resp, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	const char *origin = http_header(r, "Origin");
	if (origin && origin_allowed(origin)) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"X-Request-Id, Retry-After, Location");
	}
	MHD_add_response_header(resp, "Vary", "Origin");
	for (size_t i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
}

static bool is_preflight(http_req_t *r)
{
	return r->method_id == HTTP_OPTIONS && http_header(r, "Origin") &&
	       http_header(r, "Access-Control-Request-Method");
}

static void preflight(http_req_t *r)
{
	http_no_content(r);
	r->route_label = "preflight";
	if (!origin_allowed(http_header(r, "Origin")))
		return; /* no Allow-Origin: the browser refuses the real request */
	http_add_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	http_add_header(r, "Access-Control-Allow-Headers",
			"Authorization, Content-Type, X-Request-Id, X-Cosmiv-Client, Upload-Length, "
			"Upload-Offset, Upload-Metadata, Upload-Checksum, Tus-Resumable");
	http_add_header(r, "Access-Control-Max-Age", "600");
}

static bool is_api_path(const char *p)
{
	return str_has_prefix(p, "/api/") || strcmp(p, "/api") == 0 || strcmp(p, "/healthz") == 0 ||
	       strcmp(p, "/readyz") == 0 || strcmp(p, "/metrics") == 0;
}

static bool content_type_json(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n == 24 && strncasecmp(ct, "application/problem+json", 24) == 0);
}

static void dispatch(http_req_t *r)
{
	if (is_preflight(r)) {
		preflight(r);
		return;
	}
	if (r->too_large) {
		char d[96];
		snprintf(d, sizeof(d), "the request body is larger than the limit of %lld bytes",
			 (long long)config_get()->max_body_bytes);
		r->route_label = "too_large";
		http_error(r, ERR_TOO_LARGE, "body_too_large", NULL, d);
		return;
	}
	if (!is_api_path(r->path)) {
		r->route_label = "static";
		if (r->method_id != HTTP_GET && r->method_id != HTTP_HEAD) {
			http_add_header(r, "Allow", "GET, HEAD");
			problem(r, 405, "method_not_allowed", NULL, "only GET and HEAD are allowed here");
			return;
		}
		http_static_serve(r);
		return;
	}
	int allow = 0;
	if (!r->route) /* not routed yet, or routed to nothing: match again for the Allow set */
		r->route = r->method_id ? router_match(r->method_id, r->path, &r->params, &allow) : NULL;
	if (!r->route) {
		if (allow || r->method_id == 0) {
			char methods[96];
			router_methods_str(allow, methods, sizeof(methods));
			r->route_label = "method_not_allowed";
			http_add_header(r, "Allow", methods);
			char d[160];
			snprintf(d, sizeof(d), "%s is not allowed here; allowed: %s", r->method, methods);
			problem(r, 405, "method_not_allowed", NULL, d);
			return;
		}
		r->route_label = "unmatched";
		http_error(r, ERR_NOT_FOUND, "route_not_found", NULL, "no such API endpoint");
		return;
	}
	r->route_label = r->route->pattern;
	r->flags = r->route->flags;
	if ((r->route->flags & HTTP_ROUTE_JSON) && r->body.len > 0 &&
	    !content_type_json(http_header(r, "Content-Type"))) {
		problem(r, 415, "unsupported_media_type", NULL, "the request body must be application/json");
		return;
	}
	if (r->route->stream) {
		if (!r->resp) {
			r->stream_ended = true;
			r->route->stream(r, HTTP_STREAM_END, NULL, 0);
		}
	} else {
		r->route->fn(r);
	}
	if (!r->resp) {
		log_error("handler produced no response", "route", r->route->pattern, NULL);
		http_error(r, ERR_INTERNAL, "internal", NULL, "internal error");
	}
}

/* ==== MHD callbacks ==== */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)cls;
	(void)version;
	http_req_t *r = *con_cls;
	int64_t max = config_get()->max_body_bytes;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->conn = conn;
		r->method = method;
		r->method_id = router_method_id(method);
		r->path = xstrdup(url);
		r->t0 = time_mono_ns();
		r->route_label = "unmatched";
		buf_init(&r->body);
		take_request_id(r);
		take_client_ip(r);
		metrics_inflight_add(1);
		*con_cls = r;
		/* Streaming routes are routed now, so their handler sees the body as it arrives. */
		if (is_api_path(r->path) && r->method_id && !is_preflight(r)) {
			int allow = 0;
			r->route = router_match(r->method_id, r->path, &r->params, &allow);
			if (r->route && !r->route->stream) { /* buffered routes are dispatched at the end */
				router_params_free(&r->params);
				r->route = NULL;
			}
			if (r->route) {
				r->route_label = r->route->pattern;
				r->flags = r->route->flags;
				log_set_request_id(r->rid);
				r->route->stream(r, HTTP_STREAM_BEGIN, NULL, 0);
				log_set_request_id(NULL);
				return MHD_YES;
			}
		}
		const char *cl = http_header(r, "Content-Length");
		int64_t n;
		if (cl && parse_i64(cl, &n) && n > max)
			r->too_large = true;
		return MHD_YES;
	}
	if (*upload_data_size && r->route && r->route->stream) {
		if (!r->resp)
			r->route->stream(r, HTTP_STREAM_DATA, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->too_large && (int64_t)(r->body.len + *upload_data_size) <= max)
			buf_append(&r->body, upload_data, *upload_data_size);
		else
			r->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->queued) /* already answered */
		return MHD_YES;
	log_set_request_id(r->rid);
	if (!r->resp) /* a streaming handler may have answered early */
		dispatch(r);
	finish_headers(r);
	r->queued = true;
	enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, r->resp);
	log_set_request_id(NULL);
	return ok;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF): a log line stays JSON. */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80	      ? 0
			: (*p & 0xE0) == 0xC0 ? 1
			: (*p & 0xF0) == 0xE0 ? 2
			: (*p & 0xF8) == 0xF0 ? 3
					      : -1;
		if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4))
			return false;
		uint32_t cp = n ? *p & (0x3F >> n) : *p;
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		p += n + 1;
	}
	return true;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	http_req_t *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (r->route && r->route->stream && !r->stream_ended && !r->resp)
		r->route->stream(r, HTTP_STREAM_ABORT, NULL, 0);
	double secs = (double)(time_mono_ns() - r->t0) / 1e9;
	int status = r->status ? r->status : 499; /* client went away before an answer */
	metrics_observe_request(r->route_label, r->method, status, secs);
	bool quiet = (r->flags & HTTP_ROUTE_NOLOG) && status < 400;
	log_level_t level = status >= 500 ? LOG_ERROR : LOG_INFO;
	if (!quiet && log_enabled(level)) { /* the fields, written straight into one buffer */
		buf_t f;
		buf_init(&f);
		char num[64];
		buf_puts(&f, "\"request_id\":");
		buf_put_json_string(&f, r->rid);
		buf_puts(&f, ",\"method\":");
		buf_put_json_string(&f, r->method && utf8_ok(r->method) ? r->method : "?");
		buf_puts(&f, ",\"path\":");
		buf_put_json_string(&f, r->path && utf8_ok(r->path) ? r->path : "(not UTF-8)");
		snprintf(num, sizeof(num), ",\"status\":%d,\"ms\":%.3f,\"ip\":", status, secs * 1000.0);
		buf_puts(&f, num);
		buf_put_json_string(&f, r->ip);
		buf_puts(&f, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ",\"completed\":true"
									: ",\"completed\":false");
		log_raw(level, "request", f.data);
		buf_cleanup(&f);
	}
	if (r->resp)
		MHD_destroy_response(r->resp);
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	if (r->hdata && r->hdata_free)
		r->hdata_free(r->hdata);
	if (r->user && r->user_free)
		r->user_free(r->user);
	router_params_free(&r->params);
	buf_cleanup(&r->body);
	free(r->path);
	free(r);
	metrics_inflight_add(-1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("libmicrohttpd", "detail", msg, NULL);
}

/* ==== Start / stop ==== */

void http_route(int methods, const char *pattern, http_handler_fn fn, int flags)
{
	router_add(methods, pattern, fn, flags);
}

void http_route_stream(int methods, const char *pattern, http_stream_fn fn, int flags)
{
	router_add_stream(methods, pattern, fn, flags);
}

bool http_answered(const http_req_t *r)
{
	return r->resp != NULL;
}

static bool resolve(const char *listen, struct sockaddr_storage *ss, err_t *e)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_LISTEN",
			       "listen address must be host:port, got \"%s\"", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[') { /* [::1]:8080 */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || !res)
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_LISTEN", "cannot resolve %s: %s", listen,
			       gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return true;
}

bool http_start(const char *listen, err_t *e)
{
	const config_t *cfg = config_get();
	struct sockaddr_storage ss = {0};
	if (!resolve(listen, &ss, e))
		return false;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon_ = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)10000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, MHD_OPTION_END);
	if (!daemon_)
		return err_set(e, ERR_UNAVAILABLE, "listen_failed", NULL, "cannot listen on %s: %s", listen,
			       strerror(errno ? errno : EADDRINUSE));
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	bound_port = di ? di->port : 0;
	return true;
}

int http_port(void)
{
	return bound_port;
}

void http_stop(int grace_s)
{
	if (!daemon_)
		return;
	MHD_socket ls = MHD_quiesce_daemon(daemon_);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	uint64_t deadline = time_mono_ns() + (uint64_t)grace_s * 1000000000ull;
	while (metrics_inflight() > 0 && time_mono_ns() < deadline)
		usleep(10000);
	if (metrics_inflight() > 0)
		log_warn("shutdown grace period over; closing remaining requests", NULL);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
