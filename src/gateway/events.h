/*
 * events.h — what changed, for whoever is listening live (docs/gateway.md).
 *
 * Domain and API code publish an event after the change has committed; the
 * gateway delivers it as a `dispatch` frame to every session allowed to see
 * it. With Redis configured events cross nodes through a Redis stream; otherwise
 * they stay in the process. Publishing never blocks on slow clients and
 * never fails the request that caused it (a lost live event is repaired by
 * the client's next fetch; the data itself is in the database).
 *
 *     event_t ev = {.type = "MESSAGE_CREATE", .scope = EV_CHANNEL,
 *                   .community_id = m.community_id, .channel_id = m.channel_id};
 *     events_publish(&ev, message_json);   // steals the reference
 */
#ifndef COSMIV_EVENTS_H
#define COSMIV_EVENTS_H

#include <jansson.h>
#include <stdint.h>

typedef enum {
	EV_CHANNEL = 1, /* members of community_id who may view channel_id */
	EV_COMMUNITY,	/* members of community_id */
	EV_USER		/* the sessions of user_id */
} ev_scope_t;

/* The event changes who may see what in community_id (roles, overwrites,
 * channels): the gateway reloads the community's rules before delivering it. */
#define EV_RELOAD_RULES 1u
/* user_id joined, left or changed roles in community_id: the gateway reloads
 * that user's memberships before delivering it. */
#define EV_RELOAD_MEMBER 2u
/* Also deliver to user_id even when they are no longer a member (MEMBER_LEAVE). */
#define EV_ALSO_USER 4u

typedef struct {
	const char *type; /* "MESSAGE_CREATE", … */
	ev_scope_t scope;
	int64_t community_id;
	int64_t channel_id;
	int64_t user_id;	 /* EV_USER recipient; the member concerned for EV_RELOAD_MEMBER */
	int64_t exclude_user_id; /* not delivered to this user's sessions (typing) */
	unsigned flags;
} event_t;

/* Publishes ev with payload d (a JSON object; the reference is stolen). */
void events_publish(const event_t *ev, json_t *d);

/* ==== The bus (gateway/bus.c) ==== */

/* Where published events go: a local delivery function (the gateway), and
 * the Redis stream cosmiv:events when url is set. deliver NULL with Redis: publish only (a
 * `cosmiv worker`). Without either, events are dropped: nothing listens. */
typedef void (*events_deliver_fn)(const char *json, size_t len);
bool events_start(const char *redis_url, events_deliver_fn deliver);
void events_stop(void);

#endif
