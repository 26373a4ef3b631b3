// The gateway and communities together: what a session starts with, who
// receives which event, permission changes in force at once, typing and
// presence (docs/gateway.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms, has } from '../../lib/communities.mjs';
import { openGateway } from '../../lib/gateway.mjs';
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
