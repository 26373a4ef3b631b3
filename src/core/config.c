/*
 * config.c — settings table and loader. See config.h.
 */
#include "core/config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

const config_setting_t config_settings[] = {
    {"COSMIV_ENV", "--env", "development", "development | production | test"},
    {"COSMIV_DATA_DIR", "--data-dir", "./data", "embedded data directory (SQLite, media, secrets)"},
    {"COSMIV_LISTEN", "--listen", "127.0.0.1:8080", "HTTP listen address host:port"},
    {"COSMIV_DATABASE_URL", "--database-url", "",
     "empty: SQLite in the data directory; postgres://user@host:port/db for PostgreSQL"},
    {"COSMIV_REDIS_URL", NULL, "",
     "redis://host:port/db for shared rate limits, feed snapshots, gateway events and presence; empty: "
     "in-process"},
    {"COSMIV_JWT_SECRET", NULL, "",
     "HS256 signing secret, at least 32 bytes; empty: generated into DATA_DIR/jwt.secret "
     "(refused in production)"},
    {"COSMIV_WEB_DIR", "--web-dir", "web/dist", "built web app served at /; API-only when missing"},
    {"COSMIV_CORS_ORIGINS", NULL, "", "comma-separated origins allowed by CORS; '*' refused in production"},
    {"COSMIV_LOG_LEVEL", NULL, "info", "debug | info | warn | error"},
    {"COSMIV_PUBLIC_URL", NULL, "", "external base URL (https:// turns on HSTS)"},
    {"COSMIV_TRUST_PROXY", NULL, "0", "1: trust X-Forwarded-For/-Proto from the reverse proxy"},
    {"COSMIV_THREADS", "--threads", "0", "HTTP worker threads; 0: 4 per core"},
    {"COSMIV_MAX_BODY_BYTES", NULL, "1048576", "largest accepted JSON request body"},
    {"COSMIV_REQUEST_TIMEOUT_S", NULL, "30", "idle connection timeout"},
    {"COSMIV_SHUTDOWN_GRACE_S", NULL, "20", "SIGTERM: seconds to let in-flight requests finish"},
    {"COSMIV_ACCESS_TTL_S", NULL, "900", "access token lifetime (15 minutes)"},
    {"COSMIV_REFRESH_TTL_S", NULL, "2592000", "refresh token lifetime (30 days)"},
    {"COSMIV_ARGON2_MEMLIMIT", NULL, "19922944", "Argon2id memory in bytes (OWASP: 19 MiB)"},
    {"COSMIV_ARGON2_OPSLIMIT", NULL, "2", "Argon2id passes (OWASP: 2)"},
    {"COSMIV_HASH_CONCURRENCY", NULL, "0", "password hashes at once; 0: one per core"},
    {"COSMIV_RATE_AUTH_PER_MIN", NULL, "20", "auth attempts per minute per IP and per account"},
    {"COSMIV_RATE_AUTH_BURST", NULL, "10", "auth attempts allowed in a burst"},
    {"COSMIV_STORAGE_URL", NULL, "",
     "media storage: empty = DATA_DIR/media; file:///dir; s3://bucket?endpoint=http://host:port&region=r"},
    {"COSMIV_S3_ACCESS_KEY", NULL, "", "S3 access key id (or AWS_ACCESS_KEY_ID)"},
    {"COSMIV_S3_SECRET_KEY", NULL, "", "S3 secret key (or AWS_SECRET_ACCESS_KEY)"},
    {"COSMIV_WORKERS", "--workers", "1",
     "job worker threads inside `serve`; 0 leaves jobs to `cosmiv worker`"},
    {"COSMIV_JOB_LEASE_S", NULL, "60", "a job whose worker stopped heartbeating is run again after this"},
    {"COSMIV_UPLOAD_EXPIRY_S", NULL, "86400", "unfinished uploads are deleted after this many seconds"},
    {"COSMIV_UPLOAD_DIR", NULL, "",
     "spool of unfinished uploads; empty: DATA_DIR/uploads. Several nodes that share one (NFSv4) can "
     "take any upload's requests; otherwise route each upload to one node (deploy/nginx.conf)"},
    {"COSMIV_FEED_CACHE_MS", NULL, "1000",
     "feed pages and rendered posts are served from a per-node cache this long (a signed-in reader's "
     "own changes show at once); 0 turns it off"},
    {"COSMIV_RATE_UPLOAD_PER_MIN", NULL, "30", "uploads a user may start per minute"},
    {"COSMIV_FREE_MAX_UPLOAD_BYTES", NULL, "4294967296", "largest upload on the free plan (4 GiB)"},
    {"COSMIV_PRO_MAX_UPLOAD_BYTES", NULL, "21474836480", "largest upload on the pro plan (20 GiB)"},
    {"COSMIV_FREE_MAX_DURATION_S", NULL, "3600", "longest video on the free plan (1 h)"},
    {"COSMIV_PRO_MAX_DURATION_S", NULL, "14400", "longest video on the pro plan (4 h)"},
    {"COSMIV_MEDIA_TIMEOUT_S", NULL, "3600", "wall-clock limit of one media job"},
    {"COSMIV_MEDIA_MEMORY_BYTES", NULL, "3221225472", "address-space limit of the media sandbox (3 GiB)"},
    {"COSMIV_GATEWAY_LISTEN", NULL, "",
     "WebSocket gateway listen address host:port; empty: the HTTP host, port + 1; 'off': no gateway"},
    {"COSMIV_GATEWAY_PUBLIC_URL", NULL, "",
     "gateway URL given to clients (wss://site/api/v2/gateway behind a proxy); empty: ws://LISTEN"},
    {"COSMIV_GATEWAY_HEARTBEAT_MS", NULL, "30000", "clients heartbeat this often; silent ones are closed"},
    {"COSMIV_GATEWAY_MAX_PER_USER", NULL, "10", "gateway connections one user may hold on one node"},
    {"COSMIV_PRESENCE_GRACE_S", NULL, "10", "a user whose last connection closed stays online this long"},
    {"COSMIV_GATEWAY_FLUSH_SPLIT", NULL, "2048",
     "a fan-out to at least this many connections is written by two threads"},
    {"COSMIV_GATEWAY_SEND_QUEUE_KB", NULL, "1024",
     "a gateway client whose unsent frames pass this many KiB is closed (4011 slow_consumer)"},
    {NULL, NULL, NULL, NULL},
};

static config_t cfg;
static bool loaded;

const config_t *config_get(void)
{
	return &cfg;
}

bool config_is_production(void)
{
	return cfg.env && strcmp(cfg.env, "production") == 0;
}

/* The string settings and where they live in config_t. */
static const struct {
	const char *env;
	size_t off;
} str_slots[] = {
    {"COSMIV_ENV", offsetof(config_t, env)},
    {"COSMIV_DATA_DIR", offsetof(config_t, data_dir)},
    {"COSMIV_LISTEN", offsetof(config_t, listen)},
    {"COSMIV_DATABASE_URL", offsetof(config_t, database_url)},
    {"COSMIV_REDIS_URL", offsetof(config_t, redis_url)},
    {"COSMIV_JWT_SECRET", offsetof(config_t, jwt_secret)},
    {"COSMIV_WEB_DIR", offsetof(config_t, web_dir)},
    {"COSMIV_CORS_ORIGINS", offsetof(config_t, cors_origins)},
    {"COSMIV_LOG_LEVEL", offsetof(config_t, log_level)},
    {"COSMIV_PUBLIC_URL", offsetof(config_t, public_url)},
    {"COSMIV_STORAGE_URL", offsetof(config_t, storage_url)},
    {"COSMIV_UPLOAD_DIR", offsetof(config_t, upload_dir)},
    {"COSMIV_S3_ACCESS_KEY", offsetof(config_t, s3_access_key)},
    {"COSMIV_S3_SECRET_KEY", offsetof(config_t, s3_secret_key)},
    {"COSMIV_GATEWAY_LISTEN", offsetof(config_t, gateway_listen)},
    {"COSMIV_GATEWAY_PUBLIC_URL", offsetof(config_t, gateway_public_url)},
};

static char **slot_str(const char *env)
{
	for (size_t i = 0; i < ARRAY_LEN(str_slots); i++)
		if (strcmp(str_slots[i].env, env) == 0)
			return (char **)((char *)&cfg + str_slots[i].off);
	return NULL;
}

static bool set_int(const char *env, const char *val, char **err)
{
	static const struct {
		const char *env;
		size_t off;
		int64_t min, max;
		bool wide;
	} map[] = {
	    {"COSMIV_THREADS", offsetof(config_t, threads), 0, 1024, false},
	    {"COSMIV_MAX_BODY_BYTES", offsetof(config_t, max_body_bytes), 1024, 1LL << 30, true},
	    {"COSMIV_REQUEST_TIMEOUT_S", offsetof(config_t, request_timeout_s), 1, 3600, false},
	    {"COSMIV_SHUTDOWN_GRACE_S", offsetof(config_t, shutdown_grace_s), 0, 600, false},
	    {"COSMIV_ACCESS_TTL_S", offsetof(config_t, access_ttl_s), 1, 86400, false},
	    {"COSMIV_REFRESH_TTL_S", offsetof(config_t, refresh_ttl_s), 60, 31536000, false},
	    {"COSMIV_ARGON2_MEMLIMIT", offsetof(config_t, argon2_memlimit), 8192, 1LL << 32, true},
	    {"COSMIV_ARGON2_OPSLIMIT", offsetof(config_t, argon2_opslimit), 1, 32, false},
	    {"COSMIV_HASH_CONCURRENCY", offsetof(config_t, hash_concurrency), 0, 256, false},
	    {"COSMIV_RATE_AUTH_PER_MIN", offsetof(config_t, rate_auth_per_min), 1, 1000000, false},
	    {"COSMIV_RATE_AUTH_BURST", offsetof(config_t, rate_auth_burst), 1, 1000000, false},
	    {"COSMIV_WORKERS", offsetof(config_t, workers), 0, 32, false},
	    {"COSMIV_JOB_LEASE_S", offsetof(config_t, job_lease_s), 2, 86400, false},
	    {"COSMIV_UPLOAD_EXPIRY_S", offsetof(config_t, upload_expiry_s), 1, 30 * 86400, false},
	    {"COSMIV_FEED_CACHE_MS", offsetof(config_t, feed_cache_ms), 0, 60000, false},
	    {"COSMIV_RATE_UPLOAD_PER_MIN", offsetof(config_t, rate_upload_per_min), 1, 1000000, false},
	    {"COSMIV_FREE_MAX_UPLOAD_BYTES", offsetof(config_t, free_max_upload_bytes), 1, 1LL << 50, true},
	    {"COSMIV_PRO_MAX_UPLOAD_BYTES", offsetof(config_t, pro_max_upload_bytes), 1, 1LL << 50, true},
	    {"COSMIV_FREE_MAX_DURATION_S", offsetof(config_t, free_max_duration_s), 1, 86400, false},
	    {"COSMIV_PRO_MAX_DURATION_S", offsetof(config_t, pro_max_duration_s), 1, 86400, false},
	    {"COSMIV_MEDIA_TIMEOUT_S", offsetof(config_t, media_timeout_s), 5, 86400, false},
	    {"COSMIV_MEDIA_MEMORY_BYTES", offsetof(config_t, media_memory_bytes), 64LL << 20, 1LL << 40,
	     true},
	    {"COSMIV_GATEWAY_HEARTBEAT_MS", offsetof(config_t, gateway_heartbeat_ms), 1000, 600000, false},
	    {"COSMIV_GATEWAY_MAX_PER_USER", offsetof(config_t, gateway_max_per_user), 1, 1000, false},
	    {"COSMIV_PRESENCE_GRACE_S", offsetof(config_t, presence_grace_s), 0, 3600, false},
	    {"COSMIV_GATEWAY_FLUSH_SPLIT", offsetof(config_t, gateway_flush_split), 2, 10000000, false},
	    {"COSMIV_GATEWAY_SEND_QUEUE_KB", offsetof(config_t, gateway_send_queue_kb), 16, 1 << 20, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		if (strcmp(map[i].env, env) != 0)
			continue;
		int64_t v;
		if (!parse_i64(val, &v) || v < map[i].min || v > map[i].max) {
			*err = xasprintf("%s: expected an integer in [%lld, %lld], got \"%s\"", env,
					 (long long)map[i].min, (long long)map[i].max, val);
			return false;
		}
		if (map[i].wide)
			*(int64_t *)((char *)&cfg + map[i].off) = v;
		else
			*(int *)((char *)&cfg + map[i].off) = (int)v;
		return true;
	}
	return false;
}

static bool set_value(const char *env, const char *val, char **err)
{
	char **s = slot_str(env);
	if (s) {
		free(*s);
		*s = xstrdup(val);
		return true;
	}
	if (strcmp(env, "COSMIV_TRUST_PROXY") == 0) {
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
			*err = xasprintf("COSMIV_TRUST_PROXY: expected 0 or 1, got \"%s\"", val);
			return false;
		}
		cfg.trust_proxy = val[0] == '1';
		return true;
	}
	if (set_int(env, val, err))
		return true;
	if (!*err)
		*err = xasprintf("%s: unknown setting", env);
	return false;
}

static bool load(int *argc, char **argv, char **err)
{
	if (loaded)
		config_free();
	memset(&cfg, 0, sizeof(cfg));
	for (const config_setting_t *s = config_settings; s->env; s++)
		if (!set_value(s->env, s->deflt, err))
			return false;
	for (const config_setting_t *s = config_settings; s->env; s++) {
		const char *v = getenv(s->env);
		if (v && !set_value(s->env, v, err))
			return false;
	}
	/* Flags: --name VALUE or --name=VALUE, removed from argv. */
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const config_setting_t *hit = NULL;
		const char *val = NULL;
		for (const config_setting_t *s = config_settings; s->env && !hit; s++) {
			if (!s->flag)
				continue;
			size_t fl = strlen(s->flag);
			if (strcmp(argv[i], s->flag) == 0) {
				if (i + 1 >= *argc) {
					*err = xasprintf("%s needs a value", s->flag);
					return false;
				}
				hit = s;
				val = argv[++i];
			} else if (strncmp(argv[i], s->flag, fl) == 0 && argv[i][fl] == '=') {
				hit = s;
				val = argv[i] + fl + 1;
			}
		}
		if (hit) {
			if (!set_value(hit->env, val, err))
				return false;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	if (cfg.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.threads = (int)(n > 0 ? n * 4 : 8);
	}
	if (cfg.hash_concurrency == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.hash_concurrency = (int)(n > 0 ? n : 1);
	}
	loaded = true;
	return true;
}

bool config_load(int *argc, char **argv, char **err)
{
	*err = NULL;
	if (load(argc, argv, err))
		return true;
	config_free(); /* a half-loaded config owns strings too */
	return false;
}

void config_free(void)
{
	for (size_t i = 0; i < ARRAY_LEN(str_slots); i++) {
		char **slot = (char **)((char *)&cfg + str_slots[i].off);
		free(*slot);
		*slot = NULL;
	}
	loaded = false;
}
