/*
 * Unit tests for src/communities/messages.c: sending (content, mentions,
 * replies, clips, permissions), paging, edits, deletes and their audit rows,
 * reactions, pins and read state, on SQLite and (when configured)
 * PostgreSQL, each case on a freshly migrated database. Communities,
 * channels, roles and overwrites are written straight to the tables.
 */
#define DBFIX_SCHEMA "cosmiv_unit_messages"
#include "dbfix.h"

#include <string.h>

#include "communities/messages.h"
#include "communities/perms.h"
#include "social/social.h"

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

static void sql(dbfix_t *f, char *text)
{
	err_t e;
	if (!db_exec(f->c, text, &e))
		fail_msg("%s: %s", text, e.detail);
	free(text);
}

static int64_t count(dbfix_t *f, const char *q, int64_t arg)
{
	int64_t n = -1;
	err_t e;
	if (!db_query_i64(f->c, q, &n, &e, 1, arg))
		fail_msg("%s: %s", q, e.detail);
	return n;
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

/* A community owned by owner with its @everyone role (PERM_EVERYONE_DEFAULT); the owner is a member. */
static int64_t community(dbfix_t *f, int64_t owner)
{
	int64_t id = id_new(), now = time_now_ms();
	sql(f, xasprintf("INSERT INTO communities (id, owner_id, name, name_lc, member_count, created_at) "
			 "VALUES (%lld, %lld, 'Squad', 'squad', 1, %lld); "
			 "INSERT INTO roles (id, community_id, name, position, permissions, is_everyone, "
			 "created_at) VALUES (%lld, %lld, '@everyone', 0, %llu, 1, %lld); "
			 "INSERT INTO members (community_id, user_id, joined_at) VALUES (%lld, %lld, %lld)",
			 (long long)id, (long long)owner, (long long)now, (long long)id, (long long)id,
			 (unsigned long long)PERM_EVERYONE_DEFAULT, (long long)now, (long long)id,
			 (long long)owner, (long long)now));
	return id;
}

static int64_t channel(dbfix_t *f, int64_t community_id, const char *name)
{
	int64_t id = id_new();
	sql(f, xasprintf("INSERT INTO channels (id, community_id, name, type, created_at) VALUES "
			 "(%lld, %lld, '%s', 'text', %lld)",
			 (long long)id, (long long)community_id, name, (long long)time_now_ms()));
	return id;
}

static void join(dbfix_t *f, int64_t community_id, int64_t user_id)
{
	sql(f, xasprintf("INSERT INTO members (community_id, user_id, joined_at) VALUES (%lld, %lld, %lld)",
			 (long long)community_id, (long long)user_id, (long long)time_now_ms()));
}

/* A role with perms above @everyone, given to user_id. */
static int64_t role(dbfix_t *f, int64_t community_id, int64_t user_id, perm_t perms)
{
	int64_t id = id_new();
	sql(f,
	    xasprintf("INSERT INTO roles (id, community_id, name, position, permissions, created_at) "
		      "VALUES (%lld, %lld, 'mod', 1, %llu, %lld); "
		      "INSERT INTO member_roles (community_id, user_id, role_id) VALUES (%lld, %lld, %lld)",
		      (long long)id, (long long)community_id, (unsigned long long)perms,
		      (long long)time_now_ms(), (long long)community_id, (long long)user_id, (long long)id));
	return id;
}

static void overwrite(dbfix_t *f, int64_t channel_id, const char *type, int64_t target, perm_t allow,
		      perm_t deny)
{
	sql(f, xasprintf("INSERT INTO channel_overwrites (channel_id, target_type, target_id, allow_bits, "
			 "deny_bits) VALUES (%lld, '%s', %lld, %llu, %llu)",
			 (long long)channel_id, type, (long long)target, (unsigned long long)allow,
			 (unsigned long long)deny));
}

static int64_t clip(dbfix_t *f, int64_t owner, const char *status)
{
	int64_t vid = id_new(), cid = id_new(), now = time_now_ms();
	sql(f, xasprintf("INSERT INTO videos (id, user_id, title, status, sha256, size_bytes, created_at, "
			 "updated_at) VALUES (%lld, %lld, 'v', 'ready', 'x', 1, %lld, %lld); "
			 "INSERT INTO clips (id, user_id, video_id, status, aspect, start_ms, end_ms, "
			 "duration_ms, width, height, created_at, updated_at) VALUES (%lld, %lld, %lld, "
			 "'%s', '16:9', 0, 10000, 10000, 1280, 720, %lld, %lld)",
			 (long long)vid, (long long)owner, (long long)now, (long long)now, (long long)cid,
			 (long long)owner, (long long)vid, status, (long long)now, (long long)now));
	return cid;
}

/* Sends content; returns the id (fails the case on error). */
static int64_t send(dbfix_t *f, int64_t ch, int64_t author, const char *content)
{
	message_spec_t sp = {.content = content};
	message_t m;
	err_t e;
	if (!messages_create(f->c, ch, author, &sp, &m, &e))
		fail_msg("messages_create: %s %s", e.code, e.detail);
	int64_t id = m.id;
	message_clear(&m);
	return id;
}

static bool send_err(dbfix_t *f, int64_t ch, int64_t author, const message_spec_t *sp, err_t *e)
{
	message_t m;
	bool ok = messages_create(f->c, ch, author, sp, &m, e);
	message_clear(&m);
	return ok;
}

/* The world most cases share. */
typedef struct {
	int64_t owner, alice, bob, eve, com, ch;
} world_t;

static world_t world(dbfix_t *f)
{
	world_t w;
	w.owner = user(f, "owner");
	w.alice = user(f, "alice");
	w.bob = user(f, "bob");
	w.eve = user(f, "eve"); /* not a member */
	w.com = community(f, w.owner);
	w.ch = channel(f, w.com, "general");
	join(f, w.com, w.alice);
	join(f, w.com, w.bob);
	return w;
}

/* ==== pure ==== */

static void test_emoji(void **state)
{
	(void)state;
	err_t e;
	assert_true(messages_valid_emoji("👍", &e));
	assert_true(messages_valid_emoji("👩‍👩‍👧", &e)); /* joiners are part of emoji */
	assert_true(messages_valid_emoji("gg", &e));
	assert_true(messages_valid_emoji("12345678901234567890123456789012", &e));
	assert_false(messages_valid_emoji("123456789012345678901234567890123", &e));
	assert_err(&e, ERR_INVALID, "invalid_emoji");
	assert_false(messages_valid_emoji("", &e));
	assert_false(messages_valid_emoji("a b", &e));
	assert_false(messages_valid_emoji("a\tb", &e));
	assert_false(messages_valid_emoji("\x7f", &e));
	assert_false(messages_valid_emoji("a\xc2\xa0", &e)); /* no-break space */
	assert_false(messages_valid_emoji("\xc2\x85", &e));  /* NEL */
	assert_false(messages_valid_emoji("\xff", &e));	     /* not UTF-8 */
	assert_false(messages_valid_emoji("\xe2\x82", &e));  /* cut short */
	assert_false(messages_valid_emoji("\xc0\xaf", &e));  /* overlong */
}

/* ==== sending ==== */

static void test_send(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	message_spec_t sp = {.content = "  hello  there \n"};
	message_t m;
	err_t e;
	assert_true(messages_create(f->c, w.ch, w.alice, &sp, &m, &e));
	assert_string_equal(m.content, "hello  there");
	assert_int_equal(m.channel_id, w.ch);
	assert_int_equal(m.community_id, w.com);
	assert_int_equal(m.author_id, w.alice);
	assert_string_equal(m.author.username, "alice");
	assert_string_equal(m.mentions, "[]");
	assert_false(m.mention_everyone);
	assert_false(m.pinned);
	assert_int_equal(m.edited_at, 0);
	assert_int_equal(m.reply_id, 0);
	assert_int_equal(m.nreactions, 0);
	/* the channel's last message moves with the insert */
	assert_int_equal(count(f, "SELECT last_message_id FROM channels WHERE id = ?", w.ch), m.id);
	message_clear(&m);

	/* content: 1..4000 code points after trimming */
	sp.content = " \n\t ";
	assert_false(send_err(f, w.ch, w.alice, &sp, &e));
	assert_err(&e, ERR_INVALID, "invalid_content");
	assert_string_equal(e.field, "content");
	char *big = xmalloc(4001 * 2 + 3);
	for (int i = 0; i < 4000; i++)
		memcpy(big + i * 2, "\xc3\xa9", 2); /* é: 2 bytes, 1 code point */
	big[8000] = '\0';
	sp.content = big;
	assert_true(send_err(f, w.ch, w.alice, &sp, &e));
	memcpy(big + 8000, "x", 2);
	assert_false(send_err(f, w.ch, w.alice, &sp, &e));
	assert_err(&e, ERR_INVALID, "invalid_content");
	free(big);

	/* a non-member cannot see the channel; an unknown channel is the same */
	sp.content = "hi";
	assert_false(send_err(f, w.ch, w.eve, &sp, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	assert_false(send_err(f, id_new(), w.alice, &sp, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	assert_int_equal(count(f, "SELECT count(*) FROM messages WHERE channel_id = ?", w.ch), 2);
}

static void test_permissions(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t news = channel(f, w.com, "news"), hidden = channel(f, w.com, "staff");
	/* an announcement-like channel: @everyone may not send; a role may */
	overwrite(f, news, "role", w.com, 0, PERM_SEND_MESSAGES);
	int64_t speakers = role(f, w.com, w.bob, 0);
	overwrite(f, news, "role", speakers, PERM_SEND_MESSAGES, 0);
	overwrite(f, hidden, "role", w.com, 0, PERM_VIEW_CHANNEL);
	message_spec_t sp = {.content = "hi"};
	err_t e;
	int64_t before = count(f, "SELECT last_message_id FROM channels WHERE id = ?", news);
	assert_false(send_err(f, news, w.alice, &sp, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "SEND_MESSAGES");
	assert_int_equal(count(f, "SELECT count(*) FROM messages WHERE channel_id = ?", news), 0);
	assert_int_equal(count(f, "SELECT last_message_id FROM channels WHERE id = ?", news), before);
	assert_true(send_err(f, news, w.bob, &sp, &e));
	assert_true(send_err(f, news, w.owner, &sp, &e)); /* the owner may do anything */
	/* a channel alice cannot view does not exist for her */
	assert_false(send_err(f, hidden, w.alice, &sp, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	message_t *items;
	int n;
	bool more;
	assert_false(messages_list(f->c, hidden, w.alice, MSG_LATEST, 0, 50, &items, &n, &more, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	/* ... nor do its messages */
	int64_t secret = send(f, hidden, w.owner, "secret");
	message_t m;
	assert_false(messages_get(f->c, secret, w.alice, &m, &e));
	assert_err(&e, ERR_NOT_FOUND, "message_not_found");
	bool changed;
	int64_t ch, com;
	assert_false(messages_react(f->c, secret, w.alice, "👍", true, &changed, &ch, &com, &e));
	assert_err(&e, ERR_NOT_FOUND, "message_not_found");
	assert_false(messages_delete(f->c, secret, w.alice, &ch, &com, &e));
	assert_err(&e, ERR_NOT_FOUND, "message_not_found");
	assert_false(messages_ack(f->c, hidden, w.alice, secret, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	/* a member overwrite gives it back */
	overwrite(f, hidden, "member", w.alice, PERM_VIEW_CHANNEL, 0);
	assert_true(messages_get(f->c, secret, w.alice, &m, &e));
	message_clear(&m);
}

static void test_mentions(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t carol = user(f, "carol");
	join(f, w.com, carol);
	int64_t ch2 = channel(f, w.com, "private");
	overwrite(f, ch2, "member", carol, 0, PERM_VIEW_CHANNEL);
	message_spec_t sp = {.content = "@bob @BOB hi @eve @everyone @alice mail@bob.com @nobody"};
	message_t m;
	err_t e;
	/* bob (once, any case) and alice herself; eve is not a member; @everyone needs the permission */
	assert_true(messages_create(f->c, w.ch, w.alice, &sp, &m, &e));
	char expect[64];
	snprintf(expect, sizeof(expect), "[\"%lld\",\"%lld\"]", (long long)w.bob, (long long)w.alice);
	assert_string_equal(m.mentions, expect);
	assert_false(m.mention_everyone);
	message_clear(&m);
	int64_t unread;
	assert_true(notify_unread_count(f->c, w.bob, &unread, &e));
	assert_int_equal(unread, 1);
	assert_true(notify_unread_count(f->c, w.alice, &unread, &e)); /* not for her own mention */
	assert_int_equal(unread, 0);
	assert_true(notify_unread_count(f->c, w.eve, &unread, &e));
	assert_int_equal(unread, 0);
	assert_int_equal(
	    count(f, "SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'mention'", w.bob), 1);

	/* the owner may mention everyone; a role can grant it */
	sp.content = "@everyone raid at 9";
	assert_true(messages_create(f->c, w.ch, w.owner, &sp, &m, &e));
	assert_true(m.mention_everyone);
	message_clear(&m);
	role(f, w.com, w.bob, PERM_MENTION_EVERYONE);
	assert_true(messages_create(f->c, w.ch, w.bob, &sp, &m, &e));
	assert_true(m.mention_everyone);
	message_clear(&m);

	/* a member who cannot view the channel is not mentioned there */
	sp.content = "@carol look";
	assert_true(messages_create(f->c, ch2, w.alice, &sp, &m, &e));
	assert_string_equal(m.mentions, "[]");
	message_clear(&m);
	assert_true(notify_unread_count(f->c, carol, &unread, &e));
	assert_int_equal(unread, 0);

	/* an edit notifies only the members it newly mentions */
	int64_t id = send(f, w.ch, w.alice, "hey @bob");
	assert_true(notify_unread_count(f->c, w.bob, &unread, &e));
	assert_int_equal(unread, 2);
	assert_true(messages_edit(f->c, id, w.alice, "hey @bob and @carol", &m, &e));
	snprintf(expect, sizeof(expect), "[\"%lld\",\"%lld\"]", (long long)w.bob, (long long)carol);
	assert_string_equal(m.mentions, expect);
	message_clear(&m);
	assert_true(notify_unread_count(f->c, w.bob, &unread, &e));
	assert_int_equal(unread, 2);
	assert_true(notify_unread_count(f->c, carol, &unread, &e));
	assert_int_equal(unread, 1);
}

static void test_reply_and_clip(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t other = channel(f, w.com, "other");
	char long_text[400];
	memset(long_text, 'a', 300);
	long_text[300] = '\0';
	int64_t target = send(f, w.ch, w.bob, long_text), elsewhere = send(f, other, w.bob, "x");
	message_spec_t sp = {.content = "reply", .reply_to = target};
	message_t m;
	err_t e;
	assert_true(messages_create(f->c, w.ch, w.alice, &sp, &m, &e));
	assert_int_equal(m.reply_id, target);
	assert_string_equal(m.reply_author, "bob");
	assert_int_equal(strlen(m.reply_content), MESSAGE_REPLY_PREVIEW);
	int64_t reply = m.id;
	message_clear(&m);
	sp.reply_to = elsewhere;
	assert_false(send_err(f, w.ch, w.alice, &sp, &e));
	assert_err(&e, ERR_INVALID, "invalid_reply_to");
	assert_string_equal(e.field, "reply_to");
	sp.reply_to = id_new();
	assert_false(send_err(f, w.ch, w.alice, &sp, &e));
	assert_err(&e, ERR_INVALID, "invalid_reply_to");
	/* the replied-to message deleted: no preview */
	int64_t ch, com;
	assert_true(messages_delete(f->c, target, w.bob, &ch, &com, &e));
	assert_true(messages_get(f->c, reply, w.alice, &m, &e));
	assert_int_equal(m.reply_id, 0);
	message_clear(&m);

	/* clips: the author's own and ready, with ATTACH_CLIPS */
	int64_t mine = clip(f, w.alice, "ready"), rendering = clip(f, w.alice, "processing"),
		bobs = clip(f, w.bob, "ready");
	message_spec_t cs = {.content = "look", .clip_id = mine};
	assert_true(messages_create(f->c, w.ch, w.alice, &cs, &m, &e));
	assert_true(m.clip_ready);
	assert_int_equal(m.clip_id, mine);
	assert_int_equal(m.clip_duration_ms, 10000);
	assert_int_equal(m.clip_width, 1280);
	message_clear(&m);
	cs.clip_id = rendering;
	assert_false(send_err(f, w.ch, w.alice, &cs, &e));
	assert_err(&e, ERR_INVALID, "invalid_clip");
	assert_string_equal(e.field, "clip_id");
	cs.clip_id = bobs;
	assert_false(send_err(f, w.ch, w.alice, &cs, &e));
	assert_err(&e, ERR_INVALID, "invalid_clip");
	overwrite(f, w.ch, "member", w.alice, 0, PERM_ATTACH_CLIPS);
	cs.clip_id = mine;
	assert_false(send_err(f, w.ch, w.alice, &cs, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "ATTACH_CLIPS");
}

static void test_paging(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t ids[7];
	char text[16];
	for (int i = 0; i < 7; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		ids[i] = send(f, w.ch, i % 2 ? w.alice : w.bob, text);
	}
	message_t *items;
	int n;
	bool more;
	err_t e;
	/* the newest three, oldest first */
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_LATEST, 0, 3, &items, &n, &more, &e));
	assert_int_equal(n, 3);
	assert_true(more);
	assert_int_equal(items[0].id, ids[4]);
	assert_int_equal(items[2].id, ids[6]);
	assert_string_equal(items[2].content, "m6");
	messages_free(items, n);
	/* older than m4 */
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_BEFORE, ids[4], 3, &items, &n, &more, &e));
	assert_int_equal(n, 3);
	assert_true(more);
	assert_int_equal(items[0].id, ids[1]);
	messages_free(items, n);
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_BEFORE, ids[1], 3, &items, &n, &more, &e));
	assert_int_equal(n, 1);
	assert_false(more);
	assert_int_equal(items[0].id, ids[0]);
	messages_free(items, n);
	/* newer than m2 */
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_AFTER, ids[2], 3, &items, &n, &more, &e));
	assert_int_equal(n, 3);
	assert_true(more);
	assert_int_equal(items[0].id, ids[3]);
	assert_int_equal(items[2].id, ids[5]);
	messages_free(items, n);
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_AFTER, ids[4], 3, &items, &n, &more, &e));
	assert_int_equal(n, 2);
	assert_false(more);
	messages_free(items, n);
	/* around m3: two older, m3 and two newer */
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_AROUND, ids[3], 5, &items, &n, &more, &e));
	assert_int_equal(n, 5);
	assert_true(more);
	for (int i = 0; i < 5; i++)
		assert_int_equal(items[i].id, ids[1 + i]);
	messages_free(items, n);
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_AROUND, ids[3], 100, &items, &n, &more, &e));
	assert_int_equal(n, 7);
	assert_false(more);
	messages_free(items, n);
	/* all of it, and the other channel's messages are not in it */
	int64_t other = channel(f, w.com, "other");
	send(f, other, w.alice, "elsewhere");
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_LATEST, 0, 100, &items, &n, &more, &e));
	assert_int_equal(n, 7);
	assert_false(more);
	for (int i = 0; i < 7; i++)
		assert_int_equal(items[i].id, ids[i]);
	messages_free(items, n);
}

static void test_edit_delete(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t mod = user(f, "mod");
	join(f, w.com, mod);
	role(f, w.com, mod, PERM_MANAGE_MESSAGES);
	int64_t id = send(f, w.ch, w.alice, "frist");
	message_t m;
	err_t e;
	assert_false(messages_edit(f->c, id, w.bob, "mine now", &m, &e));
	assert_err(&e, ERR_FORBIDDEN, "not_author");
	assert_false(messages_edit(f->c, id, mod, "moderated", &m, &e)); /* not even a moderator */
	assert_err(&e, ERR_FORBIDDEN, "not_author");
	assert_false(messages_edit(f->c, id, w.alice, "   ", &m, &e));
	assert_err(&e, ERR_INVALID, "invalid_content");
	assert_false(messages_edit(f->c, id, w.eve, "x", &m, &e));
	assert_err(&e, ERR_NOT_FOUND, "message_not_found");
	assert_true(messages_edit(f->c, id, w.alice, " first ", &m, &e));
	assert_string_equal(m.content, "first");
	assert_true(m.edited_at > 0);
	message_clear(&m);

	int64_t ch, com;
	assert_false(messages_delete(f->c, id, w.bob, &ch, &com, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "MANAGE_MESSAGES");
	assert_int_equal(count(f, "SELECT count(*) FROM messages WHERE id = ?", id), 1);
	/* the author deletes their own without an audit row */
	assert_true(messages_delete(f->c, id, w.alice, &ch, &com, &e));
	assert_int_equal(ch, w.ch);
	assert_int_equal(com, w.com);
	assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE community_id = ?", w.com), 0);
	assert_false(messages_delete(f->c, id, w.alice, &ch, &com, &e));
	assert_err(&e, ERR_NOT_FOUND, "message_not_found");
	/* a moderator deletes someone else's: audited */
	id = send(f, w.ch, w.bob, "spam");
	assert_true(messages_delete(f->c, id, mod, &ch, &com, &e));
	assert_int_equal(
	    count(f, "SELECT count(*) FROM audit_log WHERE target_id = ? AND action = 'message_delete'", id),
	    1);
	assert_int_equal(count(f, "SELECT actor_id FROM audit_log WHERE target_id = ?", id), mod);
	/* the owner too */
	id = send(f, w.ch, w.bob, "more spam");
	assert_true(messages_delete(f->c, id, w.owner, &ch, &com, &e));
	assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE community_id = ?", w.com), 2);
}

static void test_reactions(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t id = send(f, w.ch, w.alice, "gg");
	bool changed;
	int64_t ch, com;
	err_t e;
	assert_true(messages_react(f->c, id, w.bob, "👍", true, &changed, &ch, &com, &e));
	assert_true(changed);
	assert_int_equal(ch, w.ch);
	assert_int_equal(com, w.com);
	assert_true(messages_react(f->c, id, w.bob, "👍", true, &changed, &ch, &com, &e));
	assert_false(changed); /* idempotent */
	assert_true(messages_react(f->c, id, w.alice, "👍", true, &changed, &ch, &com, &e));
	unit_sleep_ms(3); /* first use orders reactions */
	assert_true(messages_react(f->c, id, w.alice, "🔥", true, &changed, &ch, &com, &e));
	message_t m;
	assert_true(messages_get(f->c, id, w.bob, &m, &e));
	assert_int_equal(m.nreactions, 2);
	assert_string_equal(m.reactions[0].emoji, "👍"); /* by first use */
	assert_int_equal(m.reactions[0].count, 2);
	assert_true(m.reactions[0].me);
	assert_string_equal(m.reactions[1].emoji, "🔥");
	assert_int_equal(m.reactions[1].count, 1);
	assert_false(m.reactions[1].me);
	message_clear(&m);
	/* removing takes only mine */
	assert_true(messages_react(f->c, id, w.bob, "🔥", false, &changed, &ch, &com, &e));
	assert_false(changed);
	assert_true(messages_react(f->c, id, w.bob, "👍", false, &changed, &ch, &com, &e));
	assert_true(changed);
	assert_int_equal(count(f, "SELECT count(*) FROM reactions WHERE message_id = ?", id), 2);
	assert_false(messages_react(f->c, id, w.bob, "a b", true, &changed, &ch, &com, &e));
	assert_err(&e, ERR_INVALID, "invalid_emoji");

	/* at most 20 distinct emoji: a 21st is refused, an existing one is still fine */
	char emoji[8];
	for (int i = 2; i < MESSAGE_REACTIONS_MAX; i++) {
		snprintf(emoji, sizeof(emoji), "e%d", i);
		assert_true(messages_react(f->c, id, w.alice, emoji, true, &changed, &ch, &com, &e));
	}
	assert_false(messages_react(f->c, id, w.bob, "late", true, &changed, &ch, &com, &e));
	assert_err(&e, ERR_CONFLICT, "too_many_reactions");
	assert_true(messages_react(f->c, id, w.bob, "e7", true, &changed, &ch, &com, &e));
	assert_true(changed);

	/* ADD_REACTIONS */
	overwrite(f, w.ch, "member", w.bob, 0, PERM_ADD_REACTIONS);
	assert_false(messages_react(f->c, id, w.bob, "👍", true, &changed, &ch, &com, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "ADD_REACTIONS");
	assert_true(messages_react(f->c, id, w.bob, "e7", false, &changed, &ch, &com, &e));
	assert_true(changed);

	/* a page loads every message's reactions */
	int64_t id2 = send(f, w.ch, w.bob, "second");
	assert_true(messages_react(f->c, id2, w.alice, "👀", true, &changed, &ch, &com, &e));
	message_t *items;
	int n;
	bool more;
	assert_true(messages_list(f->c, w.ch, w.alice, MSG_LATEST, 0, 10, &items, &n, &more, &e));
	assert_int_equal(n, 2);
	assert_int_equal(items[0].nreactions, MESSAGE_REACTIONS_MAX);
	assert_int_equal(items[1].nreactions, 1);
	assert_true(items[1].reactions[0].me);
	messages_free(items, n);
	/* a deleted message takes its reactions along */
	assert_true(messages_delete(f->c, id, w.alice, &ch, &com, &e));
	assert_int_equal(count(f, "SELECT count(*) FROM reactions WHERE message_id = ?", id), 0);
}

static void test_pins(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t mod = user(f, "mod");
	join(f, w.com, mod);
	role(f, w.com, mod, PERM_MANAGE_MESSAGES);
	int64_t id = send(f, w.ch, w.alice, "rules");
	bool changed;
	message_t m;
	err_t e;
	assert_false(messages_pin(f->c, id, w.alice, true, &changed, &m, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "MANAGE_MESSAGES");
	assert_true(messages_pin(f->c, id, mod, true, &changed, &m, &e));
	assert_true(changed);
	assert_true(m.pinned);
	message_clear(&m);
	assert_true(messages_pin(f->c, id, mod, true, &changed, &m, &e));
	assert_false(changed);
	message_clear(&m);
	message_t *items;
	int n;
	assert_true(messages_pins(f->c, w.ch, w.bob, &items, &n, &e));
	assert_int_equal(n, 1);
	assert_int_equal(items[0].id, id);
	messages_free(items, n);
	assert_false(messages_pins(f->c, w.ch, w.eve, &items, &n, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	/* 50 per channel */
	for (int i = 1; i < CHANNEL_PINS_MAX; i++) {
		int64_t x = send(f, w.ch, w.owner, "pin me");
		assert_true(messages_pin(f->c, x, w.owner, true, &changed, &m, &e));
		message_clear(&m);
	}
	int64_t extra = send(f, w.ch, w.owner, "one too many");
	assert_false(messages_pin(f->c, extra, mod, true, &changed, &m, &e));
	assert_err(&e, ERR_CONFLICT, "too_many_pins");
	assert_true(messages_pin(f->c, id, mod, false, &changed, &m, &e));
	assert_true(changed);
	assert_false(m.pinned);
	message_clear(&m);
	assert_true(messages_pin(f->c, extra, mod, true, &changed, &m, &e));
	message_clear(&m);
	assert_true(messages_pins(f->c, w.ch, w.bob, &items, &n, &e));
	assert_int_equal(n, CHANNEL_PINS_MAX);
	assert_int_equal(items[n - 1].id, extra);
	messages_free(items, n);
}

static void test_ack(void **state)
{
	dbfix_t *f = migrated(state);
	world_t w = world(f);
	int64_t a = send(f, w.ch, w.bob, "one"), b = send(f, w.ch, w.bob, "two");
	int64_t last;
	err_t e;
	assert_true(messages_last_read(f->c, w.ch, w.alice, &last, &e));
	assert_int_equal(last, 0);
	assert_true(messages_ack(f->c, w.ch, w.alice, b, &e));
	assert_true(messages_last_read(f->c, w.ch, w.alice, &last, &e));
	assert_int_equal(last, b);
	/* never backwards */
	assert_true(messages_ack(f->c, w.ch, w.alice, a, &e));
	assert_true(messages_last_read(f->c, w.ch, w.alice, &last, &e));
	assert_int_equal(last, b);
	/* not past the channel's last message */
	assert_false(messages_ack(f->c, w.ch, w.alice, b + 1, &e));
	assert_err(&e, ERR_INVALID, "invalid_message_id");
	assert_false(messages_ack(f->c, w.ch, w.eve, a, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	/* a deleted last message can still be acked */
	int64_t c3 = send(f, w.ch, w.bob, "three"), ch, com;
	assert_true(messages_delete(f->c, c3, w.bob, &ch, &com, &e));
	assert_true(messages_ack(f->c, w.ch, w.alice, c3, &e));
	assert_true(messages_last_read(f->c, w.ch, w.alice, &last, &e));
	assert_int_equal(last, c3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_emoji), DB_TEST(test_send),
	    DB_TEST(test_permissions),	  DB_TEST(test_mentions),
	    DB_TEST(test_reply_and_clip), DB_TEST(test_paging),
	    DB_TEST(test_edit_delete),	  DB_TEST(test_reactions),
	    DB_TEST(test_pins),		  DB_TEST(test_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
