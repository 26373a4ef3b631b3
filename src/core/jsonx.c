/*
 * jsonx.c — see jsonx.h.
 */
#include "core/jsonx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

json_t *jx_parse_object(const char *body, size_t len, err_t *e)
{
	json_error_t je;
	if (len == 0) {
		err_set(e, ERR_BAD_REQUEST, "invalid_json", NULL,
			"the request body is empty; expected a JSON object");
		return NULL;
	}
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		err_set(e, ERR_BAD_REQUEST, "invalid_json", NULL, "malformed JSON at line %d, column %d: %s",
			je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		err_set(e, ERR_BAD_REQUEST, "invalid_json", NULL, "expected a JSON object");
		return NULL;
	}
	return v;
}

size_t jx_utf8_len(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}

static const char *type_name(jx_type_t t)
{
	switch (t) {
	case JX_STRING:
		return "a string";
	case JX_INT:
		return "an integer";
	case JX_BOOL:
		return "a boolean";
	case JX_NUMBER:
		return "a number";
	case JX_OBJECT:
		return "an object";
	case JX_ARRAY:
		return "an array";
	}
	return "?";
}

static bool type_ok(const json_t *v, jx_type_t t)
{
	switch (t) {
	case JX_STRING:
		return json_is_string(v);
	case JX_INT:
		return json_is_integer(v);
	case JX_BOOL:
		return json_is_boolean(v);
	case JX_NUMBER:
		return json_is_number(v);
	case JX_OBJECT:
		return json_is_object(v);
	case JX_ARRAY:
		return json_is_array(v);
	}
	return false;
}

bool jx_validate(json_t *obj, const jx_field_t *fields, err_t *e)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		const jx_field_t *f = fields;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (!f->name) {
			char shown[40];
			str_copy(shown, sizeof(shown), key);
			/* a cut name must not end inside a UTF-8 sequence: keep whole code points */
			size_t keep = 0;
			for (size_t i = 0; shown[i];) {
				unsigned char c = (unsigned char)shown[i];
				size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
				size_t k = 1;
				while (k < len && shown[i + k])
					k++;
				if (k < len)
					break;
				i += len;
				keep = i;
			}
			shown[keep] = '\0';
			return err_set(e, ERR_INVALID, "unknown_field", shown, "unknown field \"%s\"", shown);
		}
	}
	for (const jx_field_t *f = fields; f->name; f++) {
		json_t *v = json_object_get(obj, f->name);
		if (!v || json_is_null(v)) {
			if (f->required)
				return err_set(e, ERR_INVALID, "missing_field", f->name, "%s is required",
					       f->name);
			if (v && !f->nullable)
				return err_set(e, ERR_INVALID, "invalid_type", f->name,
					       "%s must be %s, not null", f->name, type_name(f->type));
			continue;
		}
		if (!type_ok(v, f->type))
			return err_set(e, ERR_INVALID, "invalid_type", f->name, "%s must be %s", f->name,
				       type_name(f->type));
		if (f->type == JX_STRING) {
			size_t n = jx_utf8_len(json_string_value(v));
			if (json_string_length(v) != strlen(json_string_value(v)))
				return err_set(e, ERR_INVALID, "invalid_value", f->name,
					       "%s must not contain NUL characters", f->name);
			if ((int64_t)n < f->min)
				return err_set(e, ERR_INVALID, "too_short", f->name,
					       "%s must be at least %lld characters", f->name,
					       (long long)f->min);
			if (f->max && (int64_t)n > f->max)
				return err_set(e, ERR_INVALID, "too_long", f->name,
					       "%s must be at most %lld characters", f->name,
					       (long long)f->max);
		} else if (f->type == JX_INT) {
			json_int_t x = json_integer_value(v);
			if (x < f->min || (f->max && x > f->max))
				return err_set(e, ERR_INVALID, "out_of_range", f->name,
					       "%s must be between %lld and %lld", f->name, (long long)f->min,
					       (long long)f->max);
		}
	}
	return true;
}

const char *jx_str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

int64_t jx_int(json_t *obj, const char *name, int64_t deflt)
{
	json_t *v = json_object_get(obj, name);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : deflt;
}

bool jx_bool(json_t *obj, const char *name, bool deflt)
{
	json_t *v = json_object_get(obj, name);
	return json_is_boolean(v) ? json_is_true(v) : deflt;
}

bool jx_has(json_t *obj, const char *name)
{
	return json_object_get(obj, name) != NULL;
}

char *jx_dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : xstrdup("null"); /* jansson allocates with malloc: free() it */
}

json_t *jx_time(int64_t ms)
{
	char iso[32];
	time_iso8601(ms, iso);
	return json_string(iso);
}

json_t *jx_id(int64_t id)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", (long long)id);
	return json_string(s);
}
