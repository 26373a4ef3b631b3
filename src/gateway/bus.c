/*
 * bus.c — carries published events to the gateway of every node.
 *
 * Without Redis an event goes straight to this process's gateway. With Redis
 * it is appended to the stream cosmiv:events (XADD, trimmed to about
 * STREAM_MAXLEN entries) and every node, this one included, reads it from
 * its reader thread (XREAD BLOCK), so all nodes see events in the one order
 * Redis gave them. A stream rather than pub/sub because a node remembers the
 * id of the last entry it delivered: when its connection to Redis drops, it
 * reconnects and reads on from there, so the events published meanwhile
 * still reach its clients, once each and in order. Only an outage longer
 * than the stream's length (or a Redis that lost the stream) can skip
 * events; that is logged. Wire format (internal):
 *   {"t":TYPE,"sc":SCOPE,"c":COMMUNITY,"ch":CHANNEL,"u":USER,"x":EXCLUDE,"f":FLAGS,"d":{…}}
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway/events.h"
#include "http/ratelimit.h"

#define STREAM	       "events"
#define STREAM_KEY     "cosmiv:" STREAM
#define STREAM_MAXLEN  20000 /* ~10 MB of entries: minutes of a busy site's events */
#define READ_BATCH     512
#define STREAM_ID_SIZE 48

static events_deliver_fn deliver;
static bool use_redis;
static atomic_bool running;
static pthread_t sub_thread;
static bool sub_started;
static atomic_int sub_fd = -1;

void events_publish(const event_t *ev, json_t *d)
{
	if ((!deliver && !use_redis) || !ev || !ev->type) {
		json_decref(d);
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "t", json_string(ev->type));
	json_object_set_new(o, "sc", json_integer(ev->scope));
	json_object_set_new(o, "c", json_integer(ev->community_id));
	json_object_set_new(o, "ch", json_integer(ev->channel_id));
	json_object_set_new(o, "u", json_integer(ev->user_id));
	json_object_set_new(o, "x", json_integer(ev->exclude_user_id));
	json_object_set_new(o, "f", json_integer(ev->flags));
	json_object_set_new(o, "d", d ? d : json_object());
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return;
	size_t n = strlen(s);
	if (!use_redis || !kv_append(STREAM, s, n, STREAM_MAXLEN)) {
		if (use_redis)
			log_warn("event not published to Redis; delivered on this node only", "type",
				 ev->type, NULL);
		if (deliver)
			deliver(s, n);
	}
	free(s);
}

/* Stream ids are "MS-SEQ"; compares them as the number pairs they are. */
static int stream_id_cmp(const char *a, const char *b)
{
	char *end;
	unsigned long long am = strtoull(a, &end, 10), as = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
	unsigned long long bm = strtoull(b, &end, 10), bs = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

/* The id of the first (oldest) or last entry of the stream into out; "" when it is empty. */
static bool stream_end_id(redisContext *c, bool newest, char *out, size_t size)
{
	redisReply *r = redisCommand(c, newest ? "XREVRANGE " STREAM_KEY " + - COUNT 1"
					       : "XRANGE " STREAM_KEY " - + COUNT 1");
	bool ok = r && r->type == REDIS_REPLY_ARRAY;
	out[0] = '\0';
	if (ok && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		str_copy(out, size, r->element[0]->element[0]->str);
	freeReplyObject(r);
	return ok;
}

/*
 * Where to read from on a new connection. The first time: after the newest
 * entry (a starting node has no clients that missed anything). After a lost
 * connection: after the last entry delivered, which XREAD continues from;
 * if entries after it may have been trimmed, or the stream was reset (a
 * Redis restarted without its data), say so and go on from what there is.
 */
static bool read_position(redisContext *c, char *last, size_t size)
{
	if (!last[0]) {
		if (!stream_end_id(c, true, last, size))
			return false;
		if (!last[0])
			str_copy(last, size, "0-0");
		return true;
	}
	char oldest[STREAM_ID_SIZE], newest[STREAM_ID_SIZE];
	if (!stream_end_id(c, false, oldest, sizeof(oldest)) ||
	    !stream_end_id(c, true, newest, sizeof(newest)))
		return false;
	if (!newest[0] || stream_id_cmp(newest, last) < 0) {
		if (strcmp(last, "0-0") != 0)
			log_warn(
			    "the Redis event stream was reset while this node was away; events published "
			    "meanwhile may not have reached its clients",
			    "last_seen", last, NULL);
		str_copy(last, size, "0-0");
	} else if (stream_id_cmp(oldest, last) > 0) {
		log_warn("events were trimmed from the Redis stream while this node was away; some may not "
			 "have reached its clients",
			 "last_seen", last, "oldest", oldest, NULL);
	}
	return true;
}

/* Delivers the entries of one XREAD reply in order; last becomes the id of the last one. */
static void deliver_entries(const redisReply *r, char *last, size_t size)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return;
	const redisReply *st = r->element[0];
	if (st->type != REDIS_REPLY_ARRAY || st->elements < 2 || st->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	const redisReply *entries = st->element[1];
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *en = entries->element[i];
		if (en->type != REDIS_REPLY_ARRAY || en->elements < 2 ||
		    en->element[0]->type != REDIS_REPLY_STRING)
			continue;
		str_copy(last, size, en->element[0]->str);
		const redisReply *kv = en->element[1];
		for (size_t k = 0; kv->type == REDIS_REPLY_ARRAY && k + 1 < kv->elements; k += 2)
			if (kv->element[k + 1]->type == REDIS_REPLY_STRING &&
			    strcmp(kv->element[k]->str ? kv->element[k]->str : "", "d") == 0)
				deliver(kv->element[k + 1]->str, kv->element[k + 1]->len);
	}
}

/* Waits *ms, then doubles it up to 2 s: a Redis that is down or refusing is not hammered. */
static void backoff(int *ms)
{
	struct timespec ts = {*ms / 1000, (long)(*ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	*ms = *ms < 2000 ? *ms * 2 : 2000;
}

static void *subscriber(void *arg)
{
	(void)arg;
	redisContext *c = NULL;
	char last[STREAM_ID_SIZE] = ""; /* the last entry delivered; "" before the first connection */
	char name[48];
	snprintf(name, sizeof(name), "cosmiv-events-%ld", (long)getpid());
	int backoff_ms = 100;
	while (atomic_load(&running)) {
		if (!c) {
			c = kv_blocking_conn(name);
			if (c && !read_position(c, last, sizeof(last))) {
				redisFree(c);
				c = NULL;
			}
			if (!c) {
				backoff(&backoff_ms);
				continue;
			}
			atomic_store(&sub_fd, c->fd);
			if (!atomic_load(&running))
				break;
		}
		redisReply *r =
		    redisCommand(c, "XREAD COUNT %d BLOCK 0 STREAMS " STREAM_KEY " %s", READ_BATCH, last);
		if (!r || c->err || r->type == REDIS_REPLY_ERROR) {
			if (atomic_load(&running))
				log_warn("Redis event stream read failed; reconnecting", "detail",
					 c->err ? c->errstr
					 : r	? r->str
						: "no reply",
					 "last_seen", last, NULL);
			freeReplyObject(r);
			atomic_store(&sub_fd, -1);
			redisFree(c);
			c = NULL;
			if (atomic_load(&running)) /* not when events_stop() cut the read short */
				backoff(&backoff_ms);
			continue;
		}
		backoff_ms = 100;
		deliver_entries(r, last, sizeof(last));
		freeReplyObject(r);
	}
	if (c)
		redisFree(c);
	return NULL;
}

bool events_start(const char *redis_url, events_deliver_fn fn)
{
	deliver = fn;
	use_redis = redis_url && redis_url[0] && kv_shared();
	if (!use_redis || !fn)
		return true; /* in-process, or publish-only (a worker process) */
	atomic_store(&running, true);
	if (pthread_create(&sub_thread, NULL, subscriber, NULL) != 0)
		return false;
	sub_started = true;
	return true;
}

void events_stop(void)
{
	if (sub_started) {
		atomic_store(&running, false);
		int fd = atomic_load(&sub_fd);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		pthread_join(sub_thread, NULL);
		sub_started = false;
	}
	deliver = NULL;
	use_redis = false;
}
