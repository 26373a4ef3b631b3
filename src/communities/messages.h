/*
 * messages.h — the messages of community channels: send, list, edit, delete,
 * reactions, pins and read state (docs/communities-api.md, "Messages").
 *
 * Every function checks the caller's permissions in the channel with
 * perm_channel(): a channel (or a message in a channel) the caller may not
 * view is not found (ERR_NOT_FOUND "channel_not_found" / "message_not_found");
 * a missing permission is ERR_FORBIDDEN "missing_permission" with the
 * permission's name in the detail, and changes nothing.
 *
 * Every change is one transaction (a message and its channel's
 * last_message_id, a delete and its audit row, mention notifications with
 * the message that makes them). Nothing here publishes gateway events: the
 * caller does, after the function has returned (i.e. after the commit), with
 * the ids it returns.
 *
 * Ownership: message_t owns its heap parts; release it with message_clear(),
 * arrays with messages_free().
 */
#ifndef COSMIV_MESSAGES_H
#define COSMIV_MESSAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "communities/perms.h"
#include "core/err.h"
#include "db/db.h"
#include "social/social.h"

#define MESSAGE_CONTENT_MAX   4000 /* code points, after trimming */
#define MESSAGE_PAGE_DEFAULT  50
#define MESSAGE_PAGE_MAX      100
#define MESSAGE_REPLY_PREVIEW 200 /* code points of the replied-to message shown */
#define MESSAGE_MENTIONS_MAX  20  /* distinct @names looked up per message */
#define MESSAGE_EMOJI_MAX     32  /* bytes */
#define MESSAGE_REACTIONS_MAX 20  /* distinct emoji per message */
#define CHANNEL_PINS_MAX      50

typedef struct {
	char *emoji;
	int64_t count;
	bool me; /* the viewer the message was loaded for reacted with it */
} msg_reaction_t;

typedef struct {
	int64_t id, channel_id, community_id;
	int64_t author_id; /* 0: the account is gone (author null) */
	user_ref_t author;
	char *content;
	/* the replied-to message, when there is one and it still exists */
	int64_t reply_id;		 /* 0: no preview (reply_to null) */
	char *reply_author;		 /* NULL when its author is gone */
	char *reply_content;		 /* its first MESSAGE_REPLY_PREVIEW code points */
	int64_t clip_id;		 /* 0: no clip */
	bool clip_ready, clip_has_thumb; /* the clip is shown only when ready */
	int64_t clip_duration_ms;
	int clip_width, clip_height;
	char *mentions; /* JSON array text of user id strings */
	bool mention_everyone, pinned;
	int64_t edited_at; /* 0: never edited */
	int64_t created_at;
	msg_reaction_t *reactions; /* by first use */
	int nreactions;
} message_t;

typedef struct {
	const char *content;
	int64_t reply_to; /* 0: none */
	int64_t clip_id;  /* 0: none */
} message_spec_t;

typedef enum { MSG_LATEST = 0, MSG_BEFORE, MSG_AFTER, MSG_AROUND } msg_dir_t;

void message_clear(message_t *m);
void messages_free(message_t *items, int n);

/* Validates a reaction emoji: 1..MESSAGE_EMOJI_MAX bytes of valid UTF-8 with no whitespace or
 * control characters (ERR_INVALID "invalid_emoji"). */
bool messages_valid_emoji(const char *emoji, err_t *e);

/* Sends a message (SEND_MESSAGES; ATTACH_CLIPS for a clip, which must be the author's own and
 * ready; reply_to a message of the same channel). Content is trimmed, 1..MESSAGE_CONTENT_MAX code
 * points. @username mentions members who may view the channel (each is notified); @everyone sets
 * mention_everyone only with MENTION_EVERYONE. *out is the new message as the author sees it. */
bool messages_create(db_conn_t *c, int64_t channel_id, int64_t author_id, const message_spec_t *spec,
		     message_t *out, err_t *e);

/* One message as viewer sees it (reactions' `me` for viewer); "message_not_found" when it does not
 * exist or viewer may not view its channel. */
bool messages_get(db_conn_t *c, int64_t message_id, int64_t viewer, message_t *out, err_t *e);

/*
 * A page of a channel's messages, oldest → newest. dir/anchor: MSG_LATEST (the newest), MSG_BEFORE
 * (older than anchor), MSG_AFTER (newer than anchor) or MSG_AROUND (up to limit/2 older than anchor,
 * the rest anchor and newer). *has_more: older messages exist (latest, before), newer ones exist
 * (after), either (around).
 */
bool messages_list(db_conn_t *c, int64_t channel_id, int64_t viewer, msg_dir_t dir, int64_t anchor, int limit,
		   message_t **out, int *count, bool *has_more, err_t *e);

/* The channel's pinned messages, oldest → newest (at most CHANNEL_PINS_MAX). */
bool messages_pins(db_conn_t *c, int64_t channel_id, int64_t viewer, message_t **out, int *count, err_t *e);

/* Edits a message's content (its author only: ERR_FORBIDDEN "not_author"); mentions are worked out
 * again and newly mentioned members notified. */
bool messages_edit(db_conn_t *c, int64_t message_id, int64_t user_id, const char *content, message_t *out,
		   err_t *e);

/* Deletes a message: its author, or anyone with MANAGE_MESSAGES (which writes an audit_log row
 * "message_delete" when it is someone else's). *channel_id and *community_id say where it was. */
bool messages_delete(db_conn_t *c, int64_t message_id, int64_t actor, int64_t *channel_id,
		     int64_t *community_id, err_t *e);

/* Adds (on) or removes (!on) the user's reaction. Adding needs ADD_REACTIONS and at most
 * MESSAGE_REACTIONS_MAX distinct emoji per message (ERR_CONFLICT "too_many_reactions"); both are
 * idempotent: *changed says whether a row was added or removed. */
bool messages_react(db_conn_t *c, int64_t message_id, int64_t user_id, const char *emoji, bool on,
		    bool *changed, int64_t *channel_id, int64_t *community_id, err_t *e);

/* Pins or unpins (MANAGE_MESSAGES; at most CHANNEL_PINS_MAX per channel: ERR_CONFLICT
 * "too_many_pins"). *changed says whether it changed; *out is the message after it. */
bool messages_pin(db_conn_t *c, int64_t message_id, int64_t user_id, bool on, bool *changed, message_t *out,
		  err_t *e);

/* Marks the channel read up to message_id (never backwards). message_id must be 1..the channel's
 * last_message_id (ERR_INVALID "invalid_message_id"). */
bool messages_ack(db_conn_t *c, int64_t channel_id, int64_t user_id, int64_t message_id, err_t *e);
/* The user's read marker in a channel (0: never acked). */
bool messages_last_read(db_conn_t *c, int64_t channel_id, int64_t user_id, int64_t *out, err_t *e);

#endif
