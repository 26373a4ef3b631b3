// tus 1.0 resumable uploads: the protocol, its error cases, concurrency, and
// durability of acknowledged bytes across kill -9.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { startServer } from '../../lib/harness.mjs';

let srv, alice, bob;
before(async () => {
  srv = await startServer({ env: { COSMIV_FREE_MAX_UPLOAD_BYTES: String(8 << 20) }, keepData: true });
  alice = await srv.register();
  bob = await srv.register();
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs()); });

const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');

async function create(s, user, length, extra = {}) {
  const r = await s.fetch('/api/v2/uploads', {
    method: 'POST',
    headers: { ...TUS, Authorization: `Bearer ${user.access_token}`, 'Upload-Length': String(length),
      'Upload-Metadata': `filename ${b64('match.mp4')},filetype ${b64('video/mp4')}`, ...extra },
  });
  return r;
}

async function patch(s, user, loc, offset, body, extra = {}) {
  return s.fetch(loc, {
    method: 'PATCH', body,
    headers: { ...TUS, Authorization: `Bearer ${user.access_token}`, 'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream', ...extra },
  });
}

async function head(s, user, loc) {
  return s.fetch(loc, { method: 'HEAD', headers: { ...TUS, Authorization: `Bearer ${user.access_token}` } });
}

const sha = (buf) => `sha256 ${createHash('sha256').update(buf).digest('base64')}`;
const spool = (s, loc) => join(s.dataDir, 'uploads', `${loc.split('/').pop()}.part`);

test('OPTIONS advertises the protocol', async () => {
  const r = await srv.fetch('/api/v2/uploads', { method: 'OPTIONS' });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('tus-version'), '1.0.0');
  for (const ext of ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum'])
    assert.ok(r.headers.get('tus-extension').split(',').includes(ext), ext);
  assert.equal(r.headers.get('tus-checksum-algorithm'), 'sha256');
});

test('creation needs auth, Tus-Resumable, a sane Upload-Length within the plan', async () => {
  let r = await srv.fetch('/api/v2/uploads', { method: 'POST', headers: { ...TUS, 'Upload-Length': '10' } });
  assert.equal(r.status, 401);
  r = await srv.fetch('/api/v2/uploads', { method: 'POST', headers: { Authorization: `Bearer ${alice.access_token}`, 'Upload-Length': '10' } });
  assert.equal(r.status, 412);
  assert.equal(r.headers.get('tus-version'), '1.0.0');
  for (const bad of ['', '-5', 'abc', '0']) {
    r = await create(srv, alice, bad);
    assert.equal(r.status, 400, bad);
  }
  r = await create(srv, alice, (8 << 20) + 1);
  assert.equal(r.status, 413);
  const p = await r.json();
  assert.match(p.detail, /8388608/);
  assert.equal(p.field, 'Upload-Length');
});

test('create, upload in chunks with checksums, resume from HEAD', async () => {
  const data = randomBytes(300000);
  const r = await create(srv, alice, data.length);
  assert.equal(r.status, 201);
  const loc = r.headers.get('location');
  assert.match(loc, /^\/api\/v2\/uploads\/[0-9a-f]{32}$/);
  assert.equal(r.headers.get('upload-offset'), '0');
  assert.ok(r.headers.get('upload-expires'));
  let p = await patch(srv, alice, loc, 0, data.subarray(0, 100000), { 'Upload-Checksum': sha(data.subarray(0, 100000)) });
  assert.equal(p.status, 204);
  assert.equal(p.headers.get('upload-offset'), '100000');
  // wrong offset
  p = await patch(srv, alice, loc, 0, data.subarray(0, 10));
  assert.equal(p.status, 409);
  assert.equal((await p.json()).code, 'offset_mismatch');
  // wrong content type
  p = await srv.fetch(loc, { method: 'PATCH', body: 'x', headers: { ...TUS, Authorization: `Bearer ${alice.access_token}`, 'Upload-Offset': '100000', 'Content-Type': 'text/plain' } });
  assert.equal(p.status, 415);
  // checksum mismatch keeps nothing
  p = await patch(srv, alice, loc, 100000, data.subarray(100000, 200000), { 'Upload-Checksum': sha(Buffer.from('other')) });
  assert.equal(p.status, 460);
  const h = await head(srv, alice, loc);
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('upload-offset'), '100000');
  assert.equal(h.headers.get('upload-length'), String(data.length));
  assert.equal(h.headers.get('cache-control'), 'no-store');
  // past the end
  p = await patch(srv, alice, loc, 100000, Buffer.alloc(250000));
  assert.equal(p.status, 422);
  assert.equal((await head(srv, alice, loc)).headers.get('upload-offset'), '100000');
  p = await patch(srv, alice, loc, 100000, data.subarray(100000));
  assert.equal(p.status, 204);
  assert.equal(p.headers.get('upload-offset'), String(data.length));
  assert.deepEqual(readFileSync(spool(srv, loc)), data);
  // complete: no more writes
  p = await patch(srv, alice, loc, data.length, Buffer.from('x'));
  assert.equal(p.status, 409);
});

test('creation-with-upload', async () => {
  const data = randomBytes(5000);
  const r = await create(srv, alice, data.length, { 'Content-Type': 'application/offset+octet-stream' });
  assert.equal(r.status, 201);
  const r2 = await srv.fetch('/api/v2/uploads', {
    method: 'POST', body: data,
    headers: { ...TUS, Authorization: `Bearer ${alice.access_token}`, 'Upload-Length': String(data.length), 'Content-Type': 'application/offset+octet-stream' },
  });
  assert.equal(r2.status, 201);
  assert.equal(r2.headers.get('upload-offset'), String(data.length));
  assert.deepEqual(readFileSync(spool(srv, r2.headers.get('location'))), data);
});

test("someone else's upload is 404; termination deletes", async () => {
  const r = await create(srv, alice, 100);
  const loc = r.headers.get('location');
  assert.equal((await head(srv, bob, loc)).status, 404);
  assert.equal((await patch(srv, bob, loc, 0, Buffer.alloc(10))).status, 404);
  const d = await srv.fetch(loc, { method: 'DELETE', headers: { ...TUS, Authorization: `Bearer ${bob.access_token}` } });
  assert.equal(d.status, 404);
  assert.equal((await head(srv, alice, loc)).status, 200);
  const d2 = await srv.fetch(loc, { method: 'DELETE', headers: { ...TUS, Authorization: `Bearer ${alice.access_token}` } });
  assert.equal(d2.status, 204);
  assert.equal((await head(srv, alice, loc)).status, 404);
  assert.throws(() => statSync(spool(srv, loc)));
  assert.equal((await head(srv, alice, '/api/v2/uploads/../../etc')).status, 404);
  assert.equal((await head(srv, alice, '/api/v2/uploads/zzzz')).status, 404);
});

test('parallel PATCHes on one upload: one wins, no corruption', async () => {
  const data = randomBytes(2 << 20);
  const loc = (await create(srv, alice, data.length)).headers.get('location');
  const results = await Promise.all([1, 2, 3].map(() => patch(srv, alice, loc, 0, data)));
  const statuses = results.map((x) => x.status).sort();
  assert.equal(statuses.filter((s) => s === 204).length, 1, statuses.join(','));
  assert.ok(statuses.every((s) => s === 204 || s === 409), statuses.join(','));
  assert.equal((await head(srv, alice, loc)).headers.get('upload-offset'), String(data.length));
  assert.deepEqual(readFileSync(spool(srv, loc)), data);
});

test('acknowledged bytes survive kill -9; the client resumes with nothing lost or doubled', async () => {
  const s = await startServer({ keepData: true });
  const u = await s.register();
  const data = randomBytes(3 << 20);
  const loc = (await create(s, u, data.length)).headers.get('location');
  // one acknowledged chunk
  assert.equal((await patch(s, u, loc, 0, data.subarray(0, 1 << 20))).status, 204);
  // a second chunk that is cut off by kill -9 half way
  await new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, path: loc, method: 'PATCH',
      headers: { ...TUS, Authorization: `Bearer ${u.access_token}`, 'Upload-Offset': String(1 << 20),
        'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(1 << 20) } });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(data.subarray(1 << 20, (1 << 20) + 300000), () => setTimeout(() => { s.proc.kill('SIGKILL'); }, 300));
  });
  await s.exited;
  const s2 = await startServer({ dataDir: s.dataDir, databaseUrl: s.databaseUrl, keepData: true });
  const login = await s2.api('POST', '/api/v2/auth/login', { login: u.username, password: u.password });
  const u2 = login.body;
  const h = await head(s2, u2, loc);
  assert.equal(h.status, 200);
  const offset = Number(h.headers.get('upload-offset'));
  assert.ok(offset >= 1 << 20 && offset <= (1 << 20) + 300000, String(offset));
  const p = await patch(s2, u2, loc, offset, data.subarray(offset));
  assert.equal(p.status, 204);
  assert.deepEqual(readFileSync(spool(s2, loc)), data);
  assert.equal((await s2.stop()).code, 0);
});

test('abandoned uploads expire', async () => {
  const s = await startServer({ env: { COSMIV_UPLOAD_EXPIRY_S: '1' }, keepData: true });
  try {
    const u = await s.register();
    const loc = (await create(s, u, 100)).headers.get('location');
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal((await head(s, u, loc)).status, 404);
    await create(s, u, 100); // creation sweeps expired uploads
    assert.throws(() => statSync(spool(s, loc)));
  } finally { await s.stop(); }
});

test('upload creation is rate limited per user', async () => {
  const s = await startServer({ env: { COSMIV_RATE_UPLOAD_PER_MIN: '2' } });
  try {
    const u = await s.register();
    const st = [];
    for (let i = 0; i < 4; i++) st.push((await create(s, u, 10)).status);
    assert.deepEqual(st.slice(0, 2), [201, 201]);
    assert.equal(st[3], 429);
  } finally { await s.stop(); }
});
