/*
 * db.c — engine-independent part of the db interface: opening a database,
 * per-thread connections, dispatch to the driver, one-shot helpers.
 */
#include "db/db.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

static void thread_conn_release(void *p)
{
	db_disconnect(p);
}

static char *describe_pg(const char *url)
{
	/* Drop "user:password@" so credentials never reach a log line. */
	const char *scheme_end = strstr(url, "://");
	if (!scheme_end)
		return xstrdup("postgres");
	const char *rest = scheme_end + 3;
	const char *at = strchr(rest, '@');
	const char *slash = strchr(rest, '/');
	if (at && (!slash || at < slash))
		rest = at + 1;
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	return xasprintf("postgres://%.*s", (int)n, rest);
}

db_t *db_open(const char *url, const char *data_dir, err_t *e)
{
	db_t *db = xcalloc(1, sizeof(*db));
	if (str_has_prefix(url, "postgres://") || str_has_prefix(url, "postgresql://")) {
		db->drv = &db_pg_driver;
		db->postgres = true;
		db->url = xstrdup(url);
		db->desc = describe_pg(url);
	} else {
		db->drv = &db_sqlite_driver;
		if (url[0])
			db->url = xstrdup(str_has_prefix(url, "sqlite:") ? url + 7 : url);
		else
			db->url = xasprintf("%s/cosmiv.db", data_dir);
		db->desc = xasprintf("sqlite:%s", db->url);
	}
	if (pthread_key_create(&db->key, thread_conn_release) != 0) {
		free(db->url);
		free(db->desc);
		free(db);
		err_set(e, ERR_INTERNAL, "db_error", NULL, "cannot create a thread key");
		return NULL;
	}
	db_conn_t *c = db_connect(db, e);
	if (!c) {
		db_close(db);
		return NULL;
	}
	db_disconnect(c);
	return db;
}

void db_close(db_t *db)
{
	if (!db)
		return;
	db_thread_conn_drop(db);
	pthread_key_delete(db->key);
	free(db->url);
	free(db->desc);
	free(db);
}

bool db_is_postgres(const db_t *db)
{
	return db->postgres;
}

const char *db_url(const db_t *db)
{
	return db->url;
}

const char *db_describe(const db_t *db)
{
	return db->desc;
}

db_conn_t *db_connect(db_t *db, err_t *e)
{
	db_conn_t *c = db->drv->connect(db, e);
	if (c)
		c->db = db;
	return c;
}

void db_disconnect(db_conn_t *c)
{
	if (c)
		c->db->drv->disconnect(c);
}

db_conn_t *db_thread_conn(db_t *db, err_t *e)
{
	db_conn_t *c = pthread_getspecific(db->key);
	if (c)
		return c;
	c = db_connect(db, e);
	if (c)
		pthread_setspecific(db->key, c);
	return c;
}

void db_thread_conn_drop(db_t *db)
{
	db_conn_t *c = pthread_getspecific(db->key);
	if (c) {
		pthread_setspecific(db->key, NULL);
		db_disconnect(c);
	}
}

db_stmt_t *db_prepare(db_conn_t *c, const char *sql, err_t *e)
{
	db_stmt_t *s = c->db->drv->prepare(c, sql, e);
	if (s)
		s->conn = c;
	return s;
}

void db_bind_i64(db_stmt_t *s, int idx, int64_t v)
{
	s->conn->db->drv->bind_i64(s, idx, v);
}

void db_bind_text(db_stmt_t *s, int idx, const char *v)
{
	if (v)
		s->conn->db->drv->bind_text(s, idx, v);
	else
		s->conn->db->drv->bind_null(s, idx);
}

void db_bind_null(db_stmt_t *s, int idx)
{
	s->conn->db->drv->bind_null(s, idx);
}

int db_step(db_stmt_t *s, err_t *e)
{
	return s->conn->db->drv->step(s, e);
}

int db_col_count(db_stmt_t *s)
{
	return s->conn->db->drv->col_count(s);
}

bool db_col_is_null(db_stmt_t *s, int col)
{
	return s->conn->db->drv->col_is_null(s, col);
}

int64_t db_col_i64(db_stmt_t *s, int col)
{
	return s->conn->db->drv->col_i64(s, col);
}

const char *db_col_text(db_stmt_t *s, int col)
{
	return s->conn->db->drv->col_text(s, col);
}

int64_t db_changes(db_stmt_t *s)
{
	return s->conn->db->drv->changes(s);
}

void db_finish(db_stmt_t *s)
{
	if (s)
		s->conn->db->drv->finish(s);
}

bool db_exec(db_conn_t *c, const char *sql, err_t *e)
{
	return c->db->drv->exec(c, sql, e);
}

bool db_begin(db_conn_t *c, err_t *e)
{
	return db_exec(c, c->db->drv->begin_sql, e);
}

bool db_commit(db_conn_t *c, err_t *e)
{
	return db_exec(c, "COMMIT", e);
}

bool db_read_begin(db_conn_t *c, err_t *e)
{
	return c->db->postgres || db_exec(c, "BEGIN DEFERRED", e);
}

void db_read_end(db_conn_t *c)
{
	err_t e;
	if (!c->db->postgres && !db_exec(c, "COMMIT", &e))
		log_warn("ending a read transaction failed", "detail", e.detail, NULL);
}

void db_rollback(db_conn_t *c)
{
	err_t e;
	if (!db_exec(c, "ROLLBACK", &e))
		log_warn("rollback failed", "detail", e.detail, NULL);
}

bool db_page(db_stmt_t *s, int first, int64_t before, int limit, size_t elem_size, size_t id_offset,
	     void (*read_row)(db_stmt_t *s, void *elem), void (*cleanup)(void *elem), void **items,
	     int *count, int64_t *next, err_t *e)
{
	*items = NULL;
	*count = 0;
	*next = 0;
	if (limit < 1) {
		db_finish(s);
		return err_set(e, ERR_INVALID, "invalid_limit", "limit", "limit must be at least 1");
	}
	db_bind_i64(s, first, before > 0 ? before : INT64_MAX);
	db_bind_i64(s, first + 1, limit + 1);
	char *arr = xcalloc((size_t)limit + 1, elem_size);
	int n = 0, rc;
	while (n <= limit && (rc = db_step(s, e)) == DB_ROW)
		read_row(s, arr + (size_t)n++ * elem_size);
	if (n > limit)
		rc = DB_DONE;
	db_finish(s);
	if (rc == DB_ERROR) {
		for (int i = 0; cleanup && i < n; i++)
			cleanup(arr + (size_t)i * elem_size);
		free(arr);
		return false;
	}
	if (n > limit) {
		if (cleanup)
			cleanup(arr + (size_t)limit * elem_size);
		n = limit;
		memcpy(next, arr + (size_t)(n - 1) * elem_size + id_offset, sizeof(*next));
	}
	*items = arr;
	*count = n;
	return true;
}

bool db_query_i64(db_conn_t *c, const char *sql, int64_t *out, err_t *e, int nparams, ...)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	va_list ap;
	va_start(ap, nparams);
	for (int i = 1; i <= nparams; i++)
		db_bind_i64(s, i, va_arg(ap, int64_t));
	va_end(ap);
	int rc = db_step(s, e);
	bool ok = false;
	if (rc == DB_ROW) {
		*out = db_col_i64(s, 0);
		ok = true;
	} else if (rc == DB_DONE) {
		err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no row");
	}
	db_finish(s);
	return ok;
}
