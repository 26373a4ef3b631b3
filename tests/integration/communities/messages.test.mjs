// Channel messages (docs/communities-api.md, "Messages"): the message shape,
// content rules, who may send, paging, mentions and their notifications,
// replies, clips, edits, deletes (audited for moderators), reactions, pins,
// read state, the per-channel rate limit and the gateway events they publish.
//
// Communities, channels, roles and overwrites are made through their own
// endpoints. Messages are limited to 5 per 5 s per user and channel, so each
// test uses channels of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniq } from '../../lib/harness.mjs';
import { openGateway } from '../../lib/gateway.mjs';
import { socialServer, API, expectStatus, expectProblem, assertUserSummary, isId, ISO, sleep } from '../../lib/social.mjs';

// Permission bits (docs/permissions.md, src/communities/perms.h).
const VIEW_CHANNEL = 1n << 0n;
const SEND_MESSAGES = 1n << 1n;
const MANAGE_MESSAGES = 1n << 2n;
const MENTION_EVERYONE = 1n << 7n;
const ADD_REACTIONS = 1n << 8n;
const ATTACH_CLIPS = 1n << 9n;

let s, owner, alice, bob, carol, eve, com;
const tok = (u) => ({ token: u.access_token });

// ==== communities, channels, roles and overwrites, through their API ====

const fx = {
  /** A community of owner that every user in members joined by invite: {id, general}. */
  async community(o, members) {
    const c = expectStatus(await s.api('POST', `${API}/communities`, { name: uniq('squad') }, tok(o)), 201, 'create community');
    const chans = expectStatus(await s.api('GET', `${API}/communities/${c.id}/channels`, undefined, tok(o)), 200, 'channels');
    const general = chans.items.find((x) => x.name === 'general');
    assert.ok(general, JSON.stringify(chans));
    const inv = expectStatus(await s.api('POST', `${API}/communities/${c.id}/invites`, {}, tok(o)), 201, 'invite');
    for (const m of members) {
      expectStatus(await s.api('POST', `${API}/invites/${inv.code}/accept`, undefined, tok(m)), 200, 'accept invite');
    }
    return { id: c.id, general: general.id };
  },
  /** A new text channel; returns its id. */
  async channel(c) {
    const r = await s.api('POST', `${API}/communities/${c.id}/channels`, { name: uniq('ch').toLowerCase() }, tok(owner));
    return expectStatus(r, 201, 'create channel').id;
  },
  /** Sets an overwrite (type 'role' or 'member') on a channel. */
  async overwrite(ch, type, target, allow, deny) {
    const r = await s.api('PUT', `${API}/channels/${ch}/overwrites/${type}/${target}`, { allow: String(allow), deny: String(deny) }, tok(owner));
    assert.ok(r.status === 200 || r.status === 204, `overwrite → ${r.status} ${JSON.stringify(r.body)}`);
  },
  /** A role with perms given to user; returns the role id. */
  async role(c, user, perms) {
    const role = expectStatus(await s.api('POST', `${API}/communities/${c.id}/roles`, { name: uniq('role'), permissions: String(perms) }, tok(owner)), 201, 'create role');
    expectStatus(await s.api('PUT', `${API}/communities/${c.id}/members/${user.user.id}/roles/${role.id}`, undefined, tok(owner)), 204, 'assign role');
    return role.id;
  },
  /** The community's audit log entries, newest first. */
  async audit(c) {
    return expectStatus(await s.api('GET', `${API}/communities/${c.id}/audit-log`, undefined, tok(owner)), 200, 'audit log').items;
  },
  /** The user's read marker in a channel (the channel's last_read_id). */
  async lastRead(c, ch, user) {
    const chans = expectStatus(await s.api('GET', `${API}/communities/${c.id}/channels`, undefined, tok(user)), 200, 'channels');
    const x = chans.items.find((y) => y.id === ch);
    assert.ok(x, `channel ${ch} not listed`);
    return x.last_read_id;
  },
};

before(async () => {
  s = await socialServer();
  [owner, alice, bob, carol, eve] = await s.users(5);
  com = await fx.community(owner, [alice, bob, carol]);
});
after(async () => { await s.stop(); });

// ==== helpers ====

const send = (ch, u, body) => s.api('POST', `${API}/channels/${ch}/messages`, typeof body === 'string' ? { content: body } : body, tok(u));
const sent = async (ch, u, body) => expectStatus(await send(ch, u, body), 201, `send ${JSON.stringify(body)}`);
const list = async (ch, u, q = '') => expectStatus(await s.api('GET', `${API}/channels/${ch}/messages${q ? `?${q}` : ''}`, undefined, tok(u)), 200, `list ${q}`);
const react = (id, u, emoji, method = 'PUT') => s.api(method, `${API}/messages/${id}/reactions/${encodeURIComponent(emoji)}`, undefined, tok(u));
const find = async (ch, u, id) => (await list(ch, u, 'limit=100')).items.find((m) => m.id === id);

/** Asserts the message object of the contract. */
function assertMessage(m) {
  const keys = ['id', 'channel_id', 'community_id', 'author', 'content', 'reply_to', 'clip', 'mentions',
    'mention_everyone', 'pinned', 'edited_at', 'created_at', 'reactions'];
  for (const k of keys) assert.ok(k in m, `message.${k} missing: ${JSON.stringify(m)}`);
  assert.deepEqual(Object.keys(m).sort(), [...keys].sort(), 'no extra keys');
  assert.ok(isId(m.id));
  assert.ok(isId(m.channel_id));
  assert.ok(isId(m.community_id));
  if (m.author !== null) assertUserSummary(m.author);
  assert.equal(typeof m.content, 'string');
  if (m.reply_to !== null) {
    assert.deepEqual(Object.keys(m.reply_to).sort(), ['author_username', 'content', 'id']);
    assert.ok(isId(m.reply_to.id));
  }
  if (m.clip !== null) {
    assert.ok(isId(m.clip.id));
    assert.equal(typeof m.clip.duration_s, 'number');
    assert.equal(typeof m.clip.playback_url, 'string');
  }
  assert.ok(Array.isArray(m.mentions) && m.mentions.every(isId), JSON.stringify(m.mentions));
  assert.equal(typeof m.mention_everyone, 'boolean');
  assert.equal(typeof m.pinned, 'boolean');
  assert.ok(m.edited_at === null || ISO.test(m.edited_at));
  assert.match(m.created_at, ISO);
  assert.ok(Array.isArray(m.reactions));
  for (const r of m.reactions) {
    assert.deepEqual(Object.keys(r).sort(), ['count', 'emoji', 'me']);
    assert.ok(Number.isInteger(r.count) && r.count > 0);
    assert.equal(typeof r.me, 'boolean');
  }
}

// ==== sending ====

test('POST /channels/{id}/messages: 201 with the message shape, content trimmed; listed', async () => {
  const ch = await fx.channel(com);
  const m = await sent(ch, alice, '  hello there \n');
  assertMessage(m);
  assert.equal(m.content, 'hello there');
  assert.equal(m.channel_id, ch);
  assert.equal(m.community_id, com.id);
  assert.equal(m.author.id, alice.user.id);
  assert.equal(m.author.username, alice.username);
  assert.equal(m.reply_to, null);
  assert.equal(m.clip, null);
  assert.deepEqual(m.mentions, []);
  assert.equal(m.mention_everyone, false);
  assert.equal(m.pinned, false);
  assert.equal(m.edited_at, null);
  assert.deepEqual(m.reactions, []);
  const l = await list(ch, bob);
  assert.equal(l.has_more, false);
  assert.equal(l.items.length, 1);
  assertMessage(l.items[0]);
  assert.deepEqual(l.items[0], m);
});

test('content: 1..4000 characters after trimming', async () => {
  const ch = await fx.channel(com);
  expectProblem(await send(ch, alice, ' \n\t '), 422, { field: 'content' }, 'blank');
  expectProblem(await send(ch, alice, {}), 422, { code: 'missing_field', field: 'content' }, 'missing');
  expectProblem(await send(ch, alice, { content: 5 }), 422, { field: 'content' }, 'not a string');
  // every attempt counts against the rate limit: the rest as another user
  expectProblem(await send(ch, bob, 'x'.repeat(4001)), 422, { field: 'content' }, '4001');
  const m = await sent(ch, bob, `  ${'é'.repeat(4000)}  `);
  assert.equal(m.content, 'é'.repeat(4000));
  expectProblem(await send(ch, bob, { content: 'x', extra: 1 }), 422, { code: 'unknown_field' });
});

test('who may send: not a member → 404, SEND_MESSAGES denied → 403 and nothing is stored', async () => {
  const ch = await fx.channel(com);
  expectProblem(await send(ch, eve, 'hi'), 404, { code: 'channel_not_found' }, 'not a member');
  expectProblem(await send('123456789', alice, 'hi'), 404, { code: 'channel_not_found' }, 'unknown channel');
  expectProblem(await send('general', alice, 'hi'), 404, { code: 'channel_not_found' }, 'not an id');
  expectProblem(await s.api('GET', `${API}/channels/${ch}/messages`, undefined, tok(eve)), 404, { code: 'channel_not_found' });
  expectProblem(await s.api('GET', `${API}/channels/${ch}/messages`), 401);

  await fx.overwrite(ch, 'role', com.id, 0n, SEND_MESSAGES);
  const p = expectProblem(await send(ch, alice, 'blocked'), 403, { code: 'missing_permission' });
  assert.match(p.detail, /SEND_MESSAGES/);
  assert.deepEqual((await list(ch, alice)).items, [], 'nothing stored');
  await sent(ch, owner, 'the owner may'); // the owner may do anything

  // a channel alice cannot view does not exist for her
  const hidden = await fx.channel(com);
  await fx.overwrite(hidden, 'role', com.id, 0n, VIEW_CHANNEL);
  const secret = await sent(hidden, owner, 'secret');
  expectProblem(await send(hidden, alice, 'hi'), 404, { code: 'channel_not_found' });
  expectProblem(await s.api('GET', `${API}/channels/${hidden}/messages`, undefined, tok(alice)), 404, { code: 'channel_not_found' });
  expectProblem(await react(secret.id, alice, '👍'), 404, { code: 'message_not_found' });
  expectProblem(await s.api('DELETE', `${API}/messages/${secret.id}`, undefined, tok(alice)), 404, { code: 'message_not_found' });
  expectProblem(await s.api('PATCH', `${API}/messages/${secret.id}`, { content: 'x' }, tok(alice)), 404, { code: 'message_not_found' });
});

test('paging: newest first page, before, after, around; items oldest → newest; has_more', async () => {
  const ch = await fx.channel(com);
  const ids = [];
  const who = [alice, bob, carol];
  for (let i = 0; i < 7; i++) ids.push((await sent(ch, who[i % 3], `m${i}`)).id);
  let l = await list(ch, alice, 'limit=3');
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(4));
  assert.equal(l.has_more, true);
  assert.deepEqual(l.items.map((m) => m.content), ['m4', 'm5', 'm6']);
  l = await list(ch, alice, `before=${ids[4]}&limit=3`);
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(1, 4));
  assert.equal(l.has_more, true);
  l = await list(ch, alice, `before=${ids[1]}&limit=3`);
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(0, 1));
  assert.equal(l.has_more, false);
  l = await list(ch, alice, `after=${ids[2]}&limit=3`);
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(3, 6));
  assert.equal(l.has_more, true, 'newer messages remain');
  l = await list(ch, alice, `after=${ids[4]}&limit=3`);
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(5));
  assert.equal(l.has_more, false);
  l = await list(ch, alice, `around=${ids[3]}&limit=5`);
  assert.deepEqual(l.items.map((m) => m.id), ids.slice(1, 6));
  l = await list(ch, alice, `around=${ids[3]}`);
  assert.deepEqual(l.items.map((m) => m.id), ids);
  assert.equal(l.has_more, false);
  l = await list(ch, alice);
  assert.deepEqual(l.items.map((m) => m.id), ids, 'default limit 50');

  expectProblem(await s.api('GET', `${API}/channels/${ch}/messages?before=${ids[3]}&after=${ids[1]}`, undefined, tok(alice)), 400);
  expectProblem(await s.api('GET', `${API}/channels/${ch}/messages?around=${ids[3]}&before=${ids[1]}`, undefined, tok(alice)), 400);
  for (const q of ['limit=0', 'limit=101', 'limit=x']) {
    expectProblem(await s.api('GET', `${API}/channels/${ch}/messages?${q}`, undefined, tok(alice)), 422, { field: 'limit' }, q);
  }
  expectProblem(await s.api('GET', `${API}/channels/${ch}/messages?before=abc`, undefined, tok(alice)), 422, { field: 'before' });
  assert.equal((await list(ch, alice, 'limit=100')).items.length, 7);
});

test('mentions: members only, @everyone needs MENTION_EVERYONE; mentioned members are notified', async () => {
  const ch = await fx.channel(com);
  const m = await sent(ch, alice, `@${bob.username} @${bob.username.toUpperCase()} hi @${eve.username} @everyone x@${carol.username}`);
  assert.deepEqual(m.mentions, [bob.user.id], 'bob once; eve is not a member; an email is no mention');
  assert.equal(m.mention_everyone, false, '@everyone stays text');
  assert.equal(m.content.includes('@everyone'), true);
  const n = expectStatus(await s.api('GET', `${API}/notifications`, undefined, tok(bob)), 200);
  const mention = n.items.find((x) => x.kind === 'mention' && x.actor.id === alice.user.id);
  assert.ok(mention, JSON.stringify(n.items));
  // it points at the message, its channel and community, so the app can open it
  assert.deepEqual(mention.message, { id: m.id, channel_id: ch, community_id: com.id, content: m.content });
  assert.equal(mention.post, null);
  const none = expectStatus(await s.api('GET', `${API}/notifications`, undefined, tok(eve)), 200);
  assert.equal(none.items.filter((x) => x.kind === 'mention').length, 0);

  const e = await sent(ch, owner, '@everyone raid at 9');
  assert.equal(e.mention_everyone, true);
  await fx.role(com, carol, MENTION_EVERYONE);
  assert.equal((await sent(ch, carol, '@everyone go')).mention_everyone, true);
});

test('reply_to: a message of the same channel, shown as {id, author_username, content}; gone → null', async () => {
  const ch = await fx.channel(com), other = await fx.channel(com);
  const long = 'y'.repeat(300);
  const target = await sent(ch, bob, long);
  const r = await sent(ch, alice, { content: 'agreed', reply_to: target.id });
  assert.deepEqual(r.reply_to, { id: target.id, author_username: bob.username, content: 'y'.repeat(200) });
  const elsewhere = await sent(other, bob, 'elsewhere');
  expectProblem(await send(ch, alice, { content: 'x', reply_to: elsewhere.id }), 422, { field: 'reply_to' });
  expectProblem(await send(ch, alice, { content: 'x', reply_to: '999' }), 422, { field: 'reply_to' });
  expectProblem(await send(ch, alice, { content: 'x', reply_to: 'abc' }), 422, { field: 'reply_to' });
  expectStatus(await s.api('DELETE', `${API}/messages/${target.id}`, undefined, tok(bob)), 204);
  assert.equal((await find(ch, alice, r.id)).reply_to, null);
});

test('clip_id: a ready clip of mine, with ATTACH_CLIPS; rendered with signed URLs', async () => {
  const ch = await fx.channel(com);
  await s.withClip(alice);
  const m = await sent(ch, alice, { content: 'look at this', clip_id: alice.clip.id });
  assertMessage(m);
  assert.equal(m.clip.id, alice.clip.id);
  assert.ok(m.clip.width > 0 && m.clip.height > 0);
  assert.match(m.clip.playback_url, new RegExp(`^/api/v2/clips/${alice.clip.id}/file\\?exp=\\d+&sig=`));
  const f = await s.srv.fetch(m.clip.playback_url, { headers: { Range: 'bytes=0-15' } });
  assert.ok(f.status === 200 || f.status === 206, `playback ${f.status}`);
  // someone else's clip, an unknown one
  expectProblem(await send(ch, bob, { content: 'mine now', clip_id: alice.clip.id }), 422, { field: 'clip_id' });
  expectProblem(await send(ch, bob, { content: 'x', clip_id: '12345' }), 422, { field: 'clip_id' });
  expectProblem(await send(ch, bob, { content: 'x', clip_id: 'nope' }), 422, { field: 'clip_id' });
  await fx.overwrite(ch, 'member', alice.user.id, 0n, ATTACH_CLIPS);
  const p = expectProblem(await send(ch, alice, { content: 'again', clip_id: alice.clip.id }), 403, { code: 'missing_permission' });
  assert.match(p.detail, /ATTACH_CLIPS/);
});

// ==== editing and deleting ====

test('PATCH /messages/{id}: the author only; edited_at set; MESSAGE_UPDATE shape', async () => {
  const ch = await fx.channel(com);
  const m = await sent(ch, alice, 'frist');
  expectProblem(await s.api('PATCH', `${API}/messages/${m.id}`, { content: 'mine' }, tok(bob)), 403);
  expectProblem(await s.api('PATCH', `${API}/messages/${m.id}`, { content: 'owner' }, tok(owner)), 403);
  expectProblem(await s.api('PATCH', `${API}/messages/${m.id}`, { content: '  ' }, tok(alice)), 422, { field: 'content' });
  expectProblem(await s.api('PATCH', `${API}/messages/${m.id}`, { content: 'x' }, tok(eve)), 404, { code: 'message_not_found' });
  expectProblem(await s.api('PATCH', `${API}/messages/77777`, { content: 'x' }, tok(alice)), 404, { code: 'message_not_found' });
  const r = expectStatus(await s.api('PATCH', `${API}/messages/${m.id}`, { content: `first @${bob.username}` }, tok(alice)), 200);
  assertMessage(r);
  assert.equal(r.content, `first @${bob.username}`);
  assert.match(r.edited_at, ISO);
  assert.deepEqual(r.mentions, [bob.user.id]);
  assert.equal(r.created_at, m.created_at);
  assert.equal((await find(ch, bob, m.id)).content, r.content);
});

test('DELETE /messages/{id}: the author, or MANAGE_MESSAGES (audited); 204', async () => {
  const ch = await fx.channel(com);
  const mine = await sent(ch, alice, 'oops');
  expectProblem(await s.api('DELETE', `${API}/messages/${mine.id}`, undefined, tok(bob)), 403, { code: 'missing_permission' });
  expectStatus(await s.api('DELETE', `${API}/messages/${mine.id}`, undefined, tok(alice)), 204);
  expectProblem(await s.api('DELETE', `${API}/messages/${mine.id}`, undefined, tok(alice)), 404, { code: 'message_not_found' });
  assert.equal(await find(ch, alice, mine.id), undefined);
  assert.equal((await fx.audit(com)).filter((a) => a.action === 'message_delete' && a.target_id === mine.id).length, 0, 'an author\'s own delete is not audited');

  const spam = await sent(ch, alice, 'spam');
  const p = expectProblem(await s.api('DELETE', `${API}/messages/${spam.id}`, undefined, tok(bob)), 403, { code: 'missing_permission' });
  assert.match(p.detail, /MANAGE_MESSAGES/);
  await fx.role(com, bob, MANAGE_MESSAGES);
  expectStatus(await s.api('DELETE', `${API}/messages/${spam.id}`, undefined, tok(bob)), 204);
  const entry = (await fx.audit(com)).find((a) => a.action === 'message_delete' && a.target_id === spam.id);
  assert.ok(entry, 'the moderator\'s delete is audited');
  assert.equal(entry.actor_id, bob.user.id);
});

// ==== reactions ====

test('reactions: PUT idempotent, DELETE mine only; {emoji, count, me}; URL-decoded emoji', async () => {
  const ch = await fx.channel(com);
  const m = await sent(ch, alice, 'gg');
  expectStatus(await react(m.id, bob, '👍'), 204);
  expectStatus(await react(m.id, bob, '👍'), 204);
  expectStatus(await react(m.id, alice, '👍'), 204);
  await sleep(5); // reactions are listed by first use
  expectStatus(await react(m.id, alice, '100%'), 204);
  let got = await find(ch, bob, m.id);
  assert.deepEqual(got.reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '100%', count: 1, me: false }]);
  got = await find(ch, carol, m.id);
  assert.deepEqual(got.reactions.map((r) => r.me), [false, false]);
  // removing takes only mine
  expectStatus(await react(m.id, bob, '100%', 'DELETE'), 204);
  expectStatus(await react(m.id, bob, '👍', 'DELETE'), 204);
  expectStatus(await react(m.id, bob, '👍', 'DELETE'), 204);
  got = await find(ch, alice, m.id);
  assert.deepEqual(got.reactions, [{ emoji: '👍', count: 1, me: true }, { emoji: '100%', count: 1, me: true }]);

  for (const bad of ['a b', 'x'.repeat(33), 'tab\there']) {
    expectProblem(await react(m.id, bob, bad), 422, { code: 'invalid_emoji' }, JSON.stringify(bad));
  }
  expectProblem(await react(m.id, eve, '👍'), 404, { code: 'message_not_found' });
  expectProblem(await react('88888', bob, '👍'), 404, { code: 'message_not_found' });

  await fx.overwrite(ch, 'member', carol.user.id, 0n, ADD_REACTIONS);
  const p = expectProblem(await react(m.id, carol, '👍'), 403, { code: 'missing_permission' });
  assert.match(p.detail, /ADD_REACTIONS/);
});

test('reactions: at most 20 distinct emoji per message (409 too_many_reactions)', async () => {
  const ch = await fx.channel(com);
  const m = await sent(ch, alice, 'react away');
  for (let i = 0; i < 20; i++) expectStatus(await react(m.id, alice, `e${i}`), 204, `emoji ${i}`);
  expectProblem(await react(m.id, bob, 'e20'), 409, { code: 'too_many_reactions' });
  expectStatus(await react(m.id, bob, 'e3'), 204, 'an existing one is fine');
  const got = await find(ch, bob, m.id);
  assert.equal(got.reactions.length, 20);
  assert.deepEqual(got.reactions.find((r) => r.emoji === 'e3'), { emoji: 'e3', count: 2, me: true });
});

// ==== pins ====

test('pins: MANAGE_MESSAGES; PUT/DELETE 204; GET /channels/{id}/pins', async () => {
  const ch = await fx.channel(com);
  const a = await sent(ch, alice, 'rules'), b = await sent(ch, alice, 'faq');
  const p = expectProblem(await s.api('PUT', `${API}/messages/${a.id}/pin`, undefined, tok(alice)), 403, { code: 'missing_permission' });
  assert.match(p.detail, /MANAGE_MESSAGES/);
  expectStatus(await s.api('PUT', `${API}/messages/${a.id}/pin`, undefined, tok(owner)), 204);
  expectStatus(await s.api('PUT', `${API}/messages/${a.id}/pin`, undefined, tok(owner)), 204);
  expectStatus(await s.api('PUT', `${API}/messages/${b.id}/pin`, undefined, tok(owner)), 204);
  let pins = expectStatus(await s.api('GET', `${API}/channels/${ch}/pins`, undefined, tok(carol)), 200);
  assert.deepEqual(pins.items.map((m) => m.id), [a.id, b.id]);
  pins.items.forEach(assertMessage);
  assert.ok(pins.items.every((m) => m.pinned));
  expectStatus(await s.api('DELETE', `${API}/messages/${a.id}/pin`, undefined, tok(owner)), 204);
  pins = expectStatus(await s.api('GET', `${API}/channels/${ch}/pins`, undefined, tok(carol)), 200);
  assert.deepEqual(pins.items.map((m) => m.id), [b.id]);
  assert.equal((await find(ch, alice, a.id)).pinned, false);
  expectProblem(await s.api('GET', `${API}/channels/${ch}/pins`, undefined, tok(eve)), 404, { code: 'channel_not_found' });
});

// ==== read state ====

test('POST /channels/{id}/ack: 204, never backwards; last_read_id', async () => {
  const ch = await fx.channel(com);
  const a = await sent(ch, bob, 'one'), b = await sent(ch, bob, 'two');
  const ack = (u, message_id) => s.api('POST', `${API}/channels/${ch}/ack`, { message_id }, tok(u));
  expectStatus(await ack(alice, b.id), 204);
  assert.equal(await fx.lastRead(com, ch, alice), b.id);
  expectStatus(await ack(alice, a.id), 204);
  assert.equal(await fx.lastRead(com, ch, alice), b.id, 'never backwards');
  expectProblem(await ack(alice, (BigInt(b.id) + 1000n).toString()), 422, { field: 'message_id' });
  expectProblem(await ack(alice, 'abc'), 422, { field: 'message_id' });
  expectProblem(await s.api('POST', `${API}/channels/${ch}/ack`, {}, tok(alice)), 422, { field: 'message_id' });
  expectProblem(await ack(eve, a.id), 404, { code: 'channel_not_found' });
});

// ==== rate limit ====

test('5 messages per 5 s per user and channel: the 6th is 429', async () => {
  const ch = await fx.channel(com), other = await fx.channel(com);
  for (let i = 0; i < 5; i++) await sent(ch, carol, `burst ${i}`);
  const r = await send(ch, carol, 'one too many');
  expectProblem(r, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  await sent(other, carol, 'another channel has its own budget');
  await sent(ch, bob, 'another user too');
});

// ==== gateway events ====

test('gateway: MESSAGE_* and REACTION_* reach the members who may view the channel, once per change', async () => {
  const ch = await fx.channel(com), hidden = await fx.channel(com);
  await fx.overwrite(hidden, 'member', carol.user.id, 0n, VIEW_CHANNEL);
  const gws = [];
  const connect = async (u) => { const gw = await openGateway(s.srv); gws.push(gw); await gw.identify(u.access_token); return gw; };
  try {
    const gb = await connect(bob), gc = await connect(carol), ge = await connect(eve);
    const dispatch = (t, pred) => (f) => f.op === 'dispatch' && f.t === t && pred(f.d);

    const m = await sent(ch, alice, 'live');
    const created = await gb.next(dispatch('MESSAGE_CREATE', (d) => d.id === m.id));
    assertMessage(created.d);
    assert.deepEqual(created.d, m);
    await gc.next(dispatch('MESSAGE_CREATE', (d) => d.id === m.id));

    expectStatus(await react(m.id, bob, '👍'), 204);
    expectStatus(await react(m.id, bob, '👍'), 204);
    const added = await gc.next(dispatch('REACTION_ADD', (d) => d.message_id === m.id));
    assert.deepEqual(added.d, { message_id: m.id, channel_id: ch, community_id: com.id, user_id: bob.user.id, emoji: '👍' });
    expectStatus(await react(m.id, bob, '👍', 'DELETE'), 204);
    const removed = await gc.next(dispatch('REACTION_REMOVE', (d) => d.message_id === m.id));
    assert.deepEqual(removed.d, added.d);
    assert.equal(gc.dispatches('REACTION_ADD').filter((f) => f.d.message_id === m.id).length, 1, 'an idempotent PUT publishes nothing');

    expectStatus(await s.api('PATCH', `${API}/messages/${m.id}`, { content: 'live!' }, tok(alice)), 200);
    const edited = await gb.next(dispatch('MESSAGE_UPDATE', (d) => d.id === m.id));
    assert.equal(edited.d.content, 'live!');
    assert.match(edited.d.edited_at, ISO);
    expectStatus(await s.api('PUT', `${API}/messages/${m.id}/pin`, undefined, tok(owner)), 204);
    const pinned = await gb.next(dispatch('MESSAGE_UPDATE', (d) => d.id === m.id && d.pinned));
    assertMessage(pinned.d);
    expectStatus(await s.api('DELETE', `${API}/messages/${m.id}`, undefined, tok(alice)), 204);
    const deleted = await gc.next(dispatch('MESSAGE_DELETE', (d) => d.id === m.id));
    assert.deepEqual(deleted.d, { id: m.id, channel_id: ch, community_id: com.id });

    // a channel carol cannot view: bob hears of it, carol does not; eve (not a member) hears nothing
    const secret = await sent(hidden, owner, 'staff only');
    await gb.next(dispatch('MESSAGE_CREATE', (d) => d.id === secret.id));
    await gc.none(dispatch('MESSAGE_CREATE', (d) => d.id === secret.id));
    await ge.none((f) => f.op === 'dispatch' && /^(MESSAGE|REACTION)_/.test(f.t));
  } finally {
    await Promise.all(gws.map((gw) => gw.close()));
  }
});
