// Communities: create (with @everyone and #general), mine, discover, the
// profile non-members see, PATCH/DELETE rights, join/leave, bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms, has, EVERYONE_DEFAULT, PERM_ALL } from '../../lib/communities.mjs';
import { expectStatus, expectProblem, isId, ISO } from '../../lib/social.mjs';
import { uniq } from '../../lib/harness.mjs';

let s;
before(async () => { s = await communitiesServer(); });
after(async () => { await s.stop(); });

function assertCommunity(c) {
  for (const k of ['id', 'name', 'description', 'icon', 'public', 'owner_id', 'member_count', 'created_at', 'me']) {
    assert.ok(k in c, `${k} missing: ${JSON.stringify(c)}`);
  }
  assert.ok(isId(c.id));
  assert.ok(isId(c.owner_id));
  assert.match(c.created_at, ISO);
  assert.equal(typeof c.me.joined, 'boolean');
  assert.match(c.me.permissions, /^\d+$/);
}

test('POST /communities: 201, the owner is a member with every permission; @everyone and #general exist', async () => {
  const [owner] = await s.users(1);
  const c = await s.community(owner, { name: 'Night Raiders', description: 'we raid', icon: '🌙', public: true });
  assertCommunity(c);
  assert.equal(c.name, 'Night Raiders');
  assert.equal(c.description, 'we raid');
  assert.equal(c.icon, '🌙');
  assert.equal(c.public, true);
  assert.equal(c.owner_id, owner.user.id);
  assert.equal(c.member_count, 1);
  assert.deepEqual(c.me, { joined: true, permissions: PERM_ALL.toString() });

  const full = expectStatus(await s.get(owner, c), 200, 'get');
  assertCommunity(full);
  const everyone = full.roles.find((r) => r.is_everyone);
  assert.ok(everyone, 'an @everyone role');
  assert.equal(everyone.id, c.id, '@everyone has the community id');
  assert.equal(everyone.name, '@everyone');
  assert.equal(everyone.position, 0);
  assert.equal(everyone.permissions, EVERYONE_DEFAULT.toString());
  assert.equal(full.channels.length, 1);
  const g = full.channels[0];
  assert.equal(g.name, 'general');
  assert.equal(g.type, 'text');
  assert.equal(g.community_id, c.id);
  assert.equal(g.my_permissions, PERM_ALL.toString());
  assert.deepEqual(g.overwrites, []);

  const mine = expectStatus(await s.call('GET', '/communities', undefined, owner), 200);
  assert.deepEqual(mine.items.map((x) => x.id), [c.id]);
  expectStatus(await s.call('GET', '/communities', undefined, null), 401, 'anonymous');
});

test('GET /communities: newest join first; member permissions are @everyone\'s', async () => {
  const [a, b] = await s.users(2);
  const c1 = await s.community(a);
  const c2 = await s.community(b, { public: true });
  expectStatus(await s.call('POST', `/communities/${c2.id}/join`, undefined, a), 200);
  const mine = expectStatus(await s.call('GET', '/communities', undefined, a), 200).items;
  assert.deepEqual(mine.map((x) => x.id), [c2.id, c1.id]);
  assert.equal(mine[0].me.permissions, EVERYONE_DEFAULT.toString());
  assert.equal(mine[0].me.joined, true);
});

test('a private community is 404 to non-members; a public one shows its profile without channels', async () => {
  const [owner, stranger] = await s.users(2);
  const priv = await s.community(owner);
  const pub = await s.community(owner, { public: true });
  expectProblem(await s.get(stranger, priv), 404, { code: 'community_not_found' });
  expectProblem(await s.get(stranger, '123456'), 404, { code: 'community_not_found' });
  expectProblem(await s.get(stranger, 'abc'), 404, { code: 'community_not_found' });
  const prof = expectStatus(await s.get(stranger, pub), 200);
  assert.equal(prof.me.joined, false);
  assert.equal(prof.me.permissions, '0');
  assert.equal(prof.channels, undefined);
  expectProblem(await s.call('GET', `/communities/${priv.id}/channels`, undefined, stranger), 404, { code: 'community_not_found' });
  expectProblem(await s.call('GET', `/communities/${pub.id}/members`, undefined, stranger), 404, { code: 'community_not_found' });
  expectProblem(await s.call('POST', `/communities/${priv.id}/join`, undefined, stranger), 404, { code: 'community_not_found' });
});

test('discover: public communities containing q, case-insensitive, biggest first, paginated', async () => {
  const [a, b, c] = await s.users(3);
  const tag = uniq('Zq').toLowerCase();
  const big = await s.community(a, { name: `Big ${tag.toUpperCase()} club`, public: true });
  const small = await s.community(a, { name: `small ${tag}`, public: true });
  await s.community(a, { name: `hidden ${tag}` }); // private
  const mid = await s.community(b, { name: `mid_${tag}`, public: true });
  for (const u of [b, c]) expectStatus(await s.call('POST', `/communities/${big.id}/join`, undefined, u), 200);
  expectStatus(await s.call('POST', `/communities/${mid.id}/join`, undefined, c), 200);
  const r = expectStatus(await s.call('GET', `/communities/discover?q=${encodeURIComponent(tag.toUpperCase())}`, undefined, c), 200);
  assert.deepEqual(r.items.map((x) => x.id), [big.id, mid.id, small.id]);
  assert.deepEqual(r.items.map((x) => x.member_count), [3, 2, 1]);
  assert.equal(r.items[0].me.joined, true);
  assert.equal(r.items[2].me.joined, false);
  assert.equal(r.next_cursor, null);
  // pages of one
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 5; i++) {
    const q = `/communities/discover?q=${tag}&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
    const page = expectStatus(await s.call('GET', q, undefined, c), 200);
    seen.push(...page.items.map((x) => x.id));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [big.id, mid.id, small.id]);
  // LIKE specials are literal
  const none = expectStatus(await s.call('GET', `/communities/discover?q=${encodeURIComponent(`${tag}%`)}`, undefined, c), 200);
  assert.deepEqual(none.items, []);
  expectProblem(await s.call('GET', '/communities/discover?limit=0', undefined, c), 422, { field: 'limit' });
  expectProblem(await s.call('GET', '/communities/discover?cursor=x', undefined, c), 422, { field: 'cursor' });
});

test('PATCH needs MANAGE_COMMUNITY; DELETE is the owner\'s', async () => {
  const { owner, mod, plain, com } = await s.staffed(perms('MANAGE_COMMUNITY'));
  const r = expectProblem(await s.call('PATCH', `/communities/${com.id}`, { name: 'Hacked' }, plain), 403, { code: 'missing_permission' });
  assert.match(r.detail, /MANAGE_COMMUNITY/);
  assert.equal(expectStatus(await s.get(owner, com), 200).name, com.name, 'unchanged');
  const up = expectStatus(await s.call('PATCH', `/communities/${com.id}`, { name: 'Renamed', description: null, icon: null, public: true }, mod), 200);
  assert.equal(up.name, 'Renamed');
  assert.equal(up.description, '');
  assert.equal(up.icon, null);
  assert.equal(up.public, true);
  const del = expectProblem(await s.call('DELETE', `/communities/${com.id}`, undefined, mod), 403, { code: 'missing_permission' });
  assert.ok(del.detail.length > 0);
  expectStatus(await s.get(owner, com), 200);
  expectStatus(await s.call('DELETE', `/communities/${com.id}`, undefined, owner), 204);
  expectProblem(await s.get(owner, com), 404, { code: 'community_not_found' });
  expectProblem(await s.get(mod, com), 404, { code: 'community_not_found' });
  const mine = expectStatus(await s.call('GET', '/communities', undefined, plain), 200).items;
  assert.ok(!mine.some((x) => x.id === com.id));
});

test('join a public community; leave; the owner cannot leave', async () => {
  const [owner, u] = await s.users(2);
  const com = await s.community(owner, { public: true });
  const j = expectStatus(await s.call('POST', `/communities/${com.id}/join`, undefined, u), 200);
  assert.equal(j.me.joined, true);
  assert.equal(j.member_count, 2);
  const again = expectStatus(await s.call('POST', `/communities/${com.id}/join`, undefined, u), 200, 'join twice');
  assert.equal(again.member_count, 2);
  expectProblem(await s.call('POST', `/communities/${com.id}/leave`, undefined, owner), 409, { code: 'owner_cannot_leave' });
  expectStatus(await s.call('POST', `/communities/${com.id}/leave`, undefined, u), 204);
  expectProblem(await s.call('POST', `/communities/${com.id}/leave`, undefined, u), 404, { code: 'community_not_found' });
  assert.equal(expectStatus(await s.get(owner, com), 200).member_count, 1);
});

test('bad input: malformed JSON, wrong types, unknown fields, lengths', async () => {
  const [u] = await s.users(1);
  expectProblem(await s.call('POST', '/communities', undefined, u, { raw: '{"name": ', headers: { 'Content-Type': 'application/json' } }), 400, { code: 'invalid_json' });
  expectProblem(await s.call('POST', '/communities', { name: 5 }, u), 422, { field: 'name', code: 'invalid_type' });
  expectProblem(await s.call('POST', '/communities', { name: 'ok name', public: 'yes' }, u), 422, { field: 'public' });
  expectProblem(await s.call('POST', '/communities', { name: 'ok name', owner_id: '1' }, u), 422, { field: 'owner_id', code: 'unknown_field' });
  expectProblem(await s.call('POST', '/communities', { name: 'x' }, u), 422, { field: 'name' });
  expectProblem(await s.call('POST', '/communities', { name: '   x   ' }, u), 422, { field: 'name' });
  expectProblem(await s.call('POST', '/communities', { name: 'x'.repeat(101) }, u), 422, { field: 'name' });
  expectProblem(await s.call('POST', '/communities', { name: 'ok name', description: 'd'.repeat(1001) }, u), 422, { field: 'description' });
  expectProblem(await s.call('POST', '/communities', { name: 'ok name', icon: 'i'.repeat(17) }, u), 422, { field: 'icon' });
  expectProblem(await s.call('POST', '/communities', {}, u), 422, { field: 'name', code: 'missing_field' });
  const mine = expectStatus(await s.call('GET', '/communities', undefined, u), 200).items;
  assert.equal(mine.length, 0, 'nothing was created');
  const c = await s.community(u, { name: '  Trimmed  ' });
  assert.equal(c.name, 'Trimmed');
  expectProblem(await s.call('PATCH', `/communities/${c.id}`, { name: null }, u), 422, { field: 'name' });
  expectProblem(await s.call('PATCH', `/communities/${c.id}`, { member_count: 5 }, u), 422, { field: 'member_count' });
});
