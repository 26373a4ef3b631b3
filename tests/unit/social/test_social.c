/*
 * Unit tests for src/social: trend keys, counters, comments, visibility and
 * the feeds' paging and ranking rules, on SQLite and (when configured)
 * PostgreSQL, each case on a freshly migrated database.
 */
#define DBFIX_SCHEMA "cosmiv_unit_social"
#include "dbfix.h"

#include <string.h>

#include "social/feed.h"
#include "social/social.h"

#define HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

static dbfix_t *migrated(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	if (!db_migrate(f->db, &applied, &e))
		fail_msg("db_migrate: %s", e.detail);
	static const uint8_t key[] = "unit-test-secret-0123456789abcdef";
	feed_init(key, sizeof(key) - 1);
	feed_cache_reset(); /* each case has a database of its own */
	return f;
}

static int64_t user(dbfix_t *f, const char *name)
{
	char email[64];
	snprintf(email, sizeof(email), "%s@example.com", name);
	user_t u;
	err_t e;
	if (!users_create(f->c, name, email, HASH, "user", &u, &e))
		fail_msg("users_create: %s", e.detail);
	return u.id;
}

/* A ready clip of `owner`, written straight to the tables (no media needed here). */
static int64_t clip(dbfix_t *f, int64_t owner)
{
	int64_t vid = id_new(), cid = id_new(), now = time_now_ms();
	char *sql =
	    xasprintf("INSERT INTO videos (id, user_id, title, status, sha256, size_bytes, created_at, "
		      "updated_at) VALUES (%lld, %lld, 'v', 'ready', 'x', 1, %lld, %lld); "
		      "INSERT INTO clips (id, user_id, video_id, status, aspect, start_ms, end_ms, "
		      "duration_ms, width, height, created_at, updated_at) VALUES (%lld, %lld, %lld, "
		      "'ready', '16:9', 0, 10000, 10000, 1280, 720, %lld, %lld)",
		      (long long)vid, (long long)owner, (long long)now, (long long)now, (long long)cid,
		      (long long)owner, (long long)vid, (long long)now, (long long)now);
	err_t e;
	if (!db_exec(f->c, sql, &e))
		fail_msg("clip: %s", e.detail);
	free(sql);
	return cid;
}

static int64_t post(dbfix_t *f, int64_t owner, int64_t clip_id, const char *game, const char *vis)
{
	post_spec_t sp = {.clip_id = clip_id, .title = "a post", .game = game, .visibility = vis};
	post_t p;
	err_t e;
	if (!posts_create(f->c, owner, &sp, &p, &e))
		fail_msg("posts_create: %s %s", e.code, e.detail);
	int64_t id = p.id;
	post_clear(&p);
	return id;
}

/* ==== trend keys ==== */

static void test_trend_keys(void **state)
{
	(void)state;
	int64_t t = 1790000000000LL;
	/* one event a half-life later weighs as much as two now */
	int64_t two_now = trend_event_key(t, 2.0), one_later = trend_event_key(t + TREND_HALF_LIFE_MS, 1.0);
	assert_true(llabs(two_now - one_later) <= 1);
	/* adding an event never lowers the key; equal events add one bit */
	int64_t k = trend_event_key(t, 1.0);
	int64_t k2 = trend_add(k, t, 1.0);
	assert_true(llabs(k2 - (k + 1000000)) <= 1);
	assert_true(trend_add(k, t - 1000LL * TREND_HALF_LIFE_MS, 1.0) >= k);
	assert_int_equal(trend_add(k, t, 0), k);
}

/* ==== counters, comments, visibility ==== */

static void test_likes_and_comments(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = user(f, "author"), b = user(f, "fan"), c3 = user(f, "third");
	int64_t p = post(f, a, clip(f, a), "Valorant", "public");
	bool liked;
	int64_t n;
	err_t e;
	assert_true(social_like(f->c, p, b, true, &liked, &n, &e));
	assert_true(social_like(f->c, p, b, true, &liked, &n, &e)); /* idempotent */
	assert_int_equal(n, 1);
	assert_true(social_like(f->c, p, c3, true, &liked, &n, &e));
	assert_int_equal(n, 2);
	assert_true(social_like(f->c, p, b, false, &liked, &n, &e));
	assert_true(social_like(f->c, p, b, false, &liked, &n, &e));
	assert_int_equal(n, 1);

	comment_t top, r1, r2;
	assert_true(comments_create(f->c, p, b, "first", 0, -1, &top, &e));
	assert_true(comments_create(f->c, p, c3, "reply", top.id, 2000, &r1, &e));
	/* a reply to a reply joins the top-level comment */
	assert_true(comments_create(f->c, p, a, "reply to reply", r1.id, -1, &r2, &e));
	assert_int_equal(r2.reply_to, top.id);
	assert_false(comments_create(f->c, p, b, "  \n ", 0, -1, &r2, &e));
	assert_string_equal(e.code, "empty_body");
	assert_false(comments_create(f->c, p, b, "late", 0, 20000, &r2, &e)); /* after the 10 s clip */
	assert_string_equal(e.code, "invalid_at");
	/* notifications for the author: two likes, b's comment, c3's reply (none for a's own reply) */
	int64_t unread;
	assert_true(notify_unread_count(f->c, a, &unread, &e));
	assert_int_equal(unread, 4);
	post_t got;
	assert_true(posts_get(f->c, p, 0, &got, &e));
	assert_int_equal(got.comment_count, 3);
	assert_int_equal(got.like_count, 1);
	post_clear(&got);
	/* a third user cannot delete someone's comment; the top-level one takes its replies along */
	assert_false(comments_delete(f->c, top.id, c3, 0, &e));
	assert_int_equal(e.kind, ERR_FORBIDDEN);
	assert_true(comments_delete(f->c, top.id, a, 0, &e)); /* the post's author */
	assert_true(posts_get(f->c, p, 0, &got, &e));
	assert_int_equal(got.comment_count, 0);
	post_clear(&got);
	comment_clear(&top);
	comment_clear(&r1);
	comment_clear(&r2);
	/* the deleted comments' notifications went with them */
	assert_true(notify_unread_count(f->c, a, &unread, &e));
	assert_int_equal(unread, 2);
}

static void test_visibility(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = user(f, "author"), b = user(f, "viewer");
	int64_t k = clip(f, a);
	int64_t priv = post(f, a, k, NULL, "private"), fol = post(f, a, k, NULL, "followers");
	post_t p;
	err_t e;
	assert_false(posts_get(f->c, priv, b, &p, &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_false(posts_get(f->c, fol, b, &p, &e));
	assert_false(posts_get(f->c, fol, 0, &p, &e));
	bool following;
	int64_t n;
	assert_true(social_follow(f->c, b, "author", true, &following, &n, &e));
	assert_int_equal(n, 1);
	assert_true(posts_get(f->c, fol, b, &p, &e));
	post_clear(&p);
	assert_false(social_follow(f->c, b, "viewer", true, &following, &n, &e));
	assert_string_equal(e.code, "cannot_follow_self");
	/* a block ends the follow and hides the author from the blocked user */
	assert_true(social_block(f->c, a, "viewer", true, &e));
	assert_false(posts_get(f->c, fol, b, &p, &e));
	profile_t pr;
	assert_true(social_profile(f->c, "author", 0, &pr, &e));
	assert_int_equal(pr.follower_count, 0);
	assert_false(social_profile(f->c, "author", b, &pr, &e));
	assert_true(social_profile(f->c, "viewer", a, &pr, &e));
	assert_true(pr.blocked_by_me);
	assert_false(social_follow(f->c, b, "author", true, &following, &n, &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);
}

/* ==== feeds ==== */

static int page(dbfix_t *f, feed_kind_t kind, int64_t viewer, const char *cursor, int limit, int64_t *ids,
		char *next)
{
	feed_query_t q = {.kind = kind, .viewer = viewer, .limit = limit, .cursor = cursor};
	feed_page_t pg;
	err_t e;
	if (!feed_page(f->c, &q, &pg, &e))
		fail_msg("feed_page: %s %s", e.code, e.detail);
	for (int i = 0; i < pg.n; i++)
		ids[i] = pg.ids[i];
	strcpy(next, pg.next);
	int n = pg.n;
	feed_page_free(&pg);
	return n;
}

static void test_feed_paging(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = user(f, "author"), v = user(f, "viewer");
	int64_t k = clip(f, a);
	int64_t made[25];
	for (int i = 0; i < 25; i++)
		made[i] = post(f, a, k, "Valorant", i % 5 == 0 ? "followers" : "public");
	bool following;
	int64_t nf;
	err_t fe;
	assert_true(social_follow(f->c, v, "author", true, &following, &nf, &fe));
	feed_kind_t kinds[] = {FEED_NEW, FEED_TRENDING, FEED_FOLLOWING};
	int expect[] = {20, 20, 25}; /* Following has the followers-only posts too */
	for (size_t t = 0; t < ARRAY_LEN(kinds); t++) {
		int64_t seen[64], ids[16];
		int nseen = 0;
		char cur[128] = "", next[128];
		do {
			int n = page(f, kinds[t], v, cur, 7, ids, next);
			post(f, a, k, "Valorant", "public"); /* new posts arrive while scrolling */
			for (int i = 0; i < n; i++) {
				for (int j = 0; j < nseen; j++)
					assert_true(seen[j] != ids[i]);
				seen[nseen++] = ids[i];
			}
			strcpy(cur, next);
		} while (cur[0] && nseen < 60);
		/* every public post that existed at the start was served (New; Trending ranks them all too)
		 */
		int found = 0;
		for (int i = 0; i < 25; i++)
			for (int j = 0; j < nseen; j++)
				found += seen[j] == made[i];
		assert_int_equal(found, expect[t]);
	}
	/* cursors: tampered, or from another feed */
	int64_t ids[16];
	char next[128];
	page(f, FEED_NEW, v, NULL, 3, ids, next);
	feed_query_t q = {.kind = FEED_TRENDING, .viewer = v, .limit = 3, .cursor = next};
	feed_page_t pg;
	err_t e;
	assert_false(feed_page(f->c, &q, &pg, &e));
	assert_string_equal(e.code, "invalid_cursor");
	next[5] = next[5] == 'A' ? 'B' : 'A';
	q.kind = FEED_NEW;
	assert_false(feed_page(f->c, &q, &pg, &e));
	assert_string_equal(e.code, "invalid_cursor");
}

static void test_for_you(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t big = user(f, "bigcreator"), small = user(f, "smallcreator"), v = user(f, "viewer");
	int64_t kb = clip(f, big), ks = clip(f, small);
	int64_t fans[6];
	char name[16];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "fan%d", i);
		fans[i] = user(f, name);
	}
	int64_t bigp[8];
	for (int i = 0; i < 8; i++) {
		bigp[i] = post(f, big, kb, "Valorant", "public");
		for (int j = 0; j < 6; j++) {
			bool liked;
			int64_t n;
			err_t e;
			assert_true(social_like(f->c, bigp[i], fans[j], true, &liked, &n, &e));
		}
	}
	int64_t smallp = post(f, small, ks, "Xonotic", "public");
	post(f, v, clip(f, v), "Valorant", "public"); /* my own post never shows */
	err_t e;
	assert_true(social_hide(f->c, bigp[0], v, true, &e));
	int64_t ids[64];
	char next[128];
	int n = page(f, FEED_FOR_YOU, v, NULL, 50, ids, next);
	/* diversity: never three in a row from one creator. The liked posts rank first, the small
	 * creator's post breaks the run at the third place, and the ranking ends where only the big
	 * creator is left: big, big, small, big, big. The hidden post is not there. */
	assert_int_equal(n, 5);
	assert_int_equal(ids[2], smallp);
	for (int i = 0; i < n; i++)
		assert_true(ids[i] != bigp[0]);
	/* the snapshot pages on without repeats */
	int64_t ids2[8];
	char next2[128];
	int a = page(f, FEED_FOR_YOU, v, NULL, 3, ids2, next);
	int b = page(f, FEED_FOR_YOU, v, next, 3, ids2 + 3, next2);
	assert_int_equal(a + b, 5);
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			assert_true(ids2[i] != ids2[j]);
	assert_string_equal(next2, "");
	/* a hidden creator disappears */
	json_t *in = json_pack("{s:[s]}", "hidden_creators", "smallcreator");
	assert_true(feed_prefs_put(f->c, v, in, &e));
	json_decref(in);
	n = page(f, FEED_FOR_YOU, v, NULL, 50, ids, next);
	for (int i = 0; i < n; i++)
		assert_true(ids[i] != smallp);
	in = json_pack("{s:[s]}", "hidden_creators", "nobody_here");
	assert_false(feed_prefs_put(f->c, v, in, &e));
	assert_string_equal(e.code, "unknown_user");
	json_decref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trend_keys),
	    DB_TEST(test_likes_and_comments),
	    DB_TEST(test_visibility),
	    DB_TEST(test_feed_paging),
	    DB_TEST(test_for_you),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	feed_cache_reset();
	return rc;
}
