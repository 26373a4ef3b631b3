// My account and public profiles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniq } from '../../lib/harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs()); });

test('GET /users/me has the private fields', async () => {
  const a = await srv.register();
  const r = await srv.api('GET', '/api/v2/users/me', undefined, { token: a.access_token });
  assert.equal(r.status, 200);
  for (const k of ['id', 'username', 'email', 'role', 'created_at']) assert.ok(k in r.body, k);
  assert.match(r.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('PATCH /users/me updates display name and bio; null clears', async () => {
  const a = await srv.register();
  let r = await srv.api('PATCH', '/api/v2/users/me', { display_name: 'Frag Master 🎮', bio: 'GG' }, { token: a.access_token });
  assert.equal(r.status, 200);
  assert.equal(r.body.display_name, 'Frag Master 🎮');
  assert.equal(r.body.bio, 'GG');
  r = await srv.api('PATCH', '/api/v2/users/me', { bio: null }, { token: a.access_token });
  assert.equal(r.body.bio, null);
  assert.equal(r.body.display_name, 'Frag Master 🎮');
  r = await srv.api('PATCH', '/api/v2/users/me', { display_name: 'x'.repeat(65) }, { token: a.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'display_name');
  r = await srv.api('PATCH', '/api/v2/users/me', { role: 'admin' }, { token: a.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'role');
  r = await srv.api('GET', '/api/v2/users/me', undefined, { token: a.access_token });
  assert.equal(r.body.role, 'user');
});

test('public profile has no email; unknown user is 404', async () => {
  const a = await srv.register();
  await srv.api('PATCH', '/api/v2/users/me', { display_name: 'Pub' }, { token: a.access_token });
  const r = await srv.api('GET', `/api/v2/users/${a.username.toUpperCase()}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.username, a.username);
  assert.equal(r.body.display_name, 'Pub');
  assert.equal(r.body.email, undefined);
  assert.equal(r.body.disabled, undefined);
  const nf = await srv.api('GET', `/api/v2/users/${uniq('nobody')}`);
  assert.equal(nf.status, 404);
  assert.equal(nf.body.code, 'user_not_found');
  assert.equal((await srv.api('GET', "/api/v2/users/a'%20OR%201=1")).status, 404);
});

test('password change needs the current password and ends other sessions', async () => {
  const a = await srv.register();
  const other = await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: a.password });
  let r = await srv.api('POST', '/api/v2/users/me/password', { current_password: 'nope nope', new_password: 'brand new pass' }, { token: a.access_token });
  assert.equal(r.status, 403);
  assert.equal(r.body.field, 'current_password');
  r = await srv.api('POST', '/api/v2/users/me/password', { current_password: a.password, new_password: 'short' }, { token: a.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'new_password');
  r = await srv.api('POST', '/api/v2/users/me/password', { current_password: a.password, new_password: 'brand new pass' }, { token: a.access_token });
  assert.equal(r.status, 204);
  // this session lives on, the other one is over
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: a.access_token })).status, 200);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: other.body.access_token })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: other.body.refresh_token })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: a.password })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/login', { login: a.username, password: 'brand new pass' })).status, 200);
});

test('account deletion needs the password', async () => {
  const a = await srv.register();
  const r = await srv.api('DELETE', '/api/v2/users/me', { password: 'wrong one!' }, { token: a.access_token });
  assert.equal(r.status, 403);
  assert.equal((await srv.api('GET', `/api/v2/users/${a.username}`)).status, 200);
});
