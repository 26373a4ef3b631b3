/*
 * wsload.c — the load generator of the gateway benchmark (bench/gateway/run.sh).
 *
 * One process, one epoll loop, up to ~19 900 WebSocket client connections
 * (the per-process open-file limit). It speaks either
 *   cosmiv: the Cosmiv gateway (docs/gateway.md): hello → identify {token} →
 *           ready; a heartbeat every heartbeat_interval_ms; deliveries are
 *           dispatch frames with t = MESSAGE_CREATE;
 *   sio:    Socket.IO 4 over its websocket transport only (Engine.IO v4):
 *           "0{…}" open → "40{"token":…}" → "40{…}" connected; answers the
 *           server's "2" pings with "3"; deliveries are "42[…]" event frames.
 * A delivery carries the sender's marker "gwbench:PHASE:SEQ:SENT_US" in its
 * content, SENT_US on CLOCK_MONOTONIC (the same clock process.hrtime uses);
 * the receive time minus SENT_US is the send-to-receive latency.
 *
 *   wsload --proto cosmiv|sio --port PORT --path PATH --tokens FILE --from I --count N
 *          [--host 127.0.0.1] [--src 127.0.0.2] [--concurrency 256]
 *          [--expect-b M] [--expect-p M] --out PREFIX
 *
 * Connects tokens [I, I+N) of FILE (one token a line), at most --concurrency
 * handshakes at a time, from source address --src. When every connection is
 * ready or failed it writes "ready OK FAILED" to stdout, and "burst-done N" once
 * every ready connection has its --expect-b burst deliveries. It exits when every
 * ready connection has received --expect-b + --expect-p deliveries, or on
 * SIGTERM/SIGINT; either way it writes PREFIX.sum (key value lines) and
 * PREFIX.lat (one "PHASE LATENCY_US MESSAGE_SEQ" line per delivery).
 * Frames from the server are expected unmasked, text, possibly split across
 * reads or fragmented; pings are answered, a close frame is recorded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { P_COSMIV, P_SIO };
enum { S_IDLE, S_CONNECTING, S_UPGRADING, S_OPEN, S_READY, S_DEAD };

typedef struct {
	int fd;
	int state;
	int tok;
	char *in; /* partial frame / HTTP response */
	size_t inlen, incap;
	char *msg; /* fragmented message being assembled */
	size_t msglen;
	char *out; /* unsent bytes */
	size_t outlen;
	int64_t next_hb_us;
	int close_code;
} conn_t;

static int proto = P_COSMIV;
static const char *host = "127.0.0.1", *path = NULL, *src = NULL, *out_prefix = NULL;
static int port = 0, concurrency = 256;
static long expect_b = 0, expect_p = 0;
static char **tokens;
static int ntok;
static conn_t *conns;
static int nconn, epfd;
static volatile sig_atomic_t stop;

static long n_ready, n_failed, n_closed_after_ready, n_inflight, next_to_start;
static int64_t hb_interval_us = 0;
static int64_t last_hb_scan_us = 0;

typedef struct {
	uint64_t *lat; /* latency in µs << 20 | the message's sequence number */
	size_t n, cap;
	int64_t first_us, last_us;
	uint64_t bytes;
} phase_t;
static phase_t ph[2]; /* 0: b (burst), 1: p (paced) */
static long n_other_frames, n_unmarked;
static char fail_reason[256];
static int close_codes[16];
static int close_code_vals[16];
static int nclose_codes;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("wsload: realloc");
		exit(2);
	}
	return p;
}

static void note_fail(const char *why)
{
	if (!fail_reason[0])
		snprintf(fail_reason, sizeof(fail_reason), "%s", why);
}

static void note_close(int code)
{
	for (int i = 0; i < nclose_codes; i++)
		if (close_code_vals[i] == code) {
			close_codes[i]++;
			return;
		}
	if (nclose_codes < 16) {
		close_code_vals[nclose_codes] = code;
		close_codes[nclose_codes++] = 1;
	}
}

static void conn_kill(conn_t *c, const char *why)
{
	if (c->state == S_DEAD)
		return;
	if (c->state == S_READY) {
		n_closed_after_ready++;
		n_ready--;
	} else {
		n_failed++;
		n_inflight--;
		note_fail(why);
	}
	note_close(c->close_code);
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = S_DEAD;
	free(c->in);
	free(c->msg);
	free(c->out);
	c->in = c->msg = c->out = NULL;
	c->inlen = c->incap = c->msglen = c->outlen = 0;
}

static void set_events(conn_t *c, bool want_out)
{
	struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_write(conn_t *c, const char *data, size_t len)
{
	if (c->state == S_DEAD)
		return;
	if (c->outlen == 0) {
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_kill(c, "send failed");
			return;
		}
		if (w < 0)
			w = 0;
		data += w;
		len -= (size_t)w;
		if (len == 0)
			return;
		set_events(c, true);
	}
	c->out = xrealloc(c->out, c->outlen + len);
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

static void flush_out(conn_t *c)
{
	if (!c->outlen)
		return;
	ssize_t w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_kill(c, "send failed");
		return;
	}
	memmove(c->out, c->out + w, c->outlen - (size_t)w);
	c->outlen -= (size_t)w;
	if (!c->outlen)
		set_events(c, false);
}

/* A masked client frame (RFC 6455 5.3). */
static void ws_send(conn_t *c, int opcode, const char *payload, size_t len)
{
	char stackbuf[2048];
	char *f = len + 14 <= sizeof(stackbuf) ? stackbuf : xrealloc(NULL, len + 14);
	size_t h = 0;
	f[h++] = (char)(0x80 | opcode);
	if (len < 126) {
		f[h++] = (char)(0x80 | len);
	} else if (len < 65536) {
		f[h++] = (char)(0x80 | 126);
		f[h++] = (char)(len >> 8);
		f[h++] = (char)len;
	} else {
		f[h++] = (char)(0x80 | 127);
		for (int i = 7; i >= 0; i--)
			f[h++] = (char)((uint64_t)len >> (8 * i));
	}
	uint32_t r = (uint32_t)rand();
	unsigned char mask[4] = {(unsigned char)r, (unsigned char)(r >> 8), (unsigned char)(r >> 16),
				 (unsigned char)(r >> 24)};
	memcpy(f + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < len; i++)
		f[h + i] = (char)(payload[i] ^ mask[i & 3]);
	conn_write(c, f, h + len);
	if (f != stackbuf)
		free(f);
}

static void ws_text(conn_t *c, const char *s)
{
	ws_send(c, 1, s, strlen(s));
}

static void became_ready(conn_t *c)
{
	c->state = S_READY;
	n_ready++;
	n_inflight--;
	if (proto == P_COSMIV && hb_interval_us > 0)
		c->next_hb_us = now_us() + hb_interval_us / 2 + (rand() % (hb_interval_us / 4 + 1));
}

static void record(const char *p, size_t len)
{
	const char *m = memmem(p, len, "gwbench:", 8);
	if (!m) {
		n_unmarked++;
		return;
	}
	int64_t t = now_us();
	const char *e = p + len;
	m += 8;
	if (m + 2 > e || (m[0] != 'b' && m[0] != 'p') || m[1] != ':') {
		n_unmarked++;
		return;
	}
	phase_t *x = &ph[m[0] == 'p'];
	m += 2;
	uint64_t seq = 0;
	while (m < e && *m >= '0' && *m <= '9')
		seq = seq * 10 + (uint64_t)(*m++ - '0'); /* the sequence number */
	if (m >= e || *m != ':') {
		n_unmarked++;
		return;
	}
	m++;
	int64_t sent = 0;
	while (m < e && *m >= '0' && *m <= '9')
		sent = sent * 10 + (*m++ - '0');
	int64_t lat = t - sent;
	if (lat < 0)
		lat = 0;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 65536;
		x->lat = xrealloc(x->lat, x->cap * sizeof(uint64_t));
	}
	x->lat[x->n++] = (uint64_t)(lat > UINT32_MAX ? UINT32_MAX : lat) << 20 | (seq & 0xfffff);
	if (!x->first_us)
		x->first_us = t;
	x->last_us = t;
	x->bytes += len;
}

static long json_int_after(const char *p, size_t len, const char *key)
{
	const char *k = memmem(p, len, key, strlen(key));
	if (!k)
		return -1;
	k += strlen(key);
	while (k < p + len && (*k == ' ' || *k == ':' || *k == '"'))
		k++;
	long v = 0;
	bool any = false;
	while (k < p + len && *k >= '0' && *k <= '9') {
		v = v * 10 + (*k++ - '0');
		any = true;
	}
	return any ? v : -1;
}

/* One complete text message from the server. */
static void on_message(conn_t *c, const char *p, size_t len)
{
	if (proto == P_COSMIV) {
		if (c->state == S_OPEN) {
			if (memmem(p, len, "\"hello\"", 7)) {
				long hb = json_int_after(p, len, "\"heartbeat_interval_ms\"");
				if (hb > 0)
					hb_interval_us = (int64_t)hb * 1000;
				char buf[1024];
				snprintf(buf, sizeof(buf), "{\"op\":\"identify\",\"d\":{\"token\":\"%s\"}}",
					 tokens[c->tok]);
				ws_text(c, buf);
			} else if (memmem(p, len, "\"ready\"", 7)) {
				became_ready(c);
			} else {
				char why[200];
				snprintf(why, sizeof(why), "before ready: %.*s", (int)(len < 150 ? len : 150), p);
				note_fail(why);
			}
			return;
		}
		if (memmem(p, len, "\"MESSAGE_CREATE\"", 16))
			record(p, len);
		else
			n_other_frames++;
		return;
	}
	/* Engine.IO v4 / Socket.IO v5 */
	if (len >= 1 && p[0] == '2' && len == 1) {
		ws_text(c, "3");
		return;
	}
	if (c->state == S_OPEN) {
		if (len >= 1 && p[0] == '0') {
			char buf[1024];
			snprintf(buf, sizeof(buf), "40{\"token\":\"%s\"}", tokens[c->tok]);
			ws_text(c, buf);
		} else if (len >= 2 && p[0] == '4' && p[1] == '0') {
			became_ready(c);
		} else {
			char why[200];
			snprintf(why, sizeof(why), "before connect: %.*s", (int)(len < 150 ? len : 150), p);
			note_fail(why);
			conn_kill(c, why);
		}
		return;
	}
	if (len >= 2 && p[0] == '4' && p[1] == '2')
		record(p, len);
	else
		n_other_frames++;
}

/* Parses as many whole frames as c->in holds. */
static void parse_frames(conn_t *c)
{
	size_t off = 0;
	while (c->state != S_DEAD) {
		unsigned char *b = (unsigned char *)c->in + off;
		size_t avail = c->inlen - off;
		if (avail < 2)
			break;
		int fin = b[0] & 0x80, op = b[0] & 0x0f;
		uint64_t plen = b[1] & 0x7f;
		size_t h = 2;
		if (b[1] & 0x80) {
			conn_kill(c, "masked frame from the server");
			return;
		}
		if (plen == 126) {
			if (avail < 4)
				break;
			plen = ((uint64_t)b[2] << 8) | b[3];
			h = 4;
		} else if (plen == 127) {
			if (avail < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = (plen << 8) | b[2 + i];
			h = 10;
		}
		if (avail < h + plen)
			break;
		const char *pl = (const char *)b + h;
		off += h + plen;
		if (op == 8) {
			c->close_code = plen >= 2 ? (((unsigned char)pl[0] << 8) | (unsigned char)pl[1]) : 1005;
			if (c->state != S_READY) {
				char why[200];
				snprintf(why, sizeof(why), "closed %d %.*s", c->close_code,
					 (int)(plen > 2 ? (plen - 2 < 100 ? plen - 2 : 100) : 0), pl + 2);
				note_fail(why);
			}
			conn_kill(c, "close frame");
			return;
		}
		if (op == 9) {
			ws_send(c, 10, pl, plen);
			continue;
		}
		if (op == 10)
			continue;
		if (op == 0 || !fin) { /* fragments */
			c->msg = xrealloc(c->msg, c->msglen + plen + 1);
			memcpy(c->msg + c->msglen, pl, plen);
			c->msglen += plen;
			if (fin) {
				on_message(c, c->msg, c->msglen);
				if (c->state == S_DEAD)
					return;
				free(c->msg);
				c->msg = NULL;
				c->msglen = 0;
			}
			continue;
		}
		on_message(c, pl, plen);
	}
	if (c->state == S_DEAD)
		return;
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static char rbuf[1 << 16];

static void on_readable(conn_t *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, rbuf, sizeof(rbuf), 0);
		if (r == 0) {
			conn_kill(c, "connection closed by the server");
			return;
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_kill(c, strerror(errno));
			return;
		}
		if (c->inlen + (size_t)r > c->incap) {
			c->incap = (c->inlen + (size_t)r) * 2;
			c->in = xrealloc(c->in, c->incap);
		}
		memcpy(c->in + c->inlen, rbuf, (size_t)r);
		c->inlen += (size_t)r;
		if (c->state == S_UPGRADING) {
			char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
			if (!end) {
				if (c->inlen > 8192) {
					conn_kill(c, "oversized upgrade response");
					return;
				}
				continue;
			}
			if (c->inlen < 12 || memcmp(c->in + 9, "101", 3) != 0) {
				char why[200];
				snprintf(why, sizeof(why), "upgrade refused: %.*s",
					 (int)(strcspn(c->in, "\r\n") < 150 ? strcspn(c->in, "\r\n") : 150), c->in);
				conn_kill(c, why);
				note_fail(why);
				return;
			}
			size_t hl = (size_t)(end + 4 - c->in);
			memmove(c->in, c->in + hl, c->inlen - hl);
			c->inlen -= hl;
			c->state = S_OPEN;
		}
		parse_frames(c);
		if (c->state == S_DEAD)
			return;
		if (c->inlen == 0 && c->incap > 65536) { /* give back a burst's buffer */
			free(c->in);
			c->in = NULL;
			c->incap = 0;
		}
	}
}

static void start_conn(int i)
{
	conn_t *c = &conns[i];
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = S_CONNECTING;
		n_inflight++;
		conn_kill(c, "socket() failed (open files?)");
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		inet_pton(AF_INET, src, &sa.sin_addr);
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			c->state = S_CONNECTING;
			n_inflight++;
			conn_kill(c, "bind() to the source address failed");
			return;
		}
	}
	struct sockaddr_in da = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, host, &da.sin_addr);
	c->state = S_CONNECTING;
	n_inflight++;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	if (connect(c->fd, (struct sockaddr *)&da, sizeof(da)) != 0 && errno != EINPROGRESS)
		conn_kill(c, "connect() failed");
}

static void on_connected(conn_t *c)
{
	int err = 0;
	socklen_t el = sizeof(err);
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		conn_kill(c, strerror(err));
		return;
	}
	c->state = S_UPGRADING;
	set_events(c, false);
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 path, host, port);
	conn_write(c, req, (size_t)n);
}

static void heartbeats(void)
{
	int64_t t = now_us();
	if (proto != P_COSMIV || hb_interval_us <= 0 || t - last_hb_scan_us < 1000000)
		return;
	last_hb_scan_us = t;
	for (int i = 0; i < nconn; i++) {
		conn_t *c = &conns[i];
		if (c->state == S_READY && c->next_hb_us <= t) {
			ws_text(c, "{\"op\":\"heartbeat\"}");
			c->next_hb_us = t + hb_interval_us / 2 + (rand() % (hb_interval_us / 4 + 1));
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void write_results(void)
{
	char fn[4096];
	snprintf(fn, sizeof(fn), "%s.lat", out_prefix);
	FILE *f = fopen(fn, "w");
	if (!f) {
		perror(fn);
		exit(2);
	}
	for (int k = 0; k < 2; k++) {
		qsort(ph[k].lat, ph[k].n, sizeof(uint64_t), cmp_u64);
		for (size_t i = 0; i < ph[k].n; i++) /* PHASE LATENCY_US MESSAGE_SEQ */
			fprintf(f, "%c %llu %llu\n", k ? 'p' : 'b', (unsigned long long)(ph[k].lat[i] >> 20),
				(unsigned long long)(ph[k].lat[i] & 0xfffff));
	}
	fclose(f);
	snprintf(fn, sizeof(fn), "%s.sum", out_prefix);
	f = fopen(fn, "w");
	if (!f) {
		perror(fn);
		exit(2);
	}
	fprintf(f, "ready %ld\nfailed %ld\nclosed_after_ready %ld\n", n_ready, n_failed, n_closed_after_ready);
	for (int k = 0; k < 2; k++)
		fprintf(f, "%c_deliveries %zu\n%c_first_us %lld\n%c_last_us %lld\n%c_bytes %llu\n", k ? 'p' : 'b',
			ph[k].n, k ? 'p' : 'b', (long long)ph[k].first_us, k ? 'p' : 'b', (long long)ph[k].last_us,
			k ? 'p' : 'b', (unsigned long long)ph[k].bytes);
	fprintf(f, "other_frames %ld\nunmarked %ld\n", n_other_frames, n_unmarked);
	fprintf(f, "close_codes");
	for (int i = 0; i < nclose_codes; i++)
		fprintf(f, " %d:%d", close_code_vals[i], close_codes[i]);
	fprintf(f, "\nfail_reason %s\n", fail_reason[0] ? fail_reason : "-");
	fclose(f);
}

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: wsload --proto cosmiv|sio --port PORT --path PATH --tokens FILE --from I "
			"--count N --out PREFIX [--host H] [--src ADDR] [--concurrency C] [--expect-b M] "
			"[--expect-p M]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *tokfile = NULL;
	long from = 0, count = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (!strcmp(a, "--proto"))
			proto = !strcmp(v, "sio") ? P_SIO : P_COSMIV;
		else if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--path"))
			path = v;
		else if (!strcmp(a, "--src"))
			src = v;
		else if (!strcmp(a, "--tokens"))
			tokfile = v;
		else if (!strcmp(a, "--from"))
			from = atol(v);
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--concurrency"))
			concurrency = atoi(v);
		else if (!strcmp(a, "--expect-b"))
			expect_b = atol(v);
		else if (!strcmp(a, "--expect-p"))
			expect_p = atol(v);
		else if (!strcmp(a, "--out"))
			out_prefix = v;
		else
			usage();
		i++;
	}
	if (!port || !path || !tokfile || count <= 0 || !out_prefix || concurrency < 1)
		usage();

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)count + 16 > rl.rlim_cur) {
		fprintf(stderr, "wsload: %ld connections need more than the %llu open files this process may have\n",
			count, (unsigned long long)rl.rlim_cur);
		return 2;
	}

	FILE *tf = fopen(tokfile, "r");
	if (!tf) {
		perror(tokfile);
		return 2;
	}
	tokens = calloc((size_t)count, sizeof(char *));
	char line[2048];
	long ln = 0;
	while (fgets(line, sizeof(line), tf) && ntok < count) {
		if (ln++ < from)
			continue;
		line[strcspn(line, "\r\n")] = 0;
		tokens[ntok++] = strdup(line);
	}
	fclose(tf);
	if (ntok < count) {
		fprintf(stderr, "wsload: %s has %d tokens from line %ld, need %ld\n", tokfile, ntok, from, count);
		return 2;
	}

	srand((unsigned)(getpid() ^ now_us()));
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	nconn = (int)count;
	conns = calloc((size_t)nconn, sizeof(conn_t));
	for (int i = 0; i < nconn; i++) {
		conns[i].fd = -1;
		conns[i].tok = i;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event evs[512];
	bool announced = false, burst_announced = false;
	long expect_total = 0;
	while (!stop) {
		while (next_to_start < nconn && n_inflight < concurrency)
			start_conn((int)next_to_start++);
		if (!announced && next_to_start == nconn && n_inflight == 0) {
			if (n_failed)
				fprintf(stderr, "wsload: %ld connections failed; the first: %s\n", n_failed, fail_reason);
			printf("ready %ld %ld\n", n_ready, n_failed);
			fflush(stdout);
			announced = true;
			expect_total = n_ready * (expect_b + expect_p);
		}
		if (announced && !burst_announced && expect_b > 0 && (long)ph[0].n >= n_ready * expect_b) {
			printf("burst-done %zu\n", ph[0].n);
			fflush(stdout);
			burst_announced = true;
		}
		if (announced && expect_total > 0 && (long)(ph[0].n + ph[1].n) >= expect_total)
			break;
		int n = epoll_wait(epfd, evs, 512, 200);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			conn_t *c = evs[i].data.ptr;
			if (c->state == S_DEAD)
				continue;
			if (c->state == S_CONNECTING) {
				if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					on_connected(c);
				continue;
			}
			if (evs[i].events & EPOLLOUT)
				flush_out(c);
			if (c->state != S_DEAD && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				on_readable(c);
		}
		heartbeats();
	}
	if (!announced) {
		printf("ready %ld %ld\n", n_ready, n_failed);
		fflush(stdout);
	}
	write_results();
	return 0;
}
