/*
 * Unit tests for src/db/migrate.c: ordered, transactional, idempotent
 * schema migrations, on SQLite and (when configured) PostgreSQL.
 */
#define DBFIX_SCHEMA "cosmiv_unit_migrate"
#include "dbfix.h"

#include <pthread.h>

static const db_migration_t good[] = {
    {1, "001_a", "CREATE TABLE mig_a (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"},
    {2, "002_b",
     "CREATE TABLE mig_b (id BIGINT PRIMARY KEY);\n"
     "INSERT INTO mig_b (id) VALUES (1);\n"
     "CREATE INDEX mig_b_idx ON mig_b (id)"},
};

static int version_of(dbfix_t *f)
{
	int v = -1;
	err_t e;
	if (!db_schema_version(f->db, &v, &e))
		fail_msg("db_schema_version: %s", e.detail);
	return v;
}

static void test_migrate_fresh_database_is_version_0(void **state)
{
	dbfix_t *f = dbfix(state);
	assert_int_equal(version_of(f), 0);
	assert_true(dbfix_table_exists(f, "schema_migrations"));
}

static void test_migrate_applies_pending_once(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied = -1;
	assert_true(db_migrate_list(f->db, good, 2, &applied, &e));
	assert_int_equal(applied, 2);
	assert_int_equal(version_of(f), 2);
	assert_true(dbfix_table_exists(f, "mig_a"));
	assert_true(dbfix_table_exists(f, "mig_b"));

	applied = -1;
	assert_true(db_migrate_list(f->db, good, 2, &applied, &e));
	assert_int_equal(applied, 0);
	assert_int_equal(version_of(f), 2);
	int64_t n = 0;
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM mig_b", &n, &e, 0));
	assert_int_equal(n, 1); /* the INSERT of 002 ran once */
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM schema_migrations", &n, &e, 0));
	assert_int_equal(n, 2);
}

static void test_migrate_records_name_and_time(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	int64_t before = time_now_ms();
	assert_true(db_migrate_list(f->db, good, 2, &applied, &e));
	db_stmt_t *s =
	    db_prepare(f->c, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version", &e);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_int_equal(db_col_i64(s, 0), 1);
	assert_string_equal(db_col_text(s, 1), "001_a");
	assert_true(db_col_i64(s, 2) >= before && db_col_i64(s, 2) <= time_now_ms());
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_string_equal(db_col_text(s, 1), "002_b");
	assert_int_equal(db_step(s, &e), DB_DONE);
	db_finish(s);
}

static void test_migrate_applies_only_new_ones(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	assert_true(db_migrate_list(f->db, good, 1, &applied, &e));
	assert_int_equal(applied, 1);
	assert_int_equal(version_of(f), 1);
	assert_false(dbfix_table_exists(f, "mig_b"));
	assert_true(db_migrate_list(f->db, good, 2, &applied, &e));
	assert_int_equal(applied, 1);
	assert_int_equal(version_of(f), 2);
	/* An empty list is a no-op. */
	assert_true(db_migrate_list(f->db, good, 0, &applied, &e));
	assert_int_equal(applied, 0);
}

static void expect_failed_second(dbfix_t *f, const char *bad_sql, const char *bad_table)
{
	const db_migration_t list[] = {
	    good[0],
	    {2, "002_broken", bad_sql},
	};
	err_t e;
	err_clear(&e);
	int applied = -1;
	assert_false(db_migrate_list(f->db, list, 2, &applied, &e));
	assert_int_equal(e.kind, ERR_INTERNAL);
	assert_string_equal(e.code, "migration_failed");
	assert_non_null(strstr(e.detail, "002_broken"));
	assert_int_equal(applied, 1);
	assert_int_equal(version_of(f), 1);
	assert_true(dbfix_table_exists(f, "mig_a"));
	assert_false(dbfix_table_exists(f, bad_table)); /* rolled back with its migration */

	/* Fixed, it applies on the next run. */
	const db_migration_t fixed[] = {good[0], {2, "002_fixed", "CREATE TABLE mig_fixed (x BIGINT)"}};
	assert_true(db_migrate_list(f->db, fixed, 2, &applied, &e));
	assert_int_equal(applied, 1);
	assert_int_equal(version_of(f), 2);
	assert_true(dbfix_table_exists(f, "mig_fixed"));
	assert_false(dbfix_table_exists(f, bad_table));
}

static void test_migrate_failed_migration_is_rolled_back_syntax_error(void **state)
{
	dbfix_t *f = dbfix(state);
	expect_failed_second(f, "CREATE TABLE mig_c (id BIGINT PRIMARY KEY);\nCREAT TABLE oops (x INT)",
			     "mig_c");
}

static void test_migrate_failed_migration_is_rolled_back_runtime_error(void **state)
{
	dbfix_t *f = dbfix(state);
	/* The CREATE certainly executes before the failing statement on both engines. */
	expect_failed_second(f,
			     "CREATE TABLE mig_d (id BIGINT PRIMARY KEY);\n"
			     "INSERT INTO mig_d (id) VALUES (1);\n"
			     "INSERT INTO no_such_table (id) VALUES (1)",
			     "mig_d");
}

static void test_migrate_stops_at_first_failure(void **state)
{
	dbfix_t *f = dbfix(state);
	const db_migration_t list[] = {
	    {1, "001_bad", "CREATE TABLE mig_x (id BIGINT); SELECT * FROM nowhere"},
	    {2, "002_never", "CREATE TABLE mig_never (id BIGINT)"},
	};
	err_t e;
	int applied = -1;
	assert_false(db_migrate_list(f->db, list, 2, &applied, &e));
	assert_string_equal(e.code, "migration_failed");
	assert_non_null(strstr(e.detail, "001_bad"));
	assert_int_equal(applied, 0);
	assert_int_equal(version_of(f), 0);
	assert_false(dbfix_table_exists(f, "mig_x"));
	assert_false(dbfix_table_exists(f, "mig_never"));
}

static void test_migrate_embedded_migrations(void **state)
{
	dbfix_t *f = dbfix(state);
	assert_true(db_migrations_count >= 1);
	for (int i = 0; i < db_migrations_count; i++) {
		assert_true(db_migrations[i].version > (i ? db_migrations[i - 1].version : 0));
		assert_true(db_migrations[i].name && db_migrations[i].name[0]);
		assert_true(db_migrations[i].sql && db_migrations[i].sql[0]);
	}
	err_t e;
	int applied = -1;
	if (!db_migrate(f->db, &applied, &e))
		fail_msg("db_migrate: %s", e.detail);
	assert_int_equal(applied, db_migrations_count);
	assert_int_equal(version_of(f), db_migrations[db_migrations_count - 1].version);
	assert_true(dbfix_table_exists(f, "users"));
	assert_true(dbfix_table_exists(f, "sessions"));
	assert_true(dbfix_table_exists(f, "refresh_tokens"));
	int64_t n = -1;
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM users", &n, &e, 0));
	assert_int_equal(n, 0);
	assert_true(db_migrate(f->db, &applied, &e));
	assert_int_equal(applied, 0);
}

typedef struct {
	db_t *db;
	bool ok;
	int applied;
	char detail[256];
} mig_job_t;

static void *migrate_worker(void *p)
{
	mig_job_t *j = p;
	err_t e;
	err_clear(&e);
	j->ok = db_migrate(j->db, &j->applied, &e);
	str_copy(j->detail, sizeof(j->detail), e.detail);
	return NULL;
}

static void test_migrate_concurrent_runs_apply_each_once(void **state)
{
	dbfix_t *f = dbfix(state);
	/* "Safe to run from several processes at once" — here several connections
	 * at once, each db_migrate opening its own. Tables already in place, as for
	 * a second `cosmiv serve` starting beside a first. */
	int v0;
	err_t e;
	assert_true(db_schema_version(f->db, &v0, &e));
	enum { N = 4 };
	pthread_t th[N];
	mig_job_t jobs[N];
	for (int i = 0; i < N; i++) {
		jobs[i] = (mig_job_t){.db = f->db};
		assert_int_equal(pthread_create(&th[i], NULL, migrate_worker, &jobs[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		if (!jobs[i].ok)
			fail_msg("concurrent db_migrate failed: %s", jobs[i].detail);
		total += jobs[i].applied;
	}
	assert_int_equal(total, db_migrations_count);
	assert_int_equal(version_of(f), db_migrations[db_migrations_count - 1].version);
}

/*
 * The same on a fresh database (no schema_migrations yet), as when two nodes
 * first start on an empty PostgreSQL database. Regression test: concurrent
 * CREATE TABLE IF NOT EXISTS is not race-free on PostgreSQL (42P07 / 42710 /
 * 23505 on pg_type), so ensure_table() must run under the advisory lock.
 * Several rounds make the race show reliably when it is there.
 */
static void test_migrate_concurrent_runs_on_fresh_database(void **state)
{
	dbfix_t *f = dbfix(state);
	enum { N = 4, ROUNDS = 8 };
	for (int round = 0; round < ROUNDS; round++) {
		err_t e;
		if (!db_exec(f->c,
			     "DROP TABLE IF EXISTS notifications; DROP TABLE IF EXISTS audit_log;"
			     "DROP TABLE IF EXISTS channel_reads; DROP TABLE IF EXISTS reactions;"
			     "DROP TABLE IF EXISTS messages; DROP TABLE IF EXISTS invites; DROP TABLE IF "
			     "EXISTS bans;"
			     "DROP TABLE IF EXISTS member_roles; DROP TABLE IF EXISTS members;"
			     "DROP TABLE IF EXISTS channel_overwrites; DROP TABLE IF EXISTS channels;"
			     "DROP TABLE IF EXISTS roles; DROP TABLE IF EXISTS communities;"
			     "DROP TABLE IF EXISTS feed_prefs;"
			     "DROP TABLE IF EXISTS creator_affinity; DROP TABLE IF EXISTS game_affinity;"
			     "DROP TABLE IF EXISTS post_hides; DROP TABLE IF EXISTS post_views;"
			     "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS shares; DROP TABLE IF "
			     "EXISTS likes;"
			     "DROP TABLE IF EXISTS blocks; DROP TABLE IF EXISTS follows; DROP TABLE IF "
			     "EXISTS posts;"
			     "DROP TABLE IF EXISTS clips; DROP TABLE IF EXISTS highlight_feedback;"
			     "DROP TABLE IF EXISTS highlights; DROP TABLE IF EXISTS videos;"
			     "DROP TABLE IF EXISTS uploads; DROP TABLE IF EXISTS jobs;"
			     "DROP TABLE IF EXISTS refresh_tokens; DROP TABLE IF EXISTS sessions;"
			     "DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS schema_migrations",
			     &e))
			fail_msg("reset: %s", e.detail);
		pthread_t th[N];
		mig_job_t jobs[N];
		for (int i = 0; i < N; i++) {
			jobs[i] = (mig_job_t){.db = f->db};
			assert_int_equal(pthread_create(&th[i], NULL, migrate_worker, &jobs[i]), 0);
		}
		int total = 0, failed = -1;
		for (int i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
			if (!jobs[i].ok)
				failed = i;
			total += jobs[i].applied;
		}
		if (failed >= 0)
			fail_msg("round %d: concurrent db_migrate on a fresh database failed: %s", round,
				 jobs[failed].detail);
		assert_int_equal(total, db_migrations_count);
	}
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    DB_TEST(test_migrate_fresh_database_is_version_0),
	    DB_TEST(test_migrate_applies_pending_once),
	    DB_TEST(test_migrate_records_name_and_time),
	    DB_TEST(test_migrate_applies_only_new_ones),
	    DB_TEST(test_migrate_failed_migration_is_rolled_back_syntax_error),
	    DB_TEST(test_migrate_failed_migration_is_rolled_back_runtime_error),
	    DB_TEST(test_migrate_stops_at_first_failure),
	    DB_TEST(test_migrate_embedded_migrations),
	    DB_TEST(test_migrate_concurrent_runs_apply_each_once),
	    DB_TEST(test_migrate_concurrent_runs_on_fresh_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
