/*
 * communities.c — communities, channels with their overwrites, the audit log,
 * and the helpers the module's other files share (see communities.h).
 */
#include "communities/communities.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/util.h"

#define COMM_COLS "c.id, c.owner_id, c.name, c.description, c.icon, c.public, c.member_count, c.created_at"

/* ==== memory ==== */

char *comm_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void community_clear(community_t *x)
{
	free(x->name);
	free(x->description);
	free(x->icon);
	memset(x, 0, sizeof(*x));
}

void communities_free(community_t *items, int n)
{
	for (int i = 0; i < n; i++)
		community_clear(&items[i]);
	free(items);
}

void audits_free(audit_t *items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i].detail);
	free(items);
}

/* ==== shared helpers ==== */

const char *perm_name(perm_t bit)
{
	static const struct {
		perm_t bit;
		const char *name;
	} names[] = {
	    {PERM_VIEW_CHANNEL, "VIEW_CHANNEL"},	 {PERM_SEND_MESSAGES, "SEND_MESSAGES"},
	    {PERM_MANAGE_MESSAGES, "MANAGE_MESSAGES"},	 {PERM_MANAGE_CHANNELS, "MANAGE_CHANNELS"},
	    {PERM_MANAGE_ROLES, "MANAGE_ROLES"},	 {PERM_KICK_MEMBERS, "KICK_MEMBERS"},
	    {PERM_BAN_MEMBERS, "BAN_MEMBERS"},		 {PERM_MENTION_EVERYONE, "MENTION_EVERYONE"},
	    {PERM_ADD_REACTIONS, "ADD_REACTIONS"},	 {PERM_ATTACH_CLIPS, "ATTACH_CLIPS"},
	    {PERM_ADMINISTRATOR, "ADMINISTRATOR"},	 {PERM_CREATE_INVITE, "CREATE_INVITE"},
	    {PERM_MANAGE_COMMUNITY, "MANAGE_COMMUNITY"}, {PERM_VIEW_AUDIT_LOG, "VIEW_AUDIT_LOG"},
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (bit & names[i].bit)
			return names[i].name;
	return "UNKNOWN";
}

bool comm_need(perm_t have, perm_t bit, err_t *e)
{
	if ((have & bit) == bit)
		return true;
	return err_set(e, ERR_FORBIDDEN, "missing_permission", NULL, "%s", perm_name(bit & ~have));
}

bool comm_exec(db_stmt_t *s, int64_t *changes, err_t *e)
{
	if (!s)
		return false;
	int rc = db_step(s, e);
	if (changes)
		*changes = rc == DB_DONE ? db_changes(s) : 0;
	db_finish(s);
	return rc == DB_DONE;
}

bool comm_not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "community_not_found", NULL, "no such community");
}

bool comm_actor(db_conn_t *c, int64_t community_id, int64_t user_id, comm_actor_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	out->community_id = community_id;
	if (!perm_community(c, community_id, user_id, &out->perms, e) ||
	    !perm_top_position(c, community_id, user_id, &out->rank, e))
		return false;
	if (!db_query_i64(c, "SELECT owner_id FROM communities WHERE id = ?", &out->owner_id, e, 1,
			  community_id))
		return e->kind == ERR_NOT_FOUND ? comm_not_found(e) : false;
	return true;
}

bool comm_lock(db_conn_t *c, int64_t community_id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, "UPDATE communities SET member_count = member_count WHERE id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	int64_t n;
	if (!comm_exec(s, &n, e))
		return false;
	return n > 0 ? true : comm_not_found(e);
}

bool comm_exists(db_conn_t *c, const char *sql, int64_t a, int64_t b, bool *out, err_t *e)
{
	*out = false;
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, a);
	db_bind_i64(s, 2, b);
	int rc = db_step(s, e);
	db_finish(s);
	*out = rc == DB_ROW;
	return rc != DB_ERROR;
}

bool comm_is_member(db_conn_t *c, int64_t community_id, int64_t user_id, bool *out, err_t *e)
{
	return comm_exists(c, "SELECT 1 FROM members WHERE community_id = ? AND user_id = ?", community_id,
			   user_id, out, e);
}

bool comm_is_banned(db_conn_t *c, int64_t community_id, int64_t user_id, bool *out, err_t *e)
{
	return comm_exists(c, "SELECT 1 FROM bans WHERE community_id = ? AND user_id = ?", community_id,
			   user_id, out, e);
}

bool comm_add_member(db_conn_t *c, int64_t community_id, int64_t user_id, err_t *e)
{
	db_stmt_t *s = db_prepare(c,
				  "INSERT INTO members (community_id, user_id, joined_at) VALUES (?,?,?) "
				  "ON CONFLICT (community_id, user_id) DO NOTHING",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	db_bind_i64(s, 3, time_now_ms());
	int64_t n;
	if (!comm_exec(s, &n, e))
		return false;
	if (n == 0)
		return true;
	s = db_prepare(c, "UPDATE communities SET member_count = member_count + 1 WHERE id = ?", e);
	if (s)
		db_bind_i64(s, 1, community_id);
	return comm_exec(s, NULL, e);
}

bool comm_remove_member(db_conn_t *c, int64_t community_id, int64_t user_id, bool *removed, err_t *e)
{
	*removed = false;
	db_stmt_t *s = db_prepare(c, "DELETE FROM member_roles WHERE community_id = ? AND user_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	if (!comm_exec(s, NULL, e) ||
	    !(s = db_prepare(c, "DELETE FROM members WHERE community_id = ? AND user_id = ?", e)))
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	int64_t n;
	if (!comm_exec(s, &n, e))
		return false;
	if (n == 0)
		return true;
	*removed = true;
	s = db_prepare(c, "UPDATE communities SET member_count = member_count - 1 WHERE id = ?", e);
	if (s)
		db_bind_i64(s, 1, community_id);
	return comm_exec(s, NULL, e);
}

static void read_comm(db_stmt_t *s, int col, community_t *x)
{
	memset(x, 0, sizeof(*x));
	x->id = db_col_i64(s, col);
	x->owner_id = db_col_i64(s, col + 1);
	x->name = xstrdup(db_col_text(s, col + 2) ? db_col_text(s, col + 2) : "");
	x->description = xstrdup(db_col_text(s, col + 3) ? db_col_text(s, col + 3) : "");
	x->icon = comm_dup(db_col_text(s, col + 4));
	x->is_public = db_col_i64(s, col + 5) != 0;
	x->member_count = db_col_i64(s, col + 6);
	x->created_at = db_col_i64(s, col + 7);
}

bool comm_load(db_conn_t *c, int64_t id, community_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	db_stmt_t *s = db_prepare(c, "SELECT " COMM_COLS " FROM communities c WHERE c.id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_comm(s, 0, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	return rc == DB_ROW ? true : comm_not_found(e);
}

bool comm_fill_me(db_conn_t *c, community_t *out, int64_t user_id, err_t *e)
{
	out->joined = false;
	out->my_perms = 0;
	perm_t p;
	if (perm_community(c, out->id, user_id, &p, e)) {
		out->joined = true;
		out->my_perms = p;
		return true;
	}
	return e->kind == ERR_NOT_FOUND;
}

bool community_audit(db_conn_t *c, int64_t community_id, int64_t actor_id, const char *action,
		     const char *target_type, int64_t target_id, json_t *detail, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO audit_log (id, community_id, actor_id, action, target_type, target_id, "
		       "detail, created_at) VALUES (?,?,?,?,?,?,?,?)",
		       e);
	if (!s)
		return false;
	char *d = detail ? jx_dump(detail) : NULL;
	db_bind_i64(s, 1, id_new());
	db_bind_i64(s, 2, community_id);
	if (actor_id)
		db_bind_i64(s, 3, actor_id);
	else
		db_bind_null(s, 3);
	db_bind_text(s, 4, action);
	db_bind_text(s, 5, target_type);
	if (target_id)
		db_bind_i64(s, 6, target_id);
	else
		db_bind_null(s, 6);
	db_bind_text(s, 7, d ? d : "{}");
	db_bind_i64(s, 8, time_now_ms());
	bool ok = comm_exec(s, NULL, e);
	free(d);
	return ok;
}

/* Ends a transaction: commits when ok, else rolls back. Returns whether it committed. */
bool comm_finish(db_conn_t *c, bool ok, err_t *e)
{
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	return false;
}

/* ==== communities ==== */

static void ascii_lower(const char *in, char *out, size_t outlen)
{
	size_t i = 0;
	for (; in[i] && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* The name without surrounding whitespace, 2..100 code points (heap copy in *out). */
static bool clean_name(const char *name, char **out, err_t *e)
{
	*out = NULL;
	if (!name)
		return err_set(e, ERR_INVALID, "invalid_name", "name", "name is required");
	while (*name && isspace((unsigned char)*name))
		name++;
	size_t n = strlen(name);
	while (n > 0 && isspace((unsigned char)name[n - 1]))
		n--;
	char *s = xstrndup(name, n);
	size_t cp = jx_utf8_len(s);
	if (cp < COMMUNITY_NAME_MIN || cp > COMMUNITY_NAME_MAX) {
		free(s);
		return err_set(e, ERR_INVALID, "invalid_name", "name", "name must be %d to %d characters",
			       COMMUNITY_NAME_MIN, COMMUNITY_NAME_MAX);
	}
	*out = s;
	return true;
}

static bool check_spec(const community_spec_t *sp, err_t *e)
{
	if (sp->set_description && sp->description && jx_utf8_len(sp->description) > COMMUNITY_DESC_MAX)
		return err_set(e, ERR_INVALID, "too_long", "description",
			       "description must be at most %d characters", COMMUNITY_DESC_MAX);
	if (sp->set_icon && sp->icon && jx_utf8_len(sp->icon) > COMMUNITY_ICON_MAX)
		return err_set(e, ERR_INVALID, "too_long", "icon", "icon must be at most %d characters",
			       COMMUNITY_ICON_MAX);
	return true;
}

bool comm_insert_channel(db_conn_t *c, int64_t id, int64_t community_id, const char *name, const char *type,
			 const char *category, const char *topic, int position, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO channels (id, community_id, name, type, category, topic, position, "
		       "created_at) VALUES (?,?,?,?,?,?,?,?)",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, community_id);
	db_bind_text(s, 3, name);
	db_bind_text(s, 4, type);
	db_bind_text(s, 5, category);
	db_bind_text(s, 6, topic);
	db_bind_i64(s, 7, position);
	db_bind_i64(s, 8, time_now_ms());
	return comm_exec(s, NULL, e);
}

bool community_create(db_conn_t *c, int64_t user_id, const community_spec_t *sp, community_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	char *name;
	if (!check_spec(sp, e) || !clean_name(sp->name, &name, e))
		return false;
	char lc[COMMUNITY_NAME_MAX * 4 + 1];
	ascii_lower(name, lc, sizeof(lc));
	int64_t id = id_new(), owned = 0, now = time_now_ms();
	if (!db_begin(c, e)) {
		free(name);
		return false;
	}
	bool ok =
	    db_query_i64(c, "SELECT COUNT(*) FROM communities WHERE owner_id = ?", &owned, e, 1, user_id);
	if (ok && owned >= COMMUNITIES_PER_OWNER)
		ok = err_set(e, ERR_CONFLICT, "too_many_communities", NULL,
			     "you may own at most %d communities", COMMUNITIES_PER_OWNER);
	db_stmt_t *s = NULL;
	if (ok)
		ok = (s = db_prepare(
			  c,
			  "INSERT INTO communities (id, owner_id, name, name_lc, description, icon, "
			  "public, member_count, created_at) VALUES (?,?,?,?,?,?,?,0,?)",
			  e)) != NULL;
	if (ok) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, user_id);
		db_bind_text(s, 3, name);
		db_bind_text(s, 4, lc);
		db_bind_text(s, 5, sp->description ? sp->description : "");
		db_bind_text(s, 6, sp->icon);
		db_bind_i64(s, 7, sp->is_public ? 1 : 0);
		db_bind_i64(s, 8, now);
		ok = comm_exec(s, NULL, e);
	}
	if (ok)
		ok = (s = db_prepare(
			  c,
			  "INSERT INTO roles (id, community_id, name, color, position, permissions, "
			  "is_everyone, created_at) VALUES (?,?,'@everyone',0,0,?,1,?)",
			  e)) != NULL;
	if (ok) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, id);
		db_bind_i64(s, 3, (int64_t)PERM_EVERYONE_DEFAULT);
		db_bind_i64(s, 4, now);
		ok = comm_exec(s, NULL, e);
	}
	ok = ok && comm_add_member(c, id, user_id, e) &&
	     comm_insert_channel(c, id_new(), id, "general", "text", NULL, NULL, 0, e);
	free(name);
	if (!comm_finish(c, ok, e))
		return false;
	return comm_load(c, id, out, e) && comm_fill_me(c, out, user_id, e);
}

static bool read_list(db_stmt_t *s, int64_t user_id, db_conn_t *c, community_t **out, int *count, err_t *e)
{
	community_t *items = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		read_comm(s, 0, &items[n++]);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		communities_free(items, n);
		return false;
	}
	for (int i = 0; i < n; i++)
		if (!comm_fill_me(c, &items[i], user_id, e)) {
			communities_free(items, n);
			return false;
		}
	*out = items;
	*count = n;
	return true;
}

bool communities_mine(db_conn_t *c, int64_t user_id, community_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT " COMM_COLS " FROM members m JOIN communities c ON c.id = m.community_id "
		       "WHERE m.user_id = ? ORDER BY m.joined_at DESC, c.id DESC",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	return read_list(s, user_id, c, out, count, e);
}

bool communities_discover(db_conn_t *c, int64_t user_id, const char *q, int64_t before, int limit,
			  community_t **out, int *count, int64_t *next, err_t *e)
{
	*out = NULL;
	*count = 0;
	*next = 0;
	/* the pattern: %q% with LIKE's specials escaped, ASCII lower-case like name_lc */
	buf_t pat;
	buf_init(&pat);
	buf_putc(&pat, '%');
	for (const char *p = q ? q : ""; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&pat, '\\');
		buf_putc(&pat, (char)tolower((unsigned char)*p));
	}
	buf_putc(&pat, '%');
	db_stmt_t *s = db_prepare(
	    c,
	    "SELECT " COMM_COLS
	    ", (SELECT COUNT(*) FROM members m WHERE m.community_id = c.id AND m.user_id = ?) "
	    "FROM communities c WHERE c.public = 1 AND c.name_lc LIKE ? ESCAPE '\\' AND "
	    "(CAST(? AS BIGINT) = 0 OR c.member_count < (SELECT k.member_count FROM communities k WHERE k.id "
	    "= ?) "
	    "OR (c.member_count = (SELECT k.member_count FROM communities k WHERE k.id = ?) AND c.id < ?)) "
	    "ORDER BY c.member_count DESC, c.id DESC LIMIT ?",
	    e);
	if (!s) {
		buf_cleanup(&pat);
		return false;
	}
	db_bind_i64(s, 1, user_id);
	db_bind_text(s, 2, pat.data);
	for (int i = 3; i <= 6; i++)
		db_bind_i64(s, i, before);
	db_bind_i64(s, 7, limit + 1);
	community_t *items = NULL;
	int n = 0, rc;
	items = xcalloc((size_t)limit + 1, sizeof(*items));
	while ((rc = db_step(s, e)) == DB_ROW && n <= limit) {
		read_comm(s, 0, &items[n]);
		items[n].joined = db_col_i64(s, 8) > 0;
		n++;
	}
	db_finish(s);
	buf_cleanup(&pat);
	if (rc == DB_ERROR) {
		communities_free(items, n);
		return false;
	}
	if (n > limit) {
		community_clear(&items[limit]);
		n = limit;
		*next = items[n - 1].id;
	}
	for (int i = 0; i < n; i++)
		if (items[i].joined && !comm_fill_me(c, &items[i], user_id, e)) {
			communities_free(items, n);
			*next = 0;
			return false;
		}
	*out = items;
	*count = n;
	return true;
}

bool community_get(db_conn_t *c, int64_t id, int64_t user_id, community_t *out, err_t *e)
{
	if (!comm_load(c, id, out, e))
		return false;
	if (!comm_fill_me(c, out, user_id, e) || (!out->joined && !out->is_public)) {
		bool internal = e->kind != ERR_NONE && e->kind != ERR_NOT_FOUND;
		community_clear(out);
		return internal ? false : comm_not_found(e);
	}
	return true;
}

bool comm_set_text(db_conn_t *c, const char *sql, const char *v, int64_t id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_text(s, 1, v);
	db_bind_i64(s, 2, id);
	return comm_exec(s, NULL, e);
}

bool community_update(db_conn_t *c, int64_t id, int64_t user_id, const community_spec_t *sp, community_t *out,
		      err_t *e)
{
	memset(out, 0, sizeof(*out));
	char *name = NULL;
	if (!check_spec(sp, e) || (sp->set_name && !clean_name(sp->name, &name, e)))
		return false;
	comm_actor_t a;
	json_t *detail = json_object();
	if (!db_begin(c, e)) {
		free(name);
		json_decref(detail);
		return false;
	}
	bool ok = comm_lock(c, id, e) && comm_actor(c, id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_MANAGE_COMMUNITY, e);
	if (ok && name) {
		char lc[COMMUNITY_NAME_MAX * 4 + 1];
		ascii_lower(name, lc, sizeof(lc));
		ok = comm_set_text(c, "UPDATE communities SET name = ? WHERE id = ?", name, id, e) &&
		     comm_set_text(c, "UPDATE communities SET name_lc = ? WHERE id = ?", lc, id, e);
		json_object_set_new(detail, "name", json_string(name));
	}
	if (ok && sp->set_description) {
		const char *d = sp->description ? sp->description : "";
		ok = comm_set_text(c, "UPDATE communities SET description = ? WHERE id = ?", d, id, e);
		json_object_set_new(detail, "description", json_string(d));
	}
	if (ok && sp->set_icon) {
		ok = comm_set_text(c, "UPDATE communities SET icon = ? WHERE id = ?", sp->icon, id, e);
		json_object_set_new(detail, "icon", sp->icon ? json_string(sp->icon) : json_null());
	}
	if (ok && sp->set_public) {
		db_stmt_t *s = db_prepare(c, "UPDATE communities SET public = ? WHERE id = ?", e);
		if (s) {
			db_bind_i64(s, 1, sp->is_public ? 1 : 0);
			db_bind_i64(s, 2, id);
		}
		ok = comm_exec(s, NULL, e);
		json_object_set_new(detail, "public", json_boolean(sp->is_public));
	}
	ok = ok && community_audit(c, id, user_id, "community_update", "community", id, detail, e);
	free(name);
	json_decref(detail);
	if (!comm_finish(c, ok, e))
		return false;
	return comm_load(c, id, out, e) && comm_fill_me(c, out, user_id, e);
}

bool community_delete(db_conn_t *c, int64_t id, int64_t user_id, err_t *e)
{
	comm_actor_t a;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, id, e) && comm_actor(c, id, user_id, &a, e);
	if (ok && a.owner_id != user_id)
		ok = err_set(e, ERR_FORBIDDEN, "missing_permission", NULL,
			     "OWNER: only the owner may delete it");
	db_stmt_t *s = NULL;
	if (ok && (s = db_prepare(c, "DELETE FROM communities WHERE id = ?", e)) != NULL)
		db_bind_i64(s, 1, id);
	ok = ok && comm_exec(s, NULL, e);
	return comm_finish(c, ok, e);
}

bool community_join(db_conn_t *c, int64_t id, int64_t user_id, community_t *out, bool *joined, err_t *e)
{
	memset(out, 0, sizeof(*out));
	*joined = false;
	community_t x;
	bool member = false, banned = false;
	if (!db_begin(c, e))
		return false;
	bool ok =
	    comm_lock(c, id, e) && comm_load(c, id, &x, e) && comm_is_member(c, id, user_id, &member, e);
	bool loaded = ok;
	if (ok && !member) {
		if (!x.is_public)
			ok = comm_not_found(e);
		else if (!comm_is_banned(c, id, user_id, &banned, e))
			ok = false;
		else if (banned)
			ok = err_set(e, ERR_FORBIDDEN, "banned", NULL, "you are banned from this community");
		else
			ok = *joined = comm_add_member(c, id, user_id, e);
	}
	if (loaded)
		community_clear(&x);
	if (!comm_finish(c, ok, e))
		return false;
	return comm_load(c, id, out, e) && comm_fill_me(c, out, user_id, e);
}

bool community_leave(db_conn_t *c, int64_t id, int64_t user_id, err_t *e)
{
	int64_t owner = 0;
	bool member = false, removed;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, id, e) && comm_is_member(c, id, user_id, &member, e) &&
		  db_query_i64(c, "SELECT owner_id FROM communities WHERE id = ?", &owner, e, 1, id);
	if (ok && !member)
		ok = comm_not_found(e);
	else if (ok && owner == user_id)
		ok = err_set(e, ERR_CONFLICT, "owner_cannot_leave", NULL,
			     "the owner cannot leave; delete the community instead");
	ok = ok && comm_remove_member(c, id, user_id, &removed, e);
	return comm_finish(c, ok, e);
}

static void read_audit(db_stmt_t *s, void *elem)
{
	audit_t *a = elem;
	memset(a, 0, sizeof(*a));
	a->id = db_col_i64(s, 0);
	a->community_id = db_col_i64(s, 1);
	a->actor_id = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
	str_copy(a->action, sizeof(a->action), db_col_text(s, 3) ? db_col_text(s, 3) : "");
	str_copy(a->target_type, sizeof(a->target_type), db_col_text(s, 4) ? db_col_text(s, 4) : "");
	a->target_id = db_col_is_null(s, 5) ? 0 : db_col_i64(s, 5);
	a->detail = xstrdup(db_col_text(s, 6) ? db_col_text(s, 6) : "{}");
	a->created_at = db_col_i64(s, 7);
}

static void clear_audit(void *elem)
{
	free(((audit_t *)elem)->detail);
}

bool community_audit_list(db_conn_t *c, int64_t id, int64_t user_id, int64_t before, int limit, audit_t **out,
			  int *count, int64_t *next, err_t *e)
{
	*out = NULL;
	*count = 0;
	*next = 0;
	comm_actor_t a;
	if (!comm_actor(c, id, user_id, &a, e) || !comm_need(a.perms, PERM_VIEW_AUDIT_LOG, e))
		return false;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT id, community_id, actor_id, action, target_type, target_id, detail, "
		       "created_at FROM audit_log WHERE community_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	void *items;
	if (!db_page(s, 2, before, limit, sizeof(audit_t), offsetof(audit_t, id), read_audit, clear_audit,
		     &items, count, next, e))
		return false;
	*out = items;
	return true;
}
