/*
 * users.h — accounts: the users table and its rules.
 *
 * Usernames are 3–32 characters of [A-Za-z0-9_], unique without regard to
 * case (a unique index on lower(username)); the case the user chose is kept
 * for display. Emails are unique case-insensitively too. Roles are
 * user < moderator < admin.
 *
 * All functions take the caller's connection and fill a caller-owned user_t;
 * nothing here allocates what the caller must free except users_list.
 */
#ifndef COSMIV_USERS_H
#define COSMIV_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

#define USERNAME_MIN	 3
#define USERNAME_MAX	 32
#define EMAIL_MAX	 254
#define DISPLAY_NAME_MAX 64
#define BIO_MAX		 500

typedef struct {
	int64_t id;
	char username[USERNAME_MAX + 1];
	char email[EMAIL_MAX + 1];
	char role[16];
	char display_name[DISPLAY_NAME_MAX * 4 + 1]; /* code points → UTF-8 bytes */
	char bio[BIO_MAX * 4 + 1];
	bool has_display_name, has_bio;
	bool disabled;
	int64_t created_at;
	int64_t updated_at;
	char password_hash[128];
	char plan[8]; /* "free" | "pro" */
} user_t;

bool users_valid_username(const char *s, err_t *e);
bool users_valid_email(const char *s, err_t *e);
bool users_valid_role(const char *s);
/* user=0 < moderator=1 < admin=2; -1 when unknown. */
int users_role_rank(const char *role);

bool users_create(db_conn_t *c, const char *username, const char *email, const char *password_hash,
		  const char *role, user_t *out, err_t *e);
bool users_get_by_id(db_conn_t *c, int64_t id, user_t *out, err_t *e);
bool users_get_by_username(db_conn_t *c, const char *username, user_t *out, err_t *e);
/* login is a username or an email address. */
bool users_get_by_login(db_conn_t *c, const char *login, user_t *out, err_t *e);
/* NULL leaves a field as it is; "" clears it. */
bool users_update_profile(db_conn_t *c, int64_t id, const char *display_name, bool set_display_name,
			  const char *bio, bool set_bio, err_t *e);
bool users_set_password_hash(db_conn_t *c, int64_t id, const char *hash, err_t *e);
bool users_set_role(db_conn_t *c, int64_t id, const char *role, err_t *e);
bool users_set_disabled(db_conn_t *c, int64_t id, bool disabled, err_t *e);
bool users_delete(db_conn_t *c, int64_t id, err_t *e);

/* Page of users ordered by id descending, starting below `before` (0: from the top).
 * *out is a heap array the caller frees; *next is the cursor for the next page, 0 when none. */
bool users_list(db_conn_t *c, int64_t before, int limit, user_t **out, int *count, int64_t *next, err_t *e);

#endif
