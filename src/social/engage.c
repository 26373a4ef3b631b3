/*
 * engage.c — likes, shares, views, hides and comments, and what each one
 * feeds: the post's counters and trend key, the creator's reputation
 * inputs and the actor's affinities (docs/feed.md has the weights).
 *
 * Every event is one transaction: the row that records it (a like, a view
 * window, a comment) and every counter it moves commit together or not at
 * all. The posts row is updated first with RETURNING, which takes its row
 * lock on PostgreSQL (SQLite's BEGIN IMMEDIATE serialises writers anyway),
 * so the read-modify-write of the trend key cannot lose an update.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "social/feed.h"
#include "social/social.h"

#define TREND_T0_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

/* Engagement weights: trending, reputation and affinity use the same scale. */
#define W_VIEW	   0.25
#define W_COMPLETE 1.0
#define W_LIKE	   2.0
#define W_COMMENT  3.0
#define W_SHARE	   5.0
#define W_HIDE	   (-3.0)

int64_t trend_event_key(int64_t t_ms, double weight)
{
	double k = log2(weight) + (double)(t_ms - TREND_T0_MS) / (double)TREND_HALF_LIFE_MS;
	return (int64_t)llround(k * 1e6);
}

int64_t trend_add(int64_t key, int64_t t_ms, double weight)
{
	if (weight <= 0)
		return key;
	int64_t ev = trend_event_key(t_ms, weight);
	int64_t hi = key > ev ? key : ev, lo = key > ev ? ev : key;
	double d = (double)(hi - lo) / 1e6;
	if (d > 60) /* 2^-60: nothing left to add */
		return hi;
	return hi + (int64_t)llround(1e6 * log2(1.0 + exp2(-d)));
}

static bool exec1(db_stmt_t *s, err_t *e)
{
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool post_missing(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "post_not_found", NULL, "no such post");
}

/* The actor's affinity for a creator and a game moves by delta (others' posts only). */
static bool affinity_add(db_conn_t *c, int64_t actor, int64_t author, const char *game_key, const char *game,
			 int64_t delta, err_t *e)
{
	if (delta == 0 || !actor || actor == author)
		return true;
	db_stmt_t *s;
	if (game_key) {
		s = db_prepare(
		    c,
		    "INSERT INTO game_affinity (user_id, game_key, game, weight) VALUES (?,?,?,?) "
		    "ON CONFLICT (user_id, game_key) DO UPDATE SET weight = game_affinity.weight + "
		    "excluded.weight",
		    e);
		if (!s)
			return false;
		db_bind_i64(s, 1, actor);
		db_bind_text(s, 2, game_key);
		db_bind_text(s, 3, game ? game : game_key);
		db_bind_i64(s, 4, delta);
		if (!exec1(s, e))
			return false;
	}
	s = db_prepare(c,
		       "INSERT INTO creator_affinity (user_id, creator_id, weight) VALUES (?,?,?) "
		       "ON CONFLICT (user_id, creator_id) DO UPDATE SET weight = creator_affinity.weight + "
		       "excluded.weight",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, actor);
	db_bind_i64(s, 2, author);
	db_bind_i64(s, 3, delta);
	return exec1(s, e);
}

/*
 * Moves one counter of a post (`col` is a fixed column name from this file,
 * never input) by delta, adds an engagement event of `weight` to its trend
 * key, the creator's reputation inputs and the actor's affinities.
 * *count receives the counter's new value.
 */
static bool bump(db_conn_t *c, int64_t post_id, const char *col, int delta, double weight, int64_t actor,
		 int64_t *count, err_t *e)
{
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "UPDATE posts SET %s = %s + ? WHERE id = ? RETURNING %s, trend_key, user_id, game_key, game",
		 col, col, col);
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, delta);
	db_bind_i64(s, 2, post_id);
	int rc = db_step(s, e);
	if (rc != DB_ROW) {
		db_finish(s);
		return rc == DB_ERROR ? false : post_missing(e);
	}
	if (count)
		*count = db_col_i64(s, 0);
	int64_t key = db_col_i64(s, 1), author = db_col_i64(s, 2);
	char *game_key = db_col_is_null(s, 3) ? NULL : xstrdup(db_col_text(s, 3));
	char *game = db_col_is_null(s, 4) ? NULL : xstrdup(db_col_text(s, 4));
	db_finish(s);
	bool ok = true;
	int64_t now = time_now_ms();
	double w = delta > 0 ? weight : -weight;
	if (delta > 0 && weight > 0) {
		s = db_prepare(c, "UPDATE posts SET trend_key = ? WHERE id = ?", e);
		ok = s != NULL;
		if (ok) {
			db_bind_i64(s, 1, trend_add(key, now, weight));
			db_bind_i64(s, 2, post_id);
			ok = exec1(s, e);
		}
	}
	/* reputation counts engagement by others, in whole points (views are counted apart) */
	int64_t rep = (int64_t)llround(w);
	if (ok && rep != 0 && actor != author) {
		s = db_prepare(c, "UPDATE users SET rep_engagement = rep_engagement + ? WHERE id = ?", e);
		ok = s != NULL;
		if (ok) {
			db_bind_i64(s, 1, rep);
			db_bind_i64(s, 2, author);
			ok = exec1(s, e);
		}
	}
	ok = ok && affinity_add(c, actor, author, game_key, game, rep, e);
	free(game_key);
	free(game);
	return ok;
}

/*
 * After a failed engagement transaction: a post deleted between our read and
 * our write shows up as a foreign-key violation; to the caller it is simply
 * gone.
 */
static bool txn_error(err_t *e)
{
	if (e->kind == ERR_CONFLICT && strcmp(e->code, "constraint_violation") == 0)
		return post_missing(e);
	return false;
}

static bool read_count(db_conn_t *c, int64_t post_id, const char *col, int64_t *count, err_t *e)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT %s FROM posts WHERE id = ?", col);
	bool ok = db_query_i64(c, sql, count, e, 1, post_id);
	return ok || e->kind != ERR_NOT_FOUND ? ok : post_missing(e);
}

/* Runs `sql` with (post_id, user_id[, now]) binds; *changed is whether a row was added or removed. */
static bool toggle_row(db_conn_t *c, const char *sql, int64_t post_id, int64_t user_id, bool with_time,
		       bool *changed, err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, post_id);
	db_bind_i64(s, 2, user_id);
	if (with_time)
		db_bind_i64(s, 3, time_now_ms());
	int rc = db_step(s, e);
	*changed = rc == DB_DONE && db_changes(s) == 1;
	db_finish(s);
	return rc == DB_DONE;
}

bool social_like(db_conn_t *c, int64_t post_id, int64_t user_id, bool on, bool *liked, int64_t *count,
		 err_t *e)
{
	post_t p;
	if (!db_begin(c, e))
		return false;
	if (!posts_get(c, post_id, user_id, &p, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	int64_t author = p.user_id;
	post_clear(&p);
	bool changed;
	bool ok = on ? toggle_row(c,
				  "INSERT INTO likes (post_id, user_id, created_at) VALUES (?,?,?) "
				  "ON CONFLICT (post_id, user_id) DO NOTHING",
				  post_id, user_id, true, &changed, e)
		     : toggle_row(c, "DELETE FROM likes WHERE post_id = ? AND user_id = ?", post_id, user_id,
				  false, &changed, e);
	if (ok && changed)
		ok = bump(c, post_id, "like_count", on ? 1 : -1, W_LIKE, user_id, count, e) &&
		     (!on || notify_add(c, author, "like", user_id, post_id, 0, e));
	else if (ok)
		ok = read_count(c, post_id, "like_count", count, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	*liked = on;
	feed_viewer_touched(user_id); /* liked_by_me on their pages */
	feed_post_changed(post_id);
	return true;
}

bool social_share(db_conn_t *c, int64_t post_id, int64_t user_id, int64_t *count, err_t *e)
{
	post_t p;
	if (!db_begin(c, e))
		return false;
	if (!posts_get(c, post_id, user_id, &p, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	post_clear(&p);
	bool changed;
	bool ok = toggle_row(c,
			     "INSERT INTO shares (post_id, user_id, created_at) VALUES (?,?,?) "
			     "ON CONFLICT (post_id, user_id) DO NOTHING",
			     post_id, user_id, true, &changed, e);
	if (ok)
		ok = changed ? bump(c, post_id, "share_count", 1, W_SHARE, user_id, count, e)
			     : read_count(c, post_id, "share_count", count, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	feed_viewer_touched(user_id);
	feed_post_changed(post_id);
	return true;
}

bool social_hide(db_conn_t *c, int64_t post_id, int64_t user_id, bool on, err_t *e)
{
	post_t p;
	if (!db_begin(c, e))
		return false;
	if (!posts_get(c, post_id, user_id, &p, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	if (p.user_id == user_id) {
		post_clear(&p);
		db_rollback(c);
		return err_set(e, ERR_INVALID, "own_post", NULL,
			       "your own posts are never in your For you feed");
	}
	bool changed;
	bool ok = on ? toggle_row(c,
				  "INSERT INTO post_hides (post_id, user_id, created_at) VALUES (?,?,?) "
				  "ON CONFLICT (user_id, post_id) DO NOTHING",
				  post_id, user_id, true, &changed, e)
		     : toggle_row(c, "DELETE FROM post_hides WHERE post_id = ? AND user_id = ?", post_id,
				  user_id, false, &changed, e);
	/* "not interested" lowers the affinity for that creator and game; undoing it restores them */
	if (ok && changed)
		ok = affinity_add(c, user_id, p.user_id, p.game_key, p.game, (int64_t)(on ? W_HIDE : -W_HIDE),
				  e);
	post_clear(&p);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	feed_forget(user_id);
	return true;
}

bool social_view(db_conn_t *c, int64_t post_id, int64_t user_id, const char *viewer_key, int64_t watched_ms,
		 bool *counted, int64_t *count, err_t *e)
{
	post_t p;
	if (!db_begin(c, e))
		return false;
	if (!posts_get(c, post_id, user_id, &p, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	int64_t author = p.user_id, dur = p.clip_ready ? p.clip_duration_ms : 0;
	post_clear(&p);
	if (dur > 0 && watched_ms > dur)
		watched_ms = dur;
	/* a completed watch: at least 90% of the clip, or all but its last half second */
	bool complete = dur > 0 && (watched_ms * 10 >= dur * 9 || watched_ms >= dur - 500);
	int64_t now = time_now_ms(), bucket = now / VIEW_WINDOW_MS;
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO post_views (post_id, viewer, bucket, user_id, watched_ms, completed, "
		       "created_at) VALUES (?,?,?,?,?,0,?) ON CONFLICT (post_id, viewer, bucket) DO NOTHING",
		       e);
	bool ok = s != NULL;
	if (ok) {
		db_bind_i64(s, 1, post_id);
		db_bind_text(s, 2, viewer_key);
		db_bind_i64(s, 3, bucket);
		if (user_id)
			db_bind_i64(s, 4, user_id);
		else
			db_bind_null(s, 4);
		db_bind_i64(s, 5, watched_ms);
		db_bind_i64(s, 6, now);
		int rc = db_step(s, e);
		*counted = rc == DB_DONE && db_changes(s) == 1;
		db_finish(s);
		ok = rc == DB_DONE;
	}
	if (ok && *counted && author != user_id) {
		ok = bump(c, post_id, "view_count", 1, W_VIEW, 0, count, e);
		if (ok && (s = db_prepare(c, "UPDATE users SET rep_views = rep_views + 1 WHERE id = ?", e)) !=
			      NULL) {
			db_bind_i64(s, 1, author);
			ok = exec1(s, e);
		} else
			ok = false;
	} else if (ok && *counted) {
		/* the author's own views are counted but carry no weight */
		ok = bump(c, post_id, "view_count", 1, 0, 0, count, e);
	}
	bool first_complete = false;
	if (ok && complete) {
		s = db_prepare(
		    c,
		    "UPDATE post_views SET completed = 1 WHERE post_id = ? AND viewer = ? AND bucket = ? "
		    "AND completed = 0",
		    e);
		ok = s != NULL;
		if (ok) {
			db_bind_i64(s, 1, post_id);
			db_bind_text(s, 2, viewer_key);
			db_bind_i64(s, 3, bucket);
			int rc = db_step(s, e);
			first_complete = rc == DB_DONE && db_changes(s) == 1;
			db_finish(s);
			ok = rc == DB_DONE;
		}
	}
	if (ok) {
		s = db_prepare(
		    c,
		    "UPDATE post_views SET watched_ms = CASE WHEN watched_ms < ? THEN ? ELSE watched_ms END "
		    "WHERE post_id = ? AND viewer = ? AND bucket = ?",
		    e);
		ok = s != NULL;
		if (ok) {
			db_bind_i64(s, 1, watched_ms);
			db_bind_i64(s, 2, watched_ms);
			db_bind_i64(s, 3, post_id);
			db_bind_text(s, 4, viewer_key);
			db_bind_i64(s, 5, bucket);
			ok = exec1(s, e);
		}
	}
	if (ok && first_complete)
		ok = bump(c, post_id, "complete_count", 1, author == user_id ? 0 : W_COMPLETE, user_id, NULL,
			  e);
	if (ok && !*counted)
		ok = read_count(c, post_id, "view_count", count, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	return true;
}

/* ==== comments ==== */

void comment_clear(comment_t *cm)
{
	free(cm->body);
	user_ref_clear(&cm->author);
	memset(cm, 0, sizeof(*cm));
}

void comments_free(comment_t *items, int n)
{
	for (int i = 0; i < n; i++)
		comment_clear(&items[i]);
	free(items);
}

#define COMMENT_COLS                                                                                         \
	"cm.id, cm.post_id, cm.reply_to, cm.at_ms, cm.body, cm.created_at, u.id, u.username, u.display_name"

static void read_comment(db_stmt_t *s, void *elem)
{
	comment_t *cm = elem;
	memset(cm, 0, sizeof(*cm));
	cm->id = db_col_i64(s, 0);
	cm->post_id = db_col_i64(s, 1);
	cm->reply_to = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
	cm->at_ms = db_col_is_null(s, 3) ? -1 : db_col_i64(s, 3);
	cm->body = xstrdup(db_col_text(s, 4));
	cm->created_at = db_col_i64(s, 5);
	cm->author.id = db_col_i64(s, 6);
	str_copy(cm->author.username, sizeof(cm->author.username), db_col_text(s, 7));
	cm->author.display_name = db_col_is_null(s, 8) ? NULL : xstrdup(db_col_text(s, 8));
}

static void clear_comment_elem(void *elem)
{
	comment_clear(elem);
}

bool comments_create(db_conn_t *c, int64_t post_id, int64_t user_id, const char *body, int64_t reply_to,
		     int64_t at_ms, comment_t *out, err_t *e)
{
	const char *b = body;
	while (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r')
		b++;
	if (!*b)
		return err_set(e, ERR_INVALID, "empty_body", "body", "a comment needs some text");
	post_t p;
	if (!posts_get(c, post_id, user_id, &p, e))
		return false;
	int64_t author = p.user_id, dur = p.clip_ready ? p.clip_duration_ms : -1;
	post_clear(&p);
	if (at_ms >= 0 && at_ms > dur)
		return err_set(e, ERR_INVALID, "invalid_at", "at_s",
			       dur < 0 ? "this post has no clip to anchor a moment in"
				       : "at_s is after the end of the clip");
	int64_t parent_author = 0;
	if (reply_to) {
		/* one level of replies: a reply to a reply joins its top-level comment */
		db_stmt_t *s =
		    db_prepare(c, "SELECT post_id, reply_to, user_id FROM comments WHERE id = ?", e);
		if (!s)
			return false;
		db_bind_i64(s, 1, reply_to);
		int rc = db_step(s, e);
		int64_t ppost = rc == DB_ROW ? db_col_i64(s, 0) : 0;
		int64_t pparent = rc == DB_ROW && !db_col_is_null(s, 1) ? db_col_i64(s, 1) : 0;
		parent_author = rc == DB_ROW ? db_col_i64(s, 2) : 0;
		db_finish(s);
		if (rc == DB_ERROR)
			return false;
		if (rc != DB_ROW || ppost != post_id)
			return err_set(e, ERR_INVALID, "invalid_reply_to", "reply_to",
				       "reply_to is not a comment on this post");
		if (pparent) {
			reply_to = pparent;
			if (!db_query_i64(c, "SELECT user_id FROM comments WHERE id = ?", &parent_author, e,
					  1, reply_to))
				return false;
		}
	}
	int64_t id = id_new(), now = time_now_ms();
	if (!db_begin(c, e))
		return false;
	/* a post deleted since the check above fails the insert's foreign key: txn_error() */
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO comments (id, post_id, user_id, reply_to, body, at_ms, created_at) "
		       "VALUES (?,?,?,?,?,?,?)",
		       e);
	bool ok = s != NULL;
	if (ok) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, post_id);
		db_bind_i64(s, 3, user_id);
		if (reply_to)
			db_bind_i64(s, 4, reply_to);
		else
			db_bind_null(s, 4);
		db_bind_text(s, 5, body);
		if (at_ms >= 0)
			db_bind_i64(s, 6, at_ms);
		else
			db_bind_null(s, 6);
		db_bind_i64(s, 7, now);
		ok = exec1(s, e);
	}
	ok = ok && bump(c, post_id, "comment_count", 1, W_COMMENT, user_id, NULL, e);
	if (ok && parent_author && parent_author != author)
		ok = notify_add(c, parent_author, "reply", user_id, post_id, id, e);
	if (ok)
		ok = notify_add(c, author, parent_author == author ? "reply" : "comment", user_id, post_id,
				id, e);
	/* the post's author already has a comment or reply notification for this one */
	ok = ok && notify_mentions(c, body, user_id, post_id, id, author, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		return txn_error(e);
	}
	feed_viewer_touched(user_id); /* the comment count on their pages */
	feed_post_changed(post_id);
	s = db_prepare(
	    c, "SELECT " COMMENT_COLS " FROM comments cm JOIN users u ON u.id = cm.user_id WHERE cm.id = ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_comment(s, out);
	db_finish(s);
	if (rc == DB_DONE) /* its post was deleted (and the comment with it) right after it was made */
		return post_missing(e);
	return rc == DB_ROW;
}

bool comments_list(db_conn_t *c, int64_t post_id, int64_t viewer, int64_t before, int limit, comment_t **out,
		   int *count, comment_t **replies, int *nreplies, int64_t *next, err_t *e)
{
	*replies = NULL;
	*nreplies = 0;
	post_t p;
	if (!posts_get(c, post_id, viewer, &p, e))
		return false;
	post_clear(&p);
	if (limit > SOCIAL_BATCH_MAX)
		limit = SOCIAL_BATCH_MAX;
#define NOT_BLOCKED                                                                                          \
	" AND u.disabled = 0 AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ? AND "            \
	"b.blocked_id = "                                                                                    \
	"cm.user_id) OR (b.blocker_id = cm.user_id AND b.blocked_id = ?))"
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT " COMMENT_COLS " FROM comments cm JOIN users u ON u.id = cm.user_id "
		       "WHERE cm.post_id = ? AND cm.reply_to IS NULL" NOT_BLOCKED
		       " AND cm.id < ? ORDER BY cm.id DESC LIMIT ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, post_id);
	db_bind_i64(s, 2, viewer);
	db_bind_i64(s, 3, viewer);
	void *items;
	if (!db_page(s, 4, before, limit, sizeof(comment_t), offsetof(comment_t, id), read_comment,
		     clear_comment_elem, &items, count, next, e))
		return false;
	*out = items;
	if (*count == 0)
		return true;
	buf_t sql;
	buf_init(&sql);
	buf_puts(&sql, "SELECT " COMMENT_COLS
		       " FROM comments cm JOIN users u ON u.id = cm.user_id WHERE cm.reply_to IN (?");
	for (int i = 1; i < SOCIAL_BATCH_MAX; i++)
		buf_puts(&sql, ",?");
	buf_puts(&sql, ")" NOT_BLOCKED " ORDER BY cm.id");
	s = db_prepare(c, sql.data, e);
	buf_cleanup(&sql);
	if (!s)
		goto fail;
	for (int i = 0; i < SOCIAL_BATCH_MAX; i++)
		db_bind_i64(s, 1 + i, i < *count ? (*out)[i].id : 0);
	db_bind_i64(s, SOCIAL_BATCH_MAX + 1, viewer);
	db_bind_i64(s, SOCIAL_BATCH_MAX + 2, viewer);
	int cap = 0, rc;
	comment_t one;
	while ((rc = db_step(s, e)) == DB_ROW) {
		read_comment(s, &one);
		comment_t *parent = NULL;
		for (int i = 0; i < *count; i++)
			if ((*out)[i].id == one.reply_to)
				parent = &(*out)[i];
		if (!parent || parent->reply_count++ >= 50) {
			comment_clear(&one);
			continue;
		}
		if (*nreplies == cap) {
			cap = cap ? cap * 2 : 16;
			*replies = xrealloc(*replies, (size_t)cap * sizeof(comment_t));
		}
		(*replies)[(*nreplies)++] = one;
	}
	db_finish(s);
	if (rc == DB_DONE)
		return true;
fail:
	comments_free(*out, *count);
	comments_free(*replies, *nreplies);
	*out = *replies = NULL;
	*count = *nreplies = 0;
	return false;
#undef NOT_BLOCKED
}

bool comments_delete(db_conn_t *c, int64_t comment_id, int64_t actor, int actor_rank, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "SELECT cm.user_id, cm.post_id, cm.reply_to, p.user_id FROM comments cm "
				  "JOIN posts p ON p.id = cm.post_id WHERE cm.id = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, comment_id);
	int rc = db_step(s, e);
	int64_t author = 0, post_id = 0, post_owner = 0;
	bool top = false;
	if (rc == DB_ROW) {
		author = db_col_i64(s, 0);
		post_id = db_col_i64(s, 1);
		top = db_col_is_null(s, 2);
		post_owner = db_col_i64(s, 3);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	post_t p;
	if (rc != DB_ROW || !posts_get(c, post_id, actor, &p, e)) {
		if (rc == DB_ROW && e->kind != ERR_NOT_FOUND)
			return false;
		if (actor_rank < users_role_rank("moderator") || rc != DB_ROW)
			return err_set(e, ERR_NOT_FOUND, "comment_not_found", NULL, "no such comment");
	} else
		post_clear(&p);
	if (actor != author && actor != post_owner && actor_rank < users_role_rank("moderator"))
		return err_set(e, ERR_FORBIDDEN, "not_allowed", NULL,
			       "only the comment's author, the post's author or a moderator can delete it");
	int64_t n = 1;
	if (!db_begin(c, e))
		return false;
	if (top &&
	    !db_query_i64(c, "SELECT count(*) + 1 FROM comments WHERE reply_to = ?", &n, e, 1, comment_id))
		goto fail;
	s = db_prepare(c, "DELETE FROM comments WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, comment_id);
	rc = db_step(s, e);
	int64_t gone = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc != DB_DONE)
		goto fail;
	if (gone == 0) { /* deleted by a concurrent request: only one of them counts it */
		db_rollback(c);
		return err_set(e, ERR_NOT_FOUND, "comment_not_found", NULL, "no such comment");
	}
	s = db_prepare(c,
		       "UPDATE posts SET comment_count = CASE WHEN comment_count > ? THEN comment_count - ? "
		       "ELSE 0 END WHERE id = ?",
		       e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, n);
	db_bind_i64(s, 2, n);
	db_bind_i64(s, 3, post_id);
	if (exec1(s, e) && db_commit(c, e)) {
		feed_viewer_touched(actor);
		feed_post_changed(post_id);
		return true;
	}
fail:
	db_rollback(c);
	return false;
}
