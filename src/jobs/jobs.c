/*
 * jobs.c — queue operations. See jobs.h for the state machine.
 */
#include "jobs/jobs.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/util.h"

#define JOB_COLS                                                                                             \
	"id, kind, payload, owner_id, state, priority, attempts, max_attempts, progress, message,"           \
	" error, timings, created_at, updated_at, finished_at, run_at"

static void copy(db_stmt_t *s, int col, char *dst, size_t n)
{
	const char *v = db_col_text(s, col);
	str_copy(dst, n, v ? v : "");
}

static void read_job(db_stmt_t *s, job_t *j)
{
	memset(j, 0, sizeof(*j));
	j->id = db_col_i64(s, 0);
	copy(s, 1, j->kind, sizeof(j->kind));
	const char *p = db_col_text(s, 2);
	j->payload = xstrdup(p ? p : "{}");
	j->owner_id = db_col_i64(s, 3);
	copy(s, 4, j->state, sizeof(j->state));
	j->priority = (int)db_col_i64(s, 5);
	j->attempts = (int)db_col_i64(s, 6);
	j->max_attempts = (int)db_col_i64(s, 7);
	j->progress = (int)db_col_i64(s, 8);
	copy(s, 9, j->message, sizeof(j->message));
	copy(s, 10, j->error, sizeof(j->error));
	copy(s, 11, j->timings, sizeof(j->timings));
	j->created_at = db_col_i64(s, 12);
	j->updated_at = db_col_i64(s, 13);
	j->finished_at = db_col_i64(s, 14);
	j->run_at = db_col_i64(s, 15);
}

void jobs_job_cleanup(job_t *j)
{
	free(j->payload);
	j->payload = NULL;
}

int64_t jobs_backoff_ms(int attempts)
{
	int64_t base = 1000LL << (attempts < 12 ? attempts : 12);
	if (base > 3600000)
		base = 3600000;
	int64_t jitter = (int64_t)randombytes_uniform((uint32_t)(base / 2 + 1)) - base / 4;
	return base + jitter;
}

bool jobs_get(db_conn_t *c, int64_t id, job_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_job(s, out);
	db_finish(s);
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, "job_not_found", NULL, "no such job");
	return rc == DB_ROW;
}

static bool find_unique(db_conn_t *c, const char *key, int64_t *id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT id FROM jobs WHERE unique_key = ?", e);
	if (!s)
		return false;
	db_bind_text(s, 1, key);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		*id = db_col_i64(s, 0);
	db_finish(s);
	return rc == DB_ROW;
}

bool jobs_enqueue(db_conn_t *c, const job_spec_t *spec, int64_t *id, err_t *e)
{
	if (spec->unique_key && find_unique(c, spec->unique_key, id, e))
		return true;
	int64_t now = time_now_ms();
	int64_t jid = id_new();
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO jobs (id, kind, payload, owner_id, state, priority, max_attempts,"
		       " run_at, unique_key, created_at, updated_at)"
		       " VALUES (?, ?, ?, ?, 'available', ?, ?, ?, ?, ?, ?)",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, jid);
	db_bind_text(s, 2, spec->kind);
	db_bind_text(s, 3, spec->payload ? spec->payload : "{}");
	if (spec->owner_id)
		db_bind_i64(s, 4, spec->owner_id);
	else
		db_bind_null(s, 4);
	db_bind_i64(s, 5, spec->priority);
	db_bind_i64(s, 6, spec->max_attempts > 0 ? spec->max_attempts : 3);
	db_bind_i64(s, 7, now);
	db_bind_text(s, 8, spec->unique_key);
	db_bind_i64(s, 9, now);
	db_bind_i64(s, 10, now);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc == DB_ERROR) {
		/* lost a race on the unique key: the other enqueue's job is ours too */
		if (e->kind == ERR_CONFLICT && spec->unique_key && find_unique(c, spec->unique_key, id, e))
			return true;
		return false;
	}
	*id = jid;
	jobs_notify(c);
	return true;
}

/*
 * Runnable: available or retryable and due, or running with an expired lease
 * (its worker died). Jobs whose attempts are used up are discarded on claim.
 */
#define RUNNABLE                                                                                             \
	"((state IN ('available', 'retryable') AND run_at <= ?) OR (state = 'running' AND lease_until < ?))"

static bool discard_exhausted(db_conn_t *c, int64_t now, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "UPDATE jobs SET state = 'discarded', finished_at = ?, updated_at = ?,"
				  " error = coalesce(error, 'the worker running it stopped (lease expired)')"
				  " WHERE state = 'running' AND lease_until < ? AND attempts >= max_attempts",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, now);
	db_bind_i64(s, 2, now);
	db_bind_i64(s, 3, now);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

bool jobs_claim(db_conn_t *c, const char *worker, int lease_s, job_t *out, bool *got, err_t *e)
{
	*got = false;
	int64_t now = time_now_ms();
	if (!db_begin(c, e))
		return false;
	if (!discard_exhausted(c, now, e))
		goto fail;
	db_stmt_t *s;
	if (db_is_postgres(c->db)) {
		s = db_prepare(c,
			       "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?,"
			       " lease_until = ?, updated_at = ?, error = NULL WHERE id = ("
			       " SELECT id FROM jobs WHERE " RUNNABLE
			       " ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
			       " RETURNING " JOB_COLS,
			       e);
	} else {
		s = db_prepare(c,
			       "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?,"
			       " lease_until = ?, updated_at = ?, error = NULL WHERE id = ("
			       " SELECT id FROM jobs WHERE " RUNNABLE
			       " ORDER BY priority DESC, run_at, id LIMIT 1)"
			       " RETURNING " JOB_COLS,
			       e);
	}
	if (!s)
		goto fail;
	db_bind_text(s, 1, worker);
	db_bind_i64(s, 2, now + (int64_t)lease_s * 1000);
	db_bind_i64(s, 3, now);
	db_bind_i64(s, 4, now);
	db_bind_i64(s, 5, now);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		read_job(s, out);
		*got = true;
		while (rc == DB_ROW)
			rc = db_step(s, e);
	}
	db_finish(s);
	if (rc == DB_ERROR || !db_commit(c, e)) {
		if (*got)
			jobs_job_cleanup(out);
		*got = false;
		goto fail;
	}
	return true;
fail:
	db_rollback(c);
	return false;
}

static bool owned_update(db_stmt_t *s, err_t *e)
{
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (n == 0)
		return err_set(e, ERR_CONFLICT, "lease_lost", NULL,
			       "the job is no longer held by this worker");
	return true;
}

bool jobs_heartbeat(db_conn_t *c, int64_t id, const char *worker, int lease_s, int progress,
		    const char *message, err_t *e)
{
	int64_t now = time_now_ms();
	db_stmt_t *s = db_prepare(c,
				  "UPDATE jobs SET lease_until = ?, progress = ?, message = ?, updated_at = ?"
				  " WHERE id = ? AND worker = ? AND state = 'running'",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, now + (int64_t)lease_s * 1000);
	db_bind_i64(s, 2, progress < 0 ? 0 : progress > 100 ? 100 : progress);
	db_bind_text(s, 3, message);
	db_bind_i64(s, 4, now);
	db_bind_i64(s, 5, id);
	db_bind_text(s, 6, worker);
	return owned_update(s, e);
}

bool jobs_complete(db_conn_t *c, int64_t id, const char *worker, const char *timings_json, err_t *e)
{
	int64_t now = time_now_ms();
	db_stmt_t *s = db_prepare(c,
				  "UPDATE jobs SET state = 'completed', progress = 100, finished_at = ?,"
				  " updated_at = ?, lease_until = NULL, timings = ?"
				  " WHERE id = ? AND worker = ? AND state = 'running'",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, now);
	db_bind_i64(s, 2, now);
	db_bind_text(s, 3, timings_json);
	db_bind_i64(s, 4, id);
	db_bind_text(s, 5, worker);
	return owned_update(s, e);
}

bool jobs_fail(db_conn_t *c, int64_t id, const char *worker, const char *error, bool permanent,
	       const char *timings_json, err_t *e)
{
	job_t j;
	if (!jobs_get(c, id, &j, e))
		return false;
	bool dead = permanent || j.attempts >= j.max_attempts;
	jobs_job_cleanup(&j);
	int64_t now = time_now_ms();
	db_stmt_t *s = db_prepare(c,
				  "UPDATE jobs SET state = ?, error = ?, run_at = ?, updated_at = ?,"
				  " finished_at = ?, lease_until = NULL, timings = ?"
				  " WHERE id = ? AND worker = ? AND state = 'running'",
				  e);
	if (!s)
		return false;
	db_bind_text(s, 1, dead ? "discarded" : "retryable");
	db_bind_text(s, 2, error);
	db_bind_i64(s, 3, now + (dead ? 0 : jobs_backoff_ms(j.attempts)));
	db_bind_i64(s, 4, now);
	if (dead)
		db_bind_i64(s, 5, now);
	else
		db_bind_null(s, 5);
	db_bind_text(s, 6, timings_json);
	db_bind_i64(s, 7, id);
	db_bind_text(s, 8, worker);
	return owned_update(s, e);
}

static void read_job_row(db_stmt_t *s, void *elem)
{
	read_job(s, elem);
}

static void job_elem_cleanup(void *elem)
{
	jobs_job_cleanup(elem);
}

bool jobs_list_dead(db_conn_t *c, int64_t before, int limit, job_t **out, int *count, int64_t *next, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "SELECT " JOB_COLS " FROM jobs WHERE state = 'discarded' AND id < ?"
				  " ORDER BY id DESC LIMIT ?",
				  e);
	if (!s)
		return false;
	return db_page(s, 1, before, limit, sizeof(job_t), offsetof(job_t, id), read_job_row,
		       job_elem_cleanup, (void **)out, count, next, e);
}

bool jobs_retry(db_conn_t *c, int64_t id, err_t *e)
{
	int64_t now = time_now_ms();
	db_stmt_t *s =
	    db_prepare(c,
		       "UPDATE jobs SET state = 'available', attempts = 0, run_at = ?, updated_at = ?,"
		       " finished_at = NULL, error = NULL, progress = 0 WHERE id = ? AND state = 'discarded'",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, now);
	db_bind_i64(s, 2, now);
	db_bind_i64(s, 3, id);
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "job_not_found", NULL, "no dead job with this id");
	jobs_notify(c);
	return true;
}
