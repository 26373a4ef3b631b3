/*
 * log.h — structured logging: one JSON object per line on stderr.
 *
 *   log_info("server listening", "addr", "127.0.0.1:8080", NULL);
 *
 * Each record carries ts, level, msg, the calling thread's request id (when a
 * request is being served) and any extra string key/value pairs. Numbers go
 * through log_kv_* builders when a record needs them (see http/server.c).
 * Lines are written with one write(2) so records from different threads never
 * interleave.
 */
#ifndef COSMIV_LOG_H
#define COSMIV_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_set_level(log_level_t level);
/* Whether a record at this level would be written (to skip building one that would not). */
bool log_enabled(log_level_t level);
bool log_parse_level(const char *s, log_level_t *out);

/* The request id of the calling thread ("" when none). */
void log_set_request_id(const char *rid);
const char *log_request_id(void);

/* Varargs: pairs of const char* key, const char* value, terminated by NULL. */
void log_msg(log_level_t level, const char *msg, ...) __attribute__((sentinel));
/* A record whose extra fields are already a JSON object body ("\"a\":1,\"b\":\"x\""). */
void log_raw(log_level_t level, const char *msg, const char *json_fields);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
