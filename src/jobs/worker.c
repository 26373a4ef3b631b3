/*
 * worker.c — the worker pool that runs jobs.
 *
 * Each worker thread claims a job, runs its handler, and records the outcome.
 * While the handler runs, a heartbeat extends the lease; the handler also
 * reports progress (jobs_progress), which is written at most twice a second.
 *
 * Idle workers sleep on a condition variable, woken by jobs_notify (an
 * enqueue in this process) or, on PostgreSQL, by a NOTIFY on JOBS_NOTIFY_CHANNEL
 * from any process (one listener thread holds a LISTEN connection). A 2 s
 * poll is the backstop for retries coming due and leases running out.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/util.h"
#include "jobs/jobs.h"

#define POLL_MS	    2000
#define MAX_KINDS   16
#define MAX_WORKERS 32

struct jobs_ctx {
	db_conn_t *conn;
	const job_t *job;
	char worker[64];
	json_t *timings;
	uint64_t last_beat_ns;
	bool lease_lost;
};

static struct {
	const char *kind;
	jobs_handler_fn fn;
} handlers[MAX_KINDS];
static int nhandlers;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static unsigned wake_seq;
static bool stopping;
static pthread_t threads[MAX_WORKERS];
static int nthreads;
static pthread_t listener;
static bool have_listener;
static db_t *the_db;
static jobs_progress_observer_fn observer;

static int lease_s(void)
{
	return config_get()->job_lease_s;
}

void jobs_register(const char *kind, jobs_handler_fn fn)
{
	if (nhandlers < MAX_KINDS) {
		handlers[nhandlers].kind = kind;
		handlers[nhandlers].fn = fn;
		nhandlers++;
	}
}

void jobs_set_observer(jobs_progress_observer_fn fn)
{
	observer = fn;
}

static void wake_all(void)
{
	pthread_mutex_lock(&mu);
	wake_seq++;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mu);
}

void jobs_notify(db_conn_t *c)
{
	wake_all();
	if (c && db_is_postgres(c->db)) {
		err_t e;
		db_exec(c, "NOTIFY " JOBS_NOTIFY_CHANNEL, &e);
	}
}

db_conn_t *jobs_conn(jobs_ctx_t *ctx)
{
	return ctx->conn;
}

void jobs_timing(jobs_ctx_t *ctx, const char *stage, double ms)
{
	json_object_set_new(ctx->timings, stage, json_real((double)(int64_t)(ms * 10) / 10.0));
}

void jobs_progress(jobs_ctx_t *ctx, int percent, const char *message)
{
	uint64_t now = time_mono_ns();
	if (now - ctx->last_beat_ns < 500000000ull && percent < 100)
		return;
	ctx->last_beat_ns = now;
	err_t e;
	if (!jobs_heartbeat(ctx->conn, ctx->job->id, ctx->worker, lease_s(), percent, message, &e) &&
	    e.kind == ERR_CONFLICT)
		ctx->lease_lost = true;
	if (observer)
		observer(ctx->job->id, ctx->job->owner_id, percent, message);
}

static jobs_handler_fn find_handler(const char *kind)
{
	for (int i = 0; i < nhandlers; i++)
		if (strcmp(handlers[i].kind, kind) == 0)
			return handlers[i].fn;
	return NULL;
}

static void run_one(db_conn_t *c, const char *worker, job_t *job)
{
	/* last_beat_ns 0: the handler's first progress report goes out at once */
	jobs_ctx_t ctx = {.conn = c, .job = job, .timings = json_object(), .last_beat_ns = 0};
	str_copy(ctx.worker, sizeof(ctx.worker), worker);
	char jid[24];
	snprintf(jid, sizeof(jid), "%lld", (long long)job->id);
	log_info("job started", "job_id", jid, "kind", job->kind, NULL);
	jobs_handler_fn fn = find_handler(job->kind);
	err_t e;
	err_clear(&e);
	bool permanent = false;
	uint64_t t0 = time_mono_ns();
	bool ok = fn ? fn(&ctx, job, &permanent, &e)
		     : (permanent = true, err_set(&e, ERR_INVALID, "unknown_job", NULL,
						  "no handler for job kind %s", job->kind));
	jobs_timing(&ctx, "total", (double)(time_mono_ns() - t0) / 1e6);
	char *timings = jx_dump(ctx.timings);
	err_t e2;
	if (ok) {
		if (!jobs_complete(c, job->id, worker, timings, &e2))
			log_warn("job finished but could not be recorded", "job_id", jid, "detail", e2.detail,
				 NULL);
		else
			log_info("job completed", "job_id", jid, "kind", job->kind, NULL);
	} else {
		if (!jobs_fail(c, job->id, worker, e.detail, permanent, timings, &e2))
			log_warn("job failed and could not be recorded", "job_id", jid, "detail", e2.detail,
				 NULL);
		else
			log_warn("job failed", "job_id", jid, "kind", job->kind, "error", e.detail, NULL);
	}
	if (observer) {
		/* -1 only when the job is over; a failed attempt that will run again is progress 0 */
		bool retry = !ok && !permanent && job->attempts < job->max_attempts;
		char msg[600];
		if (retry)
			snprintf(msg, sizeof msg, "retrying: %s", e.detail);
		observer(job->id, job->owner_id,
			 ok	 ? 100
			 : retry ? 0
				 : -1,
			 ok	 ? "completed"
			 : retry ? msg
				 : e.detail);
	}
	free(timings);
	json_decref(ctx.timings);
}

static void *worker_main(void *arg)
{
	int index = (int)(intptr_t)arg;
	char worker[64], host[32] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(worker, sizeof(worker), "%s:%d:%d", host, (int)getpid(), index);
	for (;;) {
		pthread_mutex_lock(&mu);
		bool stop = stopping;
		unsigned seq = wake_seq;
		pthread_mutex_unlock(&mu);
		if (stop)
			break;
		err_t e;
		db_conn_t *c = db_thread_conn(the_db, &e);
		job_t job;
		bool got = false;
		if (c && jobs_claim(c, worker, lease_s(), &job, &got, &e) && got) {
			run_one(c, worker, &job);
			jobs_job_cleanup(&job);
			continue;
		}
		if (!c || e.kind == ERR_UNAVAILABLE)
			db_thread_conn_drop(the_db);
		/* nothing to do: sleep until notified or the poll interval passes */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += POLL_MS / 1000;
		pthread_mutex_lock(&mu);
		while (!stopping && wake_seq == seq)
			if (pthread_cond_timedwait(&wake, &mu, &ts) != 0)
				break;
		pthread_mutex_unlock(&mu);
	}
	db_thread_conn_drop(the_db);
	return NULL;
}

/* PostgreSQL: LISTEN on its own connection; any NOTIFY wakes this process's workers. */
static void *listener_main(void *arg)
{
	(void)arg;
	PGconn *pg = NULL;
	while (true) {
		pthread_mutex_lock(&mu);
		bool stop = stopping;
		pthread_mutex_unlock(&mu);
		if (stop)
			break;
		if (!pg || PQstatus(pg) != CONNECTION_OK) {
			if (pg)
				PQfinish(pg);
			pg = PQconnectdb(db_url(the_db));
			PGresult *r = PQexec(pg, "LISTEN " JOBS_NOTIFY_CHANNEL);
			PQclear(r);
			if (PQstatus(pg) != CONNECTION_OK) {
				usleep(500000);
				continue;
			}
		}
		struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
		if (poll(&p, 1, 500) > 0) {
			PQconsumeInput(pg);
			PGnotify *n;
			bool any = false;
			while ((n = PQnotifies(pg))) {
				any = true;
				PQfreemem(n);
			}
			if (any)
				wake_all();
		}
	}
	if (pg)
		PQfinish(pg);
	return NULL;
}

bool jobs_start(db_t *db, int n, err_t *e)
{
	the_db = db;
	stopping = false;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, worker_main, (void *)(intptr_t)i) != 0)
			return err_set(e, ERR_INTERNAL, "thread", NULL, "cannot start a worker thread");
		nthreads++;
	}
	if (db_is_postgres(db) && n > 0) {
		have_listener = pthread_create(&listener, NULL, listener_main, NULL) == 0;
	}
	return true;
}

void jobs_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	if (have_listener)
		pthread_join(listener, NULL);
	have_listener = false;
}
