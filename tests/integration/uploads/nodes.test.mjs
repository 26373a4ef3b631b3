// Uploads across two `serve` nodes on one PostgreSQL and one S3 store
// (src/uploads/uploads.h, deploy/nginx.conf): nodes sharing the upload spool
// (COSMIV_UPLOAD_DIR) take any request of any upload; a node that cannot see
// an upload's data refuses with the reason and changes nothing. Runs in the
// scaled-out stage of tests/run-integration.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, usingPostgres } from '../../lib/harness.mjs';
import { makeGameplay, waitFor } from '../../lib/media.mjs';

const scaled = usingPostgres && !!process.env.COSMIV_TEST_STORAGE_URL;
const opts = { skip: scaled ? false : 'needs PostgreSQL and S3 (the scaled-out stage)' };

let dir, data, shared, A, B, C;
before(async () => {
  if (!scaled) return;
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-nodes-'));
  data = readFileSync(makeGameplay(dir, 'game', { seconds: 6 }));
  shared = join(dir, 'spool');
  // A and B share a spool; C has its own (DATA_DIR/uploads); one database, one S3 bucket
  A = await startServer({ env: { COSMIV_UPLOAD_DIR: shared } });
  B = await startServer({ env: { COSMIV_UPLOAD_DIR: shared, COSMIV_WORKERS: '0' }, databaseUrl: A.databaseUrl });
  C = await startServer({ env: { COSMIV_WORKERS: '0' }, databaseUrl: A.databaseUrl });
});
after(async () => {
  if (!scaled) return;
  for (const s of [C, B, A]) assert.deepEqual(await s.stop(), { code: 0, signal: null }, s.logs());
  rmSync(dir, { recursive: true, force: true });
});

const TUS = { 'Tus-Resumable': '1.0.0' };
const create = (s, u) => s.fetch('/api/v2/uploads', {
  method: 'POST',
  headers: { ...TUS, Authorization: `Bearer ${u.access_token}`, 'Upload-Length': String(data.length),
    'Upload-Metadata': `filename ${Buffer.from('game.mp4').toString('base64')}` },
});
const patch = (s, u, loc, offset, body) => s.fetch(loc, {
  method: 'PATCH', body,
  headers: { ...TUS, Authorization: `Bearer ${u.access_token}`, 'Upload-Offset': String(offset),
    'Content-Type': 'application/offset+octet-stream' },
});
const head = async (s, u, loc) => (await s.fetch(loc, { method: 'HEAD', headers: { ...TUS, Authorization: `Bearer ${u.access_token}` } }));

test('nodes sharing the upload spool: created on A, written through B and A, made a video through B', opts, async () => {
  const u = await A.register();
  const c = await create(A, u);
  assert.equal(c.status, 201);
  const loc = c.headers.get('location');
  const half = Math.floor(data.length / 2);
  assert.equal((await patch(B, u, loc, 0, data.subarray(0, half))).status, 204);
  assert.equal((await head(A, u, loc)).headers.get('upload-offset'), String(half));
  assert.equal((await patch(A, u, loc, half, data.subarray(half))).status, 204);
  assert.equal((await head(B, u, loc)).headers.get('upload-offset'), String(data.length));
  const upload_id = loc.split('/').pop();
  const v = await B.api('POST', '/api/v2/videos', { upload_id, title: 'two nodes' }, { token: u.access_token });
  assert.equal(v.status, 201, JSON.stringify(v.body));
  // B runs no workers: A's worker processes it from the shared object store
  const ready = await waitFor(B, `/api/v2/videos/${v.body.id}`, u.access_token, (x) => x.status !== 'processing');
  assert.equal(ready.status, 'ready', JSON.stringify(ready));
  assert.equal(ready.width, 640);
});

test('a node that cannot see an upload\'s spool refuses with the reason and changes nothing', opts, async () => {
  const u = await A.register();
  const c = await create(A, u);
  const loc = c.headers.get('location');
  const upload_id = loc.split('/').pop();
  // C has its own spool: writing through it is refused, the offset stays
  let r = await patch(C, u, loc, 0, data);
  assert.equal(r.status, 503);
  const p = await r.json();
  assert.equal(p.code, 'upload_elsewhere');
  assert.match(p.detail, /upload spool of another node/);
  assert.equal((await head(A, u, loc)).headers.get('upload-offset'), '0');
  // HEAD reads the database: any node answers it
  assert.equal((await head(C, u, loc)).headers.get('upload-offset'), '0');
  // termination through C would orphan the data on A: refused, the upload stays
  r = await C.fetch(loc, { method: 'DELETE', headers: { ...TUS, Authorization: `Bearer ${u.access_token}` } });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).code, 'upload_elsewhere');
  assert.equal((await head(A, u, loc)).status, 200);
  assert.equal((await patch(A, u, loc, 0, data)).status, 204);
  // turning it into a video needs its data too: refused on C, the upload stays usable
  r = await C.api('POST', '/api/v2/videos', { upload_id, title: 'wrong node' }, { token: u.access_token });
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.code, 'upload_elsewhere');
  assert.equal((await C.api('GET', '/api/v2/videos', undefined, { token: u.access_token })).body.items.length, 0);
  r = await A.api('POST', '/api/v2/videos', { upload_id, title: 'right node' }, { token: u.access_token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
