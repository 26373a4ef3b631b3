// Test harness: starts the real `cosmiv` binary and talks HTTP to it.
//
//   const srv = await startServer({ env: { COSMIV_RATE_AUTH_PER_MIN: '5' } });
//   const res = await srv.api('POST', '/api/v2/auth/login', { login, password });
//   await srv.stop();               // SIGTERM; asserts a clean exit (no sanitizer report)
//
// The database is SQLite in a fresh data directory unless COSMIV_TEST_PG_URL is
// set (by tests/run-integration.sh): then every server gets a fresh PostgreSQL
// database of its own; COSMIV_TEST_REDIS_URL and COSMIV_TEST_STORAGE_URL (an
// s3rver bucket), when set, are passed on.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHmac } from 'node:crypto';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.COSMIV_BIN || join(ROOT, 'build/cov/cosmiv');
export const JWT_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
export const usingPostgres = !!process.env.COSMIV_TEST_PG_URL;

export function uniq(prefix = 'u') {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A fresh PostgreSQL database URL (or '' for SQLite). */
export function freshDatabaseUrl() {
  const admin = process.env.COSMIV_TEST_PG_URL;
  if (!admin) return '';
  const name = `cosmiv_t_${randomBytes(6).toString('hex')}`;
  execFileSync('psql', [admin, '-qAt', '-c', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs a cosmiv subcommand to completion: { code, stdout, stderr }. */
export function runCli(args, { env = {}, input } = {}) {
  return new Promise((resolveP) => {
    const p = spawn(BIN, args, { env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
    p.on('close', (code) => resolveP({ code, stdout, stderr }));
  });
}

export async function startServer({ env = {}, dataDir, databaseUrl, webDir, keepData = false } = {}) {
  dataDir ??= mkdtempSync(join(tmpdir(), 'cosmiv-it-'));
  databaseUrl ??= freshDatabaseUrl();
  const fullEnv = {
    ...process.env,
    COSMIV_ENV: 'test',
    COSMIV_JWT_SECRET: JWT_SECRET,
    COSMIV_DATABASE_URL: databaseUrl,
    COSMIV_REDIS_URL: process.env.COSMIV_TEST_REDIS_URL || '',
    COSMIV_STORAGE_URL: process.env.COSMIV_TEST_STORAGE_URL || '',
    COSMIV_S3_ACCESS_KEY: process.env.COSMIV_TEST_STORAGE_URL ? 'S3RVER' : '',
    COSMIV_S3_SECRET_KEY: process.env.COSMIV_TEST_STORAGE_URL ? 'S3RVER' : '',
    COSMIV_WEB_DIR: webDir ?? join(dataDir, 'no-web'),
    COSMIV_RATE_AUTH_PER_MIN: '100000',
    COSMIV_RATE_AUTH_BURST: '100000',
    COSMIV_THREADS: '4',
    COSMIV_LOG_LEVEL: 'info',
    // tests read their own writes at once; the micro-cache has its own test (social/microcache)
    COSMIV_FEED_CACHE_MS: '0',
    // the gateway on a free port of its own (GET /api/v2/gateway says which)
    COSMIV_GATEWAY_LISTEN: '127.0.0.1:0',
    ...env,
  };
  const proc = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let exitInfo = null;
  const exited = new Promise((r) => proc.on('exit', (code, signal) => { exitInfo = { code, signal }; r(exitInfo); }));
  proc.stdout.on('data', (d) => (log += d));
  const port = await new Promise((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${log}`)), 20000);
    proc.stderr.on('data', (d) => {
      log += d;
      for (const line of String(d).split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line);
          if (j.msg === 'cosmiv listening') { clearTimeout(timer); resolveP(Number(j.port)); }
        } catch { /* partial line */ }
      }
    });
    exited.then((i) => { clearTimeout(timer); reject(new Error(`server exited (${JSON.stringify(i)}):\n${log}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const srv = {
    url, port, dataDir, databaseUrl, env: fullEnv, proc,
    logs: () => log,
    exited,
    async fetch(path, init = {}) { return fetch(url + path, init); },
    /** JSON request; returns { status, headers, body } with body parsed when JSON. */
    async api(method, path, body, { token, headers = {}, raw } = {}) {
      const h = { ...headers };
      if (token) h.Authorization = `Bearer ${token}`;
      let payload;
      if (raw !== undefined) payload = raw;
      else if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] ??= 'application/json'; }
      const res = await fetch(url + path, { method, headers: h, body: payload });
      const text = await res.text();
      let parsed = text;
      const ct = res.headers.get('content-type') || '';
      if (ct.includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed };
    },
    /** Polls GET /api/v2/jobs/{id} until the job leaves available/running/retryable (a video is
     *  marked ready by its job a moment before the job itself is recorded completed). */
    async waitJob(id, token, timeoutMs = 30000) {
      for (const end = Date.now() + timeoutMs; ;) {
        const r = await srv.api('GET', `/api/v2/jobs/${id}`, undefined, { token });
        if (r.status !== 200 || !['available', 'running', 'retryable'].includes(r.body.state) || Date.now() > end) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async register(overrides = {}) {
      const username = overrides.username ?? uniq('player');
      const req = { username, email: `${username}@example.com`, password: 'correct horse battery', ...overrides };
      const r = await srv.api('POST', '/api/v2/auth/register', req);
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { ...r.body, password: req.password, username: req.username, email: req.email };
    },
    /** SIGTERM and wait; resolves to { code, signal }. */
    async stop({ signal = 'SIGTERM' } = {}) {
      if (!exitInfo) proc.kill(signal);
      const info = await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return info;
    },
  };
  return srv;
}

/** Signs a JWT with arbitrary header/payload (for forged-token tests). */
export function signJwt(header, payload, secret = JWT_SECRET, alg = 'sha256') {
  const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
  const head = `${b64(header)}.${b64(payload)}`;
  const sig = alg ? createHmac(alg, secret).update(head).digest('base64url') : '';
  return `${head}.${sig}`;
}

/** Claims of a token (no verification). */
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
