/*
 * Unit tests for src/core/config.c: defaults, environment, flags.
 */
#include "unit.h"

#include "core/config.h"

/* Every test starts from an environment without any COSMIV_* setting. */
static int clean_env(void **state)
{
	(void)state;
	for (const config_setting_t *s = config_settings; s->env; s++)
		unsetenv(s->env);
	return 0;
}

static int cleanup(void **state)
{
	clean_env(state);
	config_free();
	return 0;
}

/* Loads with a copy of args (argv needs room for the terminating NULL). */
static bool load(int *argc, char **argv, char **err)
{
	bool ok = config_load(argc, argv, err);
	if (ok)
		assert_null(*err);
	return ok;
}

static void load_ok(void)
{
	char *argv[] = {"cosmiv", NULL};
	int argc = 1;
	char *err = NULL;
	if (!load(&argc, argv, &err))
		fail_msg("config_load: %s", err);
}

static void expect_bad_env(const char *env, const char *value)
{
	clean_env(NULL);
	setenv(env, value, 1);
	char *argv[] = {"cosmiv", NULL};
	int argc = 1;
	char *err = NULL;
	if (config_load(&argc, argv, &err))
		fail_msg("accepted %s=%s", env, value);
	assert_non_null(err);
	if (!strstr(err, env))
		fail_msg("message does not name %s: %s", env, err);
	free(err);
	config_free();
}

static void test_config_defaults_when_unset(void **state)
{
	(void)state;
	load_ok();
	const config_t *c = config_get();
	assert_string_equal(c->env, "development");
	assert_string_equal(c->data_dir, "./data");
	assert_string_equal(c->listen, "127.0.0.1:8080");
	assert_string_equal(c->database_url, "");
	assert_string_equal(c->redis_url, "");
	assert_string_equal(c->jwt_secret, "");
	assert_string_equal(c->web_dir, "web/dist");
	assert_string_equal(c->cors_origins, "");
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->public_url, "");
	assert_false(c->trust_proxy);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(c->threads, cores > 0 ? cores * 4 : 8); /* 0: 4 per core */
	assert_int_equal(c->hash_concurrency, cores > 0 ? cores : 1);
	assert_int_equal(c->max_body_bytes, 1048576);
	assert_int_equal(c->request_timeout_s, 30);
	assert_int_equal(c->shutdown_grace_s, 20);
	assert_int_equal(c->access_ttl_s, 900);
	assert_int_equal(c->refresh_ttl_s, 2592000);
	assert_int_equal(c->argon2_memlimit, 19922944);
	assert_int_equal(c->argon2_opslimit, 2);
	assert_int_equal(c->rate_auth_per_min, 20);
	assert_int_equal(c->rate_auth_burst, 10);
	assert_false(config_is_production());
}

static void test_config_flags_are_applied_and_removed(void **state)
{
	(void)state;
	char *argv[] = {"cosmiv", "serve", "--data-dir", "/x", "--listen=1.2.3.4:5", NULL};
	int argc = 5;
	char *err = NULL;
	assert_true(load(&argc, argv, &err));
	assert_int_equal(argc, 2);
	assert_string_equal(argv[0], "cosmiv");
	assert_string_equal(argv[1], "serve");
	assert_null(argv[2]);
	assert_string_equal(config_get()->data_dir, "/x");
	assert_string_equal(config_get()->listen, "1.2.3.4:5");
}

static void test_config_unknown_flags_and_args_are_kept_in_order(void **state)
{
	(void)state;
	char *argv[] = {"cosmiv", "admin",	   "--verbose",	 "--threads", "3",
			"create", "--data-dirx=1", "--web-dir=", NULL};
	int argc = 8;
	char *err = NULL;
	assert_true(load(&argc, argv, &err));
	assert_int_equal(argc, 5);
	assert_string_equal(argv[1], "admin");
	assert_string_equal(argv[2], "--verbose");
	assert_string_equal(argv[3], "create");
	assert_string_equal(argv[4], "--data-dirx=1");
	assert_null(argv[5]);
	assert_int_equal(config_get()->threads, 3);
	assert_string_equal(config_get()->web_dir, ""); /* "--flag=" sets an empty value */
}

static void test_config_env_overrides_default(void **state)
{
	(void)state;
	setenv("COSMIV_THREADS", "7", 1);
	setenv("COSMIV_DATABASE_URL", "postgres://db/cosmiv", 1);
	setenv("COSMIV_TRUST_PROXY", "1", 1);
	setenv("COSMIV_MAX_BODY_BYTES", "1073741824", 1); /* 1 GiB: the maximum, needs 64 bits */
	setenv("COSMIV_ARGON2_MEMLIMIT", "4294967296", 1);
	load_ok();
	const config_t *c = config_get();
	assert_int_equal(c->threads, 7);
	assert_string_equal(c->database_url, "postgres://db/cosmiv");
	assert_true(c->trust_proxy);
	assert_int_equal(c->max_body_bytes, 1073741824LL);
	assert_int_equal(c->argon2_memlimit, 4294967296LL);
}

static void test_config_flag_wins_over_env(void **state)
{
	(void)state;
	setenv("COSMIV_THREADS", "7", 1);
	setenv("COSMIV_LISTEN", "0.0.0.0:1", 1);
	char *argv[] = {"cosmiv", "--threads=3", "--listen", "[::1]:9", NULL};
	int argc = 4;
	char *err = NULL;
	assert_true(load(&argc, argv, &err));
	assert_int_equal(argc, 1);
	assert_int_equal(config_get()->threads, 3);
	assert_string_equal(config_get()->listen, "[::1]:9");
}

static void test_config_production(void **state)
{
	(void)state;
	setenv("COSMIV_ENV", "production", 1);
	load_ok();
	assert_true(config_is_production());
	config_free();
	assert_false(config_is_production());
	char *argv[] = {"cosmiv", "--env", "test", NULL};
	int argc = 3;
	char *err = NULL;
	assert_true(load(&argc, argv, &err));
	assert_false(config_is_production());
	assert_string_equal(config_get()->env, "test");
}

static void test_config_bad_int_names_the_variable(void **state)
{
	(void)state;
	expect_bad_env("COSMIV_THREADS", "abc");
	expect_bad_env("COSMIV_THREADS", "7x");
	expect_bad_env("COSMIV_THREADS", "");
	expect_bad_env("COSMIV_THREADS", "-1");
	expect_bad_env("COSMIV_THREADS", "1025");
	expect_bad_env("COSMIV_THREADS", "99999999999999999999");
	expect_bad_env("COSMIV_MAX_BODY_BYTES", "1023");
	expect_bad_env("COSMIV_ACCESS_TTL_S", "0");
	expect_bad_env("COSMIV_ARGON2_MEMLIMIT", "4294967297");
	expect_bad_env("COSMIV_ARGON2_OPSLIMIT", "33");
	expect_bad_env("COSMIV_RATE_AUTH_BURST", "0");
	expect_bad_env("COSMIV_TRUST_PROXY", "yes");
	expect_bad_env("COSMIV_TRUST_PROXY", "");
}

static void test_config_bad_int_message(void **state)
{
	(void)state;
	setenv("COSMIV_THREADS", "lots", 1);
	char *argv[] = {"cosmiv", NULL};
	int argc = 1;
	char *err = NULL;
	assert_false(config_load(&argc, argv, &err));
	assert_string_equal(err, "COSMIV_THREADS: expected an integer in [0, 1024], got \"lots\"");
	free(err);
}

static void test_config_bad_flag_value(void **state)
{
	(void)state;
	char *argv[] = {"cosmiv", "serve", "--threads", "many", NULL};
	int argc = 4;
	char *err = NULL;
	assert_false(config_load(&argc, argv, &err));
	assert_non_null(strstr(err, "COSMIV_THREADS"));
	free(err);
}

static void test_config_flag_without_value(void **state)
{
	(void)state;
	char *argv[] = {"cosmiv", "serve", "--data-dir", NULL};
	int argc = 3;
	char *err = NULL;
	assert_false(config_load(&argc, argv, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "--data-dir"));
	free(err);
}

static void test_config_reload_replaces_values(void **state)
{
	(void)state;
	setenv("COSMIV_DATA_DIR", "/first", 1);
	load_ok();
	assert_string_equal(config_get()->data_dir, "/first");
	setenv("COSMIV_DATA_DIR", "/second", 1);
	load_ok(); /* frees the previous strings (checked by LeakSanitizer) */
	assert_string_equal(config_get()->data_dir, "/second");
	config_free();
	assert_null(config_get()->data_dir);
	config_free(); /* twice is harmless */
}

static void test_config_settings_table_is_well_formed(void **state)
{
	(void)state;
	int n = 0;
	for (const config_setting_t *s = config_settings; s->env; s++, n++) {
		assert_true(str_has_prefix(s->env, "COSMIV_"));
		assert_non_null(s->deflt);
		assert_non_null(s->help);
		assert_true(s->help[0] != '\0');
		if (s->flag)
			assert_true(str_has_prefix(s->flag, "--"));
		for (const config_setting_t *t = config_settings; t < s; t++)
			assert_string_not_equal(t->env, s->env);
	}
	assert_true(n >= 20);
}

static void test_config_env_example_documents_every_setting(void **state)
{
	(void)state;
	FILE *fp = fopen(".env.example", "r");
	if (!fp)
		skip(); /* run from the repository root */
	buf_t b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	for (const config_setting_t *s = config_settings; s->env; s++) {
		char *line = xasprintf("\n%s=%s\n", s->env, s->deflt);
		if (!strstr(b.data, line))
			fail_msg(".env.example lacks \"%s=%s\"", s->env, s->deflt);
		free(line);
	}
	buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_defaults_when_unset, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_flags_are_applied_and_removed, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_unknown_flags_and_args_are_kept_in_order, clean_env,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_config_env_overrides_default, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_flag_wins_over_env, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_production, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_bad_int_names_the_variable, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_bad_int_message, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_bad_flag_value, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_flag_without_value, clean_env, cleanup),
	    cmocka_unit_test_setup_teardown(test_config_reload_replaces_values, clean_env, cleanup),
	    cmocka_unit_test(test_config_settings_table_is_well_formed),
	    cmocka_unit_test(test_config_env_example_documents_every_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
