// The New, Following and Trending feeds: what each contains and in what order,
// ?game=, pagination that stays consistent while posts are added, and the
// limit/cursor rules (signed cursors bound to their feed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniq } from '../../lib/harness.mjs';
import { socialServer, API, expectStatus, expectProblem, assertPostShape, walk, paced, eventually } from '../../lib/social.mjs';

let s, a, b, viewer;
before(async () => {
  s = await socialServer();
  a = await s.author();
  b = await s.author();
  viewer = await s.user();
});
after(async () => { await s.stop(); });

const feed = async (path, u) => expectStatus(await s.api('GET', `${API}${path}`, undefined, { token: u?.access_token }), 200, path);
const ids = (items) => items.map((p) => p.id);
const newestFirst = (items) => {
  for (let i = 1; i < items.length; i++) {
    assert.ok(BigInt(items[i - 1].id) > BigInt(items[i].id), `not newest first at ${i}: ${items[i - 1].id} ${items[i].id}`);
    assert.ok(Date.parse(items[i - 1].created_at) >= Date.parse(items[i].created_at));
  }
};

test('/feed/new: newest public posts first, signed in or not; never followers-only or private', async () => {
  const game = uniq('G');
  const p1 = await s.post(a, { game, title: 'one' });
  const f = await s.post(a, { game, visibility: 'followers' });
  const p2 = await s.post(b, { game, title: 'two' });
  const x = await s.post(b, { game, visibility: 'private' });
  const p3 = await s.post(a, { game, title: 'three' });
  expectStatus(await s.follow(viewer, a), 200);
  for (const u of [undefined, viewer, a]) {
    const r = await feed(`/feed/new?game=${game}`, u);
    assert.deepEqual(ids(r.items), [p3.id, p2.id, p1.id], `as ${u?.username ?? 'anonymous'}`);
    assert.equal(r.next_cursor, null);
    r.items.forEach((p) => assertPostShape(p));
  }
  const all = await feed('/feed/new?limit=50');
  assert.equal(all.items.length <= 50, true);
  newestFirst(all.items);
  assert.ok(all.items.every((p) => p.visibility === 'public'));
  assert.ok(!ids(all.items).includes(f.id) && !ids(all.items).includes(x.id));
  assert.deepEqual(ids(all.items).slice(0, 3), [p3.id, p2.id, p1.id]);
  // default limit is 20
  for (let i = 0; i < 18; i++) await s.post(b, { title: `filler ${i}` });
  const d = await feed('/feed/new');
  assert.equal(d.items.length, 20);
  assert.equal(typeof d.next_cursor, 'string');
});

test('/feed/new?game= returns only that game; making a post private or deleting it takes it out', async () => {
  // read signed in: signed-out New and Trending pages are micro-cached for COSMIV_FEED_CACHE_MS
  // (1 s, docs/feed.md), so a signed-out reader may see a change a moment late
  const g1 = uniq('Game');
  const g2 = uniq('Game');
  const a1 = await s.post(a, { game: g1 });
  const a2 = await s.post(b, { game: g2 });
  const a3 = await s.post(b, { game: g1 });
  assert.deepEqual(ids((await feed(`/feed/new?game=${g1}`, viewer)).items), [a3.id, a1.id]);
  assert.deepEqual(ids((await feed(`/feed/new?game=${g2}`, viewer)).items), [a2.id]);
  assert.deepEqual((await feed(`/feed/new?game=${uniq('none')}`, viewer)).items, []);
  expectStatus(await s.api('PATCH', `${API}/posts/${a3.id}`, { visibility: 'private' }, { token: b.access_token }), 200);
  assert.deepEqual(ids((await feed(`/feed/new?game=${g1}`, viewer)).items), [a1.id]);
  expectStatus(await s.api('DELETE', `${API}/posts/${a1.id}`, undefined, { token: a.access_token }), 204);
  assert.deepEqual((await feed(`/feed/new?game=${g1}`, viewer)).items, []);
  // changing a post's game moves it between the ?game= feeds
  const g4 = uniq('Moved');
  const m = await s.post(a, { game: g2 });
  expectStatus(await s.api('PATCH', `${API}/posts/${m.id}`, { game: g4 }, { token: a.access_token }), 200);
  for (const f of ['new', 'trending']) {
    assert.ok(!ids((await feed(`/feed/${f}?game=${g2}`, viewer)).items).includes(m.id), `${f}: still under its old game`);
    assert.deepEqual(ids((await feed(`/feed/${f}?game=${g4}`, viewer)).items), [m.id], `${f}: under its new game`);
  }
  // the game name is matched whatever its case (posts keep a normalised game_key; not spelled out in the contract)
  const g3 = uniq('Apex');
  const c = await s.post(a, { game: g3 });
  assert.deepEqual(ids((await feed(`/feed/new?game=${encodeURIComponent(g3.toLowerCase())}`, viewer)).items), [c.id], '?game= is case-insensitive');
});

test('signed-out New and Trending catch up with changes (after the micro-cache window)', async () => {
  const game = uniq('Anon');
  const p = await s.post(a, { game });
  assert.deepEqual(ids((await feed(`/feed/new?game=${game}`)).items), [p.id]);
  assert.deepEqual(ids((await feed(`/feed/trending?game=${game}`)).items), [p.id]);
  expectStatus(await s.api('PATCH', `${API}/posts/${p.id}`, { visibility: 'private' }, { token: a.access_token }), 200);
  await eventually(async () => {
    assert.deepEqual((await feed(`/feed/new?game=${game}`)).items, [], 'a private post leaves signed-out New');
    assert.deepEqual((await feed(`/feed/trending?game=${game}`)).items, [], 'a private post leaves signed-out Trending');
  }, 10000);
});

test('/feed/following: signed in only; posts of people I follow, public and followers-only, newest first', async () => {
  expectProblem(await s.api('GET', `${API}/feed/following`), 401, {}, 'anonymous');
  const me = await s.user();
  const c = await s.author();
  const d = await s.author();
  const c1 = await s.post(c, { title: 'c public' });
  const c2 = await s.post(c, { title: 'c followers', visibility: 'followers' });
  const cx = await s.post(c, { title: 'c private', visibility: 'private' });
  const d1 = await s.post(d, { title: 'd public' });
  assert.deepEqual((await feed('/feed/following', me)).items, [], 'following nobody');
  expectStatus(await s.follow(me, c), 200);
  const c3 = await s.post(c, { title: 'c after follow' });
  const r = await feed('/feed/following?limit=50', me);
  assert.deepEqual(ids(r.items), [c3.id, c2.id, c1.id]);
  r.items.forEach((p) => assertPostShape(p));
  assert.ok(!ids(r.items).includes(cx.id) && !ids(r.items).includes(d1.id));
  // unfollowing empties it again
  expectStatus(await s.unfollow(me, c), 200);
  assert.deepEqual((await feed('/feed/following', me)).items, []);
});

test('/feed/trending: more engagement ranks above an equally new post; ?game=; anyone may read it', async () => {
  const game = uniq('Trend');
  const hot = await s.post(a, { game, title: 'hot' });   // made first, so recency alone would put it second
  const cold = await s.post(b, { game, title: 'cold' });
  const other = await s.post(a, { game: uniq('Other'), title: 'elsewhere' });
  const fans = await s.users(6);
  for (const f of fans) {
    expectStatus(await s.like(hot.id, f), 200);
    expectStatus(await s.api('POST', `${API}/posts/${hot.id}/share`, undefined, { token: f.access_token }), 200);
    expectStatus(await s.api('POST', `${API}/posts/${hot.id}/views`, { watched_s: 3 }, { token: f.access_token }), 200);
  }
  expectStatus(await s.comment(hot.id, fans[0], { body: 'wow' }), 201);
  for (const u of [undefined, viewer]) {
    const r = await feed(`/feed/trending?game=${game}`, u);
    assert.deepEqual(ids(r.items), [hot.id, cold.id], `as ${u?.username ?? 'anonymous'}`);
    r.items.forEach((p) => assertPostShape(p));
  }
  const all = await walk(s.srv, '/api/v2/feed/trending', undefined, { limit: 50 });
  const order = ids(all);
  assert.ok(order.includes(other.id));
  assert.ok(order.indexOf(hot.id) < order.indexOf(cold.id), 'hot above cold overall');
  assert.ok(all.every((p) => p.visibility === 'public'));
});

test('every feed pages with limit=3 without repeats while posts are being added; New and Following miss nothing', async () => {
  const me = await s.user();
  const c = await s.author();
  const d = await s.author();
  expectStatus(await s.follow(me, c), 200);
  for (let i = 0; i < 5; i++) {
    await s.post(c, { title: `c${i}`, visibility: i === 2 ? 'followers' : 'public' });
    await s.post(d, { title: `d${i}` });
  }
  // posts are added between the first pages of every walk (creating posts is rate limited
  // per user, 60 at once, so not between every page of every walk)
  const adder = (who) => async () => { await s.post(who, { title: 'added while paging' }); };
  for (const [path, user, complete] of [
    ['/feed/new', undefined, true],
    ['/feed/new', me, true],
    ['/feed/following', me, true],
    ['/feed/trending', undefined, false],
    ['/feed/trending', me, false],
    ['/feed/for-you', me, false],
  ]) {
    const existing = await walk(s.srv, `${API}${path}`, user?.access_token, { limit: 50 });
    assert.ok(existing.length > 3, `${path} has ${existing.length} posts`);
    const paged = await walk(s.srv, `${API}${path}`, user?.access_token, {
      limit: 3,
      between: async (page) => { if (page < 8) await adder(page % 2 ? c : d)(); },
    });
    if (complete) {
      const got = new Set(ids(paged));
      const missing = existing.filter((p) => !got.has(p.id));
      assert.deepEqual(missing.map((p) => p.title), [], `${path}: posts missed while paging`);
    }
    if (path === '/feed/new' || path === '/feed/following') newestFirst(paged);
  }
});

test('limit must be 1..50: 0, 51 and abc are 422 invalid_limit on every feed', async () => {
  const me = await s.user();
  for (const path of ['/feed/new', '/feed/following', '/feed/trending', '/feed/for-you']) {
    for (const l of ['0', '51', 'abc', '-1', '1.5']) {
      expectProblem(await s.api('GET', `${API}${path}?limit=${l}`, undefined, { token: me.access_token }), 422, { code: 'invalid_limit', field: 'limit' }, `${path} limit=${l}`);
    }
    expectStatus(await s.api('GET', `${API}${path}?limit=50`, undefined, { token: me.access_token }), 200, `${path} limit=50`);
    expectStatus(await s.api('GET', `${API}${path}?limit=1`, undefined, { token: me.access_token }), 200, `${path} limit=1`);
  }
});

/** A copy of cursor with the character at i changed to another of its class. */
function flip(cursor, i) {
  const ch = cursor[i];
  let to;
  if (/[0-9]/.test(ch)) to = String((Number(ch) + 1) % 10);
  else if (/[a-y]/.test(ch) || /[A-Y]/.test(ch)) to = String.fromCharCode(ch.charCodeAt(0) + 1);
  else if (ch === 'z') to = 'a';
  else if (ch === 'Z') to = 'A';
  else return null;
  return cursor.slice(0, i) + to + cursor.slice(i + 1);
}

test('cursors: garbage, tampered, and cursors of another feed are 400 invalid_cursor', async () => {
  const me = await s.user();
  expectStatus(await s.follow(me, a), 200);
  for (let i = 0; i < 4; i++) await s.post(a, { title: `cur${i}` });
  const cursorOf = async (path) => {
    const r = await feed(`${path}${path.includes('?') ? '&' : '?'}limit=1`, me);
    assert.equal(typeof r.next_cursor, 'string', `${path} gave no cursor`);
    return r.next_cursor;
  };
  const cursors = {
    '/feed/new': await cursorOf('/feed/new'),
    '/feed/following': await cursorOf('/feed/following'),
    '/feed/trending': await cursorOf('/feed/trending'),
    '/feed/for-you': await cursorOf('/feed/for-you'),
  };
  const bad = (path, cursor, what) => s.api('GET', `${API}${path}?limit=1&cursor=${encodeURIComponent(cursor)}`, undefined, { token: me.access_token })
    .then((r) => expectProblem(r, 400, { code: 'invalid_cursor' }, `${path}: ${what}`));
  for (const path of Object.keys(cursors)) {
    // the genuine cursor works
    expectStatus(await s.api('GET', `${API}${path}?limit=1&cursor=${encodeURIComponent(cursors[path])}`, undefined, { token: me.access_token }), 200, `${path} own cursor`);
    for (const g of ['garbage', '12345', 'AAAA', '%%%', 'x'.repeat(600), '0']) await bad(path, g, `garbage ${g.slice(0, 10)}`);
    const c = cursors[path];
    let flipped = 0;
    for (const at of [0.25, 0.5, 0.75].map((f) => Math.floor(c.length * f))) {
      for (let i = at; i < c.length - 1; i++) {
        const t = flip(c, i);
        if (t) { await bad(path, t, `tampered at ${i}`); flipped++; break; }
      }
    }
    assert.ok(flipped >= 2, `could not tamper with ${c}`);
    await bad(path, c.slice(0, -2), 'truncated');
    for (const [other, oc] of Object.entries(cursors)) if (other !== path) await bad(path, oc, `cursor of ${other}`);
  }
});

test('cursors are bound to their filter and, for For you, to their viewer', async () => {
  const me = await s.user();
  const other = await s.user();
  const game = uniq('Bind');
  for (let i = 0; i < 3; i++) await s.post(a, { game });
  const g = await feed(`/feed/new?game=${game}&limit=1`, me);
  assert.equal(typeof g.next_cursor, 'string');
  expectProblem(await s.api('GET', `${API}/feed/new?limit=1&cursor=${encodeURIComponent(g.next_cursor)}`), 400, { code: 'invalid_cursor' }, 'a ?game= cursor without the filter');
  expectProblem(await s.api('GET', `${API}/feed/new?game=${uniq('Other')}&limit=1&cursor=${encodeURIComponent(g.next_cursor)}`), 400, { code: 'invalid_cursor' }, 'a ?game= cursor with another game');
  const t = await feed(`/feed/trending?game=${game}&limit=1`, me);
  expectProblem(await s.api('GET', `${API}/feed/trending?limit=1&cursor=${encodeURIComponent(t.next_cursor)}`), 400, { code: 'invalid_cursor' }, 'a trending ?game= cursor without the filter');
  // my For you cursor in someone else's hands serves nothing
  const fy = await feed('/feed/for-you?limit=1', me);
  assert.equal(typeof fy.next_cursor, 'string');
  const r = await s.api('GET', `${API}/feed/for-you?limit=1&cursor=${encodeURIComponent(fy.next_cursor)}`, undefined, { token: other.access_token });
  expectProblem(r, 400, { code: 'invalid_cursor' }, "another viewer's For you cursor (docs/feed.md: scope binds the viewer)");
  // the same for Following
  expectStatus(await s.follow(me, a), 200);
  expectStatus(await s.follow(other, a), 200);
  const fo = await feed('/feed/following?limit=1', me);
  assert.equal(typeof fo.next_cursor, 'string');
  expectProblem(await s.api('GET', `${API}/feed/following?limit=1&cursor=${encodeURIComponent(fo.next_cursor)}`, undefined, { token: other.access_token }), 400, { code: 'invalid_cursor' }, "another viewer's Following cursor");
  // a signed-in cursor of New works signed out (New is the same for everyone but blocks and hidden creators)
  const n = await feed('/feed/new?limit=1', me);
  assert.ok([200, 400].includes((await s.api('GET', `${API}/feed/new?limit=1&cursor=${encodeURIComponent(n.next_cursor)}`)).status));
});

test('/feed/following for someone following more than 100 people: all their posts, newest first, paged', async () => {
  const me = await s.user();
  const creators = [await s.author(), await s.author(), await s.author()];
  const made = [];
  for (let i = 0; i < 4; i++) for (const c of creators) made.push(await s.post(c, { title: `many ${i}`, visibility: i === 1 ? 'followers' : 'public' }));
  const quiet = await s.users(105);
  // (follows are rate limited per user: 60 at once, then 5 a second)
  for (const u of [...quiet, ...creators]) expectStatus(await paced(() => s.follow(me, u)), 200);
  assert.equal(expectStatus(await s.profile(me.username), 200).following_count, 108);
  const got = await walk(s.srv, `${API}/feed/following`, me.access_token, { limit: 3 });
  assert.deepEqual(ids(got), made.map((p) => p.id).reverse());
});

test('hidden creators and hidden games leave New, Following and Trending too, for that viewer only', async () => {
  const me = await s.user();
  const c = await s.author();
  const game = uniq('Hid');
  const other = uniq('Kept');
  const pc = await s.post(c, { game: other });
  const pg = await s.post(b, { game });
  const keep = await s.post(b, { game: other });
  expectStatus(await s.follow(me, c), 200);
  expectStatus(await s.follow(me, b), 200);
  const r = await s.api('PUT', `${API}/feed/preferences`, { hidden_creators: [c.username], hidden_games: [game] }, { token: me.access_token });
  expectStatus(r, 200, 'prefs');
  assert.deepEqual(ids((await feed(`/feed/new?game=${other}`, me)).items), [keep.id]);
  assert.deepEqual(ids((await feed(`/feed/trending?game=${other}`, me)).items), [keep.id]);
  assert.deepEqual((await feed(`/feed/new?game=${game}`, me)).items, []);
  const fol = await walk(s.srv, `${API}/feed/following`, me.access_token, { limit: 50 });
  assert.ok(!fol.some((p) => p.id === pc.id || p.id === pg.id), 'hidden creator or game in Following');
  assert.ok(fol.some((p) => p.id === keep.id));
  const all = await walk(s.srv, `${API}/feed/new`, me.access_token, { limit: 50 });
  assert.ok(!all.some((p) => p.author.id === c.user.id || p.game === game), 'hidden creator or game in New');
  // someone else still sees them
  const other2 = await s.user();
  assert.deepEqual(ids((await feed(`/feed/new?game=${other}`, other2)).items), [keep.id, pc.id]);
  assert.deepEqual(ids((await feed(`/feed/new?game=${game}`, other2)).items), [pg.id]);
});

test('blocked creators are left out of Following and Trending', async () => {
  const me = await s.user();
  const c = await s.author();
  const game = uniq('Blk');
  const p = await s.post(c, { game });
  expectStatus(await s.follow(me, c), 200);
  assert.deepEqual(ids((await feed('/feed/following', me)).items), [p.id]);
  expectStatus(await s.block(me, c), 200);
  assert.deepEqual((await feed('/feed/following', me)).items, []);
  assert.deepEqual((await feed(`/feed/trending?game=${game}`, me)).items, []);
  assert.deepEqual((await feed(`/feed/new?game=${game}`, me)).items, []);
  const bystander = await s.user();
  assert.deepEqual(ids((await feed(`/feed/trending?game=${game}`, bystander)).items), [p.id], 'others still see it');
  const fy = await walk(s.srv, `${API}/feed/for-you`, me.access_token, { limit: 50 });
  assert.ok(!fy.some((x) => x.author.id === c.user.id), 'blocked creator in For you');
  // and the blocked creator no longer sees me either
  const mine = await s.post(await s.withClip(me), { game });
  assert.deepEqual(ids((await feed(`/feed/new?game=${game}`, c)).items), [p.id], 'the blocked user sees only their own post, not the blocker\'s');
  assert.deepEqual(ids((await feed(`/feed/new?game=${game}`, bystander)).items), [mine.id, p.id]);
});
