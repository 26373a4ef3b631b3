/*
 * channels.c — channels and their permission overwrites. A channel a member
 * may not view does not exist for them (channel_not_found); the viewer's
 * permissions in each channel come from perm_compute().
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "communities/communities.h"
#include "core/jsonx.h"
#include "core/util.h"

#define CHAN_COLS                                                                                            \
	"ch.id, ch.community_id, ch.name, ch.type, ch.category, ch.topic, ch.position, ch.last_message_id, " \
	"ch.created_at, COALESCE(rd.last_read_id, 0)"
#define CHAN_FROM " FROM channels ch LEFT JOIN channel_reads rd ON rd.channel_id = ch.id AND rd.user_id = ? "

static bool channel_not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
}

void channel_clear(channel_t *x)
{
	free(x->name);
	free(x->category);
	free(x->topic);
	free(x->ow);
	memset(x, 0, sizeof(*x));
}

void channels_free(channel_t *items, int n)
{
	for (int i = 0; i < n; i++)
		channel_clear(&items[i]);
	free(items);
}

/* ==== channels ==== */

bool channel_normalise_name(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	bool dash = false;
	if (!in || outlen == 0)
		return false;
	while (*in && isspace((unsigned char)*in))
		in++;
	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;
		if (isspace(ch)) {
			dash = true;
			continue;
		}
		if (dash && n + 1 < outlen)
			out[n++] = '-';
		dash = false;
		if (n + 1 < outlen)
			out[n++] = (char)tolower(ch);
	}
	out[n] = '\0';
	return n > 0;
}

static void read_channel(db_stmt_t *s, channel_t *x)
{
	memset(x, 0, sizeof(*x));
	x->id = db_col_i64(s, 0);
	x->community_id = db_col_i64(s, 1);
	x->name = xstrdup(db_col_text(s, 2) ? db_col_text(s, 2) : "");
	str_copy(x->type, sizeof(x->type), db_col_text(s, 3) ? db_col_text(s, 3) : "text");
	x->category = comm_dup(db_col_text(s, 4));
	x->topic = comm_dup(db_col_text(s, 5));
	x->position = (int)db_col_i64(s, 6);
	x->last_message_id = db_col_i64(s, 7);
	x->created_at = db_col_i64(s, 8);
	x->last_read_id = db_col_i64(s, 9);
}

/* What perm_compute needs for one member of one community, channel overwrites aside. */
typedef struct {
	int64_t owner_id;
	perm_t everyone;
	perm_role_t *roles;
	int nroles;
	perm_overwrite_t *ow; /* the overwrites of the channels loaded, grouped by channel */
	int64_t *ow_channel;  /* the channel of each */
	int now;
} rules_t;

static void rules_free(rules_t *x)
{
	free(x->roles);
	free(x->ow);
	free(x->ow_channel);
	memset(x, 0, sizeof(*x));
}

/* only_id: that channel's overwrites only (0: every channel of the community). */
static bool rules_load(db_conn_t *c, int64_t community_id, int64_t only_id, int64_t user_id, rules_t *x,
		       err_t *e)
{
	memset(x, 0, sizeof(*x));
	db_stmt_t *s = db_prepare(
	    c,
	    "SELECT c.owner_id, r.permissions FROM communities c JOIN roles r ON r.id = c.id WHERE c.id = ?",
	    e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		x->owner_id = db_col_i64(s, 0);
		x->everyone = (perm_t)db_col_i64(s, 1);
	}
	db_finish(s);
	if (rc != DB_ROW)
		return rc == DB_ERROR ? false : comm_not_found(e);
	s = db_prepare(c,
		       "SELECT r.id, r.position, r.permissions FROM member_roles mr JOIN roles r ON r.id = "
		       "mr.role_id WHERE mr.community_id = ? AND mr.user_id = ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	int cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (x->nroles == cap) {
			cap = cap ? cap * 2 : 4;
			x->roles = xrealloc(x->roles, (size_t)cap * sizeof(*x->roles));
		}
		perm_role_t *r = &x->roles[x->nroles++];
		r->id = db_col_i64(s, 0);
		r->position = (int)db_col_i64(s, 1);
		r->permissions = (perm_t)db_col_i64(s, 2);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;
	s = db_prepare(
	    c,
	    only_id ? "SELECT o.channel_id, o.target_type, o.target_id, o.allow_bits, o.deny_bits FROM "
		      "channel_overwrites o WHERE o.channel_id = ? ORDER BY o.channel_id"
		    : "SELECT o.channel_id, o.target_type, o.target_id, o.allow_bits, o.deny_bits FROM "
		      "channel_overwrites o JOIN channels ch ON ch.id = o.channel_id WHERE "
		      "ch.community_id = ? ORDER BY o.channel_id",
	    e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, only_id ? only_id : community_id);
	cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (x->now == cap) {
			cap = cap ? cap * 2 : 8;
			x->ow = xrealloc(x->ow, (size_t)cap * sizeof(*x->ow));
			x->ow_channel = xrealloc(x->ow_channel, (size_t)cap * sizeof(*x->ow_channel));
		}
		perm_overwrite_t *o = &x->ow[x->now];
		const char *t = db_col_text(s, 1);
		x->ow_channel[x->now] = db_col_i64(s, 0);
		o->member = t && strcmp(t, "member") == 0;
		o->target_id = db_col_i64(s, 2);
		o->allow = (perm_t)db_col_i64(s, 3);
		o->deny = (perm_t)db_col_i64(s, 4);
		x->now++;
	}
	db_finish(s);
	if (rc != DB_ERROR)
		return true;
fail:
	rules_free(x);
	return false;
}

/* The viewer's permissions in channel x, whose overwrites are copied into it. */
static void rules_apply(const rules_t *rl, int64_t community_id, int64_t user_id, channel_t *x)
{
	int lo = 0, hi = rl->now;
	while (lo < hi) { /* the first overwrite of this channel */
		int mid = lo + (hi - lo) / 2;
		if (rl->ow_channel[mid] < x->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	int n = 0;
	while (lo + n < rl->now && rl->ow_channel[lo + n] == x->id)
		n++;
	perm_input_t in = {.community_id = community_id,
			   .owner_id = rl->owner_id,
			   .user_id = user_id,
			   .everyone = rl->everyone,
			   .roles = rl->roles,
			   .nroles = rl->nroles,
			   .overwrites = n ? rl->ow + lo : NULL,
			   .noverwrites = n,
			   .in_channel = true};
	x->my_perms = perm_compute(&in);
	x->now = n;
	if (n) {
		x->ow = xmalloc((size_t)n * sizeof(*x->ow));
		memcpy(x->ow, rl->ow + lo, (size_t)n * sizeof(*x->ow));
	}
}

/* The channels of a community (only_id: just that one) with a member's permissions in each. */
static bool load_channels(db_conn_t *c, int64_t community_id, int64_t only_id, int64_t user_id,
			  bool visible_only, channel_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	rules_t rl;
	bool member;
	if (!comm_is_member(c, community_id, user_id, &member, e) ||
	    !rules_load(c, community_id, only_id, user_id, &rl, e))
		return false;
	db_stmt_t *s = db_prepare(c,
				  only_id ? "SELECT " CHAN_COLS CHAN_FROM "WHERE ch.id = ?"
					  : "SELECT " CHAN_COLS CHAN_FROM
					    "WHERE ch.community_id = ? ORDER BY ch.position, ch.id",
				  e);
	if (!s) {
		rules_free(&rl);
		return false;
	}
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, only_id ? only_id : community_id);
	channel_t *items = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		channel_t *x = &items[n];
		read_channel(s, x);
		rules_apply(&rl, community_id, user_id, x);
		if (!member)
			x->my_perms = 0;
		if (visible_only && !(x->my_perms & PERM_VIEW_CHANNEL)) {
			channel_clear(x);
			continue;
		}
		n++;
	}
	db_finish(s);
	rules_free(&rl);
	if (rc == DB_ERROR) {
		channels_free(items, n);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

bool channels_list(db_conn_t *c, int64_t community_id, int64_t user_id, channel_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	perm_t p;
	return perm_community(c, community_id, user_id, &p, e) &&
	       load_channels(c, community_id, 0, user_id, true, out, count, e);
}

/* One channel with the viewer's permissions (0 when they may not view it), no visibility check. */
static bool channel_load(db_conn_t *c, int64_t id, int64_t user_id, channel_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	int64_t cid;
	if (!db_query_i64(c, "SELECT community_id FROM channels WHERE id = ?", &cid, e, 1, id))
		return e->kind == ERR_NOT_FOUND ? channel_not_found(e) : false;
	channel_t *items;
	int n;
	if (!load_channels(c, cid, id, user_id, false, &items, &n, e))
		return false;
	if (n == 0) {
		free(items);
		return channel_not_found(e);
	}
	*out = items[0];
	free(items);
	return true;
}

bool channel_get(db_conn_t *c, int64_t id, int64_t user_id, channel_t *out, err_t *e)
{
	perm_t p;
	int64_t cid;
	memset(out, 0, sizeof(*out));
	return perm_channel(c, id, user_id, &p, &cid, e) && channel_load(c, id, user_id, out, e);
}

static bool check_channel_spec(const channel_spec_t *sp, char *name, size_t namelen, err_t *e)
{
	if (sp->set_name) {
		if (!channel_normalise_name(sp->name, name, namelen))
			return err_set(e, ERR_INVALID, "invalid_name", "name", "name must not be empty");
		if (jx_utf8_len(name) > CHANNEL_NAME_MAX)
			return err_set(e, ERR_INVALID, "too_long", "name",
				       "name must be at most %d characters", CHANNEL_NAME_MAX);
	}
	if (sp->set_category && sp->category && jx_utf8_len(sp->category) > CHANNEL_CATEGORY_MAX)
		return err_set(e, ERR_INVALID, "too_long", "category",
			       "category must be at most %d characters", CHANNEL_CATEGORY_MAX);
	if (sp->set_topic && sp->topic && jx_utf8_len(sp->topic) > CHANNEL_TOPIC_MAX)
		return err_set(e, ERR_INVALID, "too_long", "topic", "topic must be at most %d characters",
			       CHANNEL_TOPIC_MAX);
	if (sp->set_position && sp->position < 0)
		return err_set(e, ERR_INVALID, "out_of_range", "position", "position must be 0 or more");
	return true;
}

static bool put_overwrite(db_conn_t *c, int64_t channel_id, const char *type, int64_t target, perm_t allow,
			  perm_t deny, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO channel_overwrites (channel_id, target_type, target_id, allow_bits, "
		       "deny_bits) VALUES (?,?,?,?,?) ON CONFLICT (channel_id, target_type, target_id) "
		       "DO UPDATE SET allow_bits = excluded.allow_bits, deny_bits = excluded.deny_bits",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, channel_id);
	db_bind_text(s, 2, type);
	db_bind_i64(s, 3, target);
	db_bind_i64(s, 4, (int64_t)allow);
	db_bind_i64(s, 5, (int64_t)deny);
	return comm_exec(s, NULL, e);
}

bool channel_create(db_conn_t *c, int64_t community_id, int64_t user_id, const channel_spec_t *sp,
		    channel_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	char name[CHANNEL_NAME_MAX * 4 + 1];
	channel_spec_t v = *sp;
	v.set_name = true;
	if (!check_channel_spec(&v, name, sizeof(name), e))
		return false;
	const char *type = sp->type ? sp->type : "text";
	if (strcmp(type, "text") != 0 && strcmp(type, "announcement") != 0)
		return err_set(e, ERR_INVALID, "invalid_type", "type", "type must be text or announcement");
	comm_actor_t a;
	int64_t n = 0, pos = sp->position, id = id_new();
	if (!db_begin(c, e))
		return false;
	bool ok =
	    comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
	    comm_need(a.perms, PERM_MANAGE_CHANNELS, e) &&
	    db_query_i64(c, "SELECT COUNT(*) FROM channels WHERE community_id = ?", &n, e, 1, community_id);
	if (ok && n >= CHANNELS_PER_COMMUNITY)
		ok = err_set(e, ERR_CONFLICT, "too_many_channels", NULL,
			     "a community has at most %d channels", CHANNELS_PER_COMMUNITY);
	if (ok && !sp->set_position)
		ok = db_query_i64(
		    c, "SELECT COALESCE(MAX(position), -1) + 1 FROM channels WHERE community_id = ?", &pos, e,
		    1, community_id);
	ok =
	    ok && comm_insert_channel(c, id, community_id, name, type, sp->set_category ? sp->category : NULL,
				      sp->set_topic ? sp->topic : NULL, (int)pos, e);
	if (ok && strcmp(type, "announcement") == 0)
		ok = put_overwrite(c, id, "role", community_id, 0, PERM_SEND_MESSAGES, e);
	if (ok) {
		json_t *d = json_pack("{s:s, s:s}", "name", name, "type", type);
		ok = community_audit(c, community_id, user_id, "channel_create", "channel", id, d, e);
		json_decref(d);
	}
	if (!comm_finish(c, ok, e))
		return false;
	return channel_load(c, id, user_id, out, e);
}

/* Begins a transaction on the channel's community, locked, with the actor's permissions in the channel. */
static bool begin_channel(db_conn_t *c, int64_t id, int64_t user_id, int64_t *cid, perm_t *p, err_t *e)
{
	if (!db_query_i64(c, "SELECT community_id FROM channels WHERE id = ?", cid, e, 1, id))
		return e->kind == ERR_NOT_FOUND ? channel_not_found(e) : false;
	if (!db_begin(c, e))
		return false;
	if (comm_lock(c, *cid, e) && perm_channel(c, id, user_id, p, cid, e))
		return true;
	if (e->kind == ERR_NOT_FOUND)
		channel_not_found(e);
	db_rollback(c);
	return false;
}

bool channel_update(db_conn_t *c, int64_t id, int64_t user_id, const channel_spec_t *sp, channel_t *out,
		    err_t *e)
{
	memset(out, 0, sizeof(*out));
	char name[CHANNEL_NAME_MAX * 4 + 1];
	if (!check_channel_spec(sp, name, sizeof(name), e))
		return false;
	int64_t cid;
	perm_t p;
	if (!begin_channel(c, id, user_id, &cid, &p, e))
		return false;
	bool ok = comm_need(p, PERM_MANAGE_CHANNELS, e);
	json_t *d = json_object();
	if (ok && sp->set_name) {
		ok = comm_set_text(c, "UPDATE channels SET name = ? WHERE id = ?", name, id, e);
		json_object_set_new(d, "name", json_string(name));
	}
	if (ok && sp->set_category) {
		ok = comm_set_text(c, "UPDATE channels SET category = ? WHERE id = ?", sp->category, id, e);
		json_object_set_new(d, "category", sp->category ? json_string(sp->category) : json_null());
	}
	if (ok && sp->set_topic) {
		ok = comm_set_text(c, "UPDATE channels SET topic = ? WHERE id = ?", sp->topic, id, e);
		json_object_set_new(d, "topic", sp->topic ? json_string(sp->topic) : json_null());
	}
	if (ok && sp->set_position) {
		db_stmt_t *s = db_prepare(c, "UPDATE channels SET position = ? WHERE id = ?", e);
		if (s) {
			db_bind_i64(s, 1, sp->position);
			db_bind_i64(s, 2, id);
		}
		ok = comm_exec(s, NULL, e);
		json_object_set_new(d, "position", json_integer(sp->position));
	}
	ok = ok && community_audit(c, cid, user_id, "channel_update", "channel", id, d, e);
	json_decref(d);
	if (!comm_finish(c, ok, e))
		return false;
	return channel_load(c, id, user_id, out, e);
}

bool channel_delete(db_conn_t *c, int64_t id, int64_t user_id, int64_t *community_id, err_t *e)
{
	int64_t cid;
	perm_t p;
	if (!begin_channel(c, id, user_id, &cid, &p, e))
		return false;
	*community_id = cid;
	bool ok = comm_need(p, PERM_MANAGE_CHANNELS, e);
	db_stmt_t *s = NULL;
	if (ok && (s = db_prepare(c, "DELETE FROM channels WHERE id = ?", e)) != NULL)
		db_bind_i64(s, 1, id);
	ok = ok && comm_exec(s, NULL, e) &&
	     community_audit(c, cid, user_id, "channel_delete", "channel", id, NULL, e);
	return comm_finish(c, ok, e);
}

/*
 * The target of an overwrite exists in the community and is below the actor: a role under their rank
 * (@everyone is position 0), a member under their rank or themselves. Removing an overwrite of someone
 * who has left needs no membership.
 */
static bool overwrite_target_ok(db_conn_t *c, int64_t cid, int64_t user_id, bool member, int64_t target_id,
				bool remove, err_t *e)
{
	int rank, target_rank = -1;
	if (!perm_top_position(c, cid, user_id, &rank, e))
		return false;
	if (member) {
		if (!perm_top_position(c, cid, target_id, &target_rank, e))
			return false;
		if (target_rank < 0 && !remove)
			return err_set(e, ERR_NOT_FOUND, "member_not_found", NULL, "no such member");
		if (target_id != user_id && target_rank >= rank)
			return err_set(e, ERR_FORBIDDEN, "role_hierarchy", NULL,
				       "you may only set overwrites of members below you");
		return true;
	}
	db_stmt_t *s = db_prepare(c, "SELECT position FROM roles WHERE id = ? AND community_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, target_id);
	db_bind_i64(s, 2, cid);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		target_rank = (int)db_col_i64(s, 0);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW)
		return err_set(e, ERR_NOT_FOUND, "role_not_found", NULL, "no such role");
	if (target_rank >= rank)
		return err_set(e, ERR_FORBIDDEN, "role_hierarchy", NULL,
			       "you may only set overwrites of roles below your own highest role");
	return true;
}

bool channel_overwrite(db_conn_t *c, int64_t id, int64_t user_id, const char *target_type, int64_t target_id,
		       bool remove, perm_t allow, perm_t deny, channel_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	bool member = strcmp(target_type, "member") == 0;
	if (!member && strcmp(target_type, "role") != 0)
		return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "overwrites are for a role or a member");
	if ((allow | deny) & ~PERM_ALL)
		return err_set(e, ERR_INVALID, "invalid_permissions", "allow", "unknown permission bits");
	int64_t cid;
	perm_t p;
	if (!begin_channel(c, id, user_id, &cid, &p, e))
		return false;
	bool ok = comm_need(p, PERM_MANAGE_ROLES, e);
	if (ok && remove) {
		/* taking an overwrite away changes its bits too */
		db_stmt_t *s =
		    db_prepare(c,
			       "SELECT allow_bits, deny_bits FROM channel_overwrites WHERE channel_id = ? "
			       "AND target_type = ? AND target_id = ?",
			       e);
		int rc = DB_ERROR;
		if (s) {
			db_bind_i64(s, 1, id);
			db_bind_text(s, 2, target_type);
			db_bind_i64(s, 3, target_id);
			rc = db_step(s, e);
			if (rc == DB_ROW) {
				allow = (perm_t)db_col_i64(s, 0);
				deny = (perm_t)db_col_i64(s, 1);
			}
			db_finish(s);
		}
		ok = rc != DB_ERROR;
		if (ok && (allow | deny) & ~p)
			ok = err_set(e, ERR_FORBIDDEN, "missing_permission", NULL, "%s",
				     perm_name((allow | deny) & ~p));
	}
	if (ok && !remove && (allow | deny) & ~p) /* nobody hands out (or takes away) what they lack */
		ok = err_set(e, ERR_FORBIDDEN, "missing_permission", NULL, "%s",
			     perm_name((allow | deny) & ~p));
	if (ok)
		ok = overwrite_target_ok(c, cid, user_id, member, target_id, remove, e);
	json_t *d = json_pack("{s:s, s:o}", "target_type", target_type, "target_id", jx_id(target_id));
	int64_t changed = 1;
	if (ok && remove) {
		db_stmt_t *s =
		    db_prepare(c,
			       "DELETE FROM channel_overwrites WHERE channel_id = ? AND target_type = ? AND "
			       "target_id = ?",
			       e);
		if (s) {
			db_bind_i64(s, 1, id);
			db_bind_text(s, 2, target_type);
			db_bind_i64(s, 3, target_id);
		}
		ok = comm_exec(s, &changed, e);
	} else if (ok) {
		char a[21], b[21];
		perm_format(allow, a);
		perm_format(deny, b);
		json_object_set_new(d, "allow", json_string(a));
		json_object_set_new(d, "deny", json_string(b));
		ok = put_overwrite(c, id, target_type, target_id, allow, deny, e);
	}
	if (ok && changed)
		ok = community_audit(c, cid, user_id, remove ? "overwrite_delete" : "overwrite_set",
				     "channel", id, d, e);
	json_decref(d);
	if (!comm_finish(c, ok, e))
		return false;
	return channel_load(c, id, user_id, out, e);
}
