/*
 * Unit tests for src/db (db.c, db_sqlite.c, db_pg.c): the engine-independent
 * interface, run against SQLite and, when COSMIV_TEST_PG_URL is set,
 * PostgreSQL.
 */
#define DBFIX_SCHEMA "cosmiv_unit_db"
#include "dbfix.h"

#include <pthread.h>

static const char *DDL = "CREATE TABLE t_items ("
			 " id BIGINT PRIMARY KEY,"
			 " name TEXT NOT NULL,"
			 " note TEXT,"
			 " qty BIGINT NOT NULL DEFAULT 0 CHECK (qty >= 0))";

static void create_items(dbfix_t *f)
{
	err_t e;
	if (!db_exec(f->c, DDL, &e))
		fail_msg("DDL failed: %s", e.detail);
}

static void insert_item(dbfix_t *f, int64_t id, const char *name, const char *note, int64_t qty)
{
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "INSERT INTO t_items (id, name, note, qty) VALUES (?, ?, ?, ?)", &e);
	assert_non_null(s);
	db_bind_i64(s, 1, id);
	db_bind_text(s, 2, name);
	db_bind_text(s, 3, note);
	db_bind_i64(s, 4, qty);
	int rc = db_step(s, &e);
	if (rc != DB_DONE)
		fail_msg("insert failed: %s %s", e.code, e.detail);
	assert_int_equal(db_changes(s), 1);
	db_finish(s);
}

static int64_t count_items(db_conn_t *c)
{
	int64_t n = -1;
	err_t e;
	assert_true(db_query_i64(c, "SELECT count(*) FROM t_items", &n, &e, 0));
	return n;
}

/* ==== Opening ==== */

static void test_db_open_and_describe(void **state)
{
	dbfix_t *f = dbfix(state);
	const char *d = db_describe(f->db);
	if (f->pg) {
		assert_true(db_is_postgres(f->db));
		assert_true(str_has_prefix(d, "postgres://"));
		assert_null(strchr(d, '@')); /* no user or password in a log line */
		assert_null(strchr(d, '?'));
	} else {
		assert_false(db_is_postgres(f->db));
		char *want = xasprintf("sqlite:%s/cosmiv.db", f->dir);
		assert_string_equal(d, want);
		free(want);
	}
}

static void test_db_open_sqlite_url_forms(void **state)
{
	(void)state;
	char dir[32];
	tmpdir_make(dir);
	err_t e;
	char *path = xasprintf("%s/other.db", dir);
	db_t *db = db_open(path, "/ignored", &e);
	assert_non_null(db);
	char *want = xasprintf("sqlite:%s", path);
	assert_string_equal(db_describe(db), want);
	db_close(db);
	free(want);
	char *url = xasprintf("sqlite:%s", path);
	db = db_open(url, "", &e);
	assert_non_null(db);
	assert_string_equal(db_describe(db), url); /* "sqlite:" prefix stripped, then re-added */
	assert_int_equal(access(path, F_OK), 0);
	db_close(db);
	free(url);
	free(path);
	tmpdir_remove(dir);
}

static void test_db_open_fails_cleanly(void **state)
{
	(void)state;
	err_t e;
	err_clear(&e);
	assert_null(db_open("/nonexistent-cosmiv-dir/sub/x.db", "", &e));
	assert_err(&e, ERR_UNAVAILABLE, "db_unavailable");
	err_clear(&e);
	assert_null(db_open("", "/nonexistent-cosmiv-dir", &e));
	assert_err(&e, ERR_UNAVAILABLE, "db_unavailable");
	/* PostgreSQL: nothing listens on port 1; the message must not leak the password. */
	err_clear(&e);
	assert_null(db_open("postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2", "", &e));
	assert_err(&e, ERR_UNAVAILABLE, "db_unavailable");
	assert_null(strstr(e.detail, "hunter2"));
	db_close(NULL); /* no-op */
}

/* ==== Statements ==== */

static void test_db_exec_prepare_bind_step_columns(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	insert_item(f, 1, "apple", "red", 3);
	insert_item(f, 2, "banana", NULL, 0);
	insert_item(f, INT64_MAX, "max", "big \xc3\xa9 \xf0\x9f\x98\x80 'quoted' ?", 9);
	err_t e;
	db_stmt_t *s =
	    db_prepare(f->c, "SELECT id, name, note, qty FROM t_items WHERE id >= ? ORDER BY id", &e);
	assert_non_null(s);
	db_bind_i64(s, 1, 1);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_int_equal(db_col_count(s), 4);
	assert_int_equal(db_col_i64(s, 0), 1);
	assert_string_equal(db_col_text(s, 1), "apple");
	assert_string_equal(db_col_text(s, 2), "red");
	assert_false(db_col_is_null(s, 2));
	assert_int_equal(db_col_i64(s, 3), 3);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_int_equal(db_col_i64(s, 0), 2);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_true(db_col_i64(s, 0) == INT64_MAX);
	assert_string_equal(db_col_text(s, 2), "big \xc3\xa9 \xf0\x9f\x98\x80 'quoted' ?");
	assert_int_equal(db_step(s, &e), DB_DONE);
	db_finish(s);
}

static void test_db_null_handling(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	insert_item(f, 1, "a", NULL, 0); /* db_bind_text(NULL) binds NULL */
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "UPDATE t_items SET note = ? WHERE id = ?", &e);
	assert_non_null(s);
	db_bind_null(s, 1);
	db_bind_i64(s, 2, 1);
	assert_int_equal(db_step(s, &e), DB_DONE);
	db_finish(s);
	s = db_prepare(f->c, "SELECT note, name FROM t_items WHERE id = 1", &e);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_true(db_col_is_null(s, 0));
	assert_null(db_col_text(s, 0));
	assert_int_equal(db_col_i64(s, 0), 0);
	assert_false(db_col_is_null(s, 1));
	db_finish(s);
	/* NULL = NULL is not true: a NULL parameter matches nothing. */
	s = db_prepare(f->c, "SELECT count(*) FROM t_items WHERE note = ?", &e);
	db_bind_text(s, 1, NULL);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_int_equal(db_col_i64(s, 0), 0);
	db_finish(s);
	/* Empty string is not NULL. */
	s = db_prepare(f->c, "UPDATE t_items SET note = ? WHERE id = 1", &e);
	db_bind_text(s, 1, "");
	assert_int_equal(db_step(s, &e), DB_DONE);
	db_finish(s);
	s = db_prepare(f->c, "SELECT note FROM t_items WHERE id = 1", &e);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_false(db_col_is_null(s, 0));
	assert_string_equal(db_col_text(s, 0), "");
	db_finish(s);
}

static void test_db_changes_counts_affected_rows(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	for (int i = 1; i <= 5; i++)
		insert_item(f, i, "n", NULL, i);
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "UPDATE t_items SET note = 'x' WHERE qty <= ?", &e);
	db_bind_i64(s, 1, 2);
	assert_int_equal(db_step(s, &e), DB_DONE);
	assert_int_equal(db_changes(s), 2);
	db_finish(s);
	s = db_prepare(f->c, "DELETE FROM t_items WHERE id = ?", &e);
	db_bind_i64(s, 1, 999);
	assert_int_equal(db_step(s, &e), DB_DONE);
	assert_int_equal(db_changes(s), 0);
	db_finish(s);
	/* The cached statement starts from 0 again. */
	s = db_prepare(f->c, "DELETE FROM t_items WHERE id = ?", &e);
	assert_int_equal(db_changes(s), 0);
	db_bind_i64(s, 1, 5);
	assert_int_equal(db_step(s, &e), DB_DONE);
	assert_int_equal(db_changes(s), 1);
	db_finish(s);
	s = db_prepare(f->c, "DELETE FROM t_items", &e);
	assert_int_equal(db_step(s, &e), DB_DONE);
	assert_int_equal(db_changes(s), 4);
	db_finish(s);
}

static void test_db_unique_violation_is_conflict(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	err_t e;
	assert_true(db_exec(f->c, "CREATE UNIQUE INDEX t_items_name_key ON t_items (lower(name))", &e));
	insert_item(f, 1, "Alice", NULL, 0);
	db_stmt_t *s = db_prepare(f->c, "INSERT INTO t_items (id, name) VALUES (?, ?)", &e);
	db_bind_i64(s, 1, 2);
	db_bind_text(s, 2, "ALICE");
	err_clear(&e);
	assert_int_equal(db_step(s, &e), DB_ERROR);
	db_finish(s);
	assert_err(&e, ERR_CONFLICT, "unique_violation");
	assert_non_null(strstr(e.field, "t_items_name_key"));
	assert_null(strstr(e.detail, "ALICE")); /* the engine's message stays in the log */
	/* Primary key. */
	s = db_prepare(f->c, "INSERT INTO t_items (id, name) VALUES (?, ?)", &e);
	db_bind_i64(s, 1, 1);
	db_bind_text(s, 2, "bob");
	err_clear(&e);
	assert_int_equal(db_step(s, &e), DB_ERROR);
	db_finish(s);
	assert_err(&e, ERR_CONFLICT, "unique_violation");
	assert_true(e.field[0] != '\0');
	/* The connection is still usable and nothing was written. */
	assert_int_equal(count_items(f->c), 1);
	/* Through db_exec too. */
	err_clear(&e);
	assert_false(db_exec(f->c, "INSERT INTO t_items (id, name) VALUES (3, 'alice')", &e));
	assert_err(&e, ERR_CONFLICT, "unique_violation");
}

static void test_db_other_constraints_are_constraint_violation(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	err_t e;
	err_clear(&e);
	assert_false(db_exec(f->c, "INSERT INTO t_items (id, name, qty) VALUES (1, 'x', -1)", &e));
	assert_err(&e, ERR_CONFLICT, "constraint_violation");
	db_stmt_t *s = db_prepare(f->c, "INSERT INTO t_items (id, name) VALUES (?, ?)", &e);
	db_bind_i64(s, 1, 1);
	db_bind_null(s, 2);
	err_clear(&e);
	assert_int_equal(db_step(s, &e), DB_ERROR);
	db_finish(s);
	assert_err(&e, ERR_CONFLICT, "constraint_violation");
	assert_int_equal(count_items(f->c), 0);
}

static void test_db_sql_errors_are_internal(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	err_clear(&e);
	assert_null(db_prepare(f->c, "SELEC 1", &e));
	assert_err(&e, ERR_INTERNAL, "db_error");
	err_clear(&e);
	assert_null(db_prepare(f->c, "SELECT * FROM no_such_table", &e));
	assert_err(&e, ERR_INTERNAL, "db_error");
	err_clear(&e);
	assert_false(db_exec(f->c, "CREATE TABLE (", &e));
	assert_err(&e, ERR_INTERNAL, "db_error");
	/* Failed prepares are not cached: the same text fails again, valid SQL still works. */
	assert_null(db_prepare(f->c, "SELEC 1", &e));
	int64_t v = 0;
	assert_true(db_query_i64(f->c, "SELECT 41 + 1", &v, &e, 0));
	assert_int_equal(v, 42);
}

static void test_db_exec_runs_several_statements(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	assert_true(
	    db_exec(f->c,
		    "CREATE TABLE t_a (x BIGINT); INSERT INTO t_a VALUES (1); INSERT INTO t_a VALUES (2);"
		    "CREATE TABLE t_b (y TEXT)",
		    &e));
	int64_t n = 0;
	assert_true(db_query_i64(f->c, "SELECT sum(x) FROM t_a", &n, &e, 0));
	assert_int_equal(n, 3);
	assert_true(dbfix_table_exists(f, "t_b"));
	assert_false(dbfix_table_exists(f, "t_c"));
}

/* ==== Transactions ==== */

static void test_db_transaction_commit(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	err_t e;
	db_conn_t *other = db_connect(f->db, &e);
	assert_non_null(other);
	assert_true(db_begin(f->c, &e));
	insert_item(f, 1, "a", NULL, 0);
	insert_item(f, 2, "b", NULL, 0);
	assert_int_equal(count_items(f->c), 2);
	assert_int_equal(count_items(other), 0); /* not visible before commit */
	assert_true(db_commit(f->c, &e));
	assert_int_equal(count_items(other), 2);
	db_disconnect(other);
}

static void test_db_transaction_rollback(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	insert_item(f, 1, "kept", NULL, 0);
	err_t e;
	assert_true(db_begin(f->c, &e));
	insert_item(f, 2, "gone", NULL, 0);
	err_t e2;
	assert_true(db_exec(f->c, "UPDATE t_items SET note = 'changed'", &e2));
	db_rollback(f->c);
	assert_int_equal(count_items(f->c), 1);
	db_stmt_t *s = db_prepare(f->c, "SELECT note FROM t_items WHERE id = 1", &e);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_true(db_col_is_null(s, 0));
	db_finish(s);
	/* Rollback without a transaction is harmless (logged, not fatal). */
	db_rollback(f->c);
	/* A transaction can follow. */
	assert_true(db_begin(f->c, &e));
	insert_item(f, 3, "later", NULL, 0);
	assert_true(db_commit(f->c, &e));
	assert_int_equal(count_items(f->c), 2);
}

static void test_db_rollback_after_error_in_transaction(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	err_t e;
	assert_true(db_begin(f->c, &e));
	insert_item(f, 1, "a", NULL, 0);
	assert_false(db_exec(f->c, "INSERT INTO t_items (id, name) VALUES (1, 'dup')", &e));
	assert_err(&e, ERR_CONFLICT, "unique_violation");
	db_rollback(f->c);
	assert_int_equal(count_items(f->c), 0);
}

/* ==== Statement cache ==== */

static void test_db_statement_cache_reuses_after_finish(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	insert_item(f, 1, "one", NULL, 0);
	insert_item(f, 2, "two", NULL, 0);
	const char *sql = "SELECT name FROM t_items WHERE id = ?";
	err_t e;
	db_stmt_t *a = db_prepare(f->c, sql, &e);
	db_bind_i64(a, 1, 1);
	assert_int_equal(db_step(a, &e), DB_ROW);
	assert_string_equal(db_col_text(a, 0), "one");
	db_finish(a);
	db_stmt_t *b = db_prepare(f->c, sql, &e);
	assert_ptr_equal(a, b); /* same cached statement */
	/* Bindings do not survive db_finish: an unbound parameter is NULL. */
	assert_int_equal(db_step(b, &e), DB_DONE);
	db_finish(b);
	b = db_prepare(f->c, sql, &e);
	db_bind_i64(b, 1, 2);
	assert_int_equal(db_step(b, &e), DB_ROW);
	assert_string_equal(db_col_text(b, 0), "two");
	db_finish(b);
	/* A statement finished mid-result starts over next time. */
	b = db_prepare(f->c, "SELECT id FROM t_items ORDER BY id", &e);
	assert_int_equal(db_step(b, &e), DB_ROW);
	assert_int_equal(db_col_i64(b, 0), 1);
	db_finish(b);
	b = db_prepare(f->c, "SELECT id FROM t_items ORDER BY id", &e);
	assert_int_equal(db_step(b, &e), DB_ROW);
	assert_int_equal(db_col_i64(b, 0), 1);
	db_finish(b);
}

static void test_db_statement_cache_nested_same_sql(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	for (int i = 1; i <= 3; i++)
		insert_item(f, i, i == 1 ? "one" : i == 2 ? "two" : "three", NULL, i * 10);
	const char *sql = "SELECT id, name, qty FROM t_items WHERE id >= ? ORDER BY id";
	err_t e;
	db_stmt_t *outer = db_prepare(f->c, sql, &e);
	db_bind_i64(outer, 1, 1);
	assert_int_equal(db_step(outer, &e), DB_ROW);
	assert_int_equal(db_col_i64(outer, 0), 1);

	db_stmt_t *inner = db_prepare(f->c, sql, &e); /* same text while the first is open */
	assert_non_null(inner);
	assert_ptr_not_equal(inner, outer);
	db_bind_i64(inner, 1, 3);
	assert_int_equal(db_step(inner, &e), DB_ROW);
	assert_int_equal(db_col_i64(inner, 0), 3);
	assert_string_equal(db_col_text(inner, 1), "three");
	/* The outer row is untouched by the inner statement. */
	assert_int_equal(db_col_i64(outer, 0), 1);
	assert_string_equal(db_col_text(outer, 1), "one");
	assert_int_equal(db_step(inner, &e), DB_DONE);
	db_finish(inner);

	assert_int_equal(db_step(outer, &e), DB_ROW);
	assert_int_equal(db_col_i64(outer, 0), 2);
	assert_int_equal(db_col_i64(outer, 2), 20);
	assert_int_equal(db_step(outer, &e), DB_ROW);
	assert_int_equal(db_step(outer, &e), DB_DONE);
	db_finish(outer);

	/* Both copies are reusable afterwards, nested again. */
	db_stmt_t *x = db_prepare(f->c, sql, &e);
	db_stmt_t *y = db_prepare(f->c, sql, &e);
	assert_ptr_not_equal(x, y);
	db_bind_i64(x, 1, 2);
	db_bind_i64(y, 1, 1);
	assert_int_equal(db_step(x, &e), DB_ROW);
	assert_int_equal(db_step(y, &e), DB_ROW);
	assert_int_equal(db_col_i64(x, 0), 2);
	assert_int_equal(db_col_i64(y, 0), 1);
	db_finish(y);
	db_finish(x);
}

static void test_db_many_distinct_statements_beyond_cache(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	/* More distinct texts than either engine caches: the extra ones are freed on finish. */
	for (int i = 0; i < 300; i++) {
		char *sql = xasprintf("SELECT %d + ?", i);
		int64_t v = 0;
		assert_true(db_query_i64(f->c, sql, &v, &e, 1, (int64_t)1));
		assert_int_equal(v, i + 1);
		free(sql);
	}
	/* Deeply nested same text: 5 open at once. */
	db_stmt_t *s[5];
	for (int i = 0; i < 5; i++) {
		s[i] = db_prepare(f->c, "SELECT ? * 2", &e);
		assert_non_null(s[i]);
		db_bind_i64(s[i], 1, i);
		assert_int_equal(db_step(s[i], &e), DB_ROW);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(db_col_i64(s[i], 0), i * 2);
	for (int i = 4; i >= 0; i--)
		db_finish(s[i]);
}

/* ==== Helpers ==== */

static void test_db_query_i64(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	insert_item(f, 10, "a", NULL, 5);
	insert_item(f, 20, "b", NULL, 7);
	err_t e;
	int64_t v = -1;
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM t_items", &v, &e, 0));
	assert_int_equal(v, 2);
	assert_true(db_query_i64(f->c, "SELECT qty FROM t_items WHERE id = ? AND qty < ?", &v, &e, 2,
				 (int64_t)20, (int64_t)100));
	assert_int_equal(v, 7);
	assert_true(db_query_i64(f->c, "SELECT id + ? FROM t_items WHERE id = ?", &v, &e, 2,
				 (int64_t)INT64_MAX - 10, (int64_t)10));
	assert_true(v == INT64_MAX);
	v = 99;
	err_clear(&e);
	assert_false(db_query_i64(f->c, "SELECT qty FROM t_items WHERE id = ?", &v, &e, 1, (int64_t)11));
	assert_err(&e, ERR_NOT_FOUND, "not_found");
	assert_int_equal(v, 99);
	err_clear(&e);
	assert_false(db_query_i64(f->c, "SELECT nope FROM t_items", &v, &e, 0));
	assert_err(&e, ERR_INTERNAL, "db_error");
	/* A boolean result reads as 0/1 on both engines. */
	assert_true(db_query_i64(f->c, "SELECT 1 = 1", &v, &e, 0));
	assert_int_equal(v, 1);
	assert_true(db_query_i64(f->c, "SELECT 1 = 2", &v, &e, 0));
	assert_int_equal(v, 0);
}

static void test_db_question_mark_inside_quotes_is_not_a_parameter(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "SELECT '?', ?, 'it''s ?', \"x?\" FROM (SELECT 1 AS \"x?\") t", &e);
	assert_non_null(s);
	db_bind_text(s, 1, "value");
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_string_equal(db_col_text(s, 0), "?");
	assert_string_equal(db_col_text(s, 1), "value");
	assert_string_equal(db_col_text(s, 2), "it's ?");
	assert_int_equal(db_col_i64(s, 3), 1);
	db_finish(s);
}

static void test_db_values_never_spliced_into_sql(void **state)
{
	dbfix_t *f = dbfix(state);
	create_items(f);
	const char *evil = "x'); DROP TABLE t_items; --";
	insert_item(f, 1, evil, "?", 0);
	err_t e;
	db_stmt_t *s = db_prepare(f->c, "SELECT name, note FROM t_items WHERE name = ?", &e);
	db_bind_text(s, 1, evil);
	assert_int_equal(db_step(s, &e), DB_ROW);
	assert_string_equal(db_col_text(s, 0), evil);
	assert_string_equal(db_col_text(s, 1), "?");
	db_finish(s);
	assert_true(dbfix_table_exists(f, "t_items"));
}

static void *thread_conn_worker(void *p)
{
	db_t *db = p;
	err_t e;
	db_conn_t *c = db_thread_conn(db, &e);
	int64_t v = 0;
	bool ok = c && c == db_thread_conn(db, &e) && db_query_i64(c, "SELECT 7", &v, &e, 0) && v == 7;
	return ok ? p : NULL; /* the connection is closed at thread exit */
}

static void test_db_thread_conn_is_per_thread(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	db_conn_t *a = db_thread_conn(f->db, &e);
	assert_non_null(a);
	assert_ptr_equal(db_thread_conn(f->db, &e), a);
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_conn_worker, f->db), 0);
	for (int i = 0; i < 3; i++) {
		void *r = NULL;
		pthread_join(th[i], &r);
		assert_ptr_equal(r, f->db);
	}
	db_thread_conn_drop(f->db);
	db_conn_t *b = db_thread_conn(f->db, &e);
	assert_non_null(b);
	int64_t v = 0;
	assert_true(db_query_i64(b, "SELECT 1", &v, &e, 0));
	/* db_close drops the calling thread's connection. */
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    DB_TEST(test_db_open_and_describe),
	    cmocka_unit_test(test_db_open_sqlite_url_forms),
	    cmocka_unit_test(test_db_open_fails_cleanly),
	    DB_TEST(test_db_exec_prepare_bind_step_columns),
	    DB_TEST(test_db_null_handling),
	    DB_TEST(test_db_changes_counts_affected_rows),
	    DB_TEST(test_db_unique_violation_is_conflict),
	    DB_TEST(test_db_other_constraints_are_constraint_violation),
	    DB_TEST(test_db_sql_errors_are_internal),
	    DB_TEST(test_db_exec_runs_several_statements),
	    DB_TEST(test_db_transaction_commit),
	    DB_TEST(test_db_transaction_rollback),
	    DB_TEST(test_db_rollback_after_error_in_transaction),
	    DB_TEST(test_db_statement_cache_reuses_after_finish),
	    DB_TEST(test_db_statement_cache_nested_same_sql),
	    DB_TEST(test_db_many_distinct_statements_beyond_cache),
	    DB_TEST(test_db_query_i64),
	    DB_TEST(test_db_question_mark_inside_quotes_is_not_a_parameter),
	    DB_TEST(test_db_values_never_spliced_into_sql),
	    DB_TEST(test_db_thread_conn_is_per_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
