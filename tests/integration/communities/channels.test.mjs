// Channels: CRUD under MANAGE_CHANNELS with names normalised, announcement
// channels, overwrites (who may set them, which bits, and that a channel
// hidden by an overwrite is 404), bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { communitiesServer, perms, has, PERM } from '../../lib/communities.mjs';
import { expectStatus, expectProblem, isId } from '../../lib/social.mjs';

let s;
before(async () => { s = await communitiesServer(); });
after(async () => { await s.stop(); });

function assertChannel(ch) {
  for (const k of ['id', 'community_id', 'name', 'type', 'category', 'topic', 'position', 'last_message_id', 'last_read_id', 'my_permissions', 'overwrites']) {
    assert.ok(k in ch, `${k} missing: ${JSON.stringify(ch)}`);
  }
  assert.ok(isId(ch.id));
  assert.match(ch.my_permissions, /^\d+$/);
  assert.ok(Array.isArray(ch.overwrites));
}

test('create, list, update, delete channels; names are lower-cased with dashes', async () => {
  const { owner, mod, plain, com } = await s.staffed(perms('MANAGE_CHANNELS'));
  const ch = await s.channel(mod, com, { name: '  Clip  Reviews ', category: 'Media', topic: 'post your best' });
  assertChannel(ch);
  assert.equal(ch.name, 'clip-reviews');
  assert.equal(ch.type, 'text');
  assert.equal(ch.category, 'Media');
  assert.equal(ch.topic, 'post your best');
  assert.equal(ch.position, 1, 'after general');
  assert.equal(ch.community_id, com.id);
  const list = await s.channels(plain, com);
  assert.deepEqual(list.map((c) => c.name), ['general', 'clip-reviews']);
  list.forEach(assertChannel);

  const r = expectProblem(await s.call('POST', `/communities/${com.id}/channels`, { name: 'nope' }, plain), 403, { code: 'missing_permission' });
  assert.match(r.detail, /MANAGE_CHANNELS/);
  expectProblem(await s.call('PATCH', `/channels/${ch.id}`, { name: 'nope' }, plain), 403, { code: 'missing_permission' });
  expectProblem(await s.call('DELETE', `/channels/${ch.id}`, undefined, plain), 403, { code: 'missing_permission' });
  assert.equal((await s.channels(owner, com)).length, 2, 'nothing changed');

  const up = expectStatus(await s.call('PATCH', `/channels/${ch.id}`, { name: 'Top Plays', topic: null, position: 0 }, mod), 200);
  assert.equal(up.name, 'top-plays');
  assert.equal(up.topic, null);
  assert.equal(up.category, 'Media');
  assert.equal(up.position, 0);
  expectStatus(await s.call('DELETE', `/channels/${ch.id}`, undefined, mod), 204);
  expectProblem(await s.call('DELETE', `/channels/${ch.id}`, undefined, mod), 404, { code: 'channel_not_found' });
  assert.deepEqual((await s.channels(owner, com)).map((c) => c.name), ['general']);
  const audit = await s.audit(owner, com);
  assert.deepEqual(audit.map((a) => a.action).slice(0, 3), ['channel_delete', 'channel_update', 'channel_create']);
});

test('an announcement channel denies SEND_MESSAGES to @everyone', async () => {
  const [owner, u] = await s.users(2);
  const com = await s.community(owner);
  await s.invite(owner, com, u);
  const ch = await s.channel(owner, com, { name: 'News', type: 'announcement' });
  assert.equal(ch.type, 'announcement');
  assert.deepEqual(ch.overwrites, [{ type: 'role', id: com.id, allow: '0', deny: PERM.SEND_MESSAGES.toString() }]);
  const seen = (await s.channels(u, com)).find((c) => c.id === ch.id);
  assert.ok(seen, 'members still see it');
  assert.equal(has(seen.my_permissions, 'SEND_MESSAGES'), false);
  assert.equal(has(seen.my_permissions, 'VIEW_CHANNEL'), true);
  assert.equal(has(ch.my_permissions, 'SEND_MESSAGES'), true, 'the owner may post');
  expectProblem(await s.call('POST', `/communities/${com.id}/channels`, { name: 'x', type: 'voice' }, owner), 422, { field: 'type' });
});

test('overwrites: a role denied VIEW_CHANNEL no longer sees the channel (404); a member allow wins', async () => {
  const [owner, a, b] = await s.users(3);
  const com = await s.community(owner);
  await s.invite(owner, com, a, b);
  const muted = await s.role(owner, com, { name: 'muted' });
  await s.assign(owner, com, a, muted);
  await s.assign(owner, com, b, muted);
  const ch = await s.channel(owner, com, { name: 'secret' });
  expectStatus(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${muted.id}`, { allow: '0', deny: perms('VIEW_CHANNEL') }, owner), 204);
  for (const u of [a, b]) {
    assert.ok(!(await s.channels(u, com)).some((c) => c.id === ch.id), 'hidden');
    expectProblem(await s.call('PATCH', `/channels/${ch.id}`, { topic: 'x' }, u), 404, { code: 'channel_not_found' });
  }
  const full = expectStatus(await s.get(a, com), 200);
  assert.ok(!full.channels.some((c) => c.id === ch.id));
  // the member's own overwrite beats the role's
  expectStatus(await s.call('PUT', `/channels/${ch.id}/overwrites/member/${b.user.id}`, { allow: perms('VIEW_CHANNEL') }, owner), 204);
  assert.ok((await s.channels(b, com)).some((c) => c.id === ch.id));
  assert.ok(!(await s.channels(a, com)).some((c) => c.id === ch.id));
  const seen = (await s.channels(owner, com)).find((c) => c.id === ch.id);
  assert.equal(seen.overwrites.length, 2);
  // deleting the role's overwrite shows it again
  expectStatus(await s.call('DELETE', `/channels/${ch.id}/overwrites/role/${muted.id}`, undefined, owner), 204);
  assert.ok((await s.channels(a, com)).some((c) => c.id === ch.id));
  const actions = (await s.audit(owner, com)).map((x) => x.action);
  assert.deepEqual(actions.slice(0, 3), ['overwrite_delete', 'overwrite_set', 'overwrite_set']);
});

test('overwrites need MANAGE_ROLES and only the bits the caller has; bad targets and junk are rejected', async () => {
  const { owner, mod, plain, com } = await s.staffed(perms('MANAGE_ROLES', 'VIEW_CHANNEL', 'SEND_MESSAGES'));
  const ch = await s.channel(owner, com, { name: 'ops' });
  const everyoneId = com.id;
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${everyoneId}`, { deny: perms('SEND_MESSAGES') }, plain), 403, { code: 'missing_permission' });
  const r = expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${everyoneId}`, { allow: perms('BAN_MEMBERS') }, mod), 403, { code: 'missing_permission' });
  assert.match(r.detail, /BAN_MEMBERS/);
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${everyoneId}`, { deny: perms('MANAGE_CHANNELS') }, mod), 403, { code: 'missing_permission' });
  assert.deepEqual((await s.channels(owner, com)).find((c) => c.id === ch.id).overwrites, [], 'nothing set');
  expectStatus(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${everyoneId}`, { deny: perms('SEND_MESSAGES') }, mod), 204);

  for (const [body, field] of [[{ allow: '12abc' }, 'allow'], [{ deny: '-1' }, 'deny'], [{ allow: '99999999999999999999' }, 'allow'],
    [{ allow: (1n << 20n).toString() }, 'allow'], [{ allow: 5 }, 'allow'], [{ allow: '' }, 'allow'], [{ other: '1' }, 'other']]) {
    expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${everyoneId}`, body, owner), 422, { field }, JSON.stringify(body));
  }
  const other = await s.community(owner);
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/${other.id}`, { allow: '1' }, owner), 404, { code: 'role_not_found' }, 'a role of another community');
  const [stranger] = await s.users(1);
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/member/${stranger.user.id}`, { allow: '1' }, owner), 404, { code: 'member_not_found' });
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/user/${stranger.user.id}`, { allow: '1' }, owner), 404);
  expectProblem(await s.call('PUT', `/channels/${ch.id}/overwrites/role/abc`, { allow: '1' }, owner), 404, { code: 'role_not_found' });
  expectProblem(await s.call('PUT', `/channels/999/overwrites/role/${everyoneId}`, { allow: '1' }, owner), 404, { code: 'channel_not_found' });
  expectProblem(await s.call('PATCH', `/channels/${ch.id}`, undefined, owner, { raw: '[1,2]', headers: { 'Content-Type': 'application/json' } }), 400, { code: 'invalid_json' });
  expectProblem(await s.call('PATCH', `/channels/${ch.id}`, { position: -1 }, owner), 422, { field: 'position' });
  expectProblem(await s.call('PATCH', `/channels/${ch.id}`, { name: '    ' }, owner), 422, { field: 'name' });
  expectProblem(await s.call('POST', `/communities/${com.id}/channels`, { name: 'x', topic: 't'.repeat(1025) }, owner), 422, { field: 'topic' });
  const ow = (await s.channels(owner, com)).find((c) => c.id === ch.id).overwrites;
  assert.deepEqual(ow, [{ type: 'role', id: everyoneId, allow: '0', deny: perms('SEND_MESSAGES') }], 'only the valid one');
});
