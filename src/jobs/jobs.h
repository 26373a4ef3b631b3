/*
 * jobs.h — the durable job queue, in the same database as everything else.
 *
 * States: available → running → completed
 *                             ↘ retryable (attempts left; runs again at run_at,
 *                               after exponential backoff with jitter)
 *                             ↘ discarded (no attempts left, or a permanent
 *                               failure such as a broken input file)
 * A running job holds a lease (lease_until) that its worker extends with
 * heartbeats. When a worker dies, the lease runs out and another worker claims
 * the job again; that claim counts as an attempt.
 *
 * Claiming is one transaction: on PostgreSQL an UPDATE over a
 * `SELECT … FOR UPDATE SKIP LOCKED` subquery (workers never wait on each
 * other), on SQLite a BEGIN IMMEDIATE transaction (one writer at a time).
 * New jobs wake idle workers: in-process with a condition variable, across
 * processes with PostgreSQL LISTEN/NOTIFY (see worker.c).
 *
 * unique_key makes enqueueing idempotent: a second enqueue with the same key
 * returns the existing job's id.
 */
#ifndef COSMIV_JOBS_H
#define COSMIV_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

#define JOBS_NOTIFY_CHANNEL "cosmiv_jobs"

typedef struct {
	int64_t id;
	char kind[32];
	char *payload; /* JSON text, heap (jobs_job_cleanup) */
	int64_t owner_id;
	char state[16];
	int priority;
	int attempts;
	int max_attempts;
	int progress;
	char message[128];
	char error[512];
	char timings[512]; /* JSON object text, "" when none */
	int64_t created_at, updated_at, finished_at, run_at;
} job_t;

typedef struct {
	const char *kind;
	const char *payload;
	int64_t owner_id;
	const char *unique_key; /* NULL: none */
	int priority;		/* higher runs first */
	int max_attempts;	/* 0: 3 */
} job_spec_t;

bool jobs_enqueue(db_conn_t *c, const job_spec_t *spec, int64_t *id, err_t *e);
/* Claims the next runnable job for worker. *got false when there is none. */
bool jobs_claim(db_conn_t *c, const char *worker, int lease_s, job_t *out, bool *got, err_t *e);
/* Extends the lease and records progress. ERR_CONFLICT when the lease was lost. */
bool jobs_heartbeat(db_conn_t *c, int64_t id, const char *worker, int lease_s, int progress,
		    const char *message, err_t *e);
bool jobs_complete(db_conn_t *c, int64_t id, const char *worker, const char *timings_json, err_t *e);
/* permanent: discard at once; else retry with backoff while attempts remain. */
bool jobs_fail(db_conn_t *c, int64_t id, const char *worker, const char *error, bool permanent,
	       const char *timings_json, err_t *e);
bool jobs_get(db_conn_t *c, int64_t id, job_t *out, err_t *e);
/* Dead jobs (state discarded), newest first, below cursor `before` (0: top). Heap array. */
bool jobs_list_dead(db_conn_t *c, int64_t before, int limit, job_t **out, int *count, int64_t *next,
		    err_t *e);
/* A discarded job back to available with a fresh attempt budget. */
bool jobs_retry(db_conn_t *c, int64_t id, err_t *e);
void jobs_job_cleanup(job_t *j);
/* Backoff before attempt n+1 (ms): 2^n seconds, capped at 1 h, ± 25 % jitter. */
int64_t jobs_backoff_ms(int attempts);

/* ==== Workers (worker.c) ==== */

typedef struct jobs_ctx jobs_ctx_t;
/* A handler returns true on success; on failure it fills e and sets *permanent
 * when retrying cannot help (bad input). */
typedef bool (*jobs_handler_fn)(jobs_ctx_t *ctx, const job_t *job, bool *permanent, err_t *e);

void jobs_register(const char *kind, jobs_handler_fn fn);
/* Starts n worker threads on db. */
bool jobs_start(db_t *db, int n, err_t *e);
/* Stops claiming, waits for running handlers, joins the threads. */
void jobs_stop(void);
/* Wake idle workers of this process (after an enqueue). */
void jobs_notify(db_conn_t *c);

/* For handlers: progress (extends the lease), per-stage timings, the db. */
void jobs_progress(jobs_ctx_t *ctx, int percent, const char *message);
void jobs_timing(jobs_ctx_t *ctx, const char *stage, double ms);
db_conn_t *jobs_conn(jobs_ctx_t *ctx);
/* Observer of progress, e.g. the gateway pushing it to the owner (may be NULL). */
typedef void (*jobs_progress_observer_fn)(int64_t job_id, int64_t owner_id, int percent, const char *msg);
void jobs_set_observer(jobs_progress_observer_fn fn);

#endif
