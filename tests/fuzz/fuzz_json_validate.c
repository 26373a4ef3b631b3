/*
 * libFuzzer target: request bodies through jx_parse_object + jx_validate with
 * a field table covering every kind of rule, then the accessors.
 *
 * Besides the sanitizers, it checks the contract: a failure is 400
 * invalid_json (parse) or 422 with a code and a field, both valid UTF-8 as
 * they end up in a JSON response (validate); a success means every declared
 * rule holds for the object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/util.h"

static const jx_field_t fields[] = {{"username", JX_STRING, .required = true, .min = 3, .max = 32},
				    {"bio", JX_STRING, .nullable = true, .max = 20},
				    {"name", JX_STRING, .min = 1, .max = 4},
				    {"age", JX_INT, .min = 0, .max = 150},
				    {"offset", JX_INT, .min = -100},
				    {"admin", JX_BOOL},
				    {"flag", JX_BOOL, .nullable = true},
				    {"score", JX_NUMBER},
				    {"meta", JX_OBJECT, .nullable = true},
				    {"tags", JX_ARRAY},
				    {0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_success(json_t *o)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		const jx_field_t *f = fields;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (!f->name)
			abort(); /* unknown field accepted */
	}
	for (const jx_field_t *f = fields; f->name; f++) {
		json_t *x = json_object_get(o, f->name);
		if (!x || json_is_null(x)) {
			if (f->required || (x && !f->nullable))
				abort();
			continue;
		}
		if (f->type == JX_STRING) {
			const char *s = jx_str(o, f->name);
			if (!s || json_string_length(x) != strlen(s))
				abort();
			int64_t n = (int64_t)jx_utf8_len(s);
			if (n < f->min || (f->max && n > f->max))
				abort();
		} else if (f->type == JX_INT) {
			if (!json_is_integer(x))
				abort();
			int64_t n = jx_int(o, f->name, 0);
			if (n < f->min || (f->max && n > f->max))
				abort();
		}
	}
	(void)jx_bool(o, "admin", false);
	(void)jx_has(o, "meta");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	err_t e;
	err_clear(&e);
	json_t *o = jx_parse_object((const char *)data, size, &e);
	if (!o) {
		if (e.kind != ERR_BAD_REQUEST || strcmp(e.code, "invalid_json") != 0)
			abort();
		return 0;
	}
	err_clear(&e);
	if (jx_validate(o, fields, &e)) {
		check_success(o);
	} else {
		if (e.kind != ERR_INVALID || !e.code[0])
			abort();
		/* The field is named (it may be "" only for an unknown empty key). */
		if (!e.field[0] && (strcmp(e.code, "unknown_field") != 0 || !jx_has(o, "")))
			abort();
		/* field and detail go back to the client inside a JSON problem document:
		 * they must stay valid UTF-8 (json_string refuses anything else). */
		json_t *f = json_string(e.field), *d = json_string(e.detail);
		if (!f || !d)
			abort();
		json_decref(f);
		json_decref(d);
	}
	char *s = jx_dump(o);
	free(s);
	json_decref(o);
	return 0;
}
