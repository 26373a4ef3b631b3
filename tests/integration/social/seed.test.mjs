// `cosmiv seed --users --posts --follows-per-user` against the running server's
// database: the feeds then serve the demo content.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runCli } from '../../lib/harness.mjs';
import { API, expectStatus, assertPostShape, walk } from '../../lib/social.mjs';

let srv, seeded;
before(async () => {
  srv = await startServer();
  seeded = await runCli(['seed', '--users', '50', '--posts', '500', '--follows-per-user', '5', '--data-dir', srv.dataDir], { env: srv.env });
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs().slice(-20000)); });

test('seed exits 0', () => {
  assert.equal(seeded.code, 0, `${seeded.stdout}\n${seeded.stderr}`);
});

test('/feed/new serves 20 seeded posts, newest first, and pages through all of them', async () => {
  const r = await srv.api('GET', `${API}/feed/new`);
  expectStatus(r, 200, '/feed/new');
  assert.equal(r.body.items.length, 20);
  assert.equal(typeof r.body.next_cursor, 'string');
  for (const p of r.body.items) {
    assertPostShape(p);
    assert.equal(p.visibility, 'public');
  }
  for (let i = 1; i < r.body.items.length; i++) assert.ok(BigInt(r.body.items[i - 1].id) > BigInt(r.body.items[i].id));
  const all = await walk(srv, `${API}/feed/new`, undefined, { limit: 50 });
  assert.ok(all.length >= 100 && all.length <= 500, `${all.length} public posts`);
  assert.ok(new Set(all.map((p) => p.author.id)).size >= 10, 'posts spread over the demo users');
  assert.ok(new Set(all.map((p) => p.game)).size >= 2, 'posts spread over games');
});

test('/feed/trending serves seeded posts', async (t) => {
  const r = await srv.api('GET', `${API}/feed/trending`);
  expectStatus(r, 200, '/feed/trending');
  assert.equal(r.body.items.length, 20);
  r.body.items.forEach((p) => assertPostShape(p));
  const tr = await walk(srv, `${API}/feed/trending`, undefined, { limit: 50 });
  const eng = (p) => p.like_count + p.comment_count + p.share_count;
  t.diagnostic(`seeded posts with engagement: ${tr.filter((p) => eng(p) > 0).length} of ${tr.length}`);
  const game = tr.find((p) => p.game)?.game;
  const g = await srv.api('GET', `${API}/feed/trending?game=${encodeURIComponent(game)}`);
  expectStatus(g, 200);
  assert.ok(g.body.items.length >= 1 && g.body.items.every((p) => p.game === game));
});

test('a seeded user has follows, a Following feed and a For you feed the freshness slider reorders', async () => {
  const posts = (await srv.api('GET', `${API}/feed/new?limit=50`)).body.items;
  const username = posts[0].author.username;
  const login = await srv.api('POST', `${API}/auth/login`, { login: username, password: 'cosmiv-demo-pass' });
  expectStatus(login, 200, `login as the demo user ${username}`);
  const tok = login.body.access_token;
  const prof = expectStatus(await srv.api('GET', `${API}/users/${username}`), 200);
  assert.equal(prof.following_count, 5, JSON.stringify(prof));
  const following = expectStatus(await srv.api('GET', `${API}/feed/following`, undefined, { token: tok }), 200);
  assert.ok(following.items.length >= 1);
  const first = async (freshness) => {
    const r = await srv.api('PUT', `${API}/feed/preferences`, { freshness }, { token: tok });
    assert.ok(r.status === 200 || r.status === 204, String(r.status));
    const f = expectStatus(await srv.api('GET', `${API}/feed/for-you?limit=10`, undefined, { token: tok }), 200);
    f.items.forEach((p) => assertPostShape(p, { reasons: true }));
    return f.items.map((p) => p.id);
  };
  const stale = await first(0);
  const fresh = await first(100);
  assert.notDeepEqual(fresh, stale, 'freshness 0 and 100 give the same For you page');
});
