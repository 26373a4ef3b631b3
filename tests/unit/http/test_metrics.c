/*
 * Unit tests for src/http/metrics.c: Prometheus text exposition.
 */
#include "unit.h"

#include "http/metrics.h"

static int reset(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

static char *render(void)
{
	buf_t b;
	buf_init(&b);
	metrics_render(&b);
	return buf_steal(&b);
}

static void expect_line(const char *text, const char *line)
{
	char *needle = xasprintf("\n%s\n", line);
	bool found = strstr(text, needle) != NULL || str_has_prefix(text, needle + 1);
	free(needle);
	if (!found)
		fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static int count_occurrences(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

#define H "route=\"/api/v2/health\",method=\"GET\",status=\"200\""

static void test_metrics_render_when_empty(void **state)
{
	(void)state;
	char *t = render();
	expect_line(t, "# TYPE http_requests_total counter");
	expect_line(t, "# TYPE http_request_duration_seconds histogram");
	expect_line(t, "# TYPE http_requests_in_flight gauge");
	expect_line(t, "http_requests_in_flight 0");
	assert_null(strstr(t, "http_requests_total{"));
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
}

static void test_metrics_observe_counts_requests_and_buckets(void **state)
{
	(void)state;
	metrics_observe_request("/api/v2/health", "GET", 200, 0.003);
	metrics_observe_request("/api/v2/health", "GET", 200, 0.2);
	metrics_observe_request("/api/v2/health", "GET", 200, 0.001); /* on a bound: le is inclusive */
	metrics_observe_request("/api/v2/users/{username}", "POST", 201, 10.0);
	metrics_observe_request("/api/v2/health", "GET", 503, 0.0001);
	char *t = render();

	expect_line(t, "http_requests_total{" H "} 3");
	expect_line(
	    t, "http_requests_total{route=\"/api/v2/users/{username}\",method=\"POST\",status=\"201\"} 1");
	expect_line(t, "http_requests_total{route=\"/api/v2/health\",method=\"GET\",status=\"503\"} 1");

	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"0.001\"} 1");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"0.0025\"} 1");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"0.005\"} 2");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"0.1\"} 2");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"0.25\"} 3");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"1\"} 3");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"5\"} 3");
	expect_line(t, "http_request_duration_seconds_bucket{" H ",le=\"+Inf\"} 3");
	expect_line(t, "http_request_duration_seconds_count{" H "} 3");
	expect_line(t, "http_request_duration_seconds_sum{" H "} 0.204000");

	/* 10 s is beyond every finite bucket. */
	const char *U = "route=\"/api/v2/users/{username}\",method=\"POST\",status=\"201\"";
	char *l = xasprintf("http_request_duration_seconds_bucket{%s,le=\"5\"} 0", U);
	expect_line(t, l);
	free(l);
	l = xasprintf("http_request_duration_seconds_bucket{%s,le=\"+Inf\"} 1", U);
	expect_line(t, l);
	free(l);

	/* 12 finite buckets + Inf per series, 3 series. */
	assert_int_equal(count_occurrences(t, "http_request_duration_seconds_bucket{"), 3 * 13);
	assert_int_equal(count_occurrences(t, "# TYPE http_requests_total"), 1);
	assert_int_equal(count_occurrences(t, "# TYPE http_request_duration_seconds "), 1);
	free(t);
}

static void test_metrics_buckets_are_cumulative_and_ordered(void **state)
{
	(void)state;
	static const double obs[] = {0.0005, 0.002, 0.004, 0.007, 0.02, 0.04, 0.07, 0.2, 0.4, 0.7, 2, 4, 7};
	for (size_t i = 0; i < ARRAY_LEN(obs); i++)
		metrics_observe_request("/r", "GET", 200, obs[i]);
	char *t = render();
	static const char *le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
				   "0.25",  "0.5",    "1",     "2.5",  "5",	"+Inf"};
	const char *prev = t;
	for (size_t i = 0; i < ARRAY_LEN(le); i++) {
		char *line = xasprintf("http_request_duration_seconds_bucket{route=\"/r\",method=\"GET\","
				       "status=\"200\",le=\"%s\"} %zu\n",
				       le[i], i + 1);
		const char *at = strstr(t, line);
		if (!at)
			fail_msg("missing %s", line);
		assert_true(at > prev); /* in increasing le order */
		prev = at;
		free(line);
	}
	free(t);
}

static void test_metrics_count_groups_samples_under_one_type(void **state)
{
	(void)state;
	metrics_count("cosmiv_rate_limited_total", "scope", "login");
	metrics_count("cosmiv_other_total", "kind", "x");
	metrics_count("cosmiv_rate_limited_total", "scope", "login");
	metrics_count("cosmiv_rate_limited_total", "scope", "register");
	metrics_count("cosmiv_other_total", "kind", "y");
	char *t = render();
	assert_int_equal(count_occurrences(t, "# TYPE cosmiv_rate_limited_total counter\n"), 1);
	assert_int_equal(count_occurrences(t, "# TYPE cosmiv_other_total counter\n"), 1);
	expect_line(t, "cosmiv_rate_limited_total{scope=\"login\"} 2");
	expect_line(t, "cosmiv_rate_limited_total{scope=\"register\"} 1");
	expect_line(t, "cosmiv_other_total{kind=\"x\"} 1");
	expect_line(t, "cosmiv_other_total{kind=\"y\"} 1");
	/* Each family's samples follow its TYPE line, before the next family. */
	const char *type_rl = strstr(t, "# TYPE cosmiv_rate_limited_total");
	const char *type_other = strstr(t, "# TYPE cosmiv_other_total");
	const char *reg = strstr(t, "cosmiv_rate_limited_total{scope=\"register\"}");
	const char *y = strstr(t, "cosmiv_other_total{kind=\"y\"}");
	assert_true(type_rl < reg && reg < type_other && type_other < y);
	free(t);
}

static void test_metrics_same_label_different_value_is_separate(void **state)
{
	(void)state;
	for (int i = 0; i < 40; i++) { /* beyond the initial table size */
		char v[16];
		snprintf(v, sizeof(v), "v%d", i);
		metrics_count("many_total", "k", v);
	}
	char *t = render();
	assert_int_equal(count_occurrences(t, "many_total{k=\"v"), 40);
	expect_line(t, "many_total{k=\"v39\"} 1");
	free(t);
}

static void test_metrics_inflight_gauge(void **state)
{
	(void)state;
	metrics_inflight_add(2);
	metrics_inflight_add(-1);
	assert_int_equal(metrics_inflight(), 1);
	char *t = render();
	expect_line(t, "http_requests_in_flight 1");
	free(t);
	metrics_inflight_add(-1);
	assert_int_equal(metrics_inflight(), 0);
}

static void test_metrics_many_series(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		metrics_observe_request("/r", "GET", 200 + i, 0.01);
	metrics_observe_request("/r", "GET", 299, 0.01);
	char *t = render();
	assert_int_equal(count_occurrences(t, "http_requests_total{"), 100);
	expect_line(t, "http_requests_total{route=\"/r\",method=\"GET\",status=\"299\"} 2");
	free(t);
}

static void test_metrics_reset_clears_everything(void **state)
{
	(void)state;
	metrics_observe_request("/r", "GET", 200, 0.01);
	metrics_count("x_total", "a", "b");
	metrics_reset();
	char *t = render();
	assert_null(strstr(t, "/r"));
	assert_null(strstr(t, "x_total"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_metrics_render_when_empty, reset),
	    cmocka_unit_test_setup(test_metrics_observe_counts_requests_and_buckets, reset),
	    cmocka_unit_test_setup(test_metrics_buckets_are_cumulative_and_ordered, reset),
	    cmocka_unit_test_setup(test_metrics_count_groups_samples_under_one_type, reset),
	    cmocka_unit_test_setup(test_metrics_same_label_different_value_is_separate, reset),
	    cmocka_unit_test_setup(test_metrics_inflight_gauge, reset),
	    cmocka_unit_test_setup(test_metrics_many_series, reset),
	    cmocka_unit_test_setup(test_metrics_reset_clears_everything, reset),
	};
	return cmocka_run_group_tests(tests, NULL, reset);
}
