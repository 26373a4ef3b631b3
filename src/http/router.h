/*
 * router.h — method + path-pattern routing (internal to src/http).
 *
 * Patterns are literal segments and `{name}` parameters:
 * "/api/v2/users/{username}". A parameter matches one non-empty segment.
 * Routes are registered at start-up (not thread-safe), matched concurrently
 * afterwards (read-only).
 */
#ifndef COSMIV_ROUTER_H
#define COSMIV_ROUTER_H

#include "http/http.h"

typedef struct {
	int id;
	int methods;
	int flags;
	const char *pattern;
	http_handler_fn fn;
	http_stream_fn stream; /* set for streaming routes (fn is NULL) */
} route_t;

typedef struct {
	int n;
	const char *names[HTTP_MAX_PARAMS];
	char *values[HTTP_MAX_PARAMS]; /* heap copies, owned by the match */
} route_params_t;

int router_add(int methods, const char *pattern, http_handler_fn fn, int flags);
int router_add_stream(int methods, const char *pattern, http_stream_fn fn, int flags);
/*
 * Finds the route for (method, path). When the path exists for other
 * methods only, returns NULL with *allow set to their bitmask; when no route
 * has this path, returns NULL with *allow = 0.
 */
const route_t *router_match(int method, const char *path, route_params_t *params, int *allow);
void router_params_free(route_params_t *params);
int router_count(void);
const route_t *router_get(int id);
void router_reset(void);
/* "GET, HEAD, POST" for a bitmask. */
void router_methods_str(int methods, char *out, size_t outlen);
int router_method_id(const char *method);

#endif
