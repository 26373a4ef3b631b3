/*
 * seed.h — demo communities (see seed.c for their shape).
 */
#ifndef COSMIV_COMMUNITIES_SEED_H
#define COSMIV_COMMUNITIES_SEED_H

#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

typedef struct {
	int64_t communities, members, channels, messages, reactions;
} seed_communities_stats_t;

/* Adds `count` communities over the users in the database. */
bool seed_communities(db_conn_t *c, int64_t count, seed_communities_stats_t *st, err_t *e);

#endif
