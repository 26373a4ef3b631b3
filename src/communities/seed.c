/*
 * seed.c — demo communities for `cosmiv seed --communities C` (main.c).
 *
 * Shape of the data:
 *   - sizes follow a power law over the users in the database: the first
 *     community has every user, the k-th about N / k^1.1 (at least 3);
 *   - each has @everyone, a Moderator role (manage messages, kick) held by
 *     one to three members and a cosmetic Veteran role, a #general channel,
 *     three more text channels under two categories, and an #announcements
 *     channel where @everyone may not write (as the API makes them);
 *   - channels hold a log-normal number of messages (capped) from members
 *     over the last two weeks, some of them replies, some with reactions;
 *   - member counts and each channel's last message agree with the rows.
 * Message ids are made from their creation time, as id_new() makes them.
 */
#include "communities/seed.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "communities/perms.h"
#include "core/util.h"

#define ID_EPOCH_MS 1704067200000LL
#define SPAN_MS	    (14LL * 24 * 3600 * 1000)

static const char *names[] = {"Clutch Club",  "Headshot Heaven", "Ranked Grind",   "Late Night Lobby",
			      "Frag Factory", "Respawn Room",	 "Loot Goblins",   "Spawn Campers Anonymous",
			      "Aim Lab Rats", "The Backline",	 "Victory Royale", "Zero Ping Heroes"};
static const char *topics[] = {"clips", "lfg", "strategy", "off-topic"};
static const char *lines[] = {"anyone up for ranked tonight?",
			      "that flick was insane",
			      "who else is grinding the new season",
			      "check the clip I just posted",
			      "we need a fifth, hop in",
			      "patch notes are out, the shotgun got nerfed",
			      "gg everyone, close one",
			      "how do you hold that angle without getting peeked",
			      "new personal best today",
			      "this map is so unbalanced",
			      "lol that ending",
			      "anyone know a good crosshair setting?"};
static const char *emoji[] = {"🔥", "😂", "👍", "💀", "🎯", "GG"};

static double unif(void)
{
	return (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
}

static int64_t id_at(int64_t at_ms)
{
	return ((at_ms - ID_EPOCH_MS) << 22) | (int64_t)randombytes_uniform(1u << 22);
}

static bool run(db_conn_t *c, const char *sql, int n, const int64_t *v, const char *text, int text_at,
		err_t *e)
{
	db_stmt_t *s = db_prepare(c, sql, e);
	if (!s)
		return false;
	for (int i = 0; i < n; i++)
		if (i + 1 == text_at)
			db_bind_text(s, i + 1, text);
		else
			db_bind_i64(s, i + 1, v[i]);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

static bool add_channel(db_conn_t *c, int64_t id, int64_t cid, const char *name, const char *type,
			const char *category, int position, int64_t at, err_t *e)
{
	db_stmt_t *s =
	    db_prepare(c,
		       "INSERT INTO channels (id, community_id, name, type, category, position, created_at) "
		       "VALUES (?,?,?,?,?,?,?)",
		       e);
	if (!s)
		return false;
	db_bind_i64(s, 1, id);
	db_bind_i64(s, 2, cid);
	db_bind_text(s, 3, name);
	db_bind_text(s, 4, type);
	db_bind_text(s, 5, category);
	db_bind_i64(s, 6, position);
	db_bind_i64(s, 7, at);
	int rc = db_step(s, e);
	db_finish(s);
	return rc == DB_DONE;
}

/* Messages of one channel, oldest first; returns the newest id in *last. */
static bool add_messages(db_conn_t *c, int64_t cid, int64_t chid, const int64_t *members, int64_t nmembers,
			 int max, int64_t now, int64_t *last, seed_communities_stats_t *st, err_t *e)
{
	int n = (int)fmin((double)max, exp(3.0 + 1.2 * (unif() + unif() + unif() - 1.5)));
	int64_t at = now - (int64_t)(unif() * (double)SPAN_MS);
	int64_t prev = 0;
	*last = 0;
	for (int i = 0; i < n; i++) {
		at += (int64_t)(unif() * (double)(now - at) / (double)(n - i + 1));
		int64_t id = id_at(at);
		if (id <= *last)
			id = *last + 1;
		int64_t author = members[randombytes_uniform((uint32_t)(nmembers < 64 ? nmembers : 64))];
		const char *text = lines[randombytes_uniform((uint32_t)ARRAY_LEN(lines))];
		db_stmt_t *s =
		    db_prepare(c,
			       "INSERT INTO messages (id, channel_id, community_id, author_id, content, "
			       "reply_to, created_at) VALUES (?,?,?,?,?,?,?)",
			       e);
		if (!s)
			return false;
		db_bind_i64(s, 1, id);
		db_bind_i64(s, 2, chid);
		db_bind_i64(s, 3, cid);
		db_bind_i64(s, 4, author);
		db_bind_text(s, 5, text);
		if (prev && unif() < 0.15)
			db_bind_i64(s, 6, prev);
		else
			db_bind_null(s, 6);
		db_bind_i64(s, 7, at);
		int rc = db_step(s, e);
		db_finish(s);
		if (rc != DB_DONE)
			return false;
		st->messages++;
		/* a few reactions on one message in five */
		if (unif() < 0.2) {
			int k = 1 + (int)randombytes_uniform(4);
			for (int j = 0; j < k && j < nmembers; j++) {
				int64_t v[4] = {id, 0, members[j], at};
				if (!run(c,
					 "INSERT INTO reactions (message_id, emoji, user_id, created_at) "
					 "VALUES (?,?,?,?) "
					 "ON CONFLICT DO NOTHING",
					 4, v, emoji[randombytes_uniform((uint32_t)ARRAY_LEN(emoji))], 2, e))
					return false;
				st->reactions++;
			}
		}
		prev = id;
		*last = id;
	}
	return true;
}

bool seed_communities(db_conn_t *c, int64_t count, seed_communities_stats_t *st, err_t *e)
{
	memset(st, 0, sizeof *st);
	int64_t nusers = 0, cap = 0, *users = NULL;
	db_stmt_t *s = db_prepare(c, "SELECT id FROM users WHERE disabled = 0 ORDER BY id", e);
	if (!s)
		return false;
	int rc;
	while ((rc = db_step(s, e)) == DB_ROW) {
		if (nusers == cap) {
			cap = cap ? cap * 2 : 1024;
			users = xrealloc(users, (size_t)cap * sizeof *users);
		}
		users[nusers++] = db_col_i64(s, 0);
	}
	db_finish(s);
	if (rc == DB_ERROR || nusers < 3) {
		free(users);
		return rc == DB_ERROR ? false
				      : err_set(e, ERR_INVALID, "too_few_users", NULL,
						"seeding communities needs at least 3 users");
	}
	int64_t now = time_now_ms();
	bool ok = false;
	for (int64_t k = 0; k < count; k++) {
		/* members: a shuffled prefix of the users; the first is the owner */
		for (int64_t i = nusers - 1; i > 0; i--) {
			int64_t j = (int64_t)randombytes_uniform((uint32_t)(i + 1)), t = users[i];
			users[i] = users[j];
			users[j] = t;
		}
		int64_t size = (int64_t)((double)nusers / pow((double)(k + 1), 1.1));
		if (size < 3)
			size = 3;
		if (!db_begin(c, e))
			goto out;
		int64_t at = now - SPAN_MS - (int64_t)(unif() * (double)SPAN_MS);
		int64_t cid = id_at(at);
		char name[96];
		if (k < (int64_t)ARRAY_LEN(names))
			snprintf(name, sizeof name, "%s", names[k]);
		else
			snprintf(name, sizeof name, "%s %lld", names[k % (int64_t)ARRAY_LEN(names)],
				 (long long)(k / (int64_t)ARRAY_LEN(names) + 1));
		char lc[96];
		snprintf(lc, sizeof lc, "%s", name);
		for (char *p = lc; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		db_stmt_t *ins =
		    db_prepare(c,
			       "INSERT INTO communities (id, owner_id, name, name_lc, description, public, "
			       "member_count, created_at) VALUES (?,?,?,?,?,?,?,?)",
			       e);
		if (!ins)
			goto rollback;
		db_bind_i64(ins, 1, cid);
		db_bind_i64(ins, 2, users[0]);
		db_bind_text(ins, 3, name);
		db_bind_text(ins, 4, lc);
		db_bind_text(ins, 5, "A community of players sharing clips and finding teammates.");
		db_bind_i64(ins, 6, k % 3 != 2); /* two in three are public */
		db_bind_i64(ins, 7, size);
		db_bind_i64(ins, 8, at);
		rc = db_step(ins, e);
		db_finish(ins);
		if (rc != DB_DONE)
			goto rollback;
		int64_t mod = id_at(at + 1), vet = id_at(at + 2);
		int64_t r0[6] = {cid, cid, 0, 0, (int64_t)PERM_EVERYONE_DEFAULT, at};
		int64_t r1[6] = {mod, cid, 0, 2, (int64_t)(PERM_MANAGE_MESSAGES | PERM_KICK_MEMBERS), at};
		int64_t r2[6] = {vet, cid, 0, 1, 0, at};
		const char *role_sql =
		    "INSERT INTO roles (id, community_id, name, position, permissions, is_everyone, "
		    "created_at) VALUES (?,?,?,?,?,?,?)";
		db_stmt_t *rs;
		const int64_t *rv[3] = {r0, r1, r2};
		const char *rn[3] = {"@everyone", "Moderator", "Veteran"};
		for (int r = 0; r < 3; r++) {
			if (!(rs = db_prepare(c, role_sql, e)))
				goto rollback;
			db_bind_i64(rs, 1, rv[r][0]);
			db_bind_i64(rs, 2, rv[r][1]);
			db_bind_text(rs, 3, rn[r]);
			db_bind_i64(rs, 4, rv[r][3]);
			db_bind_i64(rs, 5, rv[r][4]);
			db_bind_i64(rs, 6, r == 0);
			db_bind_i64(rs, 7, rv[r][5]);
			rc = db_step(rs, e);
			db_finish(rs);
			if (rc != DB_DONE)
				goto rollback;
		}
		for (int64_t i = 0; i < size; i++) {
			int64_t v[3] = {cid, users[i], at + i};
			if (!run(c, "INSERT INTO members (community_id, user_id, joined_at) VALUES (?,?,?)",
				 3, v, NULL, 0, e))
				goto rollback;
			int64_t role = i >= 1 && i <= 3 && i < size - 1 ? mod : i % 7 == 4 ? vet : 0;
			if (role) {
				int64_t w[3] = {cid, users[i], role};
				if (!run(c,
					 "INSERT INTO member_roles (community_id, user_id, role_id) VALUES "
					 "(?,?,?)",
					 3, w, NULL, 0, e))
					goto rollback;
			}
			if (i % 5000 == 4999 && (!db_commit(c, e) || !db_begin(c, e)))
				goto rollback;
		}
		st->members += size;
		/* channels: general first, then the topics under two categories, then announcements */
		struct {
			const char *name, *type, *category;
		} chans[6] = {{"general", "text", NULL},     {topics[0], "text", "Clips"},
			      {topics[1], "text", "Squads"}, {topics[2], "text", "Squads"},
			      {topics[3], "text", NULL},     {"announcements", "announcement", NULL}};
		for (int i = 0; i < 6; i++) {
			int64_t chid = id_at(at + 10 + i), last = 0;
			if (!add_channel(c, chid, cid, chans[i].name, chans[i].type, chans[i].category, i, at,
					 e))
				goto rollback;
			st->channels++;
			if (strcmp(chans[i].type, "announcement") == 0) {
				int64_t v[3] = {chid, cid, (int64_t)PERM_SEND_MESSAGES};
				if (!run(c,
					 "INSERT INTO channel_overwrites (channel_id, target_type, "
					 "target_id, allow_bits, "
					 "deny_bits) VALUES (?, 'role', ?, 0, ?)",
					 3, v, NULL, 0, e))
					goto rollback;
			}
			if (!add_messages(c, cid, chid, users, size, i == 5 ? 5 : 300, now, &last, st, e))
				goto rollback;
			int64_t v[2] = {last, chid};
			if (last &&
			    !run(c, "UPDATE channels SET last_message_id = ? WHERE id = ?", 2, v, NULL, 0, e))
				goto rollback;
		}
		char code[16];
		static const char abc[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
		for (int i = 0; i < 10; i++)
			code[i] = abc[randombytes_uniform(sizeof abc - 1)];
		code[10] = '\0';
		int64_t iv[4] = {0, cid, users[0], at};
		if (!run(c,
			 "INSERT INTO invites (code, community_id, inviter_id, max_uses, uses, expires_at, "
			 "created_at) "
			 "VALUES (?,?,?,0,0,0,?)",
			 4, iv, code, 1, e))
			goto rollback;
		if (!db_commit(c, e))
			goto rollback;
		st->communities++;
		fprintf(stderr, "\rseeding communities: %lld/%lld", (long long)(k + 1), (long long)count);
		continue;
	rollback:
		db_rollback(c);
		goto out;
	}
	if (count > 0)
		fputc('\n', stderr);
	ok = true;
out:
	free(users);
	return ok;
}
