#!/usr/bin/env node
// A tiny in-memory stand-in for the Cosmiv C server, for front-end work only.
// It implements the /api/v2 auth + users contract, serves web/dist with an SPA
// fallback and the production CSP, and takes the same command line as the real
// binary, so the e2e test can run against it:
//
//   COSMIV_BIN=web/dev/mock-cosmiv.mjs node --test tests/e2e/
//   node web/dev/mock-cosmiv.mjs serve --listen 127.0.0.1:8080   # then `npm run dev`
//
// Env: COSMIV_WEB_DIR (static files), MOCK_ACCESS_TTL (access token lifetime, s).
// Not used in production; the real server lives in src/.

import { createServer } from 'node:http';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
if (args[0] !== 'serve') {
  console.error('usage: mock-cosmiv.mjs serve [--listen HOST:PORT] [--data-dir DIR]');
  process.exit(2);
}
const [host, portStr] = opt('--listen', '127.0.0.1:8080').split(/:(?=\d+$)/);
const webDir = process.env.COSMIV_WEB_DIR ? resolve(process.env.COSMIV_WEB_DIR) : null;
const ACCESS_TTL = Number(process.env.MOCK_ACCESS_TTL || 900);
const REFRESH_COOKIE = 'cosmiv_refresh';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'";

const users = new Map(); // id -> user (with pw hash)
const access = new Map(); // token -> { userId, exp }
const refresh = new Map(); // token -> { userId, family, used }
const revokedFamilies = new Set();
const loginFailures = new Map(); // ip -> [timestamps]

const hash = (pw, salt) => createHash('sha256').update(salt + ':' + pw).digest('hex');
const publicUser = (u) => ({
  id: u.id,
  username: u.username,
  display_name: u.display_name,
  bio: u.bio,
  role: u.role,
  created_at: u.created_at,
});
const privateUser = (u) => ({ ...publicUser(u), email: u.email });

function problem(res, status, code, detail, extra = {}, headers = {}) {
  const titles = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Content', 429: 'Too Many Requests' };
  const body = JSON.stringify({ type: `https://cosmiv.dev/problems/${code}`, title: titles[status] || 'Error', status, code, detail, ...extra });
  res.writeHead(status, { 'Content-Type': 'application/problem+json', ...headers });
  res.end(body);
}
function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}
const setCookie = (tok) => `${REFRESH_COOKIE}=${tok}; Path=/api/v2/auth; HttpOnly; SameSite=Strict; Max-Age=2592000`;
const clearCookie = `${REFRESH_COOKIE}=; Path=/api/v2/auth; HttpOnly; SameSite=Strict; Max-Age=0`;

const webClient = (req) => req.headers['x-cosmiv-client'] === 'web';

// Like the real server: web clients get the refresh token only as the HttpOnly
// cookie; other clients get it in the body.
function issue(req, res, status, user, family = randomUUID()) {
  const at = randomBytes(24).toString('base64url');
  const rt = randomBytes(32).toString('base64url');
  access.set(at, { userId: user.id, exp: Date.now() + ACCESS_TTL * 1000 });
  refresh.set(rt, { userId: user.id, family, used: false });
  const body = { user: privateUser(user), access_token: at, token_type: 'Bearer', expires_in: ACCESS_TTL };
  if (webClient(req)) json(res, status, body, { 'Set-Cookie': setCookie(rt) });
  else json(res, status, { ...body, refresh_token: rt });
}

function authUser(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  if (!m) return null;
  const a = access.get(m[1]);
  if (!a || a.exp < Date.now()) return null;
  return users.get(a.userId) || null;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  if (!chunks.length) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

async function api(req, res, path) {
  const method = req.method;
  const b = method === 'GET' ? {} : await body(req);
  if (b === null) return problem(res, 400, 'invalid_json', 'Request body must be a JSON object.');

  if (method === 'POST' && path === '/auth/register') {
    const { username = '', email = '', password = '' } = b;
    if (!/^[A-Za-z0-9_]{3,32}$/.test(username)) return problem(res, 422, 'invalid_username', 'Username must be 3-32 characters of letters, digits and underscores.', { field: 'username' });
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) return problem(res, 422, 'invalid_email', 'Email address is not valid.', { field: 'email' });
    if (password.length < 8 || password.length > 128) return problem(res, 422, 'invalid_password', 'Password must be 8-128 characters.', { field: 'password' });
    for (const u of users.values()) {
      if (u.username.toLowerCase() === username.toLowerCase()) return problem(res, 409, 'username_taken', 'That username is already taken.', { field: 'username' });
      if (u.email.toLowerCase() === email.toLowerCase()) return problem(res, 409, 'email_taken', 'An account with that email already exists.', { field: 'email' });
    }
    const salt = randomBytes(8).toString('hex');
    const user = {
      id: String(users.size + 1),
      username,
      email,
      role: users.size === 0 ? 'admin' : 'user',
      display_name: null,
      bio: null,
      created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      salt,
      pw: hash(password, salt),
    };
    users.set(user.id, user);
    return issue(req, res, 201, user);
  }

  if (method === 'POST' && path === '/auth/login') {
    const ip = req.socket.remoteAddress;
    const now = Date.now();
    const recent = (loginFailures.get(ip) || []).filter((t) => now - t < 60_000);
    if (recent.length >= 10) {
      const retry = Math.ceil((recent[0] + 60_000 - now) / 1000);
      return problem(res, 429, 'rate_limited', 'Too many login attempts.', {}, { 'Retry-After': String(retry) });
    }
    const login = String(b.login || '').toLowerCase();
    const user = [...users.values()].find((u) => u.username.toLowerCase() === login || u.email.toLowerCase() === login);
    if (!user || user.pw !== hash(String(b.password || ''), user.salt)) {
      recent.push(now);
      loginFailures.set(ip, recent);
      return problem(res, 401, 'invalid_credentials', 'Invalid username/email or password.');
    }
    return issue(req, res, 200, user);
  }

  if (method === 'POST' && path === '/auth/refresh') {
    const tok = b.refresh_token || (webClient(req) ? cookies(req)[REFRESH_COOKIE] : undefined);
    const r = tok && refresh.get(tok);
    if (!r || revokedFamilies.has(r.family)) return problem(res, 401, 'invalid_refresh_token', 'No valid session.', {}, { 'Set-Cookie': clearCookie });
    if (r.used) {
      revokedFamilies.add(r.family); // reuse of a rotated token: treat as theft
      console.error(`mock: refresh token reuse detected for user ${r.userId}; session revoked`);
      return problem(res, 401, 'refresh_token_reused', 'Session revoked.', {}, { 'Set-Cookie': clearCookie });
    }
    r.used = true;
    return issue(req, res, 200, users.get(r.userId), r.family);
  }

  if (method === 'POST' && path === '/auth/logout') {
    const tok = b.refresh_token || (webClient(req) ? cookies(req)[REFRESH_COOKIE] : undefined);
    const r = tok && refresh.get(tok);
    if (r) revokedFamilies.add(r.family);
    res.writeHead(204, { 'Set-Cookie': clearCookie });
    return res.end();
  }

  if (path === '/users/me') {
    const user = authUser(req);
    if (!user) return problem(res, 401, 'unauthenticated', 'Missing or invalid access token.');
    if (method === 'GET') return json(res, 200, privateUser(user));
    if (method === 'PATCH') {
      if (b.display_name !== undefined) {
        if (typeof b.display_name !== 'string' || b.display_name.length > 64) return problem(res, 422, 'invalid_display_name', 'Display name must be at most 64 characters.', { field: 'display_name' });
        user.display_name = b.display_name || null;
      }
      if (b.bio !== undefined) {
        if (typeof b.bio !== 'string' || b.bio.length > 500) return problem(res, 422, 'invalid_bio', 'Bio must be at most 500 characters.', { field: 'bio' });
        user.bio = b.bio || null;
      }
      return json(res, 200, privateUser(user));
    }
  }

  const m = /^\/users\/([^/]+)$/.exec(path);
  if (method === 'GET' && m) {
    const name = decodeURIComponent(m[1]).toLowerCase();
    const user = [...users.values()].find((u) => u.username.toLowerCase() === name);
    if (!user) return problem(res, 404, 'user_not_found', 'No such user.');
    return json(res, 200, publicUser(user));
  }

  return problem(res, 404, 'not_found', 'No such endpoint.');
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json' };

async function staticFile(req, res, path) {
  if (!webDir) return problem(res, 404, 'not_found', 'No web directory configured.');
  let file = normalize(join(webDir, decodeURIComponent(path)));
  if (!file.startsWith(webDir)) return problem(res, 404, 'not_found', 'Not found.');
  let s = await stat(file).catch(() => null);
  if (!s || !s.isFile()) {
    if (path.startsWith('/assets/')) return problem(res, 404, 'not_found', 'Not found.');
    file = join(webDir, 'index.html'); // SPA fallback
  }
  const data = await readFile(file);
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
    'Content-Security-Policy': CSP,
    'Cache-Control': file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (url.pathname.startsWith('/api/v2/')) return await api(req, res, url.pathname.slice(7));
    if (req.method === 'GET' || req.method === 'HEAD') return await staticFile(req, res, url.pathname);
    return problem(res, 404, 'not_found', 'Not found.');
  } catch (err) {
    console.error(err);
    if (!res.headersSent) problem(res, 500, 'internal', 'Internal error.');
  }
});
server.listen(Number(portStr), host, () => console.error(`mock cosmiv listening on http://${host}:${portStr}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
