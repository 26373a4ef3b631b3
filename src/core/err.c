/*
 * err.c — see err.h.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void err_clear(err_t *e)
{
	memset(e, 0, sizeof(*e));
}

bool err_set(err_t *e, err_kind_t kind, const char *code, const char *field, const char *fmt, ...)
{
	if (!e)
		return false;
	err_clear(e);
	e->kind = kind;
	str_copy(e->code, sizeof(e->code), code);
	if (field)
		str_copy(e->field, sizeof(e->field), field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return false;
}
