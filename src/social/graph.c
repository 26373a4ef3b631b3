/*
 * graph.c — follows, blocks and the public profile with its counts.
 *
 * Following someone raises the follower's affinity for them (docs/feed.md).
 * Blocking ends the follows in both directions; after that each user is
 * "not found" to the other (profiles, posts, comments, follow attempts).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "social/feed.h"
#include "social/social.h"

#define FOLLOW_AFFINITY 5

static bool exec1(db_stmt_t *s, err_t *e)
{
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool add_counts(db_conn_t *c, int64_t follower, int64_t followee, int delta, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c, "UPDATE users SET following_count = following_count + ? WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, delta);
	db_bind_i64(s, 2, follower);
	if (!exec1(s, e) ||
	    !(s = db_prepare(c, "UPDATE users SET follower_count = follower_count + ? WHERE id = ?", e)))
		return false;
	db_bind_i64(s, 1, delta);
	db_bind_i64(s, 2, followee);
	if (!exec1(s, e) ||
	    !(s = db_prepare(
		  c,
		  "INSERT INTO creator_affinity (user_id, creator_id, weight) VALUES (?,?,?) "
		  "ON CONFLICT (user_id, creator_id) DO UPDATE SET weight = creator_affinity.weight + "
		  "excluded.weight",
		  e)))
		return false;
	db_bind_i64(s, 1, follower);
	db_bind_i64(s, 2, followee);
	db_bind_i64(s, 3, (int64_t)delta * FOLLOW_AFFINITY);
	return exec1(s, e);
}

/* Removes follower → followee if present, with its counts. */
static bool unfollow(db_conn_t *c, int64_t follower, int64_t followee, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "DELETE FROM follows WHERE follower_id = ? AND followee_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, follower);
	db_bind_i64(s, 2, followee);
	int rc = db_step(s, e);
	bool changed = rc == DB_DONE && db_changes(s) == 1;
	db_finish(s);
	if (rc != DB_DONE)
		return false;
	return !changed || add_counts(c, follower, followee, -1, e);
}

bool social_follow(db_conn_t *c, int64_t follower, const char *username, bool on, bool *following,
		   int64_t *follower_count, err_t *e)
{
	user_t u;
	if (!social_user_visible(c, username, follower, &u, e))
		return false;
	if (u.id == follower)
		return err_set(e, ERR_INVALID, "cannot_follow_self", NULL, "you cannot follow yourself");
	if (!db_begin(c, e))
		return false;
	bool ok;
	if (on) {
		db_stmt_t *s = db_prepare(
		    c,
		    "INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES (?,?,?,?) "
		    "ON CONFLICT (follower_id, followee_id) DO NOTHING",
		    e);
		ok = s != NULL;
		bool changed = false;
		if (ok) {
			db_bind_i64(s, 1, id_new());
			db_bind_i64(s, 2, follower);
			db_bind_i64(s, 3, u.id);
			db_bind_i64(s, 4, time_now_ms());
			int rc = db_step(s, e);
			changed = rc == DB_DONE && db_changes(s) == 1;
			db_finish(s);
			ok = rc == DB_DONE;
		}
		if (ok && changed)
			ok = add_counts(c, follower, u.id, 1, e) &&
			     notify_add(c, u.id, "follow", follower, 0, 0, e);
	} else
		ok = unfollow(c, follower, u.id, e);
	ok = ok &&
	     db_query_i64(c, "SELECT follower_count FROM users WHERE id = ?", follower_count, e, 1, u.id);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return false;
	}
	*following = on;
	feed_forget(follower);
	return true;
}

bool social_block(db_conn_t *c, int64_t blocker, const char *username, bool on, err_t *e)
{
	user_t u;
	err_t e2;
	/* a user who blocked me is still someone I may block (and unblock) */
	if (!users_valid_username(username, &e2) || !users_get_by_username(c, username, &u, e) ||
	    u.disabled) {
		if (e->kind != ERR_NONE && e->kind != ERR_NOT_FOUND && users_valid_username(username, &e2))
			return false;
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	}
	if (u.id == blocker)
		return err_set(e, ERR_INVALID, "cannot_block_self", NULL, "you cannot block yourself");
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s =
	    on ? db_prepare(c,
			    "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?,?,?) "
			    "ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
			    e)
	       : db_prepare(c, "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", e);
	bool ok = s != NULL;
	if (ok) {
		db_bind_i64(s, 1, blocker);
		db_bind_i64(s, 2, u.id);
		if (on)
			db_bind_i64(s, 3, time_now_ms());
		ok = exec1(s, e);
	}
	if (ok && on)
		ok = unfollow(c, blocker, u.id, e) && unfollow(c, u.id, blocker, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return false;
	}
	feed_forget(blocker);
	feed_forget(u.id);
	return true;
}

bool social_profile(db_conn_t *c, const char *username, int64_t viewer, profile_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	/* the blocker still sees whom they blocked (to unblock); the blocked user sees nobody */
	err_t e2;
	if (!users_valid_username(username, &e2))
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	if (!users_get_by_username(c, username, &out->user, e))
		return e->kind == ERR_NOT_FOUND
			   ? err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user")
			   : false;
	bool they_blocked = false;
	if (viewer && viewer != out->user.id) {
		int64_t n = 0, m = 0;
		if (!db_query_i64(c, "SELECT count(*) FROM blocks WHERE blocker_id = ? AND blocked_id = ?",
				  &n, e, 2, out->user.id, viewer) ||
		    !db_query_i64(c, "SELECT count(*) FROM blocks WHERE blocker_id = ? AND blocked_id = ?",
				  &m, e, 2, viewer, out->user.id))
			return false;
		they_blocked = n > 0;
		out->blocked_by_me = m > 0;
	}
	if (out->user.disabled || they_blocked)
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	db_stmt_t *s =
	    db_prepare(c, "SELECT follower_count, following_count, post_count FROM users WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, out->user.id);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		out->follower_count = db_col_i64(s, 0);
		out->following_count = db_col_i64(s, 1);
		out->post_count = db_col_i64(s, 2);
	}
	db_finish(s);
	if (rc != DB_ROW)
		return rc == DB_ERROR ? false
				      : err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	bool self = viewer == out->user.id;
	if (viewer && !self &&
	    (!social_follows(c, viewer, out->user.id, &out->followed_by_me, e) ||
	     !social_follows(c, out->user.id, viewer, &out->follows_me, e)))
		return false;
	/* the posts this viewer may see, so a count never gives away private posts */
	if (!self) {
		const char *sql = out->followed_by_me ? "SELECT count(*) FROM posts WHERE user_id = ? AND "
							"visibility IN ('public', 'followers')"
						      : "SELECT count(*) FROM posts WHERE user_id = ? AND "
							"visibility = 'public'";
		if (!db_query_i64(c, sql, &out->post_count, e, 1, out->user.id))
			return false;
	}
	return true;
}

static void read_entry(db_stmt_t *s, void *elem)
{
	follow_entry_t *f = elem;
	memset(f, 0, sizeof(*f));
	f->cursor = db_col_i64(s, 0);
	f->user.id = db_col_i64(s, 1);
	str_copy(f->user.username, sizeof(f->user.username), db_col_text(s, 2));
	f->user.display_name = db_col_is_null(s, 3) ? NULL : xstrdup(db_col_text(s, 3));
	f->followed_by_me = !db_col_is_null(s, 4);
}

static void clear_entry(void *elem)
{
	user_ref_clear(&((follow_entry_t *)elem)->user);
}

void follow_entries_free(follow_entry_t *items, int n)
{
	for (int i = 0; i < n; i++)
		clear_entry(&items[i]);
	free(items);
}

bool social_follow_list(db_conn_t *c, int64_t user_id, const char *which, int64_t viewer, int64_t before,
			int limit, follow_entry_t **out, int *count, int64_t *next, err_t *e)
{
	bool followers = strcmp(which, "followers") == 0;
	/* the other side of each follow row, whether the viewer follows them, without blocked users */
	const char *sql =
	    followers
		? "SELECT f.id, u.id, u.username, u.display_name, mf.id FROM follows f JOIN users u ON u.id "
		  "= "
		  "f.follower_id LEFT JOIN follows mf ON mf.follower_id = ? AND mf.followee_id = u.id "
		  "WHERE f.followee_id = ? AND u.disabled = 0 AND NOT EXISTS (SELECT 1 FROM blocks b WHERE "
		  "(b.blocker_id = ? AND b.blocked_id = u.id) OR (b.blocker_id = u.id AND b.blocked_id = ?)) "
		  "AND f.id < ? ORDER BY f.id DESC LIMIT ?"
		: "SELECT f.id, u.id, u.username, u.display_name, mf.id FROM follows f JOIN users u ON u.id "
		  "= "
		  "f.followee_id LEFT JOIN follows mf ON mf.follower_id = ? AND mf.followee_id = u.id "
		  "WHERE f.follower_id = ? AND u.disabled = 0 AND NOT EXISTS (SELECT 1 FROM blocks b WHERE "
		  "(b.blocker_id = ? AND b.blocked_id = u.id) OR (b.blocker_id = u.id AND b.blocked_id = ?)) "
		  "AND f.id < ? ORDER BY f.id DESC LIMIT ?";
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, viewer);
	db_bind_i64(s, 2, user_id);
	db_bind_i64(s, 3, viewer);
	db_bind_i64(s, 4, viewer);
	void *items;
	if (!db_page(s, 5, before, limit, sizeof(follow_entry_t), offsetof(follow_entry_t, cursor),
		     read_entry, clear_entry, &items, count, next, e))
		return false;
	*out = items;
	return true;
}

/*
 * Before an account is deleted: the rows that go with it by ON DELETE
 * CASCADE (likes, shares, comments and the replies to them, follows) are
 * counted on other users' posts and profiles, so take them off those
 * counters first. Runs inside the caller's transaction.
 */
bool social_user_leaving(db_conn_t *c, int64_t user_id, err_t *e)
{
	static const char *sql[] = {
	    "UPDATE posts SET like_count = like_count - 1 WHERE like_count > 0 AND id IN "
	    "(SELECT post_id FROM likes WHERE user_id = ?)",
	    "UPDATE posts SET share_count = share_count - 1 WHERE share_count > 0 AND id IN "
	    "(SELECT post_id FROM shares WHERE user_id = ?)",
	    /* the user's comments and every reply to them (which cascade too) */
	    "UPDATE posts SET comment_count = comment_count - (SELECT count(*) FROM comments cm WHERE "
	    "cm.post_id = posts.id AND (cm.user_id = ? OR cm.reply_to IN (SELECT id FROM comments WHERE "
	    "user_id = ?))) WHERE id IN (SELECT post_id FROM comments WHERE user_id = ?)",
	    "UPDATE users SET follower_count = follower_count - 1 WHERE follower_count > 0 AND id IN "
	    "(SELECT followee_id FROM follows WHERE follower_id = ?)",
	    "UPDATE users SET following_count = following_count - 1 WHERE following_count > 0 AND id IN "
	    "(SELECT follower_id FROM follows WHERE followee_id = ?)",
	};
	for (size_t i = 0; i < ARRAY_LEN(sql); i++) {
		db_stmt_t *s = db_prepare(c, sql[i], e);
		if (!s)
			return false;
		int n = 0; /* every parameter is the user */
		for (const char *q = sql[i]; *q; q++)
			if (*q == '?')
				db_bind_i64(s, ++n, user_id);
		if (!exec1(s, e))
			return false;
	}
	return true;
}
