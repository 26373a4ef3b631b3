/*
 * social_json.h — JSON renderings shared by social_api.c, feed_api.c and messages_api.c.
 */
#ifndef COSMIV_API_SOCIAL_JSON_H
#define COSMIV_API_SOCIAL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "social/social.h"

/* {id, username, display_name, avatar_url} */
json_t *api_user_ref_json(const user_ref_t *u);
/* A ready clip as posts and messages show it: {id, duration_s, width, height, thumbnail_url,
 * playback_url} with signed URLs (thumbnail_url null without a poster frame). */
json_t *api_clip_json(int64_t id, int64_t duration_ms, int width, int height, bool has_thumb);
/* The JSON text of {items: [post…], next_cursor} (next NULL: null); reasons (may be NULL) adds each
 * For you item's reasons. The caller frees the result; *len is its length. */
char *api_posts_page(const post_t *items, int n, const uint32_t *reasons, const char *next, size_t *len);
/* The same page for the posts `ids` in that order, as `viewer` sees them, from the shared rendered
 * posts where they are fresh and the database otherwise; posts gone since are left out. */
bool api_feed_page(db_conn_t *c, const int64_t *ids, const uint32_t *reasons, int n, int64_t viewer,
		   const char *next, char **body, size_t *len, err_t *e);

#endif
