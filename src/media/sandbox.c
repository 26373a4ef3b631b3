/*
 * sandbox.c — see sandbox.h.
 */
#include "media/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

extern char **environ;

static bool limit(int res, rlim_t v)
{
	struct rlimit rl = {v, v};
	return setrlimit(res, &rl) == 0;
}

/* AddressSanitizer reserves terabytes of shadow address space, so the
 * sanitizer build (the one the test suites run) cannot have an address-space
 * limit; the release build always has one. */
#ifdef __SANITIZE_ADDRESS__
#define LIMIT_AS(bytes) ((void)(bytes), true)
#else
#define LIMIT_AS(bytes) limit(RLIMIT_AS, (rlim_t)(bytes))
#endif

/* LeakSanitizer stops the process with ptrace at exit to look for leaks: the
 * sanitizer build keeps ptrace so leaks in media code are still found. */
#ifdef __SANITIZE_ADDRESS__
#define PTRACE_SYSCALL SCMP_SYS(kexec_file_load)
#else
#define PTRACE_SYSCALL SCMP_SYS(ptrace)
#endif

bool media_sandbox_enter(const media_sandbox_limits_t *lim, err_t *e)
{
	if (!LIMIT_AS(lim->memory_bytes) || !limit(RLIMIT_CPU, (rlim_t)lim->cpu_s) ||
	    !limit(RLIMIT_FSIZE, (rlim_t)lim->file_bytes) || !limit(RLIMIT_NOFILE, 64) ||
	    !limit(RLIMIT_CORE, 0) || !limit(RLIMIT_NPROC, 4096))
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "cannot set resource limits: %s",
			       strerror(errno));
	/* If the worker dies (kill -9), its media child must not live on: the job
	 * will run again elsewhere. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() == 1)
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "the worker went away");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "cannot set no_new_privs");
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "seccomp is not available");
	static const int denied[] = {
	    SCMP_SYS(socket),
	    SCMP_SYS(socketpair),
	    SCMP_SYS(connect),
	    SCMP_SYS(bind),
	    SCMP_SYS(listen),
	    SCMP_SYS(accept),
	    SCMP_SYS(accept4),
	    SCMP_SYS(execve),
	    SCMP_SYS(execveat),
	    SCMP_SYS(fork),
	    SCMP_SYS(vfork),
	    PTRACE_SYSCALL,
	    SCMP_SYS(process_vm_readv),
	    SCMP_SYS(process_vm_writev),
	    SCMP_SYS(mount),
	    SCMP_SYS(umount2),
	    SCMP_SYS(unshare),
	    SCMP_SYS(setns),
	    SCMP_SYS(kexec_load),
	    SCMP_SYS(init_module),
	    SCMP_SYS(finit_module),
	    SCMP_SYS(bpf),
	    SCMP_SYS(perf_event_open),
	};
	bool ok = true;
	for (size_t i = 0; i < ARRAY_LEN(denied) && ok; i++)
		ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) == 0;
	ok = ok && seccomp_load(ctx) == 0;
	seccomp_release(ctx);
	if (!ok)
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "cannot install the seccomp filter");
	return true;
}

static void tail_append(media_run_result_t *res, const char *p, size_t n)
{
	size_t cap = sizeof(res->stderr_tail) - 1;
	size_t have = strlen(res->stderr_tail);
	if (n >= cap) {
		memcpy(res->stderr_tail, p + n - cap, cap);
		res->stderr_tail[cap] = '\0';
		return;
	}
	if (have + n > cap) {
		size_t drop = have + n - cap;
		memmove(res->stderr_tail, res->stderr_tail + drop, have - drop + 1);
		have -= drop;
	}
	memcpy(res->stderr_tail + have, p, n);
	res->stderr_tail[have + n] = '\0';
}

bool media_sandbox_run(const char *const args[], int timeout_s, media_line_fn on_line, void *ctx,
		       media_run_result_t *res, err_t *e)
{
	memset(res, 0, sizeof(*res));
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "cannot find this program's path");
	self[n] = '\0';
	size_t argc = 0;
	while (args[argc])
		argc++;
	char **argv = xcalloc(argc + 2, sizeof(char *));
	argv[0] = self;
	for (size_t i = 0; i < argc; i++)
		argv[i + 1] = (char *)args[i];
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		free(argv);
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none); /* the server blocks SIGTERM; the child must not */
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	int rc = posix_spawn(&pid, self, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(out[0]);
		close(err[0]);
		return err_set(e, ERR_INTERNAL, "sandbox", NULL, "cannot start the media process: %s",
			       strerror(rc));
	}
	buf_t line;
	buf_init(&line);
	uint64_t deadline = time_mono_ns() + (uint64_t)timeout_s * 1000000000ull;
	bool out_open = true, err_open = true;
	char chunk[4096];
	while (out_open || err_open) {
		uint64_t now = time_mono_ns();
		if (now >= deadline) {
			res->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0},
				      {err_open ? err[0] : -1, POLLIN, 0}};
		int wait_ms = (int)((deadline - now) / 1000000ull);
		int ready = poll(p, 2, wait_ms > 1000 ? 1000 : wait_ms);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready == 0 && on_line)
			on_line(ctx, NULL); /* quiet second: heartbeat */
		if (p[0].revents) {
			ssize_t r = read(out[0], chunk, sizeof(chunk));
			if (r <= 0) {
				out_open = false;
			} else {
				for (ssize_t i = 0; i < r; i++) {
					if (chunk[i] == '\n') {
						if (on_line && line.len)
							on_line(ctx, line.data);
						buf_reset(&line);
					} else if (line.len < (1 << 20)) {
						buf_putc(&line, chunk[i]);
					}
				}
			}
		}
		if (p[1].revents) {
			ssize_t r = read(err[0], chunk, sizeof(chunk));
			if (r <= 0)
				err_open = false;
			else
				tail_append(res, chunk, (size_t)r);
		}
	}
	if (on_line && line.len)
		on_line(ctx, line.data);
	buf_cleanup(&line);
	close(out[0]);
	close(err[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
	} else {
		res->exit_code = -1;
		res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	return true;
}
