// Posts: creation (shape and validation), who may read, edit and delete them,
// a user's post list, and a post whose clip is deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../lib/media.mjs';
import { socialServer, API, expectStatus, expectProblem, assertPostShape, isId, walk, stable, CLIP_END_S, CLIP_START_S } from '../../lib/social.mjs';

let s, alice, bob, carol;
before(async () => {
  s = await socialServer();
  alice = await s.author();
  bob = await s.author();
  carol = await s.user();
});
after(async () => { await s.stop(); });

test('POST /posts: 201 and every field of the contract with the right type', async () => {
  const r = await s.api('POST', `${API}/posts`, {
    clip_id: alice.clip.id, title: 'Ace on Ascent', description: 'one tap', game: 'Valorant', tags: ['ace', 'clutch-1', 'A_b', 'ACE'],
  }, { token: alice.access_token });
  const p = expectStatus(r, 201, 'create');
  assertPostShape(p);
  assert.equal(p.title, 'Ace on Ascent');
  assert.equal(p.description, 'one tap');
  assert.equal(p.game, 'Valorant');
  // tags are case-insensitive and unique: stored lower-cased, duplicates dropped (src/social/posts.c)
  assert.deepEqual(p.tags, ['ace', 'clutch-1', 'a_b']);
  assert.equal(p.visibility, 'public');
  assert.equal(p.author.id, alice.user.id);
  assert.equal(p.author.username, alice.username);
  assert.equal(p.author.display_name, null);
  assert.equal(p.author.avatar_url, `/api/v2/users/${alice.username}/avatar.svg`);
  assert.equal(p.clip.id, alice.clip.id);
  assert.ok(Math.abs(p.clip.duration_s - (CLIP_END_S - CLIP_START_S)) < 0.25, String(p.clip.duration_s));
  assert.equal(p.clip.width, alice.clip.width);
  assert.equal(p.clip.height, alice.clip.height);
  assert.deepEqual([p.like_count, p.comment_count, p.share_count, p.view_count, p.liked_by_me], [0, 0, 0, 0, false]);
  assert.ok(Date.parse(p.updated_at) >= Date.parse(p.created_at));
  // the playback URL plays the clip, the thumbnail (when there is one) is an image
  const v = await s.srv.fetch(p.clip.playback_url, { headers: { Range: 'bytes=0-9' } });
  assert.equal(v.status, 206);
  await v.arrayBuffer();
  if (p.clip.thumbnail_url !== null) {
    const t = await s.srv.fetch(p.clip.thumbnail_url);
    assert.equal(t.status, 200);
    assert.match(t.headers.get('content-type'), /^image\//);
    await t.arrayBuffer();
  }
  // what GET answers is the same post
  const g = expectStatus(await s.getPost(p.id), 200, 'get');
  assertPostShape(g);
  assert.deepEqual(stable(g), stable(p));
});

test('POST /posts: optional fields default (no description, game, tags; public)', async () => {
  const p = await s.post(alice, { title: 'x' });
  assert.equal(p.description, null);
  assert.equal(p.game, null);
  assert.deepEqual(p.tags, []);
  assert.equal(p.visibility, 'public');
  for (const visibility of ['followers', 'private']) {
    const q = await s.post(alice, { visibility });
    assert.equal(q.visibility, visibility);
  }
});

test('POST /posts: titles are 1–120 characters (counted as characters, not bytes)', async () => {
  const ok = await s.post(alice, { title: 'é'.repeat(120) });
  assert.equal(ok.title, 'é'.repeat(120));
  const cases = [
    [{ clip_id: alice.clip.id }, 'missing title'],
    [{ clip_id: alice.clip.id, title: '' }, 'empty title'],
    [{ clip_id: alice.clip.id, title: 'x'.repeat(121) }, '121 characters'],
    [{ clip_id: alice.clip.id, title: 42 }, 'number title'],
    [{ clip_id: alice.clip.id, title: null }, 'null title'],
  ];
  for (const [body, what] of cases) {
    expectProblem(await s.api('POST', `${API}/posts`, body, { token: alice.access_token }), 422, { field: 'title' }, what);
  }
});

test('POST /posts: description, game and visibility are validated', async () => {
  const base = { clip_id: alice.clip.id, title: 'v' };
  const cases = [
    [{ ...base, description: 'd'.repeat(2001) }, 'description'],
    [{ ...base, game: 'g'.repeat(41) }, 'game'],
    [{ ...base, visibility: 'friends' }, 'visibility'],
    [{ ...base, visibility: 'PUBLIC' }, 'visibility'],
    [{ ...base, visibility: 1 }, 'visibility'],
  ];
  for (const [body, field] of cases) {
    expectProblem(await s.api('POST', `${API}/posts`, body, { token: alice.access_token }), 422, { field }, JSON.stringify(body).slice(0, 80));
  }
  const edge = await s.post(alice, { description: 'd'.repeat(2000), game: 'g'.repeat(40) });
  assert.equal(edge.description.length, 2000);
  assert.equal(edge.game.length, 40);
});

test('POST /posts: tags must be an array of at most 10 of [A-Za-z0-9_-]{1,32}', async () => {
  const base = { clip_id: alice.clip.id, title: 't' };
  const bad = [
    'ace',
    { a: 1 },
    [1, 2],
    [null],
    Array.from({ length: 11 }, (_, i) => `t${i}`),
    ['has space'],
    ['hash#tag'],
    ['emoji🎮'],
    ['dot.ted'],
    [''],
    ['x'.repeat(33)],
  ];
  for (const tags of bad) {
    expectProblem(await s.api('POST', `${API}/posts`, { ...base, tags }, { token: alice.access_token }), 422, { field: 'tags' }, JSON.stringify(tags));
  }
  const ten = Array.from({ length: 10 }, (_, i) => `t${i}`);
  ten[9] = 'x'.repeat(32);
  const ok = await s.post(alice, { tags: ten });
  assert.deepEqual(ok.tags, ten);
});

test("POST /posts: the clip must be the caller's own: foreign, unknown and malformed ids", async () => {
  const before = expectStatus(await s.api('GET', `${API}/users/${alice.username}/posts?limit=50`, undefined, { token: alice.access_token }), 200);
  // bob's clip, posted by alice
  expectProblem(await s.api('POST', `${API}/posts`, { clip_id: bob.clip.id, title: 'stolen' }, { token: alice.access_token }), 404, { code: 'clip_not_found' }, 'foreign clip');
  expectProblem(await s.api('POST', `${API}/posts`, { clip_id: '999999999999', title: 'ghost' }, { token: alice.access_token }), 404, { code: 'clip_not_found' }, 'unknown clip');
  // not a number: 404 clip_not_found (as for other ids) or 422 naming the field
  for (const clip_id of ['abc', '12ab', '-5', '', '1e3']) {
    const r = await s.api('POST', `${API}/posts`, { clip_id, title: 'nan' }, { token: alice.access_token });
    assert.ok(r.status === 404 || r.status === 422, `${clip_id}: ${r.status}`);
    if (r.status === 404) assert.equal(r.body.code, 'clip_not_found');
    else assert.equal(r.body.field, 'clip_id');
  }
  // ids are decimal strings; a JSON number is the wrong type
  expectProblem(await s.api('POST', `${API}/posts`, { clip_id: Number(alice.clip.id) || 1, title: 'num' }, { token: alice.access_token }), 422, { field: 'clip_id' }, 'numeric clip_id');
  expectProblem(await s.api('POST', `${API}/posts`, { title: 'no clip' }, { token: alice.access_token }), 422, { field: 'clip_id' }, 'missing clip_id');
  expectProblem(await s.api('POST', `${API}/posts`, { clip_id: alice.clip.id, title: 'x', owner: bob.user.id }, { token: alice.access_token }), 422, { field: 'owner' }, 'unknown field');
  // signed out
  expectStatus(await s.api('POST', `${API}/posts`, { clip_id: alice.clip.id, title: 'anon' }), 401, 'anonymous');
  // none of that made a post
  const afterList = expectStatus(await s.api('GET', `${API}/users/${alice.username}/posts?limit=50`, undefined, { token: alice.access_token }), 200);
  assert.deepEqual(afterList.items.map((p) => p.id), before.items.map((p) => p.id));
});

test('POST /posts: a clip that is still rendering is 409 clip_not_ready', async () => {
  const tok = alice.access_token;
  const c = await s.api('POST', `${API}/clips`, { video_id: alice.video.id, start_s: 0, end_s: 2, aspect: '1:1' }, { token: tok });
  expectStatus(c, 202, 'clip');
  const r = await s.api('POST', `${API}/posts`, { clip_id: c.body.id, title: 'too soon' }, { token: tok });
  if (r.status === 201) {
    // the render won the race: then the clip really was ready
    const k = expectStatus(await s.api('GET', `${API}/clips/${c.body.id}`, undefined, { token: tok }), 200);
    assert.equal(k.status, 'ready');
  } else {
    expectProblem(r, 409, { code: 'clip_not_ready' }, 'post a rendering clip');
  }
  const k = await waitFor(s.srv, `${API}/clips/${c.body.id}`, tok, (x) => x.status !== 'processing');
  assert.equal(k.status, 'ready', k.error);
  await s.post(alice, { clip_id: c.body.id, title: 'now it is ready' });
});

test('GET /posts/{id}: unknown and malformed ids are 404', async () => {
  for (const id of ['999999999999', 'abc', '0', '-1', "1'%20OR%201=1"]) {
    expectStatus(await s.api('GET', `${API}/posts/${id}`), 404, id);
  }
});

test('a private post is 404 to everyone but its owner', async () => {
  const p = await s.post(alice, { visibility: 'private', title: 'secret' });
  expectStatus(await s.getPost(p.id, alice), 200, 'owner');
  expectStatus(await s.getPost(p.id, bob), 404, 'other user');
  expectStatus(await s.getPost(p.id), 404, 'anonymous');
  // following does not help
  expectStatus(await s.follow(bob, alice), 200, 'follow');
  expectStatus(await s.getPost(p.id, bob), 404, 'follower');
  expectStatus(await s.unfollow(bob, alice), 200, 'unfollow');
});

test('a followers-only post: 404 to non-followers and anonymous, 200 once following, 404 again after unfollowing', async () => {
  const p = await s.post(alice, { visibility: 'followers', title: 'for my people' });
  expectStatus(await s.getPost(p.id, alice), 200, 'owner');
  expectStatus(await s.getPost(p.id, carol), 404, 'non-follower');
  expectStatus(await s.getPost(p.id), 404, 'anonymous');
  expectStatus(await s.follow(carol, alice), 200, 'follow');
  const g = expectStatus(await s.getPost(p.id, carol), 200, 'follower');
  assert.equal(g.visibility, 'followers');
  expectStatus(await s.unfollow(carol, alice), 200, 'unfollow');
  expectStatus(await s.getPost(p.id, carol), 404, 'former follower');
});

test('PATCH /posts/{id} by the owner changes the named fields only', async () => {
  const p = await s.post(alice, { title: 'before', description: 'desc', game: 'Apex', tags: ['a'] });
  let r = await s.api('PATCH', `${API}/posts/${p.id}`, { title: 'after', tags: ['b', 'c'] }, { token: alice.access_token });
  const q = expectStatus(r, 200, 'patch');
  assertPostShape(q);
  assert.equal(q.title, 'after');
  assert.deepEqual(q.tags, ['b', 'c']);
  assert.equal(q.description, 'desc');
  assert.equal(q.game, 'Apex');
  assert.equal(q.id, p.id);
  assert.equal(q.created_at, p.created_at);
  assert.ok(Date.parse(q.updated_at) >= Date.parse(p.updated_at));
  r = await s.api('PATCH', `${API}/posts/${p.id}`, { description: null, game: 'Valorant', visibility: 'private' }, { token: alice.access_token });
  expectStatus(r, 200, 'patch 2');
  const g = expectStatus(await s.getPost(p.id, alice), 200);
  assert.equal(g.description, null);
  assert.equal(g.game, 'Valorant');
  assert.equal(g.visibility, 'private');
  assert.equal(g.title, 'after');
  expectStatus(await s.getPost(p.id, bob), 404, 'now private');
  // validation on PATCH
  for (const [body, field] of [[{ title: '' }, 'title'], [{ title: 'x'.repeat(121) }, 'title'], [{ visibility: 'everyone' }, 'visibility'], [{ tags: ['bad tag'] }, 'tags'], [{ clip_id: bob.clip.id }, 'clip_id']]) {
    expectProblem(await s.api('PATCH', `${API}/posts/${p.id}`, body, { token: alice.access_token }), 422, { field }, JSON.stringify(body));
  }
  assert.deepEqual(stable(expectStatus(await s.getPost(p.id, alice), 200)), stable(g));
});

test('PATCH /posts/{id} by someone else or signed out is refused and changes nothing', async () => {
  const p = await s.post(alice, { title: 'mine', tags: ['x'] });
  const orig = expectStatus(await s.getPost(p.id, alice), 200);
  const r = await s.api('PATCH', `${API}/posts/${p.id}`, { title: 'hijacked', visibility: 'private' }, { token: bob.access_token });
  assert.ok(r.status === 403 || r.status === 404, `other user: ${r.status}`);
  expectStatus(await s.api('PATCH', `${API}/posts/${p.id}`, { title: 'anon' }), 401, 'anonymous');
  // a moderator moderates by deleting, not by editing
  expectStatus(await s.api('PATCH', `${API}/posts/999999999999`, { title: 'x' }, { token: alice.access_token }), 404, 'unknown post');
  assert.deepEqual(stable(expectStatus(await s.getPost(p.id, alice), 200)), stable(orig));
});

test('DELETE /posts/{id} by the owner: 204, then 404 for everyone and for a second delete', async () => {
  const p = await s.post(alice, { title: 'bye' });
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: alice.access_token }), 204, 'delete');
  expectStatus(await s.getPost(p.id, alice), 404, 'owner after delete');
  expectStatus(await s.getPost(p.id), 404, 'anonymous after delete');
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: alice.access_token }), 404, 'second delete');
  expectStatus(await s.api('PATCH', `${API}/posts/${p.id}`, { title: 'zombie' }, { token: alice.access_token }), 404, 'patch after delete');
  // the clip itself is not deleted with the post
  expectStatus(await s.api('GET', `${API}/clips/${alice.clip.id}`, undefined, { token: alice.access_token }), 200, 'clip survives');
});

test('DELETE /posts/{id}: refused for another plain user and anonymous; a moderator and an admin may', async () => {
  const p = await s.post(alice, { title: 'contested' });
  const r = await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: bob.access_token });
  assert.ok(r.status === 403 || r.status === 404, `other user: ${r.status}`);
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`), 401, 'anonymous');
  expectStatus(await s.getPost(p.id), 200, 'still there');
  const mod = await s.staff('moderator');
  expectStatus(await s.api('DELETE', `${API}/posts/${p.id}`, undefined, { token: mod.access_token }), 204, 'moderator');
  expectStatus(await s.getPost(p.id, alice), 404, 'gone');
  const q = await s.post(bob, { title: 'also contested', visibility: 'followers' });
  const admin = await s.staff('admin');
  expectStatus(await s.api('DELETE', `${API}/posts/${q.id}`, undefined, { token: admin.access_token }), 204, 'admin');
  expectStatus(await s.getPost(q.id, bob), 404, 'gone');
});

test('GET /users/{u}/posts lists what the caller may see, newest first, paginated', async () => {
  const dave = await s.author();
  const pub = [await s.post(dave, { title: 'p1' }), await s.post(dave, { title: 'p2' }), await s.post(dave, { title: 'p3' }), await s.post(dave, { title: 'p4' })];
  const fol = await s.post(dave, { title: 'f', visibility: 'followers' });
  const priv = await s.post(dave, { title: 'x', visibility: 'private' });
  const ids = (items) => items.map((p) => p.id);
  const own = await walk(s.srv, `${API}/users/${dave.username}/posts`, dave.access_token, { limit: 2 });
  assert.deepEqual(ids(own), [priv, fol, ...pub.slice().reverse()].map((p) => p.id));
  own.forEach((p) => assertPostShape(p));
  const anon = await walk(s.srv, `${API}/users/${dave.username}/posts`, undefined, { limit: 3 });
  assert.deepEqual(ids(anon), pub.slice().reverse().map((p) => p.id));
  expectStatus(await s.follow(carol, dave), 200);
  const follower = await walk(s.srv, `${API}/users/${dave.username}/posts`, carol.access_token, { limit: 3 });
  assert.deepEqual(ids(follower), [fol, ...pub.slice().reverse()].map((p) => p.id));
  expectStatus(await s.api('GET', `${API}/users/nobody_here_zz/posts`), 404, 'unknown user');
});

test('profile post_count counts posts and follows deletes', async () => {
  const erin = await s.author();
  const count = async () => expectStatus(await s.profile(erin.username), 200).post_count;
  assert.equal(await count(), 0);
  const a = await s.post(erin);
  await s.post(erin);
  assert.equal(await count(), 2);
  expectStatus(await s.api('DELETE', `${API}/posts/${a.id}`, undefined, { token: erin.access_token }), 204);
  assert.equal(await count(), 1);
});

test('a post whose clip is deleted stays, with clip null', async () => {
  const frank = await s.author();
  const p = await s.post(frank, { title: 'clip goes away' });
  assert.ok(p.clip && isId(p.clip.id));
  expectStatus(await s.api('DELETE', `${API}/clips/${frank.clip.id}`, undefined, { token: frank.access_token }), 204, 'delete clip');
  const g = expectStatus(await s.getPost(p.id), 200, 'get');
  assertPostShape(g);
  assert.equal(g.clip, null);
  // and the deleted clip cannot be posted again
  expectProblem(await s.api('POST', `${API}/posts`, { clip_id: frank.clip.id, title: 'again' }, { token: frank.access_token }), 404, { code: 'clip_not_found' });
});

test('GET /users/{u}/avatar.svg is a generated SVG for anyone', async () => {
  const r = await s.srv.fetch(`${API}/users/${alice.username}/avatar.svg`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^image\/svg\+xml/);
  const svg = await r.text();
  assert.match(svg, /<svg[\s>]/);
  assert.match(svg, new RegExp(`>\\s*${alice.username[0].toUpperCase()}\\s*<`, 'i'));
  // a hostile display name does not get into the SVG
  const evil = await s.user();
  expectStatus(await s.api('PATCH', `${API}/users/me`, { display_name: '<script>alert(1)</script>"&' }, { token: evil.access_token }), 200);
  const e = await s.srv.fetch(`${API}/users/${evil.username}/avatar.svg`);
  assert.equal(e.status, 200);
  const esvg = await e.text();
  assert.doesNotMatch(esvg, /<script|alert\(/i);
  const nf = await s.srv.fetch(`${API}/users/nobody_here_zz/avatar.svg`);
  assert.ok(nf.status === 404 || nf.status === 200, String(nf.status));
  await nf.arrayBuffer();
});
