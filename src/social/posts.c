/*
 * posts.c — posts: create, read with visibility rules, edit, delete, load
 * in batches for the feeds.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/util.h"
#include "social/feed.h"
#include "social/social.h"

#define POST_COLS                                                                                            \
	"p.id, p.user_id, p.clip_id, p.title, p.description, p.game, p.game_key, p.tags, p.visibility, "     \
	"p.like_count, p.comment_count, p.share_count, p.view_count, p.complete_count, p.trend_key, "        \
	"p.created_at, p.updated_at, u.username, u.display_name, k.status, k.duration_ms, k.width, "         \
	"k.height, k.thumb_key"
#define POST_FROM " FROM posts p JOIN users u ON u.id = p.user_id LEFT JOIN clips k ON k.id = p.clip_id "

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void user_ref_clear(user_ref_t *u)
{
	free(u->display_name);
	u->display_name = NULL;
}

void post_clear(post_t *p)
{
	free(p->title);
	free(p->description);
	free(p->game);
	free(p->game_key);
	free(p->tags);
	user_ref_clear(&p->author);
	memset(p, 0, sizeof(*p));
}

void posts_free(post_t *items, int n)
{
	for (int i = 0; i < n; i++)
		post_clear(&items[i]);
	free(items);
}

static void read_post(db_stmt_t *s, post_t *p)
{
	memset(p, 0, sizeof(*p));
	p->id = db_col_i64(s, 0);
	p->user_id = db_col_i64(s, 1);
	p->clip_id = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
	p->title = xstrdup(db_col_text(s, 3));
	p->description = dup_or_null(db_col_text(s, 4));
	p->game = dup_or_null(db_col_text(s, 5));
	p->game_key = dup_or_null(db_col_text(s, 6));
	p->tags = xstrdup(db_col_text(s, 7));
	str_copy(p->visibility, sizeof(p->visibility), db_col_text(s, 8));
	p->like_count = db_col_i64(s, 9);
	p->comment_count = db_col_i64(s, 10);
	p->share_count = db_col_i64(s, 11);
	p->view_count = db_col_i64(s, 12);
	p->complete_count = db_col_i64(s, 13);
	p->trend_key = db_col_i64(s, 14);
	p->created_at = db_col_i64(s, 15);
	p->updated_at = db_col_i64(s, 16);
	p->author.id = p->user_id;
	str_copy(p->author.username, sizeof(p->author.username), db_col_text(s, 17));
	p->author.display_name = dup_or_null(db_col_text(s, 18));
	const char *st = db_col_text(s, 19);
	p->clip_ready = p->clip_id && st && strcmp(st, "ready") == 0;
	if (p->clip_ready) {
		p->clip_duration_ms = db_col_i64(s, 20);
		p->clip_width = (int)db_col_i64(s, 21);
		p->clip_height = (int)db_col_i64(s, 22);
		p->clip_has_thumb = !db_col_is_null(s, 23);
	}
}

bool social_game_key(const char *game, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!game)
		return false;
	while (*game == ' ')
		game++;
	size_t n = strlen(game);
	while (n > 0 && game[n - 1] == ' ')
		n--;
	if (n == 0 || n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)game[i]);
	out[n] = '\0';
	return true;
}

bool social_tags_json(json_t *tags, char **json_out, err_t *e)
{
	*json_out = NULL;
	if (!json_is_array(tags))
		return err_set(e, ERR_INVALID, "invalid_tags", "tags", "tags must be an array of strings");
	if (json_array_size(tags) > POST_TAGS_MAX)
		return err_set(e, ERR_INVALID, "invalid_tags", "tags", "at most %d tags", POST_TAGS_MAX);
	json_t *out = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
	{
		const char *s = json_string_value(t);
		size_t n = s ? strlen(s) : 0;
		bool ok = s && n >= 1 && n <= POST_TAG_LEN_MAX;
		for (size_t k = 0; ok && k < n; k++)
			ok = isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '-';
		if (!ok) {
			json_decref(out);
			return err_set(e, ERR_INVALID, "invalid_tags", "tags",
				       "each tag is 1-%d characters of letters, digits, _ and -",
				       POST_TAG_LEN_MAX);
		}
		/* tags are case-insensitive and unique */
		char low[POST_TAG_LEN_MAX + 1];
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)tolower((unsigned char)s[k]);
		bool dup = false;
		size_t j;
		json_t *o;
		json_array_foreach(out, j, o) dup = dup || strcmp(json_string_value(o), low) == 0;
		if (!dup)
			json_array_append_new(out, json_string(low));
	}
	*json_out = jx_dump(out);
	json_decref(out);
	return true;
}

bool social_blocked_either(db_conn_t *c, int64_t a, int64_t b, bool *out, err_t *e)
{
	*out = false;
	if (!a || !b || a == b)
		return true;
	db_stmt_t *s = db_prepare(c,
				  "SELECT 1 FROM blocks WHERE (blocker_id = ? AND blocked_id = ?) OR "
				  "(blocker_id = ? AND blocked_id = ?)",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, a);
	db_bind_i64(s, 2, b);
	db_bind_i64(s, 3, b);
	db_bind_i64(s, 4, a);
	int rc = db_step(s, e);
	db_finish(s);
	*out = rc == DB_ROW;
	return rc != DB_ERROR;
}

bool social_follows(db_conn_t *c, int64_t follower, int64_t followee, bool *out, err_t *e)
{
	*out = false;
	if (!follower || !followee)
		return true;
	db_stmt_t *s = db_prepare(c, "SELECT 1 FROM follows WHERE follower_id = ? AND followee_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, follower);
	db_bind_i64(s, 2, followee);
	int rc = db_step(s, e);
	db_finish(s);
	*out = rc == DB_ROW;
	return rc != DB_ERROR;
}

bool social_user_visible(db_conn_t *c, const char *username, int64_t viewer, user_t *out, err_t *e)
{
	err_t e2;
	if (!users_valid_username(username, &e2))
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	if (!users_get_by_username(c, username, out, e)) {
		if (e->kind == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
		return false;
	}
	bool blocked;
	if (!social_blocked_either(c, viewer, out->id, &blocked, e))
		return false;
	if (out->disabled || blocked)
		return err_set(e, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
	return true;
}

static bool not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "post_not_found", NULL, "no such post");
}

/* Whether viewer (0: anonymous) may see p; the visibility rules in one place. */
static bool can_view(db_conn_t *c, const post_t *p, int64_t viewer, bool *ok, err_t *e)
{
	*ok = false;
	if (viewer == p->user_id) {
		*ok = true;
		return true;
	}
	if (strcmp(p->visibility, "private") == 0)
		return true;
	bool blocked, follows = true;
	if (!social_blocked_either(c, viewer, p->user_id, &blocked, e))
		return false;
	if (blocked)
		return true;
	if (strcmp(p->visibility, "followers") == 0 && !social_follows(c, viewer, p->user_id, &follows, e))
		return false;
	*ok = follows;
	return true;
}

/* Batch lookups bind n ids padded (with 0, never an id) to a multiple of 10: five statement
 * shapes in the cache, and no more than 9 wasted lookups. */
static int batch_slots(int n)
{
	int slots = (n + 9) / 10 * 10;
	return slots > SOCIAL_BATCH_MAX ? SOCIAL_BATCH_MAX : slots;
}

bool posts_liked(db_conn_t *c, int64_t viewer, const int64_t *ids, int n, bool *liked, err_t *e)
{
	for (int i = 0; i < n; i++)
		liked[i] = false;
	if (!viewer || n <= 0)
		return true;
	if (n > SOCIAL_BATCH_MAX)
		n = SOCIAL_BATCH_MAX;
	buf_t sql;
	buf_init(&sql);
	buf_puts(&sql, "SELECT post_id FROM likes WHERE user_id = ? AND post_id IN (?");
	int slots = batch_slots(n);
	for (int i = 1; i < slots; i++)
		buf_puts(&sql, ",?");
	buf_puts(&sql, ")");
	db_stmt_t *s = db_prepare(c, sql.data, e);
	buf_cleanup(&sql);
	if (!s)
		return false;
	db_bind_i64(s, 1, viewer);
	for (int i = 0; i < slots; i++)
		db_bind_i64(s, 2 + i, i < n ? ids[i] : 0);
	int rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		int64_t id = db_col_i64(s, 0);
		for (int i = 0; i < n; i++)
			if (ids[i] == id)
				liked[i] = true;
	}
	db_finish(s);
	return rc == DB_DONE;
}

static bool load_liked(db_conn_t *c, post_t *p, int n, int64_t viewer, err_t *e)
{
	if (!viewer || n == 0)
		return true;
	int64_t ids[SOCIAL_BATCH_MAX] = {0};
	bool liked[SOCIAL_BATCH_MAX] = {0};
	if (n > SOCIAL_BATCH_MAX)
		n = SOCIAL_BATCH_MAX;
	for (int i = 0; i < n; i++)
		ids[i] = p[i].id;
	if (!posts_liked(c, viewer, ids, n, liked, e))
		return false;
	for (int i = 0; i < n; i++)
		p[i].liked_by_me = liked[i];
	return true;
}

static bool get_raw(db_conn_t *c, int64_t id, post_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT " POST_COLS POST_FROM "WHERE p.id = ? AND u.disabled = 0", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_post(s, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	return rc == DB_ROW ? true : not_found(e);
}

bool posts_get(db_conn_t *c, int64_t id, int64_t viewer, post_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	bool ok;
	if (!get_raw(c, id, out, e))
		return false;
	if (!can_view(c, out, viewer, &ok, e)) {
		post_clear(out);
		return false;
	}
	if (!ok) {
		post_clear(out);
		return not_found(e);
	}
	if (!load_liked(c, out, 1, viewer, e)) {
		post_clear(out);
		return false;
	}
	return true;
}

bool posts_load(db_conn_t *c, const int64_t *ids, int n, int64_t viewer, post_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	if (n > SOCIAL_BATCH_MAX)
		n = SOCIAL_BATCH_MAX;
	if (n <= 0)
		return true;
	buf_t sql;
	buf_init(&sql);
	buf_puts(&sql, "SELECT " POST_COLS POST_FROM "WHERE u.disabled = 0 AND p.id IN (?");
	int slots = batch_slots(n);
	for (int i = 1; i < slots; i++)
		buf_puts(&sql, ",?");
	buf_puts(&sql, ")");
	db_stmt_t *s = db_prepare(c, sql.data, e);
	buf_cleanup(&sql);
	if (!s)
		return false;
	for (int i = 0; i < slots; i++)
		db_bind_i64(s, 1 + i, i < n ? ids[i] : 0);
	post_t *rows = xcalloc((size_t)n, sizeof(*rows));
	int got = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW && got < n)
		read_post(s, &rows[got++]);
	db_finish(s);
	if (rc == DB_ERROR) {
		posts_free(rows, got);
		return false;
	}
	/* back into the order asked for */
	post_t *sorted = xcalloc((size_t)n, sizeof(*sorted));
	int m = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < got; j++)
			if (rows[j].id == ids[i] && rows[j].title) {
				sorted[m++] = rows[j];
				memset(&rows[j], 0, sizeof(rows[j]));
				break;
			}
	posts_free(rows, got);
	if (!load_liked(c, sorted, m, viewer, e)) {
		posts_free(sorted, m);
		return false;
	}
	*out = sorted;
	*count = m;
	return true;
}

static void read_post_elem(db_stmt_t *s, void *elem)
{
	read_post(s, elem);
}

static void clear_post_elem(void *elem)
{
	post_clear(elem);
}

bool posts_by_user(db_conn_t *c, int64_t author, int64_t viewer, int64_t before, int limit, post_t **out,
		   int *count, int64_t *next, err_t *e)
{
	/* what the viewer may see of this author: everything (self), public + followers (a follower), public
	 */
	bool follows = false;
	if (viewer && viewer != author && !social_follows(c, viewer, author, &follows, e))
		return false;
	const char *vis = viewer == author ? "('public','followers','private')"
			  : follows	   ? "('public','followers')"
					   : "('public')";
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "SELECT " POST_COLS POST_FROM "WHERE p.user_id = ? AND p.visibility IN %s AND "
		 "p.id < ? ORDER BY p.id DESC LIMIT ?",
		 vis);
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, author);
	void *items;
	if (!db_page(s, 2, before, limit, sizeof(post_t), offsetof(post_t, id), read_post_elem,
		     clear_post_elem, &items, count, next, e))
		return false;
	*out = items;
	if (!load_liked(c, *out, *count, viewer, e)) {
		posts_free(*out, *count);
		*out = NULL;
		return false;
	}
	return true;
}

static bool check_clip(db_conn_t *c, int64_t clip_id, int64_t user_id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT status FROM clips WHERE id = ? AND user_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, clip_id);
	db_bind_i64(s, 2, user_id);
	int rc = db_step(s, e);
	bool ready = rc == DB_ROW && strcmp(db_col_text(s, 0), "ready") == 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW)
		return err_set(e, ERR_NOT_FOUND, "clip_not_found", "clip_id", "no such clip");
	if (!ready)
		return err_set(e, ERR_CONFLICT, "clip_not_ready", "clip_id",
			       "the clip is still rendering or failed; post it when it is ready");
	return true;
}

static bool valid_visibility(const char *v, err_t *e)
{
	if (v && (strcmp(v, "public") == 0 || strcmp(v, "followers") == 0 || strcmp(v, "private") == 0))
		return true;
	return err_set(e, ERR_INVALID, "invalid_visibility", "visibility",
		       "visibility must be public, followers or private");
}

static bool valid_title(const char *t, err_t *e)
{
	const char *p = t;
	while (p && (*p == ' ' || *p == '\t'))
		p++;
	if (!p || !*p)
		return err_set(e, ERR_INVALID, "invalid_title", "title", "title must not be empty");
	return true;
}

bool posts_create(db_conn_t *c, int64_t user_id, const post_spec_t *sp, post_t *out, err_t *e)
{
	const char *vis = sp->visibility ? sp->visibility : "public";
	char gkey[POST_GAME_MAX * 4 + 1];
	bool has_game = social_game_key(sp->game, gkey, sizeof(gkey));
	if (!valid_title(sp->title, e) || !valid_visibility(vis, e) ||
	    !check_clip(c, sp->clip_id, user_id, e))
		return false;
	int64_t id = id_new(), now = time_now_ms();
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO posts (id, user_id, clip_id, title, description, game, game_key, tags, "
		       "visibility, trend_key, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		       e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, user_id);
	db_bind_i64(s, 3, sp->clip_id);
	db_bind_text(s, 4, sp->title);
	db_bind_text(s, 5, sp->description && sp->description[0] ? sp->description : NULL);
	db_bind_text(s, 6, has_game ? sp->game : NULL);
	db_bind_text(s, 7, has_game ? gkey : NULL);
	db_bind_text(s, 8, sp->tags_json ? sp->tags_json : "[]");
	db_bind_text(s, 9, vis);
	db_bind_i64(s, 10, trend_event_key(now, 1.0));
	db_bind_i64(s, 11, now);
	db_bind_i64(s, 12, now);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		goto fail;
	s = db_prepare(c, "UPDATE users SET post_count = post_count + 1 WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, user_id);
	rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE || !notify_mentions(c, sp->description, user_id, id, 0, 0, e) || !db_commit(c, e))
		goto fail;
	feed_creator_changed(user_id);
	return posts_get(c, id, user_id, out, e);
fail:
	db_rollback(c);
	return false;
}

bool posts_update(db_conn_t *c, int64_t id, int64_t user_id, const post_spec_t *sp, post_t *out, err_t *e)
{
	post_t cur;
	if (!posts_get(c, id, user_id, &cur, e))
		return false;
	bool mine = cur.user_id == user_id;
	post_clear(&cur);
	if (!mine)
		return err_set(e, ERR_FORBIDDEN, "not_owner", NULL, "only the author can edit a post");
	if ((sp->set_title && !valid_title(sp->title, e)) ||
	    (sp->set_visibility && !valid_visibility(sp->visibility, e)))
		return false;
	char gkey[POST_GAME_MAX * 4 + 1];
	bool has_game = social_game_key(sp->game, gkey, sizeof(gkey));
	db_stmt_t *s = db_prepare(c,
				  "UPDATE posts SET title = CASE WHEN ? = 1 THEN ? ELSE title END, "
				  "description = CASE WHEN ? = 1 THEN ? ELSE description END, "
				  "game = CASE WHEN ? = 1 THEN ? ELSE game END, game_key = CASE WHEN ? = 1 "
				  "THEN ? ELSE game_key END, "
				  "tags = CASE WHEN ? = 1 THEN ? ELSE tags END, visibility = CASE WHEN ? = 1 "
				  "THEN ? ELSE visibility END, "
				  "updated_at = ? WHERE id = ? AND user_id = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, sp->set_title);
	db_bind_text(s, 2, sp->title);
	db_bind_i64(s, 3, sp->set_description);
	db_bind_text(s, 4, sp->description && sp->description[0] ? sp->description : NULL);
	db_bind_i64(s, 5, sp->set_game);
	db_bind_text(s, 6, has_game ? sp->game : NULL);
	db_bind_i64(s, 7, sp->set_game);
	db_bind_text(s, 8, has_game ? gkey : NULL);
	db_bind_i64(s, 9, sp->set_tags);
	db_bind_text(s, 10, sp->tags_json ? sp->tags_json : "[]");
	db_bind_i64(s, 11, sp->set_visibility);
	db_bind_text(s, 12, sp->visibility ? sp->visibility : "public");
	db_bind_i64(s, 13, time_now_ms());
	db_bind_i64(s, 14, id);
	db_bind_i64(s, 15, user_id);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		return false;
	feed_creator_changed(user_id);
	feed_post_changed(id);
	return posts_get(c, id, user_id, out, e);
}

bool posts_delete(db_conn_t *c, int64_t id, int64_t actor, int actor_rank, err_t *e)
{
	post_t p;
	bool staff = actor_rank >= users_role_rank("moderator");
	memset(&p, 0, sizeof(p));
	/* staff may delete what they cannot see (a reported private post); others must see it first */
	if (!(staff ? get_raw(c, id, &p, e) : posts_get(c, id, actor, &p, e)))
		return false;
	int64_t author = p.user_id;
	post_clear(&p);
	if (author != actor && !staff)
		return err_set(e, ERR_FORBIDDEN, "not_owner", NULL,
			       "only the author or a moderator can delete a post");
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s = db_prepare(c, "DELETE FROM posts WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	int64_t n = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc != DB_DONE)
		goto fail;
	if (n == 1) {
		s = db_prepare(
		    c, "UPDATE users SET post_count = post_count - 1 WHERE id = ? AND post_count > 0", e);
		if (!s)
			goto fail;
		db_bind_i64(s, 1, author);
		rc = db_step(s, e);
		db_finish(s);
		if (rc != DB_DONE)
			goto fail;
	}
	if (!db_commit(c, e))
		goto fail;
	feed_creator_changed(author);
	feed_post_changed(id);
	return n == 1 ? true : not_found(e);
fail:
	db_rollback(c);
	return false;
}
