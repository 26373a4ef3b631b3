// The micro-cache of signed-out New/Trending pages (COSMIV_FEED_CACHE_MS):
// signed-out visitors get the cached bytes for the TTL, signed-in readers
// never do, and a TTL of 0 turns it off.
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
