// Accounts and tokens: register, login, refresh rotation and reuse detection,
// logout, forged and expired JWTs, the web cookie flow, rate limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniq, signJwt, jwtClaims, JWT_SECRET } from '../../lib/harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { const r = await srv.stop(); assert.equal(r.code, 0, srv.logs()); });

test('register returns the user and a token pair', async () => {
  const username = uniq('Reg');
  const r = await srv.api('POST', '/api/v2/auth/register', { username, email: `${username}@Example.com`, password: 'abcdefgh' });
  assert.equal(r.status, 201);
  assert.equal(r.body.user.username, username);
  assert.equal(r.body.user.role, 'user');
  assert.match(r.body.user.id, /^\d+$/);
  assert.equal(r.body.expires_in, 900);
  assert.match(r.body.refresh_token, /^cvr_[A-Za-z0-9_-]{43}$/);
  const c = jwtClaims(r.body.access_token);
  assert.equal(c.sub, r.body.user.id);
  assert.equal(c.iss, 'cosmiv');
  assert.equal(c.aud, 'cosmiv-api');
  assert.equal(c.exp - c.iat, 900);
  const me = await srv.api('GET', '/api/v2/users/me', undefined, { token: r.body.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.body.email, `${username}@Example.com`);
});

test('duplicate username (any case) and email are 409 naming the field', async () => {
  const a = await srv.register();
  let r = await srv.api('POST', '/api/v2/auth/register', { username: a.username.toUpperCase(), email: `${uniq()}@example.com`, password: 'abcdefgh' });
  assert.equal(r.status, 409);
  assert.equal(r.body.field, 'username');
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  r = await srv.api('POST', '/api/v2/auth/register', { username: uniq(), email: a.email.toUpperCase(), password: 'abcdefgh' });
  assert.equal(r.status, 409);
  assert.equal(r.body.field, 'email');
});

test('register validates username, email and password', async () => {
  const cases = [
    [{ username: 'ab' }, 'username'],
    [{ username: 'x'.repeat(33) }, 'username'],
    [{ username: 'bad-name' }, 'username'],
    [{ username: "x'; DROP TABLE users;--" }, 'username'],
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'a@b' }, 'email'],
    [{ password: 'short' }, 'password'],
    [{ password: 'p'.repeat(129) }, 'password'],
  ];
  for (const [over, field] of cases) {
    const base = { username: uniq(), email: `${uniq()}@example.com`, password: 'abcdefgh' };
    const r = await srv.api('POST', '/api/v2/auth/register', { ...base, ...over });
    assert.equal(r.status, 422, JSON.stringify(over));
    assert.equal(r.body.field, field, JSON.stringify(over));
    assert.ok(r.body.detail.length > 0);
  }
  // 3 and 32 characters, 8 and 128 character passwords are fine
  await srv.register({ username: `a${uniq('').slice(0, 2)}`.slice(0, 3), password: 'p'.repeat(8) });
  await srv.register({ username: uniq('x').padEnd(32, 'z'), password: 'p'.repeat(128) });
});

test('login by username or email; wrong credentials give one message', async () => {
  const a = await srv.register();
  let r = await srv.api('POST', '/api/v2/auth/login', { login: a.username.toUpperCase(), password: a.password });
  assert.equal(r.status, 200);
  assert.equal(r.body.user.id, a.user.id);
  r = await srv.api('POST', '/api/v2/auth/login', { login: a.email, password: a.password });
  assert.equal(r.status, 200);
  const wrongPw = await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: 'wrong password' });
  const noUser = await srv.api('POST', '/api/v2/auth/login', { login: uniq('ghost'), password: 'wrong password' });
  assert.equal(wrongPw.status, 401);
  assert.equal(noUser.status, 401);
  assert.equal(wrongPw.body.detail, noUser.body.detail);
  assert.equal(wrongPw.body.code, noUser.body.code);
});

test('refresh rotates the pair; reusing an old refresh token revokes the family', async () => {
  const a = await srv.register();
  const r1 = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: a.refresh_token });
  assert.equal(r1.status, 200);
  assert.notEqual(r1.body.refresh_token, a.refresh_token);
  assert.notEqual(r1.body.access_token, a.access_token);
  const r2 = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: r1.body.refresh_token });
  assert.equal(r2.status, 200);
  // replay of the first, already-rotated token: theft
  const replay = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: a.refresh_token });
  assert.equal(replay.status, 401);
  assert.equal(replay.body.code, 'refresh_token_reused');
  // the newest token of the family is dead too, and so is its access token
  const after = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: r2.body.refresh_token });
  assert.equal(after.status, 401);
  const me = await srv.api('GET', '/api/v2/users/me', undefined, { token: r2.body.access_token });
  assert.equal(me.status, 401);
  // another session of the same user is untouched
  const other = await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: a.password });
  const ok = await srv.api('GET', '/api/v2/users/me', undefined, { token: other.body.access_token });
  assert.equal(ok.status, 200);
});

test('concurrent refreshes with one token: exactly one wins', async () => {
  const a = await srv.register();
  const rs = await Promise.all([1, 2, 3, 4].map(() => srv.api('POST', '/api/v2/auth/refresh', { refresh_token: a.refresh_token })));
  assert.equal(rs.filter((r) => r.status === 200).length, 1);
  assert.equal(rs.filter((r) => r.status === 401).length, 3);
});

test('refresh rejects garbage and unknown tokens', async () => {
  for (const t of ['', 'nope', `cvr_${'A'.repeat(43)}`, 'x'.repeat(100)]) {
    const r = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: t });
    assert.equal(r.status, 401, t);
  }
  const r = await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: 42 });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'refresh_token');
});

test('logout ends the session: refresh and access token stop working', async () => {
  const a = await srv.register();
  const r = await srv.api('POST', '/api/v2/auth/logout', { refresh_token: a.refresh_token });
  assert.equal(r.status, 204);
  assert.equal((await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: a.refresh_token })).status, 401);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: a.access_token })).status, 401);
  // idempotent
  assert.equal((await srv.api('POST', '/api/v2/auth/logout', { refresh_token: a.refresh_token })).status, 204);
});

test('forged, tampered and expired access tokens are 401', async () => {
  const a = await srv.register();
  const c = jwtClaims(a.access_token);
  const now = Math.floor(Date.now() / 1000);
  const good = { iss: 'cosmiv', aud: 'cosmiv-api', sub: c.sub, sid: c.sid, iat: now, exp: now + 600 };
  // sanity: our own signing reproduces a valid token
  const valid = signJwt({ alg: 'HS256', typ: 'JWT' }, good);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: valid })).status, 200);
  const forged = {
    alg_none: signJwt({ alg: 'none', typ: 'JWT' }, good, null, null),
    alg_none_signed: signJwt({ alg: 'none' }, good),
    alg_hs512: signJwt({ alg: 'HS512', typ: 'JWT' }, good, JWT_SECRET, 'sha512'),
    alg_rs256: signJwt({ alg: 'RS256', typ: 'JWT' }, good),
    alg_lowercase: signJwt({ alg: 'hs256', typ: 'JWT' }, good),
    extra_header: signJwt({ alg: 'HS256', typ: 'JWT', kid: '../../etc/passwd' }, good),
    wrong_key: signJwt({ alg: 'HS256', typ: 'JWT' }, good, 'another-secret-another-secret-1234'),
    bad_signature: valid.slice(0, -3) + (valid.endsWith('AAA') ? 'BBB' : 'AAA'),
    payload_swapped: (() => { const p = valid.split('.'); p[1] = Buffer.from(JSON.stringify({ ...good, sub: '1' })).toString('base64url'); return p.join('.'); })(),
    expired: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, iat: now - 2000, exp: now - 1000 }),
    future_iat: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, iat: now + 3600, exp: now + 4000 }),
    wrong_iss: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, iss: 'evil' }),
    wrong_aud: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, aud: 'other' }),
    no_sub: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, sub: undefined }),
    numeric_sub: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, sub: Number(c.sub) }),
    unknown_session: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...good, sid: '12345' }),
    two_parts: valid.split('.').slice(0, 2).join('.'),
    garbage: 'not.a.token',
  };
  for (const [name, tok] of Object.entries(forged)) {
    const r = await srv.api('GET', '/api/v2/users/me', undefined, { token: tok });
    assert.equal(r.status, 401, name);
    assert.equal(r.headers.get('content-type'), 'application/problem+json', name);
  }
  assert.equal((await srv.api('GET', '/api/v2/users/me')).status, 401);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { headers: { Authorization: 'Basic abc' } })).status, 401);
});

test('a deleted user\'s token is 401', async () => {
  const a = await srv.register();
  const r = await srv.api('DELETE', '/api/v2/users/me', { password: a.password }, { token: a.access_token });
  assert.equal(r.status, 204);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: a.access_token })).status, 401);
  // a token forged for the deleted user with its session id is 401 as well
  const c = jwtClaims(a.access_token);
  const now = Math.floor(Date.now() / 1000);
  const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, { iss: 'cosmiv', aud: 'cosmiv-api', sub: c.sub, sid: c.sid, iat: now, exp: now + 600 });
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: tok })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: a.password })).status, 401);
});

test('web client: refresh token only in an HttpOnly cookie', async () => {
  const username = uniq('web');
  const web = { 'X-Cosmiv-Client': 'web' };
  const r = await srv.api('POST', '/api/v2/auth/register', { username, email: `${username}@example.com`, password: 'abcdefgh' }, { headers: web });
  assert.equal(r.status, 201);
  assert.equal(r.body.refresh_token, undefined);
  const cookie = r.headers.get('set-cookie');
  assert.match(cookie, /^cosmiv_refresh=cvr_[A-Za-z0-9_-]{43}; Path=\/api\/v2\/auth; Max-Age=\d+; HttpOnly; SameSite=Strict/);
  const value = cookie.split(';')[0];
  // the cookie alone is not enough without the client header
  const noHeader = await srv.api('POST', '/api/v2/auth/refresh', {}, { headers: { Cookie: value } });
  assert.equal(noHeader.status, 401);
  const ok = await srv.api('POST', '/api/v2/auth/refresh', {}, { headers: { ...web, Cookie: value } });
  assert.equal(ok.status, 200);
  const next = ok.headers.get('set-cookie').split(';')[0];
  assert.notEqual(next, value);
  const out = await srv.api('POST', '/api/v2/auth/logout', {}, { headers: { ...web, Cookie: next } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
  assert.equal((await srv.api('POST', '/api/v2/auth/refresh', {}, { headers: { ...web, Cookie: next } })).status, 401);
});

test('rate limits on login: 429 with Retry-After, per IP and per account', async () => {
  // its own Redis database, so the tight budget is not shared with the other servers of the run
  const redis = process.env.COSMIV_TEST_REDIS_URL ? process.env.COSMIV_TEST_REDIS_URL.replace(/\/\d+$/, '/7') : '';
  const s2 = await startServer({ env: { COSMIV_RATE_AUTH_PER_MIN: '6', COSMIV_RATE_AUTH_BURST: '3', COSMIV_REDIS_URL: redis } });
  try {
    const a = await s2.register();
    let last;
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      last = await s2.api('POST', '/api/v2/auth/login', { login: a.username, password: 'wrong password' });
      statuses.push(last.status);
    }
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
    assert.equal(last.body.code, 'rate_limited');
    // refresh and register are limited too
    const rs = [];
    for (let i = 0; i < 6; i++) rs.push((await s2.api('POST', '/api/v2/auth/refresh', { refresh_token: 'x' })).status);
    assert.ok(rs.includes(429), rs.join(','));
    const metrics = await (await s2.fetch('/metrics')).text();
    assert.match(metrics, /cosmiv_rate_limited_total\{scope="login"\} \d+/);
  } finally {
    assert.equal((await s2.stop()).code, 0);
  }
});
