/*
 * notify.c — notifications: likes, comments, replies, follows, mentions.
 *
 * Written in the same transaction as the event they announce. Nobody is
 * notified of their own actions, nor by someone on either side of a block.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "gateway/events.h"
#include "core/jsonx.h"
#include "social/social.h"

#define MENTIONS_MAX 10

/* One notification row (anchored to a post, a comment or a channel message; 0: none), and its
 * live event to the recipient's gateway. */
static bool notify_insert(db_conn_t *c, int64_t user_id, const char *kind, int64_t actor, int64_t post_id,
			  int64_t comment_id, int64_t message_id, err_t *e)
{
	if (!user_id || user_id == actor)
		return true;
	bool blocked;
	if (!social_blocked_either(c, user_id, actor, &blocked, e))
		return false;
	if (blocked)
		return true;
	db_stmt_t *s = db_prepare(
	    c,
	    "INSERT INTO notifications (id, user_id, kind, actor_id, post_id, comment_id, message_id, "
	    "created_at) VALUES (?,?,?,?,?,?,?,?)",
	    e);
	if (!s)
		return false;
	int64_t id = id_new(), at = time_now_ms();
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, user_id);
	db_bind_text(s, 3, kind);
	db_bind_i64(s, 4, actor);
	int64_t anchors[3] = {post_id, comment_id, message_id};
	for (int i = 0; i < 3; i++)
		if (anchors[i])
			db_bind_i64(s, 5 + i, anchors[i]);
		else
			db_bind_null(s, 5 + i);
	db_bind_i64(s, 8, at);
	int rc = db_step(s, e);
	db_finish(s);
	if (rc != DB_DONE)
		return false;
	/* Live to the recipient's gateway. This runs inside the caller's transaction, which
	 * commits right after; a client that refetches at once may be a few ms early, and the
	 * badge it shows comes from this event, which is complete on its own. */
	event_t ev = {.type = "NOTIFICATION", .scope = EV_USER, .user_id = user_id};
	json_t *ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = anchors[i] ? jx_id(anchors[i]) : json_null();
	events_publish(&ev, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "id", jx_id(id), "kind", kind,
				      "actor_id", jx_id(actor), "post_id", ids[0], "comment_id", ids[1],
				      "message_id", ids[2], "created_at", jx_time(at)));
	return true;
}

bool notify_add(db_conn_t *c, int64_t user_id, const char *kind, int64_t actor, int64_t post_id,
		int64_t comment_id, err_t *e)
{
	return notify_insert(c, user_id, kind, actor, post_id, comment_id, 0, e);
}

bool notify_message_mention(db_conn_t *c, int64_t user_id, int64_t actor, int64_t message_id, err_t *e)
{
	return notify_insert(c, user_id, "mention", actor, 0, 0, message_id, e);
}

bool notify_mentions(db_conn_t *c, const char *text, int64_t actor, int64_t post_id, int64_t comment_id,
		     int64_t skip, err_t *e)
{
	if (!text)
		return true;
	int64_t seen[MENTIONS_MAX];
	int nseen = 0;
	for (const char *p = text; *p && nseen < MENTIONS_MAX; p++) {
		/* "@name" at the start or after a character that cannot be part of a name or an email */
		if (*p != '@' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
			continue;
		char name[USERNAME_MAX + 2];
		size_t n = 0;
		const char *q = p + 1;
		while ((isalnum((unsigned char)*q) || *q == '_') && n <= USERNAME_MAX)
			name[n++] = *q++;
		name[n] = '\0';
		err_t e2;
		user_t u;
		if (n < USERNAME_MIN || n > USERNAME_MAX || !users_valid_username(name, &e2))
			continue;
		if (!users_get_by_username(c, name, &u, e)) {
			if (e->kind != ERR_NOT_FOUND)
				return false;
			continue;
		}
		bool dup = u.id == actor || u.id == skip || u.disabled;
		for (int i = 0; i < nseen; i++)
			dup = dup || seen[i] == u.id;
		if (dup)
			continue;
		seen[nseen++] = u.id;
		if (!notify_add(c, u.id, "mention", actor, post_id, comment_id, e))
			return false;
	}
	return true;
}

static void read_notification(db_stmt_t *s, void *elem)
{
	notification_t *n = elem;
	memset(n, 0, sizeof(*n));
	n->id = db_col_i64(s, 0);
	str_copy(n->kind, sizeof(n->kind), db_col_text(s, 1));
	n->post_id = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
	n->comment_id = db_col_is_null(s, 3) ? 0 : db_col_i64(s, 3);
	n->read = !db_col_is_null(s, 4);
	n->created_at = db_col_i64(s, 5);
	n->actor.id = db_col_i64(s, 6);
	str_copy(n->actor.username, sizeof(n->actor.username), db_col_text(s, 7));
	n->actor.display_name = db_col_is_null(s, 8) ? NULL : xstrdup(db_col_text(s, 8));
	n->post_title = db_col_is_null(s, 9) ? NULL : xstrdup(db_col_text(s, 9));
	n->comment_body = db_col_is_null(s, 10) ? NULL : xstrdup(db_col_text(s, 10));
	n->message_id = db_col_is_null(s, 11) ? 0 : db_col_i64(s, 11);
	n->channel_id = db_col_is_null(s, 12) ? 0 : db_col_i64(s, 12);
	n->community_id = db_col_is_null(s, 13) ? 0 : db_col_i64(s, 13);
	n->message_body = db_col_is_null(s, 14) ? NULL : xstrdup(db_col_text(s, 14));
}

static void clear_notification(void *elem)
{
	notification_t *n = elem;
	user_ref_clear(&n->actor);
	free(n->post_title);
	free(n->comment_body);
	free(n->message_body);
}

void notifications_free(notification_t *items, int n)
{
	for (int i = 0; i < n; i++)
		clear_notification(&items[i]);
	free(items);
}

bool notify_list(db_conn_t *c, int64_t user_id, bool unread_only, int64_t before, int limit,
		 notification_t **out, int *count, int64_t *next, err_t *e)
{
	db_stmt_t *s = db_prepare(
	    c,
	    "SELECT n.id, n.kind, n.post_id, n.comment_id, n.read_at, n.created_at, u.id, u.username, "
	    "u.display_name, p.title, cm.body, n.message_id, msg.channel_id, msg.community_id, "
	    "substr(msg.content, 1, 200) FROM notifications n JOIN users u ON u.id = n.actor_id "
	    "LEFT JOIN posts p ON p.id = n.post_id LEFT JOIN comments cm ON cm.id = n.comment_id "
	    "LEFT JOIN messages msg ON msg.id = n.message_id "
	    "WHERE n.user_id = ? AND (? = 0 OR n.read_at IS NULL) AND u.disabled = 0 AND n.id < ? "
	    "ORDER BY n.id DESC LIMIT ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, unread_only);
	void *items;
	if (!db_page(s, 3, before, limit, sizeof(notification_t), offsetof(notification_t, id),
		     read_notification, clear_notification, &items, count, next, e))
		return false;
	*out = items;
	return true;
}

bool notify_unread_count(db_conn_t *c, int64_t user_id, int64_t *out, err_t *e)
{
	return db_query_i64(c,
			    "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.actor_id "
			    "WHERE n.user_id = ? AND n.read_at IS NULL AND u.disabled = 0",
			    out, e, 1, user_id);
}

bool notify_mark_read(db_conn_t *c, int64_t user_id, const int64_t *ids, int n, err_t *e)
{
	int64_t now = time_now_ms();
	if (!ids) {
		db_stmt_t *s = db_prepare(
		    c, "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", e);
		if (!s)
			return false;
		db_bind_i64(s, 1, now);
		db_bind_i64(s, 2, user_id);
		int rc = db_step(s, e);
		db_finish(s);
		return rc == DB_DONE;
	}
	if (!db_begin(c, e))
		return false;
	for (int i = 0; i < n; i++) {
		/* someone else's id changes nothing: the user_id condition is part of the update */
		db_stmt_t *s = db_prepare(
		    c,
		    "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
		    e);
		if (!s)
			goto fail;
		db_bind_i64(s, 1, now);
		db_bind_i64(s, 2, ids[i]);
		db_bind_i64(s, 3, user_id);
		int rc = db_step(s, e);
		db_finish(s);
		if (rc != DB_DONE)
			goto fail;
	}
	if (db_commit(c, e))
		return true;
fail:
	db_rollback(c);
	return false;
}
