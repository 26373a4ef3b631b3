// Likes, shares and views: idempotence, counts read back, per-viewer state,
// deleted and hidden posts, and likes under concurrency.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { socialServer, API, expectStatus, expectProblem } from '../../lib/social.mjs';

let s, owner, fan, other;
before(async () => {
  s = await socialServer();
  owner = await s.author();
  [fan, other] = await s.users(2);
});
after(async () => { await s.stop(); });

test('PUT /posts/{id}/like is idempotent and DELETE undoes it; counts and liked_by_me read back', async () => {
  const p = await s.post(owner);
  let r = expectStatus(await s.like(p.id, fan), 200, 'like');
  assert.deepEqual(r, { liked: true, like_count: 1 });
  r = expectStatus(await s.like(p.id, fan), 200, 'like again');
  assert.deepEqual(r, { liked: true, like_count: 1 });
  r = expectStatus(await s.like(p.id, other), 200, 'second user');
  assert.deepEqual(r, { liked: true, like_count: 2 });
  let g = expectStatus(await s.getPost(p.id, fan), 200);
  assert.equal(g.like_count, 2);
  assert.equal(g.liked_by_me, true);
  g = expectStatus(await s.getPost(p.id, owner), 200);
  assert.equal(g.liked_by_me, false);
  g = expectStatus(await s.getPost(p.id), 200);
  assert.equal(g.liked_by_me, false);
  assert.equal(g.like_count, 2);
  r = expectStatus(await s.unlike(p.id, fan), 200, 'unlike');
  assert.deepEqual(r, { liked: false, like_count: 1 });
  r = expectStatus(await s.unlike(p.id, fan), 200, 'unlike again');
  assert.deepEqual(r, { liked: false, like_count: 1 });
  g = expectStatus(await s.getPost(p.id, fan), 200);
  assert.equal(g.like_count, 1);
  assert.equal(g.liked_by_me, false);
  // never liked: DELETE is still fine and changes nothing
  const third = await s.user();
  r = expectStatus(await s.unlike(p.id, third), 200, 'unlike without a like');
  assert.deepEqual(r, { liked: false, like_count: 1 });
  // liked_by_me in lists too
  const list = expectStatus(await s.api('GET', `${API}/users/${owner.username}/posts?limit=50`, undefined, { token: other.access_token }), 200);
  assert.equal(list.items.find((x) => x.id === p.id).liked_by_me, true);
});

test('likes need a sign-in; unknown, deleted and invisible posts are 404', async () => {
  const p = await s.post(owner);
  expectStatus(await s.api('PUT', `${API}/posts/${p.id}/like`), 401, 'anonymous like');
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}/like`), 401, 'anonymous unlike');
  expectStatus(await s.like('999999999999', fan), 404, 'unknown');
  expectStatus(await s.like('abc', fan), 404, 'malformed');
  expectStatus(await s.like(p.id, fan), 200);
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: owner.access_token }), 204);
  expectStatus(await s.like(p.id, other), 404, 'like a deleted post');
  expectStatus(await s.unlike(p.id, fan), 404, 'unlike a deleted post');
  const priv = await s.post(owner, { visibility: 'private' });
  expectStatus(await s.like(priv.id, fan), 404, 'like a private post of someone else');
  const g = expectStatus(await s.getPost(priv.id, owner), 200);
  assert.equal(g.like_count, 0);
});

test('30 users like, unlike and like again at the same time: exactly 30 likes; all unlike at once: 0', async () => {
  const p = await s.post(owner, { title: 'concurrency' });
  const users = await s.users(30);
  const results = await Promise.all(users.map(async (u) => {
    const a = await s.like(p.id, u);
    const b = await s.unlike(p.id, u);
    const c = await s.like(p.id, u);
    return [a, b, c];
  }));
  for (const [a, b, c] of results) {
    expectStatus(a, 200, 'like');
    expectStatus(b, 200, 'unlike');
    expectStatus(c, 200, 'like again');
    assert.equal(a.body.liked, true);
    assert.equal(b.body.liked, false);
    assert.equal(c.body.liked, true);
    for (const x of [a, b, c]) assert.ok(x.body.like_count >= 0 && x.body.like_count <= 30, JSON.stringify(x.body));
  }
  let g = expectStatus(await s.getPost(p.id), 200);
  assert.equal(g.like_count, 30);
  // every user sees their own like
  const mine = await Promise.all(users.map((u) => s.getPost(p.id, u)));
  assert.ok(mine.every((x) => x.status === 200 && x.body.liked_by_me === true));
  // the idempotent PUT again from everyone changes nothing
  const again = await Promise.all(users.map((u) => s.like(p.id, u)));
  assert.ok(again.every((x) => x.status === 200 && x.body.liked === true && x.body.like_count === 30), JSON.stringify(again.map((x) => x.body)));
  const off = await Promise.all(users.map((u) => s.unlike(p.id, u)));
  for (const x of off) { expectStatus(x, 200, 'unlike'); assert.equal(x.body.liked, false); }
  assert.ok(off.some((x) => x.body.like_count === 0), 'the last unlike saw 0');
  g = expectStatus(await s.getPost(p.id), 200);
  assert.equal(g.like_count, 0);
  const none = await Promise.all(users.slice(0, 5).map((u) => s.getPost(p.id, u)));
  assert.ok(none.every((x) => x.body.liked_by_me === false));
});

test('POST /posts/{id}/share: a user counts once, another user adds one', async () => {
  const p = await s.post(owner);
  let r = expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: fan.access_token }), 200, 'share');
  assert.equal(r.share_count, 1);
  assert.equal(typeof r.url, 'string');
  // the path /p/{id}, or an absolute URL ending in it when COSMIV_PUBLIC_URL is set
  assert.ok(r.url === `/p/${p.id}` || /^https?:\/\/.+\/p\/\d+$/.test(r.url) && r.url.endsWith(`/p/${p.id}`), r.url);
  r = expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: fan.access_token }), 200, 'share again');
  assert.equal(r.share_count, 1);
  r = expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: other.access_token }), 200, 'other user');
  assert.equal(r.share_count, 2);
  assert.equal(expectStatus(await s.getPost(p.id), 200).share_count, 2);
  expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`), 401, 'anonymous');
  expectStatus(await s.api('POST', `${API}/posts/999999999999/share`, undefined, { token: fan.access_token }), 404, 'unknown');
  assert.equal(expectStatus(await s.getPost(p.id), 200).share_count, 2);
});

test('POST /posts/{id}/views: one view per viewer in the window; signed in and signed out', async () => {
  const p = await s.post(owner);
  const view = (u, body = { watched_s: 2 }) => s.api('POST', `${API}/posts/${p.id}/views`, body, { token: u?.access_token });
  let r = expectStatus(await view(fan), 200, 'first view');
  assert.deepEqual(r, { counted: true, view_count: 1 });
  r = expectStatus(await view(fan, { watched_s: 3 }), 200, 'second view, same viewer');
  assert.deepEqual(r, { counted: false, view_count: 1 });
  r = expectStatus(await view(other), 200, 'another viewer');
  assert.deepEqual(r, { counted: true, view_count: 2 });
  r = expectStatus(await view(undefined), 200, 'anonymous');
  assert.deepEqual(r, { counted: true, view_count: 3 });
  r = expectStatus(await view(undefined), 200, 'the same anonymous viewer');
  assert.deepEqual(r, { counted: false, view_count: 3 });
  assert.equal(expectStatus(await s.getPost(p.id), 200).view_count, 3);
});

test('POST /posts/{id}/views: watched_s must be a number of seconds from 0', async () => {
  const p = await s.post(owner);
  for (const body of [{ watched_s: -1 }, { watched_s: -0.5 }, { watched_s: '2' }, { watched_s: null }, { watched_s: [1] }, { watched_s: true }]) {
    expectProblem(await s.api('POST', `${API}/posts/${p.id}/views`, body, { token: fan.access_token }), 422, { field: 'watched_s' }, JSON.stringify(body));
  }
  expectStatus(await s.api('POST', `${API}/posts/999999999999/views`, { watched_s: 1 }, { token: fan.access_token }), 404, 'unknown post');
  const priv = await s.post(owner, { visibility: 'private' });
  expectStatus(await s.api('POST', `${API}/posts/${priv.id}/views`, { watched_s: 1 }, { token: fan.access_token }), 404, 'private post of someone else');
  // nothing was counted
  assert.equal(expectStatus(await s.getPost(p.id), 200).view_count, 0);
  assert.equal(expectStatus(await s.getPost(priv.id, owner), 200).view_count, 0);
  const ok = expectStatus(await s.api('POST', `${API}/posts/${p.id}/views`, { watched_s: 0 }, { token: fan.access_token }), 200, 'watched 0 s');
  assert.equal(typeof ok.counted, 'boolean');
});

test('likes, shares and comments racing the deletion of their post answer 2xx or 404, never a database error', async () => {
  const racers = await s.users(8);
  const statuses = new Map();
  for (let round = 0; round < 4; round++) {
    const p = await s.post(owner, { title: `race ${round}` });
    const acts = racers.map((u, i) => {
      if (i % 3 === 0) return s.like(p.id, u);
      if (i % 3 === 1) return s.comment(p.id, u, { body: 'first?' });
      return s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: u.access_token });
    });
    const rs = await Promise.all([...acts, s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: owner.access_token })]);
    expectStatus(rs.at(-1), 204, 'delete');
    for (const [i, r] of rs.slice(0, -1).entries()) {
      const key = `${['like', 'comment', 'share'][i % 3]} ${r.status} ${r.body?.code ?? ''}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    expectStatus(await s.getPost(p.id, owner), 404, 'deleted');
  }
  const bad = [...statuses.keys()].filter((k) => ![200, 201, 404].includes(Number(k.split(' ')[1])));
  assert.deepEqual(bad, [], `answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
