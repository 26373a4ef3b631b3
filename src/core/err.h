/*
 * err.h — the one error type of the project.
 *
 * Functions that can fail return bool (or a NULL pointer) and fill an err_t
 * the caller owns (usually on its stack). The kind maps to an HTTP status in
 * src/api only; domain code never speaks HTTP. `code` is the stable,
 * machine-readable slug clients may switch on ("username_taken"), `field`
 * names the offending request field for validation errors, `detail` is for
 * humans. The idiom is curl's:
 *
 *     if (!users_create(db, &in, &user, &e)) goto out;
 */
#ifndef COSMIV_ERR_H
#define COSMIV_ERR_H

#include <stdbool.h>

typedef enum {
	ERR_NONE = 0,
	ERR_BAD_REQUEST,  /* malformed request (400) */
	ERR_INVALID,	  /* well-formed but fails validation (422) */
	ERR_UNAUTHORIZED, /* 401 */
	ERR_FORBIDDEN,	  /* 403 */
	ERR_NOT_FOUND,	  /* 404 */
	ERR_CONFLICT,	  /* 409 */
	ERR_TOO_LARGE,	  /* 413 */
	ERR_RATE_LIMITED, /* 429, retry_after set */
	ERR_INTERNAL,	  /* 500 */
	ERR_UNAVAILABLE,  /* 503 */
} err_kind_t;

typedef struct {
	err_kind_t kind;
	int retry_after; /* seconds, for ERR_RATE_LIMITED */
	char code[48];
	char field[64];
	char detail[256];
} err_t;

void err_clear(err_t *e);
/* field may be NULL. Returns false so callers can `return err_set(...)`. */
bool err_set(err_t *e, err_kind_t kind, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
