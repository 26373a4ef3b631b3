/*
 * Unit tests for src/gateway/ws.c over a socketpair: the peer end plays the
 * browser, writing masked frames by hand (RFC 6455 section 5) and reading
 * what the server side sends.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "gateway/ws.h"

typedef struct {
	int sv[2]; /* sv[0]: the server's ws_t; sv[1]: the client */
	ws_t w;
	char got[8][256];
	int ops[8];
	int n;
} pair_t;

static void on_msg(void *ud, int opcode, const char *data, size_t len)
{
	pair_t *p = ud;
	if (p->n < 8) {
		p->ops[p->n] = opcode;
		snprintf(p->got[p->n], sizeof p->got[p->n], "%.*s", (int)len, data);
		p->n++;
	}
}

static pair_t *pair_new(size_t max_message)
{
	pair_t *p = calloc(1, sizeof *p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv), 0);
	fcntl(p->sv[0], F_SETFL, O_NONBLOCK);
	fcntl(p->sv[1], F_SETFL, O_NONBLOCK);
	assert_true(ws_init(&p->w, p->sv[0], max_message));
	return p;
}

static void pair_free(pair_t *p)
{
	ws_free(&p->w);
	close(p->sv[0]);
	close(p->sv[1]);
	free(p);
}

/* A client frame: masked with a fixed key. */
static void client_frame(pair_t *p, int fin, int opcode, const char *payload, size_t len, bool mask)
{
	uint8_t f[512];
	size_t n = 0;
	f[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	assert_true(len < 65536);
	if (len < 126) {
		f[n++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else {
		f[n++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		f[n++] = (uint8_t)(len >> 8);
		f[n++] = (uint8_t)len;
	}
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	if (mask) {
		memcpy(f + n, key, 4);
		n += 4;
	}
	/* the payload may be larger than f: write the header, then the payload in pieces */
	assert_int_equal(write(p->sv[1], f, n), (ssize_t)n);
	uint8_t chunk[256];
	for (size_t off = 0; off < len;) {
		size_t k = len - off < sizeof chunk ? len - off : sizeof chunk;
		for (size_t i = 0; i < k; i++)
			chunk[i] = (uint8_t)payload[off + i] ^ (mask ? key[(off + i) % 4] : 0);
		assert_int_equal(write(p->sv[1], chunk, k), (ssize_t)k);
		off += k;
	}
}

/* Reads one server frame from the client end: opcode, payload into out. */
static int server_frame(pair_t *p, char *out, size_t outsz, size_t *len)
{
	uint8_t h[4];
	assert_int_equal(read(p->sv[1], h, 2), 2);
	assert_int_equal(h[1] & 0x80, 0); /* servers do not mask */
	size_t n = h[1] & 0x7f;
	if (n == 126) {
		assert_int_equal(read(p->sv[1], h + 2, 2), 2);
		n = ((size_t)h[2] << 8) | h[3];
	}
	assert_true(n < outsz);
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(p->sv[1], out + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	out[n] = '\0';
	*len = n;
	return h[0] & 0x0f;
}

static void test_text_message_is_unmasked_and_delivered(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	client_frame(p, 1, WSLAY_TEXT_FRAME, "{\"op\":\"heartbeat\"}", 18, true);
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->ops[0], WSLAY_TEXT_FRAME);
	assert_string_equal(p->got[0], "{\"op\":\"heartbeat\"}");
	pair_free(p);
}

static void test_fragments_and_interleaved_ping(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	client_frame(p, 0, WSLAY_TEXT_FRAME, "hel", 3, true);
	client_frame(p, 1, WSLAY_PING, "pi", 2, true); /* a control frame between fragments */
	client_frame(p, 0, WSLAY_CONTINUATION_FRAME, "lo ", 3, true);
	client_frame(p, 1, WSLAY_CONTINUATION_FRAME, "world", 5, true);
	client_frame(p, 1, WSLAY_TEXT_FRAME, "", 0, true); /* an empty message */
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->got[0], "hello world");
	assert_string_equal(p->got[1], "");
	char buf[64];
	size_t n;
	assert_int_equal(server_frame(p, buf, sizeof buf, &n), WSLAY_PONG);
	assert_string_equal(buf, "pi");
	pair_free(p);
}

static void test_large_message_in_pieces(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	char *big = malloc(10000);
	for (int i = 0; i < 10000; i++)
		big[i] = (char)('a' + i % 26);
	client_frame(p, 1, WSLAY_TEXT_FRAME, big, 10000, true);
	/* the whole frame may need several reads: keep reading until it arrives */
	for (int i = 0; i < 10 && p->n == 0; i++)
		assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_int_equal(p->n, 1);
	assert_int_equal(strncmp(p->got[0], big, 255), 0);
	free(big);
	pair_free(p);
}

static void expect_close(pair_t *p, int code)
{
	char buf[256];
	size_t n;
	assert_int_equal(server_frame(p, buf, sizeof buf, &n), WSLAY_CONNECTION_CLOSE);
	assert_true(n >= 2);
	assert_int_equal((((uint8_t)buf[0]) << 8) | (uint8_t)buf[1], code);
}

static void test_oversized_message_closes_1009(void **state)
{
	(void)state;
	pair_t *p = pair_new(100);
	char big[200];
	memset(big, 'x', sizeof big);
	client_frame(p, 1, WSLAY_TEXT_FRAME, big, sizeof big, true);
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_int_equal(p->n, 0);
	expect_close(p, 1009);
	assert_true(ws_done(&p->w)); /* nothing more is read: the connection is over */
	pair_free(p);
}

static void test_fragments_adding_up_past_the_limit_close_1009(void **state)
{
	(void)state;
	pair_t *p = pair_new(100);
	char part[60];
	memset(part, 'y', sizeof part);
	client_frame(p, 0, WSLAY_TEXT_FRAME, part, sizeof part, true);
	client_frame(p, 1, WSLAY_CONTINUATION_FRAME, part, sizeof part, true);
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_int_equal(p->n, 0);
	expect_close(p, 1009);
	pair_free(p);
}

static void test_protocol_errors_close_1002(void **state)
{
	(void)state;
	struct {
		int fin, op;
		bool mask;
	} bad[] = {
	    {1, WSLAY_TEXT_FRAME, false},	 /* unmasked */
	    {1, WSLAY_CONTINUATION_FRAME, true}, /* a continuation without a start */
	    {0, WSLAY_PING, true},		 /* a fragmented control frame */
	    {1, 0x3, true},			 /* a reserved opcode */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pair_t *p = pair_new(16384);
		client_frame(p, bad[i].fin, bad[i].op, "abc", 3, bad[i].mask);
		ws_read(&p->w, on_msg, p);
		assert_int_equal(p->n, 0);
		expect_close(p, 1002);
		pair_free(p);
	}
}

static void test_close_handshake_echoes_the_code(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	client_frame(p, 1, WSLAY_CONNECTION_CLOSE, "\x03\xe8", 2, true); /* 1000 */
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_OK);
	assert_true(p->w.close_received);
	expect_close(p, 1000);
	assert_true(ws_done(&p->w));
	pair_free(p);
}

static void test_peer_gone_is_reported(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	close(p->sv[1]);
	p->sv[1] = open("/dev/null", O_RDONLY);
	assert_int_equal(ws_read(&p->w, on_msg, p), WS_GONE);
	pair_free(p);
}

static void test_send_queue_is_bounded_when_the_peer_does_not_read(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	int small = 4096;
	setsockopt(p->sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	char msg[1000];
	memset(msg, 'm', sizeof msg);
	size_t limit = 64 * 1024;
	int accepted = 0;
	while (ws_send_text(&p->w, msg, sizeof msg, limit))
		if (++accepted > 100000)
			fail_msg("the queue never filled");
	assert_true(ws_pending(&p->w) <= limit);
	assert_true(ws_pending(&p->w) + sizeof msg > limit);
	/* the peer reads everything: the queue drains and its memory is released */
	char sink[65536];
	size_t total = 0, frames_bytes = (size_t)accepted * (sizeof msg + 4);
	while (total < frames_bytes) {
		assert_int_equal(ws_flush(&p->w), WS_OK);
		ssize_t r = read(p->sv[1], sink, sizeof sink);
		if (r > 0)
			total += (size_t)r;
	}
	assert_int_equal(ws_flush(&p->w), WS_OK);
	assert_int_equal(ws_pending(&p->w), 0);
	assert_null(p->w.out.data);
	assert_int_equal(total, frames_bytes);
	pair_free(p);
}

static void test_queued_frames_leave_together_on_flush(void **state)
{
	(void)state;
	pair_t *p = pair_new(16384);
	for (int i = 0; i < 3; i++)
		assert_true(ws_queue_text(&p->w, "abc", 3, 1 << 20));
	char buf[64];
	assert_int_equal(read(p->sv[1], buf, sizeof buf), -1); /* nothing sent yet */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(ws_pending(&p->w), 15);
	assert_true(ws_send_text(&p->w, "now", 3, 1 << 20)); /* an immediate frame keeps its place */
	assert_int_equal(ws_flush(&p->w), WS_OK);
	size_t n;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(server_frame(p, buf, sizeof buf, &n), WSLAY_TEXT_FRAME);
		assert_string_equal(buf, "abc");
	}
	assert_int_equal(server_frame(p, buf, sizeof buf, &n), WSLAY_TEXT_FRAME);
	assert_string_equal(buf, "now");
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_message_is_unmasked_and_delivered),
	    cmocka_unit_test(test_fragments_and_interleaved_ping),
	    cmocka_unit_test(test_large_message_in_pieces),
	    cmocka_unit_test(test_oversized_message_closes_1009),
	    cmocka_unit_test(test_fragments_adding_up_past_the_limit_close_1009),
	    cmocka_unit_test(test_protocol_errors_close_1002),
	    cmocka_unit_test(test_close_handshake_echoes_the_code),
	    cmocka_unit_test(test_peer_gone_is_reported),
	    cmocka_unit_test(test_send_queue_is_bounded_when_the_peer_does_not_read),
	    cmocka_unit_test(test_queued_frames_leave_together_on_flush),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
