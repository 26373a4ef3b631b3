/*
 * ws.h — one server-side WebSocket connection (RFC 6455) on wslay's frame
 * layer, for an event loop that owns many of them.
 *
 * wslay parses, unmasks and writes frames; this layer adds what the gateway
 * needs around it: message reassembly (bounded), ping/pong and the close
 * handshake, and non-blocking sends that go straight to the socket and queue
 * only what the socket did not take. It costs wslay's frame context (about
 * 4.9 KiB) and nothing else while idle: the send queue and the reassembly
 * buffer exist only while they hold bytes. (wslay's event layer would add
 * 4.5 KiB of buffers per connection.)
 */
#ifndef COSMIV_WS_H
#define COSMIV_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "core/util.h"

typedef struct {
	int fd;
	wslay_frame_context_ptr fc;
	size_t max_message; /* larger messages close with 1009 */
	buf_t out;	    /* bytes the socket has not taken yet, from out_off */
	size_t out_off;
	uint8_t hdr[16]; /* a frame header held back to go out with its payload */
	uint8_t nhdr;
	buf_t msg;  /* the data message being reassembled */
	buf_t ctrl; /* the control frame being received */
	uint8_t msg_op, frame_op;
	bool in_frame;
	uint64_t left; /* payload bytes of the current frame still to come */
	bool close_sent, close_received, broken;
	bool defer; /* frames are only queued; ws_flush sends them together */
} ws_t;

/* Called for each complete data message (WSLAY_TEXT_FRAME or WSLAY_BINARY_FRAME). */
typedef void (*ws_message_fn)(void *ud, int opcode, const char *data, size_t len);

enum { WS_OK = 0, WS_GONE = -1 };

bool ws_init(ws_t *w, int fd, size_t max_message);
void ws_free(ws_t *w);
/* Reads everything available. WS_OK, or WS_GONE when the peer went away or broke the
 * protocol beyond answering (the caller destroys the connection). Protocol errors it
 * can answer (1002, 1009) are answered with a close frame here. */
int ws_read(ws_t *w, ws_message_fn fn, void *ud);
/* Queues a text frame; false (nothing queued) when the unsent bytes would pass limit. */
bool ws_send_text(ws_t *w, const char *data, size_t len, size_t limit);
/* The same, queued for the next ws_flush: many frames for one connection then leave in one
 * write (a burst of events costs one syscall per connection, not one per event). */
bool ws_queue_text(ws_t *w, const char *data, size_t len, size_t limit);
/* Starts the close handshake with code and reason (once). */
void ws_send_close(ws_t *w, int code, const char *reason);
/* Writes what is queued. WS_OK or WS_GONE. */
int ws_flush(ws_t *w);
/* Unsent bytes. */
size_t ws_pending(const ws_t *w);
/* Both sides have sent their close frame and ours has left. */
bool ws_done(const ws_t *w);

#endif
