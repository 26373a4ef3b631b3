// The HTTP core: health, metrics, problem+json, routing errors, limits, CORS,
// security headers, request ids, static files with SPA fallback and Range,
// graceful shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { startServer } from '../../lib/harness.mjs';

let srv, web;
before(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  web = mkdtempSync(join(tmpdir(), 'cosmiv-web-'));
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Cosmiv</title><div id=app></div>');
  writeFileSync(join(web, 'assets', 'app-abc123.js'), 'console.log("cosmiv");'.repeat(10));
  writeFileSync(join(web, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  srv = await startServer({ webDir: web, env: { COSMIV_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' } });
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.logs()); });

test('healthz, readyz and metrics', async () => {
  let r = await srv.api('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  r = await srv.api('GET', '/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.body.database, process.env.COSMIV_TEST_PG_URL ? 'postgres' : 'sqlite');
  await srv.api('GET', '/api/v2/users/nobody_here');
  // a request is counted when its connection reports completion, just after the
  // response went out: poll briefly instead of racing it
  let m, text = '';
  for (let i = 0; i < 40 && !/status="404"/.test(text); i++) {
    if (i) await new Promise((r) => setTimeout(r, 50));
    m = await srv.fetch('/metrics');
    text = await m.text();
  }
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(text, /http_requests_total\{route="\/api\/v2\/users\/\{username\}",method="GET",status="404"\} [1-9]/);
  assert.match(text, /http_request_duration_seconds_bucket\{route="\/healthz",method="GET",status="200",le="\+Inf"\} [1-9]/);
  assert.match(text, /http_request_duration_seconds_count/);
});

test('unknown API route is a 404 problem; wrong method is 405 with Allow', async () => {
  let r = await srv.api('GET', '/api/v2/nope');
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.status, 404);
  assert.equal(r.body.code, 'route_not_found');
  assert.ok(r.body.type && r.body.title && r.body.detail);
  r = await srv.api('DELETE', '/api/v2/auth/login');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
  assert.equal(r.body.code, 'method_not_allowed');
  r = await srv.api('PUT', '/api/v2/users/me', {});
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, HEAD, PATCH, DELETE');
  r = await srv.api('POST', '/index.html');
  assert.equal(r.status, 405);
});

test('request ids: generated, or taken from a sane X-Request-Id', async () => {
  let r = await srv.fetch('/healthz');
  assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  r = await srv.fetch('/healthz', { headers: { 'X-Request-Id': 'trace-abc-12345' } });
  assert.equal(r.headers.get('x-request-id'), 'trace-abc-12345');
  r = await srv.fetch('/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
  assert.notEqual(r.headers.get('x-request-id'), 'bad id with spaces');
  const p = await srv.api('GET', '/api/v2/nope', undefined, { headers: { 'X-Request-Id': 'trace-xyz-98765' } });
  assert.equal(p.body.request_id, 'trace-xyz-98765');
});

test('security headers on API and web responses', async () => {
  const api = await srv.fetch('/api/v2/users/me');
  assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(api.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
  assert.match(api.headers.get('content-security-policy'), /default-src 'none'/);
  assert.equal(api.headers.get('cache-control'), 'no-store');
  assert.equal(api.headers.get('strict-transport-security'), null);
  const page = await srv.fetch('/');
  assert.match(page.headers.get('content-security-policy'), /default-src 'self'; script-src 'self'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
});

test('CORS: allow-listed origins only; preflight', async () => {
  let r = await srv.fetch('/healthz', { headers: { Origin: 'https://app.example.com' } });
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
  r = await srv.fetch('/healthz', { headers: { Origin: 'https://evil.example.com' } });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  r = await srv.fetch('/api/v2/auth/login', { method: 'OPTIONS', headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  assert.match(r.headers.get('access-control-allow-methods'), /POST/);
  assert.match(r.headers.get('access-control-allow-headers'), /Content-Type/);
  r = await srv.fetch('/api/v2/auth/login', { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  assert.equal(r.headers.get('access-control-allow-methods'), null);
});

test('static web app: content types, caching, SPA fallback, 404 for missing files', async () => {
  let r = await srv.fetch('/');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.match(await r.text(), /<title>Cosmiv/);
  r = await srv.fetch('/assets/app-abc123.js');
  assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const etag = r.headers.get('etag');
  assert.ok(etag);
  r = await srv.fetch('/assets/app-abc123.js', { headers: { 'If-None-Match': etag } });
  assert.equal(r.status, 304);
  r = await srv.fetch('/favicon.svg');
  assert.equal(r.headers.get('content-type'), 'image/svg+xml');
  r = await srv.fetch('/u/somebody');
  assert.equal(r.status, 200);
  assert.match(await r.text(), /<title>Cosmiv/);
  r = await srv.fetch('/missing.js');
  assert.equal(r.status, 404);
  for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/.env', '/assets/../../x']) {
    r = await srv.fetch(p);
    assert.ok([200, 404].includes(r.status), p);
    assert.doesNotMatch(await r.text(), /root:/, p);
  }
});

test('HTTP Range: 206 with Content-Range, 416 outside the file', async () => {
  let r = await srv.fetch('/assets/app-abc123.js', { headers: { Range: 'bytes=0-9' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), 'bytes 0-9/220');
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.equal(await r.text(), 'console.lo');
  r = await srv.fetch('/assets/app-abc123.js', { headers: { Range: 'bytes=-5' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), 'bytes 215-219/220');
  assert.equal(await r.text(), 'iv");');
  r = await srv.fetch('/assets/app-abc123.js', { headers: { Range: 'bytes=210-' } });
  assert.equal(r.status, 206);
  assert.equal((await r.text()).length, 10);
  r = await srv.fetch('/assets/app-abc123.js', { headers: { Range: 'bytes=500-600' } });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('content-range'), 'bytes */220');
  r = await srv.fetch('/assets/app-abc123.js', { headers: { Range: 'pages=1-2' } });
  assert.equal(r.status, 200);
  assert.equal((await r.text()).length, 220);
});

test('graceful shutdown: SIGTERM lets an in-flight request finish', async () => {
  const s2 = await startServer({ env: { COSMIV_ARGON2_OPSLIMIT: '8' } });
  const username = `slow_${Date.now()}`;
  const pending = s2.api('POST', '/api/v2/auth/register', { username, email: `${username}@example.com`, password: 'abcdefgh' });
  await new Promise((r) => setTimeout(r, 60)); // the request is now hashing
  s2.proc.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 201);
  const exit = await s2.exited;
  assert.equal(exit.code, 0, s2.logs());
  assert.match(s2.logs(), /shutting down/);
  // and the listener is closed
  await assert.rejects(fetch(`${s2.url}/healthz`));
  await s2.stop();
});
