/*
 * util.h — memory, growable buffers, time and identifiers.
 *
 * Allocation failure is not a recoverable condition for a server like this
 * one (Redis, Kore and H2O take the same stance): every x*alloc helper aborts
 * with a message instead of returning NULL, so callers never carry
 * "out of memory" paths they cannot test.
 *
 * buf_t is the one growable byte buffer of the project. It is always
 * NUL-terminated so it can be handed to C string APIs. Owner: whoever called
 * buf_init; release with buf_cleanup (or take the bytes with buf_steal and
 * free() them).
 *
 * All functions here are thread-safe.
 */
#ifndef COSMIV_UTIL_H
#define COSMIV_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct {
	char *data;
	size_t len;
	size_t cap;
} buf_t;

void buf_init(buf_t *b);
void buf_cleanup(buf_t *b);
void buf_reset(buf_t *b);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* s as a JSON string literal, quotes included (s is valid UTF-8). */
void buf_put_json_string(buf_t *b, const char *s);
/* Hands the bytes to the caller (free() them); the buffer is left empty. */
char *buf_steal(buf_t *b);

/* Wall clock in milliseconds / seconds since the Unix epoch. */
int64_t time_now_ms(void);
int64_t time_now_s(void);
/* Monotonic clock in nanoseconds, for measuring durations. */
uint64_t time_mono_ns(void);
/* Formats ms-since-epoch as ISO-8601 UTC with milliseconds ("2026-01-02T03:04:05.678Z"). */
void time_iso8601(int64_t ms, char out[32]);

/*
 * Time-ordered 63-bit identifiers: 41 bits of milliseconds since 2024-01-01,
 * 22 random bits. Unique across processes and machines with overwhelming
 * probability, sortable by creation time, and safe as cursor keys.
 * Exposed to clients as decimal strings (JavaScript numbers hold 53 bits).
 */
int64_t id_new(void);
/* Parses a decimal id; returns false when s is not a positive 63-bit decimal. */
bool id_parse(const char *s, int64_t *out);

/* Strict decimal parsing (the project bans atoi): whole string, range-checked. */
bool parse_i64(const char *s, int64_t *out);

/* Case-insensitive ASCII compare helpers. */
bool str_ieq(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
/* Bounded copy that always terminates; returns false when truncated. */
bool str_copy(char *dst, size_t dstlen, const char *src);
/* FNV-1a of n bytes: the slot of a key in a small direct-mapped table (not for anything adversarial). */
uint32_t hash_bytes(const void *p, size_t n);
/* A heap copy of s with every occurrence of from (non-empty) replaced by to. */
char *str_replace_all(const char *s, const char *from, const char *to);

#endif
