/*
 * perms.h — community permissions: a 64-bit bitfield per role, per-channel
 * allow/deny overwrites, and the one function that computes what a member may
 * do (docs/permissions.md).
 *
 *   base     = @everyone | every role of the member          (OR of bits)
 *   owner    → everything;  base has ADMINISTRATOR → everything
 *   channel  : base &= ~everyone.deny, |= everyone.allow
 *              then the member's roles: &= ~(OR of their denies), |= (OR of their allows)
 *              then the member's own overwrite: &= ~deny, |= allow
 *   a channel the member cannot VIEW grants nothing else in it.
 *
 * perm_compute() is pure (table-driven unit test); perm_load_*() read what it
 * needs from the database; perm_cache_t holds one community's roles and
 * overwrites for the gateway, which checks every event against it.
 */
#ifndef COSMIV_PERMS_H
#define COSMIV_PERMS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

typedef uint64_t perm_t;

#define PERM_VIEW_CHANNEL     (UINT64_C(1) << 0)
#define PERM_SEND_MESSAGES    (UINT64_C(1) << 1)
#define PERM_MANAGE_MESSAGES  (UINT64_C(1) << 2)
#define PERM_MANAGE_CHANNELS  (UINT64_C(1) << 3)
#define PERM_MANAGE_ROLES     (UINT64_C(1) << 4)
#define PERM_KICK_MEMBERS     (UINT64_C(1) << 5)
#define PERM_BAN_MEMBERS      (UINT64_C(1) << 6)
#define PERM_MENTION_EVERYONE (UINT64_C(1) << 7)
#define PERM_ADD_REACTIONS    (UINT64_C(1) << 8)
#define PERM_ATTACH_CLIPS     (UINT64_C(1) << 9)
#define PERM_ADMINISTRATOR    (UINT64_C(1) << 10)
#define PERM_CREATE_INVITE    (UINT64_C(1) << 11)
#define PERM_MANAGE_COMMUNITY (UINT64_C(1) << 12)
#define PERM_VIEW_AUDIT_LOG   (UINT64_C(1) << 13)
#define PERM_ALL	      ((UINT64_C(1) << 14) - 1)

/* What @everyone may do in a new community. */
#define PERM_EVERYONE_DEFAULT                                                                                \
	(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_ADD_REACTIONS | PERM_ATTACH_CLIPS | PERM_CREATE_INVITE)

typedef struct {
	int64_t id;
	int position;
	perm_t permissions;
} perm_role_t;

typedef struct {
	bool member; /* target is a user id, else a role id (the community id for @everyone) */
	int64_t target_id;
	perm_t allow, deny;
} perm_overwrite_t;

/* The inputs for one member in one community (and optionally one channel). */
typedef struct {
	int64_t community_id; /* also the id of @everyone */
	int64_t owner_id;
	int64_t user_id;
	perm_t everyone;	  /* @everyone's permissions */
	const perm_role_t *roles; /* the member's roles (not @everyone) */
	int nroles;
	const perm_overwrite_t *overwrites; /* the channel's; NULL/0 for community-wide */
	int noverwrites;
	bool in_channel; /* apply overwrites and the VIEW rule */
} perm_input_t;

perm_t perm_compute(const perm_input_t *in);

/* Decimal string form for JSON ("1234"); out needs 21 bytes. */
void perm_format(perm_t p, char out[21]);
/* Parses a decimal string; false when it is not one or has bits outside PERM_ALL. */
bool perm_parse(const char *s, perm_t *out);

/* ==== From the database ==== */

/* The caller's community-wide permissions. ERR_NOT_FOUND "community_not_found" when
 * the community does not exist or the user is not a member (the two are not told apart). */
bool perm_community(db_conn_t *c, int64_t community_id, int64_t user_id, perm_t *out, err_t *e);
/* The caller's permissions in a channel, and its community. ERR_NOT_FOUND
 * "channel_not_found" when the channel does not exist, the user is not a member, or
 * cannot view it. */
bool perm_channel(db_conn_t *c, int64_t channel_id, int64_t user_id, perm_t *out, int64_t *community_id,
		  err_t *e);
/* The highest role position of a member (the owner: INT32_MAX; not a member: -1). */
bool perm_top_position(db_conn_t *c, int64_t community_id, int64_t user_id, int *out, err_t *e);

/* ==== One community's rules, held in memory (the gateway's filter) ==== */

typedef struct {
	int64_t channel_id;
	perm_overwrite_t *ow;
	int now;
} perm_channel_rules_t;

typedef struct {
	int64_t community_id;
	int64_t owner_id;
	perm_t everyone;
	perm_role_t *roles; /* every role except @everyone, sorted by id */
	int nroles;
	perm_channel_rules_t *channels; /* sorted by channel id */
	int nchannels;
} perm_cache_t;

/* Loads the community's roles, channels and overwrites. ERR_NOT_FOUND when gone. */
bool perm_cache_load(db_conn_t *c, int64_t community_id, perm_cache_t *out, err_t *e);
void perm_cache_free(perm_cache_t *pc);
/* Role ids of a member in every community they belong to: parallel arrays, heap, sorted
 * by community. A member with no roles still appears once with role 0. */
bool perm_member_roles(db_conn_t *c, int64_t user_id, int64_t **community_ids, int64_t **role_ids, int *n,
		       err_t *e);
/* The member's permissions in a channel of the cached community (0 when the channel is unknown). */
perm_t perm_cache_channel(const perm_cache_t *pc, int64_t user_id, const int64_t *role_ids, int nroles,
			  int64_t channel_id);

#endif
