/*
 * db_sqlite.c — SQLite driver for db.h.
 *
 * Every connection runs in WAL mode (readers never block the writer), with a
 * busy timeout so concurrent writers — other server threads, or `cosmiv admin`
 * running beside the server — wait instead of failing, foreign keys on, and
 * synchronous=FULL so an acknowledged commit survives kill -9 and power loss.
 *
 * Prepared statements are cached per connection keyed by SQL text; a cached
 * statement that is still in use (a nested query of the same text) gets a
 * fresh uncached one instead.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "db/db.h"

#define STMT_CACHE 64

typedef struct {
	db_stmt_t base;
	sqlite3_stmt *st;
	const char *sql; /* cache key (borrowed: statements are string literals or cached copies) */
	char *owned_sql;
	bool in_use;
	bool cached;
	int64_t changes;
} sq_stmt_t;

typedef struct {
	db_conn_t base;
	sqlite3 *h;
	sq_stmt_t *cache[STMT_CACHE];
	int ncache;
} sq_conn_t;

static bool sq_fail(sqlite3 *h, int rc, err_t *e)
{
	int ext = h ? sqlite3_extended_errcode(h) : rc;
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
		/* "UNIQUE constraint failed: users.email" or "... index 'name'" */
		const char *what = strstr(msg, "failed: ");
		return err_set(e, ERR_CONFLICT, "unique_violation", what ? what + 8 : "",
			       "a record with this value already exists");
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return err_set(e, ERR_CONFLICT, "constraint_violation", NULL, "%s", msg);
	if ((rc & 0xff) == SQLITE_BUSY)
		return err_set(e, ERR_UNAVAILABLE, "db_busy", NULL, "the database is busy, try again");
	log_error("sqlite error", "detail", msg, NULL);
	return err_set(e, ERR_INTERNAL, "db_error", NULL, "database error");
}

/*
 * Before SQLite initialises: no memory statistics. With them on (the library's
 * default) every allocation SQLite makes takes one process-wide mutex, and the
 * server's threads, each on its own connection, queue on it.
 */
static void sq_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static db_conn_t *sq_connect(db_t *db, err_t *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_configure);
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(db->url, &h,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_UNAVAILABLE, "db_unavailable", NULL, "cannot open %s: %s", db->url,
			h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return NULL;
	}
	sqlite3_busy_timeout(h, 10000);
	char *msg = NULL;
	rc = sqlite3_exec(h,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
			  /* reads through the OS page cache, shared by every connection, instead of
			   * pread() into each connection's small private cache */
			  "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=4294967296; PRAGMA cache_size=-16384;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_UNAVAILABLE, "db_unavailable", NULL, "cannot configure %s: %s", db->url,
			msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(h);
		return NULL;
	}
	sq_conn_t *c = xcalloc(1, sizeof(*c));
	c->h = h;
	return &c->base;
}

static void stmt_free(sq_stmt_t *s)
{
	sqlite3_finalize(s->st);
	free(s->owned_sql);
	free(s);
}

static void sq_disconnect(db_conn_t *base)
{
	sq_conn_t *c = (sq_conn_t *)base;
	for (int i = 0; i < c->ncache; i++)
		stmt_free(c->cache[i]);
	sqlite3_close_v2(c->h);
	free(c);
}

static db_stmt_t *sq_prepare(db_conn_t *base, const char *sql, err_t *e)
{
	sq_conn_t *c = (sq_conn_t *)base;
	for (int i = 0; i < c->ncache; i++) {
		sq_stmt_t *s = c->cache[i];
		if (!s->in_use && strcmp(s->sql, sql) == 0) {
			s->in_use = true;
			s->changes = 0;
			return &s->base;
		}
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(c->h, rc, e);
		return NULL;
	}
	sq_stmt_t *s = xcalloc(1, sizeof(*s));
	s->st = st;
	s->owned_sql = xstrdup(sql);
	s->sql = s->owned_sql;
	s->in_use = true;
	if (c->ncache < STMT_CACHE) {
		s->cached = true;
		c->cache[c->ncache++] = s;
	}
	return &s->base;
}

static void sq_bind_i64(db_stmt_t *b, int idx, int64_t v)
{
	sqlite3_bind_int64(((sq_stmt_t *)b)->st, idx, v);
}

static void sq_bind_text(db_stmt_t *b, int idx, const char *v)
{
	sqlite3_bind_text(((sq_stmt_t *)b)->st, idx, v, -1, SQLITE_TRANSIENT);
}

static void sq_bind_null(db_stmt_t *b, int idx)
{
	sqlite3_bind_null(((sq_stmt_t *)b)->st, idx);
}

static int sq_step(db_stmt_t *b, err_t *e)
{
	sq_stmt_t *s = (sq_stmt_t *)b;
	sq_conn_t *c = (sq_conn_t *)b->conn;
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		s->changes = sqlite3_changes64(c->h);
		return DB_DONE;
	}
	sq_fail(c->h, rc, e);
	return DB_ERROR;
}

static int sq_col_count(db_stmt_t *b)
{
	return sqlite3_column_count(((sq_stmt_t *)b)->st);
}

static bool sq_col_is_null(db_stmt_t *b, int col)
{
	return sqlite3_column_type(((sq_stmt_t *)b)->st, col) == SQLITE_NULL;
}

static int64_t sq_col_i64(db_stmt_t *b, int col)
{
	return sqlite3_column_int64(((sq_stmt_t *)b)->st, col);
}

static const char *sq_col_text(db_stmt_t *b, int col)
{
	return (const char *)sqlite3_column_text(((sq_stmt_t *)b)->st, col);
}

static int64_t sq_changes(db_stmt_t *b)
{
	return ((sq_stmt_t *)b)->changes;
}

static void sq_finish(db_stmt_t *b)
{
	sq_stmt_t *s = (sq_stmt_t *)b;
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->in_use = false;
	if (!s->cached)
		stmt_free(s);
}

static bool sq_exec(db_conn_t *base, const char *sql, err_t *e)
{
	sq_conn_t *c = (sq_conn_t *)base;
	char *msg = NULL;
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return sq_fail(c->h, rc, e);
	return true;
}

const db_driver_t db_sqlite_driver = {
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .prepare = sq_prepare,
    .bind_i64 = sq_bind_i64,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_count = sq_col_count,
    .col_is_null = sq_col_is_null,
    .col_i64 = sq_col_i64,
    .col_text = sq_col_text,
    .changes = sq_changes,
    .finish = sq_finish,
    .exec = sq_exec,
    .begin_sql = "BEGIN IMMEDIATE",
};
