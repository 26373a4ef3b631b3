// The For you feed and feed preferences: reasons on every item, own and hidden
// posts left out, hidden creators and games, the freshness slider; preference
// defaults, validation and round trip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniq, runCli } from '../../lib/harness.mjs';
import { socialServer, API, expectStatus, expectProblem, assertPostShape, walk, eventually } from '../../lib/social.mjs';

// For you draws on shared candidate lists the server may cache briefly
// (FEED_CANDIDATE_TTL_MS in src/social/feed.h): a post made a moment ago may take
// that long to become a candidate, so presence of new posts is awaited, not assumed.
const CANDIDATE_WAIT_MS = 40000;

let s, a, b, c;
const aPosts = [], bPosts = [];
const gameA = uniq('Alpha');
const gameB = uniq('Beta');
before(async () => {
  s = await socialServer();
  [a, b, c] = await Promise.all([s.author(), s.author(), s.author()]);
  for (let i = 0; i < 3; i++) {
    aPosts.push(await s.post(a, { game: gameA, title: `a${i}` }));
    bPosts.push(await s.post(b, { game: gameB, title: `b${i}` }));
  }
});
after(async () => { await s.stop(); });

/** The whole For you feed of u, checking what holds for every item and every list. */
async function forYou(u) {
  const items = await walk(s.srv, `${API}/feed/for-you`, u.access_token, { limit: 50 });
  for (const p of items) {
    assert.notEqual(p.author.id, u.user.id, 'own post in For you');
    assert.notEqual(p.visibility, 'private', 'a private post in For you');
    assert.ok(Array.isArray(p.reasons) && p.reasons.length >= 1, `no reasons on ${p.id}`);
  }
  // diversity (docs/feed.md): never three in a row from one creator
  for (let i = 2; i < items.length; i++) {
    const [x, y, z] = [items[i - 2], items[i - 1], items[i]].map((p) => p.author.id);
    assert.ok(!(x === y && y === z), `three in a row by ${items[i].author.username} at ${i - 2}..${i}`);
  }
  return items;
}
const prefs = async (u) => expectStatus(await s.api('GET', `${API}/feed/preferences`, undefined, { token: u.access_token }), 200, 'get prefs');
const putPrefs = (u, body) => s.api('PUT', `${API}/feed/preferences`, body, { token: u.access_token });
const okPrefs = async (u, body) => {
  const r = await putPrefs(u, body);
  assert.ok(r.status === 200 || r.status === 204, `PUT prefs ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
};

test('/feed/for-you needs a sign-in', async () => {
  expectProblem(await s.api('GET', `${API}/feed/for-you`), 401, {}, 'anonymous');
});

test('/feed/for-you: posts of others, each with a non-empty list of reasons; never my own', async () => {
  const me = await s.author();
  const mine = await s.post(me, { game: gameA, title: 'my own' });
  const items = await forYou(me);
  assert.ok(items.length >= 6, `only ${items.length} items`);
  for (const p of items) {
    assertPostShape(p, { reasons: true });
    assert.ok(p.reasons.length >= 1, `no reasons on ${p.id}`);
    assert.ok(p.reasons.every((x) => typeof x === 'string' && x.trim().length > 0), JSON.stringify(p.reasons));
    assert.notEqual(p.author.id, me.user.id, 'own post in For you');
    assert.equal(p.visibility === 'private', false);
  }
  assert.ok(!items.some((p) => p.id === mine.id));
  // a followed creator's post says so
  expectStatus(await s.follow(me, c), 200);
  const cp = await s.post(c, { title: 'from someone I follow' });
  const hit = await eventually(async () => {
    const h = (await forYou(me)).find((p) => p.id === cp.id);
    assert.ok(h, 'a new post of a followed creator is in For you');
    return h;
  }, CANDIDATE_WAIT_MS);
  assert.ok(hit.reasons.some((r) => r.includes(`@${c.username}`)), JSON.stringify(hit.reasons));
});

test('a post made private leaves For you at once, even from a page ranked before (the ranking is reused for 30 s)', async () => {
  const me = await s.author();
  const first = await forYou(me);
  const target = first.find((p) => p.author.id === a.user.id);
  assert.ok(target, 'one of a\'s posts is in For you');
  expectStatus(await s.api('PATCH', `${API}/posts/${target.id}`, { visibility: 'private' }, { token: a.access_token }), 200);
  try {
    const again = await forYou(me);
    assert.ok(!again.some((p) => p.id === target.id), 'the private post is gone');
    assert.deepEqual(again.map((p) => p.id), first.map((p) => p.id).filter((id) => id !== target.id), 'the rest as ranked before');
  } finally {
    expectStatus(await s.api('PATCH', `${API}/posts/${target.id}`, { visibility: 'public' }, { token: a.access_token }), 200);
  }
});

test('a followers-only post reaches the For you of followers, never of anyone else', async () => {
  const fan = await s.user();
  const stranger = await s.user();
  const e = await s.author();
  expectStatus(await s.follow(fan, e), 200);
  const fp = await s.post(e, { visibility: 'followers', title: 'for my followers' });
  const pub = await s.post(e, { title: 'for everyone' });
  const hit = await eventually(async () => {
    const h = (await forYou(fan)).find((p) => p.id === fp.id);
    assert.ok(h, "the followers-only post is in a follower's For you");
    return h;
  }, CANDIDATE_WAIT_MS);
  assert.ok(hit.reasons.some((r) => r.includes(`@${e.username}`)), JSON.stringify(hit.reasons));
  // once the public post (made after it) is a candidate for the stranger, the followers-only one is not there
  await eventually(async () => {
    const items = await forYou(stranger);
    assert.ok(items.some((p) => p.id === pub.id), 'the public post reached the stranger');
    assert.ok(!items.some((p) => p.id === fp.id), "a followers-only post in a non-follower's For you");
  }, CANDIDATE_WAIT_MS);
});

test('a favourite game gives its posts a reason that says so', async () => {
  const me = await s.user();
  await okPrefs(me, { favourite_games: [gameA] });
  const items = await forYou(me);
  const p = items.find((x) => x.game === gameA);
  assert.ok(p, 'a post of the favourite game');
  assert.ok(p.reasons.some((r) => r.includes(gameA)), JSON.stringify(p.reasons));
});

test('a post watched to the end leaves For you; a partly watched one stays', async () => {
  // watched before this viewer's first For you page, so the ranking is fresh (a first page
  // asked for again within 30 s reuses the last one: docs/feed.md)
  const me = await s.user();
  // (the newest of a's posts: the diversity rule may cut the tail of a list left to one creator)
  const [done, partly] = [bPosts[0], aPosts[2]];
  const dur = b.clip.duration_s;
  let v = expectStatus(await s.api('POST', `${API}/posts/${done.id}/views`, { watched_s: dur }, { token: me.access_token }), 200, 'view to the end');
  assert.equal(v.counted, true);
  v = expectStatus(await s.api('POST', `${API}/posts/${partly.id}/views`, { watched_s: 0.1 }, { token: me.access_token }), 200, 'a glance');
  assert.equal(v.counted, true);
  const items = await forYou(me);
  assert.ok(!items.some((p) => p.id === done.id), 'a post I watched to the end is in For you');
  assert.ok(items.some((p) => p.id === partly.id), 'a partly watched post left For you');
  assert.ok(items.some((p) => p.id === bPosts[1].id), "b's other posts stay");
});

test('PUT /posts/{id}/hide takes a post out of For you; DELETE brings it back', async () => {
  const me = await s.user();
  const target = (await forYou(me)).find((p) => p.author.id === a.user.id);
  assert.ok(target, "a's post is in For you to begin with");
  expectStatus(await s.api('PUT', `${API}/posts/${target.id}/hide`, undefined, { token: me.access_token }), 204, 'hide');
  expectStatus(await s.api('PUT', `${API}/posts/${target.id}/hide`, undefined, { token: me.access_token }), 204, 'hide again');
  assert.ok(!(await forYou(me)).some((p) => p.id === target.id), 'hidden post still in For you');
  // hiding is mine only
  const other = await s.user();
  assert.ok((await forYou(other)).some((p) => p.id === target.id), "hidden for someone else's feed too");
  // and it stays readable directly
  expectStatus(await s.getPost(target.id, me), 200);
  expectStatus(await s.api('DELETE', `${API}/posts/${target.id}/hide`, undefined, { token: me.access_token }), 204, 'unhide');
  assert.ok((await forYou(me)).some((p) => p.id === target.id), 'unhidden post is back');
  expectStatus(await s.api('PUT', `${API}/posts/${target.id}/hide`), 401, 'anonymous');
  expectStatus(await s.api('PUT', `${API}/posts/999999999999/hide`, undefined, { token: me.access_token }), 404, 'unknown');
});

test('hidden_creators and hidden_games remove their posts from For you', async () => {
  const me = await s.user();
  let items = await forYou(me);
  assert.ok(items.some((p) => p.author.id === a.user.id) && items.some((p) => p.author.id === b.user.id), 'a and b present');
  await okPrefs(me, { hidden_creators: [a.username] });
  items = await forYou(me);
  assert.ok(!items.some((p) => p.author.id === a.user.id), 'hidden creator still present');
  assert.ok(items.some((p) => p.author.id === b.user.id), 'b went too');
  await okPrefs(me, { hidden_creators: [], hidden_games: [gameB] });
  items = await forYou(me);
  assert.ok(!items.some((p) => p.game === gameB), 'hidden game still present');
  assert.ok(items.some((p) => p.author.id === a.user.id), 'a is back once no longer hidden');
  await okPrefs(me, { hidden_games: [] });
  items = await forYou(me);
  assert.ok(items.some((p) => p.game === gameB), 'game is back');
});

test('the freshness slider: a brand-new post ranks higher at 100 than at 0 against older, engaged posts', async () => {
  // Posts made in a test are all seconds old, and the score's recency term works on hours
  // (half-life 6 h at freshness 100, 72 h at 0: src/social/feed.c, docs/feed.md), so an
  // engaged post of a minute ago beats a new one at any freshness. `cosmiv seed` makes posts
  // spread over six weeks with engagement: against those the slider must show.
  const seed = await runCli(['seed', '--users', '10', '--posts', '120', '--follows-per-user', '2', '--data-dir', s.srv.dataDir], { env: s.srv.env });
  assert.equal(seed.code, 0, seed.stderr);
  const me = await s.user();
  const d = await s.author();
  const fresh = await s.post(d, { game: uniq('Fresh'), title: 'brand new, nothing yet' });
  const read = async () => {
    const items = await forYou(me);
    const at = items.findIndex((p) => p.id === fresh.id);
    assert.ok(at >= 0, 'the new post is in For you');
    assert.ok(items.filter((p) => p.clip === null).length >= 20, 'seeded posts are in For you');
    return { at };
  };
  await okPrefs(me, { freshness: 0 });
  // the new post and the seeded ones may take a moment to become candidates
  const popular = await eventually(read, CANDIDATE_WAIT_MS);
  // a preference change shows on the very next read
  await okPrefs(me, { freshness: 100 });
  const recent = await read();
  assert.ok(recent.at < popular.at, `new post at ${recent.at} with freshness 100, at ${popular.at} with 0`);
  await okPrefs(me, { freshness: 0 });
  assert.ok((await read()).at > recent.at, 'freshness 0 again');
});

test('GET /feed/preferences: defaults; signed in only', async () => {
  const me = await s.user();
  assert.deepEqual(await prefs(me), { favourite_games: [], hidden_games: [], hidden_creators: [], freshness: 50 });
  expectStatus(await s.api('GET', `${API}/feed/preferences`), 401, 'anonymous get');
  expectStatus(await s.api('PUT', `${API}/feed/preferences`, { freshness: 1 }), 401, 'anonymous put');
});

test('PUT /feed/preferences validates every field and changes nothing when refused', async () => {
  const me = await s.user();
  await okPrefs(me, { freshness: 70, favourite_games: ['Valorant'] });
  const before = await prefs(me);
  const cases = [
    [{ freshness: 101 }, 'freshness'],
    [{ freshness: -1 }, 'freshness'],
    [{ freshness: '50' }, 'freshness'],
    [{ freshness: 50.5 }, 'freshness'],
    [{ freshness: null }, 'freshness'],
    [{ favourite_games: 'Valorant' }, 'favourite_games'],
    [{ favourite_games: [1] }, 'favourite_games'],
    [{ hidden_games: {} }, 'hidden_games'],
    [{ hidden_games: [null] }, 'hidden_games'],
    [{ hidden_creators: [uniq('nobody')] }, 'hidden_creators'],
    [{ hidden_creators: a.username }, 'hidden_creators'],
    [{ freshness: 10, hidden_creators: [uniq('nobody')] }, 'hidden_creators'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [body, field] of cases) {
    expectProblem(await putPrefs(me, body), 422, { field }, JSON.stringify(body));
  }
  expectProblem(await putPrefs(me, { hidden_creators: [uniq('nobody')] }), 422, { code: 'unknown_user', field: 'hidden_creators' }, 'unknown username');
  assert.deepEqual(await prefs(me), before);
});

test('PUT /feed/preferences replaces only the fields it names; round trip', async () => {
  const me = await s.user();
  await okPrefs(me, { favourite_games: ['Valorant', 'Apex Legends'], hidden_games: [gameB], hidden_creators: [a.username, b.username], freshness: 80 });
  assert.deepEqual(await prefs(me), { favourite_games: ['Valorant', 'Apex Legends'], hidden_games: [gameB], hidden_creators: [a.username, b.username], freshness: 80 });
  const put = expectStatus(await putPrefs(me, { freshness: 0 }), 200, 'PUT answers with all the preferences');
  assert.deepEqual(put, { favourite_games: ['Valorant', 'Apex Legends'], hidden_games: [gameB], hidden_creators: [a.username, b.username], freshness: 0 });
  assert.deepEqual(await prefs(me), put);
  await okPrefs(me, { hidden_creators: [b.username.toUpperCase()], favourite_games: [] });
  const p = await prefs(me);
  assert.deepEqual(p.hidden_creators, [b.username], 'usernames come back as stored');
  assert.deepEqual(p.favourite_games, []);
  assert.deepEqual(p.hidden_games, [gameB]);
  assert.equal(p.freshness, 0);
  await okPrefs(me, {});
  assert.deepEqual(await prefs(me), p);
  // preferences are per user
  assert.deepEqual(await prefs(await s.user()), { favourite_games: [], hidden_games: [], hidden_creators: [], freshness: 50 });
});
