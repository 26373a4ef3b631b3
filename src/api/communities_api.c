/*
 * communities_api.c — communities, channels, roles, members, invites, bans
 * and the audit log (docs/communities-api.md). The rules live in
 * src/communities; each change is published to the gateway
 * (docs/gateway.md) once the domain call has committed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/social_json.h"
#include "communities/communities.h"
#include "gateway/events.h"
#include "gateway/presence.h"

/* ==== rendering ==== */

static json_t *perm_json(perm_t p)
{
	char s[21];
	perm_format(p, s);
	return json_string(s);
}

static json_t *opt_id(int64_t id)
{
	return id ? jx_id(id) : json_null();
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *community_json(const community_t *x, bool me)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(x->id));
	json_object_set_new(j, "name", json_string(x->name));
	json_object_set_new(j, "description", json_string(x->description ? x->description : ""));
	json_object_set_new(j, "icon", opt_str(x->icon));
	json_object_set_new(j, "public", json_boolean(x->is_public));
	json_object_set_new(j, "owner_id", jx_id(x->owner_id));
	json_object_set_new(j, "member_count", json_integer(x->member_count));
	json_object_set_new(j, "created_at", jx_time(x->created_at));
	if (me)
		json_object_set_new(
		    j, "me",
		    json_pack("{s:b, s:o}", "joined", x->joined, "permissions", perm_json(x->my_perms)));
	return j;
}

/* per_user: the caller's fields (my_permissions, last_read_id), which an event leaves out. */
static json_t *channel_json(const channel_t *x, bool per_user)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(x->id));
	json_object_set_new(j, "community_id", jx_id(x->community_id));
	json_object_set_new(j, "name", json_string(x->name));
	json_object_set_new(j, "type", json_string(x->type));
	json_object_set_new(j, "category", opt_str(x->category));
	json_object_set_new(j, "topic", opt_str(x->topic));
	json_object_set_new(j, "position", json_integer(x->position));
	json_object_set_new(j, "last_message_id", opt_id(x->last_message_id));
	if (per_user) {
		json_object_set_new(j, "last_read_id", opt_id(x->last_read_id));
		json_object_set_new(j, "my_permissions", perm_json(x->my_perms));
	}
	json_t *ow = json_array();
	for (int i = 0; i < x->now; i++)
		json_array_append_new(
		    ow, json_pack("{s:s, s:o, s:o, s:o}", "type", x->ow[i].member ? "member" : "role", "id",
				  jx_id(x->ow[i].target_id), "allow", perm_json(x->ow[i].allow), "deny",
				  perm_json(x->ow[i].deny)));
	json_object_set_new(j, "overwrites", ow);
	return j;
}

static json_t *role_json(const role_t *x)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(x->id));
	json_object_set_new(j, "community_id", jx_id(x->community_id));
	json_object_set_new(j, "name", json_string(x->name));
	json_object_set_new(j, "color", json_integer(x->color));
	json_object_set_new(j, "position", json_integer(x->position));
	json_object_set_new(j, "permissions", perm_json(x->permissions));
	json_object_set_new(j, "is_everyone", json_boolean(x->is_everyone));
	return j;
}

static json_t *member_json(const member_t *m, presence_t pr)
{
	json_t *roles = json_array();
	for (int i = 0; i < m->nroles; i++)
		json_array_append_new(roles, jx_id(m->roles[i]));
	json_t *j = json_object();
	json_object_set_new(j, "community_id", jx_id(m->community_id));
	json_object_set_new(j, "user", api_user_ref_json(&m->user));
	json_object_set_new(j, "nick", opt_str(m->nick));
	json_object_set_new(j, "joined_at", jx_time(m->joined_at));
	json_object_set_new(j, "roles", roles);
	json_object_set_new(j, "presence", json_string(presence_name(pr)));
	return j;
}

static json_t *invite_json(const invite_t *x)
{
	json_t *j = json_object();
	json_object_set_new(j, "code", json_string(x->code));
	json_object_set_new(j, "community_id", jx_id(x->community_id));
	json_object_set_new(j, "inviter_id", opt_id(x->inviter_id));
	json_object_set_new(j, "max_uses", json_integer(x->max_uses));
	json_object_set_new(j, "uses", json_integer(x->uses));
	json_object_set_new(j, "expires_at", x->expires_at ? jx_time(x->expires_at) : json_null());
	json_object_set_new(j, "created_at", jx_time(x->created_at));
	return j;
}

static json_t *audit_json(const audit_t *x)
{
	json_t *d = json_loads(x->detail, 0, NULL);
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(x->id));
	json_object_set_new(j, "community_id", jx_id(x->community_id));
	json_object_set_new(j, "actor_id", opt_id(x->actor_id));
	json_object_set_new(j, "action", json_string(x->action));
	json_object_set_new(j, "target_type", x->target_type[0] ? json_string(x->target_type) : json_null());
	json_object_set_new(j, "target_id", opt_id(x->target_id));
	json_object_set_new(j, "detail", d ? d : json_object());
	json_object_set_new(j, "created_at", jx_time(x->created_at));
	return j;
}

/* ==== events (after the change committed) ==== */

static void publish(const char *type, ev_scope_t scope, int64_t community_id, int64_t channel_id,
		    int64_t user_id, unsigned flags, json_t *d)
{
	event_t ev = {.type = type,
		      .scope = scope,
		      .community_id = community_id,
		      .channel_id = channel_id,
		      .user_id = user_id,
		      .flags = flags};
	events_publish(&ev, d);
}

static void publish_member(db_conn_t *c, const char *type, int64_t community_id, int64_t user_id)
{
	member_t m;
	err_t e;
	if (!member_get(c, community_id, user_id, &m, &e))
		return; /* gone again already: the next fetch shows it */
	publish(type, EV_COMMUNITY, community_id, 0, user_id, EV_RELOAD_MEMBER,
		member_json(&m, presence_get(user_id)));
	member_clear(&m);
}

static void publish_leave(int64_t community_id, int64_t user_id)
{
	publish("MEMBER_LEAVE", EV_COMMUNITY, community_id, 0, user_id, EV_RELOAD_MEMBER | EV_ALSO_USER,
		json_pack("{s:o, s:o}", "community_id", jx_id(community_id), "user_id", jx_id(user_id)));
}

static void publish_channel(const char *type, const channel_t *ch)
{
	publish(type, EV_CHANNEL, ch->community_id, ch->id, 0, EV_RELOAD_RULES, channel_json(ch, false));
}

/* ==== request helpers ==== */

static bool path_id(http_req_t *r, const char *name, const char *code, const char *what, int64_t *out)
{
	if (id_parse(http_param(r, name), out))
		return true;
	char d[64];
	snprintf(d, sizeof(d), "no such %s", what);
	http_error(r, ERR_NOT_FOUND, code, NULL, d);
	return false;
}

static bool community_param(http_req_t *r, int64_t *id)
{
	return path_id(r, "id", "community_not_found", "community", id);
}

static bool channel_param(http_req_t *r, int64_t *id)
{
	return path_id(r, "id", "channel_not_found", "channel", id);
}

/* A body that may be left out entirely: an empty object then. */
static json_t *optional_body(http_req_t *r, const jx_field_t *fields)
{
	size_t len;
	http_body(r, &len);
	return len == 0 ? json_object() : api_parse_body(r, fields);
}

static bool parse_perms(http_req_t *r, json_t *in, const char *field, perm_t *out, bool *set)
{
	const char *s = jx_str(in, field);
	*out = 0;
	if (set)
		*set = s != NULL;
	if (!s)
		return true;
	if (perm_parse(s, out))
		return true;
	char d[160];
	snprintf(d, sizeof(d), "%s must be a decimal string of permission bits (at most %llu)", field,
		 (unsigned long long)PERM_ALL);
	http_error(r, ERR_INVALID, "invalid_permissions", field, d);
	return false;
}

static void user_key(const auth_principal_t *p, char out[24])
{
	snprintf(out, 24, "%lld", (long long)p->user.id);
}

static void send_page(http_req_t *r, json_t *items, int64_t next)
{
	http_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", opt_id(next)));
}

/* ==== communities ==== */

static void create_community(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"name", JX_STRING, .required = true, .min = COMMUNITY_NAME_MIN, .max = COMMUNITY_NAME_MAX},
	    {"description", JX_STRING, .nullable = true, .max = COMMUNITY_DESC_MAX},
	    {"icon", JX_STRING, .nullable = true, .max = COMMUNITY_ICON_MAX},
	    {"public", JX_BOOL},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	char who[24];
	if (!p)
		return;
	user_key(p, who);
	if (!api_rate_limit(r, "community_create", who, 10, 20))
		return;
	json_t *in = api_parse_body(r, fields);
	db_conn_t *c;
	if (!in)
		return;
	if ((c = api_conn(r))) {
		community_spec_t sp = {.name = jx_str(in, "name"),
				       .description = jx_str(in, "description"),
				       .icon = jx_str(in, "icon"),
				       .is_public = jx_bool(in, "public", false),
				       .set_name = true,
				       .set_description = true,
				       .set_icon = true,
				       .set_public = true};
		community_t x;
		err_t e;
		if (community_create(c, p->user.id, &sp, &x, &e)) {
			/* the creator's open sessions subscribe to it and hear about it */
			publish("COMMUNITY_CREATE", EV_COMMUNITY, x.id, 0, p->user.id, EV_RELOAD_MEMBER,
				community_json(&x, false));
			http_json(r, 201, community_json(&x, true));
			community_clear(&x);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void my_communities(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	community_t *items;
	int n;
	err_t e;
	if (!communities_mine(c, p->user.id, &items, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, community_json(&items[i], true));
	communities_free(items, n);
	http_json(r, 200, json_pack("{s:o}", "items", arr));
}

static void discover(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int limit;
	int64_t cursor, next;
	db_conn_t *c;
	if (!p || !api_page_params(r, 20, 50, &limit, &cursor))
		return;
	const char *q = http_query(r, "q");
	if (q && jx_utf8_len(q) > COMMUNITY_NAME_MAX) {
		http_error(r, ERR_INVALID, "too_long", "q", "q must be at most 100 characters");
		return;
	}
	if (!(c = api_conn(r)))
		return;
	community_t *items;
	int n;
	err_t e;
	if (!communities_discover(c, p->user.id, q, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, community_json(&items[i], true));
	communities_free(items, n);
	send_page(r, arr, next);
}

static void get_community(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	community_t x;
	err_t e;
	if (!community_get(c, id, p->user.id, &x, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *j = community_json(&x, true);
	if (x.joined) {
		channel_t *chs;
		role_t *roles;
		int nch, nr;
		if (!channels_list(c, id, p->user.id, &chs, &nch, &e)) {
			json_decref(j);
			community_clear(&x);
			http_problem(r, &e);
			return;
		}
		if (!roles_list(c, id, p->user.id, &roles, &nr, &e)) {
			channels_free(chs, nch);
			json_decref(j);
			community_clear(&x);
			http_problem(r, &e);
			return;
		}
		json_t *a = json_array(), *b = json_array();
		for (int i = 0; i < nch; i++)
			json_array_append_new(a, channel_json(&chs[i], true));
		for (int i = 0; i < nr; i++)
			json_array_append_new(b, role_json(&roles[i]));
		json_object_set_new(j, "channels", a);
		json_object_set_new(j, "roles", b);
		channels_free(chs, nch);
		roles_free(roles, nr);
		/* my own member record (roles, nick): what the app ranks me by, whatever the size of the
		 * member list it has loaded */
		member_t m;
		if (member_get(c, id, p->user.id, &m, &e)) {
			json_object_set_new(json_object_get(j, "me"), "member",
					    member_json(&m, presence_get(p->user.id)));
			member_clear(&m);
		}
	}
	community_clear(&x);
	http_json(r, 200, j);
}

static void patch_community(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"name", JX_STRING, .min = COMMUNITY_NAME_MIN, .max = COMMUNITY_NAME_MAX},
	    {"description", JX_STRING, .nullable = true, .max = COMMUNITY_DESC_MAX},
	    {"icon", JX_STRING, .nullable = true, .max = COMMUNITY_ICON_MAX},
	    {"public", JX_BOOL},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	if (!p || !community_param(r, &id))
		return;
	json_t *in = api_parse_body(r, fields);
	db_conn_t *c;
	if (!in)
		return;
	if ((c = api_conn(r))) {
		community_spec_t sp = {.name = jx_str(in, "name"),
				       .description = jx_str(in, "description"),
				       .icon = jx_str(in, "icon"),
				       .is_public = jx_bool(in, "public", false),
				       .set_name = jx_has(in, "name"),
				       .set_description = jx_has(in, "description"),
				       .set_icon = jx_has(in, "icon"),
				       .set_public = jx_has(in, "public")};
		community_t x;
		err_t e;
		if (community_update(c, id, p->user.id, &sp, &x, &e)) {
			http_json(r, 200, community_json(&x, true));
			publish("COMMUNITY_UPDATE", EV_COMMUNITY, id, 0, 0, 0, community_json(&x, false));
			community_clear(&x);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void delete_community(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	err_t e;
	if (community_delete(c, id, p->user.id, &e)) {
		http_no_content(r);
		publish("COMMUNITY_DELETE", EV_COMMUNITY, id, 0, 0, EV_RELOAD_RULES,
			json_pack("{s:o}", "id", jx_id(id)));
	} else
		http_problem(r, &e);
}

static void join(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	community_t x;
	bool joined;
	err_t e;
	if (!community_join(c, id, p->user.id, &x, &joined, &e)) {
		http_problem(r, &e);
		return;
	}
	http_json(r, 200, community_json(&x, true));
	community_clear(&x);
	if (joined)
		publish_member(c, "MEMBER_JOIN", id, p->user.id);
}

static void leave(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	err_t e;
	if (community_leave(c, id, p->user.id, &e)) {
		http_no_content(r);
		publish_leave(id, p->user.id);
	} else
		http_problem(r, &e);
}

static void audit_log(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, cursor, next;
	int limit;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !api_page_params(r, 50, 100, &limit, &cursor) ||
	    !(c = api_conn(r)))
		return;
	audit_t *items;
	int n;
	err_t e;
	if (!community_audit_list(c, id, p->user.id, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, audit_json(&items[i]));
	audits_free(items, n);
	send_page(r, arr, next);
}

/* ==== channels ==== */

static void list_channels(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	channel_t *items;
	int n;
	err_t e;
	if (!channels_list(c, id, p->user.id, &items, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, channel_json(&items[i], true));
	channels_free(items, n);
	http_json(r, 200, json_pack("{s:o}", "items", arr));
}

static void channel_spec_from(json_t *in, channel_spec_t *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->name = jx_str(in, "name");
	sp->set_name = jx_has(in, "name");
	sp->type = jx_str(in, "type");
	sp->category = jx_str(in, "category");
	sp->set_category = jx_has(in, "category");
	sp->topic = jx_str(in, "topic");
	sp->set_topic = jx_has(in, "topic");
	sp->set_position = jx_has(in, "position");
	sp->position = (int)jx_int(in, "position", 0);
}

/* POST /communities/{id}/channels and PATCH /channels/{id}: one shape, as for roles. */
static void channel_write(http_req_t *r, bool create)
{
	static const jx_field_t create_fields[] = {
	    {"name", JX_STRING, .required = true, .min = 1, .max = CHANNEL_NAME_MAX},
	    {"type", JX_STRING, .max = 16},
	    {"category", JX_STRING, .nullable = true, .max = CHANNEL_CATEGORY_MAX},
	    {"topic", JX_STRING, .nullable = true, .max = CHANNEL_TOPIC_MAX},
	    {"position", JX_INT, .min = 0, .max = 1000000},
	    {0},
	};
	static const jx_field_t patch_fields[] = {
	    {"name", JX_STRING, .min = 1, .max = CHANNEL_NAME_MAX},
	    {"category", JX_STRING, .nullable = true, .max = CHANNEL_CATEGORY_MAX},
	    {"topic", JX_STRING, .nullable = true, .max = CHANNEL_TOPIC_MAX},
	    {"position", JX_INT, .min = 0, .max = 1000000},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	if (!p || !(create ? community_param(r, &id) : channel_param(r, &id)))
		return;
	json_t *in = api_parse_body(r, create ? create_fields : patch_fields);
	db_conn_t *c;
	if (!in)
		return;
	if ((c = api_conn(r))) {
		channel_spec_t sp;
		channel_spec_from(in, &sp);
		channel_t ch;
		err_t e;
		if (create ? channel_create(c, id, p->user.id, &sp, &ch, &e)
			   : channel_update(c, id, p->user.id, &sp, &ch, &e)) {
			http_json(r, create ? 201 : 200, channel_json(&ch, true));
			publish_channel(create ? "CHANNEL_CREATE" : "CHANNEL_UPDATE", &ch);
			channel_clear(&ch);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void create_channel(http_req_t *r)
{
	channel_write(r, true);
}

static void patch_channel(http_req_t *r)
{
	channel_write(r, false);
}

static void delete_channel(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, cid = 0;
	db_conn_t *c;
	if (!p || !channel_param(r, &id) || !(c = api_conn(r)))
		return;
	err_t e;
	if (channel_delete(c, id, p->user.id, &cid, &e)) {
		http_no_content(r);
		publish("CHANNEL_DELETE", EV_COMMUNITY, cid, 0, 0, EV_RELOAD_RULES,
			json_pack("{s:o, s:o}", "id", jx_id(id), "community_id", jx_id(cid)));
	} else
		http_problem(r, &e);
}

static void overwrite(http_req_t *r, bool remove)
{
	static const jx_field_t fields[] = {
	    {"allow", JX_STRING, .max = 20},
	    {"deny", JX_STRING, .max = 20},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id, target;
	if (!p || !channel_param(r, &id))
		return;
	const char *type = http_param(r, "type");
	bool is_member = type && strcmp(type, "member") == 0;
	if (!type || (!is_member && strcmp(type, "role") != 0)) {
		http_error(r, ERR_NOT_FOUND, "not_found", NULL, "overwrites are for a role or a member");
		return;
	}
	if (!path_id(r, "target_id", is_member ? "member_not_found" : "role_not_found",
		     is_member ? "member" : "role", &target))
		return;
	perm_t allow = 0, deny = 0;
	json_t *in = NULL;
	if (!remove) {
		if (!(in = optional_body(r, fields)))
			return;
		if (!parse_perms(r, in, "allow", &allow, NULL) || !parse_perms(r, in, "deny", &deny, NULL)) {
			json_decref(in);
			return;
		}
		json_decref(in);
	}
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	channel_t ch;
	err_t e;
	if (!channel_overwrite(c, id, p->user.id, type, target, remove, allow, deny, &ch, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	publish_channel("CHANNEL_UPDATE", &ch);
	channel_clear(&ch);
}

static void put_overwrite(http_req_t *r)
{
	overwrite(r, false);
}

static void delete_overwrite(http_req_t *r)
{
	overwrite(r, true);
}

/* ==== roles ==== */

static void list_roles(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	role_t *items;
	int n;
	err_t e;
	if (!roles_list(c, id, p->user.id, &items, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, role_json(&items[i]));
	roles_free(items, n);
	http_json(r, 200, json_pack("{s:o}", "items", arr));
}

static const jx_field_t role_fields_create[] = {
    {"name", JX_STRING, .required = true, .min = 1, .max = ROLE_NAME_MAX},
    {"color", JX_INT, .min = 0, .max = ROLE_COLOR_MAX},
    {"permissions", JX_STRING, .max = 20},
    {"position", JX_INT, .min = 1, .max = 1000000},
    {0},
};

static const jx_field_t role_fields_update[] = {
    {"name", JX_STRING, .min = 1, .max = ROLE_NAME_MAX},
    {"color", JX_INT, .min = 0, .max = ROLE_COLOR_MAX},
    {"permissions", JX_STRING, .max = 20},
    {"position", JX_INT, .min = 1, .max = 1000000},
    {0},
};

static bool role_spec_from(http_req_t *r, json_t *in, role_spec_t *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->name = jx_str(in, "name");
	sp->set_name = jx_has(in, "name");
	sp->set_color = jx_has(in, "color");
	sp->color = (int)jx_int(in, "color", 0);
	sp->set_position = jx_has(in, "position");
	sp->position = (int)jx_int(in, "position", 1);
	return parse_perms(r, in, "permissions", &sp->permissions, &sp->set_permissions);
}

static void role_write(http_req_t *r, bool create)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, role_id = 0;
	if (!p || !community_param(r, &id) ||
	    (!create && !path_id(r, "role_id", "role_not_found", "role", &role_id)))
		return;
	json_t *in = api_parse_body(r, create ? role_fields_create : role_fields_update);
	if (!in)
		return;
	role_spec_t sp;
	db_conn_t *c;
	if (role_spec_from(r, in, &sp) && (c = api_conn(r))) {
		role_t x;
		err_t e;
		bool ok = create ? role_create(c, id, p->user.id, &sp, &x, &e)
				 : role_update(c, id, role_id, p->user.id, &sp, &x, &e);
		if (ok) {
			http_json(r, create ? 201 : 200, role_json(&x));
			publish(create ? "ROLE_CREATE" : "ROLE_UPDATE", EV_COMMUNITY, id, 0, 0,
				EV_RELOAD_RULES, role_json(&x));
			role_clear(&x);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void create_role(http_req_t *r)
{
	role_write(r, true);
}

static void patch_role(http_req_t *r)
{
	role_write(r, false);
}

static void delete_role(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, role_id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !path_id(r, "role_id", "role_not_found", "role", &role_id) ||
	    !(c = api_conn(r)))
		return;
	err_t e;
	if (role_delete(c, id, role_id, p->user.id, &e)) {
		http_no_content(r);
		publish("ROLE_DELETE", EV_COMMUNITY, id, 0, 0, EV_RELOAD_RULES,
			json_pack("{s:o, s:o}", "id", jx_id(role_id), "community_id", jx_id(id)));
	} else
		http_problem(r, &e);
}

static void member_role(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, uid, role_id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !path_id(r, "user_id", "member_not_found", "member", &uid) ||
	    !path_id(r, "role_id", "role_not_found", "role", &role_id) || !(c = api_conn(r)))
		return;
	bool changed;
	err_t e;
	if (!member_role_set(c, id, uid, role_id, p->user.id, on, &changed, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	if (changed)
		publish_member(c, "MEMBER_UPDATE", id, uid);
}

static void put_member_role(http_req_t *r)
{
	member_role(r, true);
}

static void delete_member_role(http_req_t *r)
{
	member_role(r, false);
}

/* ==== members, bans ==== */

static void list_members(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, cursor, next;
	int limit;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !api_page_params(r, 50, 100, &limit, &cursor) ||
	    !(c = api_conn(r)))
		return;
	member_t *items;
	int n;
	err_t e;
	if (!members_list(c, id, p->user.id, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	int64_t *uids = xcalloc((size_t)n + 1, sizeof(*uids));
	presence_t *pr = xcalloc((size_t)n + 1, sizeof(*pr));
	for (int i = 0; i < n; i++)
		uids[i] = items[i].user.id;
	if (n > 0)
		presence_get_many(uids, n, pr);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, member_json(&items[i], pr[i]));
	free(uids);
	free(pr);
	members_free(items, n);
	send_page(r, arr, next);
}

static void kick(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, uid;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !path_id(r, "user_id", "member_not_found", "member", &uid) ||
	    !(c = api_conn(r)))
		return;
	err_t e;
	if (member_kick(c, id, uid, p->user.id, &e)) {
		http_no_content(r);
		publish_leave(id, uid);
	} else
		http_problem(r, &e);
}

static void ban(http_req_t *r)
{
	static const jx_field_t fields[] = {{"reason", JX_STRING, .nullable = true, .max = BAN_REASON_MAX},
					    {0}};
	const auth_principal_t *p = api_principal(r);
	int64_t id, uid;
	if (!p || !community_param(r, &id) || !path_id(r, "user_id", "member_not_found", "member", &uid))
		return;
	json_t *in = optional_body(r, fields);
	db_conn_t *c;
	if (!in)
		return;
	if ((c = api_conn(r))) {
		bool was_member;
		err_t e;
		if (member_ban(c, id, uid, p->user.id, jx_str(in, "reason"), &was_member, &e)) {
			http_no_content(r);
			if (was_member)
				publish_leave(id, uid);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void unban(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, uid;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !path_id(r, "user_id", "member_not_found", "member", &uid) ||
	    !(c = api_conn(r)))
		return;
	err_t e;
	if (member_unban(c, id, uid, p->user.id, &e))
		http_no_content(r);
	else
		http_problem(r, &e);
}

static void list_bans(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !community_param(r, &id) || !(c = api_conn(r)))
		return;
	ban_t *items;
	int n;
	err_t e;
	if (!bans_list(c, id, p->user.id, &items, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:o, s:o, s:o, s:o}", "user", api_user_ref_json(&items[i].user),
				   "reason", opt_str(items[i].reason), "banned_by",
				   opt_id(items[i].banned_by), "created_at", jx_time(items[i].created_at)));
	bans_free(items, n);
	http_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* ==== invites ==== */

static void create_invite(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"max_uses", JX_INT, .min = 0, .max = INVITE_MAX_USES},
	    {"expires_in_s", JX_INT, .min = 0, .max = INVITE_MAX_AGE_S},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	char who[24];
	if (!p || !community_param(r, &id))
		return;
	user_key(p, who);
	if (!api_rate_limit(r, "invite_create", who, 20, 20))
		return;
	json_t *in = optional_body(r, fields);
	db_conn_t *c;
	if (!in)
		return;
	if ((c = api_conn(r))) {
		invite_t inv;
		err_t e;
		if (invite_create(c, id, p->user.id, (int)jx_int(in, "max_uses", 0),
				  jx_int(in, "expires_in_s", INVITE_DEFAULT_AGE_S), &inv, &e))
			http_json(r, 201, invite_json(&inv));
		else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void get_invite(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	invite_t inv;
	community_t x;
	err_t e;
	if (!invite_get(c, http_param(r, "code"), &inv, &x, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *com = json_pack("{s:o, s:s, s:s, s:o, s:I}", "id", jx_id(x.id), "name", x.name, "description",
				x.description ? x.description : "", "icon", opt_str(x.icon), "member_count",
				(json_int_t)x.member_count);
	community_clear(&x);
	http_json(r, 200, json_pack("{s:s, s:o}", "code", inv.code, "community", com));
}

static void accept_invite(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	community_t x;
	bool joined;
	err_t e;
	if (!invite_accept(c, http_param(r, "code"), p->user.id, &x, &joined, &e)) {
		http_problem(r, &e);
		return;
	}
	int64_t id = x.id;
	http_json(r, 200, community_json(&x, true));
	community_clear(&x);
	if (joined)
		publish_member(c, "MEMBER_JOIN", id, p->user.id);
}

void api_communities_routes(void)
{
	http_route(HTTP_GET, "/api/v2/communities", my_communities, 0);
	http_route(HTTP_POST, "/api/v2/communities", create_community, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/communities/discover", discover, 0);
	http_route(HTTP_GET, "/api/v2/communities/{id}", get_community, 0);
	http_route(HTTP_PATCH, "/api/v2/communities/{id}", patch_community, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/communities/{id}", delete_community, 0);
	http_route(HTTP_POST, "/api/v2/communities/{id}/join", join, 0);
	http_route(HTTP_POST, "/api/v2/communities/{id}/leave", leave, 0);
	http_route(HTTP_GET, "/api/v2/communities/{id}/audit-log", audit_log, 0);

	http_route(HTTP_GET, "/api/v2/communities/{id}/channels", list_channels, 0);
	http_route(HTTP_POST, "/api/v2/communities/{id}/channels", create_channel, HTTP_ROUTE_JSON);
	http_route(HTTP_PATCH, "/api/v2/channels/{id}", patch_channel, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/channels/{id}", delete_channel, 0);
	http_route(HTTP_PUT, "/api/v2/channels/{id}/overwrites/{type}/{target_id}", put_overwrite,
		   HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/channels/{id}/overwrites/{type}/{target_id}", delete_overwrite, 0);

	http_route(HTTP_GET, "/api/v2/communities/{id}/members", list_members, 0);
	http_route(HTTP_DELETE, "/api/v2/communities/{id}/members/{user_id}", kick, 0);
	http_route(HTTP_PUT, "/api/v2/communities/{id}/members/{user_id}/roles/{role_id}", put_member_role,
		   0);
	http_route(HTTP_DELETE, "/api/v2/communities/{id}/members/{user_id}/roles/{role_id}",
		   delete_member_role, 0);
	http_route(HTTP_GET, "/api/v2/communities/{id}/bans", list_bans, 0);
	http_route(HTTP_PUT, "/api/v2/communities/{id}/bans/{user_id}", ban, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/communities/{id}/bans/{user_id}", unban, 0);
	http_route(HTTP_POST, "/api/v2/communities/{id}/invites", create_invite, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/invites/{code}", get_invite, 0);
	http_route(HTTP_POST, "/api/v2/invites/{code}/accept", accept_invite, 0);

	http_route(HTTP_GET, "/api/v2/communities/{id}/roles", list_roles, 0);
	http_route(HTTP_POST, "/api/v2/communities/{id}/roles", create_role, HTTP_ROUTE_JSON);
	http_route(HTTP_PATCH, "/api/v2/communities/{id}/roles/{role_id}", patch_role, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/communities/{id}/roles/{role_id}", delete_role, 0);
}
