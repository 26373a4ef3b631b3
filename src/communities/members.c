/*
 * members.c — members (list, kick), bans and invites.
 *
 * Kicks and bans follow the hierarchy: the actor must rank above the target
 * (the owner ranks above everyone and nobody acts on the owner). An invite
 * is used atomically: one UPDATE that only succeeds while it has uses left
 * and has not expired, so concurrent accepts never exceed max_uses.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "communities/communities.h"
#include "core/jsonx.h"
#include "core/util.h"

void member_clear(member_t *x)
{
	user_ref_clear(&x->user);
	free(x->nick);
	free(x->roles);
	memset(x, 0, sizeof(*x));
}

void members_free(member_t *items, int n)
{
	for (int i = 0; i < n; i++)
		member_clear(&items[i]);
	free(items);
}

void bans_free(ban_t *items, int n)
{
	for (int i = 0; i < n; i++) {
		user_ref_clear(&items[i].user);
		free(items[i].reason);
	}
	free(items);
}

static bool member_not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "member_not_found", NULL, "no such member");
}

static void read_member(db_stmt_t *s, int64_t community_id, member_t *x)
{
	memset(x, 0, sizeof(*x));
	x->community_id = community_id;
	x->user.id = db_col_i64(s, 0);
	str_copy(x->user.username, sizeof(x->user.username), db_col_text(s, 1) ? db_col_text(s, 1) : "");
	x->user.display_name = comm_dup(db_col_text(s, 2));
	x->nick = comm_dup(db_col_text(s, 3));
	x->joined_at = db_col_i64(s, 4);
}

/* The role ids of members[0..n) (sorted by user id), read in one range query. */
static bool attach_roles(db_conn_t *c, int64_t community_id, member_t *items, int n, err_t *e)
{
	if (n == 0)
		return true;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT user_id, role_id FROM member_roles WHERE community_id = ? AND user_id >= ? "
		       "AND user_id <= ? ORDER BY user_id, role_id",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, items[0].user.id);
	db_bind_i64(s, 3, items[n - 1].user.id);
	int rc, k = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		int64_t uid = db_col_i64(s, 0);
		while (k < n && items[k].user.id < uid)
			k++;
		if (k == n)
			continue;
		member_t *m = &items[k];
		if (m->user.id != uid)
			continue;
		m->roles = xrealloc(m->roles, (size_t)(m->nroles + 1) * sizeof(*m->roles));
		m->roles[m->nroles++] = db_col_i64(s, 1);
	}
	db_finish(s);
	return rc != DB_ERROR;
}

#define MEMBER_SQL                                                                                           \
	"SELECT m.user_id, u.username, u.display_name, m.nick, m.joined_at FROM members m JOIN users u ON "  \
	"u.id = m.user_id WHERE m.community_id = ? "

bool members_list(db_conn_t *c, int64_t community_id, int64_t user_id, int64_t after, int limit,
		  member_t **out, int *count, int64_t *next, err_t *e)
{
	*out = NULL;
	*count = 0;
	*next = 0;
	perm_t p;
	if (!perm_community(c, community_id, user_id, &p, e))
		return false;
	db_stmt_t *s = db_prepare(c, MEMBER_SQL "AND m.user_id > ? ORDER BY m.user_id LIMIT ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, after);
	db_bind_i64(s, 3, limit + 1);
	member_t *items = xcalloc((size_t)limit + 1, sizeof(*items));
	int n = 0, rc;
	while (n <= limit && (rc = db_step(s, e)) == DB_ROW)
		read_member(s, community_id, &items[n++]);
	if (n > limit)
		rc = DB_DONE;
	db_finish(s);
	if (rc == DB_ERROR) {
		members_free(items, n);
		return false;
	}
	if (n > limit) {
		member_clear(&items[limit]);
		n = limit;
		*next = items[n - 1].user.id;
	}
	if (!attach_roles(c, community_id, items, n, e)) {
		members_free(items, n);
		*next = 0;
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

bool member_get(db_conn_t *c, int64_t community_id, int64_t target_id, member_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	db_stmt_t *s = db_prepare(c, MEMBER_SQL "AND m.user_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, target_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_member(s, community_id, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW)
		return member_not_found(e);
	if (!attach_roles(c, community_id, out, 1, e)) {
		member_clear(out);
		return false;
	}
	return true;
}

/* The actor outranks the target: not the owner, and a lower top position (non-members: -1). */
static bool outranks(db_conn_t *c, const comm_actor_t *a, int64_t target_id, err_t *e)
{
	int rank;
	if (target_id == a->owner_id)
		return err_set(e, ERR_FORBIDDEN, "role_hierarchy", NULL, "nobody acts on the owner");
	if (!perm_top_position(c, a->community_id, target_id, &rank, e))
		return false;
	if (rank >= a->rank)
		return err_set(e, ERR_FORBIDDEN, "role_hierarchy", NULL,
			       "you may only act on members whose highest role is below yours");
	return true;
}

bool member_kick(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, err_t *e)
{
	comm_actor_t a;
	bool member = false, removed = false;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_KICK_MEMBERS, e) &&
		  comm_is_member(c, community_id, target_id, &member, e);
	if (ok && !member)
		ok = member_not_found(e);
	ok = ok && outranks(c, &a, target_id, e) &&
	     comm_remove_member(c, community_id, target_id, &removed, e) &&
	     community_audit(c, community_id, user_id, "member_kick", "member", target_id, NULL, e);
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	return false;
}

bool member_ban(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, const char *reason,
		bool *was_member, err_t *e)
{
	*was_member = false;
	if (reason && jx_utf8_len(reason) > BAN_REASON_MAX)
		return err_set(e, ERR_INVALID, "too_long", "reason", "reason must be at most %d characters",
			       BAN_REASON_MAX);
	comm_actor_t a;
	int64_t exists_n = 0;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_BAN_MEMBERS, e) &&
		  db_query_i64(c, "SELECT COUNT(*) FROM users WHERE id = ?", &exists_n, e, 1, target_id);
	if (ok && exists_n == 0)
		ok = member_not_found(e);
	ok = ok && outranks(c, &a, target_id, e);
	db_stmt_t *s = NULL;
	if (ok &&
	    (s = db_prepare(c,
			    "INSERT INTO bans (community_id, user_id, reason, banned_by, created_at) VALUES "
			    "(?,?,?,?,?) ON CONFLICT (community_id, user_id) DO UPDATE SET reason = "
			    "excluded.reason, banned_by = excluded.banned_by",
			    e)) != NULL) {
		db_bind_i64(s, 1, community_id);
		db_bind_i64(s, 2, target_id);
		db_bind_text(s, 3, reason);
		db_bind_i64(s, 4, user_id);
		db_bind_i64(s, 5, time_now_ms());
	}
	ok = ok && comm_exec(s, NULL, e) && comm_remove_member(c, community_id, target_id, was_member, e);
	if (ok) {
		json_t *d = json_pack("{s:s?}", "reason", reason);
		ok = community_audit(c, community_id, user_id, "member_ban", "member", target_id, d, e);
		json_decref(d);
	}
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	*was_member = false;
	return false;
}

bool member_unban(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, err_t *e)
{
	comm_actor_t a;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_BAN_MEMBERS, e);
	db_stmt_t *s = NULL;
	if (ok && (s = db_prepare(c, "DELETE FROM bans WHERE community_id = ? AND user_id = ?", e)) != NULL) {
		db_bind_i64(s, 1, community_id);
		db_bind_i64(s, 2, target_id);
	}
	int64_t n = 0;
	ok = ok && comm_exec(s, &n, e);
	if (ok && n > 0)
		ok = community_audit(c, community_id, user_id, "member_unban", "member", target_id, NULL, e);
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	return false;
}

bool bans_list(db_conn_t *c, int64_t community_id, int64_t user_id, ban_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	comm_actor_t a;
	if (!comm_actor(c, community_id, user_id, &a, e) || !comm_need(a.perms, PERM_BAN_MEMBERS, e))
		return false;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT b.user_id, u.username, u.display_name, b.reason, b.banned_by, b.created_at "
		       "FROM bans b JOIN users u ON u.id = b.user_id WHERE b.community_id = ? "
		       "ORDER BY b.created_at DESC, b.user_id DESC LIMIT ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, COMMUNITY_BANS_LIST_MAX);
	ban_t *items = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		ban_t *b = &items[n++];
		memset(b, 0, sizeof(*b));
		b->user.id = db_col_i64(s, 0);
		str_copy(b->user.username, sizeof(b->user.username),
			 db_col_text(s, 1) ? db_col_text(s, 1) : "");
		b->user.display_name = comm_dup(db_col_text(s, 2));
		b->reason = comm_dup(db_col_text(s, 3));
		b->banned_by = db_col_is_null(s, 4) ? 0 : db_col_i64(s, 4);
		b->created_at = db_col_i64(s, 5);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		bans_free(items, n);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

/* ==== invites ==== */

static const char CODE_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void new_code(char out[INVITE_CODE_LEN + 1])
{
	for (int i = 0; i < INVITE_CODE_LEN; i++)
		out[i] = CODE_ALPHABET[randombytes_uniform(sizeof(CODE_ALPHABET) - 1)];
	out[INVITE_CODE_LEN] = '\0';
}

static bool invite_not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "invite_not_found", NULL, "no such invite, or it expired");
}

static bool valid_code(const char *code)
{
	if (!code)
		return false;
	size_t n = strlen(code);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(CODE_ALPHABET, code[i]))
			return false;
	return true;
}

bool invite_create(db_conn_t *c, int64_t community_id, int64_t user_id, int max_uses, int64_t expires_in_s,
		   invite_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	if (max_uses < 0 || max_uses > INVITE_MAX_USES)
		return err_set(e, ERR_INVALID, "out_of_range", "max_uses",
			       "max_uses must be between 0 and %d", INVITE_MAX_USES);
	if (expires_in_s < 0 || expires_in_s > INVITE_MAX_AGE_S)
		return err_set(e, ERR_INVALID, "out_of_range", "expires_in_s",
			       "expires_in_s must be between 0 and %d", INVITE_MAX_AGE_S);
	comm_actor_t a;
	int64_t now = time_now_ms();
	out->community_id = community_id;
	out->inviter_id = user_id;
	out->max_uses = max_uses;
	out->expires_at = expires_in_s ? now + expires_in_s * 1000 : 0;
	out->created_at = now;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_CREATE_INVITE, e);
	int64_t inserted = 0;
	for (int attempt = 0; ok && !inserted && attempt < 5; attempt++) {
		new_code(out->code);
		db_stmt_t *s =
		    db_prepare(c,
			       "INSERT INTO invites (code, community_id, inviter_id, max_uses, uses, "
			       "expires_at, created_at) VALUES (?,?,?,?,0,?,?) ON CONFLICT (code) DO NOTHING",
			       e);
		if (s) {
			db_bind_text(s, 1, out->code);
			db_bind_i64(s, 2, community_id);
			db_bind_i64(s, 3, user_id);
			db_bind_i64(s, 4, max_uses);
			db_bind_i64(s, 5, out->expires_at);
			db_bind_i64(s, 6, now);
		}
		ok = comm_exec(s, &inserted, e);
	}
	if (ok && !inserted)
		ok = err_set(e, ERR_INTERNAL, "internal", NULL, "could not make an invite code");
	if (ok) {
		json_t *d = json_pack("{s:s, s:i, s:I}", "code", out->code, "max_uses", max_uses,
				      "expires_at", (json_int_t)out->expires_at);
		ok = community_audit(c, community_id, user_id, "invite_create", "invite", 0, d, e);
		json_decref(d);
	}
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	return false;
}

/* The invite row when it can still be used. */
static bool invite_load(db_conn_t *c, const char *code, invite_t *inv, err_t *e)
{
	memset(inv, 0, sizeof(*inv));
	if (!valid_code(code))
		return invite_not_found(e);
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT code, community_id, inviter_id, max_uses, uses, expires_at, created_at "
		       "FROM invites WHERE code = ?",
		       e);
	if (!s)
		return false;
	db_bind_text(s, 1, code);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		str_copy(inv->code, sizeof(inv->code), db_col_text(s, 0));
		inv->community_id = db_col_i64(s, 1);
		inv->inviter_id = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
		inv->max_uses = (int)db_col_i64(s, 3);
		inv->uses = (int)db_col_i64(s, 4);
		inv->expires_at = db_col_i64(s, 5);
		inv->created_at = db_col_i64(s, 6);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW || (inv->max_uses > 0 && inv->uses >= inv->max_uses) ||
	    (inv->expires_at > 0 && inv->expires_at <= time_now_ms()))
		return invite_not_found(e);
	return true;
}

bool invite_get(db_conn_t *c, const char *code, invite_t *inv, community_t *com, err_t *e)
{
	memset(com, 0, sizeof(*com));
	if (!invite_load(c, code, inv, e))
		return false;
	if (!comm_load(c, inv->community_id, com, e))
		return e->kind == ERR_NOT_FOUND ? invite_not_found(e) : false;
	return true;
}

bool invite_accept(db_conn_t *c, const char *code, int64_t user_id, community_t *out, bool *joined, err_t *e)
{
	memset(out, 0, sizeof(*out));
	*joined = false;
	invite_t inv;
	bool member = false, banned = false;
	if (!invite_load(c, code, &inv, e))
		return false;
	if (!db_begin(c, e))
		return false;
	bool ok =
	    comm_lock(c, inv.community_id, e) && comm_is_member(c, inv.community_id, user_id, &member, e);
	if (ok && !member) {
		ok = comm_is_banned(c, inv.community_id, user_id, &banned, e);
		if (ok && banned)
			ok = err_set(e, ERR_FORBIDDEN, "banned", NULL, "you are banned from this community");
		db_stmt_t *s = NULL;
		if (ok &&
		    (s = db_prepare(c,
				    "UPDATE invites SET uses = uses + 1 WHERE code = ? AND (max_uses = 0 OR "
				    "uses < max_uses) AND (expires_at = 0 OR expires_at > ?)",
				    e)) != NULL) {
			db_bind_text(s, 1, inv.code);
			db_bind_i64(s, 2, time_now_ms());
		}
		int64_t n = 0;
		ok = ok && comm_exec(s, &n, e);
		if (ok && n == 0)
			ok = invite_not_found(e);
		ok = ok && comm_add_member(c, inv.community_id, user_id, e);
		*joined = ok;
	}
	if (!ok || !db_commit(c, e)) {
		db_rollback(c);
		*joined = false;
		if (e->kind == ERR_NOT_FOUND && strcmp(e->code, "community_not_found") == 0)
			invite_not_found(e);
		return false;
	}
	return comm_load(c, inv.community_id, out, e) && comm_fill_me(c, out, user_id, e);
}

/*
 * Before an account is deleted: its memberships go by ON DELETE CASCADE, so
 * take them off the communities' member counts first (communities the user
 * owns go with the account). Runs inside the caller's transaction.
 */
bool communities_user_leaving(db_conn_t *c, int64_t user_id, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "UPDATE communities SET member_count = member_count - 1 WHERE member_count > 0 "
		       "AND owner_id <> ? AND id IN (SELECT community_id FROM members WHERE user_id = ?)",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, user_id);
	return comm_exec(s, NULL, e);
}
