// Notifications: like, comment, reply, follow and @mention each notify the
// right user (never for acting on your own post); unread counts and marking read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { socialServer, API, expectStatus, expectProblem, assertUserSummary, isId, ISO, walk, eventually } from '../../lib/social.mjs';

let s;
before(async () => { s = await socialServer(); });
after(async () => { await s.stop(); });

const inbox = async (u, q = 'limit=50') => expectStatus(await s.api('GET', `${API}/notifications?${q}`, undefined, { token: u.access_token }), 200, `notifications of ${u.username}`);

function assertNotification(n) {
  for (const k of ['id', 'kind', 'actor', 'post', 'comment', 'created_at', 'read']) assert.ok(k in n, `${k} missing: ${JSON.stringify(n)}`);
  assert.ok(isId(n.id));
  assert.ok(['like', 'comment', 'reply', 'follow', 'mention'].includes(n.kind), n.kind);
  assertUserSummary(n.actor);
  if (n.post !== null) { assert.ok(isId(n.post.id)); assert.equal(typeof n.post.title, 'string'); }
  if (n.comment !== null) { assert.ok(isId(n.comment.id)); assert.equal(typeof n.comment.body, 'string'); }
  assert.match(n.created_at, ISO);
  assert.equal(typeof n.read, 'boolean');
}

/** Waits until u has a notification matching pred; returns it. */
async function expectNotification(u, pred, what) {
  return eventually(async () => {
    const box = await inbox(u);
    box.items.forEach(assertNotification);
    const n = box.items.find(pred);
    assert.ok(n, `${what}: not in ${JSON.stringify(box.items.map((x) => [x.kind, x.actor.username]))}`);
    return n;
  });
}

test('a like notifies the post owner with actor and post', async () => {
  const owner = await s.author();
  const fan = await s.user();
  const p = await s.post(owner, { title: 'like me' });
  expectStatus(await s.like(p.id, fan), 200);
  const n = await expectNotification(owner, (x) => x.kind === 'like', 'like');
  assert.equal(n.actor.id, fan.user.id);
  assert.equal(n.actor.username, fan.username);
  assert.deepEqual(n.post, { id: p.id, title: 'like me' });
  assert.equal(n.comment, null);
  assert.equal(n.read, false);
  assert.equal((await inbox(fan)).items.length, 0, 'the liker is not notified');
});

test('a comment notifies the post owner; a reply notifies the comment author', async () => {
  const owner = await s.author();
  const [x, y] = await s.users(2);
  const p = await s.post(owner, { title: 'talk' });
  const c = expectStatus(await s.comment(p.id, x, { body: 'first!' }), 201);
  const n = await expectNotification(owner, (k) => k.kind === 'comment', 'comment');
  assert.equal(n.actor.id, x.user.id);
  assert.deepEqual(n.post, { id: p.id, title: 'talk' });
  assert.deepEqual(n.comment, { id: c.id, body: 'first!' });
  const r = expectStatus(await s.comment(p.id, y, { body: 'no, me', reply_to: c.id }), 201);
  const m = await expectNotification(x, (k) => k.kind === 'reply', 'reply');
  assert.equal(m.actor.id, y.user.id);
  assert.deepEqual(m.comment, { id: r.id, body: 'no, me' });
  assert.equal(m.post.id, p.id);
  // y did nothing to be notified about
  assert.equal((await inbox(y)).items.length, 0);
});

test('a follow notifies the followed user, with no post or comment', async () => {
  const [a, b] = await s.users(2);
  expectStatus(await s.follow(a, b), 200);
  const n = await expectNotification(b, (k) => k.kind === 'follow', 'follow');
  assert.equal(n.actor.id, a.user.id);
  assert.equal(n.post, null);
  assert.equal(n.comment, null);
  assert.equal((await inbox(a)).items.length, 0);
});

test('an @mention in a comment notifies the mentioned user', async () => {
  const owner = await s.author();
  const [writer, named, bystander] = await s.users(3);
  const p = await s.post(owner, { title: 'mention' });
  const c = expectStatus(await s.comment(p.id, writer, { body: `nice flick @${named.username}!` }), 201);
  const n = await expectNotification(named, (k) => k.kind === 'mention', 'mention');
  assert.equal(n.actor.id, writer.user.id);
  assert.equal(n.post.id, p.id);
  assert.deepEqual(n.comment, { id: c.id, body: `nice flick @${named.username}!` });
  // the owner got a comment notification, the bystander nothing
  await expectNotification(owner, (k) => k.kind === 'comment' && k.comment.id === c.id, 'comment');
  assert.equal((await inbox(bystander)).items.length, 0);
  // a mention of nobody in particular is harmless
  expectStatus(await s.comment(p.id, writer, { body: 'hi @nobody_at_all_zz and @' }), 201);
});

test('acting on your own post notifies nobody', async () => {
  const owner = await s.author();
  const other = await s.user();
  const p = await s.post(owner, { title: 'mine' });
  expectStatus(await s.like(p.id, owner), 200);
  const c = expectStatus(await s.comment(p.id, owner, { body: `my own @${owner.username}` }), 201);
  expectStatus(await s.comment(p.id, owner, { body: 'replying to myself', reply_to: c.id }), 201);
  expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: owner.access_token }), 200);
  // then something that does notify, so we know the server has caught up
  expectStatus(await s.like(p.id, other), 200);
  await expectNotification(owner, (k) => k.kind === 'like' && k.actor.id === other.user.id, 'like by other');
  const box = await inbox(owner);
  assert.deepEqual(box.items.map((k) => [k.kind, k.actor.username]), [['like', other.username]]);
  assert.equal(box.unread_count, 1);
});

test('unread_count; mark read by ids, then all; ?unread=1; pagination', async () => {
  const owner = await s.author();
  const fans = await s.users(5);
  const p = await s.post(owner);
  for (const f of fans) expectStatus(await s.like(p.id, f), 200);
  const box = await eventually(async () => { const b = await inbox(owner); assert.equal(b.items.length, 5); return b; });
  assert.equal(box.unread_count, 5);
  assert.ok(box.items.every((n) => n.read === false));
  // newest first
  assert.deepEqual(box.items.map((n) => n.actor.id), fans.map((f) => f.user.id).reverse());
  const paged = await walk(s.srv, `${API}/notifications`, owner.access_token, { limit: 2 });
  assert.deepEqual(paged.map((n) => n.id), box.items.map((n) => n.id));
  // read two by id
  const two = box.items.slice(1, 3).map((n) => n.id);
  let r = expectStatus(await s.api('POST', `${API}/notifications/read`, { ids: two }, { token: owner.access_token }), 200, 'read ids');
  assert.deepEqual(r, { unread_count: 3 });
  let now = await inbox(owner);
  assert.equal(now.unread_count, 3);
  for (const n of now.items) assert.equal(n.read, two.includes(n.id), n.id);
  const unread = await inbox(owner, 'unread=1&limit=50');
  assert.deepEqual(unread.items.map((n) => n.id), box.items.map((n) => n.id).filter((id) => !two.includes(id)));
  assert.equal(unread.unread_count, 3);
  // reading again is harmless
  r = expectStatus(await s.api('POST', `${API}/notifications/read`, { ids: two }, { token: owner.access_token }), 200);
  assert.equal(r.unread_count, 3);
  // all
  r = expectStatus(await s.api('POST', `${API}/notifications/read`, { all: true }, { token: owner.access_token }), 200, 'read all');
  assert.deepEqual(r, { unread_count: 0 });
  now = await inbox(owner);
  assert.equal(now.unread_count, 0);
  assert.ok(now.items.every((n) => n.read === true));
  assert.equal(now.items.length, 5, 'read notifications are still listed');
  assert.deepEqual((await inbox(owner, 'unread=1')).items, []);
});

test("marking someone else's notifications read does nothing to them", async () => {
  const owner = await s.author();
  const [fan, snoop] = await s.users(2);
  const p = await s.post(owner);
  expectStatus(await s.like(p.id, fan), 200);
  const n = await expectNotification(owner, (k) => k.kind === 'like', 'like');
  const r = await s.api('POST', `${API}/notifications/read`, { ids: [n.id] }, { token: snoop.access_token });
  assert.ok([200, 404, 422].includes(r.status), String(r.status));
  const box = await inbox(owner);
  assert.equal(box.unread_count, 1);
  assert.equal(box.items[0].read, false);
});

test('notifications need a sign-in and validate their input', async () => {
  const u = await s.user();
  expectStatus(await s.api('GET', `${API}/notifications`), 401, 'anonymous list');
  expectStatus(await s.api('POST', `${API}/notifications/read`, { all: true }), 401, 'anonymous read');
  for (const body of [{ ids: 'abc' }, { ids: [1, 2] }, { all: 'yes' }]) {
    const r = await s.api('POST', `${API}/notifications/read`, body, { token: u.access_token });
    assert.equal(r.status, 422, `${JSON.stringify(body)} → ${r.status}`);
  }
  for (const q of ['limit=0', 'limit=51', 'limit=abc']) {
    expectProblem(await s.api('GET', `${API}/notifications?${q}`, undefined, { token: u.access_token }), 422, { field: 'limit' }, q);
  }
  const empty = await inbox(u);
  assert.deepEqual(empty, { items: [], next_cursor: null, unread_count: 0 });
});
