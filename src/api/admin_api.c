/*
 * admin_api.c — /api/v2/admin: user administration, admins only.
 *
 * Admins cannot change their own role or disable themselves: the last admin
 * could otherwise lock everyone out (use `cosmiv admin` on the host for that).
 * Disabling a user also revokes their sessions; their access tokens stop
 * working at the next request because authentication checks the flag.
 */
#include <stdlib.h>

#include "api/api.h"

static void list_users(http_req_t *r)
{
	if (!api_require_role(r, "admin"))
		return;
	int limit;
	int64_t cursor;
	if (!api_page_params(r, 50, 100, &limit, &cursor))
		return;
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	user_t *items;
	int n;
	int64_t next;
	err_t e;
	if (!users_list(c, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, api_user_json(&items[i], true));
	free(items);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void patch_user(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"role", JX_STRING, .max = 16},
	    {"disabled", JX_BOOL},
	    {0},
	};
	const auth_principal_t *p = api_require_role(r, "admin");
	if (!p)
		return;
	int64_t id;
	if (!id_parse(http_param(r, "id"), &id)) {
		http_error(r, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
		return;
	}
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	err_t e;
	user_t u;
	const char *role = jx_str(in, "role");
	if (!c)
		goto out;
	if (role && !users_valid_role(role)) {
		http_error(r, ERR_INVALID, "invalid_role", "role", "role must be user, moderator or admin");
		goto out;
	}
	if (id == p->user.id) {
		http_error(r, ERR_INVALID, "cannot_change_self", NULL,
			   "admins cannot change their own role or disable themselves");
		goto out;
	}
	if (!db_begin(c, &e))
		goto fail;
	if (!users_get_by_id(c, id, &u, &e) || (role && !users_set_role(c, id, role, &e)))
		goto rollback;
	if (jx_has(in, "disabled")) {
		bool dis = jx_bool(in, "disabled", false);
		if (!users_set_disabled(c, id, dis, &e) ||
		    (dis && !auth_revoke_sessions(c, id, 0, "account_disabled", &e)))
			goto rollback;
	}
	if (!db_commit(c, &e) || !users_get_by_id(c, id, &u, &e))
		goto fail;
	http_json(r, 200, api_user_json(&u, true));
	goto out;
rollback:
	db_rollback(c);
fail:
	http_problem(r, &e);
out:
	json_decref(in);
}

void api_admin_routes(void)
{
	http_route(HTTP_GET, "/api/v2/admin/users", list_users, 0);
	http_route(HTTP_PATCH, "/api/v2/admin/users/{id}", patch_user, HTTP_ROUTE_JSON);
}
