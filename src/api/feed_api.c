/*
 * feed_api.c — /api/v2/feed/{new,following,trending,for-you} and
 * /api/v2/feed/preferences. Ranking and paging live in social/feed.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "social/feed.h"
#include "api/social_json.h"
#include "social/social.h"

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
	if (game && (!game[0] || jx_utf8_len(game) > POST_GAME_MAX)) {
		http_error(r, ERR_INVALID, "invalid_game", "game", "game must be a name of 1-40 characters");
		return;
	}
	db_conn_t *c = api_conn(r);
	if (!c)
		return;
	feed_query_t q = {.kind = kind,
			  .viewer = p ? p->user.id : 0,
			  .game = game,
			  .limit = (int)limit,
			  .cursor = http_query(r, "cursor")};
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
	http_json(
	    r, 200,
	    api_posts_page_json(items, n, reasons, page.next[0] ? json_string(page.next) : json_null()));
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
