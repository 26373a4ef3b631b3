/*
 * Unit tests for src/jobs/jobs.c: the queue's state machine on SQLite and
 * (when configured) PostgreSQL — claiming order, unique keys, leases that
 * run out, retries with backoff, discarding after the last attempt, dead-job
 * listing and retry.
 */
#define DBFIX_SCHEMA "cosmiv_unit_jobs"
#include "dbfix.h"

#include "jobs/jobs.h"

static dbfix_t *migrated(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	if (!db_migrate(f->db, &applied, &e))
		fail_msg("db_migrate: %s", e.detail);
	return f;
}

static int64_t enqueue(dbfix_t *f, const char *kind, int priority, const char *key, int max_attempts)
{
	err_t e;
	int64_t id = 0;
	job_spec_t s = {.kind = kind,
			.payload = "{\"x\":1}",
			.owner_id = 7,
			.unique_key = key,
			.priority = priority,
			.max_attempts = max_attempts};
	if (!jobs_enqueue(f->c, &s, &id, &e))
		fail_msg("jobs_enqueue: %s", e.detail);
	return id;
}

static bool claim(dbfix_t *f, const char *worker, int lease_s, job_t *j)
{
	err_t e;
	bool got = false;
	if (!jobs_claim(f->c, worker, lease_s, j, &got, &e))
		fail_msg("jobs_claim: %s", e.detail);
	return got;
}

/* Makes the job due now / its lease run out, without sleeping. */
static void rewind_job(dbfix_t *f, int64_t id)
{
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "UPDATE jobs SET run_at = 0, lease_until = 1 WHERE id = ?", &e);
	assert_non_null(s);
	db_bind_i64(s, 1, id);
	assert_int_equal(db_step(s, &e), DB_DONE);
	db_finish(s);
}

static void test_jobs_claim_order_and_states(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t low = enqueue(f, "a", 0, NULL, 3);
	int64_t high = enqueue(f, "b", 10, NULL, 3);
	job_t j;
	assert_true(claim(f, "w1", 60, &j));
	assert_int_equal(j.id, high); /* priority first */
	assert_string_equal(j.state, "running");
	assert_int_equal(j.attempts, 1);
	assert_string_equal(j.payload, "{\"x\":1}");
	jobs_job_cleanup(&j);
	assert_true(claim(f, "w2", 60, &j));
	assert_int_equal(j.id, low);
	jobs_job_cleanup(&j);
	assert_false(claim(f, "w3", 60, &j)); /* both leased */
	err_t e;
	assert_true(jobs_heartbeat(f->c, low, "w2", 60, 40, "half way", &e));
	/* only the holder may report or finish */
	assert_false(jobs_heartbeat(f->c, low, "w1", 60, 50, "x", &e));
	assert_int_equal(e.kind, ERR_CONFLICT);
	assert_false(jobs_complete(f->c, low, "w1", NULL, &e));
	assert_true(jobs_complete(f->c, low, "w2", "{\"total\":1}", &e));
	assert_true(jobs_get(f->c, low, &j, &e));
	assert_string_equal(j.state, "completed");
	assert_int_equal(j.progress, 100);
	assert_string_equal(j.timings, "{\"total\":1}");
	assert_true(j.finished_at > 0);
	jobs_job_cleanup(&j);
}

static void test_jobs_unique_key_is_idempotent(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = enqueue(f, "k", 0, "video.process:1", 3);
	int64_t b = enqueue(f, "k", 0, "video.process:1", 3);
	int64_t c = enqueue(f, "k", 0, "video.process:2", 3);
	assert_int_equal(a, b);
	assert_true(a != c);
}

static void test_jobs_failure_retries_with_backoff_then_discards(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t id = enqueue(f, "flaky", 0, NULL, 2);
	job_t j;
	err_t e;
	assert_true(claim(f, "w", 60, &j));
	jobs_job_cleanup(&j);
	assert_true(jobs_fail(f->c, id, "w", "network hiccup", false, NULL, &e));
	assert_true(jobs_get(f->c, id, &j, &e));
	assert_string_equal(j.state, "retryable");
	assert_string_equal(j.error, "network hiccup");
	assert_true(j.run_at > time_now_ms()); /* backoff: not due yet */
	jobs_job_cleanup(&j);
	assert_false(claim(f, "w", 60, &j));
	rewind_job(f, id);
	assert_true(claim(f, "w", 60, &j));
	assert_int_equal(j.attempts, 2);
	jobs_job_cleanup(&j);
	assert_true(jobs_fail(f->c, id, "w", "still broken", false, NULL, &e));
	assert_true(jobs_get(f->c, id, &j, &e));
	assert_string_equal(j.state, "discarded"); /* no attempts left */
	jobs_job_cleanup(&j);
}

static void test_jobs_permanent_failure_discards_at_once(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t id = enqueue(f, "bad_input", 0, NULL, 5);
	job_t j;
	err_t e;
	assert_true(claim(f, "w", 60, &j));
	jobs_job_cleanup(&j);
	assert_true(jobs_fail(f->c, id, "w", "not a video file", true, NULL, &e));
	assert_true(jobs_get(f->c, id, &j, &e));
	assert_string_equal(j.state, "discarded");
	assert_int_equal(j.attempts, 1);
	jobs_job_cleanup(&j);
}

static void test_jobs_expired_lease_is_claimed_again(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t id = enqueue(f, "long", 0, NULL, 2);
	job_t j;
	err_t e;
	assert_true(claim(f, "dead-worker", 60, &j));
	jobs_job_cleanup(&j);
	rewind_job(f, id); /* the worker died: its lease runs out */
	assert_true(claim(f, "new-worker", 60, &j));
	assert_int_equal(j.id, id);
	assert_int_equal(j.attempts, 2);
	jobs_job_cleanup(&j);
	/* the dead worker's late report is refused */
	assert_false(jobs_complete(f->c, id, "dead-worker", NULL, &e));
	/* and when the last attempt's worker dies too, the job is discarded */
	rewind_job(f, id);
	assert_false(claim(f, "third", 60, &j));
	assert_true(jobs_get(f->c, id, &j, &e));
	assert_string_equal(j.state, "discarded");
	assert_true(strstr(j.error, "lease") != NULL);
	jobs_job_cleanup(&j);
}

static void test_jobs_dead_list_and_retry(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t ids[3];
	err_t e;
	for (int i = 0; i < 3; i++) {
		job_t j;
		ids[i] = enqueue(f, "doomed", 0, NULL, 1);
		assert_true(claim(f, "w", 60, &j));
		jobs_fail(f->c, j.id, "w", "boom", false, NULL, &e);
		jobs_job_cleanup(&j);
	}
	job_t *items;
	int n;
	int64_t next;
	assert_true(jobs_list_dead(f->c, 0, 2, &items, &n, &next, &e));
	assert_int_equal(n, 2);
	assert_int_equal(items[0].id, ids[2]);
	assert_true(next != 0);
	for (int i = 0; i < n; i++)
		jobs_job_cleanup(&items[i]);
	free(items);
	assert_true(jobs_list_dead(f->c, next, 2, &items, &n, &next, &e));
	assert_int_equal(n, 1);
	assert_int_equal(next, 0);
	jobs_job_cleanup(&items[0]);
	free(items);
	assert_true(jobs_retry(f->c, ids[0], &e));
	job_t j;
	assert_true(jobs_get(f->c, ids[0], &j, &e));
	assert_string_equal(j.state, "available");
	assert_int_equal(j.attempts, 0);
	jobs_job_cleanup(&j);
	assert_false(jobs_retry(f->c, ids[0], &e)); /* not dead any more */
	assert_int_equal(e.kind, ERR_NOT_FOUND);
}

static void test_jobs_backoff_grows_with_jitter(void **state)
{
	(void)state;
	for (int a = 1; a < 8; a++) {
		int64_t base = 1000LL << a;
		for (int k = 0; k < 20; k++) {
			int64_t b = jobs_backoff_ms(a);
			assert_true(b >= base - base / 4 && b <= base + base / 4);
		}
	}
	assert_true(jobs_backoff_ms(30) <= 3600000 + 900000);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobs_backoff_grows_with_jitter),
	    DB_TEST(test_jobs_claim_order_and_states),
	    DB_TEST(test_jobs_unique_key_is_idempotent),
	    DB_TEST(test_jobs_failure_retries_with_backoff_then_discards),
	    DB_TEST(test_jobs_permanent_failure_discards_at_once),
	    DB_TEST(test_jobs_expired_lease_is_claimed_again),
	    DB_TEST(test_jobs_dead_list_and_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
