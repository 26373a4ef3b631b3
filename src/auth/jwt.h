/*
 * jwt.h — access tokens: compact JWS with HS256 only (RFC 7519 / 7515).
 *
 * The algorithm is fixed by the server, never taken from the token: the
 * header must say exactly {"alg":"HS256"} (with an optional "typ":"JWT" and
 * nothing else), so "alg":"none", RS256/HS512 confusion and "crit" tricks are
 * rejected before any signature work. The signature is HMAC-SHA256 with the
 * server secret (libsodium), compared in constant time. Then iss, aud, exp,
 * iat, sub and sid are checked.
 *
 * Claims: sub = user id, sid = session (refresh-token family) id; both are
 * decimal strings. The caller still has to check that the user and session
 * exist and are active — a valid signature says nothing about revocation.
 *
 * Pure functions; thread-safe.
 */
#ifndef COSMIV_JWT_H
#define COSMIV_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JWT_ISSUER   "cosmiv"
#define JWT_AUDIENCE "cosmiv-api"
#define JWT_MAX_LEN  4096
#define JWT_MIN_KEY  32

typedef struct {
	int64_t sub; /* user id */
	int64_t sid; /* session id */
	int64_t iat; /* seconds */
	int64_t exp; /* seconds */
} jwt_claims_t;

/* Returns a new token (caller frees). */
char *jwt_sign(const uint8_t *key, size_t keylen, const jwt_claims_t *c);
/* now: seconds since the epoch. On failure ERR_UNAUTHORIZED with a reason code. */
bool jwt_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now, jwt_claims_t *out,
		err_t *e);

#endif
