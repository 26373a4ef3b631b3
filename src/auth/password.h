/*
 * password.h — password hashing with Argon2id (libsodium).
 *
 * Parameters come from the config (default: OWASP's 19 MiB, t=2, p=1) and
 * are stored inside each hash string, so raising them later only affects new
 * hashes; password_needs_rehash tells when an old hash should be upgraded at
 * the next successful login.
 *
 * Hashing is deliberately expensive. A counting semaphore bounds how many
 * run at once (COSMIV_HASH_CONCURRENCY, default one per core): a flood of
 * logins queues instead of exhausting memory or starving other requests.
 *
 * Thread-safe after password_init.
 */
#ifndef COSMIV_PASSWORD_H
#define COSMIV_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWORD_HASH_MAX 128

void password_init(int64_t memlimit, int opslimit, int concurrency);
void password_shutdown(void);
/* false only when the system cannot allocate the hash memory. */
bool password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
bool password_verify(const char *hash, const char *password);
bool password_needs_rehash(const char *hash);
/* Spends the same work as a verify; used when the account does not exist so
 * response timing does not reveal which usernames are registered. */
void password_burn(const char *password);

#endif
