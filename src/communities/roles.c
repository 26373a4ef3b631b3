/*
 * roles.c — roles and who holds them, under the hierarchy rules of
 * docs/permissions.md: a member's rank is the highest position among their
 * roles (the owner is above everyone), and nobody edits, deletes, gives or
 * takes a role at or above their own rank, nor grants bits they lack.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "communities/communities.h"
#include "core/jsonx.h"
#include "core/util.h"

#define ROLE_COLS "id, community_id, name, color, position, permissions, is_everyone, created_at"

void role_clear(role_t *x)
{
	free(x->name);
	memset(x, 0, sizeof(*x));
}

void roles_free(role_t *items, int n)
{
	for (int i = 0; i < n; i++)
		role_clear(&items[i]);
	free(items);
}

static void read_role(db_stmt_t *s, role_t *x)
{
	memset(x, 0, sizeof(*x));
	x->id = db_col_i64(s, 0);
	x->community_id = db_col_i64(s, 1);
	x->name = xstrdup(db_col_text(s, 2) ? db_col_text(s, 2) : "");
	x->color = (int)db_col_i64(s, 3);
	x->position = (int)db_col_i64(s, 4);
	x->permissions = (perm_t)db_col_i64(s, 5);
	x->is_everyone = db_col_i64(s, 6) != 0;
	x->created_at = db_col_i64(s, 7);
}

static bool role_not_found(err_t *e)
{
	return err_set(e, ERR_NOT_FOUND, "role_not_found", NULL, "no such role");
}

static bool hierarchy(err_t *e, const char *what)
{
	return err_set(e, ERR_FORBIDDEN, "role_hierarchy", NULL, "%s", what);
}

/* A role of this community (ERR_NOT_FOUND role_not_found otherwise). */
static bool role_load(db_conn_t *c, int64_t community_id, int64_t role_id, role_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	db_stmt_t *s = db_prepare(c, "SELECT " ROLE_COLS " FROM roles WHERE id = ? AND community_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, role_id);
	db_bind_i64(s, 2, community_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW)
		read_role(s, out);
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	return rc == DB_ROW ? true : role_not_found(e);
}

bool roles_list(db_conn_t *c, int64_t community_id, int64_t user_id, role_t **out, int *count, err_t *e)
{
	*out = NULL;
	*count = 0;
	perm_t p;
	if (!perm_community(c, community_id, user_id, &p, e))
		return false;
	db_stmt_t *s =
	    db_prepare(c, "SELECT " ROLE_COLS " FROM roles WHERE community_id = ? ORDER BY position, id", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	role_t *items = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, (size_t)cap * sizeof(*items));
		}
		read_role(s, &items[n++]);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		roles_free(items, n);
		return false;
	}
	*out = items;
	*count = n;
	return true;
}

/* The checks shared by create and update: position below the actor, no bits they lack. */
static bool check_grant(const comm_actor_t *a, const role_spec_t *sp, perm_t old_bits, err_t *e)
{
	if (sp->set_name && (!sp->name || jx_utf8_len(sp->name) < 1 || jx_utf8_len(sp->name) > ROLE_NAME_MAX))
		return err_set(e, ERR_INVALID, "invalid_name", "name", "name must be 1 to %d characters",
			       ROLE_NAME_MAX);
	if (sp->set_color && (sp->color < 0 || sp->color > ROLE_COLOR_MAX))
		return err_set(e, ERR_INVALID, "out_of_range", "color", "color must be between 0 and %d",
			       ROLE_COLOR_MAX);
	if (sp->set_position && sp->position < 1)
		return err_set(e, ERR_INVALID, "out_of_range", "position", "position must be 1 or more");
	if (sp->set_permissions && (sp->permissions & ~PERM_ALL))
		return err_set(e, ERR_INVALID, "invalid_permissions", "permissions",
			       "unknown permission bits");
	if (sp->set_position && sp->position >= a->rank)
		return hierarchy(e, "a role's position must be below your own highest role");
	perm_t added = sp->set_permissions ? sp->permissions & ~old_bits : 0;
	if (added & ~a->perms)
		return err_set(e, ERR_FORBIDDEN, "missing_permission", NULL, "%s",
			       perm_name(added & ~a->perms));
	return true;
}

static json_t *role_detail(const role_spec_t *sp)
{
	json_t *d = json_object();
	if (sp->set_name)
		json_object_set_new(d, "name", json_string(sp->name));
	if (sp->set_color)
		json_object_set_new(d, "color", json_integer(sp->color));
	if (sp->set_position)
		json_object_set_new(d, "position", json_integer(sp->position));
	if (sp->set_permissions) {
		char b[21];
		perm_format(sp->permissions, b);
		json_object_set_new(d, "permissions", json_string(b));
	}
	return d;
}

bool role_create(db_conn_t *c, int64_t community_id, int64_t user_id, const role_spec_t *sp, role_t *out,
		 err_t *e)
{
	memset(out, 0, sizeof(*out));
	role_spec_t v = *sp;
	v.set_name = true;
	if (!v.set_position) {
		v.position = 1; /* just above @everyone */
		v.set_position = true;
	}
	comm_actor_t a;
	int64_t n = 0, id = id_new();
	if (!db_begin(c, e))
		return false;
	bool ok =
	    comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
	    comm_need(a.perms, PERM_MANAGE_ROLES, e) && check_grant(&a, &v, 0, e) &&
	    db_query_i64(c, "SELECT COUNT(*) FROM roles WHERE community_id = ?", &n, e, 1, community_id);
	if (ok && n >= ROLES_PER_COMMUNITY)
		ok = err_set(e, ERR_CONFLICT, "too_many_roles", NULL, "a community has at most %d roles",
			     ROLES_PER_COMMUNITY);
	db_stmt_t *s = NULL;
	if (ok && (s = db_prepare(c,
				  "INSERT INTO roles (id, community_id, name, color, position, permissions, "
				  "is_everyone, created_at) VALUES (?,?,?,?,?,?,0,?)",
				  e)) != NULL) {
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, community_id);
		db_bind_text(s, 3, v.name);
		db_bind_i64(s, 4, v.set_color ? v.color : 0);
		db_bind_i64(s, 5, v.position);
		db_bind_i64(s, 6, v.set_permissions ? (int64_t)v.permissions : 0);
		db_bind_i64(s, 7, time_now_ms());
	}
	ok = ok && comm_exec(s, NULL, e);
	if (ok) {
		json_t *d = role_detail(&v);
		ok = community_audit(c, community_id, user_id, "role_create", "role", id, d, e);
		json_decref(d);
	}
	if (ok && db_commit(c, e))
		return role_load(c, community_id, id, out, e);
	db_rollback(c);
	return false;
}

static bool set_i64(db_conn_t *c, const char *sql, int64_t v, int64_t id, err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	db_bind_i64(s, 1, v);
	db_bind_i64(s, 2, id);
	return comm_exec(s, NULL, e);
}

bool role_update(db_conn_t *c, int64_t community_id, int64_t role_id, int64_t user_id, const role_spec_t *sp,
		 role_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	comm_actor_t a;
	role_t r = {0};
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_MANAGE_ROLES, e) && role_load(c, community_id, role_id, &r, e);
	if (ok && r.is_everyone && (sp->set_name || sp->set_position))
		ok = err_set(e, ERR_FORBIDDEN, "everyone_role", NULL,
			     "@everyone's name and position cannot change");
	else if (ok && r.position >= a.rank)
		ok = hierarchy(e, "you may only edit roles below your own highest role");
	ok = ok && check_grant(&a, sp, r.permissions, e);
	if (ok && sp->set_name) {
		db_stmt_t *s = db_prepare(c, "UPDATE roles SET name = ? WHERE id = ?", e);
		if (s) {
			db_bind_text(s, 1, sp->name);
			db_bind_i64(s, 2, role_id);
		}
		ok = comm_exec(s, NULL, e);
	}
	if (ok && sp->set_color)
		ok = set_i64(c, "UPDATE roles SET color = ? WHERE id = ?", sp->color, role_id, e);
	if (ok && sp->set_position)
		ok = set_i64(c, "UPDATE roles SET position = ? WHERE id = ?", sp->position, role_id, e);
	if (ok && sp->set_permissions)
		ok = set_i64(c, "UPDATE roles SET permissions = ? WHERE id = ?", (int64_t)sp->permissions,
			     role_id, e);
	if (ok) {
		json_t *d = role_detail(sp);
		ok = community_audit(c, community_id, user_id, "role_update", "role", role_id, d, e);
		json_decref(d);
	}
	role_clear(&r);
	if (ok && db_commit(c, e))
		return role_load(c, community_id, role_id, out, e);
	db_rollback(c);
	return false;
}

bool role_delete(db_conn_t *c, int64_t community_id, int64_t role_id, int64_t user_id, err_t *e)
{
	comm_actor_t a;
	role_t r = {0};
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_MANAGE_ROLES, e) && role_load(c, community_id, role_id, &r, e);
	if (ok && r.is_everyone)
		ok = err_set(e, ERR_FORBIDDEN, "everyone_role", NULL, "@everyone cannot be deleted");
	else if (ok && r.position >= a.rank)
		ok = hierarchy(e, "you may only delete roles below your own highest role");
	static const char *sql[] = {
	    "DELETE FROM channel_overwrites WHERE target_type = 'role' AND target_id = ?",
	    "DELETE FROM member_roles WHERE role_id = ?",
	    "DELETE FROM roles WHERE id = ?",
	};
	for (size_t i = 0; ok && i < ARRAY_LEN(sql); i++) {
		db_stmt_t *s = db_prepare(c, sql[i], e);
		if (s)
			db_bind_i64(s, 1, role_id);
		ok = comm_exec(s, NULL, e);
	}
	if (ok) {
		json_t *d = json_pack("{s:s}", "name", r.name);
		ok = community_audit(c, community_id, user_id, "role_delete", "role", role_id, d, e);
		json_decref(d);
	}
	role_clear(&r);
	if (ok && db_commit(c, e))
		return true;
	db_rollback(c);
	return false;
}

bool member_role_set(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t role_id, int64_t user_id,
		     bool on, bool *changed, err_t *e)
{
	*changed = false;
	comm_actor_t a;
	role_t r = {0};
	bool member = false;
	int target_rank = -1;
	if (!db_begin(c, e))
		return false;
	bool ok = comm_lock(c, community_id, e) && comm_actor(c, community_id, user_id, &a, e) &&
		  comm_need(a.perms, PERM_MANAGE_ROLES, e) && role_load(c, community_id, role_id, &r, e) &&
		  comm_is_member(c, community_id, target_id, &member, e);
	if (ok && !member)
		ok = err_set(e, ERR_NOT_FOUND, "member_not_found", NULL, "no such member");
	else if (ok && r.is_everyone)
		ok = err_set(e, ERR_FORBIDDEN, "everyone_role", NULL, "every member has @everyone");
	else if (ok && r.position >= a.rank)
		ok = hierarchy(e, "you may only give or take roles below your own highest role");
	ok = ok && perm_top_position(c, community_id, target_id, &target_rank, e);
	if (ok && target_id != user_id && target_rank >= a.rank)
		ok = hierarchy(e, "you may only change the roles of members below you");
	db_stmt_t *s = NULL;
	if (ok)
		s = db_prepare(
		    c,
		    on ? "INSERT INTO member_roles (community_id, user_id, role_id) VALUES (?,?,?) "
			 "ON CONFLICT (community_id, user_id, role_id) DO NOTHING"
		       : "DELETE FROM member_roles WHERE community_id = ? AND user_id = ? AND role_id = ?",
		    e);
	if (s) {
		db_bind_i64(s, 1, community_id);
		db_bind_i64(s, 2, target_id);
		db_bind_i64(s, 3, role_id);
	}
	int64_t n = 0;
	ok = ok && comm_exec(s, &n, e);
	if (ok && n > 0) {
		json_t *d = json_pack("{s:o, s:s}", "role_id", jx_id(role_id), "role_name", r.name);
		ok = community_audit(c, community_id, user_id, on ? "role_assign" : "role_unassign", "member",
				     target_id, d, e);
		json_decref(d);
	}
	role_clear(&r);
	if (ok && db_commit(c, e)) {
		*changed = n > 0;
		return true;
	}
	db_rollback(c);
	return false;
}
