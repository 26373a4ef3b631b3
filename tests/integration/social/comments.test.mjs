// Comments: shape, validation, one level of replies, timestamps within the
// clip, pagination, who may delete, and the post's comment_count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { socialServer, API, expectStatus, expectProblem, assertUserSummary, isId, ISO, walk, CLIP_END_S, CLIP_START_S } from '../../lib/social.mjs';

// The server limits comments per user (10 at once, then 30 a minute), so each
// test comments as fresh users.
let s, owner;
before(async () => {
  s = await socialServer();
  owner = await s.author();
});
after(async () => { await s.stop(); });

const count = async (id) => expectStatus(await s.getPost(id, owner), 200).comment_count;
const list = async (id, u, q = 'limit=50') => expectStatus(await s.api('GET', `${API}/posts/${id}/comments?${q}`, undefined, { token: u?.access_token }), 200, 'list comments');

function assertComment(c, { replies = true } = {}) {
  // a reply is a "comment without replies": reply_count and replies may be left out of it
  const keys = ['id', 'post_id', 'author', 'body', 'reply_to', 'at_s', 'created_at'];
  if (replies) keys.push('reply_count');
  for (const k of keys) assert.ok(k in c, `${k} missing: ${JSON.stringify(c)}`);
  assert.ok(isId(c.id));
  assert.ok(isId(c.post_id));
  assertUserSummary(c.author);
  assert.equal(typeof c.body, 'string');
  assert.ok(c.reply_to === null || isId(c.reply_to));
  assert.ok(c.at_s === null || typeof c.at_s === 'number');
  assert.match(c.created_at, ISO);
  if (replies) assert.ok(Number.isInteger(c.reply_count) && c.reply_count >= 0);
  else assert.ok(c.reply_count === undefined || c.reply_count === 0, JSON.stringify(c));
  if (replies) {
    assert.ok(Array.isArray(c.replies), `replies: ${JSON.stringify(c)}`);
    for (const r of c.replies) { assertComment(r, { replies: false }); assert.equal(r.replies, undefined, 'a reply has no replies'); }
  }
}

test('POST /posts/{id}/comments: 201 with the contract shape; listed; comment_count follows', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const r = await s.comment(p.id, alice, { body: 'nice flick', at_s: 1.5 });
  const c = expectStatus(r, 201, 'comment');
  assertComment(c);
  assert.equal(c.post_id, p.id);
  assert.equal(c.author.id, alice.user.id);
  assert.equal(c.author.username, alice.username);
  assert.equal(c.body, 'nice flick');
  assert.equal(c.reply_to, null);
  assert.equal(c.at_s, 1.5);
  assert.equal(c.reply_count, 0);
  assert.deepEqual(c.replies, []);
  const c2 = expectStatus(await s.comment(p.id, bob, { body: 'no timestamp' }), 201);
  assert.equal(c2.at_s, null);
  assert.equal(await count(p.id), 2);
  const l = await list(p.id);
  assert.deepEqual(l.items.map((x) => x.id), [c2.id, c.id], 'newest top-level first');
  assert.equal(l.next_cursor, null);
  l.items.forEach((x) => assertComment(x));
  assert.equal(l.items[1].body, 'nice flick');
  assert.equal(l.items[1].at_s, 1.5);
  expectStatus(await s.comment(p.id, { access_token: undefined }, { body: 'anon' }), 401, 'anonymous');
  assert.equal(await count(p.id), 2);
});

test('comment body: 1–2000 characters, a string', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  for (const [body, what] of [[{ body: '' }, 'empty'], [{ body: 'x'.repeat(2001) }, '2001'], [{}, 'missing'], [{ body: 5 }, 'number'], [{ body: null }, 'null']]) {
    expectProblem(await s.comment(p.id, alice, body), 422, { field: 'body' }, what);
  }
  const long = expectStatus(await s.comment(p.id, alice, { body: 'é'.repeat(2000) }), 201, '2000 characters');
  assert.equal(long.body, 'é'.repeat(2000));
  assert.equal(await count(p.id), 1);
});

test('at_s must lie within the clip', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const dur = CLIP_END_S - CLIP_START_S;
  for (const at_s of [dur + 5, 1000, -1, '1', true]) {
    expectProblem(await s.comment(p.id, alice, { body: 'when?', at_s }), 422, { field: 'at_s' }, JSON.stringify(at_s));
  }
  const zero = expectStatus(await s.comment(p.id, alice, { body: 'start', at_s: 0 }), 201);
  assert.equal(zero.at_s, 0);
  const end = expectStatus(await s.comment(p.id, alice, { body: 'near the end', at_s: dur - 0.5 }), 201);
  assert.equal(end.at_s, dur - 0.5);
  assert.equal(await count(p.id), 2);
});

test('comments on unknown, deleted and invisible posts are 404', async () => {
  const [alice, bob] = await s.users(2);
  expectStatus(await s.comment('999999999999', alice, { body: 'x' }), 404, 'unknown');
  const priv = await s.post(owner, { visibility: 'private' });
  expectStatus(await s.comment(priv.id, alice, { body: 'x' }), 404, 'private');
  expectStatus(await s.api('GET', `${API}/posts/${priv.id}/comments`, undefined, { token: alice.access_token }), 404, 'list on private');
  const fol = await s.post(owner, { visibility: 'followers' });
  expectStatus(await s.comment(fol.id, alice, { body: 'x' }), 404, 'followers-only, not following');
  const gone = await s.post(owner);
  expectStatus(await s.api('DELETE', `${API}/posts/${gone.id}`, undefined, { token: owner.access_token }), 204);
  expectStatus(await s.comment(gone.id, alice, { body: 'x' }), 404, 'deleted');
  expectStatus(await s.api('GET', `${API}/posts/${gone.id}/comments`), 404, 'list on deleted');
  assert.equal(await count(priv.id), 0);
});

test('replies: one level; replying to a reply attaches to the top-level comment; oldest first', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const top = expectStatus(await s.comment(p.id, alice, { body: 'top' }), 201);
  const r1 = expectStatus(await s.comment(p.id, bob, { body: 'reply 1', reply_to: top.id }), 201, 'reply');
  assertComment(r1, { replies: false });
  assert.equal(r1.reply_to, top.id);
  const r2 = expectStatus(await s.comment(p.id, owner, { body: 'reply to the reply', reply_to: r1.id }), 201, 'reply to reply');
  assert.equal(r2.reply_to, top.id, 'attached to the top-level comment');
  const l = await list(p.id);
  assert.equal(l.items.length, 1, 'replies are not top-level items');
  const t = l.items[0];
  assertComment(t);
  assert.equal(t.id, top.id);
  assert.equal(t.reply_count, 2);
  assert.deepEqual(t.replies.map((x) => x.id), [r1.id, r2.id]);
  assert.ok(t.replies.every((x) => x.reply_to === top.id));
  assert.equal(t.replies[1].body, 'reply to the reply');
});

test('reply_to must be a comment of the same post', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const q = await s.post(owner);
  const other = expectStatus(await s.comment(q.id, alice, { body: 'on q' }), 201);
  for (const reply_to of [other.id, '999999999999', 'abc']) {
    const r = await s.comment(p.id, bob, { body: 'cross-post reply', reply_to });
    assert.ok(r.status >= 400 && r.status < 500, `${reply_to}: ${r.status}`);
    assert.ok([404, 422].includes(r.status), `${reply_to}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal(await count(p.id), 0);
  assert.equal((await list(p.id)).items.length, 0);
  const ql = await list(q.id);
  assert.equal(ql.items[0].reply_count, 0);
});

test('GET comments pages with a cursor: all seen, none twice, newest first', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const made = [];
  for (let i = 0; i < 8; i++) made.push(expectStatus(await s.comment(p.id, i % 2 ? alice : bob, { body: `c${i}` }), 201));
  // a reply, which must not show up as a top-level item
  expectStatus(await s.comment(p.id, owner, { body: 'r', reply_to: made[3].id }), 201);
  const all = await walk(s.srv, `${API}/posts/${p.id}/comments`, undefined, { limit: 3 });
  assert.deepEqual(all.map((c) => c.id), made.map((c) => c.id).reverse());
  assert.equal(all.find((c) => c.id === made[3].id).reply_count, 1);
  // comments added while paging do not repeat what was seen
  const seen = await walk(s.srv, `${API}/posts/${p.id}/comments`, alice.access_token, {
    limit: 2,
    between: async () => { expectStatus(await s.comment(p.id, (await s.users(1))[0], { body: 'meanwhile' }), 201); },
  });
  for (const c of made) assert.ok(seen.some((x) => x.id === c.id), `comment ${c.id} missing`);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=51', 'limit'], ['limit=abc', 'limit']]) {
    expectProblem(await s.api('GET', `${API}/posts/${p.id}/comments?${q}`), 422, { field }, q);
  }
});

test('DELETE /comments/{id}: the author and the post owner may; a third user is refused and nothing changes', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const a = expectStatus(await s.comment(p.id, alice, { body: 'by alice' }), 201);
  const b = expectStatus(await s.comment(p.id, bob, { body: 'by bob' }), 201);
  const c = expectStatus(await s.comment(p.id, alice, { body: 'another by alice' }), 201);
  assert.equal(await count(p.id), 3);
  // bob is neither the author of a nor the owner of the post
  expectProblem(await s.api('DELETE', `${API}/comments/${a.id}`, undefined, { token: bob.access_token }), 403, {}, 'third user');
  expectStatus(await s.api('DELETE', `${API}/comments/${a.id}`), 401, 'anonymous');
  assert.equal(await count(p.id), 3);
  assert.deepEqual((await list(p.id)).items.map((x) => x.id), [c.id, b.id, a.id]);
  // the author
  expectStatus(await s.api('DELETE', `${API}/comments/${a.id}`, undefined, { token: alice.access_token }), 204, 'author');
  assert.equal(await count(p.id), 2);
  // the post owner, on someone else's comment
  expectStatus(await s.api('DELETE', `${API}/comments/${b.id}`, undefined, { token: owner.access_token }), 204, 'post owner');
  assert.equal(await count(p.id), 1);
  assert.deepEqual((await list(p.id)).items.map((x) => x.id), [c.id]);
  expectStatus(await s.api('DELETE', `${API}/comments/${a.id}`, undefined, { token: alice.access_token }), 404, 'second delete');
  expectStatus(await s.api('DELETE', `${API}/comments/999999999999`, undefined, { token: alice.access_token }), 404, 'unknown');
  // a moderator may too
  const mod = await s.staff('moderator');
  expectStatus(await s.api('DELETE', `${API}/comments/${c.id}`, undefined, { token: mod.access_token }), 204, 'moderator');
  assert.equal(await count(p.id), 0);
  assert.deepEqual((await list(p.id)).items, []);
});

test('deleting a top-level comment takes its replies with it; comment_count comes back to where it was', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const keep = expectStatus(await s.comment(p.id, bob, { body: 'stays' }), 201);
  const before = await count(p.id);
  const top = expectStatus(await s.comment(p.id, alice, { body: 'parent' }), 201);
  const r1 = expectStatus(await s.comment(p.id, bob, { body: 'child 1', reply_to: top.id }), 201);
  expectStatus(await s.comment(p.id, owner, { body: 'child 2', reply_to: top.id }), 201);
  assert.ok(await count(p.id) > before);
  expectStatus(await s.api('DELETE', `${API}/comments/${top.id}`, undefined, { token: alice.access_token }), 204);
  assert.equal(await count(p.id), before);
  const l = await list(p.id);
  assert.deepEqual(l.items.map((x) => x.id), [keep.id]);
  expectStatus(await s.api('DELETE', `${API}/comments/${r1.id}`, undefined, { token: bob.access_token }), 404, 'the reply went with its parent');
  // deleting one reply: the parent's reply_count follows
  // (whether replies count in comment_count is the server's choice; it must be consistent)
  const t2 = expectStatus(await s.comment(p.id, alice, { body: 'parent 2' }), 201);
  const c1 = await count(p.id);
  const x1 = expectStatus(await s.comment(p.id, bob, { body: 'x1', reply_to: t2.id }), 201);
  const perReply = (await count(p.id)) - c1;
  assert.ok(perReply === 0 || perReply === 1, String(perReply));
  expectStatus(await s.comment(p.id, bob, { body: 'x2', reply_to: t2.id }), 201);
  assert.equal(await count(p.id), c1 + 2 * perReply);
  expectStatus(await s.api('DELETE', `${API}/comments/${x1.id}`, undefined, { token: bob.access_token }), 204);
  assert.equal(await count(p.id), c1 + perReply);
  const t = (await list(p.id)).items.find((x) => x.id === t2.id);
  assert.equal(t.reply_count, 1);
  assert.deepEqual(t.replies.map((x) => x.body), ['x2']);
});

test('deleting the post takes its comments with it', async () => {
  const [alice, bob] = await s.users(2);
  const p = await s.post(owner);
  const c = expectStatus(await s.comment(p.id, alice, { body: 'doomed' }), 201);
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: owner.access_token }), 204);
  expectStatus(await s.api('DELETE', `${API}/comments/${c.id}`, undefined, { token: alice.access_token }), 404, 'comment of a deleted post');
});

test('replies: up to 50 are embedded, oldest first; reply_count counts them all', async () => {
  const p = await s.post(owner);
  const repliers = await s.users(7);
  const top = expectStatus(await s.comment(p.id, repliers[0], { body: 'top' }), 201);
  const made = [];
  // (6 repliers, 9 replies each at most: under the per-user comment limit)
  for (let i = 0; i < 52; i++) made.push(expectStatus(await s.comment(p.id, repliers[1 + (i % 6)], { body: `r${i}`, reply_to: top.id }), 201).id);
  const t = (await list(p.id)).items[0];
  assert.equal(t.id, top.id);
  assert.equal(t.reply_count, 52);
  assert.deepEqual(t.replies.map((x) => x.id), made.slice(0, 50));
});
