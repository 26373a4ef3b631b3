/*
 * Unit tests for src/http/ratelimit.c: the in-process GCRA with an explicit
 * clock, the public entry point on the memory backend, and Redis URL parsing.
 */
#include "unit.h"

#include "http/metrics.h"
#include "http/ratelimit.h"

#define T0 1767225600000LL /* ms */

static int teardown(void **state)
{
	(void)state;
	ratelimit_shutdown();
	metrics_reset();
	return 0;
}

static void test_ratelimit_allows_burst_then_denies(void **state)
{
	(void)state;
	int retry = -1;
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_local_allow("burst", 60, 3, T0, &retry));
	assert_int_equal(retry, -1); /* untouched when allowed */
	assert_false(ratelimit_local_allow("burst", 60, 3, T0, &retry));
	assert_true(retry >= 1);
	assert_int_equal(retry, 1); /* one emission interval: 60/min → 1 s */
	/* Denials do not consume budget. */
	assert_false(ratelimit_local_allow("burst", 60, 3, T0 + 500, &retry));
	assert_int_equal(retry, 1);
}

static void test_ratelimit_recovers_after_emission_interval(void **state)
{
	(void)state;
	int retry = 0;
	for (int i = 0; i < 2; i++)
		assert_true(ratelimit_local_allow("recover", 60, 2, T0, &retry));
	assert_false(ratelimit_local_allow("recover", 60, 2, T0 + 999, &retry));
	assert_true(ratelimit_local_allow("recover", 60, 2, T0 + 1000, &retry));
	assert_false(ratelimit_local_allow("recover", 60, 2, T0 + 1000, &retry));
	assert_true(ratelimit_local_allow("recover", 60, 2, T0 + 2000, &retry));
	/* After a long idle period the full burst is available again, no more. */
	int64_t later = T0 + 3600 * 1000;
	assert_true(ratelimit_local_allow("recover", 60, 2, later, &retry));
	assert_true(ratelimit_local_allow("recover", 60, 2, later, &retry));
	assert_false(ratelimit_local_allow("recover", 60, 2, later, &retry));
}

static void test_ratelimit_retry_after_rounds_up_to_seconds(void **state)
{
	(void)state;
	int retry = 0;
	/* 6 per minute: one every 10 s, burst 1. */
	assert_true(ratelimit_local_allow("slow", 6, 1, T0, &retry));
	assert_false(ratelimit_local_allow("slow", 6, 1, T0, &retry));
	assert_int_equal(retry, 10);
	assert_false(ratelimit_local_allow("slow", 6, 1, T0 + 9001, &retry));
	assert_int_equal(retry, 1);
	assert_false(ratelimit_local_allow("slow", 6, 1, T0 + 9999, &retry));
	assert_int_equal(retry, 1); /* 1 ms left still says 1 s, never 0 */
	assert_true(ratelimit_local_allow("slow", 6, 1, T0 + 10000, &retry));
}

static void test_ratelimit_sustained_rate_matches_per_min(void **state)
{
	(void)state;
	int retry;
	int allowed = 0;
	/* Hammer every 100 ms for 10 minutes at 20/min with burst 10. */
	for (int64_t t = 0; t < 10 * 60 * 1000; t += 100)
		allowed += ratelimit_local_allow("sustained", 20, 10, T0 + t, &retry);
	/* burst + 20 per minute over 10 minutes (the last interval may or may not land). */
	assert_true(allowed >= 10 + 199 && allowed <= 10 + 200);
}

static void test_ratelimit_keys_are_independent(void **state)
{
	(void)state;
	int retry;
	assert_true(ratelimit_local_allow("login:ip:1.2.3.4", 60, 1, T0, &retry));
	assert_false(ratelimit_local_allow("login:ip:1.2.3.4", 60, 1, T0, &retry));
	assert_true(ratelimit_local_allow("login:ip:1.2.3.5", 60, 1, T0, &retry));
	assert_true(ratelimit_local_allow("login:acct:alice", 60, 1, T0, &retry));
	assert_true(ratelimit_local_allow("register:ip:1.2.3.4", 60, 1, T0, &retry));
	assert_false(ratelimit_local_allow("login:ip:1.2.3.5", 60, 1, T0, &retry));
	/* Many keys (forces shard sweeps) do not disturb an existing one. */
	char key[32];
	for (int i = 0; i < 70000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(ratelimit_local_allow(key, 60, 1, T0 + 100, &retry));
	}
	assert_false(ratelimit_local_allow("login:ip:1.2.3.4", 60, 1, T0 + 500, &retry));
	assert_true(ratelimit_local_allow("login:ip:1.2.3.4", 60, 1, T0 + 1000, &retry));
}

static void test_ratelimit_memory_backend_and_metrics(void **state)
{
	(void)state;
	err_t e;
	assert_true(ratelimit_init("", &e));
	assert_string_equal(ratelimit_backend(), "memory");
	int retry = 0;
	assert_true(ratelimit_allow("login:ip:9.9.9.9", 1, 2, &retry));
	assert_true(ratelimit_allow("login:ip:9.9.9.9", 1, 2, &retry));
	assert_false(ratelimit_allow("login:ip:9.9.9.9", 1, 2, &retry));
	assert_true(retry >= 59 && retry <= 60);
	assert_false(ratelimit_allow("login:ip:9.9.9.9", 1, 2, &retry));
	/* Denials are counted by scope only (never by IP). */
	buf_t b;
	buf_init(&b);
	metrics_render(&b);
	assert_non_null(strstr(b.data, "cosmiv_rate_limited_total{scope=\"login\"} 2\n"));
	assert_null(strstr(b.data, "9.9.9.9"));
	buf_cleanup(&b);
}

static void test_ratelimit_init_null_is_memory(void **state)
{
	(void)state;
	err_t e;
	assert_true(ratelimit_init(NULL, &e));
	assert_string_equal(ratelimit_backend(), "memory");
}

static void expect_bad_url(const char *url)
{
	err_t e;
	err_clear(&e);
	if (ratelimit_init(url, &e))
		fail_msg("accepted redis url %s", url);
	assert_err(&e, ERR_INVALID, "bad_config");
	assert_string_equal(e.field, "COSMIV_REDIS_URL");
	assert_string_equal(ratelimit_backend(), "memory");
	ratelimit_shutdown();
}

static void test_ratelimit_rejects_bad_redis_urls(void **state)
{
	(void)state;
	expect_bad_url("http://localhost:6379");
	expect_bad_url("localhost:6379");
	expect_bad_url("redis://localhost:0");
	expect_bad_url("redis://localhost:65536");
	expect_bad_url("redis://localhost:port");
	expect_bad_url("redis://:pw@localhost:99999");
	expect_bad_url("redis://localhost:6379/abc");
	expect_bad_url("redis://localhost:6379/-1");
	expect_bad_url("redis://user:pw@localhost:6379/1001");
}

static void test_ratelimit_unreachable_redis_is_unavailable(void **state)
{
	(void)state;
	err_t e;
	/* Port 1 on loopback: connection refused at once. */
	assert_false(ratelimit_init("redis://127.0.0.1:1/0", &e));
	assert_err(&e, ERR_UNAVAILABLE, "redis_unavailable");
	/* Falls back to the in-process table, counting the Redis error. */
	int retry;
	assert_true(ratelimit_allow("fallback:x", 60, 1, &retry));
	assert_false(ratelimit_allow("fallback:x", 60, 1, &retry));
	buf_t b;
	buf_init(&b);
	metrics_render(&b);
	assert_non_null(strstr(b.data, "cosmiv_ratelimit_redis_errors_total{backend=\"redis\"} 2\n"));
	assert_non_null(strstr(b.data, "cosmiv_rate_limited_total{scope=\"fallback\"} 1\n"));
	buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_ratelimit_allows_burst_then_denies, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_recovers_after_emission_interval, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_retry_after_rounds_up_to_seconds, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_sustained_rate_matches_per_min, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_keys_are_independent, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_memory_backend_and_metrics, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_init_null_is_memory, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_rejects_bad_redis_urls, teardown),
	    cmocka_unit_test_teardown(test_ratelimit_unreachable_redis_is_unavailable, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
