// The gateway and communities together: what a session starts with, who
// receives which event, permission changes in force at once, typing and
// presence (docs/gateway.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms, has } from '../../lib/communities.mjs';
import { openGateway, gatewayUrl } from '../../lib/gateway.mjs';
import net from 'node:net';
import { expectStatus } from '../../lib/social.mjs';

let s;
// COSMIV_GATEWAY_FLUSH_SPLIT=2: every fan-out here goes through the two-thread writer
before(async () => { s = await communitiesServer({ env: { COSMIV_PRESENCE_GRACE_S: '1', COSMIV_GATEWAY_FLUSH_SPLIT: '2' } }); });
after(async () => { await s.stop(); });

const connect = async (u) => {
  const g = await openGateway(s.srv);
  g.ready = await g.identify(u.access_token);
  return g;
};

test('ready lists my communities with the channels I may view and my permissions', async () => {
  const [owner, member] = await s.users(2);
  const com = await s.community(owner, { name: 'Ready Squad' });
  await s.invite(owner, com, member);
  const secret = await s.channel(owner, com, { name: 'staff' });
  const everyone = await s.everyone(owner, com);
  expectStatus(await s.call('PUT', `/channels/${secret.id}/overwrites/role/${everyone.id}`, { allow: '0', deny: perms('VIEW_CHANNEL') }, owner), 204);
  const go = await connect(owner);
  const gm = await connect(member);
  const mine = (g) => g.ready.communities.find((c) => c.id === com.id);
  assert.deepEqual(mine(go).channels.map((c) => c.name).sort(), ['general', 'staff']);
  assert.deepEqual(mine(gm).channels.map((c) => c.name), ['general']);
  assert.ok(has(mine(gm).my_permissions, 'SEND_MESSAGES'));
  assert.ok(!has(mine(gm).my_permissions, 'MANAGE_CHANNELS'));
  assert.ok(has(mine(go).my_permissions, 'ADMINISTRATOR'), 'the owner has everything');
  for (const g of [go, gm]) await g.close();
});

test('channel events reach only those who may view the channel; a permission change counts at once', async () => {
  const [owner, member] = await s.users(2);
  const com = await s.community(owner);
  await s.invite(owner, com, member);
  const go = await connect(owner);
  const gm = await connect(member);
  const everyone = await s.everyone(owner, com);
  const secret = await s.channel(owner, com, { name: 'vault' });
  await gm.next((f) => f.t === 'CHANNEL_CREATE' && f.d.id === secret.id);
  // hide it from @everyone: the member gets nothing about it any more
  expectStatus(await s.call('PUT', `/channels/${secret.id}/overwrites/role/${everyone.id}`, { allow: '0', deny: perms('VIEW_CHANNEL') }, owner), 204);
  await go.next((f) => f.t === 'CHANNEL_UPDATE' && f.d.id === secret.id);
  // for the member the channel is gone
  const gone = await gm.next((f) => f.t === 'CHANNEL_DELETE');
  assert.deepEqual(gone.d, { id: secret.id, community_id: com.id });
  await gm.none((f) => f.t === 'CHANNEL_UPDATE' && f.d.id === secret.id, 100);
  expectStatus(await s.call('PATCH', `/channels/${secret.id}`, { topic: 'gold' }, owner), 200);
  await go.next((f) => f.t === 'CHANNEL_UPDATE' && f.d.topic === 'gold');
  await gm.none((f) => f.t === 'CHANNEL_UPDATE' && f.d.topic === 'gold', 300);
  // a role that may view it, given to the member: the next event reaches them
  const role = await s.role(owner, com, { name: 'vip' });
  expectStatus(await s.call('PUT', `/channels/${secret.id}/overwrites/role/${role.id}`, { allow: perms('VIEW_CHANNEL'), deny: '0' }, owner), 204);
  await s.assign(owner, com, member, role);
  await gm.next((f) => f.t === 'MEMBER_UPDATE' && f.d.user.id === member.user.id);
  expectStatus(await s.call('PATCH', `/channels/${secret.id}`, { topic: 'platinum' }, owner), 200);
  const upd = await gm.next((f) => f.t === 'CHANNEL_UPDATE' && f.d.topic === 'platinum');
  assert.equal(upd.d.id, secret.id);
  // opened to @everyone again with an overwrite: a plain member sees it appear
  const [other] = await s.users(1);
  await s.invite(owner, com, other);
  const go2 = await connect(other);
  assert.ok(!go2.ready.communities.find((c) => c.id === com.id).channels.some((c) => c.id === secret.id));
  expectStatus(await s.call('PUT', `/channels/${secret.id}/overwrites/role/${everyone.id}`, { allow: perms('VIEW_CHANNEL'), deny: '0' }, owner), 204);
  const appeared = await go2.next((f) => f.t === 'CHANNEL_CREATE');
  assert.equal(appeared.d.id, secret.id);
  await go2.close();
  for (const g of [go, gm]) await g.close();
});

test('joining subscribes at once; a kicked member hears the kick and nothing after it', async () => {
  const [owner, member] = await s.users(2);
  const com = await s.community(owner, { public: true });
  const go = await connect(owner);
  const gm = await connect(member);
  assert.equal(gm.ready.communities.length, 0);
  expectStatus(await s.call('POST', `/communities/${com.id}/join`, undefined, member), 200);
  const join = await go.next((f) => f.t === 'MEMBER_JOIN');
  assert.equal(join.d.user.id, member.user.id);
  await gm.next((f) => f.t === 'MEMBER_JOIN'); // the joiner is subscribed already
  expectStatus(await s.call('PATCH', `/communities/${com.id}`, { description: 'one' }, owner), 200);
  await gm.next((f) => f.t === 'COMMUNITY_UPDATE' && f.d.description === 'one');
  expectStatus(await s.call('DELETE', `/communities/${com.id}/members/${member.user.id}`, undefined, owner), 204);
  const leave = await gm.next((f) => f.t === 'MEMBER_LEAVE');
  assert.deepEqual(leave.d, { community_id: com.id, user_id: member.user.id });
  expectStatus(await s.call('PATCH', `/communities/${com.id}`, { description: 'two' }, owner), 200);
  await go.next((f) => f.t === 'COMMUNITY_UPDATE' && f.d.description === 'two');
  await gm.none((f) => f.t === 'COMMUNITY_UPDATE' && f.d.description === 'two', 300);
  for (const g of [go, gm]) await g.close();
});

test('typing reaches the others in the channel, not the typist; without SEND_MESSAGES or sight it is dropped', async () => {
  const [owner, a, b] = await s.users(3);
  const com = await s.community(owner);
  await s.invite(owner, com, a, b);
  const general = (await s.channels(owner, com)).find((c) => c.name === 'general');
  const quiet = await s.channel(owner, com, { name: 'quiet' });
  const everyone = await s.everyone(owner, com);
  expectStatus(await s.call('PUT', `/channels/${quiet.id}/overwrites/role/${everyone.id}`, { allow: '0', deny: perms('SEND_MESSAGES') }, owner), 204);
  const [go, ga, gb] = [await connect(owner), await connect(a), await connect(b)];
  ga.send({ op: 'typing', d: { channel_id: general.id } });
  for (const g of [go, gb]) {
    const t = await g.next((f) => f.t === 'TYPING_START');
    assert.deepEqual(t.d, { channel_id: general.id, community_id: com.id, user_id: a.user.id, username: a.username });
  }
  await ga.none((f) => f.t === 'TYPING_START', 300);
  gb.send({ op: 'typing', d: { channel_id: quiet.id } }); // may read, may not write
  gb.send({ op: 'typing', d: { channel_id: '12345' } }); // does not exist
  await go.none((f) => f.t === 'TYPING_START' && f.d.user_id === b.user.id, 400);
  for (const g of [go, ga, gb]) await g.close();
});

test('a flood of typing is dropped, then closed with 4008; the others see one TYPING_START', async () => {
  const [owner, a] = await s.users(2);
  const com = await s.community(owner);
  await s.invite(owner, com, a);
  const general = (await s.channels(owner, com)).find((c) => c.name === 'general');
  const [go, ga] = [await connect(owner), await connect(a)];
  for (let i = 0; i < 15; i++) ga.send({ op: 'typing', d: { channel_id: general.id } });
  const c = await ga.closed;
  assert.equal(c.code, 4008);
  assert.match(c.reason, /typing/);
  await go.next((f) => f.t === 'TYPING_START' && f.d.user_id === a.user.id);
  await go.none((f) => f.t === 'TYPING_START' && f.d.user_id === a.user.id, 300);
  assert.equal((await s.srv.api('GET', '/healthz')).status, 200);
  await go.close();
});

test('presence: online on connect, idle on request, offline after the grace period; the member list agrees', async () => {
  const [owner, member] = await s.users(2);
  const com = await s.community(owner);
  await s.invite(owner, com, member);
  const go = await connect(owner);
  const presenceOf = async (u) => (await s.members(owner, com)).items.find((m) => m.user.id === u.user.id).presence;
  assert.equal(await presenceOf(member), 'offline');
  const gm = await connect(member);
  assert.deepEqual((await go.next((f) => f.t === 'PRESENCE_UPDATE' && f.d.user_id === member.user.id)).d.status, 'online');
  assert.equal(await presenceOf(member), 'online');
  gm.send({ op: 'presence', d: { status: 'idle' } });
  assert.equal((await go.next((f) => f.t === 'PRESENCE_UPDATE' && f.d.user_id === member.user.id)).d.status, 'idle');
  assert.equal(await presenceOf(member), 'idle');
  await gm.close();
  const off = await go.next((f) => f.t === 'PRESENCE_UPDATE' && f.d.user_id === member.user.id, 5000);
  assert.equal(off.d.status, 'offline');
  assert.equal(await presenceOf(member), 'offline');
  await go.close();
});

/*
 * A gateway client on a bare socket that can stop reading for real (the ws
 * library keeps draining its socket). Frames from the server are parsed as
 * they arrive: {op, text} for text frames, {close: code, reason} for close.
 */
async function rawGateway(srv, token) {
  const { url } = await gatewayUrl(srv);
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const frames = [];
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let onFrame = () => {};
  const ended = new Promise((resolve) => sock.on('close', resolve));
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      buf = buf.subarray(end + 4);
      upgraded = true;
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
      if (buf.length < at + len) return;
      const op = buf[0] & 0x0f;
      const payload = buf.subarray(at, at + len);
      buf = buf.subarray(at + len);
      const f = op === 8 ? { close: payload.readUInt16BE(0), reason: payload.subarray(2).toString() } : JSON.parse(payload.toString());
      frames.push(f);
      onFrame(f);
    }
  });
  const until = (pred) => new Promise((resolve) => {
    const hit = frames.find(pred);
    if (hit) return resolve(hit);
    onFrame = (f) => { if (pred(f)) resolve(f); };
  });
  sock.write('GET /api/v2/gateway HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  await until((f) => f.op === 'hello');
  const body = Buffer.from(JSON.stringify({ op: 'identify', d: { token } }));
  const mask = Buffer.from([1, 2, 3, 4]);
  const head = body.length < 126 ? Buffer.from([0x81, 0x80 | body.length]) : Buffer.from([0x81, 0x80 | 126, body.length >> 8, body.length & 0xff]);
  sock.write(Buffer.concat([head, mask, Buffer.from(body.map((b, i) => b ^ mask[i % 4]))]));
  const ready = (await until((f) => f.op === 'ready')).d;
  return { sock, frames, ready, ended, until };
}

test('a client that stops reading is closed with 4011 slow_consumer, after what was queued; the others keep receiving', async () => {
  // A 16 KiB bound so that a few hundred KiB of events pass it once the kernel's buffers are full.
  const t = await communitiesServer({ env: { COSMIV_GATEWAY_SEND_QUEUE_KB: '16' } });
  try {
    const users = await t.users(8);
    const [owner, reader] = users;
    const com = await t.community(owner);
    await t.invite(owner, com, ...users.slice(1));
    const general = (await t.channels(owner, com)).find((c) => c.name === 'general');
    const slow = await rawGateway(t.srv, owner.access_token);
    const fine = await openGateway(t.srv);
    await fine.identify(reader.access_token);
    slow.sock.pause(); // stops reading: the kernel's buffers fill, then the server's queue
    const big = 'x'.repeat(3990);
    const msgs = [];
    for (const u of users) msgs.push([u, expectStatus(await t.call('POST', `/channels/${general.id}/messages`, { content: big }, u), 201)]);
    const closedInLog = () => /slow consumer closed/.test(t.srv.logs()) && t.srv.logs().includes(`"user_id":"${owner.user.id}"`);
    let edits = 0;
    for (let round = 0; round < 20 && !closedInLog(); round++) {
      for (const [u, m] of msgs) {
        expectStatus(await t.call('PATCH', `/messages/${m.id}`, { content: `${round} ${big}` }, u), 200);
        edits++;
      }
    }
    assert.ok(closedInLog(), `the server closed the non-reading client after ${edits} edits of 4 KB:\n${t.srv.logs().slice(-3000)}`);
    slow.sock.resume(); // what was queued arrives in order, then the close frame
    const closing = await slow.until((f) => f.close !== undefined);
    assert.deepEqual(closing, { close: 4011, reason: 'slow_consumer' });
    await slow.ended;
    const seqs = slow.frames.filter((f) => f.op === 'dispatch').map((f) => f.s);
    assert.ok(seqs.length > 0);
    seqs.forEach((q, i) => assert.equal(q, i + 1, 'dispatches before the close arrive in order, none missing'));
    // The reader got every update; the server is up and still delivers.
    const last = msgs.at(-1)[1];
    await fine.next((f) => f.t === 'MESSAGE_UPDATE' && f.d.id === last.id && f.d.content.startsWith(`${Math.ceil(edits / msgs.length) - 1} `), 10000);
    assert.equal(fine.dispatches('MESSAGE_UPDATE').length, edits);
    expectStatus(await t.call('POST', `/channels/${general.id}/messages`, { content: 'still here' }, reader), 201);
    await fine.next((f) => f.t === 'MESSAGE_CREATE' && f.d.content === 'still here');
    // A fresh session of the same user works again.
    const again = await openGateway(t.srv);
    assert.notEqual((await again.identify(owner.access_token)).session_id, slow.ready.session_id);
    await again.close();
    await fine.close();
  } finally {
    await t.stop();
  }
});

test('message edits are rate-limited per user (each one goes out to the whole channel)', async () => {
  const [owner] = await s.users(1);
  const com = await s.community(owner);
  const general = (await s.channels(owner, com)).find((c) => c.name === 'general');
  const m = expectStatus(await s.call('POST', `/channels/${general.id}/messages`, { content: 'v0' }, owner), 201);
  let limited = null;
  for (let i = 1; i <= 30 && !limited; i++) {
    const r = await s.call('PATCH', `/messages/${m.id}`, { content: `v${i}` }, owner);
    if (r.status === 429) limited = { i, r };
    else expectStatus(r, 200);
  }
  assert.ok(limited && limited.i > 20, `the 21st edit in a row is refused: ${JSON.stringify(limited?.i)}`);
  assert.equal(limited.r.body.code, 'rate_limited');
  const got = expectStatus(await s.call('GET', `/channels/${general.id}/messages?limit=1`, undefined, owner), 200);
  assert.equal(got.items[0].content, `v${limited.i - 1}`, 'the refused edit changed nothing');
});
