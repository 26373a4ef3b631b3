/*
 * Unit tests for src/auth/password.c: Argon2id hashing (with libsodium's
 * minimum parameters so the suite stays fast).
 */
#include "unit.h"

#include <pthread.h>
#include <sodium.h>

#include "auth/password.h"

#define MEM crypto_pwhash_MEMLIMIT_MIN
#define OPS crypto_pwhash_OPSLIMIT_MIN

static int setup(void **state)
{
	(void)state;
	password_init((int64_t)MEM, (int)OPS, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	password_shutdown();
	return 0;
}

static void test_password_hash_then_verify(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX];
	assert_true(password_hash("correct horse battery staple", h));
	assert_true(password_verify(h, "correct horse battery staple"));
}

static void test_password_verify_rejects_wrong_password(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX];
	assert_true(password_hash("s3cret-pass", h));
	assert_false(password_verify(h, "s3cret-pasS"));
	assert_false(password_verify(h, "s3cret-pas"));
	assert_false(password_verify(h, "s3cret-pass "));
	assert_false(password_verify(h, ""));
}

static void test_password_hash_is_argon2id_string(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX];
	assert_true(password_hash("pw", h));
	assert_true(str_has_prefix(h, "$argon2id$"));
	assert_true(strlen(h) < PASSWORD_HASH_MAX);
	/* The parameters are stored in the string. */
	char params[64];
	snprintf(params, sizeof(params), "$m=%u,t=%u,p=1$", (unsigned)(MEM / 1024), (unsigned)OPS);
	assert_non_null(strstr(h, params));
}

static void test_password_hashes_are_salted(void **state)
{
	(void)state;
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
	assert_true(password_hash("same password", a));
	assert_true(password_hash("same password", b));
	assert_string_not_equal(a, b);
	assert_true(password_verify(a, "same password"));
	assert_true(password_verify(b, "same password"));
}

static void test_password_handles_unicode_and_long_input(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX];
	assert_true(password_hash("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91", h));
	assert_true(password_verify(h, "p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91"));
	assert_false(password_verify(h, "passwort \xf0\x9f\x94\x91"));
	char longpw[1025];
	memset(longpw, 'z', 1024);
	longpw[1024] = '\0';
	assert_true(password_hash(longpw, h));
	assert_true(password_verify(h, longpw));
	longpw[1023] = 'y';
	assert_false(password_verify(h, longpw));
}

static void test_password_verify_rejects_garbage_hashes(void **state)
{
	(void)state;
	assert_false(password_verify("", "pw"));
	assert_false(password_verify("not a hash", "pw"));
	assert_false(password_verify("$argon2id$v=19$m=8,t=1,p=1$", "pw"));
	assert_false(password_verify("$2b$10$abcdefghijklmnopqrstuu7/8ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "pw"));
	char h[PASSWORD_HASH_MAX];
	assert_true(password_hash("pw", h));
	h[strlen(h) - 3] = h[strlen(h) - 3] == 'A' ? 'B' : 'A'; /* flip a hash character */
	assert_false(password_verify(h, "pw"));
}

static void test_password_burn_does_not_crash(void **state)
{
	(void)state;
	password_burn("whatever");
	password_burn("");
}

typedef struct {
	char hash[PASSWORD_HASH_MAX];
	bool ok;
	int id;
} job_t;

static void *hash_worker(void *p)
{
	job_t *j = p;
	char pw[32];
	snprintf(pw, sizeof(pw), "password-%d", j->id);
	j->ok = password_hash(pw, j->hash) && password_verify(j->hash, pw);
	return NULL;
}

static void test_password_is_usable_from_many_threads(void **state)
{
	(void)state;
	enum { N = 6 };
	pthread_t th[N];
	job_t jobs[N];
	for (int i = 0; i < N; i++) {
		jobs[i] = (job_t){.id = i};
		assert_int_equal(pthread_create(&th[i], NULL, hash_worker, &jobs[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_true(jobs[i].ok);
	}
	assert_false(password_verify(jobs[0].hash, "password-1"));
}

static void test_password_needs_rehash_after_raising_params(void **state)
{
	(void)state;
	char old[PASSWORD_HASH_MAX];
	assert_true(password_hash("pw", old));
	assert_false(password_needs_rehash(old));

	password_init((int64_t)MEM * 2, (int)OPS + 1, 2);
	assert_true(password_needs_rehash(old));
	assert_true(password_verify(old, "pw")); /* old hashes still verify */
	char fresh[PASSWORD_HASH_MAX];
	assert_true(password_hash("pw", fresh));
	assert_false(password_needs_rehash(fresh));
	assert_true(password_verify(fresh, "pw"));

	/* Only memory raised, or only passes: still a rehash. */
	password_init((int64_t)MEM * 2, (int)OPS + 2, 2);
	assert_true(password_needs_rehash(fresh));
	password_init((int64_t)MEM * 4, (int)OPS + 1, 2);
	assert_true(password_needs_rehash(fresh));

	/* A string that is not a hash of ours needs a rehash too. */
	assert_true(password_needs_rehash("garbage"));

	password_init((int64_t)MEM, (int)OPS, 2); /* back to the suite's parameters */
	assert_false(password_needs_rehash(old));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_password_hash_then_verify),
	    cmocka_unit_test(test_password_verify_rejects_wrong_password),
	    cmocka_unit_test(test_password_hash_is_argon2id_string),
	    cmocka_unit_test(test_password_hashes_are_salted),
	    cmocka_unit_test(test_password_handles_unicode_and_long_input),
	    cmocka_unit_test(test_password_verify_rejects_garbage_hashes),
	    cmocka_unit_test(test_password_burn_does_not_crash),
	    cmocka_unit_test(test_password_is_usable_from_many_threads),
	    cmocka_unit_test(test_password_needs_rehash_after_raising_params),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
