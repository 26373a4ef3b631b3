/*
 * Unit tests for src/http/router.c: method + path-pattern matching.
 */
#include "unit.h"

#include "http/router.h"

static void h_a(http_req_t *r)
{
	(void)r;
}
static void h_b(http_req_t *r)
{
	(void)r;
}
static void h_c(http_req_t *r)
{
	(void)r;
}

static int reset(void **state)
{
	(void)state;
	router_reset();
	return 0;
}

/* Matches and returns the handler (NULL when none); params are freed. */
static http_handler_fn match_fn(int method, const char *path, int *allow)
{
	route_params_t p;
	int a = -1;
	const route_t *r = router_match(method, path, &p, &a);
	if (allow)
		*allow = a;
	http_handler_fn fn = r ? r->fn : NULL;
	if (!r)
		assert_int_equal(p.n, 0);
	router_params_free(&p);
	return fn;
}

static const char *param(const route_params_t *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

static void test_router_matches_literal_route(void **state)
{
	(void)state;
	int id = router_add(HTTP_GET, "/api/v2/health", h_a, HTTP_ROUTE_NOLOG);
	route_params_t p;
	int allow = -1;
	const route_t *r = router_match(HTTP_GET, "/api/v2/health", &p, &allow);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_a);
	assert_int_equal(r->id, id);
	assert_int_equal(r->flags, HTTP_ROUTE_NOLOG);
	assert_string_equal(r->pattern, "/api/v2/health");
	assert_int_equal(p.n, 0);
	router_params_free(&p);
	assert_null(match_fn(HTTP_GET, "/api/v2/healthz", NULL));
	assert_null(match_fn(HTTP_GET, "/api/v2", NULL));
	assert_null(match_fn(HTTP_GET, "/api/v2/health/x", NULL));
	assert_null(match_fn(HTTP_GET, "/API/v2/health", NULL)); /* case-sensitive */
}

static void test_router_extracts_params(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/api/v2/users/{username}", h_a, 0);
	router_add(HTTP_PUT, "/api/v2/orgs/{org}/members/{member}", h_b, 0);
	route_params_t p;
	int allow;
	const route_t *r = router_match(HTTP_GET, "/api/v2/users/alice", &p, &allow);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_a);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.names[0], "username");
	assert_string_equal(p.values[0], "alice");
	router_params_free(&p);
	assert_int_equal(p.n, 0);

	r = router_match(HTTP_PUT, "/api/v2/orgs/acme/members/bob%20x", &p, &allow);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_b);
	assert_int_equal(p.n, 2);
	assert_string_equal(param(&p, "org"), "acme");
	assert_string_equal(param(&p, "member"), "bob%20x"); /* raw segment, not decoded */
	assert_null(param(&p, "username"));
	router_params_free(&p);
}

static void test_router_param_needs_a_non_empty_segment(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/users/{name}", h_a, 0);
	router_add(HTTP_GET, "/users/{name}/posts", h_b, 0);
	int allow = -1;
	assert_null(match_fn(HTTP_GET, "/users", &allow));
	assert_int_equal(allow, 0);
	assert_null(match_fn(HTTP_GET, "/users/", &allow));
	assert_int_equal(allow, 0);
	/* As implemented, empty segments vanish: "/users//posts" is /users/{name} with
	 * name "posts", never /users/{name}/posts with an empty name. */
	assert_ptr_equal(match_fn(HTTP_GET, "/users//posts", &allow), h_a);
	assert_ptr_equal(match_fn(HTTP_GET, "/users/x/posts", NULL), h_b);
}

static void test_router_literal_registered_first_wins_over_param(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/api/v2/users/me", h_a, 0);
	router_add(HTTP_GET, "/api/v2/users/{username}", h_b, 0);
	route_params_t p;
	int allow;
	const route_t *r = router_match(HTTP_GET, "/api/v2/users/me", &p, &allow);
	assert_ptr_equal(r->fn, h_a);
	assert_int_equal(p.n, 0);
	router_params_free(&p);
	r = router_match(HTTP_GET, "/api/v2/users/mei", &p, &allow);
	assert_ptr_equal(r->fn, h_b);
	assert_string_equal(param(&p, "username"), "mei");
	router_params_free(&p);
}

static void test_router_first_registered_route_wins(void **state)
{
	(void)state;
	/* As implemented: a linear scan in registration order, so a parameter
	 * route registered before a literal one shadows it. */
	router_add(HTTP_GET, "/items/{id}", h_a, 0);
	router_add(HTTP_GET, "/items/new", h_b, 0);
	assert_ptr_equal(match_fn(HTTP_GET, "/items/new", NULL), h_a);
}

static void test_router_405_reports_allowed_methods(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/api/v2/items", h_a, 0);
	router_add(HTTP_POST, "/api/v2/items", h_b, 0);
	router_add(HTTP_DELETE | HTTP_PATCH, "/api/v2/items/{id}", h_c, 0);
	int allow = -1;
	assert_null(match_fn(HTTP_DELETE, "/api/v2/items", &allow));
	assert_int_equal(allow, HTTP_GET | HTTP_HEAD | HTTP_POST);
	assert_null(match_fn(HTTP_PUT, "/api/v2/items", &allow));
	assert_int_equal(allow, HTTP_GET | HTTP_HEAD | HTTP_POST);
	assert_null(match_fn(HTTP_GET, "/api/v2/items/5", &allow));
	assert_int_equal(allow, HTTP_DELETE | HTTP_PATCH); /* no GET: no HEAD either */
	char s[64];
	router_methods_str(allow, s, sizeof(s));
	assert_string_equal(s, "PATCH, DELETE");
	/* Unknown path: 404, not 405. */
	assert_null(match_fn(HTTP_GET, "/api/v2/nothing", &allow));
	assert_int_equal(allow, 0);
	/* A matching method still wins over the collected allow mask. */
	assert_ptr_equal(match_fn(HTTP_POST, "/api/v2/items", NULL), h_b);
	assert_ptr_equal(match_fn(HTTP_PATCH, "/api/v2/items/5", NULL), h_c);
}

static void test_router_get_route_also_answers_head(void **state)
{
	(void)state;
	int id = router_add(HTTP_GET, "/x", h_a, 0);
	assert_int_equal(router_get(id)->methods, HTTP_GET | HTTP_HEAD);
	assert_ptr_equal(match_fn(HTTP_HEAD, "/x", NULL), h_a);
	id = router_add(HTTP_POST, "/y", h_b, 0);
	assert_int_equal(router_get(id)->methods, HTTP_POST);
	int allow;
	assert_null(match_fn(HTTP_HEAD, "/y", &allow));
	assert_int_equal(allow, HTTP_POST);
}

static void test_router_ignores_trailing_and_repeated_slashes(void **state)
{
	(void)state;
	/* As implemented: empty segments are dropped, so these all name the same route. */
	router_add(HTTP_GET, "/api/v2/health", h_a, 0);
	assert_ptr_equal(match_fn(HTTP_GET, "/api/v2/health/", NULL), h_a);
	assert_ptr_equal(match_fn(HTTP_GET, "//api//v2///health", NULL), h_a);
	assert_ptr_equal(match_fn(HTTP_GET, "api/v2/health", NULL), h_a);
	router_add(HTTP_GET, "/users/{name}/", h_b, 0); /* pattern slashes are normalised too */
	route_params_t p;
	int allow;
	const route_t *r = router_match(HTTP_GET, "/users//bob//", &p, &allow);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_b);
	assert_string_equal(param(&p, "name"), "bob");
	router_params_free(&p);
}

static void test_router_root_route(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/", h_a, 0);
	assert_ptr_equal(match_fn(HTTP_GET, "/", NULL), h_a);
	assert_ptr_equal(match_fn(HTTP_GET, "", NULL), h_a);
	assert_ptr_equal(match_fn(HTTP_GET, "///", NULL), h_a);
	assert_null(match_fn(HTTP_GET, "/x", NULL));
}

static void test_router_rejects_too_many_segments(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/a/b/c/d/e/f/g/h/i/j/k/l", h_a, 0); /* 12: the maximum */
	assert_ptr_equal(match_fn(HTTP_GET, "/a/b/c/d/e/f/g/h/i/j/k/l", NULL), h_a);
	int allow = -1;
	assert_null(match_fn(HTTP_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m", &allow));
	assert_int_equal(allow, 0);
	assert_null(match_fn(HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20", &allow));
}

static void test_router_collects_at_most_max_params(void **state)
{
	(void)state;
	router_add(HTTP_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}", h_a, 0);
	route_params_t p;
	int allow;
	const route_t *r = router_match(HTTP_GET, "/1/2/3/4/5/6/7", &p, &allow);
	assert_non_null(r);
	assert_int_equal(p.n, HTTP_MAX_PARAMS);
	assert_string_equal(param(&p, "a"), "1");
	assert_string_equal(param(&p, "f"), "6");
	assert_null(param(&p, "g"));
	router_params_free(&p);
}

static void test_router_methods_str(void **state)
{
	(void)state;
	char s[64];
	router_methods_str(HTTP_GET | HTTP_POST | HTTP_DELETE, s, sizeof(s));
	assert_string_equal(s, "GET, POST, DELETE");
	router_methods_str(0, s, sizeof(s));
	assert_string_equal(s, "");
	router_methods_str(HTTP_OPTIONS | HTTP_HEAD, s, sizeof(s));
	assert_string_equal(s, "HEAD, OPTIONS");
	router_methods_str(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE |
			       HTTP_OPTIONS,
			   s, sizeof(s));
	assert_string_equal(s, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	char small[8];
	router_methods_str(HTTP_GET | HTTP_POST | HTTP_DELETE, small, sizeof(small));
	assert_string_equal(small, "GET, PO"); /* truncated, still terminated */
}

static void test_router_method_id(void **state)
{
	(void)state;
	assert_int_equal(router_method_id("GET"), HTTP_GET);
	assert_int_equal(router_method_id("HEAD"), HTTP_HEAD);
	assert_int_equal(router_method_id("POST"), HTTP_POST);
	assert_int_equal(router_method_id("PUT"), HTTP_PUT);
	assert_int_equal(router_method_id("PATCH"), HTTP_PATCH);
	assert_int_equal(router_method_id("DELETE"), HTTP_DELETE);
	assert_int_equal(router_method_id("OPTIONS"), HTTP_OPTIONS);
	assert_int_equal(router_method_id("get"), 0);
	assert_int_equal(router_method_id("TRACE"), 0);
	assert_int_equal(router_method_id(""), 0);
}

static void test_router_count_get_and_reset(void **state)
{
	(void)state;
	assert_int_equal(router_count(), 0);
	int a = router_add(HTTP_GET, "/a", h_a, 0);
	int b = router_add(HTTP_POST, "/b/{x}", h_b, HTTP_ROUTE_JSON);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(router_count(), 2);
	assert_ptr_equal(router_get(b)->fn, h_b);
	assert_int_equal(router_get(b)->flags, HTTP_ROUTE_JSON);
	assert_null(router_get(-1));
	assert_null(router_get(2));
	router_reset();
	assert_int_equal(router_count(), 0);
	assert_null(router_get(0));
	int allow;
	assert_null(match_fn(HTTP_GET, "/a", &allow));
	assert_int_equal(allow, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_router_matches_literal_route, reset),
	    cmocka_unit_test_teardown(test_router_extracts_params, reset),
	    cmocka_unit_test_teardown(test_router_param_needs_a_non_empty_segment, reset),
	    cmocka_unit_test_teardown(test_router_literal_registered_first_wins_over_param, reset),
	    cmocka_unit_test_teardown(test_router_first_registered_route_wins, reset),
	    cmocka_unit_test_teardown(test_router_405_reports_allowed_methods, reset),
	    cmocka_unit_test_teardown(test_router_get_route_also_answers_head, reset),
	    cmocka_unit_test_teardown(test_router_ignores_trailing_and_repeated_slashes, reset),
	    cmocka_unit_test_teardown(test_router_root_route, reset),
	    cmocka_unit_test_teardown(test_router_rejects_too_many_segments, reset),
	    cmocka_unit_test_teardown(test_router_collects_at_most_max_params, reset),
	    cmocka_unit_test_teardown(test_router_methods_str, reset),
	    cmocka_unit_test_teardown(test_router_method_id, reset),
	    cmocka_unit_test_teardown(test_router_count_get_and_reset, reset),
	};
	return cmocka_run_group_tests(tests, reset, reset);
}
