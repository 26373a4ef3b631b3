/*
 * messages.c — channel messages, reactions, pins and read state. See
 * messages.h; the contract is docs/communities-api.md ("Messages").
 *
 * Reads that decide whether a change is allowed (permissions, the clip, the
 * replied-to message, who is mentioned) come first; the change itself is one
 * transaction. Where a limit is counted before an insert (reactions per
 * message, pins per channel) the transaction first touches the row the limit
 * belongs to (a no-op UPDATE): that takes its row lock on PostgreSQL, so two
 * concurrent requests cannot both see room for one more (SQLite's BEGIN
 * IMMEDIATE serialises writers anyway).
 */
#include "communities/messages.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "communities/communities.h"
#include "core/jsonx.h"
#include "core/util.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

#define MSG_COLS                                                                                             \
	"m.id, m.channel_id, m.community_id, m.author_id, m.content, m.clip_id, m.mentions, "                \
	"m.mention_everyone, m.pinned, m.edited_at, m.created_at, u.username, u.display_name, r.id, "        \
	"ru.username, substr(r.content, 1, " STR(MESSAGE_REPLY_PREVIEW) "), k.status, k.duration_ms, "       \
									"k.width, k.height, k.thumb_key"
#define MSG_FROM                                                                                             \
	" FROM messages m LEFT JOIN users u ON u.id = m.author_id "                                          \
	"LEFT JOIN messages r ON r.id = m.reply_to AND r.channel_id = m.channel_id "                         \
	"LEFT JOIN users ru ON ru.id = r.author_id LEFT JOIN clips k ON k.id = m.clip_id "

/* ==== small helpers ==== */

/* A missing permission: ERR_FORBIDDEN "missing_permission" naming it (communities.c). */
static bool missing(err_t *e, perm_t bit)
{
	return comm_need(0, bit, e);
}

static bool message_missing(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "message_not_found", NULL, "no such message");
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool exec1(db_stmt_t *s, err_t *e)
{
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

void message_clear(message_t *m)
{
	if (!m)
		return;
	user_ref_clear(&m->author);
	free(m->content);
	free(m->reply_author);
	free(m->reply_content);
	free(m->mentions);
	for (int i = 0; i < m->nreactions; i++)
		free(m->reactions[i].emoji);
	free(m->reactions);
	memset(m, 0, sizeof(*m));
}

void messages_free(message_t *items, int n)
{
	for (int i = 0; i < n; i++)
		message_clear(&items[i]);
	free(items);
}

static void read_message(db_stmt_t *s, message_t *m)
{
	memset(m, 0, sizeof(*m));
	m->id = db_col_i64(s, 0);
	m->channel_id = db_col_i64(s, 1);
	m->community_id = db_col_i64(s, 2);
	m->author_id = db_col_is_null(s, 3) || db_col_is_null(s, 11) ? 0 : db_col_i64(s, 3);
	m->content = xstrdup(db_col_text(s, 4));
	m->clip_id = db_col_is_null(s, 5) ? 0 : db_col_i64(s, 5);
	m->mentions = xstrdup(db_col_is_null(s, 6) ? "[]" : db_col_text(s, 6));
	m->mention_everyone = db_col_i64(s, 7) != 0;
	m->pinned = db_col_i64(s, 8) != 0;
	m->edited_at = db_col_is_null(s, 9) ? 0 : db_col_i64(s, 9);
	m->created_at = db_col_i64(s, 10);
	if (m->author_id) {
		m->author.id = m->author_id;
		str_copy(m->author.username, sizeof(m->author.username), db_col_text(s, 11));
		m->author.display_name = dup_or_null(db_col_text(s, 12));
	}
	if (!db_col_is_null(s, 13)) {
		m->reply_id = db_col_i64(s, 13);
		m->reply_author = dup_or_null(db_col_text(s, 14));
		m->reply_content = xstrdup(db_col_is_null(s, 15) ? "" : db_col_text(s, 15));
	}
	const char *st = db_col_text(s, 16);
	m->clip_ready = m->clip_id && st && strcmp(st, "ready") == 0;
	if (m->clip_ready) {
		m->clip_duration_ms = db_col_i64(s, 17);
		m->clip_width = (int)db_col_i64(s, 18);
		m->clip_height = (int)db_col_i64(s, 19);
		m->clip_has_thumb = !db_col_is_null(s, 20);
	}
}

/* Batch lookups bind ids padded (with 0, never an id) to a multiple of 10: few statement shapes. */
static int batch_slots(int n)
{
	return (n + 9) / 10 * 10;
}

/* The reactions of a page of messages, in one query: [{emoji, count, me}] per message. */
static bool load_reactions(db_conn_t *c, message_t *items, int n, int64_t viewer, err_t *e)
{
	for (int done = 0; done < n; done += MESSAGE_PAGE_MAX) {
		int k = n - done < MESSAGE_PAGE_MAX ? n - done : MESSAGE_PAGE_MAX;
		int slots = batch_slots(k);
		buf_t sql;
		buf_init(&sql);
		buf_puts(&sql,
			 "SELECT message_id, emoji, count(*), max(CASE WHEN user_id = ? THEN 1 ELSE 0 END), "
			 "min(created_at) FROM reactions WHERE message_id IN (?");
		for (int i = 1; i < slots; i++)
			buf_puts(&sql, ",?");
		buf_puts(&sql, ") GROUP BY message_id, emoji ORDER BY message_id, min(created_at), emoji");
		db_stmt_t *s = db_prepare(c, sql.data, e);
		buf_cleanup(&sql);
		if (!s)
			return false;
		db_bind_i64(s, 1, viewer);
		for (int i = 0; i < slots; i++)
			db_bind_i64(s, 2 + i, i < k ? items[done + i].id : 0);
		int rc;
		while ((rc = db_step(s, e)) == DB_ROW) {
			int64_t id = db_col_i64(s, 0);
			message_t *m = NULL;
			for (int i = done; i < done + k && !m; i++)
				if (items[i].id == id)
					m = &items[i];
			if (!m)
				continue;
			m->reactions =
			    xrealloc(m->reactions, (size_t)(m->nreactions + 1) * sizeof(*m->reactions));
			msg_reaction_t *r = &m->reactions[m->nreactions++];
			r->emoji = xstrdup(db_col_text(s, 1));
			r->count = db_col_i64(s, 2);
			r->me = db_col_i64(s, 3) != 0;
		}
		db_finish(s);
		if (rc == DB_ERROR)
			return false;
	}
	return true;
}

/* One message without a permission check (after a change the caller was allowed to make). */
static bool load_one(db_conn_t *c, int64_t id, int64_t viewer, message_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	db_stmt_t *s = db_prepare(c, "SELECT " MSG_COLS MSG_FROM "WHERE m.id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_message(s, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW)
		return message_missing(e);
	if (!load_reactions(c, out, 1, viewer, e)) {
		message_clear(out);
		return false;
	}
	return true;
}

/*
 * Where a message is and what user may do there: "message_not_found" when it does not exist or
 * user may not view its channel. author 0: its author's account is gone.
 */
static bool msg_access(db_conn_t *c, int64_t message_id, int64_t user_id, int64_t *channel_id,
		       int64_t *community_id, int64_t *author, perm_t *perms, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT channel_id, author_id FROM messages WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, message_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		*channel_id = db_col_i64(s, 0);
		*author = db_col_is_null(s, 1) ? 0 : db_col_i64(s, 1);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW)
		return message_missing(e);
	if (!perm_channel(c, *channel_id, user_id, perms, community_id, e))
		return e->kind == ERR_NOT_FOUND ? message_missing(e) : false;
	return true;
}

/* ==== content and mentions ==== */

/* The trimmed content (heap), or false with "invalid_content" on field content. */
static bool clean_content(const char *in, char **out, err_t *e)
{
	*out = NULL;
	if (!in)
		return err_set(e, ERR_INVALID, "invalid_content", "content", "content is required");
	while (*in && isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n > 0 && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == 0)
		return err_set(e, ERR_INVALID, "invalid_content", "content", "a message needs some text");
	char *s = xstrndup(in, n);
	if (jx_utf8_len(s) > MESSAGE_CONTENT_MAX) {
		free(s);
		return err_set(e, ERR_INVALID, "invalid_content", "content",
			       "a message is at most %d characters", MESSAGE_CONTENT_MAX);
	}
	*out = s;
	return true;
}

typedef struct {
	int64_t ids[MESSAGE_MENTIONS_MAX];
	int n;
	bool everyone;
} mentions_t;

static bool is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/*
 * The members of the channel's community mentioned in text (`@name` at the start or after a
 * character that cannot be part of a name or an email) who may view the channel, and whether
 * `@everyone` counts (the author has MENTION_EVERYONE).
 */
static bool find_mentions(db_conn_t *c, const char *text, int64_t channel_id, int64_t community_id,
			  perm_t author_perms, mentions_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	char names[MESSAGE_MENTIONS_MAX][USERNAME_MAX + 1];
	int nnames = 0;
	for (const char *p = text; *p; p++) {
		if (*p != '@' || (p > text && is_name_char(p[-1])))
			continue;
		size_t n = 0;
		const char *q = p + 1;
		while (is_name_char(q[n]))
			n++;
		if (n == 8 && strncmp(q, "everyone", 8) == 0) {
			out->everyone = out->everyone || (author_perms & PERM_MENTION_EVERYONE) != 0;
			continue;
		}
		if (n < USERNAME_MIN || n > USERNAME_MAX || nnames == MESSAGE_MENTIONS_MAX)
			continue;
		char name[USERNAME_MAX + 1];
		memcpy(name, q, n);
		name[n] = '\0';
		bool dup = false;
		for (int i = 0; i < nnames && !dup; i++)
			dup = str_ieq(names[i], name);
		if (!dup)
			str_copy(names[nnames++], sizeof(names[0]), name);
	}
	for (int i = 0; i < nnames; i++) {
		db_stmt_t *s = db_prepare(
		    c,
		    "SELECT u.id FROM users u JOIN members mb ON mb.user_id = u.id "
		    "WHERE mb.community_id = ? AND lower(u.username) = lower(?) AND u.disabled = 0",
		    e);
		if (!s)
			return false;
		db_bind_i64(s, 1, community_id);
		db_bind_text(s, 2, names[i]);
		int rc = db_step(s, e);
		int64_t uid = rc == DB_ROW ? db_col_i64(s, 0) : 0;
		db_finish(s);
		if (rc == DB_ERROR)
			return false;
		if (!uid)
			continue;
		perm_t p;
		err_t e2;
		if (!perm_channel(c, channel_id, uid, &p, NULL, &e2)) {
			if (e2.kind == ERR_NOT_FOUND)
				continue; /* a member who cannot see the channel is not mentioned */
			*e = e2;
			return false;
		}
		bool dup = false;
		for (int k = 0; k < out->n && !dup; k++)
			dup = out->ids[k] == uid;
		if (!dup)
			out->ids[out->n++] = uid;
	}
	return true;
}

/* ["id", …] (heap). */
static char *mentions_json(const mentions_t *m)
{
	buf_t b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (int i = 0; i < m->n; i++)
		buf_printf(&b, "%s\"%lld\"", i ? "," : "", (long long)m->ids[i]);
	buf_putc(&b, ']');
	return buf_steal(&b);
}

/* Whether id is in a stored mentions array. */
static bool mentioned_in(const char *json, int64_t id)
{
	char needle[32];
	snprintf(needle, sizeof(needle), "\"%lld\"", (long long)id);
	return json && strstr(json, needle) != NULL;
}

/* Notifies each mentioned member (not the author, nor anyone already in `before`). */
static bool notify_members(db_conn_t *c, const mentions_t *m, int64_t author, int64_t message_id,
			   const char *before, err_t *e)
{
	for (int i = 0; i < m->n; i++) {
		if (m->ids[i] == author || mentioned_in(before, m->ids[i]))
			continue;
		if (!notify_message_mention(c, m->ids[i], author, message_id, e))
			return false;
	}
	return true;
}

/* ==== emoji ==== */

/* Decodes one UTF-8 sequence at s (n bytes left); 0 when invalid. */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	int len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!len || (size_t)len > n)
		return 0;
	uint32_t v = s[0] & (0x7F >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static bool space_or_control(uint32_t cp)
{
	return cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

bool messages_valid_emoji(const char *emoji, err_t *e)
{
	size_t n = emoji ? strlen(emoji) : 0;
	if (n < 1 || n > MESSAGE_EMOJI_MAX)
		return err_set(e, ERR_INVALID, "invalid_emoji", "emoji", "an emoji is 1 to %d bytes",
			       MESSAGE_EMOJI_MAX);
	const unsigned char *s = (const unsigned char *)emoji;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int len = utf8_next(s + i, n - i, &cp);
		if (!len || space_or_control(cp))
			return err_set(e, ERR_INVALID, "invalid_emoji", "emoji",
				       "an emoji is text without spaces or control characters");
		i += (size_t)len;
	}
	return true;
}

/* ==== send ==== */

static bool check_clip(db_conn_t *c, int64_t clip_id, int64_t user_id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT status FROM clips WHERE id = ? AND user_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, clip_id);
	db_bind_i64(s, 2, user_id);
	int rc = db_step(s, e);
	bool ready = rc == DB_ROW && db_col_text(s, 0) && strcmp(db_col_text(s, 0), "ready") == 0;
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (!ready)
		return err_set(e, ERR_INVALID, "invalid_clip", "clip_id",
			       "clip_id is not a ready clip of yours");
	return true;
}

static bool check_reply(db_conn_t *c, int64_t reply_to, int64_t channel_id, err_t *e)
{
	int64_t ch;
	if (!db_query_i64(c, "SELECT channel_id FROM messages WHERE id = ?", &ch, e, 1, reply_to)) {
		if (e->kind != ERR_NOT_FOUND)
			return false;
		ch = 0;
	}
	if (ch != channel_id)
		return err_set(e, ERR_INVALID, "invalid_reply_to", "reply_to",
			       "reply_to is not a message of this channel");
	return true;
}

bool messages_create(db_conn_t *c, int64_t channel_id, int64_t author_id, const message_spec_t *spec,
		     message_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	perm_t perms;
	int64_t community_id;
	if (!perm_channel(c, channel_id, author_id, &perms, &community_id, e))
		return false;
	if (!(perms & PERM_SEND_MESSAGES))
		return missing(e, PERM_SEND_MESSAGES);
	char *content;
	if (!clean_content(spec->content, &content, e))
		return false;
	char *mjson = NULL;
	mentions_t m;
	bool ok = true;
	if (spec->clip_id)
		ok = (perms & PERM_ATTACH_CLIPS) ? check_clip(c, spec->clip_id, author_id, e)
						 : missing(e, PERM_ATTACH_CLIPS);
	ok = ok && (!spec->reply_to || check_reply(c, spec->reply_to, channel_id, e));
	ok = ok && find_mentions(c, content, channel_id, community_id, perms, &m, e);
	if (!ok) {
		free(content);
		return false;
	}
	mjson = mentions_json(&m);
	int64_t id = 0, last = 0, now = time_now_ms();
	if (!db_begin(c, e)) {
		free(content);
		free(mjson);
		return false;
	}
	/*
	 * The channel's row lock orders its messages: each id is above the last one committed, so
	 * ids follow commit order and a reader paging with ?after= never misses a message that
	 * commits later with a smaller id.
	 */
	db_stmt_t *s = db_prepare(
	    c, "UPDATE channels SET last_message_id = last_message_id WHERE id = ? RETURNING last_message_id",
	    e);
	ok = s != NULL;
	if (ok) {
		db_bind_i64(s, 1, channel_id);
		int rc = db_step(s, e);
		if (rc == DB_ROW)
			last = db_col_i64(s, 0);
		db_finish(s);
		ok = rc == DB_ROW;
		if (rc == DB_DONE)
			err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
	}
	id = id_new();
	if (id <= last)
		id = last + 1;
	if (ok && (s = db_prepare(c,
				  "INSERT INTO messages (id, channel_id, community_id, author_id, content, "
				  "reply_to, clip_id, mentions, mention_everyone, pinned, created_at) "
				  "VALUES (?,?,?,?,?,?,?,?,?,0,?)",
				  e)) != NULL) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, channel_id);
		db_bind_i64(s, 3, community_id);
		db_bind_i64(s, 4, author_id);
		db_bind_text(s, 5, content);
		if (spec->reply_to)
			db_bind_i64(s, 6, spec->reply_to);
		else
			db_bind_null(s, 6);
		if (spec->clip_id)
			db_bind_i64(s, 7, spec->clip_id);
		else
			db_bind_null(s, 7);
		db_bind_text(s, 8, mjson);
		db_bind_i64(s, 9, m.everyone ? 1 : 0);
		db_bind_i64(s, 10, now);
		ok = exec1(s, e);
	} else
		ok = false;
	if (ok && (s = db_prepare(c, "UPDATE channels SET last_message_id = ? WHERE id = ?", e)) != NULL) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, channel_id);
		ok = exec1(s, e);
	} else
		ok = false;
	ok = ok && notify_members(c, &m, author_id, id, NULL, e);
	free(content);
	free(mjson);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		/* the clip went away since the check above */
		if (e->kind == ERR_CONFLICT && strcmp(e->code, "constraint_violation") == 0)
			err_set(e, ERR_INVALID, "invalid_clip", "clip_id",
				"clip_id is not a ready clip of yours");
		return false;
	}
	return load_one(c, id, author_id, out, e);
}

/* ==== read ==== */

bool messages_get(db_conn_t *c, int64_t message_id, int64_t viewer, message_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	int64_t channel_id, community_id, author;
	perm_t perms;
	if (!msg_access(c, message_id, viewer, &channel_id, &community_id, &author, &perms, e))
		return false;
	return load_one(c, message_id, viewer, out, e);
}

/* Appends up to `limit` rows of `sql` (channel_id, anchor, limit binds) to *items. *more: a row
 * beyond limit exists. */
static bool fetch(db_conn_t *c, const char *sql, int64_t channel_id, int64_t anchor, int limit,
		  message_t **items, int *n, int *cap, bool *more, err_t *e)
{
	*more = false;
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, channel_id);
	db_bind_i64(s, 2, anchor);
	db_bind_i64(s, 3, (int64_t)limit + 1);
	int rc, got = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (got == limit) {
			*more = true;
			continue;
		}
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*items = xrealloc(*items, (size_t)*cap * sizeof(**items));
		}
		read_message(s, &(*items)[(*n)++]);
		got++;
	}
	db_finish(s);
	return rc == DB_DONE;
}

static void reverse(message_t *items, int from, int to)
{
	for (int i = from, j = to - 1; i < j; i++, j--) {
		message_t t = items[i];
		items[i] = items[j];
		items[j] = t;
	}
}

#define SQL_OLDER "SELECT " MSG_COLS MSG_FROM "WHERE m.channel_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?"
#define SQL_NEWER "SELECT " MSG_COLS MSG_FROM "WHERE m.channel_id = ? AND m.id > ? ORDER BY m.id LIMIT ?"
#define SQL_FROM  "SELECT " MSG_COLS MSG_FROM "WHERE m.channel_id = ? AND m.id >= ? ORDER BY m.id LIMIT ?"

bool messages_list(db_conn_t *c, int64_t channel_id, int64_t viewer, msg_dir_t dir, int64_t anchor, int limit,
		   message_t **out, int *count, bool *has_more, err_t *e)
{
	*out = NULL;
	*count = 0;
	*has_more = false;
	perm_t perms;
	if (!perm_channel(c, channel_id, viewer, &perms, NULL, e))
		return false;
	if (limit < 1)
		limit = 1;
	if (limit > MESSAGE_PAGE_MAX)
		limit = MESSAGE_PAGE_MAX;
	message_t *items = NULL;
	int n = 0, cap = 0;
	bool ok, more = false;
	switch (dir) {
	case MSG_AFTER:
		ok = fetch(c, SQL_NEWER, channel_id, anchor, limit, &items, &n, &cap, has_more, e);
		break;
	case MSG_AROUND: {
		int older = limit / 2;
		ok = fetch(c, SQL_OLDER, channel_id, anchor, older, &items, &n, &cap, &more, e);
		reverse(items, 0, n);
		ok = ok &&
		     fetch(c, SQL_FROM, channel_id, anchor, limit - older, &items, &n, &cap, has_more, e);
		*has_more = *has_more || more;
		break;
	}
	default:
		ok = fetch(c, SQL_OLDER, channel_id, dir == MSG_BEFORE ? anchor : INT64_MAX, limit, &items,
			   &n, &cap, has_more, e);
		reverse(items, 0, n);
		break;
	}
	if (!ok || !load_reactions(c, items, n, viewer, e)) {
		messages_free(items, n);
		*has_more = false;
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

bool messages_pins(db_conn_t *c, int64_t channel_id, int64_t viewer, message_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	perm_t perms;
	if (!perm_channel(c, channel_id, viewer, &perms, NULL, e))
		return false;
	db_stmt_t *s = db_prepare(c,
				  "SELECT " MSG_COLS MSG_FROM "WHERE m.channel_id = ? AND m.pinned = 1 "
				  "ORDER BY m.id LIMIT " STR(CHANNEL_PINS_MAX),
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, channel_id);
	message_t *items = xcalloc(CHANNEL_PINS_MAX, sizeof(*items));
	int n = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW && n < CHANNEL_PINS_MAX)
		read_message(s, &items[n++]);
	db_finish(s);
	if (rc == DB_ERROR || !load_reactions(c, items, n, viewer, e)) {
		messages_free(items, n);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

/* ==== change ==== */

/* Touches a message's row inside a transaction (its row lock on PostgreSQL); "message_not_found"
 * when it is gone. *pinned (may be NULL): whether it is pinned; *mentions (may be NULL): its
 * mentions (heap). */
static bool lock_message(db_conn_t *c, int64_t message_id, bool *pinned, char **mentions, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c, "UPDATE messages SET pinned = pinned WHERE id = ? RETURNING pinned, mentions", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, message_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW && pinned)
		*pinned = db_col_i64(s, 0) != 0;
	if (rc == DB_ROW && mentions)
		*mentions = dup_or_null(db_col_text(s, 1));
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	return rc == DB_ROW ? true : message_missing(e);
}

/* How many reactions with emoji a message has. */
static bool count_emoji(db_conn_t *c, int64_t message_id, const char *emoji, int64_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "SELECT count(*) FROM reactions WHERE message_id = ? AND emoji = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, message_id);
	db_bind_text(s, 2, emoji);
	int rc = db_step(s, e);
	*out = rc == DB_ROW ? db_col_i64(s, 0) : 0;
	db_finish(s);
	return rc == DB_ROW;
}

bool messages_edit(db_conn_t *c, int64_t message_id, int64_t user_id, const char *content, message_t *out,
		   err_t *e)
{
	memset(out, 0, sizeof(*out));
	int64_t channel_id, community_id, author;
	perm_t perms;
	if (!msg_access(c, message_id, user_id, &channel_id, &community_id, &author, &perms, e))
		return false;
	if (author != user_id)
		return err_set(e, ERR_FORBIDDEN, "not_author", NULL, "only the author can edit a message");
	char *text, *before = NULL;
	mentions_t m;
	if (!clean_content(content, &text, e))
		return false;
	if (!find_mentions(c, text, channel_id, community_id, perms, &m, e)) {
		free(text);
		return false;
	}
	char *mjson = mentions_json(&m);
	bool ok = db_begin(c, e);
	if (!ok)
		goto out;
	/* who was mentioned before, read under the row lock: only newly mentioned members are notified */
	ok = lock_message(c, message_id, NULL, &before, e);
	db_stmt_t *s = NULL;
	if (ok && (s = db_prepare(c,
				  "UPDATE messages SET content = ?, mentions = ?, mention_everyone = ?, "
				  "edited_at = ? WHERE id = ?",
				  e)) != NULL) {
		db_bind_text(s, 1, text);
		db_bind_text(s, 2, mjson);
		db_bind_i64(s, 3, m.everyone ? 1 : 0);
		db_bind_i64(s, 4, time_now_ms());
		db_bind_i64(s, 5, message_id);
		ok = exec1(s, e);
	} else
		ok = false;
	ok = ok && notify_members(c, &m, user_id, message_id, before, e);
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		ok = false;
	}
out:
	free(text);
	free(mjson);
	free(before);
	return ok && load_one(c, message_id, user_id, out, e);
}

bool messages_delete(db_conn_t *c, int64_t message_id, int64_t actor, int64_t *channel_id,
		     int64_t *community_id, err_t *e)
{
	int64_t author;
	perm_t perms;
	if (!msg_access(c, message_id, actor, channel_id, community_id, &author, &perms, e))
		return false;
	bool moderator = author != actor;
	if (moderator && !(perms & PERM_MANAGE_MESSAGES))
		return missing(e, PERM_MANAGE_MESSAGES);
	if (!db_begin(c, e))
		return false;
	db_stmt_t *s = db_prepare(c, "DELETE FROM messages WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, message_id);
	int rc = db_step(s, e);
	int64_t gone = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	if (rc != DB_DONE)
		goto fail;
	if (gone == 0) { /* deleted by a concurrent request */
		db_rollback(c);
		return message_missing(e);
	}
	if (moderator) {
		char detail[96], who[24] = "null";
		if (author)
			snprintf(who, sizeof(who), "\"%lld\"", (long long)author);
		snprintf(detail, sizeof(detail), "{\"channel_id\":\"%lld\",\"author_id\":%s}",
			 (long long)*channel_id, who);
		s = db_prepare(
		    c,
		    "INSERT INTO audit_log (id, community_id, actor_id, action, target_type, target_id, "
		    "detail, created_at) VALUES (?,?,?,'message_delete','message',?,?,?)",
		    e);
		if (!s)
			goto fail;
		db_bind_i64(s, 1, id_new());
		db_bind_i64(s, 2, *community_id);
		db_bind_i64(s, 3, actor);
		db_bind_i64(s, 4, message_id);
		db_bind_text(s, 5, detail);
		db_bind_i64(s, 6, time_now_ms());
		if (!exec1(s, e))
			goto fail;
	}
	if (db_commit(c, e))
		return true;
fail:
	db_rollback(c);
	return false;
}

bool messages_react(db_conn_t *c, int64_t message_id, int64_t user_id, const char *emoji, bool on,
		    bool *changed, int64_t *channel_id, int64_t *community_id, err_t *e)
{
	*changed = false;
	int64_t author;
	perm_t perms;
	if (!msg_access(c, message_id, user_id, channel_id, community_id, &author, &perms, e) ||
	    !messages_valid_emoji(emoji, e))
		return false;
	if (!on) {
		db_stmt_t *s = db_prepare(
		    c, "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?", e);
		if (!s)
			return false;
		db_bind_i64(s, 1, message_id);
		db_bind_text(s, 2, emoji);
		db_bind_i64(s, 3, user_id);
		int rc = db_step(s, e);
		*changed = rc == DB_DONE && db_changes(s) > 0;
		db_finish(s);
		return rc == DB_DONE;
	}
	if (!(perms & PERM_ADD_REACTIONS))
		return missing(e, PERM_ADD_REACTIONS);
	if (!db_begin(c, e))
		return false;
	int64_t used = 0, distinct = 0;
	if (!lock_message(c, message_id, NULL, NULL, e) || !count_emoji(c, message_id, emoji, &used, e) ||
	    !db_query_i64(c, "SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = ?", &distinct, e,
			  1, message_id))
		goto fail;
	if (used == 0 && distinct >= MESSAGE_REACTIONS_MAX) {
		db_rollback(c);
		return err_set(e, ERR_CONFLICT, "too_many_reactions", NULL,
			       "a message has at most %d different reactions", MESSAGE_REACTIONS_MAX);
	}
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?,?,?,?) "
		       "ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
		       e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, message_id);
	db_bind_text(s, 2, emoji);
	db_bind_i64(s, 3, user_id);
	db_bind_i64(s, 4, time_now_ms());
	int rc = db_step(s, e);
	*changed = rc == DB_DONE && db_changes(s) > 0;
	db_finish(s);
	if (rc == DB_DONE && db_commit(c, e))
		return true;
fail:
	*changed = false;
	db_rollback(c);
	return false;
}

bool messages_pin(db_conn_t *c, int64_t message_id, int64_t user_id, bool on, bool *changed, message_t *out,
		  err_t *e)
{
	memset(out, 0, sizeof(*out));
	*changed = false;
	int64_t channel_id, community_id, author;
	perm_t perms;
	if (!msg_access(c, message_id, user_id, &channel_id, &community_id, &author, &perms, e))
		return false;
	if (!(perms & PERM_MANAGE_MESSAGES))
		return missing(e, PERM_MANAGE_MESSAGES);
	if (!db_begin(c, e))
		return false;
	/* the channel's row lock serialises pin counting */
	db_stmt_t *s = db_prepare(c, "UPDATE channels SET last_message_id = last_message_id WHERE id = ?", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, channel_id);
	if (!exec1(s, e))
		goto fail;
	bool pinned;
	if (!lock_message(c, message_id, &pinned, NULL, e))
		goto fail;
	if (pinned != on) {
		int64_t n = 0;
		if (on &&
		    !db_query_i64(c, "SELECT count(*) FROM messages WHERE channel_id = ? AND pinned = 1", &n,
				  e, 1, channel_id))
			goto fail;
		if (on && n >= CHANNEL_PINS_MAX) {
			db_rollback(c);
			return err_set(e, ERR_CONFLICT, "too_many_pins", NULL,
				       "a channel has at most %d pins", CHANNEL_PINS_MAX);
		}
		s = db_prepare(c, "UPDATE messages SET pinned = ? WHERE id = ?", e);
		if (!s)
			goto fail;
		db_bind_i64(s, 1, on ? 1 : 0);
		db_bind_i64(s, 2, message_id);
		if (!exec1(s, e))
			goto fail;
		*changed = true;
	}
	if (!db_commit(c, e))
		goto fail;
	return load_one(c, message_id, user_id, out, e);
fail:
	*changed = false;
	db_rollback(c);
	return false;
}

/* ==== read state ==== */

bool messages_ack(db_conn_t *c, int64_t channel_id, int64_t user_id, int64_t message_id, err_t *e)
{
	perm_t perms;
	if (!perm_channel(c, channel_id, user_id, &perms, NULL, e))
		return false;
	int64_t last;
	if (!db_query_i64(c, "SELECT last_message_id FROM channels WHERE id = ?", &last, e, 1, channel_id)) {
		if (e->kind == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
		return false;
	}
	if (message_id < 1 || message_id > last)
		return err_set(e, ERR_INVALID, "invalid_message_id", "message_id",
			       "message_id is not a message of this channel");
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO channel_reads (user_id, channel_id, last_read_id) VALUES (?,?,?) "
		       "ON CONFLICT (user_id, channel_id) DO UPDATE SET last_read_id = "
		       "CASE WHEN excluded.last_read_id > channel_reads.last_read_id "
		       "THEN excluded.last_read_id ELSE channel_reads.last_read_id END",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, channel_id);
	db_bind_i64(s, 3, message_id);
	if (exec1(s, e))
		return true;
	/* the channel went away since the check */
	if (e->kind == ERR_CONFLICT && strcmp(e->code, "constraint_violation") == 0)
		return err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
	return false;
}

bool messages_last_read(db_conn_t *c, int64_t channel_id, int64_t user_id, int64_t *out, err_t *e)
{
	*out = 0;
	if (db_query_i64(c, "SELECT last_read_id FROM channel_reads WHERE user_id = ? AND channel_id = ?",
			 out, e, 2, user_id, channel_id))
		return true;
	return e->kind == ERR_NOT_FOUND;
}
