/*
 * ws.c — a WebSocket connection on wslay's frame layer (ws.h).
 */
#include "gateway/ws.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ==== wslay callbacks ==== */

static ssize_t cb_recv(uint8_t *buf, size_t len, int flags, void *ud)
{
	(void)flags;
	ws_t *w = ud;
	ssize_t r = recv(w->fd, buf, len, 0);
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return WSLAY_ERR_WOULDBLOCK;
	w->broken = true; /* closed by the peer, or a socket error */
	return WSLAY_ERR_CALLBACK_FAILURE;
}

static void enqueue(ws_t *w, const void *p, size_t n)
{
	if (w->out_off == w->out.len) {
		w->out.len = 0;
		w->out_off = 0;
	}
	buf_append(&w->out, p, n);
}

/*
 * wslay hands over a frame's header (with WSLAY_MSG_MORE) and then its
 * payload. The header waits for the payload so both leave in one writev; what
 * the socket does not take is queued. wslay is always told everything was
 * sent: the queue is ours.
 */
static ssize_t cb_send(const uint8_t *data, size_t len, int flags, void *ud)
{
	ws_t *w = ud;
	if (w->broken)
		return (ssize_t)len;
	if (w->out_off < w->out.len || w->defer) { /* keep the order behind what is queued */
		if (w->nhdr) {
			enqueue(w, w->hdr, w->nhdr);
			w->nhdr = 0;
		}
		enqueue(w, data, len);
		return (ssize_t)len;
	}
	if ((flags & WSLAY_MSG_MORE) && len + w->nhdr <= sizeof w->hdr) {
		memcpy(w->hdr + w->nhdr, data, len);
		w->nhdr = (uint8_t)(w->nhdr + len);
		return (ssize_t)len;
	}
	struct iovec iov[2] = {{w->hdr, w->nhdr}, {(void *)data, len}};
	struct msghdr mh = {.msg_iov = w->nhdr ? iov : iov + 1, .msg_iovlen = w->nhdr ? 2 : 1};
	size_t total = w->nhdr + len;
	ssize_t n = sendmsg(w->fd, &mh, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			w->broken = true;
			w->nhdr = 0;
			return (ssize_t)len;
		}
		n = 0;
	}
	size_t sent = (size_t)n;
	if (sent < total) {
		if (sent < w->nhdr) {
			enqueue(w, w->hdr + sent, w->nhdr - sent);
			enqueue(w, data, len);
		} else {
			enqueue(w, data + (sent - w->nhdr), total - sent);
		}
	}
	w->nhdr = 0;
	return (ssize_t)len;
}

static int cb_genmask(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	randombytes_buf(buf, len);
	return 0;
}

static const struct wslay_frame_callbacks callbacks = {cb_send, cb_recv, cb_genmask};

/* ==== frames out ==== */

static void send_frame(ws_t *w, uint8_t opcode, const void *data, size_t len)
{
	struct wslay_frame_iocb io = {
	    .fin = 1, .opcode = opcode, .payload_length = len, .data = data, .data_length = len};
	while (!w->broken) {
		ssize_t r = wslay_frame_send(w->fc, &io);
		if (r < 0) {
			w->broken = true;
			break;
		}
		if ((size_t)r >= io.data_length)
			break;
		io.data += r;
		io.data_length -= (size_t)r;
	}
	if (w->nhdr) { /* a header wslay flagged MSG_MORE without a payload after it */
		uint8_t h[sizeof w->hdr];
		size_t n = w->nhdr;
		memcpy(h, w->hdr, n);
		w->nhdr = 0;
		cb_send(h, n, 0, w);
	}
}

bool ws_send_text(ws_t *w, const char *data, size_t len, size_t limit)
{
	if (w->close_sent || w->broken)
		return true; /* nothing more goes out; not the caller's problem */
	if (ws_pending(w) + len > limit)
		return false;
	send_frame(w, WSLAY_TEXT_FRAME, data, len);
	return true;
}

bool ws_queue_text(ws_t *w, const char *data, size_t len, size_t limit)
{
	w->defer = true;
	bool ok = ws_send_text(w, data, len, limit);
	w->defer = false;
	return ok;
}

void ws_send_close(ws_t *w, int code, const char *reason)
{
	if (w->close_sent)
		return;
	uint8_t p[125];
	size_t n = 0;
	if (code) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		n = strlen(reason);
		if (n > sizeof p - 2)
			n = sizeof p - 2;
		memcpy(p + 2, reason, n);
		n += 2;
	}
	send_frame(w, WSLAY_CONNECTION_CLOSE, p, n);
	w->close_sent = true;
}

/* ==== frames in ==== */

/* A complete control frame. */
static void on_control(ws_t *w, uint8_t op)
{
	if (op == WSLAY_PING && !w->close_sent) {
		send_frame(w, WSLAY_PONG, w->ctrl.data, w->ctrl.len);
	} else if (op == WSLAY_CONNECTION_CLOSE) {
		w->close_received = true;
		if (!w->close_sent) { /* echo the code, as RFC 6455 5.5.1 asks */
			int code = w->ctrl.len >= 2
				       ? (((uint8_t)w->ctrl.data[0]) << 8) | (uint8_t)w->ctrl.data[1]
				       : 0;
			ws_send_close(w, code, "");
		}
	}
	w->ctrl.len = 0;
}

/* Answers a broken frame with a close and stops reading: once the close has left the
 * connection is done (ws_done). */
static int proto_error(ws_t *w, int code, const char *reason)
{
	ws_send_close(w, code, reason);
	w->close_received = true;
	return WS_OK;
}

int ws_read(ws_t *w, ws_message_fn fn, void *ud)
{
	for (;;) {
		if (w->close_received || w->broken)
			return w->broken ? WS_GONE : WS_OK;
		struct wslay_frame_iocb io;
		ssize_t r = wslay_frame_recv(w->fc, &io);
		if (r == WSLAY_ERR_WANT_READ) /* wslay also says this when the callback failed */
			return w->broken ? WS_GONE : WS_OK;
		if (r < 0) {
			if (w->broken)
				return WS_GONE;
			return proto_error(w, 1002, "protocol_error");
		}
		if (!w->in_frame) { /* a new frame: check its header */
			w->in_frame = true;
			w->left = io.payload_length;
			w->frame_op = io.opcode;
			if (!io.mask || io.rsv)
				return proto_error(w, 1002,
						   "protocol_error: client frames are masked, no extensions");
			if (wslay_is_ctrl_frame(io.opcode)) {
				if (!io.fin || io.payload_length > 125)
					return proto_error(w, 1002, "protocol_error");
			} else if ((io.opcode == WSLAY_CONTINUATION_FRAME) != (w->msg_op != 0) ||
				   (io.opcode != WSLAY_CONTINUATION_FRAME && io.opcode != WSLAY_TEXT_FRAME &&
				    io.opcode != WSLAY_BINARY_FRAME)) {
				return proto_error(w, 1002, "protocol_error: bad fragmentation");
			} else {
				if (io.opcode != WSLAY_CONTINUATION_FRAME)
					w->msg_op = io.opcode;
				if (w->msg.len + io.payload_length > w->max_message)
					return proto_error(w, 1009, "frame_too_large");
			}
		}
		if (io.data_length) {
			if (wslay_is_ctrl_frame(w->frame_op))
				buf_append(&w->ctrl, io.data, io.data_length);
			else
				buf_append(&w->msg, io.data, io.data_length);
		}
		w->left -= io.data_length;
		if (w->left > 0)
			continue;
		w->in_frame = false;
		if (wslay_is_ctrl_frame(w->frame_op)) {
			on_control(w, w->frame_op);
			continue;
		}
		if (!io.fin)
			continue;
		uint8_t op = w->msg_op;
		w->msg_op = 0;
		buf_putc(&w->msg, '\0'); /* for the reader's convenience; not counted */
		size_t n = w->msg.len - 1;
		fn(ud, op, w->msg.data, n);
		buf_cleanup(&w->msg); /* idle connections hold no buffer */
		buf_init(&w->msg);
	}
}

/* ==== lifecycle ==== */

bool ws_init(ws_t *w, int fd, size_t max_message)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->max_message = max_message;
	buf_init(&w->out);
	buf_init(&w->msg);
	buf_init(&w->ctrl);
	return wslay_frame_context_init(&w->fc, &callbacks, w) == 0;
}

void ws_free(ws_t *w)
{
	if (w->fc)
		wslay_frame_context_free(w->fc);
	w->fc = NULL;
	buf_cleanup(&w->out);
	buf_cleanup(&w->msg);
	buf_cleanup(&w->ctrl);
}

size_t ws_pending(const ws_t *w)
{
	return w->out.len - w->out_off;
}

int ws_flush(ws_t *w)
{
	while (!w->broken && w->out_off < w->out.len) {
		ssize_t n = send(w->fd, w->out.data + w->out_off, w->out.len - w->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return WS_OK;
			w->broken = true;
			break;
		}
		w->out_off += (size_t)n;
	}
	if (w->broken)
		return WS_GONE;
	buf_cleanup(&w->out); /* drained: give the memory back */
	buf_init(&w->out);
	w->out_off = 0;
	return WS_OK;
}

bool ws_done(const ws_t *w)
{
	return w->close_sent && w->close_received && ws_pending(w) == 0;
}
