/*
 * snapshot.h — what a gateway session starts from: the communities a user is
 * in with the channels they may view (the `ready` payload of docs/gateway.md).
 */
#ifndef COSMIV_SNAPSHOT_H
#define COSMIV_SNAPSHOT_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

/* [{id, name, icon, owner_id, public, my_permissions, channels:[…]}] (new reference in *out). */
bool snapshot_communities(db_conn_t *c, int64_t user_id, json_t **out, err_t *e);
/* The communities of user_id with at most max_members members (presence is pushed only in those):
 * heap array in *ids. */
bool snapshot_presence_communities(db_conn_t *c, int64_t user_id, int max_members, int64_t **ids, int *n,
				   err_t *e);

#endif
