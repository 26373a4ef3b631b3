/*
 * migrate.c — schema migrations.
 *
 * Migrations are the numbered files in src/db/migrations (NNN_name.sql),
 * compiled into the binary (build/gen/migrations.c, made by tools/embed.c),
 * so a deployed binary carries exactly the schema it was built for.
 *
 * Each pending migration runs in its own transaction together with the row
 * that records it in schema_migrations: it is applied entirely or not at all
 * (both engines have transactional DDL), and never twice. Several processes
 * may migrate at once (`cosmiv serve` and `cosmiv migrate` on one database):
 * PostgreSQL serialises them with an advisory lock, SQLite with its write
 * lock (BEGIN IMMEDIATE); whoever comes second sees the version recorded and
 * skips it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "db/db.h"

#define MIGRATION_LOCK_KEY "727001"

static bool ensure_table(db_conn_t *c, err_t *e)
{
	/* CREATE TABLE IF NOT EXISTS is not race-free on PostgreSQL (two creators
	 * collide on the catalog's unique index), so it runs under the lock too. */
	if (!db_begin(c, e))
		return false;
	if ((c->db->postgres && !db_exec(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", e)) ||
	    !db_exec(c,
		     "CREATE TABLE IF NOT EXISTS schema_migrations ("
		     " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
		     e)) {
		db_rollback(c);
		return false;
	}
	return db_commit(c, e);
}

static bool is_applied(db_conn_t *c, int version, bool *applied, err_t *e)
{
	int64_t n = 0;
	if (!db_query_i64(c, "SELECT count(*) FROM schema_migrations WHERE version = ?", &n, e, 1,
			  (int64_t)version))
		return false;
	*applied = n > 0;
	return true;
}

static bool apply_one(db_conn_t *c, const db_migration_t *m, bool *did, err_t *e)
{
	bool applied = false;
	*did = false;
	if (!db_begin(c, e))
		return false;
	if (c->db->postgres && !db_exec(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", e))
		goto fail;
	if (!is_applied(c, m->version, &applied, e))
		goto fail;
	if (applied) {
		db_rollback(c);
		return true;
	}
	/* SQLite: an INTEGER PRIMARY KEY is the table's rowid, so a row is found by id in one B-tree
	 * descent instead of two (index, then table) and time-ordered ids keep rows in insertion
	 * order. Both are 64-bit there; PostgreSQL keeps BIGINT. */
	char *sql = c->db->postgres ? xstrdup(m->sql)
				    : str_replace_all(m->sql, "BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY");
	bool ran = db_exec(c, sql, e);
	free(sql);
	if (!ran) {
		log_error("migration failed", "name", m->name, "detail", e->detail, NULL);
		goto fail;
	}
	db_stmt_t *s =
	    db_prepare(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, m->version);
	db_bind_text(s, 2, m->name);
	db_bind_i64(s, 3, time_now_ms());
	int rc = db_step(s, e);
	db_finish(s);
	if (rc == DB_ERROR || !db_commit(c, e))
		goto fail;
	*did = true;
	log_info("migration applied", "name", m->name, NULL);
	return true;
fail:
	db_rollback(c);
	return false;
}

bool db_migrate_list(db_t *db, const db_migration_t *list, int count, int *applied, err_t *e)
{
	*applied = 0;
	db_conn_t *c = db_connect(db, e);
	if (!c)
		return false;
	bool ok = ensure_table(c, e);
	for (int i = 0; ok && i < count; i++) {
		bool did = false;
		ok = apply_one(c, &list[i], &did, e);
		if (!ok) {
			char detail[sizeof(e->detail)];
			str_copy(detail, sizeof(detail), e->detail);
			err_set(e, ERR_INTERNAL, "migration_failed", NULL, "migration %s failed: %s",
				list[i].name, detail);
		}
		if (did)
			(*applied)++;
	}
	db_disconnect(c);
	return ok;
}

bool db_migrate(db_t *db, int *applied, err_t *e)
{
	return db_migrate_list(db, db_migrations, db_migrations_count, applied, e);
}

bool db_schema_version(db_t *db, int *version, err_t *e)
{
	db_conn_t *c = db_connect(db, e);
	if (!c)
		return false;
	int64_t v = 0;
	bool ok = ensure_table(c, e) &&
		  db_query_i64(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", &v, e, 0);
	db_disconnect(c);
	*version = (int)v;
	return ok;
}
