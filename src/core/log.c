/*
 * log.c — JSON-lines logger. See log.h.
 *
 * Strings are escaped with jansson's encoder rules kept here by hand for the
 * small set that matters in a log line (quotes, backslash, control bytes), so
 * logging never allocates through jansson and never fails.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

static log_level_t min_level = LOG_INFO;
static __thread char request_id[72];

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level_t level)
{
	min_level = level;
}

bool log_parse_level(const char *s, log_level_t *out)
{
	for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
		if (str_ieq(s, level_names[i])) {
			*out = (log_level_t)i;
			return true;
		}
	}
	return false;
}

void log_set_request_id(const char *rid)
{
	str_copy(request_id, sizeof(request_id), rid ? rid : "");
}

const char *log_request_id(void)
{
	return request_id;
}

static void emit(log_level_t level, const char *msg, buf_t *fields)
{
	char ts[32];
	buf_t b;
	buf_init(&b);
	time_iso8601(time_now_ms(), ts);
	buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
	buf_put_json_string(&b, msg);
	if (request_id[0]) {
		buf_puts(&b, ",\"request_id\":");
		buf_put_json_string(&b, request_id);
	}
	if (fields && fields->len) {
		buf_putc(&b, ',');
		buf_append(&b, fields->data, fields->len);
	}
	buf_puts(&b, "}\n");
	ssize_t off = 0;
	while ((size_t)off < b.len) {
		ssize_t n = write(STDERR_FILENO, b.data + off, b.len - (size_t)off);
		if (n <= 0)
			break;
		off += n;
	}
	buf_cleanup(&b);
}

void log_msg(log_level_t level, const char *msg, ...)
{
	if (level < min_level)
		return;
	buf_t f;
	buf_init(&f);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (f.len)
			buf_putc(&f, ',');
		buf_put_json_string(&f, k);
		buf_putc(&f, ':');
		buf_put_json_string(&f, v ? v : "");
	}
	va_end(ap);
	emit(level, msg, &f);
	buf_cleanup(&f);
}

bool log_enabled(log_level_t level)
{
	return level >= min_level;
}

void log_raw(log_level_t level, const char *msg, const char *json_fields)
{
	if (level < min_level)
		return;
	buf_t f;
	buf_init(&f);
	if (json_fields)
		buf_puts(&f, json_fields);
	emit(level, msg, &f);
	buf_cleanup(&f);
}
