/*
 * users.c — see users.h.
 */
#include "users/users.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define USER_COLS                                                                                            \
	"id, username, email, role, display_name, bio, disabled, created_at, updated_at, "                   \
	"password_hash, plan"

bool users_valid_username(const char *s, err_t *e)
{
	size_t n = strlen(s);
	if (n < USERNAME_MIN || n > USERNAME_MAX)
		return err_set(e, ERR_INVALID, "invalid_username", "username",
			       "username must be %d to %d characters", USERNAME_MIN, USERNAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_'))
			return err_set(e, ERR_INVALID, "invalid_username", "username",
				       "username may contain only letters, digits and underscores");
	}
	return true;
}

/*
 * A pragmatic address check (the WHATWG "valid e-mail address" grammar,
 * which browsers use for <input type=email>): one @, a local part of
 * printable ASCII specials, and a domain of dot-separated labels of letters,
 * digits and hyphens, each 1–63 long, not starting or ending with a hyphen.
 * The real proof is a confirmation mail, which this check does not replace.
 */
bool users_valid_email(const char *s, err_t *e)
{
	static const char local_ok[] = "!#$%&'*+/=?^_`{|}~.-";
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (n > EMAIL_MAX || !at || at == s || strchr(at + 1, '@') || !at[1])
		goto bad;
	for (const char *p = s; p < at; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr(local_ok, ch)))
			goto bad;
	}
	size_t label = 0;
	int labels = 0;
	for (const char *p = at + 1;; p++) {
		char ch = *p;
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				goto bad;
			labels++;
			label = 0;
			if (ch == '\0')
				break;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      (ch == '-' && label > 0)))
			goto bad;
		label++;
	}
	if (labels < 2)
		goto bad;
	return true;
bad:
	return err_set(e, ERR_INVALID, "invalid_email", "email", "email is not a valid address");
}

int users_role_rank(const char *role)
{
	if (strcmp(role, "user") == 0)
		return 0;
	if (strcmp(role, "moderator") == 0)
		return 1;
	if (strcmp(role, "admin") == 0)
		return 2;
	return -1;
}

bool users_valid_role(const char *s)
{
	return users_role_rank(s) >= 0;
}

static void copy_col(db_stmt_t *s, int col, char *dst, size_t n, bool *has)
{
	const char *v = db_col_text(s, col);
	if (has)
		*has = v != NULL;
	str_copy(dst, n, v ? v : "");
}

static void read_user(db_stmt_t *s, user_t *u)
{
	memset(u, 0, sizeof(*u));
	u->id = db_col_i64(s, 0);
	copy_col(s, 1, u->username, sizeof(u->username), NULL);
	copy_col(s, 2, u->email, sizeof(u->email), NULL);
	copy_col(s, 3, u->role, sizeof(u->role), NULL);
	copy_col(s, 4, u->display_name, sizeof(u->display_name), &u->has_display_name);
	copy_col(s, 5, u->bio, sizeof(u->bio), &u->has_bio);
	u->disabled = db_col_i64(s, 6) != 0;
	u->created_at = db_col_i64(s, 7);
	u->updated_at = db_col_i64(s, 8);
	copy_col(s, 9, u->password_hash, sizeof(u->password_hash), NULL);
	copy_col(s, 10, u->plan, sizeof(u->plan), NULL);
}

/* Runs a one-row SELECT of USER_COLS bound with one text or integer value. */
static bool get_one(db_conn_t *c, const char *sql, const char *text, int64_t num, user_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	if (text)
		db_bind_text(s, 1, text);
	else
		db_bind_i64(s, 1, num);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_user(s, out);
	db_finish(s);
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	return rc == DB_ROW;
}

bool users_get_by_id(db_conn_t *c, int64_t id, user_t *out, err_t *e)
{
	return get_one(c, "SELECT " USER_COLS " FROM users WHERE id = ?", NULL, id, out, e);
}

bool users_get_by_username(db_conn_t *c, const char *username, user_t *out, err_t *e)
{
	return get_one(c, "SELECT " USER_COLS " FROM users WHERE lower(username) = lower(?)", username, 0,
		       out, e);
}

bool users_get_by_login(db_conn_t *c, const char *login, user_t *out, err_t *e)
{
	if (strchr(login, '@'))
		return get_one(c, "SELECT " USER_COLS " FROM users WHERE lower(email) = lower(?)", login, 0,
			       out, e);
	return users_get_by_username(c, login, out, e);
}

/* Which field a unique violation was about: ask the database again. */
static bool conflict_field(db_conn_t *c, const char *username, const char *email, err_t *e)
{
	user_t tmp;
	err_t e2;
	if (users_get_by_username(c, username, &tmp, &e2))
		return err_set(e, ERR_CONFLICT, "username_taken", "username",
			       "that username is already taken");
	if (get_one(c, "SELECT " USER_COLS " FROM users WHERE lower(email) = lower(?)", email, 0, &tmp, &e2))
		return err_set(e, ERR_CONFLICT, "email_taken", "email",
			       "an account with that email already exists");
	return err_set(e, ERR_CONFLICT, "conflict", NULL, "the account could not be created; try again");
}

bool users_create(db_conn_t *c, const char *username, const char *email, const char *password_hash,
		  const char *role, user_t *out, err_t *e)
{
	if (!users_valid_username(username, e) || !users_valid_email(email, e))
		return false;
	if (!users_valid_role(role))
		return err_set(e, ERR_INVALID, "invalid_role", "role",
			       "role must be user, moderator or admin");
	int64_t now = time_now_ms();
	int64_t id = id_new();
	db_stmt_t *s = db_prepare(c,
				  "INSERT INTO users (id, username, email, password_hash, role, disabled,"
				  " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	db_bind_text(s, 2, username);
	db_bind_text(s, 3, email);
	db_bind_text(s, 4, password_hash);
	db_bind_text(s, 5, role);
	db_bind_i64(s, 6, now);
	db_bind_i64(s, 7, now);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc == DB_ERROR) {
		if (e->kind == ERR_CONFLICT)
			return conflict_field(c, username, email, e);
		return false;
	}
	return users_get_by_id(c, id, out, e);
}

static bool exec_update(db_stmt_t *s, err_t *e)
{
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	return true;
}

bool users_update_profile(db_conn_t *c, int64_t id, const char *display_name, bool set_display_name,
			  const char *bio, bool set_bio, err_t *e)
{
	/* CASE keeps the statement static: one prepared statement for every combination. */
	db_stmt_t *s = db_prepare(c,
				  "UPDATE users SET"
				  " display_name = CASE WHEN ? = 1 THEN ? ELSE display_name END,"
				  " bio = CASE WHEN ? = 1 THEN ? ELSE bio END, updated_at = ?"
				  " WHERE id = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, set_display_name);
	db_bind_text(s, 2, display_name && display_name[0] ? display_name : NULL);
	db_bind_i64(s, 3, set_bio);
	db_bind_text(s, 4, bio && bio[0] ? bio : NULL);
	db_bind_i64(s, 5, time_now_ms());
	db_bind_i64(s, 6, id);
	return exec_update(s, e);
}

bool users_set_password_hash(db_conn_t *c, int64_t id, const char *hash, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_text(s, 1, hash);
	db_bind_i64(s, 2, time_now_ms());
	db_bind_i64(s, 3, id);
	return exec_update(s, e);
}

bool users_set_role(db_conn_t *c, int64_t id, const char *role, err_t *e)
{
	if (!users_valid_role(role))
		return err_set(e, ERR_INVALID, "invalid_role", "role",
			       "role must be user, moderator or admin");
	db_stmt_t *s = db_prepare(c, "UPDATE users SET role = ?, updated_at = ? WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_text(s, 1, role);
	db_bind_i64(s, 2, time_now_ms());
	db_bind_i64(s, 3, id);
	return exec_update(s, e);
}

bool users_set_disabled(db_conn_t *c, int64_t id, bool disabled, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, disabled ? 1 : 0);
	db_bind_i64(s, 2, time_now_ms());
	db_bind_i64(s, 3, id);
	return exec_update(s, e);
}

bool users_delete(db_conn_t *c, int64_t id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "DELETE FROM users WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	return exec_update(s, e);
}

static void read_user_row(db_stmt_t *s, void *elem)
{
	read_user(s, elem);
}

bool users_list(db_conn_t *c, int64_t before, int limit, user_t **out, int *count, int64_t *next, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c, "SELECT " USER_COLS " FROM users WHERE id < ? ORDER BY id DESC LIMIT ?", e);
	if (!s)
		return false;
	return db_page(s, 1, before, limit, sizeof(user_t), offsetof(user_t, id), read_user_row, NULL,
		       (void **)out, count, next, e);
}
