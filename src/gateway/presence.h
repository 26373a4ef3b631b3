/*
 * presence.h — who is online, idle or offline.
 *
 * The gateway sets a user's status as their sessions come and go (offline
 * only after a grace period without any session); anyone may read it. In
 * the process by default; with Redis (kv_shared()) statuses are kept under
 * cosmiv:presence:<user id> with a TTL the gateway refreshes, so every node
 * reads the same answer and a crashed node's users fall offline by themselves.
 */
#ifndef COSMIV_PRESENCE_H
#define COSMIV_PRESENCE_H

#include <stdint.h>

typedef enum { PRESENCE_OFFLINE = 0, PRESENCE_ONLINE, PRESENCE_IDLE } presence_t;

/* "online", "idle" or "offline". */
const char *presence_name(presence_t p);
/* The statuses of n users into out[n]. */
void presence_get_many(const int64_t *user_ids, int n, presence_t *out);
presence_t presence_get(int64_t user_id);
/* The gateway's writes: status with a TTL (seconds) after which it lapses to offline. */
void presence_set(int64_t user_id, presence_t p, int ttl_s);

#endif
