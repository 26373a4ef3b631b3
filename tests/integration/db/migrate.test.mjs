// Migrations through the CLI, on the configured database, and durability of
// acknowledged writes across kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, freshDatabaseUrl, JWT_SECRET } from '../../lib/harness.mjs';

test('cosmiv migrate applies once, then nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-mig-'));
  const env = { COSMIV_DATABASE_URL: freshDatabaseUrl(), COSMIV_DATA_DIR: dir };
  try {
    let r = await runCli(['migrate'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied [1-9]\d* migration\(s\); schema version [1-9]/);
    r = await runCli(['migrate'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 0 migration\(s\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('two migrators at once do not collide', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-mig-'));
  const env = { COSMIV_DATABASE_URL: freshDatabaseUrl(), COSMIV_DATA_DIR: dir };
  try {
    const rs = await Promise.all([runCli(['migrate'], { env }), runCli(['migrate'], { env }), runCli(['migrate'], { env })]);
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    const applied = rs.map((r) => Number(/applied (\d+)/.exec(r.stdout)[1]));
    const total = applied.reduce((a, b) => a + b, 0);
    const version = Number(/schema version (\d+)/.exec(rs[0].stdout)[1]);
    assert.equal(total, version);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('acknowledged registrations survive kill -9', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-k9-'));
  const databaseUrl = freshDatabaseUrl();
  const s1 = await startServer({ dataDir: dir, databaseUrl, keepData: true });
  const users = [];
  for (let i = 0; i < 5; i++) users.push(await s1.register());
  await s1.stop({ signal: 'SIGKILL' });
  const s2 = await startServer({ dataDir: dir, databaseUrl });
  try {
    for (const u of users) {
      const r = await s2.api('POST', '/api/v2/auth/login', { login: u.username, password: u.password });
      assert.equal(r.status, 200, u.username);
      // refresh tokens issued before the crash still work
      assert.equal((await s2.api('POST', '/api/v2/auth/refresh', { refresh_token: u.refresh_token })).status, 200);
    }
  } finally { assert.equal((await s2.stop()).code, 0); }
});
