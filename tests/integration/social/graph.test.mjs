// The follow graph and blocks: idempotent follow/unfollow with the counts and
// relations on profiles, follower/following lists, and what a block hides.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniq } from '../../lib/harness.mjs';
import { socialServer, API, expectStatus, expectProblem, assertUserSummary, walk } from '../../lib/social.mjs';

let s;
before(async () => { s = await socialServer(); });
after(async () => { await s.stop(); });

const prof = async (who, viewer) => expectStatus(await s.profile(who.username, viewer), 200, `profile of ${who.username}`);

test('profile has the social fields', async () => {
  const [a, b] = await s.users(2);
  for (const viewer of [undefined, b, a]) {
    const p = await prof(a, viewer);
    for (const k of ['follower_count', 'following_count', 'post_count']) assert.ok(Number.isInteger(p[k]) && p[k] === 0, `${k}: ${JSON.stringify(p)}`);
    for (const k of ['followed_by_me', 'follows_me', 'blocked_by_me']) assert.equal(p[k], false, `${k}: ${JSON.stringify(p)}`);
    assert.equal(p.avatar_url, `/api/v2/users/${a.username}/avatar.svg`);
    assert.equal(p.username, a.username);
    assert.equal(p.email, undefined);
  }
});

test('follow and unfollow are idempotent; counts and relations read back on both profiles', async () => {
  const [a, b] = await s.users(2);
  let r = expectStatus(await s.follow(a, b), 200, 'follow');
  assert.deepEqual(r, { following: true, follower_count: 1 });
  r = expectStatus(await s.follow(a, b), 200, 'follow again');
  assert.deepEqual(r, { following: true, follower_count: 1 });
  let pb = await prof(b, a);
  assert.equal(pb.follower_count, 1);
  assert.equal(pb.following_count, 0);
  assert.equal(pb.followed_by_me, true);
  assert.equal(pb.follows_me, false);
  let pa = await prof(a, b);
  assert.equal(pa.following_count, 1);
  assert.equal(pa.follower_count, 0);
  assert.equal(pa.followed_by_me, false);
  assert.equal(pa.follows_me, true);
  const anon = await prof(b);
  assert.equal(anon.follower_count, 1);
  assert.equal(anon.followed_by_me, false);
  assert.equal(anon.follows_me, false);
  // mutual
  r = expectStatus(await s.follow(b, a), 200);
  assert.deepEqual(r, { following: true, follower_count: 1 });
  pb = await prof(b, a);
  assert.equal(pb.followed_by_me, true);
  assert.equal(pb.follows_me, true);
  assert.equal(pb.following_count, 1);
  // unfollow, twice
  r = expectStatus(await s.unfollow(a, b), 200, 'unfollow');
  assert.deepEqual(r, { following: false, follower_count: 0 });
  r = expectStatus(await s.unfollow(a, b), 200, 'unfollow again');
  assert.deepEqual(r, { following: false, follower_count: 0 });
  pb = await prof(b, a);
  assert.equal(pb.follower_count, 0);
  assert.equal(pb.followed_by_me, false);
  assert.equal(pb.follows_me, true);
  pa = await prof(a);
  assert.equal(pa.following_count, 0);
  assert.equal(pa.follower_count, 1);
});

test('follow: yourself is 422 cannot_follow_self, unknown users 404, signed out 401', async () => {
  const [a, b] = await s.users(2);
  expectProblem(await s.follow(a, a), 422, { code: 'cannot_follow_self' }, 'self');
  expectStatus(await s.follow(a, { username: uniq('ghost') }), 404, 'unknown user');
  expectStatus(await s.unfollow(a, { username: uniq('ghost') }), 404, 'unfollow unknown user');
  expectStatus(await s.api('PUT', `${API}/users/${b.username}/follow`), 401, 'anonymous');
  // the username is matched case-insensitively like the profile
  const r = expectStatus(await s.api('PUT', `${API}/users/${b.username.toUpperCase()}/follow`, undefined, { token: a.access_token }), 200, 'upper case');
  assert.equal(r.following, true);
  const pa = await prof(a);
  assert.equal(pa.following_count, 1);
  assert.equal(pa.follower_count, 0);
});

test('concurrent follows of one user count exactly', async () => {
  const target = await s.user();
  const fans = await s.users(12);
  const rs = await Promise.all(fans.flatMap((f) => [s.follow(f, target), s.follow(f, target)]));
  rs.forEach((r) => expectStatus(r, 200, 'follow'));
  assert.equal((await prof(target)).follower_count, 12);
  const off = await Promise.all(fans.slice(0, 5).map((f) => s.unfollow(f, target)));
  off.forEach((r) => expectStatus(r, 200, 'unfollow'));
  assert.equal((await prof(target)).follower_count, 7);
});

test('followers and following lists paginate, with followed_by_me for the caller', async () => {
  const star = await s.user();
  const viewer = await s.user();
  const fans = await s.users(7);
  for (const f of fans) expectStatus(await s.follow(f, star), 200);
  for (const f of fans.slice(0, 2)) expectStatus(await s.follow(viewer, f), 200);
  const list = await walk(s.srv, `${API}/users/${star.username}/followers`, viewer.access_token, { limit: 3 });
  assert.equal(list.length, 7);
  assert.deepEqual(new Set(list.map((u) => u.id)), new Set(fans.map((f) => f.user.id)));
  for (const u of list) {
    assertUserSummary(u, { extra: ['followed_by_me'] });
    assert.equal(u.followed_by_me, fans.slice(0, 2).some((f) => f.user.id === u.id), u.username);
  }
  const anon = await walk(s.srv, `${API}/users/${star.username}/followers`, undefined, { limit: 2 });
  assert.equal(anon.length, 7);
  assert.ok(anon.every((u) => u.followed_by_me === false));
  // following: one fan follows several people
  const busy = fans[0];
  const idols = await s.users(4);
  for (const i of idols) expectStatus(await s.follow(busy, i), 200);
  const following = await walk(s.srv, `${API}/users/${busy.username}/following`, undefined, { limit: 2 });
  assert.deepEqual(new Set(following.map((u) => u.id)), new Set([star, ...idols].map((u) => u.user.id)));
  following.forEach((u) => assertUserSummary(u, { extra: ['followed_by_me'] }));
  const none = expectStatus(await s.api('GET', `${API}/users/${star.username}/following`), 200);
  assert.deepEqual(none.items, []);
  assert.equal(none.next_cursor, null);
  expectStatus(await s.api('GET', `${API}/users/${uniq('ghost')}/followers`), 404, 'unknown user');
  // (these lists allow up to 100 a page, unlike the feeds' 50)
  expectStatus(await s.api('GET', `${API}/users/${star.username}/followers?limit=100`), 200);
  for (const q of ['limit=0', 'limit=101', 'limit=abc']) {
    expectProblem(await s.api('GET', `${API}/users/${star.username}/followers?${q}`), 422, { field: 'limit' }, q);
  }
});

test('block: ends follows both ways, hides profile and posts each way, and a blocked user cannot follow back', async () => {
  const a = await s.author();
  const b = await s.author();
  const pa = await s.post(a, { title: 'by a' });
  const pb = await s.post(b, { title: 'by b' });
  expectStatus(await s.follow(a, b), 200);
  expectStatus(await s.follow(b, a), 200);
  assert.equal((await prof(a)).follower_count, 1);
  const r = expectStatus(await s.block(a, b), 200, 'block');
  assert.deepEqual(r, { blocked: true });
  expectStatus(await s.block(a, b), 200, 'block again');
  // follows are gone both ways, counts follow
  const pa2 = expectStatus(await s.profile(a.username), 200);
  assert.equal(pa2.follower_count, 0);
  assert.equal(pa2.following_count, 0);
  const pb2 = expectStatus(await s.profile(b.username), 200);
  assert.equal(pb2.follower_count, 0);
  assert.equal(pb2.following_count, 0);
  const fl = expectStatus(await s.api('GET', `${API}/users/${a.username}/followers`), 200);
  assert.deepEqual(fl.items, []);
  // each sees the other as 404: profile and posts
  expectStatus(await s.profile(a.username, b), 404, 'blocked user sees blocker profile');
  // the blocker still sees the profile of whom they blocked, marked, so they can unblock
  const seen = expectStatus(await s.profile(b.username, a), 200, 'blocker sees blocked profile');
  assert.equal(seen.blocked_by_me, true);
  assert.equal(seen.followed_by_me, false);
  assert.equal(seen.follows_me, false);
  expectStatus(await s.getPost(pa.id, b), 404, "blocked user reads blocker's post");
  expectStatus(await s.getPost(pb.id, a), 404, "blocker reads blocked user's post");
  expectStatus(await s.api('GET', `${API}/users/${a.username}/posts`, undefined, { token: b.access_token }), 404, "blocker's post list");
  // and neither can act on the other's posts
  expectStatus(await s.like(pa.id, b), 404, 'like');
  expectStatus(await s.comment(pa.id, b, { body: 'hi' }), 404, 'comment');
  // others still see both
  expectStatus(await s.getPost(pa.id), 200, 'anonymous');
  expectStatus(await s.getPost(pb.id), 200, 'anonymous');
  // following the blocker fails and makes no follow
  const f = await s.follow(b, a);
  assert.ok(f.status >= 400 && f.status < 500 && f.status !== 401, `follow the blocker: ${f.status}`);
  const f2 = await s.follow(a, b);
  assert.ok(f2.status >= 400 && f2.status < 500, `follow whom you blocked: ${f2.status}`);
  assert.equal(expectStatus(await s.profile(a.username), 200).follower_count, 0);
  assert.equal(expectStatus(await s.profile(b.username), 200).follower_count, 0);
  // the blocked user's feeds do not show the blocker
  const feed = expectStatus(await s.api('GET', `${API}/feed/new?limit=50`, undefined, { token: b.access_token }), 200);
  assert.ok(!feed.items.some((p) => p.author.id === a.user.id), 'blocker in /feed/new of the blocked user');
  const feed2 = expectStatus(await s.api('GET', `${API}/feed/new?limit=50`, undefined, { token: a.access_token }), 200);
  assert.ok(!feed2.items.some((p) => p.author.id === b.user.id), 'blocked user in /feed/new of the blocker');
});

test("block: neither sees the other's comments on a third person's post", async () => {
  const host = await s.author();
  const [a, b, c] = await s.users(3);
  const p = await s.post(host);
  const ca = expectStatus(await s.comment(p.id, a, { body: 'from a' }), 201);
  const cb = expectStatus(await s.comment(p.id, b, { body: 'from b' }), 201);
  const cc = expectStatus(await s.comment(p.id, c, { body: 'from c' }), 201);
  expectStatus(await s.block(a, b), 200);
  const seen = async (u) => expectStatus(await s.api('GET', `${API}/posts/${p.id}/comments?limit=50`, undefined, { token: u?.access_token }), 200).items.map((x) => x.id);
  assert.deepEqual(await seen(a), [cc.id, ca.id], 'the blocker sees the blocked user\'s comment');
  assert.deepEqual(await seen(b), [cc.id, cb.id], 'the blocked user sees the blocker\'s comment');
  assert.deepEqual(await seen(c), [cc.id, cb.id, ca.id]);
  assert.deepEqual(await seen(undefined), [cc.id, cb.id, ca.id]);
  // and a reply by the blocked user under someone else's comment is hidden from the blocker too
  expectStatus(await s.comment(p.id, b, { body: 'b replies', reply_to: cc.id }), 201);
  const top = expectStatus(await s.api('GET', `${API}/posts/${p.id}/comments?limit=50`, undefined, { token: a.access_token }), 200).items.find((x) => x.id === cc.id);
  assert.ok(!top.replies.some((r) => r.author.id === b.user.id), 'blocked user\'s reply shown to the blocker');
});

test('unblock: both see each other again; follows are not restored', async () => {
  const a = await s.author();
  const b = await s.user();
  const pa = await s.post(a);
  expectStatus(await s.follow(b, a), 200);
  expectStatus(await s.block(a, b), 200);
  let r = expectStatus(await s.unblock(a, b), 200, 'unblock');
  assert.deepEqual(r, { blocked: false });
  r = expectStatus(await s.unblock(a, b), 200, 'unblock again');
  assert.deepEqual(r, { blocked: false });
  expectStatus(await s.profile(a.username, b), 200);
  expectStatus(await s.getPost(pa.id, b), 200);
  const p = await prof(a, b);
  assert.equal(p.follows_me, false);
  assert.equal(p.followed_by_me, false);
  assert.equal(p.follower_count, 0);
  expectStatus(await s.follow(b, a), 200, 'follow again after unblock');
});

test('block: validation', async () => {
  const [a, b] = await s.users(2);
  expectStatus(await s.block(a, { username: uniq('ghost') }), 404, 'unknown');
  const self = await s.block(a, a);
  assert.ok(self.status >= 400 && self.status < 500, `block yourself: ${self.status}`);
  expectStatus(await s.profile(a.username, a), 200, 'still see yourself');
  expectStatus(await s.api('PUT', `${API}/users/${b.username}/block`), 401, 'anonymous');
  assert.equal((await prof(b, a)).blocked_by_me, false);
});

test('deleting an account takes its follows, likes, comments and shares out of the counts', async () => {
  const b = await s.author();
  const x = await s.user();
  const p = await s.post(b);
  expectStatus(await s.follow(x, b), 200);
  expectStatus(await s.follow(b, x), 200);
  expectStatus(await s.like(p.id, x), 200);
  expectStatus(await s.comment(p.id, x, { body: 'soon gone' }), 201);
  expectStatus(await s.api('POST', `${API}/posts/${p.id}/share`, undefined, { token: x.access_token }), 200);
  let g = expectStatus(await s.getPost(p.id), 200);
  assert.deepEqual([g.like_count, g.comment_count, g.share_count], [1, 1, 1]);
  expectStatus(await s.api('DELETE', `${API}/users/me`, { password: x.password }, { token: x.access_token }), 204, 'delete account');
  // the rows are gone…
  assert.deepEqual(expectStatus(await s.api('GET', `${API}/posts/${p.id}/comments`), 200).items, []);
  assert.deepEqual(expectStatus(await s.api('GET', `${API}/users/${b.username}/followers`), 200).items, []);
  // …and the counters agree with them
  g = expectStatus(await s.getPost(p.id), 200);
  assert.deepEqual({ like_count: g.like_count, comment_count: g.comment_count, share_count: g.share_count },
    { like_count: 0, comment_count: 0, share_count: 0 }, 'post counters after the liker deleted their account');
  const pb = await prof(b);
  assert.deepEqual({ follower_count: pb.follower_count, following_count: pb.following_count },
    { follower_count: 0, following_count: 0 }, 'profile counters after a follower deleted their account');
});
