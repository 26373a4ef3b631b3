/*
 * Unit tests for src/communities: creation, membership and member_count,
 * invites, the hierarchy, channel visibility, the limits and the audit log,
 * on SQLite and (when configured) PostgreSQL, each case on a freshly
 * migrated database.
 */
#define DBFIX_SCHEMA "cosmiv_unit_communities"
#include "dbfix.h"

#include <limits.h>
#include <sodium.h>
#include <string.h>

#include "communities/communities.h"

#define HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

static dbfix_t *migrated(void **state)
{
	dbfix_t *f = dbfix(state);
	err_t e;
	int applied;
	if (!db_migrate(f->db, &applied, &e))
		fail_msg("db_migrate: %s", e.detail);
	assert_true(sodium_init() >= 0);
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

static int64_t community(dbfix_t *f, int64_t owner, const char *name, bool pub)
{
	community_spec_t sp = {.name = name, .is_public = pub, .set_name = true, .set_public = true};
	community_t x;
	err_t e;
	if (!community_create(f->c, owner, &sp, &x, &e))
		fail_msg("community_create: %s %s", e.code, e.detail);
	int64_t id = x.id;
	community_clear(&x);
	return id;
}

static int64_t role(dbfix_t *f, int64_t com, int64_t actor, const char *name, int position, perm_t bits)
{
	role_spec_t sp = {.name = name,
			  .position = position,
			  .permissions = bits,
			  .set_name = true,
			  .set_position = true,
			  .set_permissions = true};
	role_t r;
	err_t e;
	if (!role_create(f->c, com, actor, &sp, &r, &e))
		fail_msg("role_create: %s %s", e.code, e.detail);
	int64_t id = r.id;
	role_clear(&r);
	return id;
}

static int64_t count(dbfix_t *f, const char *sql, int64_t a)
{
	int64_t n = -1;
	err_t e;
	if (!db_query_i64(f->c, sql, &n, &e, 1, a))
		fail_msg("%s: %s", sql, e.detail);
	return n;
}

/* member_count equals the rows. */
static void assert_member_count(dbfix_t *f, int64_t com, int64_t want)
{
	assert_int_equal(count(f, "SELECT member_count FROM communities WHERE id = ?", com), want);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM members WHERE community_id = ?", com), want);
}

static void join_via_invite(dbfix_t *f, int64_t com, int64_t by, int64_t who)
{
	invite_t inv;
	community_t x;
	bool joined;
	err_t e;
	if (!invite_create(f->c, com, by, 0, 0, &inv, &e))
		fail_msg("invite_create: %s %s", e.code, e.detail);
	if (!invite_accept(f->c, inv.code, who, &x, &joined, &e))
		fail_msg("invite_accept: %s %s", e.code, e.detail);
	community_clear(&x);
}

static void test_create(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = user(f, "owner");
	err_t e;
	community_spec_t bad = {.name = " x ", .set_name = true};
	community_t x;
	assert_false(community_create(f->c, a, &bad, &x, &e));
	assert_err(&e, ERR_INVALID, "invalid_name");
	assert_string_equal(e.field, "name");

	community_spec_t sp = {.name = "  My Squad ",
			       .description = "hi",
			       .icon = "🎮",
			       .set_name = true,
			       .set_description = true,
			       .set_icon = true};
	assert_true(community_create(f->c, a, &sp, &x, &e));
	assert_string_equal(x.name, "My Squad");
	assert_string_equal(x.icon, "🎮");
	assert_true(x.joined);
	assert_int_equal(x.my_perms, PERM_ALL);
	assert_int_equal(x.member_count, 1);
	int64_t id = x.id;
	community_clear(&x);
	/* @everyone: the community's id, position 0, the default bits; and #general */
	assert_int_equal(
	    count(f, "SELECT permissions FROM roles WHERE id = ? AND is_everyone = 1 AND position = 0", id),
	    (int64_t)PERM_EVERYONE_DEFAULT);
	assert_int_equal(
	    count(f, "SELECT COUNT(*) FROM channels WHERE community_id = ? AND name = 'general'", id), 1);
	assert_int_equal(
	    count(f, "SELECT COUNT(*) FROM communities WHERE id = ? AND name_lc = 'my squad'", id), 1);
	assert_member_count(f, id, 1);
	perm_t p;
	assert_true(perm_community(f->c, id, a, &p, &e));
	assert_int_equal(p, PERM_ALL);
}

static void test_owner_limit(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t a = user(f, "hoarder");
	err_t e;
	assert_true(db_begin(f->c, &e));
	for (int i = 1; i < COMMUNITIES_PER_OWNER; i++) {
		db_stmt_t *s =
		    db_prepare(f->c,
			       "INSERT INTO communities (id, owner_id, name, name_lc, created_at) VALUES "
			       "(?, ?, 'c', 'c', 0)",
			       &e);
		assert_non_null(s);
		db_bind_i64(s, 1, id_new());
		db_bind_i64(s, 2, a);
		assert_int_equal(db_step(s, &e), DB_DONE);
		db_finish(s);
	}
	assert_true(db_commit(f->c, &e));
	community(f, a, "the hundredth", false);
	community_spec_t sp = {.name = "one more", .set_name = true};
	community_t x;
	assert_false(community_create(f->c, a, &sp, &x, &e));
	assert_err(&e, ERR_CONFLICT, "too_many_communities");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM communities WHERE owner_id = ?", a),
			 COMMUNITIES_PER_OWNER);
}

static void test_membership(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t o = user(f, "owner"), a = user(f, "alice"), b = user(f, "bob"), c3 = user(f, "carol");
	int64_t pub = community(f, o, "Public", true), priv = community(f, o, "Private", false);
	community_t x;
	bool joined;
	err_t e;
	assert_true(community_join(f->c, pub, a, &x, &joined, &e));
	assert_true(joined);
	community_clear(&x);
	assert_true(community_join(f->c, pub, a, &x, &joined, &e));
	assert_false(joined);
	community_clear(&x);
	assert_member_count(f, pub, 2);
	assert_false(community_join(f->c, priv, a, &x, &joined, &e));
	assert_err(&e, ERR_NOT_FOUND, "community_not_found");
	assert_false(community_get(f->c, priv, a, &x, &e));
	assert_err(&e, ERR_NOT_FOUND, "community_not_found");
	assert_true(community_get(f->c, pub, c3, &x, &e)); /* the public profile */
	assert_false(x.joined);
	assert_int_equal(x.my_perms, 0);
	community_clear(&x);

	/* invites: max_uses, already a member does not use one, banned cannot accept */
	invite_t inv;
	assert_true(invite_create(f->c, priv, o, 1, 3600, &inv, &e));
	assert_int_equal(strlen(inv.code), INVITE_CODE_LEN);
	assert_true(invite_accept(f->c, inv.code, o, &x, &joined, &e));
	assert_false(joined);
	community_clear(&x);
	assert_true(invite_accept(f->c, inv.code, a, &x, &joined, &e));
	assert_true(joined);
	community_clear(&x);
	assert_false(invite_accept(f->c, inv.code, b, &x, &joined, &e));
	assert_err(&e, ERR_NOT_FOUND, "invite_not_found");
	assert_member_count(f, priv, 2);
	bool was;
	assert_true(member_ban(f->c, priv, c3, o, "nope", &was, &e));
	assert_false(was);
	assert_true(invite_create(f->c, priv, o, 0, 0, &inv, &e));
	assert_false(invite_accept(f->c, inv.code, c3, &x, &joined, &e));
	assert_err(&e, ERR_FORBIDDEN, "banned");
	assert_int_equal(count(f, "SELECT uses FROM invites WHERE community_id = ? AND max_uses = 0", priv),
			 0);
	assert_false(invite_accept(f->c, "no such code", c3, &x, &joined, &e));
	assert_err(&e, ERR_NOT_FOUND, "invite_not_found");

	/* leave; the owner cannot */
	assert_false(community_leave(f->c, priv, o, &e));
	assert_err(&e, ERR_CONFLICT, "owner_cannot_leave");
	assert_true(community_leave(f->c, priv, a, &e));
	assert_false(community_leave(f->c, priv, a, &e));
	assert_err(&e, ERR_NOT_FOUND, "community_not_found");
	assert_member_count(f, priv, 1);

	/* deleting takes everything along */
	assert_false(community_delete(f->c, pub, a, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_true(community_delete(f->c, pub, o, &e));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM members WHERE community_id = ?", pub), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM roles WHERE community_id = ?", pub), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM channels WHERE community_id = ?", pub), 0);
}

static void test_hierarchy(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t o = user(f, "owner"), mod = user(f, "mod"), peer = user(f, "peer"), low = user(f, "low");
	int64_t com = community(f, o, "Guild", false);
	join_via_invite(f, com, o, mod);
	join_via_invite(f, com, o, peer);
	join_via_invite(f, com, o, low);
	int64_t rmod = role(f, com, o, "mod", 5, PERM_MANAGE_ROLES | PERM_KICK_MEMBERS | PERM_BAN_MEMBERS);
	int64_t rlow = role(f, com, o, "low", 2, 0);
	bool changed, was;
	err_t e;
	assert_true(member_role_set(f->c, com, mod, rmod, o, true, &changed, &e));
	assert_true(changed);
	assert_true(member_role_set(f->c, com, peer, rmod, o, true, &changed, &e));
	assert_true(member_role_set(f->c, com, peer, rmod, o, true, &changed, &e));
	assert_false(changed); /* idempotent */
	int64_t audits = count(f, "SELECT COUNT(*) FROM audit_log WHERE community_id = ?", com);

	role_spec_t at_rank = {.name = "x", .position = 5, .set_name = true, .set_position = true};
	role_t r;
	assert_false(role_create(f->c, com, mod, &at_rank, &r, &e));
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	role_spec_t grant = {
	    .name = "x", .permissions = PERM_ADMINISTRATOR, .set_name = true, .set_permissions = true};
	assert_false(role_create(f->c, com, mod, &grant, &r, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "ADMINISTRATOR");
	role_spec_t perms_up = {.permissions = PERM_MANAGE_COMMUNITY, .set_permissions = true};
	assert_false(role_update(f->c, com, rlow, mod, &perms_up, &r, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	role_spec_t move = {.position = 1, .set_position = true};
	assert_false(role_update(f->c, com, com, o, &move, &r, &e)); /* @everyone's position */
	assert_int_equal(e.kind, ERR_FORBIDDEN);
	assert_false(role_update(f->c, com, rmod, mod, &move, &r, &e)); /* its own role */
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(role_delete(f->c, com, com, o, &e));
	assert_int_equal(e.kind, ERR_FORBIDDEN);
	assert_false(member_role_set(f->c, com, peer, rlow, mod, true, &changed, &e)); /* a peer */
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(member_role_set(f->c, com, o, rlow, mod, true, &changed, &e)); /* the owner */
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(member_kick(f->c, com, peer, mod, &e));
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(member_kick(f->c, com, o, mod, &e));
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(member_ban(f->c, com, mod, mod, NULL, &was, &e));
	assert_err(&e, ERR_FORBIDDEN, "role_hierarchy");
	assert_false(member_kick(f->c, com, mod, low, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "KICK_MEMBERS");
	/* nothing of that changed anything, nor wrote an audit row */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log WHERE community_id = ?", com), audits);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM roles WHERE community_id = ?", com), 3);
	assert_int_equal(count(f, "SELECT position FROM roles WHERE id = ?", rmod), 5);
	int top;
	assert_true(perm_top_position(f->c, com, peer, &top, &e));
	assert_int_equal(top, 5);

	/* what the moderator may do */
	assert_true(member_role_set(f->c, com, low, rlow, mod, true, &changed, &e));
	assert_true(
	    member_role_set(f->c, com, mod, rlow, mod, true, &changed, &e)); /* itself, a lower role */
	assert_true(member_kick(f->c, com, low, mod, &e));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM member_roles WHERE user_id = ?", low), 0);
	assert_true(member_ban(f->c, com, low, mod, "bye", &was, &e));
	assert_false(was);
	assert_member_count(f, com, 3);
	assert_true(member_kick(f->c, com, mod, o, &e)); /* the owner outranks everyone */
	assert_member_count(f, com, 2);
	assert_int_equal(
	    count(f, "SELECT COUNT(*) FROM audit_log WHERE community_id = ? AND action = 'member_kick'", com),
	    2);
	/* deleting a role removes it from its holders and from overwrites */
	assert_true(role_delete(f->c, com, rmod, o, &e));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM member_roles WHERE role_id = ?", rmod), 0);
}

static void test_channels(void **state)
{
	dbfix_t *f = migrated(state);
	static const struct {
		const char *in, *out;
	} names[] = {
	    {"General", "general"},
	    {"  clip  reviews ", "clip-reviews"},
	    {"a\tb", "a-b"},
	    {"Ünï Côde", "Ünï-côde"},
	};
	char out[64];
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		assert_true(channel_normalise_name(names[i].in, out, sizeof(out)));
		assert_string_equal(out, names[i].out);
	}
	assert_false(channel_normalise_name("   ", out, sizeof(out)));

	int64_t o = user(f, "owner"), a = user(f, "alice");
	int64_t com = community(f, o, "Guild", false);
	join_via_invite(f, com, o, a);
	channel_spec_t sp = {.name = "Secret Base", .set_name = true};
	channel_t ch;
	err_t e;
	assert_false(channel_create(f->c, com, a, &sp, &ch, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_true(channel_create(f->c, com, o, &sp, &ch, &e));
	assert_string_equal(ch.name, "secret-base");
	assert_int_equal(ch.position, 1);
	int64_t id = ch.id;
	channel_clear(&ch);
	assert_true(channel_overwrite(f->c, id, o, "role", com, false, 0, PERM_VIEW_CHANNEL, &ch, &e));
	channel_clear(&ch);
	channel_t *items;
	int n;
	assert_true(channels_list(f->c, com, a, &items, &n, &e));
	assert_int_equal(n, 1); /* only #general */
	channels_free(items, n);
	assert_false(channel_get(f->c, id, a, &ch, &e));
	assert_err(&e, ERR_NOT_FOUND, "channel_not_found");
	assert_true(channels_list(f->c, com, o, &items, &n, &e));
	assert_int_equal(n, 2);
	assert_int_equal(items[1].now, 1);
	assert_int_equal(items[1].ow[0].deny, PERM_VIEW_CHANNEL);
	channels_free(items, n);

	/* announcement channels */
	channel_spec_t ann = {.name = "news", .type = "announcement", .set_name = true};
	assert_true(channel_create(f->c, com, o, &ann, &ch, &e));
	channel_clear(&ch);
	assert_true(channels_list(f->c, com, a, &items, &n, &e));
	assert_int_equal(n, 2);
	assert_string_equal(items[1].type, "announcement");
	assert_int_equal(items[1].my_perms & PERM_SEND_MESSAGES, 0);
	assert_true(items[1].my_perms & PERM_VIEW_CHANNEL);
	channels_free(items, n);

	/* the channel limit */
	assert_true(db_begin(f->c, &e));
	for (int i = 3; i < CHANNELS_PER_COMMUNITY - 1; i++)
		assert_true(comm_insert_channel(f->c, id_new(), com, "filler", "text", NULL, NULL, i, &e));
	assert_true(db_commit(f->c, &e));
	channel_spec_t last = {.name = "last", .set_name = true};
	assert_true(channel_create(f->c, com, o, &last, &ch, &e));
	channel_clear(&ch);
	assert_false(channel_create(f->c, com, o, &last, &ch, &e));
	assert_err(&e, ERR_CONFLICT, "too_many_channels");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM channels WHERE community_id = ?", com),
			 CHANNELS_PER_COMMUNITY);
	int64_t cid;
	assert_true(channel_delete(f->c, id, o, &cid, &e));
	assert_int_equal(cid, com);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM channel_overwrites WHERE channel_id = ?", id), 0);
}

static void test_role_limit_and_audit(void **state)
{
	dbfix_t *f = migrated(state);
	int64_t o = user(f, "owner"), a = user(f, "alice");
	int64_t com = community(f, o, "Guild", false);
	join_via_invite(f, com, o, a);
	for (int i = 1; i < ROLES_PER_COMMUNITY; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d", i);
		role(f, com, o, name, 1, 0);
	}
	role_spec_t sp = {.name = "one too many", .set_name = true};
	role_t r;
	err_t e;
	assert_false(role_create(f->c, com, o, &sp, &r, &e));
	assert_err(&e, ERR_CONFLICT, "too_many_roles");

	/* the audit log: VIEW_AUDIT_LOG, newest first, paged */
	audit_t *items;
	int n;
	int64_t next;
	assert_false(community_audit_list(f->c, com, a, 0, 10, &items, &n, &next, &e));
	assert_err(&e, ERR_FORBIDDEN, "missing_permission");
	assert_string_equal(e.detail, "VIEW_AUDIT_LOG");
	assert_true(community_audit_list(f->c, com, o, 0, 10, &items, &n, &next, &e));
	assert_int_equal(n, 10);
	assert_true(next != 0);
	assert_string_equal(items[0].action, "role_create");
	assert_true(items[0].id > items[1].id);
	assert_int_equal(items[0].actor_id, o);
	audits_free(items, n);

	/* discover escapes LIKE's specials */
	int64_t p1 = community(f, o, "100% Pro", true);
	community(f, o, "1000 Pro", true);
	community_t *found;
	assert_true(communities_discover(f->c, a, "100%", 0, 10, &found, &n, &next, &e));
	assert_int_equal(n, 1);
	assert_int_equal(found[0].id, p1);
	communities_free(found, n);
	assert_true(communities_discover(f->c, a, "PRO", 0, 10, &found, &n, &next, &e));
	assert_int_equal(n, 2);
	communities_free(found, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    DB_TEST(test_create),    DB_TEST(test_owner_limit), DB_TEST(test_membership),
	    DB_TEST(test_hierarchy), DB_TEST(test_channels),	DB_TEST(test_role_limit_and_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
