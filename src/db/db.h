/*
 * db.h — the one database interface, over SQLite and PostgreSQL.
 *
 * Design
 *   db_t       a configured database (a URL or an SQLite path). Thread-safe.
 *   db_conn_t  one connection; used by one thread at a time. Server threads
 *              get theirs from db_thread_conn(), which opens it lazily and
 *              closes it when the thread exits (a connection per thread, as
 *              SQLite wants and as libpq is happiest with).
 *   db_stmt_t  a prepared statement. SQL is written once, with `?`
 *              placeholders, in the subset both engines share; the PostgreSQL
 *              driver rewrites `?` to `$n`. Statements are cached per
 *              connection by SQL text, so a hot query is parsed once per
 *              connection. There is no API that splices values into SQL:
 *              every value goes through db_bind_*.
 *
 * Usage
 *     db_stmt_t *st = db_prepare(c, "SELECT id FROM users WHERE username = ?", &e);
 *     db_bind_text(st, 1, name);
 *     int rc = db_step(st, &e);   // DB_ROW, DB_DONE or DB_ERROR
 *     ... db_col_i64(st, 0) ...
 *     db_finish(st);              // always; returns the statement to the cache
 *
 * Ownership: text returned by db_col_text is valid until the next db_step or
 * db_finish on that statement. db_prepare'd statements belong to the
 * connection; db_finish hands them back.
 *
 * Errors: a unique-constraint violation is ERR_CONFLICT with code
 * "unique_violation" and `field` set to the constraint or index name; any
 * other failure is ERR_INTERNAL with the engine's message in the log (not in
 * the detail, which clients may see).
 */
#ifndef COSMIV_DB_H
#define COSMIV_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct db db_t;
typedef struct db_conn db_conn_t;
typedef struct db_stmt db_stmt_t;

enum { DB_ERROR = -1, DB_DONE = 0, DB_ROW = 1 };

/* url: "" or a path → SQLite file (data_dir/cosmiv.db when empty); postgres://… → PostgreSQL.
 * Opens and checks one connection. */
db_t *db_open(const char *url, const char *data_dir, err_t *e);
void db_close(db_t *db);
bool db_is_postgres(const db_t *db);
/* A short human description without credentials ("sqlite:/path" or "postgres://host:port/db"). */
const char *db_describe(const db_t *db);
/* The connection URL or SQLite path, credentials included (never log it). */
const char *db_url(const db_t *db);

db_conn_t *db_connect(db_t *db, err_t *e);
void db_disconnect(db_conn_t *c);
/* The calling thread's connection (opened on first use, closed at thread exit). */
db_conn_t *db_thread_conn(db_t *db, err_t *e);
/* Forget the calling thread's connection (after a fatal connection error). */
void db_thread_conn_drop(db_t *db);

db_stmt_t *db_prepare(db_conn_t *c, const char *sql, err_t *e);
void db_bind_i64(db_stmt_t *s, int idx, int64_t v);
void db_bind_text(db_stmt_t *s, int idx, const char *v); /* NULL binds NULL */
void db_bind_null(db_stmt_t *s, int idx);
int db_step(db_stmt_t *s, err_t *e);
int db_col_count(db_stmt_t *s);
bool db_col_is_null(db_stmt_t *s, int col);
int64_t db_col_i64(db_stmt_t *s, int col);
const char *db_col_text(db_stmt_t *s, int col); /* NULL for SQL NULL */
/* Rows changed by the last INSERT/UPDATE/DELETE stepped to DB_DONE. */
int64_t db_changes(db_stmt_t *s);
void db_finish(db_stmt_t *s);

/* Runs SQL without parameters (may hold several statements): migrations, DDL. */
bool db_exec(db_conn_t *c, const char *sql, err_t *e);
/* BEGIN (IMMEDIATE on SQLite: take the write lock up front, no upgrade deadlocks). */
bool db_begin(db_conn_t *c, err_t *e);
bool db_commit(db_conn_t *c, err_t *e);
void db_rollback(db_conn_t *c);
/*
 * A span of SELECTs that only read. On SQLite they share one read transaction
 * (and one consistent snapshot): on its own each statement begins and ends one,
 * and each begin and end takes the lock on the shared-memory index that every
 * connection of the process shares. On PostgreSQL nothing (a round trip each).
 * Nothing may write in between. db_read_end closes it.
 */
bool db_read_begin(db_conn_t *c, err_t *e);
void db_read_end(db_conn_t *c);

/* One-shot helpers for the common cases. */
/* SELECT returning one integer: true with *out set, or false + ERR_NOT_FOUND when no row. */
bool db_query_i64(db_conn_t *c, const char *sql, int64_t *out, err_t *e, int nparams, ...);

/*
 * Keyset pagination, the one way lists are read (never OFFSET). The
 * statement orders by id descending and ends with `id < ? … LIMIT ?`: its
 * parameters `first` and `first + 1` are bound here from before (0: from the
 * top) and limit + 1 (one more row tells whether a next page exists). Each
 * row becomes one element of elem_size bytes via read_row; id_offset is
 * offsetof(element, id). cleanup (may be NULL) releases an element's heap
 * parts. Finishes the statement. *items is a heap array the caller frees;
 * *next is the cursor of the next page, 0 when this is the last.
 */
bool db_page(db_stmt_t *s, int first, int64_t before, int limit, size_t elem_size, size_t id_offset,
	     void (*read_row)(db_stmt_t *s, void *elem), void (*cleanup)(void *elem), void **items,
	     int *count, int64_t *next, err_t *e);

/* ==== Migrations (migrate.c) ==== */

typedef struct {
	int version;
	const char *name;
	const char *sql;
} db_migration_t;

/* The migrations compiled into the binary, ordered by version. */
extern const db_migration_t db_migrations[];
extern const int db_migrations_count;

/* Applies pending migrations in order, each in its own transaction. Safe to
 * run from several processes at once. *applied counts what this call applied. */
bool db_migrate(db_t *db, int *applied, err_t *e);
/* The same over an explicit list (tests). */
bool db_migrate_list(db_t *db, const db_migration_t *list, int count, int *applied, err_t *e);
/* Highest applied version (0 when none). */
bool db_schema_version(db_t *db, int *version, err_t *e);

/* ==== Driver vtable (internal to src/db) ==== */

typedef struct db_driver {
	db_conn_t *(*connect)(db_t *db, err_t *e);
	void (*disconnect)(db_conn_t *c);
	db_stmt_t *(*prepare)(db_conn_t *c, const char *sql, err_t *e);
	void (*bind_i64)(db_stmt_t *s, int idx, int64_t v);
	void (*bind_text)(db_stmt_t *s, int idx, const char *v);
	void (*bind_null)(db_stmt_t *s, int idx);
	int (*step)(db_stmt_t *s, err_t *e);
	int (*col_count)(db_stmt_t *s);
	bool (*col_is_null)(db_stmt_t *s, int col);
	int64_t (*col_i64)(db_stmt_t *s, int col);
	const char *(*col_text)(db_stmt_t *s, int col);
	int64_t (*changes)(db_stmt_t *s);
	void (*finish)(db_stmt_t *s);
	bool (*exec)(db_conn_t *c, const char *sql, err_t *e);
	const char *begin_sql;
} db_driver_t;

extern const db_driver_t db_sqlite_driver;
extern const db_driver_t db_pg_driver;

struct db {
	const db_driver_t *drv;
	char *url; /* SQLite path or PostgreSQL conninfo URL */
	char *desc;
	bool postgres;
	pthread_key_t key; /* the calling thread's connection */
};

/* Every connection starts with this header so db.c can reach the driver. */
struct db_conn {
	db_t *db;
};

struct db_stmt {
	db_conn_t *conn;
};

#endif
