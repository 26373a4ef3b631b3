// Hostile and broken requests: each gets a 4xx problem with a reason, changes
// nothing, and the server stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, uniq } from '../../lib/harness.mjs';

let srv, user;
before(async () => {
  srv = await startServer({ env: { COSMIV_MAX_BODY_BYTES: '65536' } });
  user = await srv.register();
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs()); });

async function alive() {
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
}

function rawRequest(text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.end(text);
  });
}

test('malformed JSON, wrong top-level types, empty bodies', async () => {
  const bodies = ['{', '{"username":', 'null', '[]', '"str"', '42', '{"a":1,}', "{'a':1}", ''];
  for (const raw of bodies) {
    const r = await srv.api('POST', '/api/v2/auth/register', undefined, { raw, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, raw);
    assert.equal(r.body.code, 'invalid_json', raw);
    assert.ok(r.body.detail, raw);
  }
  await alive();
});

test('wrong types, missing, unknown and duplicate fields', async () => {
  const base = { username: uniq(), email: `${uniq()}@example.com`, password: 'abcdefgh' };
  const cases = [
    [{ ...base, username: 123 }, 422, 'username', 'invalid_type'],
    [{ ...base, password: ['a'] }, 422, 'password', 'invalid_type'],
    [{ ...base, email: null }, 422, 'email', 'missing_field'],
    [{ username: base.username, password: base.password }, 422, 'email', 'missing_field'],
    [{ ...base, is_admin: true }, 422, 'is_admin', 'unknown_field'],
    [{ ...base, role: 'admin' }, 422, 'role', 'unknown_field'],
  ];
  for (const [body, status, field, code] of cases) {
    const r = await srv.api('POST', '/api/v2/auth/register', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.field, field);
    assert.equal(r.body.code, code);
  }
  const dup = await srv.api('POST', '/api/v2/auth/login', undefined, { raw: '{"login":"a","login":"b","password":"x"}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(dup.status, 400);
  // nothing was created
  assert.equal((await srv.api('GET', `/api/v2/users/${base.username}`)).status, 404);
});

test('invalid UTF-8 and NUL characters', async () => {
  const bad = Buffer.concat([Buffer.from('{"username":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","email":"x@example.com","password":"abcdefgh"}')]);
  let r = await srv.api('POST', '/api/v2/auth/register', undefined, { raw: bad, headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  r = await srv.api('POST', '/api/v2/auth/login', undefined, { raw: '{"login":"a\\u0000b","password":"abcdefgh"}', headers: { 'Content-Type': 'application/json' } });
  assert.ok([400, 422].includes(r.status));
  await alive();
});

test('SQL metacharacters are just data', async () => {
  const r = await srv.api('POST', '/api/v2/auth/login', { login: "' OR '1'='1' --", password: "' OR '1'='1" });
  assert.equal(r.status, 401);
  const r2 = await srv.api('POST', '/api/v2/auth/login', { login: `${user.username}'--`, password: 'x' });
  assert.equal(r2.status, 401);
  const p = await srv.api('PATCH', '/api/v2/users/me', { bio: "Robert'); DROP TABLE users;--" }, { token: user.access_token });
  assert.equal(p.status, 200);
  assert.equal(p.body.bio, "Robert'); DROP TABLE users;--");
  assert.equal((await srv.api('GET', `/api/v2/users/${user.username}`)).status, 200);
});

test('oversized bodies are 413, by Content-Length and by streaming', async () => {
  const big = JSON.stringify({ username: 'x', email: 'y', password: 'z'.repeat(70000) });
  let r = await srv.api('POST', '/api/v2/auth/register', undefined, { raw: big, headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 413);
  assert.equal(r.body.code, 'body_too_large');
  assert.match(r.body.detail, /65536/);
  // chunked upload without Content-Length
  const chunks = (async function* () { for (let i = 0; i < 20; i++) yield new TextEncoder().encode('x'.repeat(8192)); })();
  const res = await fetch(`${srv.url}/api/v2/auth/login`, { method: 'POST', body: chunks, duplex: 'half', headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 413);
  await alive();
});

test('wrong content type is 415', async () => {
  const r = await srv.api('POST', '/api/v2/auth/login', undefined, { raw: 'login=a&password=b', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 415);
  assert.equal(r.body.code, 'unsupported_media_type');
});

test('overlong headers and garbage requests do not hurt the server', async () => {
  const long = 'a'.repeat(100000);
  const out = await rawRequest(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ${long}\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 4\d\d/);
  const g = await rawRequest('\x00\x01\x02 GARBAGE\r\n\r\n');
  assert.ok(g === '' || /^HTTP\/1\.1 4\d\d/.test(g));
  const longUrl = await rawRequest(`GET /api/v2/users/${'b'.repeat(70000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(longUrl, /^HTTP\/1\.1 4\d\d/);
  await alive();
});

test('forged ids and huge query values', async () => {
  const r = await srv.api('GET', '/api/v2/users/%00%01');
  assert.equal(r.status, 404);
  const q = await srv.api('GET', `/api/v2/users/${user.username}?x=${'q'.repeat(5000)}`);
  assert.equal(q.status, 200);
  await alive();
});
