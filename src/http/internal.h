/*
 * internal.h — what src/http's own files share: the request structure and
 * the static file server. Nothing outside src/http includes this.
 */
#ifndef COSMIV_HTTP_INTERNAL_H
#define COSMIV_HTTP_INTERNAL_H

#include <microhttpd.h>

#include "core/util.h"
#include "http/http.h"
#include "http/router.h"

typedef struct {
	char *name;
	char *value;
} http_hdr_t;

struct http_req {
	struct MHD_Connection *conn;
	const char *method; /* borrowed from MHD, valid for the request */
	int method_id;
	char *path;
	buf_t body;
	bool too_large;
	const route_t *route;
	route_params_t params;
	const char *route_label; /* metrics label: route pattern, "static" or "unmatched" */
	int flags;
	char rid[40];
	char ip[64];
	bool https;
	bool is_web; /* a web app page: gets the app CSP */
	bool stream_ended;
	bool queued;
	uint64_t t0;
	/* response */
	struct MHD_Response *resp;
	int status;
	http_hdr_t *hdrs;
	size_t nhdrs;
	void *user;
	void (*user_free)(void *);
	void *hdata;
	void (*hdata_free)(void *);
};

void http_static_serve(http_req_t *r);

#endif
