/*
 * social.h — posts, the follow graph, blocks, engagement and notifications.
 *
 * A post shares a clip with an audience (public, followers, private).
 * Every read goes through social_can_view(): a private post exists only for
 * its author, a followers-only post only for the author and followers, and
 * a block hides each user from the other. A post the caller may not see is
 * not found (404), never forbidden, so ids cannot be probed.
 *
 * Counters (likes, comments, shares, views, followers…) live on the rows
 * they count and change by atomic `x = x ± 1` updates in the same
 * transaction as the row that justifies them, so they are exact under
 * concurrency. Each engagement event also feeds the trend key (decayed
 * engagement, see feed.h and docs/feed.md) and the viewer's affinities.
 *
 * Ownership: post_t and comment_t own their heap strings; release them with
 * post_clear() / comment_clear(). Arrays returned here are heap arrays the
 * caller frees after clearing each element.
 */
#ifndef COSMIV_SOCIAL_H
#define COSMIV_SOCIAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "db/db.h"
#include "users/users.h"

#define POST_TITLE_MAX	 120
#define POST_DESC_MAX	 2000
#define POST_GAME_MAX	 40
#define POST_TAGS_MAX	 10
#define POST_TAG_LEN_MAX 32
#define COMMENT_MAX	 2000
#define VIEW_WINDOW_MS	 (6LL * 3600 * 1000)
#define SOCIAL_BATCH_MAX 50

typedef struct {
	int64_t id;
	char username[USERNAME_MAX + 1];
	char *display_name; /* NULL when unset */
} user_ref_t;

typedef struct {
	int64_t id, user_id, clip_id; /* clip_id 0: no clip */
	char *title, *description, *game, *game_key;
	char *tags; /* JSON array text */
	char visibility[12];
	int64_t like_count, comment_count, share_count, view_count, complete_count;
	int64_t trend_key, created_at, updated_at;
	user_ref_t author;
	/* the clip, when clip_id != 0 and it is ready */
	bool clip_ready, clip_has_thumb;
	int64_t clip_duration_ms;
	int clip_width, clip_height;
	bool liked_by_me;
} post_t;

typedef struct {
	int64_t id, post_id, reply_to, at_ms; /* reply_to 0: top level; at_ms -1: none */
	user_ref_t author;
	char *body;
	int64_t created_at;
	int reply_count;
} comment_t;

typedef struct {
	const char *title, *description, *game, *visibility;
	const char *tags_json; /* validated JSON array text, or NULL */
	bool set_title, set_description, set_game, set_visibility, set_tags;
	int64_t clip_id;
} post_spec_t;

void user_ref_clear(user_ref_t *u);
void post_clear(post_t *p);
void comment_clear(comment_t *c);

/* ==== helpers shared by the social and feed modules ==== */

/* Lower-cased, trimmed game key; false when empty. out has room for POST_GAME_MAX*4+1. */
bool social_game_key(const char *game, char *out, size_t outlen);
/* Validates tags (array of 0..10 strings of [A-Za-z0-9_-]{1,32}); *json_out is compact JSON (caller frees).
 */
bool social_tags_json(json_t *tags, char **json_out, err_t *e);
/* Either user blocked the other. */
bool social_blocked_either(db_conn_t *c, int64_t a, int64_t b, bool *out, err_t *e);
bool social_follows(db_conn_t *c, int64_t follower, int64_t followee, bool *out, err_t *e);
/* Resolves a username to a visible user (disabled or blocking → ERR_NOT_FOUND). viewer 0: anonymous. */
bool social_user_visible(db_conn_t *c, const char *username, int64_t viewer, user_t *out, err_t *e);

/* ==== trend keys (engage.c) ====
 * trend_key = 1e6 · log2(Σ w_i · 2^((t_i − T0) / H)) over a post's engagement
 * events (creation included), H = TREND_HALF_LIFE_MS. Adding an event never
 * lowers it, and all posts decay at the same rate, so ordering by it is
 * ordering by decayed engagement at any moment. */
#define TREND_HALF_LIFE_MS (6LL * 3600 * 1000)
int64_t trend_event_key(int64_t t_ms, double weight);
int64_t trend_add(int64_t key, int64_t t_ms, double weight);

/* ==== posts (posts.c) ==== */

bool posts_create(db_conn_t *c, int64_t user_id, const post_spec_t *sp, post_t *out, err_t *e);
/* The post when `viewer` (0: anonymous) may see it; ERR_NOT_FOUND otherwise. */
bool posts_get(db_conn_t *c, int64_t id, int64_t viewer, post_t *out, err_t *e);
bool posts_update(db_conn_t *c, int64_t id, int64_t user_id, const post_spec_t *sp, post_t *out, err_t *e);
/* Owner, or staff (role rank ≥ moderator). */
bool posts_delete(db_conn_t *c, int64_t id, int64_t actor, int actor_rank, err_t *e);
/* Loads posts by id, in the order given; ids that are gone are skipped. liked_by_me for viewer. */
bool posts_load(db_conn_t *c, const int64_t *ids, int n, int64_t viewer, post_t **out, int *count, err_t *e);
/* liked[i]: whether viewer likes ids[i] (at most SOCIAL_BATCH_MAX ids). */
bool posts_liked(db_conn_t *c, int64_t viewer, const int64_t *ids, int n, bool *liked, err_t *e);
/* A user's posts visible to viewer, newest first. */
bool posts_by_user(db_conn_t *c, int64_t author, int64_t viewer, int64_t before, int limit, post_t **out,
		   int *count, int64_t *next, err_t *e);
void posts_free(post_t *items, int n);

/* ==== engagement (engage.c) ==== */

bool social_like(db_conn_t *c, int64_t post_id, int64_t user_id, bool on, bool *liked, int64_t *count,
		 err_t *e);
bool social_share(db_conn_t *c, int64_t post_id, int64_t user_id, int64_t *count, err_t *e);
/* viewer_key: "u<id>" or "a<hash>"; user_id 0 for anonymous. */
bool social_view(db_conn_t *c, int64_t post_id, int64_t user_id, const char *viewer_key, int64_t watched_ms,
		 bool *counted, int64_t *count, err_t *e);
bool social_hide(db_conn_t *c, int64_t post_id, int64_t user_id, bool on, err_t *e);

bool comments_create(db_conn_t *c, int64_t post_id, int64_t user_id, const char *body, int64_t reply_to,
		     int64_t at_ms, comment_t *out, err_t *e);
/* Top-level comments newest first; replies of each (oldest first, ≤ 50) in *replies. */
bool comments_list(db_conn_t *c, int64_t post_id, int64_t viewer, int64_t before, int limit, comment_t **out,
		   int *count, comment_t **replies, int *nreplies, int64_t *next, err_t *e);
bool comments_delete(db_conn_t *c, int64_t comment_id, int64_t actor, int actor_rank, err_t *e);
void comments_free(comment_t *items, int n);

/* ==== graph (graph.c) ==== */

bool social_follow(db_conn_t *c, int64_t follower, const char *username, bool on, bool *following,
		   int64_t *follower_count, err_t *e);
bool social_block(db_conn_t *c, int64_t blocker, const char *username, bool on, err_t *e);
/* Takes a leaving user's likes, shares, comments and follows off other users' counters (call in the
 * transaction that deletes the account). */
bool social_user_leaving(db_conn_t *c, int64_t user_id, err_t *e);

typedef struct {
	user_t user;
	int64_t follower_count, following_count, post_count;
	bool followed_by_me, follows_me, blocked_by_me;
} profile_t;
bool social_profile(db_conn_t *c, const char *username, int64_t viewer, profile_t *out, err_t *e);

typedef struct {
	int64_t cursor; /* the follow row id */
	user_ref_t user;
	bool followed_by_me;
} follow_entry_t;
/* which: "followers" or "following". */
bool social_follow_list(db_conn_t *c, int64_t user_id, const char *which, int64_t viewer, int64_t before,
			int limit, follow_entry_t **out, int *count, int64_t *next, err_t *e);
void follow_entries_free(follow_entry_t *items, int n);

/* ==== notifications (notify.c) ==== */

typedef struct {
	int64_t id;
	char kind[12];
	user_ref_t actor;
	int64_t post_id, comment_id; /* 0: none */
	char *post_title, *comment_body;
	int64_t message_id, channel_id, community_id; /* a mention in a channel message; 0: none */
	char *message_body;			      /* its first 200 characters */
	bool read;
	int64_t created_at;
} notification_t;

/* Adds a notification unless actor == user or either blocked the other. */
bool notify_add(db_conn_t *c, int64_t user_id, const char *kind, int64_t actor, int64_t post_id,
		int64_t comment_id, err_t *e);
/* A mention of user_id in a channel message. */
bool notify_message_mention(db_conn_t *c, int64_t user_id, int64_t actor, int64_t message_id, err_t *e);
/* Notifies each @username mentioned in text (up to 10), except the actor and `skip`. */
bool notify_mentions(db_conn_t *c, const char *text, int64_t actor, int64_t post_id, int64_t comment_id,
		     int64_t skip, err_t *e);
bool notify_list(db_conn_t *c, int64_t user_id, bool unread_only, int64_t before, int limit,
		 notification_t **out, int *count, int64_t *next, err_t *e);
bool notify_unread_count(db_conn_t *c, int64_t user_id, int64_t *out, err_t *e);
/* ids NULL: all. */
bool notify_mark_read(db_conn_t *c, int64_t user_id, const int64_t *ids, int n, err_t *e);
void notifications_free(notification_t *items, int n);

#endif
