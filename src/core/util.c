/*
 * util.c — see util.h. Small, dependency-free helpers used everywhere.
 */
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

static void oom(size_t n)
{
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	buf_t b;
	va_list ap;
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_steal(&b);
}

/* ==== Buffers ==== */

void buf_init(buf_t *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_cleanup(buf_t *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(buf_t *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_reserve(buf_t *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(buf_t *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *buf_steal(buf_t *b)
{
	char *p = b->data;
	if (!p)
		p = xstrdup("");
	buf_init(b);
	return p;
}

/* ==== Time ==== */

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_s(void)
{
	return time_now_ms() / 1000;
}

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void time_iso8601(int64_t ms, char out[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	int year = tm.tm_year + 1900, milli = (int)(ms % 1000);
	if (year < 0 || year > 9999 || milli < 0) { /* outside what the fast path below writes */
		char tmp[96];
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli < 0 ? 0 : milli);
		str_copy(out, 32, tmp);
		return;
	}
	/* written digit by digit: this runs for every timestamp of every JSON answer */
	int v[] = {year / 100, year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
	static const char sep[] = {0, 0, '-', '-', 'T', ':', ':'};
	char *p = out;
	for (int i = 0; i < 7; i++) {
		if (sep[i])
			*p++ = sep[i];
		*p++ = (char)('0' + v[i] / 10);
		*p++ = (char)('0' + v[i] % 10);
	}
	*p++ = '.';
	*p++ = (char)('0' + milli / 100);
	*p++ = (char)('0' + milli / 10 % 10);
	*p++ = (char)('0' + milli % 10);
	*p++ = 'Z';
	*p = '\0';
}

/* ==== Identifiers ==== */

#define ID_EPOCH_MS 1704067200000LL /* 2024-01-01T00:00:00Z */

int64_t id_new(void)
{
	int64_t ms = time_now_ms() - ID_EPOCH_MS;
	uint32_t r = randombytes_uniform(1u << 22);
	return (int64_t)(((uint64_t)ms << 22) | r) & INT64_MAX;
}

bool parse_i64(const char *s, int64_t *out)
{
	/* strtoll would skip leading white space and accept '+': the whole string must be the number */
	if (!s || !((*s >= '0' && *s <= '9') || *s == '-'))
		return false;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return false;
	*out = (int64_t)v;
	return true;
}

bool id_parse(const char *s, int64_t *out)
{
	if (!s || !*s || strlen(s) > 19)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	int64_t v;
	if (!parse_i64(s, &v) || v <= 0)
		return false;
	*out = v;
	return true;
}

/* ==== Strings ==== */

bool str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint32_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

bool str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (dstlen == 0)
		return false;
	if (n >= dstlen) {
		memcpy(dst, src, dstlen - 1);
		dst[dstlen - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

char *str_replace_all(const char *s, const char *from, const char *to)
{
	buf_t b;
	buf_init(&b);
	size_t n = strlen(from);
	for (const char *p; (p = strstr(s, from)) != NULL; s = p + n) {
		buf_append(&b, s, (size_t)(p - s));
		buf_puts(&b, to);
	}
	buf_puts(&b, s);
	return buf_steal(&b);
}

/* Copies runs of plain characters at once; escapes only what JSON requires. */
void buf_put_json_string(buf_t *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	buf_putc(b, '"');
	const char *run = s;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		buf_append(b, run, (size_t)((const char *)p - run));
		run = (const char *)p + 1;
		switch (*p) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			buf_append(b, u, sizeof(u));
		}
		}
	}
	buf_puts(b, run);
	buf_putc(b, '"');
}
