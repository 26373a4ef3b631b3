/*
 * messages_api.c — the messages of community channels: send, list, edit,
 * delete, reactions, pins and read state. The contract is
 * docs/communities-api.md ("Messages"); the rules live in
 * src/communities/messages.c. Every committed change is then published to
 * the gateway (docs/gateway.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/social_json.h"
#include "communities/messages.h"
#include "gateway/events.h"

/* ==== rendering ==== */

/* The message object of the contract. with_me: reactions' `me` is the viewer's; otherwise
 * (gateway events, seen by everyone) it is false. */
static json_t *message_json(const message_t *m, bool with_me)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(m->id));
	json_object_set_new(j, "channel_id", jx_id(m->channel_id));
	json_object_set_new(j, "community_id", jx_id(m->community_id));
	json_object_set_new(j, "author", m->author_id ? api_user_ref_json(&m->author) : json_null());
	json_object_set_new(j, "content", json_string(m->content));
	json_t *reply = json_null();
	if (m->reply_id)
		reply = json_pack("{s:o, s:o, s:s}", "id", jx_id(m->reply_id), "author_username",
				  m->reply_author ? json_string(m->reply_author) : json_null(), "content",
				  m->reply_content ? m->reply_content : "");
	json_object_set_new(j, "reply_to", reply);
	json_object_set_new(j, "clip",
			    m->clip_ready ? api_clip_json(m->clip_id, m->clip_duration_ms, m->clip_width,
							  m->clip_height, m->clip_has_thumb)
					  : json_null());
	json_t *mentions = m->mentions ? json_loads(m->mentions, 0, NULL) : NULL;
	json_object_set_new(j, "mentions", json_is_array(mentions) ? mentions : json_array());
	if (mentions && !json_is_array(mentions))
		json_decref(mentions);
	json_object_set_new(j, "mention_everyone", json_boolean(m->mention_everyone));
	json_object_set_new(j, "pinned", json_boolean(m->pinned));
	json_object_set_new(j, "edited_at", m->edited_at ? jx_time(m->edited_at) : json_null());
	json_object_set_new(j, "created_at", jx_time(m->created_at));
	json_t *reactions = json_array();
	for (int i = 0; i < m->nreactions; i++)
		json_array_append_new(reactions, json_pack("{s:s, s:I, s:b}", "emoji", m->reactions[i].emoji,
							   "count", (json_int_t)m->reactions[i].count, "me",
							   with_me && m->reactions[i].me));
	json_object_set_new(j, "reactions", reactions);
	return j;
}

static json_t *messages_json(const message_t *items, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, message_json(&items[i], true));
	return arr;
}

static void publish(const char *type, int64_t community_id, int64_t channel_id, json_t *d)
{
	event_t ev = {
	    .type = type, .scope = EV_CHANNEL, .community_id = community_id, .channel_id = channel_id};
	events_publish(&ev, d);
}

static void publish_message(const char *type, const message_t *m)
{
	publish(type, m->community_id, m->channel_id, message_json(m, false));
}

/* ==== helpers ==== */

static bool channel_id(http_req_t *r, int64_t *id)
{
	if (id_parse(http_param(r, "id"), id))
		return true;
	http_error(r, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
	return false;
}

static bool message_id(http_req_t *r, int64_t *id)
{
	if (id_parse(http_param(r, "id"), id))
		return true;
	http_error(r, ERR_NOT_FOUND, "message_not_found", NULL, "no such message");
	return false;
}

/* An optional id field of a body: 0 when absent or null; false after answering 422. */
static bool body_id(http_req_t *r, json_t *in, const char *field, const char *code, const char *detail,
		    int64_t *out)
{
	*out = 0;
	const char *s = jx_str(in, field);
	if (!s || id_parse(s, out))
		return true;
	http_error(r, ERR_INVALID, code, field, detail);
	return false;
}

/* ==== messages ==== */

static void create_message(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"content", JX_STRING, .required = true},
	    {"reply_to", JX_STRING, .nullable = true, .max = 24},
	    {"clip_id", JX_STRING, .nullable = true, .max = 24},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t ch;
	if (!p || !channel_id(r, &ch))
		return;
	char who[48];
	snprintf(who, sizeof(who), "%lld:%lld", (long long)p->user.id, (long long)ch);
	/* 5 messages per 5 s per user per channel: bursts of 5, then one a second */
	if (!api_rate_limit(r, "message", who, 60, 5))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	message_spec_t sp = {.content = jx_str(in, "content")};
	db_conn_t *c;
	if (body_id(r, in, "reply_to", "invalid_reply_to", "reply_to is not a message of this channel",
		    &sp.reply_to) &&
	    body_id(r, in, "clip_id", "invalid_clip", "clip_id is not a ready clip of yours", &sp.clip_id) &&
	    (c = api_conn(r))) {
		message_t m;
		err_t e;
		if (messages_create(c, ch, p->user.id, &sp, &m, &e)) {
			http_json(r, 201, message_json(&m, true));
			publish_message("MESSAGE_CREATE", &m);
			message_clear(&m);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

/* ?before= | ?after= | ?around= (at most one) and ?limit=1..100. */
static bool list_params(http_req_t *r, msg_dir_t *dir, int64_t *anchor, int *limit)
{
	static const struct {
		const char *name;
		msg_dir_t dir;
	} dirs[] = {{"before", MSG_BEFORE}, {"after", MSG_AFTER}, {"around", MSG_AROUND}};
	*dir = MSG_LATEST;
	*anchor = 0;
	int given = 0;
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		const char *v = http_query(r, dirs[i].name);
		if (!v)
			continue;
		if (++given > 1) {
			http_error(r, ERR_BAD_REQUEST, "invalid_query", dirs[i].name,
				   "use only one of before, after and around");
			return false;
		}
		if (!id_parse(v, anchor)) {
			char d[64];
			snprintf(d, sizeof(d), "%s must be a message id", dirs[i].name);
			http_error(r, ERR_INVALID, "invalid_cursor", dirs[i].name, d);
			return false;
		}
		*dir = dirs[i].dir;
	}
	const char *l = http_query(r, "limit");
	int64_t v = MESSAGE_PAGE_DEFAULT;
	if (l && (!parse_i64(l, &v) || v < 1 || v > MESSAGE_PAGE_MAX)) {
		char d[64];
		snprintf(d, sizeof(d), "limit must be an integer from 1 to %d", MESSAGE_PAGE_MAX);
		http_error(r, ERR_INVALID, "invalid_limit", "limit", d);
		return false;
	}
	*limit = (int)v;
	return true;
}

static void list_messages(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t ch, anchor;
	msg_dir_t dir;
	int limit;
	db_conn_t *c;
	if (!p || !channel_id(r, &ch) || !list_params(r, &dir, &anchor, &limit) || !(c = api_conn(r)))
		return;
	message_t *items;
	int n;
	bool more;
	err_t e;
	if (!messages_list(c, ch, p->user.id, dir, anchor, limit, &items, &n, &more, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = messages_json(items, n);
	messages_free(items, n);
	http_json(r, 200, json_pack("{s:o, s:b}", "items", arr, "has_more", more));
}

static void edit_message(http_req_t *r)
{
	static const jx_field_t fields[] = {{"content", JX_STRING, .required = true}, {0}};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	if (!p || !message_id(r, &id))
		return;
	char who[24];
	snprintf(who, sizeof(who), "%lld", (long long)p->user.id);
	/* every edit goes out to everyone in the channel: 20 at once, then 2 a second */
	if (!api_rate_limit(r, "message_edit", who, 120, 20))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	if (c) {
		message_t m;
		err_t e;
		if (messages_edit(c, id, p->user.id, jx_str(in, "content"), &m, &e)) {
			http_json(r, 200, message_json(&m, true));
			publish_message("MESSAGE_UPDATE", &m);
			message_clear(&m);
		} else
			http_problem(r, &e);
	}
	json_decref(in);
}

static void delete_message(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, ch, community;
	db_conn_t *c;
	if (!p || !message_id(r, &id) || !(c = api_conn(r)))
		return;
	err_t e;
	if (!messages_delete(c, id, p->user.id, &ch, &community, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	publish("MESSAGE_DELETE", community, ch,
		json_pack("{s:o, s:o, s:o}", "id", jx_id(id), "channel_id", jx_id(ch), "community_id",
			  jx_id(community)));
}

/* ==== reactions ==== */

static void react(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, ch, community;
	db_conn_t *c;
	if (!p || !message_id(r, &id))
		return;
	char who[24];
	snprintf(who, sizeof(who), "%lld", (long long)p->user.id);
	if (!api_rate_limit(r, "reaction", who, 300, 60) || !(c = api_conn(r)))
		return;
	/* the path segment arrives percent-decoded */
	const char *emoji = http_param(r, "emoji");
	bool changed;
	err_t e;
	if (!messages_react(c, id, p->user.id, emoji, on, &changed, &ch, &community, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	if (changed)
		publish(on ? "REACTION_ADD" : "REACTION_REMOVE", community, ch,
			json_pack("{s:o, s:o, s:o, s:o, s:s}", "message_id", jx_id(id), "channel_id",
				  jx_id(ch), "community_id", jx_id(community), "user_id", jx_id(p->user.id),
				  "emoji", emoji));
}

static void react_put(http_req_t *r)
{
	react(r, true);
}

static void react_delete(http_req_t *r)
{
	react(r, false);
}

/* ==== pins ==== */

static void pin(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !message_id(r, &id) || !(c = api_conn(r)))
		return;
	message_t m;
	bool changed;
	err_t e;
	if (!messages_pin(c, id, p->user.id, on, &changed, &m, &e)) {
		http_problem(r, &e);
		return;
	}
	http_no_content(r);
	if (changed)
		publish_message("MESSAGE_UPDATE", &m);
	message_clear(&m);
}

static void pin_put(http_req_t *r)
{
	pin(r, true);
}

static void pin_delete(http_req_t *r)
{
	pin(r, false);
}

static void list_pins(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t ch;
	db_conn_t *c;
	if (!p || !channel_id(r, &ch) || !(c = api_conn(r)))
		return;
	message_t *items;
	int n;
	err_t e;
	if (!messages_pins(c, ch, p->user.id, &items, &n, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = messages_json(items, n);
	messages_free(items, n);
	http_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* ==== read state ==== */

static void ack(http_req_t *r)
{
	static const jx_field_t fields[] = {{"message_id", JX_STRING, .required = true, .max = 24}, {0}};
	const auth_principal_t *p = api_principal(r);
	int64_t ch;
	if (!p || !channel_id(r, &ch))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	int64_t mid;
	db_conn_t *c;
	if (body_id(r, in, "message_id", "invalid_message_id", "message_id is not a message of this channel",
		    &mid) &&
	    (c = api_conn(r))) {
		err_t e;
		if (messages_ack(c, ch, p->user.id, mid, &e))
			http_no_content(r);
		else
			http_problem(r, &e);
	}
	json_decref(in);
}

void api_messages_routes(void)
{
	http_route(HTTP_POST, "/api/v2/channels/{id}/messages", create_message, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/channels/{id}/messages", list_messages, 0);
	http_route(HTTP_GET, "/api/v2/channels/{id}/pins", list_pins, 0);
	http_route(HTTP_POST, "/api/v2/channels/{id}/ack", ack, HTTP_ROUTE_JSON);
	http_route(HTTP_PATCH, "/api/v2/messages/{id}", edit_message, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/messages/{id}", delete_message, 0);
	http_route(HTTP_PUT, "/api/v2/messages/{id}/reactions/{emoji}", react_put, 0);
	http_route(HTTP_DELETE, "/api/v2/messages/{id}/reactions/{emoji}", react_delete, 0);
	http_route(HTTP_PUT, "/api/v2/messages/{id}/pin", pin_put, 0);
	http_route(HTTP_DELETE, "/api/v2/messages/{id}/pin", pin_delete, 0);
}
