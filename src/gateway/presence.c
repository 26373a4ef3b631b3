/*
 * presence.c — the presence store: a mutex-guarded open-addressing table in
 * the process, or Redis keys with TTLs when configured (presence.h).
 */
#include "gateway/presence.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "http/ratelimit.h"

typedef struct {
	int64_t user_id; /* 0: empty */
	presence_t status;
	int64_t expires_ms;
} slot_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static slot_t *table;
static size_t cap, used;

const char *presence_name(presence_t p)
{
	return p == PRESENCE_ONLINE ? "online" : p == PRESENCE_IDLE ? "idle" : "offline";
}

static size_t hash(int64_t id)
{
	uint64_t x = (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
	return (size_t)(x ^ (x >> 29));
}

/* The slot of id, or the empty slot where it would go. Caller holds mu; cap > 0. */
static slot_t *find(int64_t id)
{
	size_t i = hash(id) & (cap - 1);
	while (table[i].user_id != 0 && table[i].user_id != id)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static void grow(void)
{
	size_t old = cap;
	slot_t *t = table;
	cap = cap ? cap * 2 : 1024;
	table = xcalloc(cap, sizeof *table);
	used = 0;
	int64_t now = time_now_ms();
	for (size_t i = 0; i < old; i++)
		if (t[i].user_id && t[i].status != PRESENCE_OFFLINE && t[i].expires_ms > now) {
			*find(t[i].user_id) = t[i];
			used++;
		}
	free(t);
}

static void local_set(int64_t user_id, presence_t p, int ttl_s)
{
	pthread_mutex_lock(&mu);
	if ((used + 1) * 2 > cap)
		grow();
	slot_t *s = find(user_id);
	if (s->user_id == 0) {
		s->user_id = user_id;
		used++;
	}
	s->status = p;
	s->expires_ms = time_now_ms() + (int64_t)ttl_s * 1000;
	pthread_mutex_unlock(&mu);
}

static presence_t local_get(int64_t user_id)
{
	presence_t p = PRESENCE_OFFLINE;
	pthread_mutex_lock(&mu);
	if (cap) {
		slot_t *s = find(user_id);
		if (s->user_id == user_id && s->expires_ms > time_now_ms())
			p = s->status;
	}
	pthread_mutex_unlock(&mu);
	return p;
}

void presence_set(int64_t user_id, presence_t p, int ttl_s)
{
	if (kv_shared()) {
		char key[48];
		snprintf(key, sizeof key, "presence:%lld", (long long)user_id);
		if (p == PRESENCE_OFFLINE) {
			kv_del(key);
		} else {
			const char *v = p == PRESENCE_IDLE ? "i" : "o";
			kv_set(key, v, 1, ttl_s);
		}
		return;
	}
	local_set(user_id, p, ttl_s);
}

presence_t presence_get(int64_t user_id)
{
	if (kv_shared()) {
		char key[48];
		snprintf(key, sizeof key, "presence:%lld", (long long)user_id);
		size_t n;
		char *v = kv_get(key, &n);
		presence_t p = !v || n == 0  ? PRESENCE_OFFLINE
			       : v[0] == 'i' ? PRESENCE_IDLE
					     : PRESENCE_ONLINE;
		free(v);
		return p;
	}
	return local_get(user_id);
}

void presence_get_many(const int64_t *user_ids, int n, presence_t *out)
{
	for (int i = 0; i < n; i++)
		out[i] = presence_get(user_ids[i]);
}
