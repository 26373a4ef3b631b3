// The gateway protocol (docs/gateway.md) against the real server: hello,
// identify/ready, heartbeats, dispatches with sequence numbers, resume from
// the buffer, limits, and every bad-input close code. The server must stay up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, signJwt, jwtClaims } from '../../lib/harness.mjs';
import { openGateway, gatewayUrl } from '../../lib/gateway.mjs';
import { makeGameplay, tusUpload } from '../../lib/media.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let srv;
before(async () => {
  srv = await startServer({ env: { COSMIV_GATEWAY_HEARTBEAT_MS: '1500', COSMIV_GATEWAY_MAX_PER_USER: '3' } });
});
after(async () => {
  const info = await srv.stop();
  assert.deepEqual(info, { code: 0, signal: null }, srv.logs());
});

const follow = (who, whom) => srv.api('PUT', `/api/v2/users/${whom.username}/follow`, undefined, { token: who.access_token });
const unfollow = (who, whom) => srv.api('DELETE', `/api/v2/users/${whom.username}/follow`, undefined, { token: who.access_token });

test('GET /api/v2/gateway says where to connect', async () => {
  const g = await gatewayUrl(srv);
  assert.match(g.url, /^ws:\/\/127\.0\.0\.1:\d+\/api\/v2\/gateway$/);
  assert.equal(g.heartbeat_interval_ms, 1500);
});

test('hello, identify → ready with the user; heartbeat → ack', async () => {
  const a = await srv.register();
  const gw = await openGateway(srv);
  assert.deepEqual(gw.frames[0].d, { heartbeat_interval_ms: 1500 });
  const ready = await gw.identify(a.access_token);
  assert.match(ready.session_id, /^[0-9a-f]{32}$/);
  assert.equal(ready.user.username, a.username);
  assert.equal(ready.user.id, a.user.id);
  assert.deepEqual(ready.communities, []);
  gw.send({ op: 'heartbeat', d: { seq: 0 } });
  await gw.next((f) => f.op === 'heartbeat_ack');
  await gw.close();
});

test('dispatches carry the event and a per-session sequence from 1', async () => {
  const [a, b, c] = [await srv.register(), await srv.register(), await srv.register()];
  const gw = await openGateway(srv);
  await gw.identify(a.access_token);
  assert.equal((await follow(b, a)).status, 200);
  assert.equal((await follow(c, a)).status, 200);
  const n1 = await gw.next((f) => f.op === 'dispatch');
  const n2 = await gw.next((f) => f.op === 'dispatch');
  assert.equal(n1.t, 'NOTIFICATION');
  assert.equal(n1.s, 1);
  assert.equal(n2.s, 2);
  assert.equal(n1.d.kind, 'follow');
  assert.deepEqual([n1.d.actor_id, n2.d.actor_id], [b.user.id, c.user.id]);
  // someone else's notification never reaches this session
  assert.equal((await follow(a, b)).status, 200);
  await gw.none((f) => f.op === 'dispatch', 400);
  await gw.close();
});

test('resume replays what was missed, in order, and continues the sequence', async () => {
  const [a, b] = [await srv.register(), await srv.register()];
  let gw = await openGateway(srv);
  const { session_id } = await gw.identify(a.access_token);
  assert.equal((await follow(b, a)).status, 200);
  const first = await gw.next((f) => f.op === 'dispatch');
  await gw.terminate();
  // while away: two more events
  assert.equal((await unfollow(b, a)).status, 200);
  assert.equal((await follow(b, a)).status, 200);
  const c = await srv.register();
  assert.equal((await follow(c, a)).status, 200);
  gw = await openGateway(srv);
  gw.send({ op: 'resume', d: { token: a.access_token, session_id, seq: first.s } });
  const r1 = await gw.next((f) => f.op === 'dispatch');
  const r2 = await gw.next((f) => f.op === 'dispatch');
  const resumed = await gw.next((f) => f.op === 'resumed');
  assert.deepEqual([r1.s, r2.s], [2, 3]);
  assert.deepEqual([r1.d.actor_id, r2.d.actor_id], [b.user.id, c.user.id]);
  assert.deepEqual(resumed.d, { session_id, replayed: 2 });
  const d = await srv.register();
  assert.equal((await follow(d, a)).status, 200);
  assert.equal((await gw.next((f) => f.op === 'dispatch')).s, 4);
  await gw.close();
});

test("resume of someone else's session, an unknown one or a future seq is invalid_session", async () => {
  const [a, b] = [await srv.register(), await srv.register()];
  const ga = await openGateway(srv);
  const { session_id } = await ga.identify(a.access_token);
  for (const d of [
    { token: b.access_token, session_id, seq: 0 },
    { token: a.access_token, session_id: '0'.repeat(32), seq: 0 },
    { token: a.access_token, session_id, seq: 99 },
  ]) {
    const g = await openGateway(srv);
    g.send({ op: 'resume', d });
    const inv = await g.next((f) => f.op === 'invalid_session');
    assert.equal(typeof inv.d.reason, 'string');
    // the socket stays open: the client may identify instead
    const ready = await g.identify(d.token);
    assert.ok(ready.session_id);
    await g.close();
  }
  await ga.close();
});

test('bad frames close with the documented codes and the server stays up', async () => {
  const a = await srv.register();
  const expired = (() => {
    const c = jwtClaims(a.access_token);
    return signJwt({ alg: 'HS256', typ: 'JWT' }, { ...c, exp: Math.floor(Date.now() / 1000) - 60 });
  })();
  const forged = (() => {
    const c = jwtClaims(a.access_token);
    return signJwt({ alg: 'HS256', typ: 'JWT' }, c, 'a-different-secret-0123456789abcdef0123');
  })();
  const cases = [
    ['not JSON', (g) => g.send('{"op":'), 4002],
    ['an array', (g) => g.send('[1,2]'), 4002],
    ['a binary frame', (g) => g.ws.send(Buffer.from([1, 2, 3]), { binary: true }), 4002],
    ['op of the wrong type', (g) => g.send({ op: 7 }), 4002],
    ['d of the wrong type', (g) => g.send({ op: 'identify', d: 'token' }), 4002],
    ['identify without a token', (g) => g.send({ op: 'identify', d: {} }), 4002],
    ['an unknown op', (g) => g.send({ op: 'shutdown' }), 4001],
    ['typing before identify', (g) => g.send({ op: 'typing', d: { channel_id: '1' } }), 4003],
    ['a forged token', (g) => g.send({ op: 'identify', d: { token: forged } }), 4004],
    ['an expired token', (g) => g.send({ op: 'identify', d: { token: expired } }), 4004],
    ['garbage token', (g) => g.send({ op: 'identify', d: { token: 'a.b.c' } }), 4004],
    ['an oversized frame', (g) => g.send('x'.repeat(17 * 1024)), 1009],
  ];
  for (const [what, act, code] of cases) {
    const g = await openGateway(srv);
    act(g);
    const c = await g.closed;
    assert.equal(c.code, code, `${what}: ${JSON.stringify(c)}`);
  }
  // a second identify on one socket
  const g = await openGateway(srv);
  await g.identify(a.access_token);
  g.send({ op: 'identify', d: { token: a.access_token } });
  assert.equal((await g.closed).code, 4005);
  // presence with a bad status
  const g2 = await openGateway(srv);
  await g2.identify(a.access_token);
  g2.send({ op: 'presence', d: { status: 'invisible' } });
  assert.equal((await g2.closed).code, 4002);
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('too many connections of one user close with 4010', async () => {
  const a = await srv.register();
  const open = [];
  for (let i = 0; i < 3; i++) {
    const g = await openGateway(srv);
    await g.identify(a.access_token);
    open.push(g);
  }
  const extra = await openGateway(srv);
  extra.send({ op: 'identify', d: { token: a.access_token } });
  assert.equal((await extra.closed).code, 4010);
  await open[0].close();
  await new Promise((r) => setTimeout(r, 100));
  const again = await openGateway(srv);
  assert.ok((await again.identify(a.access_token)).session_id, 'a slot freed by a close is usable');
  for (const g of [...open.slice(1), again]) await g.close();
});

test('a silent client is closed with 4009; an unidentified one too', async () => {
  const a = await srv.register();
  const g = await openGateway(srv);
  await g.identify(a.access_token);
  const c = await g.closed; // 1.5 s interval + 1.5 s grace, no heartbeat sent
  assert.equal(c.code, 4009);
  assert.match(c.reason, /heartbeat/);
});

test('a flood of frames closes with 4008', async () => {
  const a = await srv.register();
  const g = await openGateway(srv);
  await g.identify(a.access_token);
  for (let i = 0; i < 130; i++) g.send({ op: 'heartbeat' });
  assert.equal((await g.closed).code, 4008);
});

test('plain HTTP on the gateway port: 426 without an upgrade, 404 elsewhere', async () => {
  const { url } = await gatewayUrl(srv);
  const u = new URL(url);
  const raw = (req) => new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(req));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  assert.match(await raw(`GET /api/v2/gateway HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1\.1 426 /);
  assert.match(await raw(`GET /other HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1\.1 404 /);
  assert.match(await raw(`GET /api/v2/gateway HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n`), /^HTTP\/1\.1 400 /);
  assert.match(await raw(`POST /api/v2/gateway HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 400 /);
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test("a video's processing progress reaches its owner live, and no one else", async () => {
  const [a, b] = [await srv.register(), await srv.register()];
  const ga = await openGateway(srv);
  await ga.identify(a.access_token);
  const gb = await openGateway(srv);
  await gb.identify(b.access_token);
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-gw-'));
  try {
    const file = makeGameplay(dir, 'game', { seconds: 4, size: '320x180', fps: 15, burstAt: 2 });
    const upload_id = await tusUpload(srv, a.access_token, file);
    const v = await srv.api('POST', '/api/v2/videos', { upload_id, title: 'live progress' }, { token: a.access_token });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    const done = await ga.next((f) => f.t === 'JOB_PROGRESS' && f.d.job_id === v.body.job_id && f.d.progress === 100, 60000);
    assert.equal(done.d.message, 'completed');
    const all = ga.dispatches('JOB_PROGRESS').filter((f) => f.d.job_id === v.body.job_id).map((f) => f.d.progress);
    assert.ok(all.length >= 1 && all.at(-1) === 100, `progress steps: ${all}`);
    for (let i = 1; i < all.length; i++) assert.ok(all[i] >= all[i - 1], `progress goes forward: ${all}`);
    await gb.none((f) => f.t === 'JOB_PROGRESS', 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ga.close();
    await gb.close();
  }
});

test('RFC 6455 details: ping → pong, fragmented messages reassembled, unmasked frames refused', async () => {
  const a = await srv.register();
  const g = await openGateway(srv);
  const pong = new Promise((r) => g.ws.once('pong', (d) => r(String(d))));
  g.ws.ping('are-you-there');
  assert.equal(await pong, 'are-you-there');
  const text = JSON.stringify({ op: 'identify', d: { token: a.access_token } });
  const cut = Math.floor(text.length / 2);
  g.ws.send(text.slice(0, cut), { fin: false });
  g.ws.send(text.slice(cut), { fin: true });
  const ready = await g.next((f) => f.op === 'ready');
  assert.equal(ready.d.user.username, a.username);
  await g.close();

  // A client frame without a mask (what a server sends) is a protocol error: close 1002.
  const { url } = await gatewayUrl(srv);
  const u = new URL(url);
  const got = await new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(
      'GET /api/v2/gateway HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
    let data = Buffer.alloc(0);
    let sent = false;
    s.on('data', (d) => {
      data = Buffer.concat([data, d]);
      if (!sent && data.includes('\r\n\r\n')) {
        sent = true;
        const body = Buffer.from('{"op":"heartbeat"}');
        s.write(Buffer.concat([Buffer.from([0x81, body.length]), body]));
      }
    });
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  const head = got.toString('latin1');
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/); // RFC 6455's own example
  const frames = got.subarray(got.indexOf('\r\n\r\n') + 4);
  const close = frames.subarray(frames.indexOf(0x88)); // after hello: the close frame
  assert.equal(close[0], 0x88);
  assert.equal(close.readUInt16BE(2), 1002);
});
