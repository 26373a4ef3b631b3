/*
 * seed.h — demo data for the social side (see seed.c for its shape).
 */
#ifndef COSMIV_SEED_H
#define COSMIV_SEED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

typedef struct {
	int64_t posts;
	int64_t follows_per_user;
	bool reuse_clips; /* attach the instance's ready clips to seeded posts, so the demo feed plays */
} seed_opts_t;

typedef struct {
	int64_t posts, follows, comments;
} seed_stats_t;

/* Adds follows among all users and `posts` posts by them; recomputes the social counters. */
bool seed_social(db_conn_t *c, const seed_opts_t *o, seed_stats_t *st, err_t *e);

#endif
