/*
 * db_pg.c — PostgreSQL driver for db.h, on libpq.
 *
 * Statements are written with `?` placeholders and rewritten to `$1..$n`
 * once, then prepared on the connection under a generated name (PQprepare)
 * and cached by SQL text; every execution is PQexecPrepared with text-format
 * parameters, so values never touch the SQL text.
 *
 * A result set is fetched whole (PQexecPrepared) and stepped through in
 * memory: our queries are point lookups and bounded pages (LIMIT ≤ 100).
 *
 * When the connection breaks (server restart, network), the failing call
 * reports ERR_UNAVAILABLE, the driver resets the connection and forgets its
 * prepared statements, so the next request works again.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "db/db.h"

#define STMT_CACHE 128
#define MAX_PARAMS 64 /* the social module's batch lookups bind 52 */

typedef struct {
	db_stmt_t base;
	char *sql;     /* original SQL (cache key) */
	char name[16]; /* prepared statement name on this connection */
	bool prepared;
	bool in_use;
	bool cached;
	int nparams;
	char *params[MAX_PARAMS];
	PGresult *res;
	int row, nrows;
	int64_t changes;
} pg_stmt_t;

typedef struct {
	db_conn_t base;
	PGconn *h;
	pg_stmt_t *cache[STMT_CACHE];
	int ncache;
	unsigned next_name;
} pg_conn_t;

static void conn_check(pg_conn_t *c)
{
	if (PQstatus(c->h) == CONNECTION_OK)
		return;
	log_warn("postgres connection lost, resetting", NULL);
	PQreset(c->h);
	for (int i = 0; i < c->ncache; i++)
		c->cache[i]->prepared = false;
}

static bool pg_fail(pg_conn_t *c, PGresult *res, err_t *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->h);
	if (state && strcmp(state, "23505") == 0) {
		const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		return err_set(e, ERR_CONFLICT, "unique_violation", cons ? cons : "",
			       "a record with this value already exists");
	}
	if (state && str_has_prefix(state, "23"))
		return err_set(e, ERR_CONFLICT, "constraint_violation", NULL, "constraint violated");
	if (PQstatus(c->h) != CONNECTION_OK) {
		conn_check(c);
		return err_set(e, ERR_UNAVAILABLE, "db_unavailable", NULL, "database connection lost");
	}
	log_error("postgres error", "sqlstate", state ? state : "", "detail", msg ? msg : "", NULL);
	return err_set(e, ERR_INTERNAL, "db_error", NULL, "database error");
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static db_conn_t *pg_connect(db_t *db, err_t *e)
{
	PGconn *h = PQconnectdb(db->url);
	if (PQstatus(h) != CONNECTION_OK) {
		err_set(e, ERR_UNAVAILABLE, "db_unavailable", NULL, "cannot connect to %s: %s", db->desc,
			PQerrorMessage(h));
		PQfinish(h);
		return NULL;
	}
	PQsetNoticeProcessor(h, notice_quiet, NULL);
	pg_conn_t *c = xcalloc(1, sizeof(*c));
	c->h = h;
	return &c->base;
}

static void clear_params(pg_stmt_t *s)
{
	for (int i = 0; i < MAX_PARAMS; i++) {
		free(s->params[i]);
		s->params[i] = NULL;
	}
}

static void stmt_free(pg_stmt_t *s)
{
	/* An uncached statement was prepared on the server too: release it there. */
	if (!s->cached && s->prepared && s->base.conn) {
		char sql[40];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(((pg_conn_t *)s->base.conn)->h, sql));
	}
	clear_params(s);
	PQclear(s->res);
	free(s->sql);
	free(s);
}

static void pg_disconnect(db_conn_t *base)
{
	pg_conn_t *c = (pg_conn_t *)base;
	for (int i = 0; i < c->ncache; i++)
		stmt_free(c->cache[i]);
	PQfinish(c->h);
	free(c);
}

/* `?` → `$n`, leaving quoted strings and identifiers alone. */
static char *rewrite_placeholders(const char *sql, int *count)
{
	buf_t b;
	buf_init(&b);
	char quote = 0;
	int n = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			buf_putc(&b, *p);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			buf_putc(&b, *p);
		} else if (*p == '?') {
			buf_printf(&b, "$%d", ++n);
		} else {
			buf_putc(&b, *p);
		}
	}
	*count = n;
	return buf_steal(&b);
}

static bool ensure_prepared(pg_conn_t *c, pg_stmt_t *s, err_t *e)
{
	if (s->prepared)
		return true;
	int n = 0;
	char *sql = rewrite_placeholders(s->sql, &n);
	if (n > MAX_PARAMS) {
		free(sql);
		return err_set(e, ERR_INTERNAL, "db_error", NULL, "a statement has more than %d parameters",
			       MAX_PARAMS);
	}
	PGresult *r = PQprepare(c->h, s->name, sql, 0, NULL);
	free(sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		pg_fail(c, r, e);
	PQclear(r);
	s->nparams = n;
	s->prepared = ok;
	return ok;
}

static db_stmt_t *pg_prepare(db_conn_t *base, const char *sql, err_t *e)
{
	pg_conn_t *c = (pg_conn_t *)base;
	pg_stmt_t *s = NULL;
	for (int i = 0; i < c->ncache; i++) {
		if (!c->cache[i]->in_use && strcmp(c->cache[i]->sql, sql) == 0) {
			s = c->cache[i];
			break;
		}
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->sql = xstrdup(sql);
		snprintf(s->name, sizeof(s->name), "c%u", c->next_name++);
		if (c->ncache < STMT_CACHE) {
			s->cached = true;
			c->cache[c->ncache++] = s;
		}
	}
	if (!ensure_prepared(c, s, e)) {
		if (!s->cached)
			stmt_free(s);
		return NULL;
	}
	s->in_use = true;
	s->row = -1;
	s->nrows = 0;
	s->changes = 0;
	return &s->base;
}

static void set_param(pg_stmt_t *s, int idx, char *v)
{
	if (idx < 1 || idx > MAX_PARAMS) {
		free(v);
		return;
	}
	free(s->params[idx - 1]);
	s->params[idx - 1] = v;
}

static void pg_bind_i64(db_stmt_t *b, int idx, int64_t v)
{
	set_param((pg_stmt_t *)b, idx, xasprintf("%lld", (long long)v));
}

static void pg_bind_text(db_stmt_t *b, int idx, const char *v)
{
	set_param((pg_stmt_t *)b, idx, xstrdup(v));
}

static void pg_bind_null(db_stmt_t *b, int idx)
{
	set_param((pg_stmt_t *)b, idx, NULL);
}

static int pg_step(db_stmt_t *b, err_t *e)
{
	pg_stmt_t *s = (pg_stmt_t *)b;
	pg_conn_t *c = (pg_conn_t *)b->conn;
	if (!s->res) {
		s->res =
		    PQexecPrepared(c->h, s->name, s->nparams, (const char *const *)s->params, NULL, NULL, 0);
		ExecStatusType st = PQresultStatus(s->res);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			pg_fail(c, s->res, e);
			PQclear(s->res);
			s->res = NULL;
			return DB_ERROR;
		}
		int64_t changes = 0;
		parse_i64(PQcmdTuples(s->res), &changes);
		s->changes = changes;
		s->nrows = st == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
		s->row = -1;
	}
	if (s->row + 1 < s->nrows) {
		s->row++;
		return DB_ROW;
	}
	return DB_DONE;
}

static int pg_col_count(db_stmt_t *b)
{
	pg_stmt_t *s = (pg_stmt_t *)b;
	return s->res ? PQnfields(s->res) : 0;
}

static bool pg_col_is_null(db_stmt_t *b, int col)
{
	pg_stmt_t *s = (pg_stmt_t *)b;
	return !s->res || s->row < 0 || PQgetisnull(s->res, s->row, col);
}

static const char *pg_col_text(db_stmt_t *b, int col)
{
	pg_stmt_t *s = (pg_stmt_t *)b;
	if (pg_col_is_null(b, col))
		return NULL;
	return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_i64(db_stmt_t *b, int col)
{
	const char *v = pg_col_text(b, col);
	int64_t out = 0;
	if (!v)
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	parse_i64(v, &out);
	return out;
}

static int64_t pg_changes(db_stmt_t *b)
{
	return ((pg_stmt_t *)b)->changes;
}

static void pg_finish(db_stmt_t *b)
{
	pg_stmt_t *s = (pg_stmt_t *)b;
	PQclear(s->res);
	s->res = NULL;
	clear_params(s);
	s->in_use = false;
	if (!s->cached)
		stmt_free(s);
}

static bool pg_exec(db_conn_t *base, const char *sql, err_t *e)
{
	pg_conn_t *c = (pg_conn_t *)base;
	PGresult *r = PQexec(c->h, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		pg_fail(c, r, e);
	PQclear(r);
	return ok;
}

const db_driver_t db_pg_driver = {
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .prepare = pg_prepare,
    .bind_i64 = pg_bind_i64,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_count = pg_col_count,
    .col_is_null = pg_col_is_null,
    .col_i64 = pg_col_i64,
    .col_text = pg_col_text,
    .changes = pg_changes,
    .finish = pg_finish,
    .exec = pg_exec,
    .begin_sql = "BEGIN",
};
