/*
 * config.h — every setting of Cosmiv, from environment variables (12-factor)
 * and, for the few that make sense on a command line, flags.
 *
 * The table in config.c is the single list of settings: config_load reads it,
 * `cosmiv config` prints it, and a test checks that .env.example documents
 * every entry. Flags win over the environment, the environment over defaults.
 *
 * The loaded config is a process-wide read-only global after start-up
 * (config_get), so any thread may read it without locking.
 */
#ifndef COSMIV_CONFIG_H
#define COSMIV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *env;	    /* "development" | "production" | "test" */
	char *data_dir;	    /* embedded data directory */
	char *listen;	    /* host:port */
	char *database_url; /* "" → SQLite in data_dir; postgres://… → PostgreSQL */
	char *redis_url;    /* "" → in-process rate limits */
	char *jwt_secret;   /* "" → generated once into data_dir/jwt.secret */
	char *web_dir;	    /* built web app (web/dist) */
	char *cors_origins; /* comma-separated allow-list */
	char *log_level;
	char *public_url; /* external base URL, for links and HSTS decisions */
	bool trust_proxy; /* honour X-Forwarded-For / X-Forwarded-Proto */
	int threads;	  /* HTTP worker threads */
	int64_t max_body_bytes;
	int request_timeout_s;
	int shutdown_grace_s;
	int access_ttl_s;
	int refresh_ttl_s;
	int64_t argon2_memlimit;
	int argon2_opslimit;
	int hash_concurrency;
	int rate_auth_per_min; /* register/login/refresh/password: per IP and per account */
	int rate_auth_burst;
	char *storage_url; /* "" → DATA_DIR/media; file:///dir; s3://bucket?endpoint=… */
	char *s3_access_key;
	char *s3_secret_key;
	int workers;		 /* job worker threads in `serve` (0: none) */
	int feed_cache_ms;	 /* micro-cache of signed-out New/Trending pages; 0: off */
	int job_lease_s;	 /* a running job is reclaimed this long after its worker's last heartbeat */
	int upload_expiry_s;	 /* abandoned uploads are deleted after this */
	char *upload_dir;	 /* "" → DATA_DIR/uploads: the spool of unfinished uploads */
	int rate_upload_per_min; /* upload creations per user per minute */
	int64_t free_max_upload_bytes;
	int64_t pro_max_upload_bytes;
	int free_max_duration_s;
	int pro_max_duration_s;
	int media_timeout_s;	    /* wall-clock limit of one media job */
	int64_t media_memory_bytes; /* address-space limit of the media sandbox */
	char *gateway_listen;	    /* "" → HTTP host, port + 1; "off" → none */
	char *gateway_public_url;   /* "" → ws://<gateway address>/api/v2/gateway */
	int gateway_heartbeat_ms;
	int gateway_max_per_user;
	int presence_grace_s;
	int gateway_flush_split;   /* fan-outs to this many connections or more use two threads */
	int gateway_send_queue_kb; /* unsent bytes a client may have before 4011 */
} config_t;

typedef struct {
	const char *env;   /* environment variable */
	const char *flag;  /* "--data-dir" or NULL */
	const char *deflt; /* default as text */
	const char *help;
} config_setting_t;

/* The list of settings (NULL-terminated by env == NULL). */
extern const config_setting_t config_settings[];

/*
 * Loads defaults, then the environment, then recognised flags from argv
 * (which are removed from argv; *argc is updated). On a bad value prints the
 * reason to *err (caller frees) and returns false.
 */
bool config_load(int *argc, char **argv, char **err);
const config_t *config_get(void);
void config_free(void);
bool config_is_production(void);

#endif
