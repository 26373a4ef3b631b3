/*
 * jsonx.h — JSON in and out, on jansson, in one line per use.
 *
 * Requests: jx_parse_object() turns a body into an object or a precise error
 * (400 invalid_json with jansson's line/column), and jx_validate() checks it
 * against a field table: unknown fields, missing required fields, wrong
 * types and lengths are all ERR_INVALID naming the field. Handlers declare
 * what they accept and read the values without re-checking:
 *
 *     static const jx_field_t fields[] = {
 *         {"username", JX_STRING, .required = true, .min = 3, .max = 32},
 *         {"bio", JX_STRING, .max = 500, .nullable = true},
 *         {0}};
 *     json_t *in = jx_parse_object(body, len, &e);
 *     if (!in || !jx_validate(in, fields, &e)) ...
 *     const char *name = jx_str(in, "username");
 *
 * String lengths are counted in Unicode code points (jansson has already
 * rejected invalid UTF-8 and embedded NULs).
 *
 * Ownership: jx_parse_object returns a new reference (json_decref it).
 * Accessors return borrowed pointers valid while the object lives.
 */
#ifndef COSMIV_JSONX_H
#define COSMIV_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum { JX_STRING = 1, JX_INT, JX_BOOL, JX_NUMBER, JX_OBJECT, JX_ARRAY } jx_type_t;

typedef struct {
	const char *name;
	jx_type_t type;
	bool required;
	bool nullable;
	int64_t min; /* string: code points; int: value */
	int64_t max; /* 0 = no limit (strings) / no upper bound (ints) */
} jx_field_t;

json_t *jx_parse_object(const char *body, size_t len, err_t *e);
bool jx_validate(json_t *obj, const jx_field_t *fields, err_t *e);

/* Borrowed string, or NULL when absent or null. */
const char *jx_str(json_t *obj, const char *name);
int64_t jx_int(json_t *obj, const char *name, int64_t deflt);
bool jx_bool(json_t *obj, const char *name, bool deflt);
/* Present in the object (even when null). */
bool jx_has(json_t *obj, const char *name);

/* Number of Unicode code points in valid UTF-8. */
size_t jx_utf8_len(const char *s);

/* Compact serialisation; the caller frees the result. */
char *jx_dump(const json_t *v);
/* ms since epoch → ISO-8601 JSON string (new reference). */
json_t *jx_time(int64_t ms);
/* id → decimal JSON string (new reference): 63-bit ids do not fit a JS number. */
json_t *jx_id(int64_t id);

#endif
