/*
 * sandbox.h — running untrusted-media work in a confined child process.
 *
 * The server never opens an uploaded file itself. A media job re-executes
 * this binary (`cosmiv media-job …`, via posix_spawn: safe from a
 * multi-threaded parent) and the child confines itself first thing
 * (media_sandbox_enter): resource limits on CPU time, address space,
 * written file size and open files; no new privileges; and a seccomp filter
 * that makes socket creation, exec and ptrace fail with EPERM. FFmpeg inside
 * is further restricted to the `file` protocol (probe.c).
 *
 * The parent (media_sandbox_run) reads the child's stdout line by line
 * (progress and the result, as JSON lines), keeps the tail of its stderr for
 * the error message, and kills it when the wall-clock limit passes. A crash,
 * a limit or a timeout becomes a clear error; the server is never affected.
 */
#ifndef COSMIV_MEDIA_SANDBOX_H
#define COSMIV_MEDIA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
	int64_t memory_bytes; /* RLIMIT_AS */
	int cpu_s;	      /* RLIMIT_CPU */
	int64_t file_bytes;   /* RLIMIT_FSIZE: largest file it may write */
} media_sandbox_limits_t;

/* In the child, before touching any input. */
bool media_sandbox_enter(const media_sandbox_limits_t *lim, err_t *e);

typedef void (*media_line_fn)(void *ctx, const char *line);

typedef struct {
	int exit_code; /* -1 when killed by a signal */
	int signal;    /* the signal that ended it, 0 when it exited */
	bool timed_out;
	char stderr_tail[1024];
} media_run_result_t;

/* Runs `<this binary> args...` and waits (up to timeout_s). on_line gets each stdout line,
 * and NULL about once a second as a heartbeat (the job's lease is extended with it).
 * false (ERR_INTERNAL) only when the child could not be started. */
bool media_sandbox_run(const char *const args[], int timeout_s, media_line_fn on_line, void *ctx,
		       media_run_result_t *res, err_t *e);

#endif
