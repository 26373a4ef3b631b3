// Members, invites and bans: invite limits and expiry, bans, kick/ban under
// the hierarchy, the members list (pagination, roles, presence) and the
// audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms } from '../../lib/communities.mjs';
import { expectStatus, expectProblem, assertUserSummary, isId, ISO, sleep } from '../../lib/social.mjs';

let s;
before(async () => { s = await communitiesServer(); });
after(async () => { await s.stop(); });

test('invites: preview, max_uses, used up → 404, already a member does not use it', async () => {
  const [owner, a, b, c] = await s.users(4);
  const com = await s.community(owner, { name: 'Invite Only', description: 'd', icon: '🎯' });
  const inv = await s.makeInvite(owner, com, { max_uses: 2 });
  assert.match(inv.code, /^[A-Za-z0-9_-]{10}$/);
  assert.equal(inv.community_id, com.id);
  assert.equal(inv.inviter_id, owner.user.id);
  assert.equal(inv.max_uses, 2);
  assert.equal(inv.uses, 0);
  assert.match(inv.expires_at, ISO, 'default expiry: 7 days');
  const days = (Date.parse(inv.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 6.9 && days < 7.1, `${days}`);
  const prev = expectStatus(await s.call('GET', `/invites/${inv.code}`, undefined, a), 200);
  assert.deepEqual(prev, { code: inv.code, community: { id: com.id, name: 'Invite Only', description: 'd', icon: '🎯', member_count: 1 } });
  const j = expectStatus(await s.call('POST', `/invites/${inv.code}/accept`, undefined, a), 200);
  assert.equal(j.id, com.id);
  assert.equal(j.me.joined, true);
  assert.equal(j.member_count, 2);
  expectStatus(await s.call('POST', `/invites/${inv.code}/accept`, undefined, a), 200, 'again: already a member');
  expectStatus(await s.call('POST', `/invites/${inv.code}/accept`, undefined, owner), 200, 'the owner');
  expectStatus(await s.call('POST', `/invites/${inv.code}/accept`, undefined, b), 200);
  expectProblem(await s.call('POST', `/invites/${inv.code}/accept`, undefined, c), 404, { code: 'invite_not_found' }, 'used up');
  expectProblem(await s.call('GET', `/invites/${inv.code}`, undefined, c), 404, { code: 'invite_not_found' });
  expectProblem(await s.call('GET', '/invites/nosuchcode', undefined, c), 404, { code: 'invite_not_found' });
  expectProblem(await s.call('GET', '/invites/bad%20code!', undefined, c), 404, { code: 'invite_not_found' });
  assert.equal(expectStatus(await s.get(owner, com), 200).member_count, 3);
  for (const [body, field] of [[{ max_uses: 1001 }, 'max_uses'], [{ max_uses: -1 }, 'max_uses'], [{ expires_in_s: 2592001 }, 'expires_in_s'], [{ expires_in_s: '60' }, 'expires_in_s'], [{ code: 'mine' }, 'code']]) {
    expectProblem(await s.call('POST', `/communities/${com.id}/invites`, body, owner), 422, { field }, JSON.stringify(body));
  }
  const never = await s.makeInvite(owner, com, { expires_in_s: 0 });
  assert.equal(never.expires_at, null);
  const [stranger] = await s.users(1);
  expectProblem(await s.call('POST', `/communities/${com.id}/invites`, {}, stranger), 404, { code: 'community_not_found' });
});

test('an expired invite is 404; a banned user cannot accept or join', async () => {
  const [owner, a, b] = await s.users(3);
  const com = await s.community(owner, { public: true });
  const short = await s.makeInvite(owner, com, { expires_in_s: 1 });
  const good = await s.makeInvite(owner, com);
  await sleep(1200);
  expectProblem(await s.call('POST', `/invites/${short.code}/accept`, undefined, a), 404, { code: 'invite_not_found' }, 'expired');
  expectStatus(await s.call('PUT', `/communities/${com.id}/bans/${b.user.id}`, { reason: 'spam' }, owner), 204, 'ban a non-member');
  expectProblem(await s.call('POST', `/invites/${good.code}/accept`, undefined, b), 403, { code: 'banned' });
  expectProblem(await s.call('POST', `/communities/${com.id}/join`, undefined, b), 403, { code: 'banned' });
  const bans = expectStatus(await s.call('GET', `/communities/${com.id}/bans`, undefined, owner), 200).items;
  assert.equal(bans.length, 1);
  assert.equal(bans[0].user.id, b.user.id);
  assert.equal(bans[0].reason, 'spam');
  assert.equal(bans[0].banned_by, owner.user.id);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/bans/${b.user.id}`, undefined, owner), 204);
  expectStatus(await s.call('POST', `/invites/${good.code}/accept`, undefined, b), 200, 'unbanned');
  expectStatus(await s.call('GET', `/communities/${com.id}/bans`, undefined, b), 403, 'a plain member may not list bans');
});

test('kick and ban follow the hierarchy; nobody acts on the owner', async () => {
  const [owner, mod, peer, user, user2] = await s.users(5);
  const com = await s.community(owner);
  await s.invite(owner, com, mod, peer, user, user2);
  const modRole = await s.role(owner, com, { name: 'mod', permissions: perms('KICK_MEMBERS', 'BAN_MEMBERS'), position: 5 });
  const peerRole = await s.role(owner, com, { name: 'peer', position: 5 });
  await s.assign(owner, com, mod, modRole);
  await s.assign(owner, com, peer, peerRole);
  const memberIds = async () => (await s.members(owner, com)).items.map((m) => m.user.id);
  const before = await memberIds();

  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/${user.user.id}`, undefined, user2), 403, { code: 'missing_permission' });
  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/${owner.user.id}`, undefined, mod), 403, { code: 'role_hierarchy' });
  expectProblem(await s.call('PUT', `/communities/${com.id}/bans/${owner.user.id}`, {}, mod), 403, { code: 'role_hierarchy' });
  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/${peer.user.id}`, undefined, mod), 403, { code: 'role_hierarchy' }, 'equal rank');
  expectProblem(await s.call('PUT', `/communities/${com.id}/bans/${peer.user.id}`, undefined, mod), 403, { code: 'role_hierarchy' }, 'equal rank');
  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/${mod.user.id}`, undefined, mod), 403, { code: 'role_hierarchy' }, 'self');
  assert.deepEqual(await memberIds(), before, 'nobody left');
  const banned = expectStatus(await s.call('GET', `/communities/${com.id}/bans`, undefined, owner), 200).items;
  assert.equal(banned.length, 0);

  expectStatus(await s.call('DELETE', `/communities/${com.id}/members/${user.user.id}`, undefined, mod), 204);
  expectStatus(await s.call('PUT', `/communities/${com.id}/bans/${user2.user.id}`, { reason: 'cheating' }, mod), 204);
  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/${user.user.id}`, undefined, mod), 404, { code: 'member_not_found' });
  expectProblem(await s.call('DELETE', `/communities/${com.id}/members/99999`, undefined, mod), 404, { code: 'member_not_found' });
  expectProblem(await s.call('PUT', `/communities/${com.id}/bans/99999`, undefined, mod), 404, { code: 'member_not_found' });
  expectProblem(await s.call('PUT', `/communities/${com.id}/bans/${user.user.id}`, { reason: 'r'.repeat(513) }, mod), 422, { field: 'reason' });
  expectProblem(await s.get(user, com), 404, { code: 'community_not_found' }, 'kicked');
  expectProblem(await s.get(user2, com), 404, { code: 'community_not_found' }, 'banned');
  const after = await memberIds();
  assert.equal(after.length, before.length - 2);
  assert.equal(expectStatus(await s.get(owner, com), 200).member_count, after.length);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/members/${mod.user.id}`, undefined, owner), 204, 'the owner outranks everyone');
});

test('members list: by user id, paginated, with roles and presence', async () => {
  const [owner, ...rest] = await s.users(6);
  const com = await s.community(owner);
  await s.invite(owner, com, ...rest);
  const role = await s.role(owner, com, { name: 'vip' });
  await s.assign(owner, com, rest[0], role);
  const all = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const q = `limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const r = await s.members(rest[1], com, q);
    assert.ok(r.items.length <= 2);
    all.push(...r.items);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  assert.equal(all.length, 6);
  const ids = all.map((m) => m.user.id);
  const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  assert.deepEqual(ids, sorted, 'by user id');
  for (const m of all) {
    assert.equal(m.community_id, com.id);
    assertUserSummary(m.user);
    assert.match(m.joined_at, ISO);
    assert.equal(m.presence, 'offline');
    assert.equal(m.nick, null);
    assert.ok(Array.isArray(m.roles));
  }
  assert.deepEqual(all.find((m) => m.user.id === rest[0].user.id).roles, [role.id]);
  assert.deepEqual(all.find((m) => m.user.id === rest[1].user.id).roles, []);
  expectProblem(await s.call('GET', `/communities/${com.id}/members?limit=101`, undefined, owner), 422, { field: 'limit' });
  // GET /communities/{id} carries my own member record, whatever page of the list holds me
  const mine = await s.call('GET', `/communities/${com.id}`, undefined, rest[0]);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.me.member.user.id, rest[0].user.id);
  assert.deepEqual(mine.body.me.member.roles, [role.id]);
  assert.equal(mine.body.me.member.community_id, com.id);
});

test('audit log: moderation actions are recorded newest first; 403 without VIEW_AUDIT_LOG', async () => {
  const { owner, mod, plain, com } = await s.staffed(perms('VIEW_AUDIT_LOG', 'KICK_MEMBERS', 'BAN_MEMBERS'));
  const [victim, other] = await s.users(2);
  await s.invite(owner, com, victim, other);
  expectStatus(await s.call('PATCH', `/communities/${com.id}`, { description: 'new' }, owner), 200);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/members/${victim.user.id}`, undefined, mod), 204);
  expectStatus(await s.call('PUT', `/communities/${com.id}/bans/${other.user.id}`, { reason: 'toxic' }, mod), 204);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/bans/${other.user.id}`, undefined, mod), 204);
  const r = expectProblem(await s.call('GET', `/communities/${com.id}/audit-log`, undefined, plain), 403, { code: 'missing_permission' });
  assert.match(r.detail, /VIEW_AUDIT_LOG/);
  const items = await s.audit(mod, com);
  for (const a of items) {
    for (const k of ['id', 'community_id', 'actor_id', 'action', 'target_type', 'target_id', 'detail', 'created_at']) assert.ok(k in a, `${k}: ${JSON.stringify(a)}`);
    assert.ok(isId(a.id));
    assert.equal(a.community_id, com.id);
  }
  const [unban, ban, kick, update] = items;
  assert.deepEqual([unban.action, ban.action, kick.action, update.action], ['member_unban', 'member_ban', 'member_kick', 'community_update']);
  assert.equal(kick.actor_id, mod.user.id);
  assert.equal(kick.target_type, 'member');
  assert.equal(kick.target_id, victim.user.id);
  assert.equal(ban.detail.reason, 'toxic');
  assert.equal(update.detail.description, 'new');
  assert.equal(update.actor_id, owner.user.id);
  // invites, roles and role assignments are in it too
  const actions = items.map((a) => a.action);
  for (const a of ['invite_create', 'role_create', 'role_assign']) assert.ok(actions.includes(a), `${a} in ${actions}`);
  // pagination
  const p1 = expectStatus(await s.call('GET', `/communities/${com.id}/audit-log?limit=2`, undefined, owner), 200);
  assert.equal(p1.items.length, 2);
  const p2 = expectStatus(await s.call('GET', `/communities/${com.id}/audit-log?limit=2&cursor=${p1.next_cursor}`, undefined, owner), 200);
  assert.deepEqual([...p1.items, ...p2.items].map((a) => a.id), items.slice(0, 4).map((a) => a.id));
});

test('a member who deletes their account leaves the member count; an owner takes their communities along', async () => {
  const [owner, member] = await s.users(2);
  const com = await s.community(owner);
  const theirs = await s.community(member);
  await s.invite(owner, com, member);
  assert.equal(expectStatus(await s.get(owner, com), 200).member_count, 2);
  const r = await s.call('DELETE', '/users/me', { password: member.password }, member);
  assert.equal(r.status, 204, JSON.stringify(r.body));
  const after = expectStatus(await s.get(owner, com), 200);
  assert.equal(after.member_count, 1);
  assert.deepEqual((await s.members(owner, com)).items.map((m) => m.user.id), [owner.user.id]);
  assert.equal((await s.get(owner, theirs)).status, 404);
});
