/*
 * auth.c — see auth.h.
 */
#include "auth/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "auth/password.h"
#include "communities/communities.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/util.h"
#include "social/social.h"

static uint8_t *signing_key;
static _Atomic uint64_t key_gen = 1; /* moves with auth_init: a new key forgets verify_token's memo */
static size_t signing_key_len;
/* HMAC state with the key already absorbed, for media URL signatures (media feeds sign dozens per page) */
static crypto_auth_hmacsha256_state *media_hmac;
static int access_ttl = 900;
static int refresh_ttl = 30 * 86400;

/* ==== Set-up ==== */

bool auth_init(const uint8_t *key, size_t keylen, int access_ttl_s, int refresh_ttl_s, err_t *e)
{
	if (keylen < JWT_MIN_KEY)
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_JWT_SECRET",
			       "the JWT secret must be at least %d bytes", JWT_MIN_KEY);
	auth_shutdown();
	atomic_fetch_add(&key_gen, 1);
	signing_key = sodium_malloc(keylen);
	memcpy(signing_key, key, keylen);
	signing_key_len = keylen;
	media_hmac = sodium_malloc(sizeof(*media_hmac));
	crypto_auth_hmacsha256_init(media_hmac, signing_key, signing_key_len);
	access_ttl = access_ttl_s;
	refresh_ttl = refresh_ttl_s;
	return true;
}

void auth_shutdown(void)
{
	if (signing_key)
		sodium_free(signing_key);
	if (media_hmac)
		sodium_free(media_hmac);
	signing_key = NULL;
	media_hmac = NULL;
	signing_key_len = 0;
}

bool auth_load_secret(const char *configured, const char *data_dir, bool production, uint8_t **key,
		      size_t *keylen, err_t *e)
{
	if (configured && configured[0]) {
		size_t n = strlen(configured);
		if (n < JWT_MIN_KEY)
			return err_set(e, ERR_INVALID, "bad_config", "COSMIV_JWT_SECRET",
				       "COSMIV_JWT_SECRET must be at least %d bytes (it has %zu)",
				       JWT_MIN_KEY, n);
		*key = (uint8_t *)xstrdup(configured);
		*keylen = n;
		return true;
	}
	if (production)
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_JWT_SECRET",
			       "COSMIV_JWT_SECRET is required when COSMIV_ENV=production");
	char *path = xasprintf("%s/jwt.secret", data_dir);
	uint8_t buf[64];
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n != (ssize_t)sizeof(buf)) {
			err_set(e, ERR_INVALID, "bad_config", NULL, "%s is damaged (expected 64 bytes)",
				path);
			goto out;
		}
	} else {
		/* O_EXCL: two processes starting at once cannot both create it. */
		randombytes_buf(buf, sizeof(buf));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST) {
			free(path);
			usleep(50000);
			return auth_load_secret(configured, data_dir, production, key, keylen, e);
		}
		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fsync(fd) != 0) {
			if (fd >= 0)
				close(fd);
			err_set(e, ERR_UNAVAILABLE, "bad_config", NULL, "cannot write %s: %s", path,
				strerror(errno));
			goto out;
		}
		close(fd);
		log_info("generated a JWT signing secret", "path", path, NULL);
	}
	*key = xmalloc(sizeof(buf));
	memcpy(*key, buf, sizeof(buf));
	*keylen = sizeof(buf);
	ok = true;
out:
	sodium_memzero(buf, sizeof(buf));
	free(path);
	return ok;
}

bool auth_valid_password(const char *password, const char *field, err_t *e)
{
	size_t n = jx_utf8_len(password);
	if (n < PASSWORD_MIN)
		return err_set(e, ERR_INVALID, "weak_password", field,
			       "password must be at least %d characters", PASSWORD_MIN);
	if (n > PASSWORD_MAX)
		return err_set(e, ERR_INVALID, "password_too_long", field,
			       "password must be at most %d characters", PASSWORD_MAX);
	return true;
}

/* ==== Tokens and sessions ==== */

static void token_hash(const char *token, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static void new_refresh_token(char out[REFRESH_TOKEN_LEN])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, "cvr_", 4);
	sodium_bin2base64(out + 4, REFRESH_TOKEN_LEN - 4, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool store_refresh_token(db_conn_t *c, int64_t session_id, const char *token, err_t *e)
{
	char h[65];
	token_hash(token, h);
	int64_t now = time_now_ms();
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)"
		       " VALUES (?, ?, ?, ?)",
		       e);
	if (!s)
		return false;
	db_bind_text(s, 1, h);
	db_bind_i64(s, 2, session_id);
	db_bind_i64(s, 3, now);
	db_bind_i64(s, 4, now + (int64_t)refresh_ttl * 1000);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool issue_access(auth_result_t *out)
{
	int64_t now = time_now_s();
	jwt_claims_t cl = {.sub = out->user.id, .sid = out->session_id, .iat = now, .exp = now + access_ttl};
	out->access_token = jwt_sign(signing_key, signing_key_len, &cl);
	out->expires_in = access_ttl;
	return true;
}

static bool start_session(db_conn_t *c, const user_t *u, const auth_client_t *cl, auth_result_t *out,
			  err_t *e)
{
	int64_t now = time_now_ms();
	int64_t sid = id_new();
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s = db_prepare(c,
				  "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,"
				  " user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
				  e);
	if (!s)
		goto fail;
	char ua[256];
	str_copy(ua, sizeof(ua), cl && cl->user_agent ? cl->user_agent : "");
	db_bind_i64(s, 1, sid);
	db_bind_i64(s, 2, u->id);
	db_bind_i64(s, 3, now);
	db_bind_i64(s, 4, now);
	db_bind_i64(s, 5, now + (int64_t)refresh_ttl * 1000);
	db_bind_text(s, 6, ua);
	db_bind_text(s, 7, cl && cl->ip ? cl->ip : "");
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		goto fail;
	new_refresh_token(out->refresh_token);
	if (!store_refresh_token(c, sid, out->refresh_token, e) || !db_commit(c, e))
		goto fail;
	out->user = *u;
	out->session_id = sid;
	return issue_access(out);
fail:
	db_rollback(c);
	return false;
}

void auth_result_cleanup(auth_result_t *r)
{
	free(r->access_token);
	r->access_token = NULL;
	sodium_memzero(r->refresh_token, sizeof(r->refresh_token));
}

bool auth_revoke_sessions(db_conn_t *c, int64_t user_id, int64_t keep, const char *reason, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "UPDATE sessions SET revoked_at = ?, revoked_reason = ?"
				  " WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, time_now_ms());
	db_bind_text(s, 2, reason);
	db_bind_i64(s, 3, user_id);
	db_bind_i64(s, 4, keep);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool revoke_session(db_conn_t *c, int64_t sid, const char *reason, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "UPDATE sessions SET revoked_at = ?, revoked_reason = ?"
				  " WHERE id = ? AND revoked_at IS NULL",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, time_now_ms());
	db_bind_text(s, 2, reason);
	db_bind_i64(s, 3, sid);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

/* ==== Signed media URLs ==== */

void auth_sign_path(const char *path, int64_t exp, char out[48])
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "media:%s:%lld", path, (long long)exp);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st = *media_hmac; /* the key's two blocks are already hashed */
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (size_t)n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, 48, mac, sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool auth_verify_path(const char *path, int64_t exp, const char *sig)
{
	char want[48];
	if (!sig || exp < time_now_s() || strlen(sig) != 43)
		return false;
	auth_sign_path(path, exp, want);
	return sodium_memcmp(want, sig, 43) == 0;
}

/* ==== Flows ==== */

bool auth_create_user(db_conn_t *c, const char *username, const char *email, const char *password,
		      const char *role, user_t *out, err_t *e)
{
	if (!users_valid_username(username, e) || !users_valid_email(email, e) ||
	    !auth_valid_password(password, "password", e))
		return false;
	/* Check before paying for the hash; the unique index still decides races. */
	user_t existing;
	err_t e2;
	if (users_get_by_username(c, username, &existing, &e2))
		return err_set(e, ERR_CONFLICT, "username_taken", "username",
			       "that username is already taken");
	if (users_get_by_login(c, email, &existing, &e2))
		return err_set(e, ERR_CONFLICT, "email_taken", "email",
			       "an account with that email already exists");
	char hash[PASSWORD_HASH_MAX];
	if (!password_hash(password, hash))
		return err_set(e, ERR_UNAVAILABLE, "busy", NULL, "cannot hash the password right now");
	return users_create(c, username, email, hash, role, out, e);
}

bool auth_register(db_conn_t *c, const char *username, const char *email, const char *password,
		   const auth_client_t *cl, auth_result_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	user_t u;
	if (!auth_create_user(c, username, email, password, "user", &u, e))
		return false;
	return start_session(c, &u, cl, out, e);
}

static bool bad_credentials(err_t *e)
{
	return err_set(e, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
		       "Invalid username/email or password.");
}

bool auth_login(db_conn_t *c, const char *login, const char *password, const auth_client_t *cl,
		auth_result_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	user_t u;
	err_t e2;
	if (!users_get_by_login(c, login, &u, &e2)) {
		if (e2.kind != ERR_NOT_FOUND) {
			*e = e2;
			return false;
		}
		password_burn(password); /* same cost as a real check: no user enumeration by timing */
		return bad_credentials(e);
	}
	if (!password_verify(u.password_hash, password))
		return bad_credentials(e);
	if (u.disabled)
		return err_set(e, ERR_FORBIDDEN, "account_disabled", NULL, "this account has been disabled");
	if (password_needs_rehash(u.password_hash)) {
		char hash[PASSWORD_HASH_MAX];
		if (password_hash(password, hash) && users_set_password_hash(c, u.id, hash, &e2))
			str_copy(u.password_hash, sizeof(u.password_hash), hash);
	}
	return start_session(c, &u, cl, out, e);
}

static bool bad_refresh(err_t *e, const char *code, const char *detail)
{
	return err_set(e, ERR_UNAUTHORIZED, code, NULL, "%s", detail);
}

bool auth_refresh(db_conn_t *c, const char *token, const auth_client_t *cl, auth_result_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	if (!token || strlen(token) != REFRESH_TOKEN_LEN - 1 || !str_has_prefix(token, "cvr_"))
		return bad_refresh(e, "invalid_refresh_token", "the refresh token is not valid");
	char h[65];
	token_hash(token, h);
	int64_t now = time_now_ms();
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s = db_prepare(c,
				  "SELECT r.session_id, r.used_at, r.expires_at, s.revoked_at,"
				  " s.expires_at, s.user_id FROM refresh_tokens r"
				  " JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?",
				  e);
	if (!s)
		goto fail;
	db_bind_text(s, 1, h);
	int rc = db_step(s, e);
	int64_t sid = 0, user_id = 0, tok_exp = 0, sess_exp = 0;
	bool used = false, revoked = false;
	if (rc == DB_ROW) {
		sid = db_col_i64(s, 0);
		used = !db_col_is_null(s, 1);
		tok_exp = db_col_i64(s, 2);
		revoked = !db_col_is_null(s, 3);
		sess_exp = db_col_i64(s, 4);
		user_id = db_col_i64(s, 5);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;
	if (rc == DB_DONE) {
		db_rollback(c);
		return bad_refresh(e, "invalid_refresh_token", "the refresh token is not valid");
	}
	if (revoked) {
		db_rollback(c);
		return bad_refresh(e, "session_revoked", "this session has ended; sign in again");
	}
	/* Mark used atomically: of two racing requests exactly one wins. */
	s = db_prepare(c, "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
		       e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, now);
	db_bind_text(s, 2, h);
	rc = db_step(s, e);
	int64_t changed = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;
	if (used || changed == 0) {
		/* Reuse: someone replayed a rotated token. End the whole family. */
		if (!revoke_session(c, sid, "refresh_token_reuse", e) || !db_commit(c, e))
			goto fail;
		log_warn("refresh token reuse detected; session revoked", NULL);
		return bad_refresh(e, "refresh_token_reused",
				   "this refresh token was already used; the session has been ended "
				   "for safety, sign in again");
	}
	if (tok_exp <= now || sess_exp <= now) {
		db_rollback(c);
		return bad_refresh(e, "refresh_token_expired", "the session has expired; sign in again");
	}
	user_t u;
	err_t e2;
	if (!users_get_by_id(c, user_id, &u, &e2) || u.disabled) {
		db_rollback(c);
		return bad_refresh(e, "invalid_refresh_token", "the account is not available");
	}
	new_refresh_token(out->refresh_token);
	if (!store_refresh_token(c, sid, out->refresh_token, e))
		goto fail;
	s = db_prepare(c, "UPDATE sessions SET last_used_at = ?, ip = ? WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, now);
	db_bind_text(s, 2, cl && cl->ip ? cl->ip : "");
	db_bind_i64(s, 3, sid);
	rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE || !db_commit(c, e))
		goto fail;
	out->user = u;
	out->session_id = sid;
	return issue_access(out);
fail:
	db_rollback(c);
	auth_result_cleanup(out);
	return false;
}

bool auth_logout(db_conn_t *c, const char *token, err_t *e)
{
	if (!token || strlen(token) != REFRESH_TOKEN_LEN - 1)
		return true;
	char h[65];
	token_hash(token, h);
	db_stmt_t *s = db_prepare(c,
				  "UPDATE sessions SET revoked_at = ?, revoked_reason = 'logout'"
				  " WHERE revoked_at IS NULL AND id ="
				  " (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, time_now_ms());
	db_bind_text(s, 2, h);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

/*
 * Verified access tokens, remembered per thread: a client sends the same token
 * with every request until it expires, and verifying it (two base64 decodes,
 * two JSON parses, an HMAC) costs more than serving a cached feed page. Only a
 * token that verified under the current key is kept, byte for byte, with its
 * claims; expiry is checked again on every use (an expired one goes through
 * jwt_verify for its error), and the session is still read every time, so
 * signing out or a revoked session ends access at once.
 */
#define TOKEN_MEMO     32
#define TOKEN_MEMO_LEN 1024

static _Thread_local struct {
	uint64_t gen;
	size_t len;
	jwt_claims_t cl;
	char tok[TOKEN_MEMO_LEN];
} token_memo[TOKEN_MEMO];

static bool verify_token(const char *token, jwt_claims_t *cl, err_t *e)
{
	int64_t now = time_now_s();
	size_t len = strnlen(token, TOKEN_MEMO_LEN);
	__typeof__(&token_memo[0]) m = &token_memo[hash_bytes(token, len) % TOKEN_MEMO];
	uint64_t gen = atomic_load(&key_gen);
	if (len < TOKEN_MEMO_LEN && m->gen == gen && m->len == len && memcmp(m->tok, token, len) == 0 &&
	    m->cl.exp > now) {
		*cl = m->cl;
		return true;
	}
	if (!jwt_verify(signing_key, signing_key_len, token, now, cl, e))
		return false;
	if (len < TOKEN_MEMO_LEN) {
		memcpy(m->tok, token, len);
		m->len = len;
		m->cl = *cl;
		m->gen = gen;
	}
	return true;
}

bool auth_authenticate(db_conn_t *c, const char *token, auth_principal_t *out, err_t *e)
{
	jwt_claims_t cl;
	if (!verify_token(token, &cl, e))
		return false;
	db_stmt_t *s = db_prepare(c, "SELECT revoked_at, user_id FROM sessions WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, cl.sid);
	int rc = db_step(s, e);
	bool live = rc == DB_ROW && db_col_is_null(s, 0) && db_col_i64(s, 1) == cl.sub;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (!live)
		return err_set(e, ERR_UNAUTHORIZED, "session_revoked", NULL,
			       "this session has ended; sign in again");
	err_t e2;
	if (!users_get_by_id(c, cl.sub, &out->user, &e2)) {
		if (e2.kind != ERR_NOT_FOUND) {
			*e = e2;
			return false;
		}
		return err_set(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "the account no longer exists");
	}
	if (out->user.disabled)
		return err_set(e, ERR_UNAUTHORIZED, "account_disabled", NULL,
			       "this account has been disabled");
	out->session_id = cl.sid;
	return true;
}

bool auth_change_password(db_conn_t *c, const auth_principal_t *p, const char *current,
			  const char *new_password, err_t *e)
{
	if (!auth_valid_password(new_password, "new_password", e))
		return false;
	if (!password_verify(p->user.password_hash, current))
		return err_set(e, ERR_FORBIDDEN, "wrong_password", "current_password",
			       "the current password is wrong");
	char hash[PASSWORD_HASH_MAX];
	if (!password_hash(new_password, hash))
		return err_set(e, ERR_UNAVAILABLE, "busy", NULL, "cannot hash the password right now");
	if (!db_begin(c, e))
		return false;
	if (!users_set_password_hash(c, p->user.id, hash, e) ||
	    !auth_revoke_sessions(c, p->user.id, p->session_id, "password_changed", e) || !db_commit(c, e)) {
		db_rollback(c);
		return false;
	}
	return true;
}

bool auth_delete_account(db_conn_t *c, const auth_principal_t *p, const char *password, err_t *e)
{
	if (!password_verify(p->user.password_hash, password))
		return err_set(e, ERR_FORBIDDEN, "wrong_password", "password", "the password is wrong");
	if (!db_begin(c, e))
		return false;
	if (!social_user_leaving(c, p->user.id, e) || !communities_user_leaving(c, p->user.id, e) ||
	    !users_delete(c, p->user.id, e) || !db_commit(c, e)) {
		db_rollback(c);
		return false;
	}
	return true;
}

bool auth_reset_password(db_conn_t *c, const char *login, const char *password, err_t *e)
{
	user_t u;
	if (!auth_valid_password(password, "password", e) || !users_get_by_login(c, login, &u, e))
		return false;
	char hash[PASSWORD_HASH_MAX];
	if (!password_hash(password, hash))
		return err_set(e, ERR_UNAVAILABLE, "busy", NULL, "cannot hash the password right now");
	if (!db_begin(c, e))
		return false;
	if (!users_set_password_hash(c, u.id, hash, e) ||
	    !auth_revoke_sessions(c, u.id, 0, "password_reset", e) || !db_commit(c, e)) {
		db_rollback(c);
		return false;
	}
	return true;
}
