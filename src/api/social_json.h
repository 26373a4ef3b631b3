/*
 * social_json.h — JSON renderings shared by social_api.c and feed_api.c.
 */
#ifndef COSMIV_API_SOCIAL_JSON_H
#define COSMIV_API_SOCIAL_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "social/social.h"

/* {id, username, display_name, avatar_url} */
json_t *api_user_ref_json(const user_ref_t *u);
/* {items: [post…], next_cursor}; reasons (may be NULL) adds each For you item's reasons. Steals next. */
json_t *api_posts_page_json(post_t *items, int n, const uint32_t *reasons, json_t *next);

#endif
