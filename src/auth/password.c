/*
 * password.c — see password.h.
 */
#include "auth/password.h"

#include <semaphore.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"

static sem_t slots;
static bool slots_ready;
static unsigned long long mem_limit = crypto_pwhash_MEMLIMIT_MIN;
static unsigned long long ops_limit = crypto_pwhash_OPSLIMIT_MIN;
static char burn_hash[PASSWORD_HASH_MAX];

void password_init(int64_t memlimit, int opslimit, int concurrency)
{
	mem_limit = (unsigned long long)memlimit;
	ops_limit = (unsigned long long)opslimit;
	if (!slots_ready) {
		sem_init(&slots, 0, (unsigned)(concurrency > 0 ? concurrency : 1));
		slots_ready = true;
	}
	if (!password_hash("cosmiv-timing-equaliser", burn_hash))
		burn_hash[0] = '\0';
}

void password_shutdown(void)
{
	if (slots_ready) {
		sem_destroy(&slots);
		slots_ready = false;
	}
}

static void acquire(void)
{
	while (sem_wait(&slots) != 0) {
	}
}

bool password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	acquire();
	int rc = crypto_pwhash_str_alg(out, password, strlen(password), ops_limit, (size_t)mem_limit,
				       crypto_pwhash_ALG_ARGON2ID13);
	sem_post(&slots);
	if (rc != 0)
		log_error("password hashing failed (out of memory?)", NULL);
	return rc == 0;
}

bool password_verify(const char *hash, const char *password)
{
	acquire();
	int rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	sem_post(&slots);
	return rc == 0;
}

bool password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, ops_limit, (size_t)mem_limit) != 0;
}

void password_burn(const char *password)
{
	if (burn_hash[0])
		(void)password_verify(burn_hash, password);
}
