/*
 * bus.c — carries published events to the gateway of every node.
 *
 * Without Redis an event goes straight to this process's gateway. With Redis
 * it is PUBLISHed on cosmiv:events and every node, this one included, gets
 * it from its subscriber thread, so all nodes see events in the one order
 * Redis gave them. Wire format (internal):
 *   {"t":TYPE,"sc":SCOPE,"c":COMMUNITY,"ch":CHANNEL,"u":USER,"x":EXCLUDE,"f":FLAGS,"d":{…}}
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway/events.h"
#include "http/ratelimit.h"

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
	if (!use_redis || !kv_publish("events", s, n)) {
		if (use_redis)
			log_warn("event not published to Redis; delivered on this node only", "type",
				 ev->type, NULL);
		if (deliver)
			deliver(s, n);
	}
	free(s);
}

static void *subscriber(void *arg)
{
	(void)arg;
	redisContext *c = NULL;
	int backoff_ms = 100;
	while (atomic_load(&running)) {
		if (!c) {
			c = kv_subscriber("events");
			if (!c) {
				struct timespec ts = {backoff_ms / 1000,
						      (long)(backoff_ms % 1000) * 1000000L};
				nanosleep(&ts, NULL);
				backoff_ms = backoff_ms < 2000 ? backoff_ms * 2 : 2000;
				continue;
			}
			backoff_ms = 100;
			atomic_store(&sub_fd, c->fd);
			if (!atomic_load(&running))
				break;
		}
		redisReply *r = NULL;
		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			if (atomic_load(&running))
				log_warn("Redis event subscription lost; reconnecting", "detail", c->errstr,
					 NULL);
			atomic_store(&sub_fd, -1);
			redisFree(c);
			c = NULL;
			continue;
		}
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[2]->type == REDIS_REPLY_STRING)
			deliver(r->element[2]->str, r->element[2]->len);
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
