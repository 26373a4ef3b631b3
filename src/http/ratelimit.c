/*
 * ratelimit.c — see ratelimit.h.
 */
#include "http/ratelimit.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/util.h"
#include "http/metrics.h"

/* ==== In-process GCRA ==== */

#define SHARDS	    16
#define SWEEP_EVERY 4096

typedef struct entry {
	struct entry *next;
	int64_t tat; /* theoretical arrival time, ms */
	char key[];
} entry_t;

typedef struct {
	pthread_mutex_t mu;
	entry_t *buckets[1024];
	unsigned inserts;
} shard_t;

static shard_t shards[SHARDS];
static bool local_ready;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void local_init(void)
{
	if (local_ready)
		return;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&shards[i].mu, NULL);
	local_ready = true;
}

/* Drops entries whose TAT is in the past: they carry no state any more. */
static void sweep(shard_t *sh, int64_t now)
{
	for (size_t b = 0; b < ARRAY_LEN(sh->buckets); b++) {
		entry_t **pp = &sh->buckets[b];
		while (*pp) {
			if ((*pp)->tat < now) {
				entry_t *dead = *pp;
				*pp = dead->next;
				free(dead);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

/* The GCRA step. Returns 0 when allowed (and advances *tat), else ms to wait. */
static int64_t gcra(int64_t *tat, int64_t now, int per_min, int burst)
{
	int64_t t = 60000 / (per_min > 0 ? per_min : 1);
	int64_t cur = *tat > now ? *tat : now;
	int64_t next = cur + t;
	int64_t allow_at = next - (int64_t)burst * t;
	if (now < allow_at)
		return allow_at - now;
	*tat = next;
	return 0;
}

bool ratelimit_local_allow(const char *key, int per_min, int burst, int64_t now, int *retry_after_s)
{
	local_init();
	uint64_t h = hash(key);
	shard_t *sh = &shards[h % SHARDS];
	pthread_mutex_lock(&sh->mu);
	entry_t **slot = &sh->buckets[(h / SHARDS) % ARRAY_LEN(sh->buckets)];
	entry_t *e = *slot;
	while (e && strcmp(e->key, key) != 0)
		e = e->next;
	if (!e) {
		if (++sh->inserts % SWEEP_EVERY == 0)
			sweep(sh, now);
		size_t kl = strlen(key);
		e = xmalloc(sizeof(*e) + kl + 1);
		memcpy(e->key, key, kl + 1);
		e->tat = 0;
		e->next = *slot;
		*slot = e;
	}
	int64_t wait = gcra(&e->tat, now, per_min, burst);
	pthread_mutex_unlock(&sh->mu);
	if (wait == 0)
		return true;
	*retry_after_s = (int)((wait + 999) / 1000);
	return false;
}

/* ==== Redis GCRA ==== */

static const char *gcra_lua = "local t = redis.call('TIME')\n"
			      "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
			      "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
			      "local T = tonumber(ARGV[1])\n"
			      "local burst = tonumber(ARGV[2])\n"
			      "if tat < now then tat = now end\n"
			      "local nxt = tat + T\n"
			      "local allow_at = nxt - burst * T\n"
			      "if now < allow_at then return allow_at - now end\n"
			      "redis.call('SET', KEYS[1], nxt, 'PX', nxt - now + 1)\n"
			      "return 0\n";

static char *redis_host;
static int redis_port;
static int redis_db;
static char *redis_password;
static pthread_key_t redis_key;
static bool use_redis;

static void redis_release(void *p)
{
	redisFree(p);
}

static bool parse_redis_url(const char *url, err_t *e)
{
	if (!str_has_prefix(url, "redis://"))
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_REDIS_URL",
			       "COSMIV_REDIS_URL must start with redis://");
	const char *p = url + 8;
	const char *at = strrchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		redis_password = xstrndup(pw, (size_t)(at - pw));
		p = at + 1;
	}
	const char *slash = strchr(p, '/');
	size_t hostport = slash ? (size_t)(slash - p) : strlen(p);
	char *hp = xstrndup(p, hostport);
	char *colon = strrchr(hp, ':');
	int64_t port = 6379;
	if (colon) {
		*colon = '\0';
		if (!parse_i64(colon + 1, &port) || port <= 0 || port > 65535) {
			free(hp);
			return err_set(e, ERR_INVALID, "bad_config", "COSMIV_REDIS_URL",
				       "COSMIV_REDIS_URL has a bad port");
		}
	}
	redis_host = hp;
	redis_port = (int)port;
	if (slash && slash[1]) {
		int64_t db = 0;
		if (!parse_i64(slash + 1, &db) || db < 0 || db > 1000)
			return err_set(e, ERR_INVALID, "bad_config", "COSMIV_REDIS_URL",
				       "COSMIV_REDIS_URL has a bad database number");
		redis_db = (int)db;
	}
	return true;
}

/* A new connection, authenticated and on the configured database; NULL when Redis is unreachable. */
static redisContext *redis_open(void)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout(redis_host, redis_port, tv);
	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (redis_password && redis_password[0]) {
		redisReply *r = redisCommand(c, "AUTH %s", redis_password);
		bool ok = r && r->type != REDIS_REPLY_ERROR;
		freeReplyObject(r);
		if (!ok) {
			redisFree(c);
			return NULL;
		}
	}
	if (redis_db) {
		redisReply *r = redisCommand(c, "SELECT %d", redis_db);
		freeReplyObject(r);
	}
	return c;
}

static redisContext *redis_conn(void)
{
	redisContext *c = pthread_getspecific(redis_key);
	if (c && !c->err)
		return c;
	if (c) {
		pthread_setspecific(redis_key, NULL);
		redisFree(c);
	}
	c = redis_open();
	if (c)
		pthread_setspecific(redis_key, c);
	return c;
}

static bool redis_allow(const char *key, int per_min, int burst, int *retry_after_s, bool *ok)
{
	*ok = false;
	redisContext *c = redis_conn();
	if (!c)
		return true;
	long long t = 60000 / (per_min > 0 ? per_min : 1);
	redisReply *r = redisCommand(c, "EVAL %s 1 cosmiv:rl:%s %lld %d", gcra_lua, key, t, burst);
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		if (r && r->type == REDIS_REPLY_ERROR)
			log_warn("redis rate limit script failed", "detail", r->str, NULL);
		freeReplyObject(r);
		return true;
	}
	*ok = true;
	long long wait = r->integer;
	freeReplyObject(r);
	if (wait <= 0)
		return true;
	*retry_after_s = (int)((wait + 999) / 1000);
	return false;
}

bool ratelimit_init(const char *redis_url, err_t *e)
{
	local_init();
	if (!redis_url || !redis_url[0])
		return true;
	if (!parse_redis_url(redis_url, e))
		return false;
	pthread_key_create(&redis_key, redis_release);
	use_redis = true;
	redisContext *c = redis_conn();
	if (!c)
		return err_set(e, ERR_UNAVAILABLE, "redis_unavailable", NULL,
			       "cannot connect to Redis at %s:%d", redis_host, redis_port);
	return true;
}

void ratelimit_shutdown(void)
{
	if (use_redis) {
		redisContext *c = pthread_getspecific(redis_key);
		if (c) {
			pthread_setspecific(redis_key, NULL);
			redisFree(c);
		}
		use_redis = false;
	}
	free(redis_host);
	free(redis_password);
	redis_host = redis_password = NULL;
	if (local_ready) {
		for (int i = 0; i < SHARDS; i++) {
			sweep(&shards[i], INT64_MAX);
			pthread_mutex_destroy(&shards[i].mu);
		}
		local_ready = false;
	}
}

const char *ratelimit_backend(void)
{
	return use_redis ? "redis" : "memory";
}

bool ratelimit_allow(const char *key, int per_min, int burst, int *retry_after_s)
{
	bool allowed;
	if (use_redis) {
		bool ok;
		allowed = redis_allow(key, per_min, burst, retry_after_s, &ok);
		if (ok)
			goto out;
		metrics_count("cosmiv_ratelimit_redis_errors_total", "backend", "redis");
	}
	allowed = ratelimit_local_allow(key, per_min, burst, time_now_ms(), retry_after_s);
out:
	if (!allowed) {
		/* Label by scope ("login" of "login:ip:…"): never by IP or account. */
		char scope[32];
		str_copy(scope, sizeof(scope), key);
		scope[strcspn(scope, ":")] = '\0';
		metrics_count("cosmiv_rate_limited_total", "scope", scope);
	}
	return allowed;
}

/* ==== the shared key-value store for caches (feed snapshots) ==== */

bool kv_shared(void)
{
	return use_redis;
}

bool kv_set(const char *key, const void *val, size_t n, int ttl_s)
{
	redisContext *c = use_redis ? redis_conn() : NULL;
	if (!c)
		return false;
	redisReply *r = redisCommand(c, "SET cosmiv:%s %b EX %d", key, val, n, ttl_s);
	bool ok = r && r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	return ok;
}

void *kv_get(const char *key, size_t *n)
{
	redisContext *c = use_redis ? redis_conn() : NULL;
	*n = 0;
	if (!c)
		return NULL;
	redisReply *r = redisCommand(c, "GET cosmiv:%s", key);
	void *out = NULL;
	if (r && r->type == REDIS_REPLY_STRING) {
		out = xmalloc(r->len + 1);
		memcpy(out, r->str, r->len);
		*n = r->len;
	}
	freeReplyObject(r);
	return out;
}

bool kv_del(const char *key)
{
	redisContext *c = use_redis ? redis_conn() : NULL;
	if (!c)
		return false;
	redisReply *r = redisCommand(c, "DEL cosmiv:%s", key);
	bool ok = r && r->type == REDIS_REPLY_INTEGER;
	freeReplyObject(r);
	return ok;
}

bool kv_append(const char *stream, const void *msg, size_t n, long maxlen)
{
	redisContext *c = use_redis ? redis_conn() : NULL;
	if (!c)
		return false;
	redisReply *r = redisCommand(c, "XADD cosmiv:%s MAXLEN ~ %ld * d %b", stream, maxlen, msg, n);
	bool ok = r && r->type == REDIS_REPLY_STRING;
	freeReplyObject(r);
	return ok;
}

void *kv_blocking_conn(const char *name)
{
	redisContext *c = use_redis ? redis_open() : NULL;
	if (!c)
		return NULL;
	if (name) { /* shows in CLIENT LIST: whose connection this is */
		redisReply *r = redisCommand(c, "CLIENT SETNAME %s", name);
		freeReplyObject(r);
	}
	/* Reads block until data arrives; the owner stops the reader with shutdown(fd). */
	struct timeval none = {0, 0};
	redisSetTimeout(c, none);
	return c;
}
