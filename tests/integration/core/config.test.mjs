// Configuration: every setting is documented; production refuses unsafe set-ups;
// the server runs without the web app; the embedded JWT secret is private.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, ROOT } from '../../lib/harness.mjs';

test('.env.example documents every setting', async () => {
  const r = await runCli(['config']);
  assert.equal(r.code, 0);
  const names = r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
  assert.ok(names.length >= 15);
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  for (const n of names) assert.match(example, new RegExp(`^#?\\s*${n}=`, 'm'), n);
});

test('production refuses to start without a JWT secret, or with CORS *', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-prod-'));
  try {
    let r = await runCli(['serve', '--data-dir', dir, '--listen', '127.0.0.1:0'], { env: { COSMIV_ENV: 'production', COSMIV_JWT_SECRET: '' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /COSMIV_JWT_SECRET is required/);
    r = await runCli(['serve', '--data-dir', dir, '--listen', '127.0.0.1:0'], { env: { COSMIV_ENV: 'production', COSMIV_JWT_SECRET: 'short' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at least 32 bytes/);
    r = await runCli(['serve', '--data-dir', dir, '--listen', '127.0.0.1:0'], { env: { COSMIV_ENV: 'production', COSMIV_JWT_SECRET: 'x'.repeat(40), COSMIV_CORS_ORIGINS: '*' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CORS/);
    r = await runCli(['serve', '--listen', 'nonsense'], { env: { COSMIV_DATA_DIR: dir } });
    assert.notEqual(r.code, 0);
    r = await runCli(['serve'], { env: { COSMIV_THREADS: 'many' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /COSMIV_THREADS/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('embedded secret is generated once with mode 0600; API-only without the web app', async () => {
  const s = await startServer({ env: { COSMIV_JWT_SECRET: '' }, keepData: true });
  try {
    const st = statSync(join(s.dataDir, 'jwt.secret'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.size, 64);
    assert.match(s.logs(), /web app not built: serving the API only/);
    const r = await s.api('GET', '/');
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'web_app_not_built');
    const a = await s.register();
    // the same secret after a restart: tokens stay valid
    await s.stop();
    const s2 = await startServer({ dataDir: s.dataDir, databaseUrl: s.databaseUrl, env: { COSMIV_JWT_SECRET: '' } });
    assert.equal((await s2.api('GET', '/api/v2/users/me', undefined, { token: a.access_token })).status, 200);
    assert.equal((await s2.stop()).code, 0);
  } finally { rmSync(s.dataDir, { recursive: true, force: true }); }
});

test('unknown subcommand and help', async () => {
  let r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command/);
  r = await runCli(['help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /serve/);
  r = await runCli(['version']);
  assert.match(r.stdout, /^cosmiv \d/);
});
