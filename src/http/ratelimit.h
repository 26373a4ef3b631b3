/*
 * ratelimit.h — rate limits with GCRA (the generic cell rate algorithm).
 *
 * A limit is "per_min requests per minute, with bursts of up to `burst`".
 * GCRA keeps one number per key (the theoretical arrival time), so it is
 * exact, O(1) and tiny next to a sliding window log.
 *
 * Backends: in-process (a sharded hash table) when COSMIV_REDIS_URL is
 * empty; Redis (one Lua script, atomic, using the Redis clock) when set, so
 * every server node shares the same budget. If Redis cannot be reached the
 * check falls back to the in-process table and counts
 * cosmiv_ratelimit_redis_errors_total: a limit that is briefly per-node is
 * better than an outage of sign-in.
 *
 * Thread-safe after ratelimit_init.
 */
#ifndef COSMIV_RATELIMIT_H
#define COSMIV_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

bool ratelimit_init(const char *redis_url, err_t *e);
void ratelimit_shutdown(void);
/* true when allowed; otherwise false with *retry_after_s ≥ 1. */
bool ratelimit_allow(const char *key, int per_min, int burst, int *retry_after_s);
/* The in-process algorithm with an explicit clock (unit tests). */
bool ratelimit_local_allow(const char *key, int per_min, int burst, int64_t now_ms, int *retry_after_s);
/* "redis" or "memory". */
const char *ratelimit_backend(void);

/*
 * A small shared key-value store on the same Redis connection, for caches
 * that every node must see (feed ranking snapshots). kv_shared() is false
 * without COSMIV_REDIS_URL; then kv_set fails and kv_get finds nothing, and
 * callers keep their data in-process. Keys are prefixed with "cosmiv:".
 * kv_get returns a heap copy (the caller frees it) or NULL.
 */
bool kv_shared(void);
bool kv_set(const char *key, const void *val, size_t n, int ttl_s);
void *kv_get(const char *key, size_t *n);
bool kv_del(const char *key);
/* XADD {d: msg} to the stream "cosmiv:<stream>", trimmed to about maxlen entries
 * (false without Redis or when it failed). */
bool kv_append(const char *stream, const void *msg, size_t n, long maxlen);
/* A new connection of the caller's own (a redisContext *, to redisFree) for blocking
 * reads such as XREAD BLOCK 0: no read timeout (stop a reader with shutdown() on its
 * fd), named `name` in CLIENT LIST when not NULL; NULL without Redis or on failure. */
void *kv_blocking_conn(const char *name);

#endif
