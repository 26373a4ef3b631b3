/*
 * social_api.c — posts, likes, comments, shares, views, hides, follows,
 * blocks, profiles' social side, avatars and notifications. The contract is
 * docs/social-api.md; the rules live in src/social.
 */
#include <math.h>
#include <pthread.h>
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

/*
 * Posts are the hot path of every feed: they are written straight into a
 * buffer (about 5x cheaper than building a jansson tree and dumping it).
 * Strings from the database are valid UTF-8 (every input went through
 * jansson), so escaping the JSON specials is all that is needed.
 */
static void jw_str(buf_t *b, const char *s)
{
	if (s)
		buf_put_json_string(b, s);
	else
		buf_puts(b, "null");
}

static void jw_i64(buf_t *b, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		tmp[n++] = '-';
	while (n > 0)
		buf_putc(b, tmp[--n]);
}

/* 63-bit ids are strings: they do not fit a JavaScript number. */
static void jw_id(buf_t *b, int64_t id)
{
	buf_putc(b, '"');
	jw_i64(b, id);
	buf_putc(b, '"');
}

static void jw_time(buf_t *b, int64_t ms)
{
	char t[32];
	time_iso8601(ms, t);
	buf_putc(b, '"');
	buf_puts(b, t);
	buf_putc(b, '"');
}

/*
 * A signature depends only on the path and the expiry, which changes once an
 * hour: each server thread remembers the last ones it made (direct-mapped by
 * path), so a clip that is in every feed is signed once an hour per thread.
 */
#define SIG_SLOTS 512
typedef struct {
	int64_t exp;
	char path[80];
	char sig[48];
} sig_slot_t;
static _Thread_local sig_slot_t sig_cache[SIG_SLOTS];

static void jw_signed(buf_t *b, const char *path)
{
	int64_t exp = api_signed_exp();
	sig_slot_t *slot = &sig_cache[hash_bytes(path, strlen(path)) % SIG_SLOTS];
	if (slot->exp != exp || strcmp(slot->path, path) != 0) {
		if (!str_copy(slot->path, sizeof(slot->path), path))
			slot->path[0] = '\0'; /* too long to remember: signed every time */
		auth_sign_path(path, exp, slot->sig);
		slot->exp = exp;
	}
	const char *sig = slot->sig;
	buf_putc(b, '"');
	buf_puts(b, path);
	buf_puts(b, "?exp=");
	jw_i64(b, exp);
	buf_puts(b, "&sig=");
	buf_puts(b, sig);
	buf_putc(b, '"');
}

static void user_ref_write(buf_t *b, const user_ref_t *u)
{
	buf_puts(b, "{\"id\":");
	jw_id(b, u->id);
	buf_puts(b, ",\"username\":");
	jw_str(b, u->username);
	buf_puts(b, ",\"display_name\":");
	jw_str(b, u->display_name);
	buf_puts(b, ",\"avatar_url\":\"/api/v2/users/");
	buf_puts(b, u->username); /* [A-Za-z0-9_] only */
	buf_puts(b, "/avatar.svg\"}");
}

json_t *api_user_ref_json(const user_ref_t *u)
{
	buf_t b;
	buf_init(&b);
	user_ref_write(&b, u);
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	buf_cleanup(&b);
	return j;
}

/* {id, duration_s, width, height, thumbnail_url, playback_url} of a ready clip, with signed URLs. */
static void clip_write(buf_t *b, int64_t id, int64_t duration_ms, int width, int height, bool has_thumb)
{
	char path[80], num[32];
	buf_puts(b, "{\"id\":");
	jw_id(b, id);
	snprintf(num, sizeof(num), "%.3f", (double)duration_ms / 1000.0);
	buf_puts(b, ",\"duration_s\":");
	buf_puts(b, num);
	buf_puts(b, ",\"width\":");
	jw_i64(b, width);
	buf_puts(b, ",\"height\":");
	jw_i64(b, height);
	buf_puts(b, ",\"thumbnail_url\":");
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/thumbnail", (long long)id);
	if (has_thumb)
		jw_signed(b, path);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"playback_url\":");
	snprintf(path, sizeof(path), "/api/v2/clips/%lld/file", (long long)id);
	jw_signed(b, path);
	buf_putc(b, '}');
}

json_t *api_clip_json(int64_t id, int64_t duration_ms, int width, int height, bool has_thumb)
{
	buf_t b;
	buf_init(&b);
	clip_write(&b, id, duration_ms, width, height, has_thumb);
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	buf_cleanup(&b);
	return j;
}

static void reason(buf_t *b, bool *first, const char *a, const char *x, const char *c)
{
	char s[320];
	snprintf(s, sizeof(s), "%s%s%s", a, x ? x : "", c ? c : "");
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	jw_str(b, s);
}

static void reasons_write(buf_t *b, const char *post_game, const char *username, uint32_t r)
{
	const char *game = post_game ? post_game : "this game";
	bool first = true;
	buf_putc(b, '[');
	if (r & REASON_FOLLOW)
		reason(b, &first, "You follow @", username, NULL);
	if (r & REASON_TREND_GAME)
		reason(b, &first, "Trending in ", game, NULL);
	else if (r & REASON_TREND)
		reason(b, &first, "Trending now", NULL, NULL);
	if (r & REASON_FAV_GAME)
		reason(b, &first, "", game, " is one of your favourite games");
	else if (r & REASON_GAME_AFFINITY)
		reason(b, &first, "You watch a lot of ", game, NULL);
	if (r & REASON_CREATOR_AFFINITY)
		reason(b, &first, "You liked posts by @", username, " before");
	if (r & REASON_NEW_CREATOR)
		reason(b, &first, "New creator", NULL, NULL);
	if (first || (r & REASON_FRESH && !(r & (REASON_NEW_CREATOR | REASON_TREND | REASON_TREND_GAME))))
		reason(b, &first, "Recently posted", NULL, NULL);
	buf_putc(b, ']');
}

/* What every viewer sees of a post: `{"id":…` up to `"view_count":N` (no closing brace). */
static void post_write_shared(buf_t *b, const post_t *p)
{
	buf_puts(b, "{\"id\":");
	jw_id(b, p->id);
	buf_puts(b, ",\"title\":");
	jw_str(b, p->title);
	buf_puts(b, ",\"description\":");
	jw_str(b, p->description);
	buf_puts(b, ",\"game\":");
	jw_str(b, p->game);
	buf_puts(b, ",\"tags\":");
	buf_puts(b, p->tags && p->tags[0] == '[' ? p->tags : "[]"); /* stored as compact JSON */
	buf_puts(b, ",\"visibility\":");
	jw_str(b, p->visibility);
	buf_puts(b, ",\"created_at\":");
	jw_time(b, p->created_at);
	buf_puts(b, ",\"updated_at\":");
	jw_time(b, p->updated_at);
	buf_puts(b, ",\"author\":");
	user_ref_write(b, &p->author);
	buf_puts(b, ",\"clip\":");
	if (p->clip_ready)
		clip_write(b, p->clip_id, p->clip_duration_ms, p->clip_width, p->clip_height,
			   p->clip_has_thumb);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"like_count\":");
	jw_i64(b, p->like_count);
	buf_puts(b, ",\"comment_count\":");
	jw_i64(b, p->comment_count);
	buf_puts(b, ",\"share_count\":");
	jw_i64(b, p->share_count);
	buf_puts(b, ",\"view_count\":");
	jw_i64(b, p->view_count);
}

/* The viewer's part: liked_by_me, reasons (UINT32_MAX: not in For you, no reasons field), `}`. */
static void post_write_mine(buf_t *b, bool liked, uint32_t reasons, const char *game, const char *username)
{
	buf_puts(b, ",\"liked_by_me\":");
	buf_puts(b, liked ? "true" : "false");
	if (reasons != UINT32_MAX) {
		buf_puts(b, ",\"reasons\":");
		reasons_write(b, game, username, reasons);
	}
	buf_putc(b, '}');
}

static void post_write(buf_t *b, const post_t *p, uint32_t reasons)
{
	post_write_shared(b, p);
	post_write_mine(b, p->liked_by_me, reasons, p->game, p->author.username);
}

static void send_post(http_req_t *r, int status, const post_t *p)
{
	buf_t b;
	buf_init(&b);
	post_write(&b, p, UINT32_MAX);
	http_send(r, status, "application/json", b.data, b.len);
	buf_cleanup(&b);
}

char *api_posts_page(const post_t *items, int n, const uint32_t *reasons, const char *next, size_t *len)
{
	buf_t b;
	buf_init(&b);
	buf_puts(&b, "{\"items\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		post_write(&b, &items[i], reasons ? reasons[i] : UINT32_MAX);
	}
	buf_puts(&b, "],\"next_cursor\":");
	jw_str(&b, next);
	buf_putc(&b, '}');
	*len = b.len;
	return buf_steal(&b);
}

/*
 * Rendered posts, shared by every viewer's feed pages: the part of a post's
 * JSON that is the same for everyone (post_write_shared), kept for
 * COSMIV_FEED_CACHE_MS and keyed by the post's generation (feed_post_gen),
 * which a like, a share, a comment, an edit or a deletion moves, so those
 * show at once on this node. Views, profile edits and changes made through
 * other nodes show within COSMIV_FEED_CACHE_MS. A page then costs the ranking
 * or the index scan, one query for liked_by_me, and the posts no page has
 * shown in that time.
 */
#define FRAG_SLOTS 16384 /* direct-mapped by post id; about 800 bytes each when used */

typedef struct {
	int64_t id, at_ms, author;
	uint32_t gen;
	bool priv; /* private now: only its author sees it, even on a page ranked before */
	char *json, *game, *username;
	size_t len;
} frag_t;

static frag_t frags[FRAG_SLOTS];
#define FRAG_LOCKS 64 /* slot i is guarded by frag_mu[i % FRAG_LOCKS]: hot posts are read by every page */
static pthread_rwlock_t frag_mu[FRAG_LOCKS];
static pthread_once_t frag_once = PTHREAD_ONCE_INIT;

static void frag_init(void)
{
	for (int i = 0; i < FRAG_LOCKS; i++)
		pthread_rwlock_init(&frag_mu[i], NULL);
}

typedef struct {
	char *json, *game, *username; /* owned copies; json NULL: the post is gone */
	size_t len;
	int64_t author;
	bool priv;
} frag_copy_t;

static void frag_copy_clear(frag_copy_t *f)
{
	free(f->json);
	free(f->game);
	free(f->username);
	memset(f, 0, sizeof(*f));
}

static bool frag_get(int64_t id, int ttl, int64_t now, frag_copy_t *out)
{
	uint32_t gen = feed_post_gen(id);
	size_t at = (size_t)((uint64_t)id % FRAG_SLOTS);
	frag_t *f = &frags[at];
	bool hit = false;
	pthread_once(&frag_once, frag_init);
	pthread_rwlock_rdlock(&frag_mu[at % FRAG_LOCKS]);
	if (f->json && f->id == id && f->gen == gen && now - f->at_ms < ttl) {
		out->json = xmalloc(f->len + 1);
		memcpy(out->json, f->json, f->len + 1);
		out->len = f->len;
		out->game = f->game ? xstrdup(f->game) : NULL;
		out->username = f->username ? xstrdup(f->username) : NULL;
		out->author = f->author;
		out->priv = f->priv;
		hit = true;
	}
	pthread_rwlock_unlock(&frag_mu[at % FRAG_LOCKS]);
	return hit;
}

static void frag_put(int64_t id, uint32_t gen, int64_t now, const frag_copy_t *in)
{
	char *json = xmalloc(in->len + 1);
	memcpy(json, in->json, in->len + 1);
	char *game = in->game ? xstrdup(in->game) : NULL,
	     *username = in->username ? xstrdup(in->username) : NULL;
	size_t at = (size_t)((uint64_t)id % FRAG_SLOTS);
	frag_t *f = &frags[at];
	pthread_once(&frag_once, frag_init);
	pthread_rwlock_wrlock(&frag_mu[at % FRAG_LOCKS]);
	free(f->json);
	free(f->game);
	free(f->username);
	*f = (frag_t){.id = id,
		      .at_ms = now,
		      .author = in->author,
		      .gen = gen,
		      .priv = in->priv,
		      .json = json,
		      .game = game,
		      .username = username,
		      .len = in->len};
	pthread_rwlock_unlock(&frag_mu[at % FRAG_LOCKS]);
}

bool api_feed_page(db_conn_t *c, const int64_t *ids, const uint32_t *reasons, int n, int64_t viewer,
		   const char *next, char **body, size_t *len, err_t *e)
{
	if (n > SOCIAL_BATCH_MAX)
		n = SOCIAL_BATCH_MAX;
	int ttl = config_get()->feed_cache_ms;
	int64_t now = time_now_ms();
	frag_copy_t got[SOCIAL_BATCH_MAX] = {0};
	int64_t miss[SOCIAL_BATCH_MAX];
	uint32_t miss_gen[SOCIAL_BATCH_MAX];
	int nmiss = 0;
	for (int i = 0; i < n; i++)
		if (ttl <= 0 || !frag_get(ids[i], ttl, now, &got[i])) {
			miss_gen[nmiss] =
			    feed_post_gen(ids[i]); /* before the read: a change during it misses later */
			miss[nmiss++] = ids[i];
		}
	bool liked[SOCIAL_BATCH_MAX];
	post_t *loaded = NULL;
	int nloaded = 0;
	bool ok = (nmiss == 0 || posts_load(c, miss, nmiss, 0, &loaded, &nloaded, e)) &&
		  posts_liked(c, viewer, ids, n, liked, e);
	for (int j = 0; ok && j < nloaded; j++) {
		const post_t *p = &loaded[j];
		buf_t b;
		buf_init(&b);
		post_write_shared(&b, p);
		frag_copy_t f = {.len = b.len,
				 .game = p->game ? xstrdup(p->game) : NULL,
				 .username = p->author.username[0] ? xstrdup(p->author.username) : NULL,
				 .author = p->user_id,
				 .priv = strcmp(p->visibility, "private") == 0};
		f.json = buf_steal(&b);
		for (int k = 0; k < nmiss; k++)
			if (miss[k] == p->id && ttl > 0)
				frag_put(p->id, miss_gen[k], now, &f);
		for (int i = 0; i < n; i++)
			if (ids[i] == p->id && !got[i].json) {
				got[i] = f;
				memset(&f, 0, sizeof(f));
				break;
			}
		frag_copy_clear(&f);
	}
	posts_free(loaded, nloaded);
	if (ok) {
		buf_t b;
		buf_init(&b);
		buf_puts(&b, "{\"items\":[");
		bool first = true;
		for (int i = 0; i < n; i++) {
			/* gone since the page was made: deleted, its author disabled, or made private */
			if (!got[i].json || (got[i].priv && got[i].author != viewer))
				continue;
			if (!first)
				buf_putc(&b, ',');
			first = false;
			buf_append(&b, got[i].json, got[i].len);
			post_write_mine(&b, liked[i], reasons ? reasons[i] : UINT32_MAX, got[i].game,
					got[i].username);
		}
		buf_puts(&b, "],\"next_cursor\":");
		jw_str(&b, next);
		buf_putc(&b, '}');
		*len = b.len;
		*body = buf_steal(&b);
	}
	for (int i = 0; i < n; i++)
		frag_copy_clear(&got[i]);
	return ok;
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
		send_post(r, 201, &out);
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
		send_post(r, 200, &out);
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
			send_post(r, 200, &out);
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
	char cur[24];
	snprintf(cur, sizeof(cur), "%lld", (long long)next);
	size_t len;
	char *body = api_posts_page(items, n, NULL, next ? cur : NULL, &len);
	http_send(r, 200, "application/json", body, len);
	free(body);
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
		json_object_set_new(j, "message",
				    x->message_id
					? json_pack("{s:o, s:o, s:o, s:s?}", "id", jx_id(x->message_id),
						    "channel_id", jx_id(x->channel_id), "community_id",
						    jx_id(x->community_id), "content", x->message_body)
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
