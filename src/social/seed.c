/*
 * seed.c — demo data: users, a follow graph, posts with a long tail of
 * engagement spread over weeks, and comments. `cosmiv seed` (main.c).
 *
 * Shape of the data:
 *   - creators' popularity is a power law: follows and posts go to a few
 *     creators much more often than to the rest;
 *   - posts are spread over the last six weeks, more of them recently;
 *   - views are log-normal; likes, comments, shares and completed watches
 *     follow from views with per-post rates, so a few posts are hits;
 *   - engagement counters are stored as aggregates (there are no per-user
 *     like or view rows behind seeded counts); comments are real rows, and
 *     follower, post and reputation counters are recomputed from the rows
 *     at the end so they agree with the data.
 * Post ids are made from their creation time, as id_new() makes them, so
 * every feed orders seeded posts exactly as it would real ones.
 */
#include "social/seed.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "social/social.h"

#define ID_EPOCH_MS  1704067200000LL
#define SEED_SPAN_MS (42LL * 24 * 3600 * 1000)
#define BATCH	     20000

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64*: fast, and demo data needs no more */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
	double u = unif(), v = unif();
	return sqrt(-2.0 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* An index in [0, n) where small indexes are much likelier: a power-law popularity. */
static int64_t popular(int64_t n, double skew)
{
	int64_t i = (int64_t)((double)n * pow(unif(), skew));
	return i < n ? i : n - 1;
}

typedef struct {
	const char *name;
	int weight;
	const char *maps[4];
	const char *tags[4];
} game_t;

static const game_t games[] = {
    {"Valorant", 18, {"Ascent", "Bind", "Haven", "Split"}, {"ace", "clutch", "valorant", "ranked"}},
    {"Counter-Strike 2", 16, {"Mirage", "Inferno", "Nuke", "Ancient"}, {"cs2", "ace", "clutch", "awp"}},
    {"Fortnite",
     14,
     {"Tilted Towers", "Mega City", "Lonely Labs", "Pleasant Park"},
     {"fortnite", "victory", "build", "snipe"}},
    {"Apex Legends",
     10,
     {"Kings Canyon", "World's Edge", "Olympus", "Storm Point"},
     {"apex", "squadwipe", "wraith", "ranked"}},
    {"League of Legends",
     10,
     {"Summoner's Rift", "the Howling Abyss", "bot lane", "mid lane"},
     {"lol", "pentakill", "outplay", "baron"}},
    {"Overwatch 2",
     8,
     {"King's Row", "Ilios", "Numbani", "Dorado"},
     {"overwatch", "potg", "teamkill", "support"}},
    {"Rocket League",
     7,
     {"DFH Stadium", "Mannfield", "Champions Field", "Urban Central"},
     {"rocketleague", "aerial", "flipreset", "save"}},
    {"Minecraft",
     6,
     {"the Nether", "a skyblock island", "Hypixel", "the End"},
     {"minecraft", "speedrun", "pvp", "build"}},
    {"Call of Duty: Warzone",
     6,
     {"Verdansk", "Rebirth Island", "Urzikstan", "Al Mazrah"},
     {"warzone", "nuke", "sniper", "squad"}},
    {"Xonotic",
     3,
     {"Stormkeep", "Solarium", "Warfare", "Afterslime"},
     {"xonotic", "railgun", "deathmatch", "frag"}},
};

static const char *moments[] = {
    "Ace",	"1v4 clutch",	   "Triple kill", "Quad kill",	    "Insane flick",
    "No-scope", "Last-second win", "Team wipe",	  "Outplayed them", "Fastest round ever",
    "Comeback", "Headshot streak"};
static const char *adjs[] = {"Unreal", "Clean", "Ridiculous", "Cold", "Absolute", "Wild", "Silky", "Cracked"};
static const char *remarks[] = {"how did that work",
				"no way",
				"clean",
				"that timing!",
				"GG",
				"teach me",
				"bro is cracked",
				"wait for it",
				"the crosshair placement",
				"insane"};

static int pick_game(void)
{
	int total = 0;
	for (size_t i = 0; i < ARRAY_LEN(games); i++)
		total += games[i].weight;
	int r = (int)(unif() * total);
	for (size_t i = 0; i < ARRAY_LEN(games); i++) {
		r -= games[i].weight;
		if (r < 0)
			return (int)i;
	}
	return 0;
}

static bool exec_sql(db_conn_t *c, const char *sql, err_t *e)
{
	return db_exec(c, sql, e);
}

static void progress(const char *what, int64_t done, int64_t total)
{
	if (total <= 0 || !isatty(2))
		return;
	int pct = (int)(done * 100 / total);
	fprintf(stderr, "\r  %-10s [%-30.*s] %3d%%", what, pct * 30 / 100, "##############################",
		pct);
	if (done == total)
		fputc('\n', stderr);
}

bool seed_social(db_conn_t *c, const seed_opts_t *o, seed_stats_t *st, err_t *e)
{
	memset(st, 0, sizeof(*st));
	randombytes_buf(&rng_state, sizeof(rng_state));
	rng_state |= 1;
	int64_t now = time_now_ms();

	/* the users who will post: every user, seeded ones included, ordered by id (popularity by position)
	 */
	int64_t nusers = 0, cap = 0, *users = NULL;
	db_stmt_t *s = db_prepare(c, "SELECT id FROM users WHERE disabled = 0 ORDER BY id", e);
	if (!s)
		return false;
	int rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (nusers == cap) {
			cap = cap ? cap * 2 : 1024;
			users = xrealloc(users, (size_t)cap * sizeof(*users));
		}
		users[nusers++] = db_col_i64(s, 0);
	}
	db_finish(s);
	if (rc == DB_ERROR || nusers < 2) {
		free(users);
		return rc == DB_ERROR
			   ? false
			   : err_set(e, ERR_INVALID, "too_few_users", NULL, "seeding needs at least 2 users");
	}
	/* shuffle so popularity is not tied to sign-up order */
	for (int64_t i = nusers - 1; i > 0; i--) {
		int64_t j = (int64_t)(rnd() % (uint64_t)(i + 1)), t = users[i];
		users[i] = users[j];
		users[j] = t;
	}
	bool ok = false;
	int64_t *clips = NULL, nclips = 0;

	/* follows: each user follows K creators, popular ones far more often */
	if (!db_begin(c, e))
		goto out;
	for (int64_t u = 0; u < nusers && o->follows_per_user > 0; u++) {
		int64_t want = o->follows_per_user < nusers - 1 ? o->follows_per_user : nusers - 1;
		for (int64_t k = 0, tries = 0; k < want && tries < want * 4; tries++) {
			int64_t v = popular(nusers, 2.2);
			if (v == u)
				continue;
			s = db_prepare(
			    c,
			    "INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES (?,?,?,?) "
			    "ON CONFLICT (follower_id, followee_id) DO NOTHING",
			    e);
			if (!s)
				goto rollback;
			int64_t at = now - (int64_t)(unif() * (double)SEED_SPAN_MS);
			db_bind_i64(s, 1, (((at - ID_EPOCH_MS) << 22) | (int64_t)(rnd() & 0x3FFFFF)));
			db_bind_i64(s, 2, users[u]);
			db_bind_i64(s, 3, users[v]);
			db_bind_i64(s, 4, at);
			rc = db_step(s, e);
			int64_t n = rc == DB_DONE ? db_changes(s) : 0;
			db_finish(s);
			if (rc != DB_DONE)
				goto rollback;
			k += n;
			st->follows += n;
		}
		if (u % 1000 == 999 && (!db_commit(c, e) || !db_begin(c, e)))
			goto rollback;
		progress("follows", u + 1, nusers);
	}
	if (!db_commit(c, e))
		goto rollback;

	if (o->reuse_clips) {
		s = db_prepare(c, "SELECT id FROM clips WHERE status = 'ready' ORDER BY id DESC LIMIT 200",
			       e);
		if (!s)
			goto out;
		clips = xcalloc(200, sizeof(*clips));
		while (nclips < 200 && (rc = db_step(s, e)) == DB_ROW)
			clips[nclips++] = db_col_i64(s, 0);
		db_finish(s);
	}

	/* posts */
	if (!db_begin(c, e))
		goto out;
	for (int64_t i = 0; i < o->posts; i++) {
		int64_t author = users[popular(nusers, 1.6)];
		/* more posts recently: the age is the span times u^1.5 */
		int64_t age = (int64_t)((double)SEED_SPAN_MS * pow(unif(), 1.5));
		int64_t at = now - age;
		int64_t id = ((at - ID_EPOCH_MS) << 22) | (int64_t)(rnd() & 0x3FFFFF);
		const game_t *g = &games[pick_game()];
		char title[160], tags[160], gkey[64];
		snprintf(title, sizeof(title), "%s %s on %s", adjs[rnd() % ARRAY_LEN(adjs)],
			 moments[rnd() % ARRAY_LEN(moments)], g->maps[rnd() % 4]);
		snprintf(tags, sizeof(tags), "[\"%s\",\"%s\"]", g->tags[0], g->tags[1 + rnd() % 3]);
		social_game_key(g->name, gkey, sizeof(gkey));
		/* views log-normal; rates per post; a few hits */
		double views = exp(3.0 + 1.6 * gauss());
		if (views > 5e6)
			views = 5e6;
		double like_rate = 0.02 + 0.12 * unif() * unif();
		int64_t v = (int64_t)views, likes = (int64_t)(views * like_rate);
		int64_t shares = (int64_t)((double)likes * 0.05 * unif());
		int64_t completes = (int64_t)(views * (0.2 + 0.4 * unif()));
		int64_t ncomments = likes >= 20 ? 1 + (int64_t)(rnd() % 5) : 0;
		double weight = 2.0 * (double)likes + 3.0 * (double)ncomments + 5.0 * (double)shares +
				(double)completes + 0.25 * (double)v;
		/* engagement lands mostly in the first hours after posting */
		int64_t key = trend_event_key(at, 1.0);
		int64_t mid = at + (age < 12 * 3600 * 1000LL ? age / 2 : 6 * 3600 * 1000LL);
		key = trend_add(key, mid, weight);
		s = db_prepare(
		    c,
		    "INSERT INTO posts (id, user_id, clip_id, title, description, game, game_key, tags, "
		    "visibility, like_count, comment_count, share_count, view_count, complete_count, "
		    "trend_key, created_at, updated_at) VALUES (?,?,?,?,NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
		    e);
		if (!s)
			goto rollback;
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, author);
		if (nclips)
			db_bind_i64(s, 3, clips[i % nclips]);
		else
			db_bind_null(s, 3);
		db_bind_text(s, 4, title);
		db_bind_text(s, 5, g->name);
		db_bind_text(s, 6, gkey);
		db_bind_text(s, 7, tags);
		db_bind_text(s, 8, unif() < 0.95 ? "public" : unif() < 0.7 ? "followers" : "private");
		db_bind_i64(s, 9, likes);
		db_bind_i64(s, 10, ncomments);
		db_bind_i64(s, 11, shares);
		db_bind_i64(s, 12, v);
		db_bind_i64(s, 13, completes);
		db_bind_i64(s, 14, key);
		db_bind_i64(s, 15, at);
		db_bind_i64(s, 16, at);
		rc = db_step(s, e);
		db_finish(s);
		if (rc != DB_DONE)
			goto rollback;
		st->posts++;
		for (int64_t k = 0; k < ncomments; k++) {
			s = db_prepare(
			    c,
			    "INSERT INTO comments (id, post_id, user_id, reply_to, body, at_ms, created_at) "
			    "VALUES (?,?,?,NULL,?,NULL,?)",
			    e);
			if (!s)
				goto rollback;
			int64_t cat = at + (int64_t)(unif() * (double)(now - at));
			db_bind_i64(s, 1, ((cat - ID_EPOCH_MS) << 22) | (int64_t)(rnd() & 0x3FFFFF));
			db_bind_i64(s, 2, id);
			db_bind_i64(s, 3, users[rnd() % (uint64_t)nusers]);
			db_bind_text(s, 4, remarks[rnd() % ARRAY_LEN(remarks)]);
			db_bind_i64(s, 5, cat);
			rc = db_step(s, e);
			db_finish(s);
			if (rc != DB_DONE)
				goto rollback;
			st->comments++;
		}
		if (i % BATCH == BATCH - 1 && (!db_commit(c, e) || !db_begin(c, e)))
			goto rollback;
		if (i % 1000 == 999 || i == o->posts - 1)
			progress("posts", i + 1, o->posts);
	}
	if (!db_commit(c, e))
		goto rollback;

	/* counters from the rows, so they agree with the data */
	if (!exec_sql(c,
		      "UPDATE users SET "
		      "follower_count = (SELECT count(*) FROM follows f WHERE f.followee_id = users.id), "
		      "following_count = (SELECT count(*) FROM follows f WHERE f.follower_id = users.id), "
		      "post_count = (SELECT count(*) FROM posts p WHERE p.user_id = users.id), "
		      "rep_views = (SELECT coalesce(sum(p.view_count), 0) FROM posts p WHERE p.user_id = "
		      "users.id), "
		      "rep_engagement = (SELECT coalesce(sum(2 * p.like_count + 3 * p.comment_count + "
		      "5 * p.share_count + p.complete_count), 0) FROM posts p WHERE p.user_id = users.id)",
		      e))
		goto out;
	/* fresh statistics, so both query planners know how the new rows are spread */
	if (!exec_sql(c, "ANALYZE", e))
		goto out;
	ok = true;
	goto out;
rollback:
	db_rollback(c);
out:
	free(users);
	free(clips);
	return ok;
}
