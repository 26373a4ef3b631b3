/*
 * feed_api.c — /api/v2/feed/{new,following,trending,for-you} and
 * /api/v2/feed/preferences. Ranking and paging live in social/feed.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "social/feed.h"
#include "api/social_json.h"
#include "core/config.h"
#include "social/social.h"

/*
 * The micro-cache: a signed-out page of New or Trending is the same bytes
 * for everyone, so each node keeps the last rendering of each such query for
 * COSMIV_FEED_CACHE_MS. A visitor may see a post up to that long after it
 * was deleted; signed-in requests (likes, blocks, preferences) never come
 * from here.
 */
#define MICRO_SLOTS 64

static struct {
	char *key;
	char *body;
	size_t len;
	int64_t at_ms;
} micro[MICRO_SLOTS];
static pthread_mutex_t micro_mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t micro_slot(const char *key)
{
	uint32_t h = 2166136261u;
	for (const char *p = key; *p; p++)
		h = (h ^ (uint32_t)(unsigned char)*p) * 16777619u;
	return h % MICRO_SLOTS;
}

static bool micro_get(http_req_t *r, const char *key)
{
	int ttl = config_get()->feed_cache_ms;
	if (ttl <= 0)
		return false;
	uint32_t i = micro_slot(key);
	char *body = NULL;
	size_t len = 0;
	pthread_mutex_lock(&micro_mu);
	if (micro[i].key && strcmp(micro[i].key, key) == 0 && time_now_ms() - micro[i].at_ms < ttl) {
		body = xmalloc(micro[i].len);
		memcpy(body, micro[i].body, micro[i].len);
		len = micro[i].len;
	}
	pthread_mutex_unlock(&micro_mu);
	if (!body)
		return false;
	http_send(r, 200, "application/json", body, len);
	free(body);
	return true;
}

static void micro_put(const char *key, const char *page, size_t len)
{
	if (config_get()->feed_cache_ms <= 0)
		return;
	char *body = xmalloc(len + 1), *k = xstrdup(key);
	memcpy(body, page, len + 1);
	uint32_t i = micro_slot(key);
	pthread_mutex_lock(&micro_mu);
	free(micro[i].key);
	free(micro[i].body);
	micro[i].key = k;
	micro[i].body = body;
	micro[i].len = len;
	micro[i].at_ms = time_now_ms();
	pthread_mutex_unlock(&micro_mu);
}

static void feed(http_req_t *r, feed_kind_t kind, bool needs_auth)
{
	bool failed;
	const auth_principal_t *p = needs_auth ? api_principal(r) : api_viewer(r, &failed);
	if (needs_auth ? !p : failed)
		return;
	const char *l = http_query(r, "limit");
	int64_t limit = 20;
	if (l && (!parse_i64(l, &limit) || limit < 1 || limit > FEED_LIMIT_MAX)) {
		http_error(r, ERR_INVALID, "invalid_limit", "limit", "limit must be an integer from 1 to 50");
		return;
	}
	const char *game = http_query(r, "game");
	char gkey[POST_GAME_MAX * 4 + 1];
	if (game && (jx_utf8_len(game) > POST_GAME_MAX || !social_game_key(game, gkey, sizeof(gkey)))) {
		http_error(r, ERR_INVALID, "invalid_game", "game", "game must be a name of 1-40 characters");
		return;
	}
	const char *cursor = http_query(r, "cursor");
	char key[512] = "";
	if (!p && (kind == FEED_NEW || kind == FEED_TRENDING)) {
		snprintf(key, sizeof(key), "%c|%lld|%s|%s", (char)kind, (long long)limit, game ? game : "",
			 cursor ? cursor : "");
		if (micro_get(r, key))
			return;
	}
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	feed_query_t q = {
	    .kind = kind, .viewer = p ? p->user.id : 0, .game = game, .limit = (int)limit, .cursor = cursor};
	feed_page_t page;
	err_t e;
	post_t *items = NULL;
	int n = 0;
	if (!feed_page(c, &q, &page, &e) || !posts_load(c, page.ids, page.n, q.viewer, &items, &n, &e)) {
		http_problem(r, &e);
		feed_page_free(&page);
		return;
	}
	/* posts_load skips posts deleted since they were ranked; keep each one's reasons with it */
	uint32_t *reasons = NULL;
	if (kind == FEED_FOR_YOU) {
		reasons = xcalloc((size_t)(n ? n : 1), sizeof(*reasons));
		for (int i = 0; i < n; i++)
			for (int j = 0; j < page.n; j++)
				if (page.ids[j] == items[i].id)
					reasons[i] = page.reasons[j];
	}
	size_t len;
	char *body = api_posts_page(items, n, reasons, page.next[0] ? page.next : NULL, &len);
	if (key[0])
		micro_put(key, body, len);
	http_send(r, 200, "application/json", body, len);
	free(body);
	free(reasons);
	posts_free(items, n);
	feed_page_free(&page);
}

static void feed_new(http_req_t *r)
{
	feed(r, FEED_NEW, false);
}

static void feed_following(http_req_t *r)
{
	feed(r, FEED_FOLLOWING, true);
}

static void feed_trending(http_req_t *r)
{
	feed(r, FEED_TRENDING, false);
}

static void feed_for_you(http_req_t *r)
{
	feed(r, FEED_FOR_YOU, true);
}

static json_t *prefs_json(feed_prefs_t *pr)
{
	json_t *j =
	    json_pack("{s:O, s:O, s:O, s:i}", "favourite_games", pr->favourite_games, "hidden_games",
		      pr->hidden_games, "hidden_creators", pr->hidden_creators, "freshness", pr->freshness);
	feed_prefs_clear(pr);
	return j;
}

static void prefs_get(http_req_t *r)
{
	const auth_principal_t *p = api_principal(r);
	db_conn_t *c;
	if (!p || !(c = api_conn(r)))
		return;
	feed_prefs_t pr;
	err_t e;
	if (feed_prefs_get(c, p->user.id, &pr, &e))
		http_json(r, 200, prefs_json(&pr));
	else {
		feed_prefs_clear(&pr);
		http_problem(r, &e);
	}
}

static void prefs_put(http_req_t *r)
{
	static const jx_field_t fields[] = {
	    {"favourite_games", JX_ARRAY},
	    {"hidden_games", JX_ARRAY},
	    {"hidden_creators", JX_ARRAY},
	    {"freshness", JX_INT, .min = 0, .max = 100},
	    {0},
	};
	const auth_principal_t *p = api_principal(r);
	if (!p)
		return;
	json_t *in = api_parse_body(r, fields);
	if (!in)
		return;
	db_conn_t *c = api_conn(r);
	feed_prefs_t pr;
	err_t e;
	if (c) {
		if (feed_prefs_put(c, p->user.id, in, &e) && feed_prefs_get(c, p->user.id, &pr, &e))
			http_json(r, 200, prefs_json(&pr));
		else
			http_problem(r, &e);
	}
	json_decref(in);
}

void api_feed_routes(void)
{
	http_route(HTTP_GET, "/api/v2/feed/new", feed_new, 0);
	http_route(HTTP_GET, "/api/v2/feed/following", feed_following, 0);
	http_route(HTTP_GET, "/api/v2/feed/trending", feed_trending, 0);
	http_route(HTTP_GET, "/api/v2/feed/for-you", feed_for_you, 0);
	http_route(HTTP_GET, "/api/v2/feed/preferences", prefs_get, 0);
	http_route(HTTP_PUT, "/api/v2/feed/preferences", prefs_put, HTTP_ROUTE_JSON);
}
