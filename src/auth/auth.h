/*
 * auth.h — sign-up, sign-in, sessions and tokens.
 *
 * A session is one sign-in on one device. It owns a chain of refresh
 * tokens: opaque random strings ("cvr_" + 43 base64url chars, 256 bits)
 * stored only as SHA-256, each usable once. Using one returns a new pair and
 * marks the old one used; presenting a used one again means someone else
 * holds a copy, so the whole session is revoked (RFC 6819 §5.2.2.3, OAuth
 * 2.1 refresh token rotation).
 *
 * Access tokens are HS256 JWTs (jwt.h) naming the user (sub) and the
 * session (sid), valid for COSMIV_ACCESS_TTL_S. auth_authenticate checks the
 * signature and claims and then the database: the user must exist and not be
 * disabled, and the session must not be revoked — so sign-out, password
 * change, disabling and deletion take effect immediately, not at expiry.
 *
 * The signing key is set once by auth_init (thread-safe afterwards).
 */
#ifndef COSMIV_AUTH_H
#define COSMIV_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"
#include "users/users.h"

#define PASSWORD_MIN	  8
#define PASSWORD_MAX	  128
#define REFRESH_TOKEN_LEN 48

typedef struct {
	user_t user;
	int64_t session_id;
	char *access_token; /* heap; auth_result_cleanup frees */
	char refresh_token[REFRESH_TOKEN_LEN];
	int expires_in;
} auth_result_t;

typedef struct {
	user_t user;
	int64_t session_id;
} auth_principal_t;

typedef struct {
	const char *user_agent;
	const char *ip;
} auth_client_t;

/* key: at least JWT_MIN_KEY bytes. */
bool auth_init(const uint8_t *key, size_t keylen, int access_ttl_s, int refresh_ttl_s, err_t *e);
void auth_shutdown(void);

/*
 * Loads the signing secret: `configured` when non-empty (≥ 32 bytes), else
 * data_dir/jwt.secret, created with 64 random bytes and mode 0600 on first
 * use. In production an empty `configured` is an error.
 */
bool auth_load_secret(const char *configured, const char *data_dir, bool production, uint8_t **key,
		      size_t *keylen, err_t *e);

bool auth_valid_password(const char *password, const char *field, err_t *e);

bool auth_register(db_conn_t *c, const char *username, const char *email, const char *password,
		   const auth_client_t *cl, auth_result_t *out, err_t *e);
bool auth_login(db_conn_t *c, const char *login, const char *password, const auth_client_t *cl,
		auth_result_t *out, err_t *e);
bool auth_refresh(db_conn_t *c, const char *refresh_token, const auth_client_t *cl, auth_result_t *out,
		  err_t *e);
/* Revokes the session of refresh_token. Unknown tokens are not an error (idempotent). */
bool auth_logout(db_conn_t *c, const char *refresh_token, err_t *e);
void auth_result_cleanup(auth_result_t *r);

/* Verifies a bearer access token and loads its user. */
bool auth_authenticate(db_conn_t *c, const char *token, auth_principal_t *out, err_t *e);

/* Checks the current password, stores the new hash, revokes every other session. */
bool auth_change_password(db_conn_t *c, const auth_principal_t *p, const char *current,
			  const char *new_password, err_t *e);
/* Checks the password and deletes the account (sessions go with it). */
bool auth_delete_account(db_conn_t *c, const auth_principal_t *p, const char *password, err_t *e);
/* Revokes all sessions of a user except `keep` (0: all). */
bool auth_revoke_sessions(db_conn_t *c, int64_t user_id, int64_t keep, const char *reason, err_t *e);

/*
 * Signed URLs for media (a <video> element cannot send an Authorization
 * header): HMAC-SHA256 with the signing key over "path:exp", base64url.
 * exp is seconds since the epoch.
 */
void auth_sign_path(const char *path, int64_t exp, char out[48]);
bool auth_verify_path(const char *path, int64_t exp, const char *sig);

/* For `cosmiv admin create`: validate + hash + insert with a role. */
bool auth_create_user(db_conn_t *c, const char *username, const char *email, const char *password,
		      const char *role, user_t *out, err_t *e);
/* For `cosmiv admin reset-password`. */
bool auth_reset_password(db_conn_t *c, const char *login, const char *password, err_t *e);

#endif
