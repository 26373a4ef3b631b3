/*
 * feed.h — the four feeds (New, Following, Trending, For you) and the
 * viewer's feed preferences. docs/feed.md explains the ranking.
 *
 * Pagination is by keyset everywhere, behind opaque signed cursors:
 *   New, Following  below the last post id (ids are time-ordered);
 *   Trending        below the last (trend_key, id); trend keys only grow,
 *                   so a post already served is never below the cursor;
 *   For you         an offset into a ranking snapshot taken at the first
 *                   page and kept for an hour (Redis when configured, so
 *                   any node can serve the next page; in-process
 *                   otherwise).
 * A cursor names its feed, its filter and (For you) its viewer, and carries
 * an HMAC, so a tampered cursor or one from another feed is refused.
 *
 * Shared candidate lists (global and per-game trending, fresh posts) are
 * cached in-process for FEED_CANDIDATE_TTL_MS; per-viewer state (follows,
 * affinities, hides, completed watches, preferences) is read per ranking.
 */
#ifndef COSMIV_FEED_H
#define COSMIV_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "db/db.h"

#define FEED_LIMIT_MAX	      50
#define FEED_SNAPSHOT_TTL_S   3600
#define FEED_SNAPSHOT_MAX     300
#define FEED_CANDIDATE_TTL_MS 15000
#define FEED_REUSE_MS	      30000

typedef enum { FEED_NEW = 'n', FEED_FOLLOWING = 'f', FEED_TRENDING = 't', FEED_FOR_YOU = 'y' } feed_kind_t;

/* Why a post is in For you (bit flags; rendered to text by the API with the post at hand). */
enum {
	REASON_FOLLOW = 1 << 0,		  /* "You follow @x" */
	REASON_TREND = 1 << 1,		  /* "Trending now" */
	REASON_TREND_GAME = 1 << 2,	  /* "Trending in <game>" */
	REASON_FAV_GAME = 1 << 3,	  /* "<game> is one of your favourite games" */
	REASON_GAME_AFFINITY = 1 << 4,	  /* "You watch a lot of <game>" */
	REASON_CREATOR_AFFINITY = 1 << 5, /* "You liked posts by @x before" */
	REASON_NEW_CREATOR = 1 << 6,	  /* "New creator" */
	REASON_FRESH = 1 << 7,		  /* "Recently posted" (from the newest posts) */
};

typedef struct {
	feed_kind_t kind;
	int64_t viewer;	  /* 0: anonymous (New and Trending only) */
	const char *game; /* NULL: all games */
	int limit;
	const char *cursor; /* NULL or "": first page */
} feed_query_t;

typedef struct {
	int64_t *ids;
	uint32_t *reasons; /* For you only, parallel to ids */
	int n;
	char next[128]; /* "" at the end */
} feed_page_t;

/* Sets the cursor signing key (from the server secret). Call once at start-up. */
void feed_init(const uint8_t *secret, size_t len);
bool feed_page(db_conn_t *c, const feed_query_t *q, feed_page_t *out, err_t *e);
/* Forgets the viewer's reusable For you ranking (after they hide, follow, block or change preferences). */
void feed_forget(int64_t user);
/* Something the viewer did may change their pages (a like, a comment, …): moves their generation. */
void feed_viewer_touched(int64_t user);
/* The viewer's generation: part of the key of their cached pages (api/feed_api.c). */
uint32_t feed_viewer_gen(int64_t user);
/* Moves whenever any post is created, edited or deleted on this node (feed_creator_changed). */
uint32_t feed_posts_gen(void);
/* A post's counters or contents changed: moves its generation, the key of its rendered JSON. */
void feed_post_changed(int64_t post_id);
uint32_t feed_post_gen(int64_t post_id);
/* Drops the cached candidate lists and snapshots (a process that changes databases: tests). */
void feed_cache_reset(void);
/* A creator posted, edited or deleted a post: drop their cached latest posts on this node. */
void feed_creator_changed(int64_t creator);
void feed_page_free(feed_page_t *p);

typedef struct {
	json_t *favourite_games; /* array of strings */
	json_t *hidden_games;	 /* array of strings */
	json_t *hidden_creators; /* array of usernames */
	int freshness;		 /* 0 popular … 100 fresh */
} feed_prefs_t;

bool feed_prefs_get(db_conn_t *c, int64_t user_id, feed_prefs_t *out, err_t *e);
/* Replaces the fields present in `in` (already type-checked); unknown usernames are 422. */
bool feed_prefs_put(db_conn_t *c, int64_t user_id, json_t *in, err_t *e);
void feed_prefs_clear(feed_prefs_t *p);

#endif
