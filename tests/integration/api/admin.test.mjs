// Roles and administration: the admin API and the `cosmiv admin` CLI, which
// works on the same data directory while the server runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runCli, uniq } from '../../lib/harness.mjs';

let srv, admin;
before(async () => {
  srv = await startServer();
  const username = uniq('admin');
  const cli = await runCli(['admin', 'create', '--username', username, '--email', `${username}@example.com`, '--role', 'admin', '--data-dir', srv.dataDir],
    { env: srv.env, input: 'admin password 1\n' });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /created .* role admin/);
  const r = await srv.api('POST', '/api/v2/auth/login', { login: username, password: 'admin password 1' });
  assert.equal(r.status, 200);
  assert.equal(r.body.user.role, 'admin');
  admin = r.body;
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs()); });

test('non-admins get 403, anonymous 401', async () => {
  const u = await srv.register();
  const r = await srv.api('GET', '/api/v2/admin/users', undefined, { token: u.access_token });
  assert.equal(r.status, 403);
  assert.equal((await srv.api('GET', '/api/v2/admin/users')).status, 401);
  const p = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { role: 'admin' }, { token: u.access_token });
  assert.equal(p.status, 403);
});

test('admin user list is cursor-paginated with no repeats', async () => {
  for (let i = 0; i < 5; i++) await srv.register();
  const seen = new Set();
  let cursor = '';
  let pages = 0;
  for (;;) {
    const r = await srv.api('GET', `/api/v2/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, { token: admin.access_token });
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length <= 2);
    for (const u of r.body.items) { assert.ok(!seen.has(u.id)); seen.add(u.id); assert.ok('email' in u); }
    pages++;
    if (!r.body.next_cursor) break;
    cursor = r.body.next_cursor;
  }
  assert.ok(seen.size >= 6);
  assert.ok(pages >= 3);
  const bad = await srv.api('GET', '/api/v2/admin/users?limit=0', undefined, { token: admin.access_token });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.field, 'limit');
  const badc = await srv.api('GET', '/api/v2/admin/users?cursor=abc', undefined, { token: admin.access_token });
  assert.equal(badc.status, 422);
});

test('role changes and disabling; a disabled user\'s tokens stop working', async () => {
  const u = await srv.register();
  let r = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { role: 'moderator' }, { token: admin.access_token });
  assert.equal(r.status, 200);
  assert.equal(r.body.role, 'moderator');
  r = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { role: 'emperor' }, { token: admin.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'role');
  r = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { disabled: 'yes' }, { token: admin.access_token });
  assert.equal(r.status, 422);
  r = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { disabled: true }, { token: admin.access_token });
  assert.equal(r.status, 200);
  assert.equal(r.body.disabled, true);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: u.access_token })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/refresh', { refresh_token: u.refresh_token })).status, 401);
  const login = await srv.api('POST', '/api/v2/auth/login', { login: u.username, password: u.password });
  assert.equal(login.status, 403);
  assert.equal(login.body.code, 'account_disabled');
  assert.equal((await srv.api('GET', `/api/v2/users/${u.username}`)).status, 404);
  r = await srv.api('PATCH', `/api/v2/admin/users/${u.user.id}`, { disabled: false }, { token: admin.access_token });
  assert.equal(r.status, 200);
  assert.equal((await srv.api('POST', '/api/v2/auth/login', { login: u.username, password: u.password })).status, 200);
});

test('admins cannot lock themselves out; unknown ids are 404', async () => {
  const r = await srv.api('PATCH', `/api/v2/admin/users/${admin.user.id}`, { role: 'user' }, { token: admin.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.code, 'cannot_change_self');
  assert.equal((await srv.api('PATCH', '/api/v2/admin/users/999999', { role: 'user' }, { token: admin.access_token })).status, 404);
  assert.equal((await srv.api('PATCH', '/api/v2/admin/users/abc', { role: 'user' }, { token: admin.access_token })).status, 404);
});

test('admin CLI: list, reset-password, bad input', async () => {
  const u = await srv.register();
  let cli = await runCli(['admin', 'list', '--data-dir', srv.dataDir], { env: srv.env });
  assert.equal(cli.code, 0, cli.stderr);
  assert.ok(cli.stdout.includes(u.username));
  cli = await runCli(['admin', 'reset-password', '--login', u.username, '--data-dir', srv.dataDir], { env: srv.env, input: 'reset password 9\n' });
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal((await srv.api('GET', '/api/v2/users/me', undefined, { token: u.access_token })).status, 401);
  assert.equal((await srv.api('POST', '/api/v2/auth/login', { login: u.username, password: 'reset password 9' })).status, 200);
  cli = await runCli(['admin', 'create', '--username', 'x', '--email', 'bad', '--data-dir', srv.dataDir], { env: srv.env, input: 'pw12345678\n' });
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /username/);
  cli = await runCli(['admin', 'create', '--username', uniq(), '--email', `${uniq()}@example.com`, '--data-dir', srv.dataDir], { env: srv.env, input: '' });
  assert.equal(cli.code, 2);
  cli = await runCli(['seed', 'users', '--count', '25', '--data-dir', srv.dataDir], { env: srv.env });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /created 25 demo users/);
});
