/*
 * social_json.h — JSON renderings shared by social_api.c and feed_api.c.
 */
#ifndef COSMIV_API_SOCIAL_JSON_H
#define COSMIV_API_SOCIAL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "social/social.h"

/* {id, username, display_name, avatar_url} */
json_t *api_user_ref_json(const user_ref_t *u);
/* The JSON text of {items: [post…], next_cursor} (next NULL: null); reasons (may be NULL) adds each
 * For you item's reasons. The caller frees the result; *len is its length. */
char *api_posts_page(const post_t *items, int n, const uint32_t *reasons, const char *next, size_t *len);

#endif
