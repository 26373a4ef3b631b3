/*
 * jwt.c — see jwt.h.
 */
#include "auth/jwt.h"

#include <jansson.h>
#include <string.h>

#include <sodium.h>

#include "core/util.h"

#define CLOCK_SKEW_S 60

static void hmac(const uint8_t *key, size_t keylen, const char *msg, size_t len,
		 uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, out);
}

static void b64url(buf_t *b, const void *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *tmp = xmalloc(cap);
	sodium_bin2base64(tmp, cap, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_puts(b, tmp);
	free(tmp);
}

char *jwt_sign(const uint8_t *key, size_t keylen, const jwt_claims_t *c)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	/* jti: a random id, so two tokens issued in the same second still differ */
	unsigned char rnd[8];
	char jti[17];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(jti, sizeof(jti), rnd, sizeof(rnd));
	char payload[320];
	int n = snprintf(payload, sizeof(payload),
			 "{\"iss\":\"" JWT_ISSUER "\",\"aud\":\"" JWT_AUDIENCE
			 "\",\"sub\":\"%lld\",\"sid\":\"%lld\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
			 (long long)c->sub, (long long)c->sid, (long long)c->iat, (long long)c->exp, jti);
	buf_t b;
	buf_init(&b);
	b64url(&b, header, sizeof(header) - 1);
	buf_putc(&b, '.');
	b64url(&b, payload, (size_t)n);
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	hmac(key, keylen, b.data, b.len, mac);
	buf_putc(&b, '.');
	b64url(&b, mac, sizeof(mac));
	return buf_steal(&b);
}

/* Decodes one base64url segment (no padding). Returns malloc'd bytes + NUL. */
static char *unb64(const char *s, size_t len, size_t *outlen)
{
	/* libsodium 1.0.18 decodes bytes ≥ 0x80 as '_': check the alphabet
	 * ourselves, or a signature would have 128 spellings. */
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < len; i++)
		if (!s[i] || !strchr(alphabet, s[i]))
			return NULL;
	char *out = xmalloc(len + 1);
	size_t n = 0;
	if (sodium_base642bin((unsigned char *)out, len, s, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

static bool fail(err_t *e, const char *code, const char *detail)
{
	return err_set(e, ERR_UNAUTHORIZED, code, NULL, "%s", detail);
}

static bool check_header(const char *h, size_t hlen, err_t *e)
{
	size_t n = 0;
	char *json = unb64(h, hlen, &n);
	if (!json)
		return fail(e, "invalid_token", "token header is not base64url");
	json_t *v = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
	free(json);
	bool ok = false;
	if (!json_is_object(v)) {
		fail(e, "invalid_token", "token header is not a JSON object");
		goto out;
	}
	const char *alg = json_string_value(json_object_get(v, "alg"));
	if (!alg || strcmp(alg, "HS256") != 0) {
		fail(e, "invalid_token", "token algorithm must be HS256");
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val)
	{
		if (strcmp(key, "alg") == 0)
			continue;
		if (strcmp(key, "typ") == 0 && json_is_string(val) &&
		    strcmp(json_string_value(val), "JWT") == 0)
			continue;
		fail(e, "invalid_token", "unexpected token header field");
		goto out;
	}
	ok = true;
out:
	json_decref(v);
	return ok;
}

static bool claim_id(json_t *p, const char *name, int64_t *out)
{
	return id_parse(json_string_value(json_object_get(p, name)), out);
}

static bool claim_time(json_t *p, const char *name, int64_t *out)
{
	json_t *v = json_object_get(p, name);
	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

static bool aud_ok(json_t *aud)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), JWT_AUDIENCE) == 0;
	if (json_is_array(aud)) {
		size_t i;
		json_t *x;
		json_array_foreach(aud, i, x)
		{
			if (json_is_string(x) && strcmp(json_string_value(x), JWT_AUDIENCE) == 0)
				return true;
		}
	}
	return false;
}

bool jwt_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now, jwt_claims_t *out,
		err_t *e)
{
	size_t len = token ? strlen(token) : 0;
	if (len == 0 || len > JWT_MAX_LEN)
		return fail(e, "invalid_token", "missing or oversized token");
	const char *d1 = strchr(token, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.'))
		return fail(e, "invalid_token", "token must have three parts");
	if (!check_header(token, (size_t)(d1 - token), e))
		return false;

	size_t siglen = 0;
	char *sig = unb64(d2 + 1, strlen(d2 + 1), &siglen);
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	hmac(key, keylen, token, (size_t)(d2 - token), mac);
	bool sig_ok = sig && siglen == sizeof(mac) && sodium_memcmp(sig, mac, sizeof(mac)) == 0;
	free(sig);
	if (!sig_ok)
		return fail(e, "invalid_token", "token signature is invalid");

	size_t plen = 0;
	char *pj = unb64(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
	if (!pj)
		return fail(e, "invalid_token", "token payload is not base64url");
	json_t *p = json_loadb(pj, plen, JSON_REJECT_DUPLICATES, NULL);
	free(pj);
	bool ok = false;
	jwt_claims_t c = {0};
	const char *iss = json_string_value(json_object_get(p, "iss"));
	if (!json_is_object(p)) {
		fail(e, "invalid_token", "token payload is not a JSON object");
	} else if (!iss || strcmp(iss, JWT_ISSUER) != 0) {
		fail(e, "invalid_token", "token issuer is wrong");
	} else if (!aud_ok(json_object_get(p, "aud"))) {
		fail(e, "invalid_token", "token audience is wrong");
	} else if (!claim_id(p, "sub", &c.sub) || !claim_id(p, "sid", &c.sid)) {
		fail(e, "invalid_token", "token subject or session is missing");
	} else if (!claim_time(p, "exp", &c.exp) || !claim_time(p, "iat", &c.iat)) {
		fail(e, "invalid_token", "token times are missing");
	} else if (c.exp <= now) {
		fail(e, "token_expired", "token has expired");
	} else if (c.iat > now + CLOCK_SKEW_S) {
		fail(e, "invalid_token", "token is issued in the future");
	} else {
		*out = c;
		ok = true;
	}
	json_decref(p);
	return ok;
}
