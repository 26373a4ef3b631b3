/*
 * snapshot.c — the `ready` payload and the presence audience (snapshot.h).
 */
#include "communities/snapshot.h"

#include <stdlib.h>

#include "communities/perms.h"
#include "core/jsonx.h"
#include "core/util.h"

static json_t *perm_json(perm_t p)
{
	char b[21];
	perm_format(p, b);
	return json_string(b);
}

/* The member's role ids in one community. */
static bool member_role_ids(db_conn_t *c, int64_t community_id, int64_t user_id, int64_t **ids, int *n,
			    err_t *e)
{
	*ids = NULL;
	*n = 0;
	db_stmt_t *s =
	    db_prepare(c, "SELECT role_id FROM member_roles WHERE community_id = ? AND user_id = ?", e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*ids = xrealloc(*ids, (size_t)cap * sizeof **ids);
		}
		(*ids)[(*n)++] = db_col_i64(s, 0);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(*ids);
		*ids = NULL;
		return false;
	}
	return true;
}

static bool add_channels(db_conn_t *c, json_t *comm, int64_t community_id, int64_t user_id, err_t *e)
{
	perm_cache_t pc;
	if (!perm_cache_load(c, community_id, &pc, e))
		return false;
	int64_t *roles;
	int nroles;
	if (!member_role_ids(c, community_id, user_id, &roles, &nroles, e)) {
		perm_cache_free(&pc);
		return false;
	}
	/* Community-wide permissions: the same rules without a channel. */
	perm_role_t *rs = xcalloc((size_t)nroles + 1, sizeof *rs);
	int nrs = 0;
	for (int i = 0; i < nroles; i++)
		for (int j = 0; j < pc.nroles; j++)
			if (pc.roles[j].id == roles[i])
				rs[nrs++] = pc.roles[j];
	perm_input_t in = {.community_id = community_id,
			   .owner_id = pc.owner_id,
			   .user_id = user_id,
			   .everyone = pc.everyone,
			   .roles = rs,
			   .nroles = nrs};
	json_object_set_new(comm, "my_permissions", perm_json(perm_compute(&in)));
	free(rs);

	json_t *chans = json_array();
	db_stmt_t *s = db_prepare(c,
				  "SELECT ch.id, ch.name, ch.type, ch.category, ch.topic, ch.position, "
				  "ch.last_message_id, COALESCE(r.last_read_id, 0) FROM channels ch "
				  "LEFT JOIN channel_reads r ON r.channel_id = ch.id AND r.user_id = ? "
				  "WHERE ch.community_id = ? ORDER BY ch.position, ch.id",
				  e);
	bool ok = s != NULL;
	if (s) {
		db_bind_i64(s, 1, user_id);
		db_bind_i64(s, 2, community_id);
		int rc;
		while ((rc = db_step(s, e)) == DB_ROW) {
			int64_t id = db_col_i64(s, 0);
			perm_t p = perm_cache_channel(&pc, user_id, roles, nroles, id);
			if (!(p & PERM_VIEW_CHANNEL))
				continue;
			const char *cat = db_col_text(s, 3), *topic = db_col_text(s, 4);
			json_array_append_new(
			    chans, json_pack("{s:o, s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o}", "id", jx_id(id),
					     "name", db_col_text(s, 1), "type", db_col_text(s, 2), "category",
					     cat ? json_string(cat) : json_null(), "topic",
					     topic ? json_string(topic) : json_null(), "position",
					     (json_int_t)db_col_i64(s, 5), "last_message_id",
					     jx_id(db_col_i64(s, 6)), "last_read_id", jx_id(db_col_i64(s, 7)),
					     "my_permissions", perm_json(p)));
		}
		db_finish(s);
		ok = rc != DB_ERROR;
	}
	json_object_set_new(comm, "channels", chans);
	free(roles);
	perm_cache_free(&pc);
	return ok;
}

bool snapshot_communities(db_conn_t *c, int64_t user_id, json_t **out, err_t *e)
{
	*out = NULL;
	db_stmt_t *s = db_prepare(c,
				  "SELECT c.id, c.name, c.icon, c.owner_id, c.public FROM members m "
				  "JOIN communities c ON c.id = m.community_id WHERE m.user_id = ? "
				  "ORDER BY m.joined_at DESC, c.id",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	json_t *arr = json_array();
	int rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		const char *icon = db_col_text(s, 2);
		json_array_append_new(
		    arr, json_pack("{s:o, s:s, s:o, s:o, s:b}", "id", jx_id(db_col_i64(s, 0)), "name",
				   db_col_text(s, 1), "icon", icon ? json_string(icon) : json_null(),
				   "owner_id", jx_id(db_col_i64(s, 3)), "public", db_col_i64(s, 4) != 0));
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		json_decref(arr);
		return false;
	}
	size_t i;
	json_t *comm;
	json_array_foreach(arr, i, comm)
	{
		int64_t id = 0;
		parse_i64(json_string_value(json_object_get(comm, "id")), &id);
		if (!add_channels(c, comm, id, user_id, e)) {
			json_decref(arr);
			return false;
		}
	}
	*out = arr;
	return true;
}

bool snapshot_presence_communities(db_conn_t *c, int64_t user_id, int max_members, int64_t **ids, int *n,
				   err_t *e)
{
	*ids = NULL;
	*n = 0;
	db_stmt_t *s = db_prepare(c,
				  "SELECT c.id FROM members m JOIN communities c ON c.id = m.community_id "
				  "WHERE m.user_id = ? AND c.member_count <= ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, max_members);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*ids = xrealloc(*ids, (size_t)cap * sizeof **ids);
		}
		(*ids)[(*n)++] = db_col_i64(s, 0);
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return false;
	}
	return true;
}
