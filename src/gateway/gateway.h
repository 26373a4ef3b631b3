/*
 * gateway.h — the WebSocket gateway (docs/gateway.md).
 *
 * One thread runs an epoll loop over its own listening socket and every
 * client socket; wslay does the RFC 6455 framing. Sessions identify with an
 * access token, receive `dispatch` frames for the events they may see
 * (events.h), heartbeat, and resume after a reconnect from a bounded buffer.
 */
#ifndef COSMIV_GATEWAY_H
#define COSMIV_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "db/db.h"

typedef struct {
	const char *listen;	/* host:port; port 0 picks a free one */
	const char *public_url; /* "" → ws://<bound address>/api/v2/gateway */
	int heartbeat_ms;
	int max_per_user;
	int presence_grace_s;
	int flush_split;       /* fan-outs to this many connections or more are written by two threads */
	int send_queue_kb;     /* a client with more unsent frames than this is closed with 4011 */
	const char *redis_url; /* events across nodes; "" → in-process */
} gateway_config_t;

bool gateway_start(const gateway_config_t *cfg, db_t *db, err_t *e);
/* Closes every socket with 4012 server_shutdown and joins the loop thread. */
void gateway_stop(void);
/* The URL clients connect to (NULL when the gateway is not running). */
const char *gateway_url(void);
int gateway_heartbeat_ms(void);

/* Feeds one client frame's payload to the protocol state machine of a fresh,
 * unidentified session and reports the close code it would answer with (0:
 * none). For the fuzz target: no socket, no database. */
int gateway_fuzz_frame(const char *data, size_t len);

#endif
