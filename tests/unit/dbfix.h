/*
 * dbfix.h — a fresh database per test case, on SQLite and on PostgreSQL.
 *
 * SQLite: a new file in a private /tmp directory. PostgreSQL (only when
 * COSMIV_TEST_PG_URL is set; otherwise those cases skip()): a private schema
 * DBFIX_SCHEMA, dropped and re-created around each case, reached with
 * search_path so the code under test sees an empty database.
 *
 * Register a case for both engines with DB_TEST(fn).
 */
#ifndef COSMIV_TEST_DBFIX_H
#define COSMIV_TEST_DBFIX_H

#include "unit.h"

#include "core/log.h"
#include "db/db.h"

#ifndef DBFIX_SCHEMA
#define DBFIX_SCHEMA "cosmiv_unit"
#endif

typedef struct {
	bool pg;
	char dir[32];
	char *url;
	db_t *db;
	db_conn_t *c;
} dbfix_t;

static inline bool dbfix_pg_exec_admin(const char *sql)
{
	err_t e;
	db_t *admin = db_open(unit_pg_url(), "", &e);
	if (!admin) {
		fprintf(stderr, "dbfix: cannot open %s: %s\n", unit_pg_url(), e.detail);
		return false;
	}
	db_conn_t *c = db_connect(admin, &e);
	bool ok = c && db_exec(c, sql, &e);
	if (!ok)
		fprintf(stderr, "dbfix: %s: %s\n", sql, e.detail);
	db_disconnect(c);
	db_close(admin);
	return ok;
}

static inline int dbfix_setup_sqlite(void **state)
{
	dbfix_t *f = xcalloc(1, sizeof(*f));
	*state = f;
	tmpdir_make(f->dir);
	err_t e;
	f->db = db_open("", f->dir, &e);
	if (!f->db) {
		fprintf(stderr, "dbfix: %s\n", e.detail);
		return -1;
	}
	f->c = db_connect(f->db, &e);
	return f->c ? 0 : -1;
}

static inline int dbfix_setup_pg(void **state)
{
	dbfix_t *f = xcalloc(1, sizeof(*f));
	*state = f;
	f->pg = true;
	if (!unit_pg_url())
		return 0; /* the case will skip() */
	if (!dbfix_pg_exec_admin("DROP SCHEMA IF EXISTS " DBFIX_SCHEMA
				 " CASCADE; CREATE SCHEMA " DBFIX_SCHEMA))
		return -1;
	f->url = unit_pg_schema_url(DBFIX_SCHEMA);
	err_t e;
	f->db = db_open(f->url, "", &e);
	if (!f->db) {
		fprintf(stderr, "dbfix: %s\n", e.detail);
		return -1;
	}
	f->c = db_connect(f->db, &e);
	return f->c ? 0 : -1;
}

static inline int dbfix_teardown(void **state)
{
	dbfix_t *f = *state;
	if (!f)
		return 0;
	db_disconnect(f->c);
	db_close(f->db);
	if (f->pg && f->url)
		dbfix_pg_exec_admin("DROP SCHEMA IF EXISTS " DBFIX_SCHEMA " CASCADE");
	if (!f->pg)
		tmpdir_remove(f->dir);
	free(f->url);
	free(f);
	*state = NULL;
	return 0;
}

/* The fixture of this case; skips the case when its engine is not configured. */
static inline dbfix_t *dbfix(void **state)
{
	dbfix_t *f = *state;
	if (!f || !f->db)
		skip();
	return f;
}

static inline bool dbfix_table_exists(dbfix_t *f, const char *table)
{
	char *sql =
	    f->pg
		? xasprintf("SELECT count(*) FROM information_schema.tables WHERE "
			    "table_schema = current_schema() AND table_name = '%s'",
			    table)
		: xasprintf("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", table);
	int64_t n = -1;
	err_t e;
	bool ok = db_query_i64(f->c, sql, &n, &e, 0);
	free(sql);
	assert_true(ok);
	return n > 0;
}

#define DB_TEST(fn)                                                                                          \
	{"sqlite_" #fn, fn, dbfix_setup_sqlite, dbfix_teardown, NULL},                                       \
	{                                                                                                    \
		"pg_" #fn, fn, dbfix_setup_pg, dbfix_teardown, NULL                                          \
	}

#endif
