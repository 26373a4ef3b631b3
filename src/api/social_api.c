/*
 * social_api.c — posts, likes, comments, shares, views, hides, follows,
 * blocks, profiles' social side, avatars and notifications. The contract is
 * docs/social-api.md; the rules live in src/social.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "social/feed.h"
#include "api/social_json.h"
#include "core/config.h"
#include "social/social.h"

/* ==== rendering ==== */

json_t *api_user_ref_json(const user_ref_t *u)
{
	char avatar[96];
	snprintf(avatar, sizeof(avatar), "/api/v2/users/%s/avatar.svg", u->username);
	return json_pack("{s:o, s:s, s:o, s:s}", "id", jx_id(u->id), "username", u->username, "display_name",
			 u->display_name ? json_string(u->display_name) : json_null(), "avatar_url", avatar);
}

static json_t *reasons_json(const post_t *p, uint32_t r)
{
	json_t *a = json_array();
	char s[256];
	const char *game = p->game ? p->game : "this game";
	if (r & REASON_FOLLOW) {
		snprintf(s, sizeof(s), "You follow @%s", p->author.username);
		json_array_append_new(a, json_string(s));
	}
	if (r & REASON_TREND_GAME) {
		snprintf(s, sizeof(s), "Trending in %s", game);
		json_array_append_new(a, json_string(s));
	} else if (r & REASON_TREND)
		json_array_append_new(a, json_string("Trending now"));
	if (r & REASON_FAV_GAME) {
		snprintf(s, sizeof(s), "%s is one of your favourite games", game);
		json_array_append_new(a, json_string(s));
	} else if (r & REASON_GAME_AFFINITY) {
		snprintf(s, sizeof(s), "You watch a lot of %s", game);
		json_array_append_new(a, json_string(s));
	}
	if (r & REASON_CREATOR_AFFINITY) {
		snprintf(s, sizeof(s), "You liked posts by @%s before", p->author.username);
		json_array_append_new(a, json_string(s));
	}
	if (r & REASON_NEW_CREATOR)
		json_array_append_new(a, json_string("New creator"));
	if (json_array_size(a) == 0 ||
	    (r & REASON_FRESH && !(r & REASON_NEW_CREATOR) && json_array_size(a) < 2))
		json_array_append_new(a, json_string("Recently posted"));
	return a;
}

/* reasons: UINT32_MAX for "not in For you" (no reasons field). */
static json_t *post_json(const post_t *p, uint32_t reasons)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(p->id));
	json_object_set_new(j, "title", json_string(p->title));
	json_object_set_new(j, "description", p->description ? json_string(p->description) : json_null());
	json_object_set_new(j, "game", p->game ? json_string(p->game) : json_null());
	json_t *tags = json_loads(p->tags, 0, NULL);
	json_object_set_new(j, "tags", json_is_array(tags) ? tags : json_array());
	if (tags && !json_is_array(tags))
		json_decref(tags);
	json_object_set_new(j, "visibility", json_string(p->visibility));
	json_object_set_new(j, "created_at", jx_time(p->created_at));
	json_object_set_new(j, "updated_at", jx_time(p->updated_at));
	json_object_set_new(j, "author", api_user_ref_json(&p->author));
	if (p->clip_ready) {
		char path[80];
		json_t *k = json_object();
		json_object_set_new(k, "id", jx_id(p->clip_id));
		json_object_set_new(k, "duration_s", json_real((double)p->clip_duration_ms / 1000.0));
		json_object_set_new(k, "width", json_integer(p->clip_width));
		json_object_set_new(k, "height", json_integer(p->clip_height));
		snprintf(path, sizeof(path), "/api/v2/clips/%lld/thumbnail", (long long)p->clip_id);
		json_object_set_new(k, "thumbnail_url",
				    p->clip_has_thumb ? api_signed_url(path) : json_null());
		snprintf(path, sizeof(path), "/api/v2/clips/%lld/file", (long long)p->clip_id);
		json_object_set_new(k, "playback_url", api_signed_url(path));
		json_object_set_new(j, "clip", k);
	} else
		json_object_set_new(j, "clip", json_null());
	json_object_set_new(j, "like_count", json_integer(p->like_count));
	json_object_set_new(j, "comment_count", json_integer(p->comment_count));
	json_object_set_new(j, "share_count", json_integer(p->share_count));
	json_object_set_new(j, "view_count", json_integer(p->view_count));
	json_object_set_new(j, "liked_by_me", json_boolean(p->liked_by_me));
	if (reasons != UINT32_MAX)
		json_object_set_new(j, "reasons", reasons_json(p, reasons));
	return j;
}

json_t *api_posts_page_json(post_t *items, int n, const uint32_t *reasons, json_t *next)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, post_json(&items[i], reasons ? reasons[i] : UINT32_MAX));
	return json_pack("{s:o, s:o}", "items", arr, "next_cursor", next);
}

static json_t *comment_json(const comment_t *cm, const comment_t *replies, int nreplies, bool top)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", jx_id(cm->id));
	json_object_set_new(j, "post_id", jx_id(cm->post_id));
	json_object_set_new(j, "author", api_user_ref_json(&cm->author));
	json_object_set_new(j, "body", json_string(cm->body));
	json_object_set_new(j, "reply_to", cm->reply_to ? jx_id(cm->reply_to) : json_null());
	json_object_set_new(j, "at_s", cm->at_ms >= 0 ? json_real((double)cm->at_ms / 1000.0) : json_null());
	json_object_set_new(j, "created_at", jx_time(cm->created_at));
	if (top) {
		json_t *arr = json_array();
		for (int i = 0; i < nreplies; i++)
			if (replies[i].reply_to == cm->id)
				json_array_append_new(arr, comment_json(&replies[i], NULL, 0, false));
		json_object_set_new(j, "reply_count", json_integer(cm->reply_count));
		json_object_set_new(j, "replies", arr);
	}
	return j;
}

/* ==== helpers ==== */

const auth_principal_t *api_viewer(http_req_t *r, bool *failed)
{
	*failed = false;
	if (!http_header(r, "Authorization"))
		return NULL;
	const auth_principal_t *p = api_principal(r);
	*failed = p == NULL;
	return p;
}

static bool post_id(http_req_t *r, int64_t *id)
{
	if (id_parse(http_param(r, "id"), id))
		return true;
	http_error(r, ERR_NOT_FOUND, "post_not_found", NULL, "no such post");
	return false;
}

static bool engagement_limit(http_req_t *r, const auth_principal_t *p)
{
	char who[24];
	snprintf(who, sizeof(who), "%lld", (long long)p->user.id);
	return api_rate_limit(r, "engage", who, 300, 60);
}

static bool spec_from(json_t *in, post_spec_t *sp, char **tags, http_req_t *r)
{
	err_t e;
	memset(sp, 0, sizeof(*sp));
	*tags = NULL;
	sp->title = jx_str(in, "title");
	sp->set_title = jx_has(in, "title");
	sp->description = jx_str(in, "description");
	sp->set_description = jx_has(in, "description");
	sp->game = jx_str(in, "game");
	sp->set_game = jx_has(in, "game");
	sp->visibility = jx_str(in, "visibility");
	sp->set_visibility = jx_has(in, "visibility");
	json_t *t = json_object_get(in, "tags");
	if (t && !json_is_null(t)) {
		if (!social_tags_json(t, tags, &e)) {
			http_problem(r, &e);
			return false;
		}
		sp->tags_json = *tags;
		sp->set_tags = true;
	} else if (t) {
		sp->set_tags = true; /* null clears */
	}
	if (sp->set_title && !sp->title) {
		http_error(r, ERR_INVALID, "invalid_title", "title", "title must not be null");
		return false;
	}
	if (sp->set_visibility && !sp->visibility) {
		http_error(r, ERR_INVALID, "invalid_visibility", "visibility",
			   "visibility must be public, followers or private");
		return false;
	}
	return true;
}

/* ==== posts ==== */

static void create_post(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"clip_id", JX_STRING, .required = true, .max = 24},
	    {"title", JX_STRING, .required = true, .min = 1, .max = POST_TITLE_MAX},
	    {"description", JX_STRING, .nullable = true, .max = POST_DESC_MAX},
	    {"game", JX_STRING, .nullable = true, .max = POST_GAME_MAX},
	    {"tags", JX_ARRAY, .nullable = true},
	    {"visibility", JX_STRING, .max = 16},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	if (!p || !engagement_limit(r, p))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	post_spec_t sp;
	char *tags = NULL;
	db_conn_t *c;
	post_t out;
	err_t e;
	if (!spec_from(in, &sp, &tags, r))
		goto done;
	if (!id_parse(jx_str(in, "clip_id"), &sp.clip_id)) {
		http_error(r, ERR_NOT_FOUND, "clip_not_found", "clip_id", "no such clip");
		goto done;
	}
	if (!(c = api_conn(r)))
		goto done;
	if (posts_create(c, p->user.id, &sp, &out, &e)) {
		http_json(r, 201, post_json(&out, UINT32_MAX));
		post_clear(&out);
	} else
		http_problem(r, &e);
done:
	free(tags);
	json_decref(in);
}

static void get_post(http_req_t *r)
{
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	int64_t id;
	db_conn_t *c;
	if (failed || !post_id(r, &id) || !(c = api_conn(r)))
		return;
	post_t out;
	err_t e;
	if (posts_get(c, id, p ? p->user.id : 0, &out, &e)) {
		http_json(r, 200, post_json(&out, UINT32_MAX));
		post_clear(&out);
	} else
		http_problem(r, &e);
}

static void patch_post(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"title", JX_STRING, .min = 1, .max = POST_TITLE_MAX},
	    {"description", JX_STRING, .nullable = true, .max = POST_DESC_MAX},
	    {"game", JX_STRING, .nullable = true, .max = POST_GAME_MAX},
	    {"tags", JX_ARRAY, .nullable = true},
	    {"visibility", JX_STRING, .max = 16},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	if (!p || !post_id(r, &id))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	post_spec_t sp;
	char *tags = NULL;
	db_conn_t *c;
	post_t out;
	err_t e;
	if (spec_from(in, &sp, &tags, r) && (c = api_conn(r))) {
		if (posts_update(c, id, p->user.id, &sp, &out, &e)) {
			http_json(r, 200, post_json(&out, UINT32_MAX));
			post_clear(&out);
		} else
			http_problem(r, &e);
	}
	free(tags);
	json_decref(in);
}

static void delete_post(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !post_id(r, &id) || !(c = api_conn(r)))
		return;
	err_t e;
	if (posts_delete(c, id, p->user.id, users_role_rank(p->user.role), &e))
		http_no_content(r);
	else
		http_problem(r, &e);
}

static void like(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, count = 0;
	db_conn_t *c;
	if (!p || !post_id(r, &id) || !engagement_limit(r, p) || !(c = api_conn(r)))
		return;
	bool liked;
	err_t e;
	if (social_like(c, id, p->user.id, on, &liked, &count, &e))
		http_json(r, 200, json_pack("{s:b, s:I}", "liked", liked, "like_count", (json_int_t)count));
	else
		http_problem(r, &e);
}

static void like_put(http_req_t *r)
{
	like(r, true);
}

static void like_delete(http_req_t *r)
{
	like(r, false);
}

static void share(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id, count = 0;
	db_conn_t *c;
	if (!p || !post_id(r, &id) || !engagement_limit(r, p) || !(c = api_conn(r)))
		return;
	err_t e;
	if (!social_share(c, id, p->user.id, &count, &e)) {
		http_problem(r, &e);
		return;
	}
	const config_t *cfg = config_get();
	char url[512];
	snprintf(url, sizeof(url), "%s/p/%lld", cfg->public_url[0] ? cfg->public_url : "", (long long)id);
	http_json(r, 200, json_pack("{s:I, s:s}", "share_count", (json_int_t)count, "url", url));
}

static void view(http_req_t *r)
{
	static const jx_field_t fields[] = {{"watched_s", JX_NUMBER, .required = true}, {0}};
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	int64_t id;
	if (failed || !post_id(r, &id))
		return;
	/* the viewer: the account, or a keyed hash of address and user agent for anonymous viewers */
	char key[48];
	if (p)
		snprintf(key, sizeof(key), "u%lld", (long long)p->user.id);
	else {
		unsigned char h[16];
		const char *ua = http_header(r, "User-Agent");
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, sizeof(h));
		crypto_generichash_update(&st, (const unsigned char *)http_client_ip(r),
					  strlen(http_client_ip(r)));
		crypto_generichash_update(&st, (const unsigned char *)"|", 1);
		if (ua)
			crypto_generichash_update(&st, (const unsigned char *)ua, strlen(ua));
		crypto_generichash_final(&st, h, sizeof(h));
		key[0] = 'a';
		sodium_bin2hex(key + 1, sizeof(key) - 1, h, sizeof(h));
	}
	if (!api_rate_limit(r, "view", key, 600, 120))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	double w = json_number_value(json_object_get(in, "watched_s"));
	json_decref(in);
	if (!isfinite(w) || w < 0 || w > 86400) {
		http_error(r, ERR_INVALID, "invalid_watched", "watched_s",
			   "watched_s must be seconds from 0 to 86400");
		return;
	}
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	bool counted = false;
	int64_t count = 0;
	err_t e;
	if (social_view(c, id, p ? p->user.id : 0, key, (int64_t)llround(w * 1000), &counted, &count, &e))
		http_json(r, 200,
			  json_pack("{s:b, s:I}", "counted", counted, "view_count", (json_int_t)count));
	else
		http_problem(r, &e);
}

static void hide(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p || !post_id(r, &id) || !engagement_limit(r, p) || !(c = api_conn(r)))
		return;
	err_t e;
	if (social_hide(c, id, p->user.id, on, &e))
		http_no_content(r);
	else
		http_problem(r, &e);
}

static void hide_put(http_req_t *r)
{
	hide(r, true);
}

static void hide_delete(http_req_t *r)
{
	hide(r, false);
}

/* ==== comments ==== */

static void list_comments(http_req_t *r)
{
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	int64_t id, cursor, next;
	int limit;
	db_conn_t *c;
	if (failed || !post_id(r, &id) || !api_page_params(r, 20, 50, &limit, &cursor) || !(c = api_conn(r)))
		return;
	comment_t *items, *replies;
	int n, nr;
	err_t e;
	if (!comments_list(c, id, p ? p->user.id : 0, cursor, limit, &items, &n, &replies, &nr, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, comment_json(&items[i], replies, nr, true));
	comments_free(items, n);
	comments_free(replies, nr);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void create_comment(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"body", JX_STRING, .required = true, .max = COMMENT_MAX},
	    {"reply_to", JX_STRING, .nullable = true, .max = 24},
	    {"at_s", JX_NUMBER, .nullable = true},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	int64_t id, reply_to = 0, at_ms = -1;
	if (!p || !post_id(r, &id))
		return;
	char who[24];
	snprintf(who, sizeof(who), "%lld", (long long)p->user.id);
	if (!api_rate_limit(r, "comment", who, 30, 10))
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	const char *rt = jx_str(in, "reply_to");
	json_t *at = json_object_get(in, "at_s");
	db_conn_t *c;
	if (rt && !id_parse(rt, &reply_to)) {
		http_error(r, ERR_INVALID, "invalid_reply_to", "reply_to",
			   "reply_to is not a comment on this post");
		goto done;
	}
	if (at && !json_is_null(at)) {
		double v = json_number_value(at);
		if (!isfinite(v) || v < 0 || v > 86400) {
			http_error(r, ERR_INVALID, "invalid_at", "at_s",
				   "at_s must be seconds into the clip");
			goto done;
		}
		at_ms = (int64_t)llround(v * 1000);
	}
	if ((c = api_conn(r))) {
		comment_t cm;
		err_t e;
		if (comments_create(c, id, p->user.id, jx_str(in, "body"), reply_to, at_ms, &cm, &e)) {
			json_t *j = comment_json(&cm, NULL, 0, reply_to == 0);
			comment_clear(&cm);
			http_json(r, 201, j);
		} else
			http_problem(r, &e);
	}
done:
	json_decref(in);
}

static void delete_comment(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t id;
	db_conn_t *c;
	if (!p)
		return;
	if (!id_parse(http_param(r, "id"), &id)) {
		http_error(r, ERR_NOT_FOUND, "comment_not_found", NULL, "no such comment");
		return;
	}
	if (!(c = api_conn(r)))
		return;
	err_t e;
	if (comments_delete(c, id, p->user.id, users_role_rank(p->user.role), &e))
		http_no_content(r);
	else
		http_problem(r, &e);
}

/* ==== follows, blocks, profiles ==== */

static void follow(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !engagement_limit(r, p) || !(c = api_conn(r)))
		return;
	bool following;
	int64_t count = 0;
	err_t e;
	if (social_follow(c, p->user.id, http_param(r, "username"), on, &following, &count, &e))
		http_json(
		    r, 200,
		    json_pack("{s:b, s:I}", "following", following, "follower_count", (json_int_t)count));
	else
		http_problem(r, &e);
}

static void follow_put(http_req_t *r)
{
	follow(r, true);
}

static void follow_delete(http_req_t *r)
{
	follow(r, false);
}

static void block(http_req_t *r, bool on)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !engagement_limit(r, p) || !(c = api_conn(r)))
		return;
	err_t e;
	if (social_block(c, p->user.id, http_param(r, "username"), on, &e))
		http_json(r, 200, json_pack("{s:b}", "blocked", on));
	else
		http_problem(r, &e);
}

static void block_put(http_req_t *r)
{
	block(r, true);
}

static void block_delete(http_req_t *r)
{
	block(r, false);
}

void api_profile(http_req_t *r)
{
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	db_conn_t *c;
	if (failed || !(c = api_conn(r)))
		return;
	profile_t pr;
	err_t e;
	if (!social_profile(c, http_param(r, "username"), p ? p->user.id : 0, &pr, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *j = api_user_json(&pr.user, false);
	char avatar[96];
	snprintf(avatar, sizeof(avatar), "/api/v2/users/%s/avatar.svg", pr.user.username);
	json_object_set_new(j, "avatar_url", json_string(avatar));
	json_object_set_new(j, "follower_count", json_integer(pr.follower_count));
	json_object_set_new(j, "following_count", json_integer(pr.following_count));
	json_object_set_new(j, "post_count", json_integer(pr.post_count));
	json_object_set_new(j, "followed_by_me", json_boolean(pr.followed_by_me));
	json_object_set_new(j, "follows_me", json_boolean(pr.follows_me));
	json_object_set_new(j, "blocked_by_me", json_boolean(pr.blocked_by_me));
	http_json(r, 200, j);
}

static void user_posts(http_req_t *r)
{
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	int64_t cursor, next;
	int limit;
	db_conn_t *c;
	if (failed || !api_page_params(r, 20, 50, &limit, &cursor) || !(c = api_conn(r)))
		return;
	int64_t viewer = p ? p->user.id : 0;
	user_t u;
	err_t e;
	if (!social_user_visible(c, http_param(r, "username"), viewer, &u, &e)) {
		http_problem(r, &e);
		return;
	}
	post_t *items;
	int n;
	if (!posts_by_user(c, u.id, viewer, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	http_json(r, 200, api_posts_page_json(items, n, NULL, next ? jx_id(next) : json_null()));
	posts_free(items, n);
}

static void follow_list(http_req_t *r, const char *which)
{
	bool failed;
	const auth_principal_t *p = api_viewer(r, &failed);
	int64_t cursor, next;
	int limit;
	db_conn_t *c;
	if (failed || !api_page_params(r, 20, 100, &limit, &cursor) || !(c = api_conn(r)))
		return;
	int64_t viewer = p ? p->user.id : 0;
	user_t u;
	err_t e;
	follow_entry_t *items;
	int n;
	if (!social_user_visible(c, http_param(r, "username"), viewer, &u, &e) ||
	    !social_follow_list(c, u.id, which, viewer, cursor, limit, &items, &n, &next, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *j = api_user_ref_json(&items[i].user);
		json_object_set_new(j, "followed_by_me", json_boolean(items[i].followed_by_me));
		json_array_append_new(arr, j);
	}
	follow_entries_free(items, n);
	http_json(r, 200,
		  json_pack("{s:o, s:o}", "items", arr, "next_cursor", next ? jx_id(next) : json_null()));
}

static void followers(http_req_t *r)
{
	follow_list(r, "followers");
}

static void following(http_req_t *r)
{
	follow_list(r, "following");
}

/* A generated avatar: the initial on a colour derived from the name. No user content but the initial. */
static void avatar(http_req_t *r)
{
	const char *name = http_param(r, "username");
	err_t e;
	if (!users_valid_username(name, &e)) {
		http_error(r, ERR_NOT_FOUND, "user_not_found", NULL, "no such user");
		return;
	}
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint32_t)(unsigned char)(*p | 0x20)) * 16777619u;
	char initial = name[0] >= 'a' && name[0] <= 'z' ? (char)(name[0] - 32) : name[0];
	char svg[512];
	int n = snprintf(
	    svg, sizeof(svg),
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"64\" height=\"64\">"
	    "<rect width=\"64\" height=\"64\" rx=\"32\" fill=\"hsl(%u,62%%,46%%)\"/>"
	    "<text x=\"32\" y=\"42\" font-family=\"DejaVu Sans,Arial,sans-serif\" font-size=\"28\" "
	    "font-weight=\"700\" text-anchor=\"middle\" fill=\"#fff\">%c</text></svg>",
	    h % 360, initial);
	http_add_header(r, "Cache-Control", "public, max-age=86400");
	http_send(r, 200, "image/svg+xml", svg, (size_t)n);
}

/* ==== notifications ==== */

static void list_notifications(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	int64_t cursor, next, unread = 0;
	int limit;
	db_conn_t *c;
	if (!p || !api_page_params(r, 20, 50, &limit, &cursor) || !(c = api_conn(r)))
		return;
	const char *u = http_query(r, "unread");
	bool unread_only = u && (strcmp(u, "1") == 0 || strcmp(u, "true") == 0);
	notification_t *items;
	int n;
	err_t e;
	if (!notify_list(c, p->user.id, unread_only, cursor, limit, &items, &n, &next, &e) ||
	    !notify_unread_count(c, p->user.id, &unread, &e)) {
		http_problem(r, &e);
		return;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		notification_t *x = &items[i];
		json_t *j = json_object();
		json_object_set_new(j, "id", jx_id(x->id));
		json_object_set_new(j, "kind", json_string(x->kind));
		json_object_set_new(j, "actor", api_user_ref_json(&x->actor));
		json_object_set_new(
		    j, "post",
		    x->post_id ? json_pack("{s:o, s:s?}", "id", jx_id(x->post_id), "title", x->post_title)
			       : json_null());
		json_object_set_new(j, "comment",
				    x->comment_id ? json_pack("{s:o, s:s?}", "id", jx_id(x->comment_id),
							      "body", x->comment_body)
						  : json_null());
		json_object_set_new(j, "created_at", jx_time(x->created_at));
		json_object_set_new(j, "read", json_boolean(x->read));
		json_array_append_new(arr, j);
	}
	notifications_free(items, n);
	http_json(r, 200,
		  json_pack("{s:o, s:o, s:I}", "items", arr, "next_cursor", next ? jx_id(next) : json_null(),
			    "unread_count", (json_int_t)unread));
}

static void read_notifications(http_req_t *r)
{
	static const jx_field_t fields[] = {{"ids", JX_ARRAY}, {"all", JX_BOOL}, {0}};
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	json_t *ids = json_object_get(in, "ids");
	bool all = jx_bool(in, "all", false);
	int64_t v[100];
	int n = 0;
	db_conn_t *c;
	err_t e;
	int64_t unread = 0;
	if (!all && !ids) {
		http_error(r, ERR_INVALID, "missing_ids", "ids", "send ids: [...] or all: true");
		goto done;
	}
	if (ids && json_array_size(ids) > 100) {
		http_error(r, ERR_INVALID, "invalid_ids", "ids", "at most 100 ids at a time");
		goto done;
	}
	size_t i;
	json_t *x;
	json_array_foreach(ids, i, x)
	{
		if (!id_parse(json_string_value(x), &v[n])) {
			http_error(r, ERR_INVALID, "invalid_ids", "ids",
				   "ids must be notification id strings");
			goto done;
		}
		n++;
	}
	if ((c = api_conn(r))) {
		if (notify_mark_read(c, p->user.id, all ? NULL : v, n, &e) &&
		    notify_unread_count(c, p->user.id, &unread, &e))
			http_json(r, 200, json_pack("{s:I}", "unread_count", (json_int_t)unread));
		else
			http_problem(r, &e);
	}
done:
	json_decref(in);
}

void api_social_routes(void)
{
	http_route(HTTP_POST, "/api/v2/posts", create_post, HTTP_ROUTE_JSON);
	http_route(HTTP_GET, "/api/v2/posts/{id}", get_post, 0);
	http_route(HTTP_PATCH, "/api/v2/posts/{id}", patch_post, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/posts/{id}", delete_post, 0);
	http_route(HTTP_PUT, "/api/v2/posts/{id}/like", like_put, 0);
	http_route(HTTP_DELETE, "/api/v2/posts/{id}/like", like_delete, 0);
	http_route(HTTP_GET, "/api/v2/posts/{id}/comments", list_comments, 0);
	http_route(HTTP_POST, "/api/v2/posts/{id}/comments", create_comment, HTTP_ROUTE_JSON);
	http_route(HTTP_DELETE, "/api/v2/comments/{id}", delete_comment, 0);
	http_route(HTTP_POST, "/api/v2/posts/{id}/share", share, 0);
	http_route(HTTP_POST, "/api/v2/posts/{id}/views", view, HTTP_ROUTE_JSON);
	http_route(HTTP_PUT, "/api/v2/posts/{id}/hide", hide_put, 0);
	http_route(HTTP_DELETE, "/api/v2/posts/{id}/hide", hide_delete, 0);
	http_route(HTTP_POST, "/api/v2/posts/{id}/hide", hide_put, 0);
	http_route(HTTP_PUT, "/api/v2/users/{username}/follow", follow_put, 0);
	http_route(HTTP_DELETE, "/api/v2/users/{username}/follow", follow_delete, 0);
	http_route(HTTP_PUT, "/api/v2/users/{username}/block", block_put, 0);
	http_route(HTTP_DELETE, "/api/v2/users/{username}/block", block_delete, 0);
	http_route(HTTP_GET, "/api/v2/users/{username}/posts", user_posts, 0);
	http_route(HTTP_GET, "/api/v2/users/{username}/followers", followers, 0);
	http_route(HTTP_GET, "/api/v2/users/{username}/following", following, 0);
	http_route(HTTP_GET, "/api/v2/users/{username}/avatar.svg", avatar, HTTP_ROUTE_NOLOG);
	http_route(HTTP_GET, "/api/v2/notifications", list_notifications, 0);
	http_route(HTTP_POST, "/api/v2/notifications/read", read_notifications, HTTP_ROUTE_JSON);
}
