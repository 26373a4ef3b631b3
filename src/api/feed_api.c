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
 * The micro-cache: the last rendering of a feed page, kept for
 * COSMIV_FEED_CACHE_MS, in two tables.
 *
 * Signed out, a page of New or Trending is the same bytes for everyone: one
 * entry per query serves every visitor.
 *
 * Signed in, a page is the viewer's own (liked_by_me, blocks, preferences,
 * For you): it is keyed by the viewer and their generation
 * (feed_viewer_gen), which moves with everything the viewer does that can
 * change their pages — a like, a comment, a share, a hide, a follow, a block,
 * a preference, a post of theirs — so a refresh right after one's own action
 * is never served from before it. New and Following pages are keyed with
 * feed_posts_gen as well: a post made, edited or deleted by anyone shows on
 * them at once. What else others do (their likes and comments; on For you and
 * Trending their edits and deletions) shows within COSMIV_FEED_CACHE_MS, as on
 * the signed-out pages. The generation lives on the node that handled the
 * change; behind a load balancer without affinity, another node may serve
 * the viewer a page up to COSMIV_FEED_CACHE_MS old.
 */
#define MICRO_SLOTS  64
#define VIEWER_SLOTS 2048 /* about 17 KB each when full */

typedef struct {
	char *key;
	char *body;
	size_t len;
	int64_t at_ms;
} micro_t;

static micro_t micro[MICRO_SLOTS], viewer_pages[VIEWER_SLOTS];
#define MICRO_LOCKS 16 /* a slot's lock: its key's hash % MICRO_LOCKS */
static pthread_rwlock_t micro_mu[MICRO_LOCKS];
static pthread_once_t micro_once = PTHREAD_ONCE_INIT;

static void micro_init(void)
{
	for (int i = 0; i < MICRO_LOCKS; i++)
		pthread_rwlock_init(&micro_mu[i], NULL);
}

static micro_t *micro_slot(const char *key, bool signed_in, pthread_rwlock_t **mu)
{
	uint32_t h = hash_bytes(key, strlen(key));
	pthread_once(&micro_once, micro_init);
	*mu = &micro_mu[h % MICRO_LOCKS];
	return signed_in ? &viewer_pages[h % VIEWER_SLOTS] : &micro[h % MICRO_SLOTS];
}

static bool micro_get(http_req_t *r, const char *key, bool signed_in)
{
	int ttl = config_get()->feed_cache_ms;
	if (ttl <= 0)
		return false;
	pthread_rwlock_t *mu;
	micro_t *m = micro_slot(key, signed_in, &mu);
	char *body = NULL;
	size_t len = 0;
	pthread_rwlock_rdlock(mu);
	if (m->key && strcmp(m->key, key) == 0 && time_now_ms() - m->at_ms < ttl) {
		body = xmalloc(m->len);
		memcpy(body, m->body, m->len);
		len = m->len;
	}
	pthread_rwlock_unlock(mu);
	if (!body)
		return false;
	http_send(r, 200, "application/json", body, len);
	free(body);
	return true;
}

static void micro_put(const char *key, bool signed_in, const char *page, size_t len)
{
	if (config_get()->feed_cache_ms <= 0)
		return;
	char *body = xmalloc(len + 1), *k = xstrdup(key);
	memcpy(body, page, len + 1);
	pthread_rwlock_t *mu;
	micro_t *m = micro_slot(key, signed_in, &mu);
	pthread_rwlock_wrlock(mu);
	free(m->key);
	free(m->body);
	m->key = k;
	m->body = body;
	m->len = len;
	m->at_ms = time_now_ms();
	pthread_rwlock_unlock(mu);
}

/* The page; with `span`, the caller has a read span open on c (db_read_begin) and closes it. */
static void feed_in(http_req_t *r, feed_kind_t kind, bool needs_auth, db_conn_t *c, bool span)
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
	if (p) /* the generations are read before the page is made: a change during it misses next time */
		snprintf(key, sizeof(key), "%lld:%u:%u|%c|%lld|%s|%s", (long long)p->user.id,
			 (unsigned)feed_viewer_gen(p->user.id),
			 /* New and Following are chronological: a post made anywhere shows at once */
			 kind == FEED_NEW || kind == FEED_FOLLOWING ? (unsigned)feed_posts_gen() : 0u,
			 (char)kind, (long long)limit, game ? game : "", cursor ? cursor : "");
	else if (kind == FEED_NEW || kind == FEED_TRENDING)
		snprintf(key, sizeof(key), "%c|%lld|%s|%s", (char)kind, (long long)limit, game ? game : "",
			 cursor ? cursor : "");
	if (key[0] && micro_get(r, key, p != NULL))
		return;
	if (!c && !(c = api_conn(r)))
		return;
	feed_query_t q = {
	    .kind = kind, .viewer = p ? p->user.id : 0, .game = game, .limit = (int)limit, .cursor = cursor};
	feed_page_t page;
	err_t e;
	char *body = NULL;
	size_t len = 0;
	if (!span && !db_read_begin(c, &e)) {
		http_problem(r, &e);
		return;
	}
	bool ok = feed_page(c, &q, &page, &e) &&
		  api_feed_page(c, page.ids, kind == FEED_FOR_YOU ? page.reasons : NULL, page.n, q.viewer,
				page.next[0] ? page.next : NULL, &body, &len, &e);
	if (!span)
		db_read_end(c);
	if (!ok) {
		http_problem(r, &e);
		feed_page_free(&page);
		return;
	}
	if (key[0])
		micro_put(key, p != NULL, body, len);
	http_send(r, 200, "application/json", body, len);
	free(body);
	feed_page_free(&page);
}

/*
 * A signed-in request reads its session, its user and then the page in one
 * read span. A signed-out one may be answered from the micro-cache without
 * touching the database, so its span starts only if the page is made.
 */
static void feed(http_req_t *r, feed_kind_t kind, bool needs_auth)
{
	if (!needs_auth && !http_header(r, "Authorization")) {
		feed_in(r, kind, false, NULL, false);
		return;
	}
	db_conn_t *c = api_conn(r);
	err_t e;
	if (!c)
		return;
	if (!db_read_begin(c, &e)) {
		http_problem(r, &e);
		return;
	}
	feed_in(r, kind, needs_auth, c, true);
	db_read_end(c);
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
