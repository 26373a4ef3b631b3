/*
 * feed.c — New, Following, Trending and For you; preferences; cursors.
 * See feed.h for the paging design and docs/feed.md for the ranking.
 */
#include "social/feed.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/util.h"
#include "http/ratelimit.h"
#include "social/social.h"

#define ID_EPOCH_MS	      1704067200000LL /* core/util.c id_new */
#define SCAN_MAX	      1000	      /* rows examined per page before answering a short page */
#define FOLLOW_WINDOW_MS      (14LL * 24 * 3600 * 1000)
#define WATCHED_WINDOW_MS     (30LL * 24 * 3600 * 1000)
#define TRENDING_CANDIDATES   300
#define FRESH_CANDIDATES      300
#define GAME_CANDIDATES	      60
#define FOLLOW_CANDIDATES     200
#define FOLLOW_PER_CREATOR    10
#define NEW_CREATOR_FOLLOWERS 100
#define GAME_CACHE_SLOTS      64
#define SNAP_LOCAL_MAX	      4096

/* ==== small sets of ids (sorted arrays) ==== */

typedef struct {
	int64_t *v;
	int n, cap;
} idset_t;

static void idset_add(idset_t *s, int64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, (size_t)s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = id;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void idset_seal(idset_t *s)
{
	if (s->n)
		qsort(s->v, (size_t)s->n, sizeof(*s->v), cmp_i64);
}

static bool idset_has(const idset_t *s, int64_t id)
{
	return s->n && bsearch(&id, s->v, (size_t)s->n, sizeof(*s->v), cmp_i64) != NULL;
}

static void idset_free(idset_t *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Fills a set from a one-column query with one i64 parameter (and an optional second). */
static bool idset_query(db_conn_t *c, idset_t *s, const char *sql, int nparams, int64_t p1, int64_t p2,
			err_t *e)
{
	db_stmt_t *st = db_prepare(c, sql, e);
	if (!st)
		return false;
	db_bind_i64(st, 1, p1);
	if (nparams > 1)
		db_bind_i64(st, 2, p2);
	int rc;
	while ((rc = db_step(st, e)) == DB_ROW)
		idset_add(s, db_col_i64(st, 0));
	db_finish(st);
	idset_seal(s);
	return rc == DB_DONE;
}

static uint64_t game_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	if (!key || !*key)
		return 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h ? h : 1;
}

/* ==== cursors ==== */

typedef struct __attribute__((packed)) {
	uint8_t kind, version;
	int64_t a, b;
	uint64_t scope; /* hash of the game filter (and the viewer, For you) */
} cursor_t;

static unsigned char cursor_key[crypto_auth_hmacsha256_KEYBYTES];
#define CURSOR_MAC 12

void feed_init(const uint8_t *secret, size_t len)
{
	/* a key of its own, derived from the server secret: cursors and tokens never share one */
	crypto_generichash_state st;
	crypto_generichash_init(&st, secret,
				len > crypto_generichash_KEYBYTES_MAX ? crypto_generichash_KEYBYTES_MAX : len,
				sizeof(cursor_key));
	crypto_generichash_update(&st, (const unsigned char *)"cosmiv feed cursor v1", 21);
	crypto_generichash_final(&st, cursor_key, sizeof(cursor_key));
}

static uint64_t scope_of(const feed_query_t *q)
{
	char key[POST_GAME_MAX * 4 + 1];
	uint64_t h = social_game_key(q->game, key, sizeof(key)) ? game_hash(key) : 0;
	if (q->kind == FEED_FOR_YOU || q->kind == FEED_FOLLOWING)
		h ^= (uint64_t)q->viewer * 0x9E3779B97F4A7C15ULL;
	return h;
}

static void cursor_encode(const cursor_t *cur, char *out, size_t outlen)
{
	unsigned char raw[sizeof(cursor_t) + crypto_auth_hmacsha256_BYTES];
	memcpy(raw, cur, sizeof(*cur));
	crypto_auth_hmacsha256(raw + sizeof(*cur), raw, sizeof(*cur), cursor_key);
	sodium_bin2base64(out, outlen, raw, sizeof(*cur) + CURSOR_MAC,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static const char *feed_name(int kind)
{
	switch (kind) {
	case FEED_NEW:
		return "new";
	case FEED_FOLLOWING:
		return "following";
	case FEED_TRENDING:
		return "trending";
	case FEED_FOR_YOU:
		return "for-you";
	}
	return "another";
}

static bool cursor_decode(const feed_query_t *q, cursor_t *cur, err_t *e)
{
	unsigned char raw[sizeof(cursor_t) + CURSOR_MAC + 8];
	size_t n = 0;
	if (strlen(q->cursor) > 100 ||
	    sodium_base642bin(raw, sizeof(raw), q->cursor, strlen(q->cursor), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(cursor_t) + CURSOR_MAC)
		return err_set(e, ERR_BAD_REQUEST, "invalid_cursor", "cursor", "cursor is not valid");
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, raw, sizeof(cursor_t), cursor_key);
	if (sodium_memcmp(mac, raw + sizeof(cursor_t), CURSOR_MAC) != 0)
		return err_set(e, ERR_BAD_REQUEST, "invalid_cursor", "cursor", "cursor is not valid");
	memcpy(cur, raw, sizeof(*cur));
	if (cur->version != 1)
		return err_set(e, ERR_BAD_REQUEST, "invalid_cursor", "cursor", "cursor is not valid");
	if (cur->kind != q->kind)
		return err_set(e, ERR_BAD_REQUEST, "invalid_cursor", "cursor",
			       "this cursor belongs to the %s feed, not %s", feed_name(cur->kind),
			       feed_name(q->kind));
	if (cur->scope != scope_of(q))
		return err_set(e, ERR_BAD_REQUEST, "invalid_cursor", "cursor",
			       "this cursor belongs to a different filter or viewer of this feed");
	return true;
}

static void set_next(const feed_query_t *q, feed_page_t *out, int64_t a, int64_t b)
{
	cursor_t cur = {.kind = (uint8_t)q->kind, .version = 1, .a = a, .b = b, .scope = scope_of(q)};
	cursor_encode(&cur, out->next, sizeof(out->next));
}

static void page_add(feed_page_t *p, int cap, int64_t id, uint32_t reasons)
{
	if (!p->ids) {
		p->ids = xcalloc((size_t)cap, sizeof(*p->ids));
		p->reasons = xcalloc((size_t)cap, sizeof(*p->reasons));
	}
	p->ids[p->n] = id;
	p->reasons[p->n] = reasons;
	p->n++;
}

void feed_page_free(feed_page_t *p)
{
	free(p->ids);
	free(p->reasons);
	memset(p, 0, sizeof(*p));
}

/* ==== the viewer's filters ==== */

typedef struct {
	idset_t blocked;	 /* either direction */
	idset_t hidden_creators; /* user ids */
	uint64_t hidden_games[32];
	int nhidden_games;
	uint64_t fav_games[32];
	int nfav_games;
	char fav_keys[5][POST_GAME_MAX * 4 + 1]; /* the first favourites, for candidate lists */
	int nfav_keys;
	int freshness;
} viewer_t;

static void viewer_free(viewer_t *v)
{
	idset_free(&v->blocked);
	idset_free(&v->hidden_creators);
}

static void hash_games(json_t *arr, uint64_t *out, int *n)
{
	size_t i;
	json_t *g;
	*n = 0;
	json_array_foreach(arr, i, g)
	{
		char key[POST_GAME_MAX * 4 + 1];
		if (*n < 32 && social_game_key(json_string_value(g), key, sizeof(key)))
			out[(*n)++] = game_hash(key);
	}
}

static bool has_hash(const uint64_t *v, int n, uint64_t h)
{
	for (int i = 0; h && i < n; i++)
		if (v[i] == h)
			return true;
	return false;
}

static bool viewer_load(db_conn_t *c, int64_t viewer, viewer_t *v, err_t *e)
{
	memset(v, 0, sizeof(*v));
	v->freshness = 50;
	if (!viewer)
		return true;
	if (!idset_query(c, &v->blocked,
			 "SELECT blocked_id FROM blocks WHERE blocker_id = ? UNION "
			 "SELECT blocker_id FROM blocks WHERE blocked_id = ?",
			 2, viewer, viewer, e))
		return false;
	db_stmt_t *s = db_prepare(c,
				  "SELECT favourite_games, hidden_games, hidden_creators, freshness FROM "
				  "feed_prefs WHERE user_id = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, viewer);
	int rc = db_step(s, e);
	if (rc == DB_ROW) {
		json_t *fav = json_loads(db_col_text(s, 0), 0, NULL),
		       *hg = json_loads(db_col_text(s, 1), 0, NULL),
		       *hc = json_loads(db_col_text(s, 2), 0, NULL);
		hash_games(fav, v->fav_games, &v->nfav_games);
		size_t gi;
		json_t *g;
		json_array_foreach(fav, gi, g)
		{
			if (v->nfav_keys < 5 &&
			    social_game_key(json_string_value(g), v->fav_keys[v->nfav_keys],
					    sizeof(v->fav_keys[0])))
				v->nfav_keys++;
		}
		hash_games(hg, v->hidden_games, &v->nhidden_games);
		size_t i;
		json_t *id;
		json_array_foreach(hc, i, id)
		{
			int64_t uid;
			if (id_parse(json_string_value(id), &uid))
				idset_add(&v->hidden_creators, uid);
		}
		idset_seal(&v->hidden_creators);
		v->freshness = (int)db_col_i64(s, 3);
		json_decref(fav);
		json_decref(hg);
		json_decref(hc);
	}
	db_finish(s);
	return rc != DB_ERROR;
}

/* Blocked users, hidden creators and hidden games are left out of every feed. */
static bool viewer_excludes(const viewer_t *v, int64_t author, uint64_t game)
{
	return idset_has(&v->blocked, author) || idset_has(&v->hidden_creators, author) ||
	       has_hash(v->hidden_games, v->nhidden_games, game);
}

/* ==== New, Following, Trending: keyset scans with filters ==== */

/*
 * The people `viewer` follows, when there are at most FANOUT_MAX of them
 * (*few true): then the Following feed reads one index range per followee
 * (posts_user_idx) and merges them here, which costs the same however
 * old their posts are. With more followees their posts are dense in the
 * newest posts, and one scan of posts joined to follows is cheaper.
 */
#define FANOUT_MAX 100

static bool followees(db_conn_t *c, int64_t viewer, idset_t *out, bool *few, err_t *e)
{
	if (!idset_query(c, out,
			 "SELECT f.followee_id FROM follows f JOIN users u ON u.id = f.followee_id "
			 "WHERE f.follower_id = ? AND u.disabled = 0 LIMIT ?",
			 2, viewer, FANOUT_MAX + 1, e))
		return false;
	*few = out->n <= FANOUT_MAX;
	return true;
}

typedef struct {
	int64_t id, author, tk;
	uint64_t game;
} row_t;

static int cmp_row_desc(const void *x, const void *y)
{
	int64_t a = ((const row_t *)x)->id, b = ((const row_t *)y)->id;
	return (a < b) - (a > b);
}

static bool read_rows(db_stmt_t *s, row_t *rows, int cap, int *n, err_t *e)
{
	int rc = DB_DONE; /* full already: nothing to read */
	while (*n < cap && (rc = db_step(s, e)) == DB_ROW) {
		row_t *r = &rows[(*n)++];
		r->id = db_col_i64(s, 0);
		r->author = db_col_i64(s, 1);
		r->game = game_hash(db_col_text(s, 2));
		r->tk = db_col_i64(s, 3);
	}
	if (*n == cap)
		rc = DB_DONE;
	db_finish(s);
	return rc == DB_DONE;
}

/* The next `batch` rows of the feed below (a, b), in its order; fewer only at its end. */
static bool fetch_rows(db_conn_t *c, const feed_query_t *q, const char *gkey, const idset_t *fanout,
		       int64_t a, int64_t b, int batch, row_t *rows, int *n, err_t *e)
{
	*n = 0;
	if (fanout) {
		row_t *all = xcalloc((size_t)(fanout->n * batch + 1), sizeof(*all));
		int total = 0;
		for (int i = 0; i < fanout->n; i++) {
			db_stmt_t *s = db_prepare(
			    c,
			    "SELECT p.id, p.user_id, p.game_key, 0 FROM posts p WHERE p.user_id = ? "
			    "AND p.id < ? AND p.visibility IN ('public', 'followers') "
			    "ORDER BY p.id DESC LIMIT ?",
			    e);
			int got = 0;
			if (s) {
				db_bind_i64(s, 1, fanout->v[i]);
				db_bind_i64(s, 2, b);
				db_bind_i64(s, 3, batch);
			}
			if (!s || !read_rows(s, all + total, batch, &got, e)) {
				free(all);
				return false;
			}
			total += got;
		}
		qsort(all, (size_t)total, sizeof(*all), cmp_row_desc);
		*n = total < batch ? total : batch;
		memcpy(rows, all, (size_t)*n * sizeof(*rows));
		free(all);
		return true;
	}
	/*
	 * No join with users here: with LIMIT, SQLite 3.40's planner would build a
	 * Bloom filter over the whole users table for every page (20x the cost of
	 * the scan itself). Posts of disabled authors are dropped by posts_load()
	 * when the page is rendered instead.
	 */
	const char *sql;
	if (q->kind == FEED_NEW)
		sql = gkey ? "SELECT p.id, p.user_id, p.game_key, 0 FROM posts p WHERE p.game_key = ? AND "
			     "p.visibility = 'public' AND p.id < ? ORDER BY p.id DESC LIMIT ?"
			   : "SELECT p.id, p.user_id, p.game_key, 0 FROM posts p WHERE p.visibility = "
			     "'public' AND "
			     "p.id < ? ORDER BY p.id DESC LIMIT ?";
	else if (q->kind == FEED_FOLLOWING)
		sql = "SELECT p.id, p.user_id, p.game_key, 0 FROM posts p JOIN follows f ON f.followee_id = "
		      "p.user_id "
		      "WHERE f.follower_id = ? AND p.visibility IN ('public', 'followers') AND p.id < ? "
		      "ORDER BY p.id DESC LIMIT ?";
	else
		sql =
		    gkey
			? "SELECT p.id, p.user_id, p.game_key, p.trend_key FROM posts p WHERE p.game_key = ? "
			  "AND "
			  "p.visibility = 'public' AND (p.trend_key, p.id) < (?, ?) ORDER BY p.trend_key "
			  "DESC, "
			  "p.id DESC LIMIT ?"
			: "SELECT p.id, p.user_id, p.game_key, p.trend_key FROM posts p WHERE p.visibility = "
			  "'public' AND (p.trend_key, p.id) < (?, ?) ORDER BY p.trend_key DESC, p.id DESC "
			  "LIMIT ?";
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	int k = 1;
	if (q->kind == FEED_FOLLOWING)
		db_bind_i64(s, k++, q->viewer);
	else if (gkey)
		db_bind_text(s, k++, gkey);
	if (q->kind == FEED_TRENDING)
		db_bind_i64(s, k++, a);
	db_bind_i64(s, k++, b);
	db_bind_i64(s, k, batch);
	return read_rows(s, rows, batch, n, e);
}

static bool scan_page(db_conn_t *c, const feed_query_t *q, const viewer_t *v, int64_t a, int64_t b,
		      feed_page_t *out, err_t *e)
{
	char gkey[POST_GAME_MAX * 4 + 1];
	bool by_game = q->kind != FEED_FOLLOWING && social_game_key(q->game, gkey, sizeof(gkey));
	idset_t fol = {0};
	bool few = false;
	if (q->kind == FEED_FOLLOWING && !followees(c, q->viewer, &fol, &few, e))
		return false;
	int scanned = 0;
	bool ok = false;
	row_t *rows = xcalloc((size_t)q->limit + 8, sizeof(*rows));
	for (;;) {
		int want = q->limit - out->n + 1, batch = want < 8 ? 8 : want, n;
		if (!fetch_rows(c, q, by_game ? gkey : NULL, few ? &fol : NULL, a, b, batch, rows, &n, e))
			goto done;
		for (int i = 0; i < n; i++) {
			if (out->n == q->limit) {
				/* one more row exists below the page: the page ends at the last item taken */
				ok = true;
				goto done;
			}
			scanned++;
			a = rows[i].tk;
			b = rows[i].id;
			if (!viewer_excludes(v, rows[i].author, rows[i].game))
				page_add(out, q->limit, rows[i].id, 0);
			set_next(q, out, a, b);
		}
		if (n < batch) {
			out->next[0] = '\0'; /* the end */
			ok = true;
			goto done;
		}
		if (scanned >= SCAN_MAX) {
			ok = true; /* a short page; next_cursor continues below what was examined */
			goto done;
		}
	}
done:
	free(rows);
	idset_free(&fol);
	return ok;
}

/* ==== For you ==== */

typedef struct {
	int64_t id, author, created_at;
	int64_t likes, comments, shares, completes, views;
	int64_t rep_views, rep_eng, author_followers;
	uint64_t game;
	uint32_t reasons;
	double score;
} cand_t;

#define CAND_COLS                                                                                            \
	"p.id, p.user_id, p.created_at, p.like_count, p.comment_count, p.share_count, p.complete_count, "    \
	"p.view_count, p.game_key, u.rep_views, u.rep_engagement, u.follower_count"

static void read_cand(db_stmt_t *s, cand_t *k)
{
	memset(k, 0, sizeof(*k));
	k->id = db_col_i64(s, 0);
	k->author = db_col_i64(s, 1);
	k->created_at = db_col_i64(s, 2);
	k->likes = db_col_i64(s, 3);
	k->comments = db_col_i64(s, 4);
	k->shares = db_col_i64(s, 5);
	k->completes = db_col_i64(s, 6);
	k->views = db_col_i64(s, 7);
	k->game = game_hash(db_col_text(s, 8));
	k->rep_views = db_col_i64(s, 9);
	k->rep_eng = db_col_i64(s, 10);
	k->author_followers = db_col_i64(s, 11);
}

typedef struct {
	cand_t *v;
	int n;
} cands_t;

static bool cand_query(db_conn_t *c, const char *sql, const char *text, int64_t i1, int64_t i2, int limit,
		       uint32_t reasons, cands_t *out, err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	int k = 1;
	if (text)
		db_bind_text(s, k++, text);
	if (i1)
		db_bind_i64(s, k++, i1);
	if (i2)
		db_bind_i64(s, k++, i2);
	db_bind_i64(s, k, limit);
	out->v = xcalloc((size_t)limit, sizeof(cand_t));
	out->n = 0;
	int rc = DB_DONE; /* limit 0: nothing to read */
	while (out->n < limit && (rc = db_step(s, e)) == DB_ROW) {
		read_cand(s, &out->v[out->n]);
		out->v[out->n++].reasons = reasons;
	}
	if (out->n == limit)
		rc = DB_DONE;
	db_finish(s);
	return rc == DB_DONE;
}

/* The shared candidate lists, cached per process. */
typedef struct {
	uint64_t game; /* 0: the global lists */
	int64_t at_ms;
	cands_t list;
} cache_slot_t;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_slot_t trending_slot, fresh_slot, game_slots[GAME_CACHE_SLOTS];

static void cands_copy(const cands_t *from, cands_t *to)
{
	to->n = from->n;
	to->v = xmalloc((size_t)(from->n ? from->n : 1) * sizeof(cand_t));
	memcpy(to->v, from->v, (size_t)from->n * sizeof(cand_t));
}

/* A copy of a cached list, refreshed when older than the TTL. */
static bool cached(db_conn_t *c, cache_slot_t *slot, uint64_t game, const char *sql, const char *text,
		   int limit, uint32_t reasons, cands_t *out, err_t *e)
{
	int64_t now = time_now_ms();
	pthread_mutex_lock(&cache_mu);
	bool fresh = slot->list.v && slot->game == game && now - slot->at_ms < FEED_CANDIDATE_TTL_MS;
	if (fresh)
		cands_copy(&slot->list, out);
	pthread_mutex_unlock(&cache_mu);
	if (fresh)
		return true;
	if (!cand_query(c, sql, text, 0, 0, limit, reasons, out, e)) {
		free(out->v);
		out->v = NULL;
		return false;
	}
	pthread_mutex_lock(&cache_mu);
	free(slot->list.v);
	cands_copy(out, &slot->list);
	slot->game = game;
	slot->at_ms = now;
	pthread_mutex_unlock(&cache_mu);
	return true;
}

/*
 * The latest posts of each creator, the followee candidates of every For you
 * ranking, cached per creator for FEED_CANDIDATE_TTL_MS like the shared lists:
 * a cold ranking of someone following 50 creators reads most of them from here
 * instead of running 50 queries (followed creators are a power law: the same
 * few appear in everyone's list). A creator's new, edited or deleted post drops
 * their entry at once on this node (feed_creator_changed); engagement counters
 * may be up to the TTL old, as in the shared lists. The table is bounded: when
 * it fills, it starts over.
 */
#define CREATOR_SLOTS 65536 /* a power of two; at most half of them used */

typedef struct {
	int64_t creator, at_ms, since;
	cands_t list;
} creator_slot_t;

static creator_slot_t *creator_tab;
static size_t creator_used;
/* Every ranking reads ~50 entries: readers share the lock; a miss, a change or a reset writes. */
static pthread_rwlock_t creator_lock = PTHREAD_RWLOCK_INITIALIZER;

static creator_slot_t *creator_find(int64_t creator)
{
	size_t i = (size_t)(((uint64_t)creator * UINT64_C(0x9E3779B97F4A7C15)) >> 40) & (CREATOR_SLOTS - 1);
	while (creator_tab[i].creator != 0 && creator_tab[i].creator != creator)
		i = (i + 1) & (CREATOR_SLOTS - 1);
	return &creator_tab[i];
}

static void creator_clear_all(void)
{
	for (size_t i = 0; creator_tab && i < CREATOR_SLOTS; i++)
		free(creator_tab[i].list.v);
	free(creator_tab);
	creator_tab = NULL;
	creator_used = 0;
}

static _Atomic uint32_t posts_gen;

uint32_t feed_posts_gen(void)
{
	return atomic_load(&posts_gen);
}

void feed_creator_changed(int64_t creator)
{
	feed_viewer_touched(creator);
	atomic_fetch_add(&posts_gen, 1);
	pthread_rwlock_wrlock(&creator_lock);
	if (creator_tab) {
		creator_slot_t *slot = creator_find(creator);
		if (slot->creator == creator)
			slot->at_ms = 0; /* stale: the next ranking reads it again */
	}
	pthread_rwlock_unlock(&creator_lock);
}

/* The creator's posts newer than `since` (at most FOLLOW_PER_CREATOR), from the cache or the database. */
static bool creator_recent(db_conn_t *c, int64_t creator, int64_t since, cands_t *out, err_t *e)
{
	int64_t now = time_now_ms();
	pthread_rwlock_rdlock(&creator_lock);
	creator_slot_t *slot = creator_tab ? creator_find(creator) : NULL;
	bool hit = slot && slot->creator == creator && now - slot->at_ms < FEED_CANDIDATE_TTL_MS &&
		   slot->since <= since;
	if (hit) { /* the cached window may start earlier: keep what is inside this one */
		out->v = xmalloc((size_t)(slot->list.n ? slot->list.n : 1) * sizeof(cand_t));
		out->n = 0;
		for (int i = 0; i < slot->list.n; i++)
			if (slot->list.v[i].id > since)
				out->v[out->n++] = slot->list.v[i];
	}
	pthread_rwlock_unlock(&creator_lock);
	if (hit)
		return true;
	if (!cand_query(
		c,
		"SELECT p.id, p.user_id, p.created_at, p.like_count, p.comment_count, p.share_count, "
		"p.complete_count, p.view_count, p.game_key, 0, 0, 0 FROM posts p WHERE p.user_id = ? "
		"AND p.id > ? AND p.visibility IN ('public', 'followers') ORDER BY p.id DESC LIMIT ?",
		NULL, creator, since > 0 ? since : 1, FOLLOW_PER_CREATOR, REASON_FOLLOW, out, e)) {
		free(out->v);
		out->v = NULL;
		return false;
	}
	pthread_rwlock_wrlock(&creator_lock);
	if (!creator_tab)
		creator_tab = xcalloc(CREATOR_SLOTS, sizeof(*creator_tab));
	slot = creator_find(creator);
	if (slot->creator != creator && creator_used + 1 > CREATOR_SLOTS / 2) {
		creator_clear_all(); /* full: start over */
		creator_tab = xcalloc(CREATOR_SLOTS, sizeof(*creator_tab));
		slot = creator_find(creator);
	}
	if (slot->creator != creator) {
		slot->creator = creator;
		creator_used++;
	}
	free(slot->list.v);
	cands_copy(out, &slot->list);
	slot->at_ms = now;
	slot->since = since;
	pthread_rwlock_unlock(&creator_lock);
	return true;
}

static bool game_trending(db_conn_t *c, const char *game_key, cands_t *out, err_t *e)
{
	uint64_t h = game_hash(game_key);
	cache_slot_t *slot;
	pthread_mutex_lock(&cache_mu);
	slot = &game_slots[0];
	for (int i = 0; i < GAME_CACHE_SLOTS; i++) {
		if (game_slots[i].game == h) {
			slot = &game_slots[i];
			break;
		}
		if (game_slots[i].at_ms < slot->at_ms)
			slot = &game_slots[i]; /* the stalest slot, if the game has none */
	}
	pthread_mutex_unlock(&cache_mu);
	return cached(
	    c, slot, h,
	    "SELECT " CAND_COLS " FROM posts p JOIN users u ON u.id = p.user_id WHERE p.game_key = ? "
	    "AND p.visibility = 'public' AND u.disabled = 0 ORDER BY p.trend_key DESC, p.id DESC LIMIT ?",
	    game_key, GAME_CANDIDATES, REASON_TREND_GAME, out, e);
}

typedef struct {
	uint64_t game;
	int64_t weight;
	char key[POST_GAME_MAX * 4 + 1];
} aff_game_t;

/* Merges src into the pool: a post already there gains src's reasons. */
/* Appends src to the pool; pool_dedupe() later folds a post found by several sources into one. */
static void pool_merge(cands_t *pool, int *cap, const cands_t *src)
{
	if (pool->n + src->n > *cap) {
		*cap = (pool->n + src->n) * 2;
		pool->v = xrealloc(pool->v, (size_t)*cap * sizeof(cand_t));
	}
	if (src->n == 0)
		return; /* pool->v may still be NULL: memcpy wants real pointers even for 0 bytes */
	memcpy(pool->v + pool->n, src->v, (size_t)src->n * sizeof(cand_t));
	pool->n += src->n;
}

/* One entry per post: a post found by several sources is folded into its first copy, with every
 * source's reasons, in one pass over an open-addressing table of the ids kept. */
static void pool_dedupe(cands_t *pool)
{
	if (pool->n < 2)
		return;
	size_t cap = 64;
	while (cap < (size_t)pool->n * 2)
		cap *= 2;
	int *slot = xcalloc(cap, sizeof(*slot)); /* index + 1 of the kept copy; 0: empty */
	int m = 0;
	for (int i = 0; i < pool->n; i++) {
		size_t h =
		    (size_t)(((uint64_t)pool->v[i].id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
		while (slot[h] && pool->v[slot[h] - 1].id != pool->v[i].id)
			h = (h + 1) & (cap - 1);
		if (slot[h]) {
			pool->v[slot[h] - 1].reasons |= pool->v[i].reasons;
			continue;
		}
		pool->v[m] = pool->v[i];
		slot[h] = ++m;
	}
	free(slot);
	pool->n = m;
}

typedef struct {
	int64_t id, weight;
} affinity_t;

static int cmp_affinity(const void *a, const void *b)
{
	int64_t x = ((const affinity_t *)a)->id, y = ((const affinity_t *)b)->id;
	return (x > y) - (x < y);
}

typedef struct {
	double score;
	int64_t id;
	int at;
} score_key_t;

static int cmp_score(const void *a, const void *b)
{
	const score_key_t *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return (x->id < y->id) - (x->id > y->id);
}

/* Best first (ties: newest first); sorts small keys, then moves each candidate once. */
static void sort_by_score(cands_t *pool)
{
	if (pool->n < 2)
		return;
	score_key_t *keys = xmalloc((size_t)pool->n * sizeof(*keys));
	for (int i = 0; i < pool->n; i++)
		keys[i] = (score_key_t){pool->v[i].score, pool->v[i].id, i};
	qsort(keys, (size_t)pool->n, sizeof(*keys), cmp_score);
	cand_t *sorted = xmalloc((size_t)pool->n * sizeof(*sorted));
	for (int i = 0; i < pool->n; i++)
		sorted[i] = pool->v[keys[i].at];
	free(keys);
	free(pool->v);
	pool->v = sorted;
}

/*
 * The For you score (docs/feed.md):
 *   score = (1 + E)^β · 2^(−age_h / H) · R · A
 *   E = likes + 3·comments + 5·shares + 2·completed watches
 *   β, H from the freshness slider s ∈ [0, 100], p = 1 − s/100:
 *     β = 0.15 + 0.5·p (how much raw popularity counts), H = 6 h + 66 h·p (recency half-life)
 *   R = clamp(sqrt(rate / 0.1), 0.5, 2), rate = (creator engagement + 2) / (creator views + 20)
 *   A = max(0.3, 1 + 1.0·follow + 0.75·favourite game + 0.5·game affinity + 0.5·creator affinity)
 */
static double score_of(const cand_t *k, const viewer_t *v, bool follows, double game_aff, double creator_aff,
		       int64_t now)
{
	double pop = 1.0 - v->freshness / 100.0;
	double beta = 0.15 + 0.5 * pop, half_h = 6.0 + 66.0 * pop;
	double eng = (double)k->likes + 3.0 * (double)k->comments + 5.0 * (double)k->shares +
		     2.0 * (double)k->completes;
	double age_h = (double)(now - k->created_at) / 3600000.0;
	if (age_h < 0)
		age_h = 0;
	double rate = ((double)k->rep_eng + 2.0) / ((double)k->rep_views + 20.0);
	double rep = sqrt(rate / 0.1);
	rep = rep < 0.5 ? 0.5 : rep > 2.0 ? 2.0 : rep;
	double aff = 1.0 + (follows ? 1.0 : 0) + (has_hash(v->fav_games, v->nfav_games, k->game) ? 0.75 : 0) +
		     0.5 * game_aff + 0.5 * creator_aff;
	if (aff < 0.3)
		aff = 0.3;
	return pow(1.0 + eng, beta) * exp2(-age_h / half_h) * rep * aff;
}

typedef struct {
	int64_t user;
	int64_t made_at;
	int n;
	int64_t ids[FEED_SNAPSHOT_MAX];
	uint32_t reasons[FEED_SNAPSHOT_MAX];
} snapshot_t;

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int64_t key;
	snapshot_t *snap;
} snaps[SNAP_LOCAL_MAX];

static void snap_put(int64_t key, const snapshot_t *s)
{
	char name[48];
	snprintf(name, sizeof(name), "fy:%lld", (long long)key);
	if (kv_shared() && kv_set(name, s, sizeof(*s), FEED_SNAPSHOT_TTL_S))
		return;
	snapshot_t *copy = xmalloc(sizeof(*copy));
	memcpy(copy, s, sizeof(*s));
	pthread_mutex_lock(&snap_mu);
	/* the slot this key hashes to; an older snapshot there is dropped */
	int i = (int)((uint64_t)key % SNAP_LOCAL_MAX);
	free(snaps[i].snap);
	snaps[i].key = key;
	snaps[i].snap = copy;
	pthread_mutex_unlock(&snap_mu);
}

static snapshot_t *snap_get(int64_t key)
{
	char name[48];
	snprintf(name, sizeof(name), "fy:%lld", (long long)key);
	if (kv_shared()) {
		size_t n;
		snapshot_t *s = kv_get(name, &n);
		if (s && n == sizeof(*s))
			return s;
		free(s);
	}
	snapshot_t *out = NULL;
	pthread_mutex_lock(&snap_mu);
	int i = (int)((uint64_t)key % SNAP_LOCAL_MAX);
	if (snaps[i].snap && snaps[i].key == key &&
	    time_now_ms() - snaps[i].snap->made_at < FEED_SNAPSHOT_TTL_S * 1000LL) {
		out = xmalloc(sizeof(*out));
		memcpy(out, snaps[i].snap, sizeof(*out));
	}
	pthread_mutex_unlock(&snap_mu);
	return out;
}

static bool rank_for_you(db_conn_t *c, int64_t viewer, const viewer_t *v, snapshot_t *snap, err_t *e)
{
	int64_t now = time_now_ms();
	idset_t follows = {0}, hidden = {0}, watched = {0};
	cands_t pool = {0}, part = {0};
	int cap = 0, ngames = 0;
	aff_game_t games[5];
	affinity_t *cre = NULL;
	int ncre = 0;
	bool ok = false;
	int64_t max_game_w = 1, max_cre_w = 1;
	if (!idset_query(c, &follows, "SELECT followee_id FROM follows WHERE follower_id = ? LIMIT 5000", 1,
			 viewer, 0, e) ||
	    !idset_query(c, &hidden, "SELECT post_id FROM post_hides WHERE user_id = ? LIMIT 10000", 1,
			 viewer, 0, e) ||
	    !idset_query(
		c, &watched,
		"SELECT post_id FROM post_views WHERE user_id = ? AND completed = 1 AND created_at > ? "
		"LIMIT 20000",
		2, viewer, now - WATCHED_WINDOW_MS, e))
		goto out;
	/* the viewer's top games and creators by affinity */
	db_stmt_t *s = db_prepare(c,
				  "SELECT game_key, weight FROM game_affinity WHERE user_id = ? AND weight > "
				  "0 ORDER BY weight DESC LIMIT 5",
				  e);
	if (!s)
		goto out;
	db_bind_i64(s, 1, viewer);
	int rc;
	while ((rc = db_step(s, e)) == DB_ROW && ngames < 5) {
		str_copy(games[ngames].key, sizeof(games[ngames].key), db_col_text(s, 0));
		games[ngames].game = game_hash(games[ngames].key);
		games[ngames].weight = db_col_i64(s, 1);
		if (games[ngames].weight > max_game_w)
			max_game_w = games[ngames].weight;
		ngames++;
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto out;
	s = db_prepare(c,
		       "SELECT creator_id, weight FROM creator_affinity WHERE user_id = ? AND weight <> 0 "
		       "ORDER BY weight DESC LIMIT 500",
		       e);
	if (!s)
		goto out;
	db_bind_i64(s, 1, viewer);
	cre = xcalloc(500, sizeof(*cre));
	while ((rc = db_step(s, e)) == DB_ROW && ncre < 500) {
		cre[ncre].id = db_col_i64(s, 0);
		cre[ncre].weight = db_col_i64(s, 1);
		if (cre[ncre].weight > max_cre_w)
			max_cre_w = cre[ncre].weight;
		ncre++;
	}
	db_finish(s);
	if (rc == DB_ERROR)
		goto out;
	qsort(cre, (size_t)ncre, sizeof(*cre), cmp_affinity);

	/* candidates: people I follow, trending, trending in my games, fresh posts */
	int64_t since = ((now - FOLLOW_WINDOW_MS - ID_EPOCH_MS) << 22);
	idset_t fols = {0};
	bool few;
	if (!followees(c, viewer, &fols, &few, e))
		goto out;
	/* the followees' reputation inputs, read once instead of once per post */
	cands_t stats = {0};
	if (few &&
	    !cand_query(c,
			"SELECT u.id, u.id, 0, 0, 0, 0, 0, 0, NULL, u.rep_views, u.rep_engagement, "
			"u.follower_count FROM follows f CROSS JOIN users u WHERE f.follower_id = ? AND "
			"u.id = f.followee_id AND u.disabled = 0 LIMIT ?",
			NULL, viewer, 0, FANOUT_MAX + 1, 0, &stats, e)) {
		idset_free(&fols);
		goto out;
	}
	for (int i = 0; few && i < fols.n; i++) {
		/* the latest few posts of each followee, from posts_user_idx: none can crowd the others out
		 */
		if (!creator_recent(c, fols.v[i], since, &part, e)) {
			free(stats.v);
			idset_free(&fols);
			goto out;
		}
		for (int j = 0; j < stats.n; j++)
			if (stats.v[j].id == fols.v[i])
				for (int k = 0; k < part.n; k++) {
					part.v[k].rep_views = stats.v[j].rep_views;
					part.v[k].rep_eng = stats.v[j].rep_eng;
					part.v[k].author_followers = stats.v[j].author_followers;
				}
		pool_merge(&pool, &cap, &part);
		free(part.v);
		part.v = NULL;
	}
	free(stats.v);
	idset_free(&fols);
	if (!few) {
		if (!cand_query(
			c,
			/* from the follows (CROSS JOIN fixes that order in SQLite): each followee's
			 * posts of the window through posts_user_idx, never a walk of all recent posts */
			"SELECT " CAND_COLS " FROM follows f CROSS JOIN posts p JOIN users u ON u.id = "
			"p.user_id WHERE f.follower_id = ? AND p.user_id = f.followee_id AND p.id > ? AND "
			"p.visibility IN ('public', 'followers') AND u.disabled = 0 ORDER BY p.id DESC LIMIT "
			"?",
			NULL, viewer, since > 0 ? since : 1, FOLLOW_CANDIDATES, REASON_FOLLOW, &part, e))
			goto out;
		pool_merge(&pool, &cap, &part);
		free(part.v);
		part.v = NULL;
	}
	if (!cached(c, &trending_slot, 0,
		    "SELECT " CAND_COLS
		    " FROM posts p JOIN users u ON u.id = p.user_id WHERE p.visibility = 'public' "
		    "AND u.disabled = 0 ORDER BY p.trend_key DESC, p.id DESC LIMIT ?",
		    NULL, TRENDING_CANDIDATES, REASON_TREND, &part, e))
		goto out;
	pool_merge(&pool, &cap, &part);
	free(part.v);
	part.v = NULL;
	if (!cached(c, &fresh_slot, 0,
		    "SELECT " CAND_COLS
		    " FROM posts p JOIN users u ON u.id = p.user_id WHERE p.visibility = 'public' "
		    "AND u.disabled = 0 ORDER BY p.id DESC LIMIT ?",
		    NULL, FRESH_CANDIDATES, REASON_FRESH, &part, e))
		goto out;
	for (int i = 0; i < part.n; i++)
		if (part.v[i].author_followers < NEW_CREATOR_FOLLOWERS)
			part.v[i].reasons |= REASON_NEW_CREATOR;
	pool_merge(&pool, &cap, &part);
	free(part.v);
	part.v = NULL;
	/* games: favourites first, then the ones I engage with */
	char keys[10][POST_GAME_MAX * 4 + 1];
	int nkeys = 0;
	for (int i = 0; i < v->nfav_keys; i++)
		str_copy(keys[nkeys++], sizeof(keys[0]), v->fav_keys[i]);
	for (int i = 0; i < ngames && nkeys < 10; i++) {
		bool dup = false;
		for (int j = 0; j < nkeys; j++)
			dup = dup || strcmp(keys[j], games[i].key) == 0;
		if (!dup)
			str_copy(keys[nkeys++], sizeof(keys[0]), games[i].key);
	}
	for (int i = 0; i < nkeys; i++) {
		if (!game_trending(c, keys[i], &part, e))
			goto out;
		pool_merge(&pool, &cap, &part);
		free(part.v);
		part.v = NULL;
	}

	/* filter and score */
	pool_dedupe(&pool);
	int m = 0;
	for (int i = 0; i < pool.n; i++) {
		cand_t *k = &pool.v[i];
		if (k->author == viewer || idset_has(&hidden, k->id) || idset_has(&watched, k->id) ||
		    viewer_excludes(v, k->author, k->game))
			continue;
		bool fol = idset_has(&follows, k->author);
		if (fol)
			k->reasons |= REASON_FOLLOW;
		else
			k->reasons &= ~(uint32_t)REASON_FOLLOW;
		double gaff = 0, caff = 0;
		for (int g = 0; g < ngames; g++)
			if (games[g].game == k->game) {
				gaff = (double)games[g].weight / (double)max_game_w;
				if (!has_hash(v->fav_games, v->nfav_games, k->game))
					k->reasons |= REASON_GAME_AFFINITY;
			}
		affinity_t key = {.id = k->author};
		const affinity_t *ca =
		    ncre ? bsearch(&key, cre, (size_t)ncre, sizeof(*cre), cmp_affinity) : NULL;
		if (ca) {
			caff = (double)ca->weight / (double)max_cre_w;
			if (ca->weight < 0)
				caff = (double)ca->weight / 10.0; /* "not interested" in this creator */
			else if (!fol && ca->weight > 0)
				k->reasons |= REASON_CREATOR_AFFINITY;
		}
		if (has_hash(v->fav_games, v->nfav_games, k->game))
			k->reasons |= REASON_FAV_GAME;
		k->score = score_of(k, v, fol, gaff, caff, now);
		pool.v[m++] = *k;
	}
	pool.n = m;
	sort_by_score(&pool);

	/* diversity: never three in a row from one creator */
	bool *used = xcalloc((size_t)(pool.n ? pool.n : 1), sizeof(bool));
	int64_t authors[FEED_SNAPSHOT_MAX] = {0};
	snap->n = 0;
	int first = 0; /* everything before it is used */
	while (snap->n < FEED_SNAPSHOT_MAX) {
		int pick = -1;
		bool two = snap->n >= 2 && authors[snap->n - 1] == authors[snap->n - 2];
		for (int i = first; i < pool.n && pick < 0; i++)
			if (!used[i] && !(two && pool.v[i].author == authors[snap->n - 1]))
				pick = i;
		if (pick < 0)
			break;
		used[pick] = true;
		while (first < pool.n && used[first])
			first++;
		authors[snap->n] = pool.v[pick].author;
		snap->ids[snap->n] = pool.v[pick].id;
		snap->reasons[snap->n] = pool.v[pick].reasons;
		snap->n++;
	}
	free(used);
	snap->user = viewer;
	snap->made_at = now;
	ok = true;
out:
	idset_free(&follows);
	idset_free(&hidden);
	idset_free(&watched);
	free(pool.v);
	free(part.v);
	free(cre);
	return ok;
}

/*
 * Ranking reuse: a first page asked for again within FEED_REUSE_MS (a
 * refresh, a second tab) is served from the viewer's last snapshot on this
 * node instead of ranking again. The viewer's own changes (hide, follow,
 * block, preferences) drop it at once through feed_forget(); hides are also
 * applied when a page is served, so a hide made through another node shows
 * at once too.
 */
#define REUSE_SLOTS 4096
static struct {
	int64_t user, key, at_ms;
} reuse[REUSE_SLOTS];
static pthread_mutex_t reuse_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Viewer generations: a number per viewer (hashed into GEN_SLOTS; a collision
 * only costs a neighbour a cache miss) that moves whenever something the
 * viewer did may change their pages: a like, a comment, a share, a hide, a
 * follow, a block, their preferences, a post of theirs. The API's page cache
 * keys signed-in pages with it, so a viewer never gets a cached page from
 * before their own change (on this node).
 */
#define GEN_SLOTS 8192
static _Atomic uint32_t viewer_gen[GEN_SLOTS];

void feed_viewer_touched(int64_t user)
{
	atomic_fetch_add(&viewer_gen[(uint64_t)user % GEN_SLOTS], 1);
}

uint32_t feed_viewer_gen(int64_t user)
{
	return atomic_load(&viewer_gen[(uint64_t)user % GEN_SLOTS]);
}

/* The same for posts: a like, a share, a comment, an edit or a deletion moves the post's generation,
 * and the API's rendered posts (api/social_api.c) are keyed with it. */
static _Atomic uint32_t post_gen[GEN_SLOTS];

void feed_post_changed(int64_t post_id)
{
	atomic_fetch_add(&post_gen[(uint64_t)post_id % GEN_SLOTS], 1);
}

uint32_t feed_post_gen(int64_t post_id)
{
	return atomic_load(&post_gen[(uint64_t)post_id % GEN_SLOTS]);
}

void feed_forget(int64_t user)
{
	feed_viewer_touched(user);
	pthread_mutex_lock(&reuse_mu);
	int i = (int)((uint64_t)user % REUSE_SLOTS);
	if (reuse[i].user == user)
		memset(&reuse[i], 0, sizeof(reuse[i]));
	pthread_mutex_unlock(&reuse_mu);
}

static int64_t reuse_get(int64_t user)
{
	int64_t key = 0;
	pthread_mutex_lock(&reuse_mu);
	int i = (int)((uint64_t)user % REUSE_SLOTS);
	if (reuse[i].user == user && time_now_ms() - reuse[i].at_ms < FEED_REUSE_MS)
		key = reuse[i].key;
	pthread_mutex_unlock(&reuse_mu);
	return key;
}

static void reuse_put(int64_t user, int64_t key)
{
	pthread_mutex_lock(&reuse_mu);
	int i = (int)((uint64_t)user % REUSE_SLOTS);
	reuse[i].user = user;
	reuse[i].key = key;
	reuse[i].at_ms = time_now_ms();
	pthread_mutex_unlock(&reuse_mu);
}

void feed_cache_reset(void)
{
	pthread_mutex_lock(&cache_mu);
	free(trending_slot.list.v);
	free(fresh_slot.list.v);
	memset(&trending_slot, 0, sizeof(trending_slot));
	memset(&fresh_slot, 0, sizeof(fresh_slot));
	for (int i = 0; i < GAME_CACHE_SLOTS; i++)
		free(game_slots[i].list.v);
	memset(game_slots, 0, sizeof(game_slots));
	pthread_mutex_unlock(&cache_mu);
	pthread_rwlock_wrlock(&creator_lock);
	creator_clear_all();
	pthread_rwlock_unlock(&creator_lock);
	pthread_mutex_lock(&snap_mu);
	for (int i = 0; i < SNAP_LOCAL_MAX; i++)
		free(snaps[i].snap);
	memset(snaps, 0, sizeof(snaps));
	pthread_mutex_unlock(&snap_mu);
	pthread_mutex_lock(&reuse_mu);
	memset(reuse, 0, sizeof(reuse));
	pthread_mutex_unlock(&reuse_mu);
}

static bool for_you_page(db_conn_t *c, const feed_query_t *q, const viewer_t *v, const cursor_t *cur,
			 feed_page_t *out, err_t *e)
{
	snapshot_t *snap = NULL;
	int64_t key = 0;
	int offset = 0;
	if (cur) {
		key = cur->a;
		offset = (int)cur->b;
		snap = snap_get(key);
		if (!snap || snap->user != q->viewer) {
			free(snap);
			return err_set(e, ERR_CONFLICT, "cursor_expired", "cursor",
				       "this For you page is older than an hour; start again from the top");
		}
	} else if ((key = reuse_get(q->viewer)) != 0 && (snap = snap_get(key)) != NULL &&
		   snap->user != q->viewer) {
		free(snap);
		snap = NULL;
	}
	if (!snap) {
		snap = xcalloc(1, sizeof(*snap));
		if (!rank_for_you(c, q->viewer, v, snap, e)) {
			free(snap);
			return false;
		}
		do
			randombytes_buf(&key, sizeof(key));
		while (key <= 0);
		snap_put(key, snap);
		reuse_put(q->viewer, key);
	}
	idset_t hidden = {0};
	if (!idset_query(c, &hidden, "SELECT post_id FROM post_hides WHERE user_id = ? LIMIT 10000", 1,
			 q->viewer, 0, e)) {
		free(snap);
		return false;
	}
	int i = offset;
	for (; i < snap->n && out->n < q->limit; i++)
		if (!idset_has(&hidden, snap->ids[i]))
			page_add(out, q->limit, snap->ids[i], snap->reasons[i]);
	if (i < snap->n)
		set_next(q, out, key, i);
	idset_free(&hidden);
	free(snap);
	return true;
}

bool feed_page(db_conn_t *c, const feed_query_t *q, feed_page_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	cursor_t cur = {0};
	bool has_cursor = q->cursor && q->cursor[0];
	if (has_cursor && !cursor_decode(q, &cur, e))
		return false;
	viewer_t v;
	if (!viewer_load(c, q->viewer, &v, e)) {
		viewer_free(&v);
		return false;
	}
	bool ok;
	if (q->kind == FEED_FOR_YOU)
		ok = for_you_page(c, q, &v, has_cursor ? &cur : NULL, out, e);
	else
		ok = scan_page(c, q, &v, has_cursor ? cur.a : INT64_MAX, has_cursor ? cur.b : INT64_MAX, out,
			       e);
	viewer_free(&v);
	if (!ok)
		feed_page_free(out);
	return ok;
}

/* ==== preferences ==== */

void feed_prefs_clear(feed_prefs_t *p)
{
	json_decref(p->favourite_games);
	json_decref(p->hidden_games);
	json_decref(p->hidden_creators);
	memset(p, 0, sizeof(*p));
}

bool feed_prefs_get(db_conn_t *c, int64_t user_id, feed_prefs_t *out, err_t *e)
{
	memset(out, 0, sizeof(*out));
	out->freshness = 50;
	db_stmt_t *s = db_prepare(c,
				  "SELECT favourite_games, hidden_games, hidden_creators, freshness FROM "
				  "feed_prefs WHERE user_id = ?",
				  e);
	if (!s)
		return false;
	db_bind_i64(s, 1, user_id);
	int rc = db_step(s, e);
	json_t *ids = NULL;
	if (rc == DB_ROW) {
		out->favourite_games = json_loads(db_col_text(s, 0), 0, NULL);
		out->hidden_games = json_loads(db_col_text(s, 1), 0, NULL);
		ids = json_loads(db_col_text(s, 2), 0, NULL);
		out->freshness = (int)db_col_i64(s, 3);
	}
	db_finish(s);
	if (!out->favourite_games)
		out->favourite_games = json_array();
	if (!out->hidden_games)
		out->hidden_games = json_array();
	out->hidden_creators = json_array();
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id)
	{
		int64_t uid;
		user_t u;
		err_t e2;
		if (id_parse(json_string_value(id), &uid) && users_get_by_id(c, uid, &u, &e2))
			json_array_append_new(out->hidden_creators, json_string(u.username));
	}
	json_decref(ids);
	return rc != DB_ERROR;
}

/* A list of games: ≤ 20 non-empty names of ≤ 40 characters, deduplicated by key. */
static bool games_json(json_t *in, const char *field, char **out, err_t *e)
{
	if (!json_is_array(in) || json_array_size(in) > 20)
		return err_set(e, ERR_INVALID, "invalid_games", field,
			       "%s must be an array of at most 20 game names", field);
	json_t *res = json_array();
	size_t i;
	json_t *g;
	uint64_t seen[20];
	int n = 0;
	json_array_foreach(in, i, g)
	{
		char key[POST_GAME_MAX * 4 + 1];
		const char *name = json_string_value(g);
		if (!name || jx_utf8_len(name) > POST_GAME_MAX || !social_game_key(name, key, sizeof(key))) {
			json_decref(res);
			return err_set(e, ERR_INVALID, "invalid_games", field,
				       "each game in %s is a name of 1-%d characters", field, POST_GAME_MAX);
		}
		uint64_t h = game_hash(key);
		if (has_hash(seen, n, h))
			continue;
		seen[n++] = h;
		json_array_append_new(res, json_string(name));
	}
	*out = jx_dump(res);
	json_decref(res);
	return true;
}

bool feed_prefs_put(db_conn_t *c, int64_t user_id, json_t *in, err_t *e)
{
	char *fav = NULL, *hid = NULL, *cre = NULL;
	bool ok = false;
	json_t *v;
	if ((v = json_object_get(in, "favourite_games")) && !games_json(v, "favourite_games", &fav, e))
		goto out;
	if ((v = json_object_get(in, "hidden_games")) && !games_json(v, "hidden_games", &hid, e))
		goto out;
	if ((v = json_object_get(in, "hidden_creators"))) {
		if (!json_is_array(v) || json_array_size(v) > 500) {
			err_set(e, ERR_INVALID, "invalid_creators", "hidden_creators",
				"hidden_creators must be an array of at most 500 usernames");
			goto out;
		}
		json_t *ids = json_array();
		size_t i;
		json_t *name;
		json_array_foreach(v, i, name)
		{
			user_t u;
			err_t e2;
			const char *s = json_string_value(name);
			if (!s || !users_valid_username(s, &e2) || !users_get_by_username(c, s, &u, &e2)) {
				json_decref(ids);
				err_set(e, ERR_INVALID, "unknown_user", "hidden_creators", "no user named %s",
					s ? s : "(not a string)");
				goto out;
			}
			char idbuf[24];
			snprintf(idbuf, sizeof(idbuf), "%lld", (long long)u.id);
			json_array_append_new(ids, json_string(idbuf));
		}
		cre = jx_dump(ids);
		json_decref(ids);
	}
	int64_t fresh = jx_int(in, "freshness", -1);
	if (json_object_get(in, "freshness") && (fresh < 0 || fresh > 100)) {
		err_set(e, ERR_INVALID, "invalid_freshness", "freshness",
			"freshness must be an integer from 0 to 100");
		goto out;
	}
	/* one upsert: absent fields keep their value */
	db_stmt_t *s = db_prepare(
	    c,
	    "INSERT INTO feed_prefs (user_id, favourite_games, hidden_games, hidden_creators, freshness, "
	    "updated_at) "
	    "VALUES (?, COALESCE(?, '[]'), COALESCE(?, '[]'), COALESCE(?, '[]'), CASE WHEN ? < 0 THEN 50 "
	    "ELSE ? END, ?) "
	    "ON CONFLICT (user_id) DO UPDATE SET favourite_games = COALESCE(?, feed_prefs.favourite_games), "
	    "hidden_games = COALESCE(?, feed_prefs.hidden_games), hidden_creators = COALESCE(?, "
	    "feed_prefs.hidden_creators), freshness = CASE WHEN ? < 0 THEN feed_prefs.freshness ELSE ? END, "
	    "updated_at = ?",
	    e);
	if (!s)
		goto out;
	int64_t now = time_now_ms();
	db_bind_i64(s, 1, user_id);
	db_bind_text(s, 2, fav);
	db_bind_text(s, 3, hid);
	db_bind_text(s, 4, cre);
	db_bind_i64(s, 5, fresh);
	db_bind_i64(s, 6, fresh);
	db_bind_i64(s, 7, now);
	db_bind_text(s, 8, fav);
	db_bind_text(s, 9, hid);
	db_bind_text(s, 10, cre);
	db_bind_i64(s, 11, fresh);
	db_bind_i64(s, 12, fresh);
	db_bind_i64(s, 13, now);
	ok = db_step(s, e) == DB_DONE;
	db_finish(s);
	if (ok)
		feed_forget(user_id);
out:
	free(fav);
	free(hid);
	free(cre);
	return ok;
}
