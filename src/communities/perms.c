/*
 * perms.c — the effective-permission computation (docs/permissions.md) and
 * the reads that feed it.
 */
#include "communities/perms.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

perm_t perm_compute(const perm_input_t *in)
{
	if (in->user_id == in->owner_id)
		return PERM_ALL;
	perm_t p = in->everyone;
	for (int i = 0; i < in->nroles; i++)
		p |= in->roles[i].permissions;
	if (p & PERM_ADMINISTRATOR)
		return PERM_ALL;
	if (!in->in_channel)
		return p;

	/* @everyone's overwrite, then the member's roles together, then the member. */
	perm_t role_allow = 0, role_deny = 0;
	const perm_overwrite_t *everyone = NULL, *member = NULL;
	for (int i = 0; i < in->noverwrites; i++) {
		const perm_overwrite_t *o = &in->overwrites[i];
		if (o->member) {
			if (o->target_id == in->user_id)
				member = o;
		} else if (o->target_id == in->community_id) {
			everyone = o;
		} else {
			for (int j = 0; j < in->nroles; j++)
				if (in->roles[j].id == o->target_id) {
					role_allow |= o->allow;
					role_deny |= o->deny;
					break;
				}
		}
	}
	if (everyone)
		p = (p & ~everyone->deny) | everyone->allow;
	p = (p & ~role_deny) | role_allow;
	if (member)
		p = (p & ~member->deny) | member->allow;
	if (!(p & PERM_VIEW_CHANNEL))
		return 0;
	return p & PERM_ALL;
}

void perm_format(perm_t p, char out[21])
{
	snprintf(out, 21, "%llu", (unsigned long long)p);
}

bool perm_parse(const char *s, perm_t *out)
{
	if (!s || !*s || strlen(s) > 20)
		return false;
	uint64_t v = 0;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return false;
		uint64_t d = (uint64_t)(*q - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v & ~PERM_ALL)
		return false;
	*out = v;
	return true;
}

/* ==== database ==== */

/* Owner, @everyone's bits and whether the user is a member. */
static bool load_base(db_conn_t *c, int64_t community_id, int64_t user_id, int64_t *owner, perm_t *everyone,
		      bool *member, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT c.owner_id, r.permissions, "
		       "(SELECT COUNT(*) FROM members m WHERE m.community_id = c.id AND m.user_id = ?) "
		       "FROM communities c JOIN roles r ON r.id = c.id WHERE c.id = ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	db_bind_i64(s, 2, community_id);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		*owner = db_col_i64(s, 0);
		*everyone = (perm_t)db_col_i64(s, 1);
		*member = db_col_i64(s, 2) > 0;
	}
	db_finish(s);
	if (rc == DB_ERROR)
		return false;
	if (rc != DB_ROW) {
		*member = false;
		*owner = 0;
		*everyone = 0;
	}
	return true;
}

/* The member's roles (not @everyone): heap array in *roles. */
static bool load_roles(db_conn_t *c, int64_t community_id, int64_t user_id, perm_role_t **roles, int *n,
		       err_t *e)
{
	*roles = NULL;
	*n = 0;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT r.id, r.position, r.permissions FROM member_roles mr "
		       "JOIN roles r ON r.id = mr.role_id WHERE mr.community_id = ? AND mr.user_id = ? "
		       "ORDER BY r.id",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	db_bind_i64(s, 2, user_id);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*roles = xrealloc(*roles, (size_t)cap * sizeof **roles);
		}
		(*roles)[*n].id = db_col_i64(s, 0);
		(*roles)[*n].position = (int)db_col_i64(s, 1);
		(*roles)[*n].permissions = (perm_t)db_col_i64(s, 2);
		(*n)++;
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(*roles);
		*roles = NULL;
		*n = 0;
		return false;
	}
	return true;
}

static bool load_overwrites(db_conn_t *c, int64_t channel_id, perm_overwrite_t **ow, int *n, err_t *e)
{
	*ow = NULL;
	*n = 0;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT target_type, target_id, allow_bits, deny_bits FROM channel_overwrites "
		       "WHERE channel_id = ?",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, channel_id);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*ow = xrealloc(*ow, (size_t)cap * sizeof **ow);
		}
		const char *t = db_col_text(s, 0);
		(*ow)[*n].member = t && strcmp(t, "member") == 0;
		(*ow)[*n].target_id = db_col_i64(s, 1);
		(*ow)[*n].allow = (perm_t)db_col_i64(s, 2);
		(*ow)[*n].deny = (perm_t)db_col_i64(s, 3);
		(*n)++;
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(*ow);
		*ow = NULL;
		*n = 0;
		return false;
	}
	return true;
}

bool perm_community(db_conn_t *c, int64_t community_id, int64_t user_id, perm_t *out, err_t *e)
{
	int64_t owner;
	perm_t everyone;
	bool member;
	if (!load_base(c, community_id, user_id, &owner, &everyone, &member, e))
		return false;
	if (!member)
		return err_set(e, ERR_NOT_FOUND, "community_not_found", NULL, "no such community");
	perm_role_t *roles;
	int n;
	if (!load_roles(c, community_id, user_id, &roles, &n, e))
		return false;
	perm_input_t in = {.community_id = community_id,
			   .owner_id = owner,
			   .user_id = user_id,
			   .everyone = everyone,
			   .roles = roles,
			   .nroles = n};
	*out = perm_compute(&in);
	free(roles);
	return true;
}

bool perm_channel(db_conn_t *c, int64_t channel_id, int64_t user_id, perm_t *out, int64_t *community_id,
		  err_t *e)
{
	int64_t cid;
	bool found =
	    db_query_i64(c, "SELECT community_id FROM channels WHERE id = ?", &cid, e, 1, channel_id);
	if (!found) {
		if (e->kind == ERR_NOT_FOUND)
			return err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
		return false;
	}
	int64_t owner;
	perm_t everyone;
	bool member;
	if (!load_base(c, cid, user_id, &owner, &everyone, &member, e))
		return false;
	if (!member)
		return err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
	perm_role_t *roles;
	int nroles;
	if (!load_roles(c, cid, user_id, &roles, &nroles, e))
		return false;
	perm_overwrite_t *ow;
	int now;
	if (!load_overwrites(c, channel_id, &ow, &now, e)) {
		free(roles);
		return false;
	}
	perm_input_t in = {.community_id = cid,
			   .owner_id = owner,
			   .user_id = user_id,
			   .everyone = everyone,
			   .roles = roles,
			   .nroles = nroles,
			   .overwrites = ow,
			   .noverwrites = now,
			   .in_channel = true};
	perm_t p = perm_compute(&in);
	free(roles);
	free(ow);
	if (!(p & PERM_VIEW_CHANNEL))
		return err_set(e, ERR_NOT_FOUND, "channel_not_found", NULL, "no such channel");
	*out = p;
	if (community_id)
		*community_id = cid;
	return true;
}

bool perm_top_position(db_conn_t *c, int64_t community_id, int64_t user_id, int *out, err_t *e)
{
	int64_t owner;
	perm_t everyone;
	bool member;
	if (!load_base(c, community_id, user_id, &owner, &everyone, &member, e))
		return false;
	if (!member) {
		*out = -1;
		return true;
	}
	if (owner == user_id) {
		*out = INT_MAX;
		return true;
	}
	perm_role_t *roles;
	int n;
	if (!load_roles(c, community_id, user_id, &roles, &n, e))
		return false;
	int top = 0;
	for (int i = 0; i < n; i++)
		if (roles[i].position > top)
			top = roles[i].position;
	free(roles);
	*out = top;
	return true;
}

/* ==== the in-memory rules of one community ==== */

static int cmp_role(const void *a, const void *b)
{
	int64_t x = ((const perm_role_t *)a)->id, y = ((const perm_role_t *)b)->id;
	return (x > y) - (x < y);
}

static int cmp_chan(const void *a, const void *b)
{
	int64_t x = ((const perm_channel_rules_t *)a)->channel_id,
		y = ((const perm_channel_rules_t *)b)->channel_id;
	return (x > y) - (x < y);
}

void perm_cache_free(perm_cache_t *pc)
{
	if (!pc)
		return;
	free(pc->roles);
	for (int i = 0; i < pc->nchannels; i++)
		free(pc->channels[i].ow);
	free(pc->channels);
	memset(pc, 0, sizeof *pc);
}

static perm_channel_rules_t *find_chan(const perm_cache_t *pc, int64_t channel_id)
{
	perm_channel_rules_t key = {.channel_id = channel_id};
	if (pc->nchannels == 0)
		return NULL; /* bsearch and qsort want a real array, even an empty one */
	return bsearch(&key, pc->channels, (size_t)pc->nchannels, sizeof *pc->channels, cmp_chan);
}

bool perm_cache_load(db_conn_t *c, int64_t community_id, perm_cache_t *out, err_t *e)
{
	memset(out, 0, sizeof *out);
	out->community_id = community_id;
	int64_t owner;
	perm_t everyone;
	bool member;
	if (!load_base(c, community_id, 0, &owner, &everyone, &member, e))
		return false;
	if (owner == 0)
		return err_set(e, ERR_NOT_FOUND, "community_not_found", NULL, "no such community");
	out->owner_id = owner;
	out->everyone = everyone;

	db_stmt_t *s = db_prepare(c,
				  "SELECT id, position, permissions FROM roles WHERE community_id = ? AND "
				  "is_everyone = 0 ORDER BY id",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, community_id);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (out->nroles == cap) {
			cap = cap ? cap * 2 : 8;
			out->roles = xrealloc(out->roles, (size_t)cap * sizeof *out->roles);
		}
		perm_role_t *r = &out->roles[out->nroles++];
		r->id = db_col_i64(s, 0);
		r->position = (int)db_col_i64(s, 1);
		r->permissions = (perm_t)db_col_i64(s, 2);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;

	s = db_prepare(c, "SELECT id FROM channels WHERE community_id = ? ORDER BY id", e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, community_id);
	cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (out->nchannels == cap) {
			cap = cap ? cap * 2 : 8;
			out->channels = xrealloc(out->channels, (size_t)cap * sizeof *out->channels);
		}
		perm_channel_rules_t *ch = &out->channels[out->nchannels++];
		memset(ch, 0, sizeof *ch);
		ch->channel_id = db_col_i64(s, 0);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;

	s = db_prepare(
	    c,
	    "SELECT o.channel_id, o.target_type, o.target_id, o.allow_bits, o.deny_bits "
	    "FROM channel_overwrites o JOIN channels ch ON ch.id = o.channel_id WHERE ch.community_id = ?",
	    e);
	if (!s)
		goto fail;
	db_bind_i64(s, 1, community_id);
	while ((rc = db_step(s, e)) == DB_ROW) {
		perm_channel_rules_t *ch = find_chan(out, db_col_i64(s, 0));
		if (!ch)
			continue;
		ch->ow = xrealloc(ch->ow, (size_t)(ch->now + 1) * sizeof *ch->ow);
		perm_overwrite_t *o = &ch->ow[ch->now++];
		const char *t = db_col_text(s, 1);
		o->member = t && strcmp(t, "member") == 0;
		o->target_id = db_col_i64(s, 2);
		o->allow = (perm_t)db_col_i64(s, 3);
		o->deny = (perm_t)db_col_i64(s, 4);
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto fail;
	if (out->nroles > 1)
		qsort(out->roles, (size_t)out->nroles, sizeof *out->roles, cmp_role);
	return true;
fail:
	perm_cache_free(out);
	return false;
}

bool perm_member_roles(db_conn_t *c, int64_t user_id, int64_t **community_ids, int64_t **role_ids, int *n,
		       err_t *e)
{
	*community_ids = NULL;
	*role_ids = NULL;
	*n = 0;
	db_stmt_t *s =
	    db_prepare(c,
		       "SELECT m.community_id, COALESCE(mr.role_id, 0) FROM members m "
		       "LEFT JOIN member_roles mr ON mr.community_id = m.community_id AND mr.user_id = "
		       "m.user_id WHERE m.user_id = ? ORDER BY m.community_id, 2",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	int rc, cap = 0;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*community_ids = xrealloc(*community_ids, (size_t)cap * sizeof **community_ids);
			*role_ids = xrealloc(*role_ids, (size_t)cap * sizeof **role_ids);
		}
		(*community_ids)[*n] = db_col_i64(s, 0);
		(*role_ids)[*n] = db_col_i64(s, 1);
		(*n)++;
	}
	db_finish(s);
	if (rc == DB_ERROR) {
		free(*community_ids);
		free(*role_ids);
		*community_ids = *role_ids = NULL;
		*n = 0;
		return false;
	}
	return true;
}

perm_t perm_cache_channel(const perm_cache_t *pc, int64_t user_id, const int64_t *role_ids, int nroles,
			  int64_t channel_id)
{
	const perm_channel_rules_t *ch = find_chan(pc, channel_id);
	if (!ch)
		return 0;
	perm_role_t stack[16];
	perm_role_t *roles = nroles <= 16 ? stack : xmalloc((size_t)nroles * sizeof *roles);
	int n = 0;
	for (int i = 0; i < nroles; i++) {
		perm_role_t key = {.id = role_ids[i]};
		const perm_role_t *r =
		    pc->nroles ? bsearch(&key, pc->roles, (size_t)pc->nroles, sizeof *pc->roles, cmp_role)
			       : NULL;
		if (r)
			roles[n++] = *r;
	}
	perm_input_t in = {.community_id = pc->community_id,
			   .owner_id = pc->owner_id,
			   .user_id = user_id,
			   .everyone = pc->everyone,
			   .roles = roles,
			   .nroles = n,
			   .overwrites = ch->ow,
			   .noverwrites = ch->now,
			   .in_channel = true};
	perm_t p = perm_compute(&in);
	if (roles != stack)
		free(roles);
	return p;
}
