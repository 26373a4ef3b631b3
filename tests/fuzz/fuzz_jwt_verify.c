/*
 * libFuzzer target: jwt_verify on arbitrary strings.
 *
 * Inputs starting with the marker byte 0xA5 are spliced into a valid signed
 * token instead: byte 1 bit 0 chooses insert (1) or overwrite (0), bytes 2-3
 * the position (big-endian, modulo the token length + 1), the rest is the
 * patch. So the fuzzer also explores near-valid tokens that get past the
 * size and structure checks.
 *
 * Besides the sanitizers, it checks the contract: a rejection is always
 * ERR_UNAUTHORIZED with a code; an acceptance yields positive ids and an
 * unexpired token, and a spliced token verifies only when the splice left
 * it unchanged (no malleability: another encoding must not verify).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "core/util.h"

#define MARKER 0xA5
#define NOW    1767225600LL

static const uint8_t key[] = "fuzz-key-0123456789abcdef-0123456789";
static char *valid;
static size_t valid_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void b64(buf_t *b, const void *bin, size_t len)
{
	char tmp[512];
	sodium_bin2base64(tmp, sizeof(tmp), bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_puts(b, tmp);
}

/* A correctly signed token, the same on every run (jwt_sign adds a random
 * jti), whose signature contains '_' and '-' so splices reach every decoder
 * path. Reproducers therefore stay reproducible. */
static char *fixed_token(void)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	for (int jti = 0;; jti++) {
		char payload[256];
		int n = snprintf(payload, sizeof(payload),
				 "{\"iss\":\"cosmiv\",\"aud\":\"cosmiv-api\",\"sub\":\"123456789\","
				 "\"sid\":\"987654321\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%08d\"}",
				 NOW, NOW + 900, jti);
		buf_t b;
		buf_init(&b);
		b64(&b, header, sizeof(header) - 1);
		buf_putc(&b, '.');
		b64(&b, payload, (size_t)n);
		uint8_t mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, key, sizeof(key) - 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)b.data, b.len);
		crypto_auth_hmacsha256_final(&st, mac);
		buf_putc(&b, '.');
		size_t sig = b.len;
		b64(&b, mac, sizeof(mac));
		if (strchr(b.data + sig, '_') && strchr(b.data + sig, '-'))
			return buf_steal(&b);
		buf_cleanup(&b);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	valid = fixed_token();
	valid_len = strlen(valid);
	/* Sanity: both the fixed token and a freshly signed one verify. */
	jwt_claims_t c = {.sub = 123456789, .sid = 987654321, .iat = NOW, .exp = NOW + 900};
	char *fresh = jwt_sign(key, sizeof(key) - 1, &c);
	err_t e;
	if (!jwt_verify(key, sizeof(key) - 1, valid, NOW, &c, &e) ||
	    !jwt_verify(key, sizeof(key) - 1, fresh, NOW, &c, &e))
		abort();
	free(fresh);
	return 0;
}

/* Builds the string to verify (caller frees). */
static char *make_input(const uint8_t *data, size_t size)
{
	if (size >= 4 && data[0] == MARKER) {
		bool insert = data[1] & 1;
		size_t pos = (((size_t)data[2] << 8) | data[3]) % (valid_len + 1);
		const uint8_t *patch = data + 4;
		size_t plen = size - 4;
		size_t tail = insert ? pos : (pos + plen < valid_len ? pos + plen : valid_len);
		char *s = xmalloc(valid_len + plen + 1);
		memcpy(s, valid, pos);
		memcpy(s + pos, patch, plen);
		memcpy(s + pos + plen, valid + tail, valid_len - tail);
		s[pos + plen + valid_len - tail] = '\0';
		return s;
	}
	return xstrndup((const char *)data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 3 * JWT_MAX_LEN)
		return 0;
	char *token = make_input(data, size);
	err_t e;
	err_clear(&e);
	jwt_claims_t c = {0};
	if (jwt_verify(key, sizeof(key) - 1, token, NOW, &c, &e)) {
		if (c.sub <= 0 || c.sid <= 0 || c.exp <= NOW || c.iat > NOW + 60)
			abort();
		/* HMAC cannot be forged and base64url decoding is canonical: a splice
		 * into the valid token is accepted only when it left it unchanged. */
		if (size >= 4 && data[0] == MARKER && strcmp(token, valid) != 0)
			abort();
	} else if (e.kind != ERR_UNAUTHORIZED || !e.code[0]) {
		abort();
	}
	free(token);
	return 0;
}
