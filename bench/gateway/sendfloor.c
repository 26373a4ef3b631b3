/*
 * sendfloor — what one send() of a frame-sized message costs on this machine's
 * loopback, without any server around it: N TCP connections, a reader thread
 * on the other ends (as the load generator is), and rounds of one send() to
 * every connection by THREADS threads that split the connections. It prints
 * the median round in ms for N sends: the floor under any fan-out of one
 * message to N members here with that many threads. (Both ends live in this
 * process, so above 9000 it measures 9000 connections and scales: the
 * per-send cost does not depend on N.)
 *
 *   sendfloor N BYTES [THREADS]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 9

static int n, nthreads, *cli, *srv;
static const char *msg;
static size_t msglen;
static volatile int done;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *reader(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	for (int i = 0; i < n; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.fd = cli[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &e);
	}
	char b[8192];
	struct epoll_event ev[256];
	while (!done) {
		int k = epoll_wait(ep, ev, 256, 100);
		for (int i = 0; i < k; i++)
			if (read(ev[i].data.fd, b, sizeof b) < 0)
				continue;
	}
	close(ep);
	return NULL;
}

/* The share of sender thread k: connections [k*n/T, (k+1)*n/T). */
static void *sender(void *arg)
{
	long k = (long)arg;
	for (int i = (int)(k * n / nthreads); i < (int)((k + 1) * n / nthreads); i++)
		if (send(srv[i], msg, msglen, MSG_NOSIGNAL) < 0)
			continue;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 10000;
	size_t bytes = argc > 2 ? (size_t)atoi(argv[2]) : 560;
	nthreads = argc > 3 ? atoi(argv[3]) : 1;
	if (want < 1 || bytes < 1 || bytes > 65536 || nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "usage: sendfloor N BYTES [THREADS]\n");
		return 2;
	}
	n = want > 9000 ? 9000 : want;
	cli = calloc((size_t)n, sizeof *cli);
	srv = calloc((size_t)n, sizeof *srv);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) || getsockname(l, (struct sockaddr *)&a, &sl) || listen(l, 4096)) {
		perror("sendfloor: listen");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&a, sizeof a) || (srv[i] = accept(l, NULL, NULL)) < 0) {
			perror("sendfloor: connect");
			return 1;
		}
		int one = 1;
		setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fcntl(srv[i], F_SETFL, O_NONBLOCK);
	}
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	char *m = malloc(bytes);
	memset(m, 'x', bytes);
	msg = m;
	msglen = bytes;
	pthread_t *senders = calloc((size_t)nthreads, sizeof *senders);
	double ms[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		usleep(200000);
		double t0 = now_ms();
		for (long k = 1; k < nthreads; k++)
			pthread_create(&senders[k], NULL, sender, (void *)k);
		sender((void *)0L);
		for (int k = 1; k < nthreads; k++)
			pthread_join(senders[k], NULL);
		ms[r] = now_ms() - t0;
	}
	done = 1;
	pthread_join(t, NULL);
	qsort(ms, ROUNDS, sizeof *ms, cmp);
	printf("%.1f\n", ms[ROUNDS / 2] * want / n);
	return 0;
}
