// The micro-cache of feed pages (COSMIV_FEED_CACHE_MS): signed-out visitors
// get the cached bytes of New/Trending for the TTL; a signed-in reader gets
// their own page for the TTL unless they changed something since (a like, a
// follow, a hide…); a TTL of 0 turns both off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runCli, uniq } from '../../lib/harness.mjs';

const PASSWORD = 'correct horse battery';

async function register(srv) {
  const username = uniq('mc');
  const r = await srv.api('POST', '/api/v2/auth/register', { username, email: `${username}@example.com`, password: PASSWORD });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { token: r.body.access_token, username };
}

async function seed(srv, posts) {
  const r = await runCli(['seed', '--users', '5', '--posts', String(posts), '--follows-per-user', '1', '--data-dir', srv.dataDir], { env: srv.env });
  assert.equal(r.code, 0, r.stderr);
}

for (const [ttl, cached] of [['60000', true], ['0', false]]) {
  test(`feed micro-cache with COSMIV_FEED_CACHE_MS=${ttl}`, async () => {
    const srv = await startServer({ env: { COSMIV_FEED_CACHE_MS: ttl } });
    try {
      const { token, username } = await register(srv);
      await seed(srv, 30);
      const first = await srv.fetch('/api/v2/feed/new?limit=5').then((r) => r.text());
      const firstIds = JSON.parse(first).items.map((p) => p.id);
      assert.equal(firstIds.length, 5);
      // the newest post goes away: its author deletes it (the seed gives posts to every user,
      // the one registered here included; seeded users share the demo password)
      const top = JSON.parse(first).items[0];
      const password = top.author.username === username ? PASSWORD : 'cosmiv-demo-pass';
      const login = await srv.api('POST', '/api/v2/auth/login', { login: top.author.username, password });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const del = await srv.api('DELETE', `/api/v2/posts/${top.id}`, undefined, { token: login.body.access_token });
      assert.equal(del.status, 204);
      const again = await srv.fetch('/api/v2/feed/new?limit=5').then((r) => r.text());
      const mine = await srv.api('GET', '/api/v2/feed/new?limit=5', undefined, { token });
      assert.equal(mine.status, 200);
      const mineIds = mine.body.items.map((p) => p.id);
      // signed in: always the database as it is
      assert.ok(!mineIds.includes(top.id));
      assert.deepEqual(mineIds.slice(0, 4), firstIds.slice(1));
      if (cached) assert.equal(again, first);
      else assert.deepEqual(JSON.parse(again).items.map((p) => p.id), mineIds);
      // another query is another cache entry
      const other = await srv.api('GET', '/api/v2/feed/new?limit=6');
      assert.deepEqual(other.body.items.map((p) => p.id).slice(0, 5), mineIds);
    } finally {
      await srv.stop();
    }
  });
}

test('signed-in pages: cached per viewer for the TTL; the viewer\'s own like shows at once; posts are shared, liked_by_me is not', async () => {
  const srv = await startServer({ env: { COSMIV_FEED_CACHE_MS: '60000' } });
  try {
    const a = await register(srv);
    const b = await register(srv);
    const c = await register(srv);
    await seed(srv, 30);
    const get = async (u) => {
      const r = await srv.api('GET', '/api/v2/feed/new?limit=5', undefined, { token: u.token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const like = async (u, id) => {
      const r = await srv.api('PUT', `/api/v2/posts/${id}/like`, undefined, { token: u.token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    const first = await get(a);
    const p = first.items[0];
    assert.equal(p.liked_by_me, false);
    // someone else's like: within the TTL, a's page is the one a already saw
    await like(b, p.id);
    assert.deepEqual(await get(a), first);
    // a's own like shows at once, with b's
    await like(a, p.id);
    const mine = (await get(a)).items.find((x) => x.id === p.id);
    assert.equal(mine.liked_by_me, true);
    assert.equal(mine.like_count, p.like_count + 2);
    // the same post on other pages: the shared part agrees, liked_by_me is each reader's
    const forB = (await get(b)).items.find((x) => x.id === p.id);
    const forC = (await get(c)).items.find((x) => x.id === p.id);
    assert.equal(forB.like_count, p.like_count + 2);
    assert.equal(forB.liked_by_me, true);
    assert.equal(forC.like_count, p.like_count + 2);
    assert.equal(forC.liked_by_me, false);
    assert.deepEqual({ ...forC, liked_by_me: true }, { ...mine });
    // a's unlike: at once again
    const un = await srv.api('DELETE', `/api/v2/posts/${p.id}/like`, undefined, { token: a.token });
    assert.equal(un.status, 200);
    const after = (await get(a)).items.find((x) => x.id === p.id);
    assert.equal(after.liked_by_me, false);
    assert.equal(after.like_count, p.like_count + 1);
    // New is chronological: a post deleted by anyone leaves a's cached New page at once
    const password = [a, b, c].some((u) => u.username === p.author.username) ? PASSWORD : 'cosmiv-demo-pass';
    const login = await srv.api('POST', '/api/v2/auth/login', { login: p.author.username, password });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const del = await srv.api('DELETE', `/api/v2/posts/${p.id}`, undefined, { token: login.body.access_token });
    assert.equal(del.status, 204);
    assert.ok(!(await get(a)).items.some((x) => x.id === p.id));
  } finally {
    await srv.stop();
  }
});
