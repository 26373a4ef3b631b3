/*
 * communities.h — communities (Discord-like servers): the community itself,
 * channels and their permission overwrites, roles, members, invites, bans
 * and the moderation audit log. The contract is docs/communities-api.md,
 * the permission rules docs/permissions.md (computed by perms.c only).
 *
 * Every function takes the acting user and checks what they may do:
 * something they may not see is ERR_NOT_FOUND (community_not_found,
 * channel_not_found, role_not_found, member_not_found, invite_not_found),
 * something they see but may not do is ERR_FORBIDDEN missing_permission
 * (the permission named in the detail) or role_hierarchy. Each change and
 * its audit row are one transaction; member_count changes with the
 * membership rows. Nothing here publishes events: the caller does, after
 * the function returned (the change has committed by then).
 *
 * Ownership: the structs own their heap strings and arrays; release them
 * with the matching *_clear / *_free function.
 */
#ifndef COSMIV_COMMUNITIES_H
#define COSMIV_COMMUNITIES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "communities/perms.h"
#include "core/err.h"
#include "db/db.h"
#include "social/social.h"

#define COMMUNITY_NAME_MIN	2
#define COMMUNITY_NAME_MAX	100
#define COMMUNITY_DESC_MAX	1000
#define COMMUNITY_ICON_MAX	16
#define COMMUNITIES_PER_OWNER	100
#define CHANNEL_NAME_MAX	100
#define CHANNEL_CATEGORY_MAX	100
#define CHANNEL_TOPIC_MAX	1024
#define CHANNELS_PER_COMMUNITY	500
#define ROLE_NAME_MAX		100
#define ROLE_COLOR_MAX		16777215
#define ROLES_PER_COMMUNITY	250
#define BAN_REASON_MAX		512
#define INVITE_CODE_LEN		10
#define INVITE_MAX_USES		1000
#define INVITE_MAX_AGE_S	2592000
#define INVITE_DEFAULT_AGE_S	604800
#define COMMUNITY_BANS_LIST_MAX 1000

typedef struct {
	int64_t id, owner_id, member_count, created_at;
	char *name, *description, *icon; /* icon NULL when unset */
	bool is_public;
	bool joined;	 /* the caller is a member */
	perm_t my_perms; /* community-wide; 0 when not joined */
} community_t;

typedef struct {
	int64_t id, community_id, last_message_id, last_read_id, created_at;
	char *name, *category, *topic; /* category, topic NULL when unset */
	char type[16];		       /* "text" | "announcement" */
	int position;
	perm_t my_perms;
	perm_overwrite_t *ow;
	int now;
} channel_t;

typedef struct {
	int64_t id, community_id, created_at;
	char *name;
	int color, position;
	perm_t permissions;
	bool is_everyone;
} role_t;

typedef struct {
	int64_t community_id, joined_at;
	user_ref_t user;
	char *nick; /* NULL when unset */
	int64_t *roles;
	int nroles;
} member_t;

typedef struct {
	char code[INVITE_CODE_LEN + 1];
	int64_t community_id, inviter_id, expires_at, created_at; /* inviter 0: gone; expires 0: never */
	int max_uses, uses;
} invite_t;

typedef struct {
	user_ref_t user;
	char *reason;
	int64_t banned_by, created_at;
} ban_t;

typedef struct {
	int64_t id, community_id, actor_id, target_id, created_at;
	char action[32], target_type[16];
	char *detail; /* JSON object text */
} audit_t;

/* A create or a partial update: set_x says the field was sent (x NULL clears where allowed). */
typedef struct {
	const char *name, *description, *icon;
	bool is_public;
	bool set_name, set_description, set_icon, set_public;
} community_spec_t;

typedef struct {
	const char *name, *type, *category, *topic;
	int position;
	bool set_name, set_category, set_topic, set_position;
} channel_spec_t;

typedef struct {
	const char *name;
	int color, position;
	perm_t permissions;
	bool set_name, set_color, set_position, set_permissions;
} role_spec_t;

void community_clear(community_t *x);
void communities_free(community_t *items, int n);
void channel_clear(channel_t *x);
void channels_free(channel_t *items, int n);
void role_clear(role_t *x);
void roles_free(role_t *items, int n);
void member_clear(member_t *x);
void members_free(member_t *items, int n);
void bans_free(ban_t *items, int n);
void audits_free(audit_t *items, int n);

/* ==== communities (communities.c) ==== */

bool community_create(db_conn_t *c, int64_t user_id, const community_spec_t *sp, community_t *out, err_t *e);
/* Every community the user is in, newest join first. */
bool communities_mine(db_conn_t *c, int64_t user_id, community_t **out, int *count, err_t *e);
/* Public communities whose name contains q (ASCII case-insensitive; NULL/"" all), biggest first.
 * before: the last id of the previous page (0: from the top). */
bool communities_discover(db_conn_t *c, int64_t user_id, const char *q, int64_t before, int limit,
			  community_t **out, int *count, int64_t *next, err_t *e);
/* The community for a member; its profile for anyone when public (joined false). */
bool community_get(db_conn_t *c, int64_t id, int64_t user_id, community_t *out, err_t *e);
bool community_update(db_conn_t *c, int64_t id, int64_t user_id, const community_spec_t *sp, community_t *out,
		      err_t *e);
bool community_delete(db_conn_t *c, int64_t id, int64_t user_id, err_t *e);
/* Public communities; *joined false when already a member (nothing changed). */
bool community_join(db_conn_t *c, int64_t id, int64_t user_id, community_t *out, bool *joined, err_t *e);
bool community_leave(db_conn_t *c, int64_t id, int64_t user_id, err_t *e);
/* VIEW_AUDIT_LOG; newest first. */
bool community_audit_list(db_conn_t *c, int64_t id, int64_t user_id, int64_t before, int limit, audit_t **out,
			  int *count, int64_t *next, err_t *e);
/* Writes one audit row (inside the caller's transaction). detail: a JSON object (borrowed) or NULL. */
bool community_audit(db_conn_t *c, int64_t community_id, int64_t actor_id, const char *action,
		     const char *target_type, int64_t target_id, json_t *detail, err_t *e);

/* ==== channels (channels.c) ==== */

/* Lower-cased, trimmed, runs of spaces become one '-'; false when nothing is left. */
bool channel_normalise_name(const char *in, char *out, size_t outlen);
/* The channels the user may view, by position. */
bool channels_list(db_conn_t *c, int64_t community_id, int64_t user_id, channel_t **out, int *count,
		   err_t *e);
bool channel_get(db_conn_t *c, int64_t id, int64_t user_id, channel_t *out, err_t *e);
bool channel_create(db_conn_t *c, int64_t community_id, int64_t user_id, const channel_spec_t *sp,
		    channel_t *out, err_t *e);
bool channel_update(db_conn_t *c, int64_t id, int64_t user_id, const channel_spec_t *sp, channel_t *out,
		    err_t *e);
bool channel_delete(db_conn_t *c, int64_t id, int64_t user_id, int64_t *community_id, err_t *e);
/* target_type "role" | "member". Sets (allow, deny) or, with remove, deletes the overwrite. */
bool channel_overwrite(db_conn_t *c, int64_t id, int64_t user_id, const char *target_type, int64_t target_id,
		       bool remove, perm_t allow, perm_t deny, channel_t *out, err_t *e);

/* ==== roles (roles.c) ==== */

/* Every role of the community, by position (@everyone first). */
bool roles_list(db_conn_t *c, int64_t community_id, int64_t user_id, role_t **out, int *count, err_t *e);
bool role_create(db_conn_t *c, int64_t community_id, int64_t user_id, const role_spec_t *sp, role_t *out,
		 err_t *e);
bool role_update(db_conn_t *c, int64_t community_id, int64_t role_id, int64_t user_id, const role_spec_t *sp,
		 role_t *out, err_t *e);
bool role_delete(db_conn_t *c, int64_t community_id, int64_t role_id, int64_t user_id, err_t *e);
/* Gives (on) or takes (!on) target's role; *changed false when it already was so. */
bool member_role_set(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t role_id, int64_t user_id,
		     bool on, bool *changed, err_t *e);

/* ==== members, bans, invites (members.c) ==== */

/* Members by user id ascending; after: the last user id of the previous page (0: from the start). */
bool members_list(db_conn_t *c, int64_t community_id, int64_t user_id, int64_t after, int limit,
		  member_t **out, int *count, int64_t *next, err_t *e);
bool member_get(db_conn_t *c, int64_t community_id, int64_t target_id, member_t *out, err_t *e);
/* Before an account is deleted (inside its transaction): member counts of the communities it leaves. */
bool communities_user_leaving(db_conn_t *c, int64_t user_id, err_t *e);
bool member_kick(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, err_t *e);
/* *was_member tells whether a membership ended. */
bool member_ban(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, const char *reason,
		bool *was_member, err_t *e);
bool member_unban(db_conn_t *c, int64_t community_id, int64_t target_id, int64_t user_id, err_t *e);
bool bans_list(db_conn_t *c, int64_t community_id, int64_t user_id, ban_t **out, int *count, err_t *e);
/* expires_in_s 0: never. */
bool invite_create(db_conn_t *c, int64_t community_id, int64_t user_id, int max_uses, int64_t expires_in_s,
		   invite_t *out, err_t *e);
/* A usable invite and its community (the profile fields), or ERR_NOT_FOUND invite_not_found. */
bool invite_get(db_conn_t *c, const char *code, invite_t *inv, community_t *com, err_t *e);
/* *joined false when already a member (the invite is not used). */
bool invite_accept(db_conn_t *c, const char *code, int64_t user_id, community_t *out, bool *joined, err_t *e);

/* ==== shared by the module's files ==== */

/* What the actor may do in a community: permissions, owner, rank (the owner: INT_MAX). */
typedef struct {
	int64_t community_id, owner_id;
	perm_t perms;
	int rank;
} comm_actor_t;

/* ERR_NOT_FOUND community_not_found unless the user is a member. */
bool comm_actor(db_conn_t *c, int64_t community_id, int64_t user_id, comm_actor_t *out, err_t *e);
/* false + ERR_FORBIDDEN missing_permission naming the bit when have lacks it. */
bool comm_need(perm_t have, perm_t bit, err_t *e);
const char *perm_name(perm_t bit);
/* Takes the community row's write lock (PostgreSQL) so concurrent changes to it queue; ERR_NOT_FOUND. */
bool comm_lock(db_conn_t *c, int64_t community_id, err_t *e);
/* Runs one statement to DB_DONE; *changes (may be NULL) gets the rows changed. */
bool comm_exec(db_stmt_t *s, int64_t *changes, err_t *e);
bool comm_is_member(db_conn_t *c, int64_t community_id, int64_t user_id, bool *out, err_t *e);
bool comm_is_banned(db_conn_t *c, int64_t community_id, int64_t user_id, bool *out, err_t *e);
/* Adds a member (inside the caller's transaction) and counts them. */
bool comm_add_member(db_conn_t *c, int64_t community_id, int64_t user_id, err_t *e);
/* Removes a member and their roles; *removed false when they were not one. */
bool comm_remove_member(db_conn_t *c, int64_t community_id, int64_t user_id, bool *removed, err_t *e);
/* Reads a community row (no `me`). */
bool comm_load(db_conn_t *c, int64_t id, community_t *out, err_t *e);
/* Fills out->joined and out->my_perms for user_id. */
bool comm_fill_me(db_conn_t *c, community_t *out, int64_t user_id, err_t *e);
char *comm_dup(const char *s);
bool comm_insert_channel(db_conn_t *c, int64_t id, int64_t community_id, const char *name, const char *type,
			 const char *category, const char *topic, int position, err_t *e);
/* ERR_NOT_FOUND community_not_found. */
bool comm_not_found(err_t *e);
/* Commits when ok, else rolls back; true when it committed. */
bool comm_finish(db_conn_t *c, bool ok, err_t *e);
/* UPDATE … SET x = ? WHERE id = ? with a text value (NULL binds NULL). */
bool comm_set_text(db_conn_t *c, const char *sql, const char *v, int64_t id, err_t *e);
/* Whether the query with two integer parameters returns a row. */
bool comm_exists(db_conn_t *c, const char *sql, int64_t a, int64_t b, bool *out, err_t *e);

#endif
