// Roles: CRUD, and every escalation attempt a MANAGE_ROLES holder might try
// answered 403 with nothing changed (read back afterwards).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms, has, EVERYONE_DEFAULT } from '../../lib/communities.mjs';
import { expectStatus, expectProblem, isId } from '../../lib/social.mjs';

let s;
before(async () => { s = await communitiesServer(); });
after(async () => { await s.stop(); });

test('create, list (by position), update and delete roles; permissions follow', async () => {
  const [owner, u] = await s.users(2);
  const com = await s.community(owner);
  await s.invite(owner, com, u);
  const r = await s.role(owner, com, { name: 'Streamer', color: 0xff8800, permissions: perms('MANAGE_MESSAGES'), position: 3 });
  assert.ok(isId(r.id));
  assert.deepEqual({ ...r, id: undefined }, { id: undefined, community_id: com.id, name: 'Streamer', color: 0xff8800, position: 3, permissions: perms('MANAGE_MESSAGES'), is_everyone: false });
  const dflt = await s.role(owner, com, { name: 'plain' });
  assert.equal(dflt.position, 1, 'just above @everyone');
  assert.equal(dflt.permissions, '0');
  assert.deepEqual((await s.roles(u, com)).map((x) => x.name), ['@everyone', 'plain', 'Streamer']);
  await s.assign(owner, com, u, r);
  const me = expectStatus(await s.get(u, com), 200).me;
  assert.equal(BigInt(me.permissions), EVERYONE_DEFAULT | BigInt(perms('MANAGE_MESSAGES')));
  const up = expectStatus(await s.call('PATCH', `/communities/${com.id}/roles/${r.id}`, { name: 'Creator', permissions: '0' }, owner), 200);
  assert.equal(up.name, 'Creator');
  assert.equal(up.position, 3);
  assert.equal(has(expectStatus(await s.get(u, com), 200).me.permissions, 'MANAGE_MESSAGES'), false);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/members/${u.user.id}/roles/${r.id}`, undefined, owner), 204);
  await s.assign(owner, com, u, r);
  expectStatus(await s.call('DELETE', `/communities/${com.id}/roles/${r.id}`, undefined, owner), 204);
  expectProblem(await s.call('DELETE', `/communities/${com.id}/roles/${r.id}`, undefined, owner), 404, { code: 'role_not_found' });
  const m = (await s.members(owner, com)).items.find((x) => x.user.id === u.user.id);
  assert.deepEqual(m.roles, [], 'the deleted role is gone from its members');
  // @everyone: permissions may change, name and position may not, and it cannot be deleted
  const ev = expectStatus(await s.call('PATCH', `/communities/${com.id}/roles/${com.id}`, { permissions: perms('VIEW_CHANNEL') }, owner), 200);
  assert.equal(ev.permissions, perms('VIEW_CHANNEL'));
  expectProblem(await s.call('PATCH', `/communities/${com.id}/roles/${com.id}`, { name: 'all' }, owner), 403);
  expectProblem(await s.call('DELETE', `/communities/${com.id}/roles/${com.id}`, undefined, owner), 403);
  expectProblem(await s.call('PUT', `/communities/${com.id}/members/${u.user.id}/roles/${com.id}`, undefined, owner), 403);
});

test('role escalation attempts are 403 and change nothing', async () => {
  // mod: MANAGE_ROLES + KICK at position 5; high: a role at 10; low: position 2
  const [owner, mod, peer, low] = await s.users(4);
  const com = await s.community(owner);
  await s.invite(owner, com, mod, peer, low);
  const modRole = await s.role(owner, com, { name: 'mod', permissions: perms('MANAGE_ROLES', 'KICK_MEMBERS'), position: 5 });
  const high = await s.role(owner, com, { name: 'admin', permissions: perms('ADMINISTRATOR'), position: 10 });
  const lowRole = await s.role(owner, com, { name: 'helper', permissions: '0', position: 2 });
  await s.assign(owner, com, mod, modRole);
  await s.assign(owner, com, peer, modRole);
  await s.assign(owner, com, low, lowRole);
  const general = (await s.channels(owner, com))[0];
  const snapshot = async () => JSON.stringify({
    roles: await s.roles(owner, com),
    members: (await s.members(owner, com)).items.map((m) => [m.user.id, m.roles]),
    overwrites: (await s.channels(owner, com)).map((c) => c.overwrites),
  });
  const before = await snapshot();
  const auditBefore = (await s.audit(owner, com)).length;
  const C = `/communities/${com.id}`;

  const attempts = [
    ['create a role at its own rank', 'POST', `${C}/roles`, { name: 'x', position: 5 }, 'role_hierarchy'],
    ['create a role above itself', 'POST', `${C}/roles`, { name: 'x', position: 7 }, 'role_hierarchy'],
    ['grant a bit it lacks (create)', 'POST', `${C}/roles`, { name: 'x', permissions: perms('BAN_MEMBERS') }, 'missing_permission'],
    ['grant ADMINISTRATOR', 'POST', `${C}/roles`, { name: 'x', permissions: perms('ADMINISTRATOR') }, 'missing_permission'],
    ['edit its own role', 'PATCH', `${C}/roles/${modRole.id}`, { permissions: perms('MANAGE_ROLES', 'KICK_MEMBERS', 'BAN_MEMBERS') }, 'role_hierarchy'],
    ['edit a higher role', 'PATCH', `${C}/roles/${high.id}`, { name: 'mine' }, 'role_hierarchy'],
    ['move a low role to its rank', 'PATCH', `${C}/roles/${lowRole.id}`, { position: 5 }, 'role_hierarchy'],
    ['grant a bit it lacks (edit)', 'PATCH', `${C}/roles/${lowRole.id}`, { permissions: perms('BAN_MEMBERS') }, 'missing_permission'],
    ['grant @everyone a bit it lacks', 'PATCH', `${C}/roles/${com.id}`, { permissions: (EVERYONE_DEFAULT | BigInt(perms('MANAGE_COMMUNITY'))).toString() }, 'missing_permission'],
    ["edit @everyone's position", 'PATCH', `${C}/roles/${com.id}`, { position: 3 }, undefined],
    ["rename @everyone", 'PATCH', `${C}/roles/${com.id}`, { name: 'everybody' }, undefined],
    ['delete a higher role', 'DELETE', `${C}/roles/${high.id}`, undefined, 'role_hierarchy'],
    ['delete its own role', 'DELETE', `${C}/roles/${modRole.id}`, undefined, 'role_hierarchy'],
    ['assign itself a role above it', 'PUT', `${C}/members/${mod.user.id}/roles/${high.id}`, undefined, 'role_hierarchy'],
    ['assign someone a role at its rank', 'PUT', `${C}/members/${low.user.id}/roles/${modRole.id}`, undefined, 'role_hierarchy'],
    ['take a role from a peer', 'DELETE', `${C}/members/${peer.user.id}/roles/${lowRole.id}`, undefined, 'role_hierarchy'],
    ['give a peer a low role', 'PUT', `${C}/members/${peer.user.id}/roles/${lowRole.id}`, undefined, 'role_hierarchy'],
    ['touch the owner', 'PUT', `${C}/members/${owner.user.id}/roles/${lowRole.id}`, undefined, 'role_hierarchy'],
    ['kick a peer', 'DELETE', `${C}/members/${peer.user.id}`, undefined, 'role_hierarchy'],
    ['overwrite a higher role in a channel', 'PUT', `/channels/${general.id}/overwrites/role/${high.id}`, { deny: perms('SEND_MESSAGES') }, 'role_hierarchy'],
    ['overwrite its own role in a channel', 'PUT', `/channels/${general.id}/overwrites/role/${modRole.id}`, { allow: perms('SEND_MESSAGES') }, 'role_hierarchy'],
    ['overwrite a peer in a channel', 'PUT', `/channels/${general.id}/overwrites/member/${peer.user.id}`, { deny: perms('SEND_MESSAGES') }, 'role_hierarchy'],
    ['overwrite the owner in a channel', 'PUT', `/channels/${general.id}/overwrites/member/${owner.user.id}`, { deny: perms('SEND_MESSAGES') }, 'role_hierarchy'],
  ];
  for (const [what, method, path, body, code] of attempts) {
    expectProblem(await s.call(method, path, body, mod), 403, code ? { code } : {}, what);
  }
  // a member without MANAGE_ROLES
  expectProblem(await s.call('POST', `${C}/roles`, { name: 'x' }, low), 403, { code: 'missing_permission' });
  assert.equal(await snapshot(), before, 'nothing changed');
  assert.equal((await s.audit(owner, com)).length, auditBefore, 'nothing audited');

  // what it may do: roles below it, bits it has, members below it, itself with a lower role
  const ok = await s.role(mod, com, { name: 'kicker', permissions: perms('KICK_MEMBERS'), position: 4 });
  expectStatus(await s.call('PUT', `${C}/members/${low.user.id}/roles/${ok.id}`, undefined, mod), 204);
  expectStatus(await s.call('PUT', `${C}/members/${mod.user.id}/roles/${lowRole.id}`, undefined, mod), 204, 'itself, a lower role');
  expectStatus(await s.call('PATCH', `${C}/roles/${lowRole.id}`, { permissions: perms('KICK_MEMBERS') }, mod), 200);
  expectStatus(await s.call('PUT', `/channels/${general.id}/overwrites/role/${lowRole.id}`, { deny: perms('SEND_MESSAGES') }, mod), 204, 'a lower role');
  expectStatus(await s.call('PUT', `/channels/${general.id}/overwrites/member/${low.user.id}`, { deny: perms('ADD_REACTIONS') }, mod), 204, 'a lower member');
});

test('bad role input: types, ranges, permission strings, foreign ids', async () => {
  const [owner, u] = await s.users(2);
  const com = await s.community(owner);
  const other = await s.community(u);
  await s.invite(owner, com, u);
  const C = `/communities/${com.id}`;
  for (const [body, field] of [
    [{ name: '' }, 'name'], [{}, 'name'], [{ name: 'r'.repeat(101) }, 'name'],
    [{ name: 'x', color: 16777216 }, 'color'], [{ name: 'x', color: -1 }, 'color'], [{ name: 'x', color: '#fff' }, 'color'],
    [{ name: 'x', position: 0 }, 'position'], [{ name: 'x', position: 1.5 }, 'position'],
    [{ name: 'x', permissions: 'abc' }, 'permissions'], [{ name: 'x', permissions: '1 2' }, 'permissions'],
    [{ name: 'x', permissions: '18446744073709551616' }, 'permissions'], [{ name: 'x', permissions: '16384' }, 'permissions'],
    [{ name: 'x', permissions: 16 }, 'permissions'], [{ name: 'x', permissions: '0x10' }, 'permissions'],
    [{ name: 'x', is_everyone: true }, 'is_everyone'],
  ]) {
    expectProblem(await s.call('POST', `${C}/roles`, body, owner), 422, { field }, JSON.stringify(body));
  }
  assert.equal((await s.roles(owner, com)).length, 1, 'only @everyone');
  const otherEveryone = other.id;
  expectProblem(await s.call('PATCH', `${C}/roles/${otherEveryone}`, { name: 'x' }, owner), 404, { code: 'role_not_found' });
  expectProblem(await s.call('PUT', `${C}/members/${u.user.id}/roles/${otherEveryone}`, undefined, owner), 404, { code: 'role_not_found' });
  const r = await s.role(owner, com, { name: 'ok' });
  expectProblem(await s.call('PUT', `/communities/${other.id}/members/${u.user.id}/roles/${r.id}`, undefined, u), 404, { code: 'role_not_found' });
  expectProblem(await s.call('PUT', `${C}/members/12345/roles/${r.id}`, undefined, owner), 404, { code: 'member_not_found' });
  expectProblem(await s.call('PUT', `${C}/members/abc/roles/${r.id}`, undefined, owner), 404, { code: 'member_not_found' });
  expectProblem(await s.call('PATCH', `${C}/roles/${r.id}`, { name: null }, owner), 422, { field: 'name' });
  expectProblem(await s.call('PATCH', `${C}/roles/${r.id}`, undefined, owner, { raw: 'not json', headers: { 'Content-Type': 'application/json' } }), 400, { code: 'invalid_json' });
});
