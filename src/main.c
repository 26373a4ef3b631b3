/*
 * main.c — the `cosmiv` program: one binary, many subcommands.
 *
 *   cosmiv serve      HTTP API + web app + job workers (applies migrations first)
 *   cosmiv worker     job workers only, for scaling out
 *   cosmiv migrate    apply database migrations and exit
 *   cosmiv highlights FILE / eval MANIFEST / fit MANIFEST   the highlight detector
 *   cosmiv admin     create | reset-password | list  (works beside a running server)
 *   cosmiv seed      fill the database with demo users
 *   cosmiv config    print every setting with its current value
 *
 * Every subcommand reads the same settings (core/config.h): --data-dir /
 * COSMIV_DATA_DIR and COSMIV_DATABASE_URL point them all at one instance.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "gateway/events.h"
#include "gateway/gateway.h"
#include "http/http.h"
#include "http/ratelimit.h"
#include "clips/clips.h"
#include "jobs/jobs.h"
#include "media/cli.h"
#include "social/feed.h"
#include "social/seed.h"
#include "communities/seed.h"
#include "media/job.h"
#include "media/render.h"
#include "store/store.h"
#include "videos/videos.h"
#include "uploads/uploads.h"

#define COSMIV_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: cosmiv COMMAND [--data-dir DIR] [options]\n\n"
		   "commands:\n"
		   "  serve [--listen HOST:PORT]   run the HTTP server (API + web app + job workers)\n"
		   "  worker [--workers N]         run job workers only (scaled-out deployments)\n"
		   "  highlights FILE              find the highlights of a video file, print JSON\n"
		   "  eval MANIFEST [--json]       score the detector on labelled videos\n"
		   "  eval --feedback [--json]     precision users saw, per model version\n"
		   "  fit MANIFEST --out FILE      re-fit the detector's weights on labelled videos\n"
		   "  migrate                      apply database migrations\n"
		   "  admin create --username U --email E [--role user|moderator|admin]\n"
		   "                               create an account; the password is read from stdin\n"
		   "  admin reset-password --login U   set a new password (stdin); ends all sessions\n"
		   "  admin list                   list accounts\n"
		   "  seed --users N --posts M [--follows-per-user K] [--communities C] [--reuse-clips]\n"
		   "                               demo users (password: cosmiv-demo-pass), follows, posts\n"
		   "  config                       print every setting and its value\n"
		   "  version                      print the version\n\n"
		   "Settings come from COSMIV_* environment variables; see .env.example.\n");
}

static int fail(const char *what, const err_t *e)
{
	fprintf(stderr, "cosmiv: %s: %s\n", what, e->detail);
	return 1;
}

static bool mkdir_p(const char *path, err_t *e)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char saved = *s;
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				err_set(e, ERR_UNAVAILABLE, "data_dir", NULL, "cannot create %s: %s", p,
					strerror(errno));
				free(p);
				return false;
			}
			*s = saved;
			if (!saved)
				break;
		}
	}
	free(p);
	return true;
}

/* Opens (and migrates) the configured database. */
static db_t *open_db(bool migrate, err_t *e)
{
	const config_t *cfg = config_get();
	if (!mkdir_p(cfg->data_dir, e))
		return NULL;
	db_t *db = db_open(cfg->database_url, cfg->data_dir, e);
	if (!db)
		return NULL;
	int applied = 0;
	if (migrate && !db_migrate(db, &applied, e)) {
		db_close(db);
		return NULL;
	}
	return db;
}

static bool init_auth(err_t *e)
{
	const config_t *cfg = config_get();
	uint8_t *key = NULL;
	size_t keylen = 0;
	if (!auth_load_secret(cfg->jwt_secret, cfg->data_dir, config_is_production(), &key, &keylen, e))
		return false;
	bool ok = auth_init(key, keylen, cfg->access_ttl_s, cfg->refresh_ttl_s, e);
	feed_init(key, keylen);
	sodium_memzero(key, keylen);
	free(key);
	password_init(cfg->argon2_memlimit, cfg->argon2_opslimit, cfg->hash_concurrency);
	return ok;
}

/* ==== serve ==== */

static bool check_production(err_t *e)
{
	const config_t *cfg = config_get();
	if (!config_is_production())
		return true;
	for (const char *p = cfg->cors_origins; *p; p++)
		if (*p == '*')
			return err_set(e, ERR_INVALID, "bad_config", "COSMIV_CORS_ORIGINS",
				       "COSMIV_CORS_ORIGINS may not contain '*' in production");
	return true;
}

static store_t *open_store(err_t *e)
{
	const config_t *cfg = config_get();
	return store_open(cfg->storage_url, cfg->data_dir, cfg->s3_access_key, cfg->s3_secret_key, e);
}

/* Blocks SIGTERM/SIGINT in every thread (they inherit it); main waits for them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The gateway's default address: the HTTP host, the next port. */
static char *gateway_default_listen(const char *http_listen)
{
	const char *colon = strrchr(http_listen, ':');
	int port = http_port();
	if (!colon)
		return xasprintf("127.0.0.1:%d", port ? port + 1 : 0);
	return xasprintf("%.*s:%d", (int)(colon - http_listen), http_listen, port ? port + 1 : 0);
}

/* Job progress reaches the job's owner over the gateway. */
static void publish_job_progress(int64_t job_id, int64_t owner_id, int percent, const char *msg)
{
	event_t ev = {.type = "JOB_PROGRESS", .scope = EV_USER, .user_id = owner_id};
	events_publish(
	    &ev, json_pack("{s:o, s:i, s:s?}", "job_id", jx_id(job_id), "progress", percent, "message", msg));
}

static int cmd_serve(void)
{
	const config_t *cfg = config_get();
	err_t e;
	sigset_t set;
	block_signals(&set);
	store_t *store = NULL;

	if (!check_production(&e))
		return fail("configuration", &e);
	db_t *db = open_db(true, &e);
	if (!db)
		return fail("database", &e);
	if (!init_auth(&e) || !ratelimit_init(cfg->redis_url, &e) ||
	    !uploads_init(cfg->data_dir, cfg->upload_dir, &e) || !(store = open_store(&e))) {
		db_close(db);
		return fail("start-up", &e);
	}
	api_set_store(store);
	api_init(db);
	videos_register_jobs(store, cfg->data_dir);
	clips_register_jobs(store, cfg->data_dir);
	if (!http_static_init(cfg->web_dir))
		log_warn("web app not built: serving the API only (run `make web` to build it)", "web_dir",
			 cfg->web_dir, NULL);
	/* The gateway before the HTTP server: GET /api/v2/gateway reads what it sets up. */
	if (strcmp(cfg->gateway_listen, "off") != 0) {
		char *gl = cfg->gateway_listen[0] ? xstrdup(cfg->gateway_listen)
						  : gateway_default_listen(cfg->listen);
		gateway_config_t gc = {.listen = gl,
				       .public_url = cfg->gateway_public_url,
				       .heartbeat_ms = cfg->gateway_heartbeat_ms,
				       .max_per_user = cfg->gateway_max_per_user,
				       .presence_grace_s = cfg->presence_grace_s,
				       .flush_split = cfg->gateway_flush_split,
				       .send_queue_kb = cfg->gateway_send_queue_kb,
				       .redis_url = cfg->redis_url};
		bool ok = gateway_start(&gc, db, &e);
		free(gl);
		if (!ok) {
			store_close(store);
			db_close(db);
			return fail("gateway", &e);
		}
		http_allow_connect(gateway_url());
	} else {
		events_start(cfg->redis_url, NULL);
	}
	if (!http_start(cfg->listen, &e)) {
		gateway_stop();
		events_stop();
		store_close(store);
		db_close(db);
		return fail("listen", &e);
	}
	jobs_set_observer(publish_job_progress); /* before the workers that call it start */
	if (!jobs_start(db, cfg->workers, &e)) {
		jobs_stop();
		http_stop(0);
		gateway_stop();
		events_stop();
		store_close(store);
		db_close(db);
		return fail("workers", &e);
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", http_port());
	char workers[16];
	snprintf(workers, sizeof(workers), "%d", cfg->workers);
	log_info("cosmiv listening", "listen", cfg->listen, "port", port, "database", db_describe(db),
		 "storage", store_kind(store), "workers", workers, "rate_limits", ratelimit_backend(), "web",
		 http_static_available() ? cfg->web_dir : "none", "version", COSMIV_VERSION, NULL);

	int sig = 0;
	sigwait(&set, &sig);
	log_info("shutting down: finishing in-flight requests", "signal",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
	/* Requests and jobs publish events: they finish before the gateway and the bus go. */
	http_stop(cfg->shutdown_grace_s);
	jobs_stop();
	gateway_stop();
	events_stop();
	store_close(store);
	http_static_cleanup();
	uploads_cleanup();
	ratelimit_shutdown();
	password_shutdown();
	auth_shutdown();
	db_close(db);
	log_info("stopped", NULL);
	return 0;
}

/* ==== worker ==== */

static int cmd_worker(void)
{
	const config_t *cfg = config_get();
	err_t e;
	sigset_t set;
	block_signals(&set);
	db_t *db = open_db(true, &e);
	if (!db)
		return fail("database", &e);
	store_t *store = open_store(&e);
	if (!store) {
		db_close(db);
		return fail("storage", &e);
	}
	int n = cfg->workers > 0 ? cfg->workers : 1;
	/* With Redis, job progress reaches the owner's gateway on whichever node holds it. */
	if (cfg->redis_url[0] && !ratelimit_init(cfg->redis_url, &e)) {
		store_close(store);
		db_close(db);
		return fail("redis", &e);
	}
	events_start(cfg->redis_url, NULL);
	jobs_set_observer(publish_job_progress);
	videos_register_jobs(store, cfg->data_dir);
	clips_register_jobs(store, cfg->data_dir);
	if (!jobs_start(db, n, &e)) {
		store_close(store);
		db_close(db);
		return fail("workers", &e);
	}
	char ns[16];
	snprintf(ns, sizeof(ns), "%d", n);
	log_info("cosmiv worker running", "workers", ns, "database", db_describe(db), "storage",
		 store_kind(store), NULL);
	int sig = 0;
	sigwait(&set, &sig);
	log_info("worker stopping: finishing running jobs", NULL);
	jobs_stop();
	events_stop();
	ratelimit_shutdown();
	store_close(store);
	db_close(db);
	return 0;
}

/* ==== migrate ==== */

static int cmd_migrate(void)
{
	err_t e;
	const config_t *cfg = config_get();
	if (!mkdir_p(cfg->data_dir, &e))
		return fail("data directory", &e);
	db_t *db = db_open(cfg->database_url, cfg->data_dir, &e);
	if (!db)
		return fail("database", &e);
	int applied = 0, version = 0;
	bool ok = db_migrate(db, &applied, &e) && db_schema_version(db, &version, &e);
	if (ok)
		printf("%s: applied %d migration(s); schema version %d\n", db_describe(db), applied, version);
	db_close(db);
	return ok ? 0 : fail("migrate", &e);
}

/* ==== admin ==== */

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

static bool read_password(char *out, size_t n)
{
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (!fgets(out, (int)n, stdin))
		return false;
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] != '\0';
}

static int cmd_admin(int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	err_t e;
	db_t *db = open_db(true, &e);
	if (!db)
		return fail("database", &e);
	int rc = 1;
	db_conn_t *c = db_connect(db, &e);
	if (!c || !init_auth(&e)) {
		fail("start-up", &e);
		goto out;
	}
	if (strcmp(argv[0], "create") == 0) {
		const char *u = opt(argc, argv, "--username"), *em = opt(argc, argv, "--email");
		const char *role = opt(argc, argv, "--role");
		char pw[1100];
		if (!u || !em) {
			fprintf(stderr, "cosmiv admin create: --username and --email are required\n");
			rc = 2;
			goto out;
		}
		if (!read_password(pw, sizeof(pw))) {
			fprintf(stderr, "cosmiv admin create: no password on stdin\n");
			rc = 2;
			goto out;
		}
		user_t user;
		if (!auth_create_user(c, u, em, pw, role ? role : "admin", &user, &e)) {
			fail("admin create", &e);
			goto out;
		}
		sodium_memzero(pw, sizeof(pw));
		printf("created %s (id %lld, role %s)\n", user.username, (long long)user.id, user.role);
		rc = 0;
	} else if (strcmp(argv[0], "reset-password") == 0) {
		const char *login = opt(argc, argv, "--login");
		char pw[1100];
		if (!login || !read_password(pw, sizeof(pw))) {
			fprintf(
			    stderr,
			    "cosmiv admin reset-password: --login and a password on stdin are required\n");
			rc = 2;
			goto out;
		}
		if (!auth_reset_password(c, login, pw, &e)) {
			fail("admin reset-password", &e);
			goto out;
		}
		printf("password reset for %s; all sessions ended\n", login);
		rc = 0;
	} else if (strcmp(argv[0], "list") == 0) {
		int64_t cursor = 0;
		do {
			user_t *items;
			int n;
			if (!users_list(c, cursor, 100, &items, &n, &cursor, &e)) {
				fail("admin list", &e);
				goto out;
			}
			for (int i = 0; i < n; i++)
				printf("%lld\t%s\t%s\t%s%s\n", (long long)items[i].id, items[i].username,
				       items[i].email, items[i].role, items[i].disabled ? "\tdisabled" : "");
			free(items);
		} while (cursor);
		rc = 0;
	} else {
		usage(stderr);
		rc = 2;
	}
out:
	db_disconnect(c);
	password_shutdown();
	auth_shutdown();
	db_close(db);
	return rc;
}

/* ==== seed ==== */

static bool opt_count(int argc, char **argv, const char *name, int64_t max, int64_t *out)
{
	const char *v = opt(argc, argv, name);
	if (v && (!parse_i64(v, out) || *out < 0 || *out > max)) {
		fprintf(stderr, "cosmiv seed: %s must be 0..%lld\n", name, (long long)max);
		return false;
	}
	return true;
}

/*
 * cosmiv seed --users N --posts M [--follows-per-user K] [--communities C] [--reuse-clips]
 * (and the older form `seed users --count N`). Users first (one shared
 * Argon2id hash: seeding a million users must not take a day), then the
 * social data over every user in the database (social/seed.c).
 */
static int cmd_seed(int argc, char **argv)
{
	int64_t count = 0, posts = 0, follows = 10;
	bool legacy = argc >= 1 && strcmp(argv[0], "users") == 0;
	if (legacy) {
		count = 100;
		if (!opt_count(argc, argv, "--count", 10000000, &count))
			return 2;
	} else if (!opt_count(argc, argv, "--users", 10000000, &count) ||
		   !opt_count(argc, argv, "--posts", 100000000, &posts) ||
		   !opt_count(argc, argv, "--follows-per-user", 10000, &follows))
		return 2;
	int64_t communities = 0;
	if (!legacy && !opt_count(argc, argv, "--communities", 100000, &communities))
		return 2;
	if (!legacy && count == 0 && posts == 0 && communities == 0) {
		fprintf(stderr,
			"usage: cosmiv seed --users N --posts M [--follows-per-user K] [--communities C] "
			"[--reuse-clips]\n");
		return 2;
	}
	static const char *adj[] = {"swift", "silent", "crimson", "lucky", "frost", "neon", "rapid", "iron"};
	static const char *noun[] = {"sniper", "fox", "raider", "ghost", "ace", "viper", "titan", "nova"};
	err_t e;
	db_t *db = open_db(true, &e);
	if (!db)
		return fail("database", &e);
	db_conn_t *c = db_connect(db, &e);
	const config_t *cfg = config_get();
	password_init(cfg->argon2_memlimit, cfg->argon2_opslimit, 1);
	char hash[PASSWORD_HASH_MAX];
	int rc = 1;
	uint64_t t0 = time_mono_ns();
	if (!c || !password_hash("cosmiv-demo-pass", hash) || !db_begin(c, &e)) {
		fail("seed", &e);
		goto out;
	}
	int64_t made = 0;
	for (int64_t i = 0; i < count; i++) {
		char name[40], email[80];
		/* a random stem and a running number: unique within the run, varied to look at */
		snprintf(name, sizeof(name), "%s_%s_%lld%03u", adj[randombytes_uniform(ARRAY_LEN(adj))],
			 noun[randombytes_uniform(ARRAY_LEN(noun))], (long long)i, randombytes_uniform(1000));
		snprintf(email, sizeof(email), "%s@example.com", name);
		user_t u;
		if (users_create(c, name, email, hash, "user", &u, &e))
			made++;
		else if (e.kind != ERR_CONFLICT) /* a conflict is a name seeded by an earlier run */
			goto rollback;
		if (made % 1000 == 999 && (!db_commit(c, &e) || !db_begin(c, &e)))
			goto rollback;
	}
	if (!db_commit(c, &e)) {
	rollback:
		db_rollback(c);
		fail("seed", &e);
		goto out;
	}
	printf("created %lld demo users (password: cosmiv-demo-pass) in %.1f s\n", (long long)made,
	       (double)(time_mono_ns() - t0) / 1e9);
	if (!legacy && (posts > 0 || follows > 0)) {
		seed_opts_t so = {.posts = posts,
				  .follows_per_user = follows,
				  .reuse_clips = flag(argc, argv, "--reuse-clips")};
		seed_stats_t st;
		uint64_t t1 = time_mono_ns();
		if (!seed_social(c, &so, &st, &e)) {
			fail("seed", &e);
			goto out;
		}
		printf("created %lld posts, %lld comments and %lld follows in %.1f s\n", (long long)st.posts,
		       (long long)st.comments, (long long)st.follows, (double)(time_mono_ns() - t1) / 1e9);
	}
	if (communities > 0) {
		seed_communities_stats_t cs;
		uint64_t t2 = time_mono_ns();
		if (!seed_communities(c, communities, &cs, &e)) {
			fail("seed", &e);
			goto out;
		}
		printf(
		    "created %lld communities with %lld memberships, %lld channels, %lld messages and %lld "
		    "reactions in %.1f s\n",
		    (long long)cs.communities, (long long)cs.members, (long long)cs.channels,
		    (long long)cs.messages, (long long)cs.reactions, (double)(time_mono_ns() - t2) / 1e9);
	}
	rc = 0;
out:
	db_disconnect(c);
	password_shutdown();
	db_close(db);
	return rc;
}

/* ==== eval --feedback ==== */

/* The precision users actually saw, per model version, from their keep /
 * dismiss / export decisions: the detector measured in production. */
static int cmd_eval_feedback(int argc, char **argv)
{
	bool as_json = false;
	for (int i = 0; i < argc; i++)
		as_json |= strcmp(argv[i], "--json") == 0;
	err_t e;
	db_t *db = open_db(true, &e);
	if (!db)
		return fail("database", &e);
	db_conn_t *c = db_connect(db, &e);
	feedback_stat_t *st = NULL;
	int n = 0, rc = 1;
	if (!c || !videos_feedback_report(c, &st, &n, &e)) {
		fail("eval --feedback", &e);
		goto out;
	}
	if (as_json) {
		json_t *arr = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:f}", "model", st[i].model,
							     "judged", (json_int_t)st[i].judged, "kept",
							     (json_int_t)st[i].kept, "precision",
							     (double)st[i].kept / (double)st[i].judged));
		char *s = jx_dump(arr);
		puts(s);
		free(s);
		json_decref(arr);
	} else {
		printf("%-24s %8s %8s %10s\n", "model", "judged", "kept", "precision");
		for (int i = 0; i < n; i++)
			printf("%-24s %8lld %8lld %9.1f%%\n", st[i].model, (long long)st[i].judged,
			       (long long)st[i].kept, 100.0 * (double)st[i].kept / (double)st[i].judged);
		if (n == 0)
			printf(
			    "(no feedback yet: users keep, dismiss or export highlights in the web app)\n");
	}
	rc = 0;
out:
	free(st);
	db_disconnect(c);
	db_close(db);
	return rc;
}

/* ==== config ==== */

static int cmd_config(void)
{
	for (const config_setting_t *s = config_settings; s->env; s++) {
		const char *v = getenv(s->env);
		bool secret = strstr(s->env, "SECRET") || strstr(s->env, "URL");
		printf("%-28s %s%s\n", s->env, v ? (secret && v[0] ? "(set)" : v) : s->deflt,
		       v ? "" : "  (default)");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "cosmiv: libsodium failed to initialise\n");
		return 1;
	}
	char *err = NULL;
	if (!config_load(&argc, argv, &err)) {
		fprintf(stderr, "cosmiv: %s\n", err);
		free(err);
		return 2;
	}
	log_level_t lvl;
	if (log_parse_level(config_get()->log_level, &lvl))
		log_set_level(lvl);
	if (argc < 2) {
		usage(stderr);
		config_free();
		return 2;
	}
	const char *cmd = argv[1];
	int rc;
	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve();
	else if (strcmp(cmd, "worker") == 0)
		rc = cmd_worker();
	else if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate();
	else if (strcmp(cmd, "media-job") == 0)
		rc = media_job_main(argc - 1, argv + 1);
	else if (strcmp(cmd, "media-tool") == 0)
		rc = media_cli_tool(argc - 1, argv + 1);
	else if (strcmp(cmd, "highlights") == 0)
		rc = media_cli_highlights(argc - 1, argv + 1);
	else if (strcmp(cmd, "eval") == 0 && argc >= 3 && strcmp(argv[2], "--feedback") == 0)
		rc = cmd_eval_feedback(argc - 2, argv + 2);
	else if (strcmp(cmd, "eval") == 0)
		rc = media_cli_eval(argc - 1, argv + 1);
	else if (strcmp(cmd, "fit") == 0)
		rc = media_cli_fit(argc - 1, argv + 1);
	else if (strcmp(cmd, "admin") == 0)
		rc = cmd_admin(argc - 2, argv + 2);
	else if (strcmp(cmd, "seed") == 0)
		rc = cmd_seed(argc - 2, argv + 2);
	else if (strcmp(cmd, "config") == 0)
		rc = cmd_config();
	else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("cosmiv %s\n", COSMIV_VERSION);
		rc = 0;
	} else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "cosmiv: unknown command \"%s\"\n\n", cmd);
		usage(stderr);
		rc = 2;
	}
	config_free();
	return rc;
}
