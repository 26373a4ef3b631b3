/*
 * unit.h — shared helpers for the cmocka unit tests (header-only: every test
 * file is its own executable).
 *
 *   tmpdir_make / tmpdir_remove   a private scratch directory under /tmp
 *   unit_pg_url                   COSMIV_TEST_PG_URL or NULL (PostgreSQL cases skip())
 *   unit_pg_schema_url            the same URL with search_path set to a private schema
 */
#ifndef COSMIV_TEST_UNIT_H
#define COSMIV_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/util.h"

#define assert_err(e, k, c)                                                                                  \
	do {                                                                                                 \
		assert_int_equal((e)->kind, (k));                                                            \
		assert_string_equal((e)->code, (c));                                                         \
	} while (0)

static inline void unit_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
}

/* Makes /tmp/cosmiv-unit-XXXXXX; out must hold 32 bytes. */
static inline void tmpdir_make(char out[32])
{
	snprintf(out, 32, "%s", "/tmp/cosmiv-unit-XXXXXX");
	assert_non_null(mkdtemp(out));
}

static inline int unit_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tmpdir_remove(const char *dir)
{
	if (dir && dir[0])
		nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *unit_pg_url(void)
{
	const char *u = getenv("COSMIV_TEST_PG_URL");
	return u && u[0] ? u : NULL;
}

/* The scratch database URL with search_path set to `schema` (caller frees). */
static inline char *unit_pg_schema_url(const char *schema)
{
	const char *base = unit_pg_url();
	return xasprintf("%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?', schema);
}

#endif
