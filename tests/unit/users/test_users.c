/*
 * Unit tests for src/users/users.c: validation rules and the users table, on
 * SQLite and (when configured) PostgreSQL, each case on a freshly migrated
 * database.
 */
#define DBFIX_SCHEMA "cosmiv_unit_users"
#include "dbfix.h"

#include "users/users.h"

#define HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

static dbfix_t *migrated(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	if (!db_migrate(f->db, &applied, &e))
		fail_msg("db_migrate: %s", e.detail);
	return f;
}

static void create_ok(dbfix_t *f, const char *username, const char *email, user_t *out)
{
	err_t e;
	err_clear(&e);
	if (!users_create(f->c, username, email, HASH, "user", out, &e))
		fail_msg("users_create(%s, %s): %s %s", username, email, e.code, e.detail);
}

/* ==== Validation ==== */

static void test_users_valid_username(void **state)
{
	(void)state;
	err_t e;
	static const char *ok[] = {"abc", "A_z9", "___", "user_123",
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345" /* 32 */};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (!users_valid_username(ok[i], &e))
			fail_msg("rejected username \"%s\"", ok[i]);
	static const char *bad[] = {"",
				    "a",
				    "ab",
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456" /* 33 */,
				    "a-b",
				    "a b",
				    "a.b",
				    "ab@",
				    "\xc3\xa9\xc3\xa9\xc3\xa9",
				    "abc\n",
				    " abc",
				    "abc/"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err_clear(&e);
		if (users_valid_username(bad[i], &e))
			fail_msg("accepted username \"%s\"", bad[i]);
		assert_err(&e, ERR_INVALID, "invalid_username");
		assert_string_equal(e.field, "username");
	}
}

static void test_users_valid_email(void **state)
{
	(void)state;
	err_t e;
	char label63[64], ok63[128], bad64[128];
	memset(label63, 'x', 63);
	label63[63] = '\0';
	snprintf(ok63, sizeof(ok63), "a@%s.co", label63);
	snprintf(bad64, sizeof(bad64), "a@%sx.co", label63);
	char long_ok[EMAIL_MAX + 1], too_long[EMAIL_MAX + 2];
	/* 254 characters: "a...a@" + "b.co" */
	memset(long_ok, 'a', EMAIL_MAX - 5);
	memcpy(long_ok + EMAIL_MAX - 5, "@b.co", 6);
	assert_int_equal(strlen(long_ok), EMAIL_MAX);
	memset(too_long, 'a', EMAIL_MAX - 4);
	memcpy(too_long + EMAIL_MAX - 4, "@b.co", 6);
	assert_int_equal(strlen(too_long), EMAIL_MAX + 1);

	const char *ok[] = {"a@b.co",
			    "first.last+tag@example.com",
			    "A@B.CO",
			    "a@b-c.co",
			    "x@sub.domain.example",
			    "o'neil@x.ie",
			    "1@2.3",
			    ok63,
			    long_ok};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (!users_valid_email(ok[i], &e))
			fail_msg("rejected email \"%s\"", ok[i]);
	const char *bad[] = {"",	 "a@b",	     "a@@b.co",	      "@b.co",	      "a@-b.co",
			     "a@b-.co",	 "a@b..co",  "a@.b.co",	      "a@b.co.",      "a@",
			     "ab.co",	 "a b@c.co", " a@b.co",	      "a@b.co ",      "a@b c.co",
			     "a@b_c.co", "a@b.c@o",  "\xc3\xa9@b.co", "a@b.\xc3\xa9", "a(b)@c.co",
			     bad64,	 too_long};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err_clear(&e);
		if (users_valid_email(bad[i], &e))
			fail_msg("accepted email \"%s\"", bad[i]);
		assert_err(&e, ERR_INVALID, "invalid_email");
		assert_string_equal(e.field, "email");
	}
}

static void test_users_role_rank(void **state)
{
	(void)state;
	assert_int_equal(users_role_rank("user"), 0);
	assert_int_equal(users_role_rank("moderator"), 1);
	assert_int_equal(users_role_rank("admin"), 2);
	assert_int_equal(users_role_rank("Admin"), -1);
	assert_int_equal(users_role_rank(""), -1);
	assert_int_equal(users_role_rank("root"), -1);
	assert_true(users_valid_role("moderator"));
	assert_false(users_valid_role("superuser"));
}

/* ==== Create and read ==== */

static void test_users_create_and_get(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t before = time_now_ms();
	user_t u;
	create_ok(f, "Alice_1", "Alice@Example.com", &u);
	assert_true(u.id > 0);
	assert_string_equal(u.username, "Alice_1"); /* case kept for display */
	assert_string_equal(u.email, "Alice@Example.com");
	assert_string_equal(u.role, "user");
	assert_string_equal(u.password_hash, HASH);
	assert_false(u.has_display_name);
	assert_false(u.has_bio);
	assert_false(u.disabled);
	assert_true(u.created_at >= before && u.created_at <= time_now_ms());
	assert_int_equal(u.updated_at, u.created_at);

	user_t g;
	err_t e;
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_int_equal(g.id, u.id);
	assert_string_equal(g.username, "Alice_1");
	assert_true(users_get_by_username(f->c, "alice_1", &g, &e));
	assert_int_equal(g.id, u.id);
	assert_true(users_get_by_username(f->c, "ALICE_1", &g, &e));
	assert_int_equal(g.id, u.id);
	assert_true(users_get_by_login(f->c, "aLiCe_1", &g, &e));
	assert_int_equal(g.id, u.id);
	assert_true(users_get_by_login(f->c, "alice@EXAMPLE.COM", &g, &e));
	assert_int_equal(g.id, u.id);
}

static void test_users_get_missing_is_not_found(void **state)
{
	dbfix_t *f = migrated(state);
	user_t g;
	err_t e;
	err_clear(&e);
	assert_false(users_get_by_id(f->c, 12345, &g, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	err_clear(&e);
	assert_false(users_get_by_username(f->c, "nobody", &g, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	err_clear(&e);
	assert_false(users_get_by_login(f->c, "nobody@example.com", &g, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	/* A LIKE-style pattern is not a wildcard. */
	user_t u;
	create_ok(f, "bob", "bob@example.com", &u);
	assert_false(users_get_by_username(f->c, "b%", &g, &e));
	assert_false(users_get_by_username(f->c, "b_b", &g, &e));
}

static void test_users_create_with_roles(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u;
	err_t e;
	assert_true(users_create(f->c, "admin1", "admin@example.com", HASH, "admin", &u, &e));
	assert_string_equal(u.role, "admin");
	assert_true(users_create(f->c, "mod1", "mod@example.com", HASH, "moderator", &u, &e));
	assert_string_equal(u.role, "moderator");
	err_clear(&e);
	assert_false(users_create(f->c, "root1", "root@example.com", HASH, "root", &u, &e));
	assert_err(&e, ERR_INVALID, "invalid_role");
	assert_string_equal(e.field, "role");
}

static void test_users_create_validates_input(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u;
	err_t e;
	err_clear(&e);
	assert_false(users_create(f->c, "a-b", "a@b.co", HASH, "user", &u, &e));
	assert_string_equal(e.field, "username");
	err_clear(&e);
	assert_false(users_create(f->c, "abc", "a@b", HASH, "user", &u, &e));
	assert_string_equal(e.field, "email");
	int64_t n = -1;
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM users", &n, &e, 0));
	assert_int_equal(n, 0);
}

static void test_users_duplicate_username_any_case_is_conflict(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u;
	create_ok(f, "Alice", "alice@example.com", &u);
	err_t e;
	err_clear(&e);
	user_t v;
	assert_false(users_create(f->c, "aLICE", "other@example.com", HASH, "user", &v, &e));
	assert_int_equal(e.kind, ERR_CONFLICT);
	assert_string_equal(e.code, "username_taken");
	assert_string_equal(e.field, "username");
	/* Both taken: the username is reported. */
	err_clear(&e);
	assert_false(users_create(f->c, "ALICE", "ALICE@example.com", HASH, "user", &v, &e));
	assert_string_equal(e.field, "username");
}

static void test_users_duplicate_email_any_case_is_conflict(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u;
	create_ok(f, "alice", "alice@example.com", &u);
	err_t e;
	err_clear(&e);
	user_t v;
	assert_false(users_create(f->c, "alice2", "Alice@EXAMPLE.com", HASH, "user", &v, &e));
	assert_int_equal(e.kind, ERR_CONFLICT);
	assert_string_equal(e.code, "email_taken");
	assert_string_equal(e.field, "email");
	int64_t n = -1;
	assert_true(db_query_i64(f->c, "SELECT count(*) FROM users", &n, &e, 0));
	assert_int_equal(n, 1);
}

/* ==== Updates ==== */

static void test_users_update_profile(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u, g;
	create_ok(f, "carol", "carol@example.com", &u);
	err_t e;
	assert_true(
	    users_update_profile(f->c, u.id, "C\xc3\xa4rol \xf0\x9f\x8c\xb8", true, "Hello", true, &e));
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_true(g.has_display_name);
	assert_string_equal(g.display_name, "C\xc3\xa4rol \xf0\x9f\x8c\xb8");
	assert_true(g.has_bio);
	assert_string_equal(g.bio, "Hello");
	assert_true(g.updated_at >= u.updated_at);
	/* Not set: unchanged. */
	assert_true(users_update_profile(f->c, u.id, NULL, false, "Bye", true, &e));
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_string_equal(g.display_name, "C\xc3\xa4rol \xf0\x9f\x8c\xb8");
	assert_string_equal(g.bio, "Bye");
	/* "" (or NULL with set) clears. */
	assert_true(users_update_profile(f->c, u.id, "", true, NULL, true, &e));
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_false(g.has_display_name);
	assert_string_equal(g.display_name, "");
	assert_false(g.has_bio);
	/* Unknown id. */
	err_clear(&e);
	assert_false(users_update_profile(f->c, u.id + 1, "x", true, NULL, false, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
}

static void test_users_set_role_disabled_password(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u, g;
	create_ok(f, "dave", "dave@example.com", &u);
	err_t e;
	assert_true(users_set_role(f->c, u.id, "moderator", &e));
	assert_true(users_set_disabled(f->c, u.id, true, &e));
	assert_true(users_set_password_hash(f->c, u.id, "$argon2id$new", &e));
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_string_equal(g.role, "moderator");
	assert_true(g.disabled);
	assert_string_equal(g.password_hash, "$argon2id$new");
	assert_true(users_set_disabled(f->c, u.id, false, &e));
	assert_true(users_get_by_id(f->c, u.id, &g, &e));
	assert_false(g.disabled);
	err_clear(&e);
	assert_false(users_set_role(f->c, u.id, "god", &e));
	assert_err(&e, ERR_INVALID, "invalid_role");
	err_clear(&e);
	assert_false(users_set_role(f->c, 999, "admin", &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	err_clear(&e);
	assert_false(users_set_disabled(f->c, 999, true, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	err_clear(&e);
	assert_false(users_set_password_hash(f->c, 999, "x", &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
}

static void test_users_delete(void **state)
{
	dbfix_t *f = migrated(state);
	user_t u, g;
	create_ok(f, "erin", "erin@example.com", &u);
	err_t e;
	assert_true(users_delete(f->c, u.id, &e));
	err_clear(&e);
	assert_false(users_get_by_id(f->c, u.id, &g, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	err_clear(&e);
	assert_false(users_delete(f->c, u.id, &e));
	assert_err(&e, ERR_NOT_FOUND, "user_not_found");
	/* The name is free again. */
	create_ok(f, "ERIN", "erin@example.com", &g);
	assert_int_not_equal(g.id, u.id);
}

/* ==== Listing ==== */

static void test_users_list_paginates(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t ids[5];
	for (int i = 0; i < 5; i++) {
		char name[16], email[32];
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(email, sizeof(email), "user%d@example.com", i);
		user_t u;
		create_ok(f, name, email, &u);
		ids[i] = u.id;
	}
	err_t e;
	user_t *items = NULL;
	int count = -1;
	int64_t next = -1, cursor = 0, last = INT64_MAX;
	static const int want[] = {2, 2, 1};
	int seen = 0;
	for (int page = 0; page < 3; page++) {
		assert_true(users_list(f->c, cursor, 2, &items, &count, &next, &e));
		assert_int_equal(count, want[page]);
		for (int i = 0; i < count; i++) {
			assert_true(items[i].id < last); /* strictly descending across pages */
			last = items[i].id;
			bool known = false;
			for (int k = 0; k < 5; k++)
				known |= items[i].id == ids[k];
			assert_true(known);
			assert_true(str_has_prefix(items[i].username, "user"));
			seen++;
		}
		if (page < 2) {
			assert_int_equal(next, items[count - 1].id);
		} else {
			assert_int_equal(next, 0);
		}
		cursor = next;
		free(items);
	}
	assert_int_equal(seen, 5);
}

static void test_users_list_edges(void **state)
{
	dbfix_t *f = migrated(state);
	err_t e;
	user_t *items = NULL;
	int count = -1;
	int64_t next = -1;
	/* Empty table. */
	assert_true(users_list(f->c, 0, 10, &items, &count, &next, &e));
	assert_int_equal(count, 0);
	assert_int_equal(next, 0);
	free(items);
	for (int i = 0; i < 3; i++) {
		char name[16], email[32];
		snprintf(name, sizeof(name), "u%d_x", i);
		snprintf(email, sizeof(email), "u%d@example.com", i);
		user_t u;
		create_ok(f, name, email, &u);
	}
	/* Exactly one page: no next cursor. */
	assert_true(users_list(f->c, 0, 3, &items, &count, &next, &e));
	assert_int_equal(count, 3);
	assert_int_equal(next, 0);
	assert_true(items[0].id > items[1].id && items[1].id > items[2].id);
	int64_t smallest = items[2].id;
	free(items);
	/* Below the smallest id: nothing. */
	assert_true(users_list(f->c, smallest, 3, &items, &count, &next, &e));
	assert_int_equal(count, 0);
	assert_int_equal(next, 0);
	free(items);
	/* A page of 1. */
	assert_true(users_list(f->c, 0, 1, &items, &count, &next, &e));
	assert_int_equal(count, 1);
	assert_int_equal(next, items[0].id);
	free(items);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_users_valid_username),
	    cmocka_unit_test(test_users_valid_email),
	    cmocka_unit_test(test_users_role_rank),
	    DB_TEST(test_users_create_and_get),
	    DB_TEST(test_users_get_missing_is_not_found),
	    DB_TEST(test_users_create_with_roles),
	    DB_TEST(test_users_create_validates_input),
	    DB_TEST(test_users_duplicate_username_any_case_is_conflict),
	    DB_TEST(test_users_duplicate_email_any_case_is_conflict),
	    DB_TEST(test_users_update_profile),
	    DB_TEST(test_users_set_role_disabled_password),
	    DB_TEST(test_users_delete),
	    DB_TEST(test_users_list_paginates),
	    DB_TEST(test_users_list_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
