// Shared helpers for the social API tests (tests/integration/social/).
//
//   const s = await socialServer();          // server + one small gameplay file
//   const alice = await s.author();          // a user with a ready clip of their own
//   const p = await s.post(alice, { title: 'ace' });
//   ...
//   await s.stop();
//
// Posts need a ready clip owned by their author. The gameplay file is made once
// per test file; every author uploads that same file (identical uploads reuse
// the analysis) and exports one short clip, which all of their posts share.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, runCli, uniq } from './harness.mjs';
import { makeGameplay, tusUpload, waitFor } from './media.mjs';

export const API = '/api/v2';
export const CLIP_START_S = 0;
export const CLIP_END_S = 3;

/** Like assert.equal on the status, with the body in the message. */
export function expectStatus(r, status, what = '') {
  assert.equal(r.status, status, `${what} → ${r.status} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}`);
  return r.body;
}

/** A problem document with the given status (and code/field when given). */
export function expectProblem(r, status, { code, field } = {}, what = '') {
  expectStatus(r, status, what);
  assert.match(r.headers.get('content-type') || '', /application\/problem\+json/, what);
  if (code !== undefined) assert.equal(r.body.code, code, `${what}: ${JSON.stringify(r.body)}`);
  if (field !== undefined) assert.equal(r.body.field, field, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export const isId = (v) => typeof v === 'string' && /^[1-9]\d*$/.test(v);
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asserts a user summary {id, username, display_name, avatar_url} (extra keys allowed in `extra`). */
export function assertUserSummary(u, { extra = [] } = {}) {
  assert.equal(typeof u, 'object');
  assert.ok(u, 'user summary is null');
  assert.ok(isId(u.id), `id ${JSON.stringify(u)}`);
  assert.equal(typeof u.username, 'string');
  assert.ok(u.display_name === null || typeof u.display_name === 'string');
  assert.equal(typeof u.avatar_url, 'string');
  assert.ok(u.avatar_url.length > 0);
  for (const k of extra) assert.ok(k in u, `${k} missing from ${JSON.stringify(u)}`);
  assert.equal(u.email, undefined, 'a user summary has no email');
}

/** Asserts the exact Post shape of docs/social-api.md. */
export function assertPostShape(p, { reasons = false } = {}) {
  const keys = ['id', 'title', 'description', 'game', 'tags', 'visibility', 'created_at', 'updated_at',
    'author', 'clip', 'like_count', 'comment_count', 'share_count', 'view_count', 'liked_by_me'];
  for (const k of keys) assert.ok(k in p, `post.${k} missing: ${JSON.stringify(p)}`);
  if (reasons) {
    assert.ok(Array.isArray(p.reasons), `reasons: ${JSON.stringify(p)}`);
  } else {
    assert.equal(p.reasons, undefined, 'reasons appear only in the For you feed');
  }
  assert.ok(isId(p.id), p.id);
  assert.equal(typeof p.title, 'string');
  assert.ok(p.description === null || typeof p.description === 'string');
  assert.ok(p.game === null || typeof p.game === 'string');
  assert.ok(Array.isArray(p.tags) && p.tags.every((t) => typeof t === 'string'));
  assert.ok(['public', 'followers', 'private'].includes(p.visibility), p.visibility);
  assert.match(p.created_at, ISO);
  assert.match(p.updated_at, ISO);
  assertUserSummary(p.author);
  if (p.clip !== null) {
    assert.ok(isId(p.clip.id));
    assert.equal(typeof p.clip.duration_s, 'number');
    assert.ok(Number.isInteger(p.clip.width) && p.clip.width > 0);
    assert.ok(Number.isInteger(p.clip.height) && p.clip.height > 0);
    assert.ok(p.clip.thumbnail_url === null || typeof p.clip.thumbnail_url === 'string');
    assert.equal(typeof p.clip.playback_url, 'string');
  }
  for (const k of ['like_count', 'comment_count', 'share_count', 'view_count']) {
    assert.ok(Number.isInteger(p[k]) && p[k] >= 0, `${k}=${p[k]}`);
  }
  assert.equal(typeof p.liked_by_me, 'boolean');
}

/** A post without its signed (time-dependent) URLs, for comparing two reads. */
export function stable(p) {
  if (!p || !p.clip) return p;
  const { thumbnail_url, playback_url, ...clip } = p.clip;
  return { ...p, clip };
}

/** Retries fn (which asserts) until it passes or timeoutMs has passed; for effects the server may apply after answering. */
export async function eventually(fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { return await fn(); } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Runs a request, waiting out 429s (engagement, follows and comments are rate
 * limited per user): for tests that must act more than the burst allows.
 */
export async function paced(fn, tries = 60) {
  for (let i = 0; ; i++) {
    const r = await fn();
    if (r.status !== 429 || i >= tries) return r;
    const after = Number(r.headers.get('retry-after')) || 1;
    await new Promise((res) => setTimeout(res, after * 1000));
  }
}

/** Walks a paginated list to its end: returns every item, asserting no id twice. */
export async function walk(srv, path, token, { limit = 3, between, maxPages = 500 } = {}) {
  const items = [];
  const seen = new Set();
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await srv.api('GET', url, undefined, { token });
    expectStatus(r, 200, `GET ${url}`);
    assert.ok(Array.isArray(r.body.items), JSON.stringify(r.body));
    assert.ok(r.body.items.length <= limit, `page longer than limit on ${url}`);
    assert.ok('next_cursor' in r.body, `next_cursor missing on ${url}`);
    for (const it of r.body.items) {
      assert.ok(!seen.has(it.id), `id ${it.id} appeared twice walking ${path} (page ${page})`);
      seen.add(it.id);
      items.push(it);
    }
    if (r.body.next_cursor === null) return items;
    assert.equal(typeof r.body.next_cursor, 'string');
    cursor = r.body.next_cursor;
    if (between) await between(page);
  }
  assert.fail(`${path}: more than ${maxPages} pages`);
}

/**
 * Starts a server (SQLite or PostgreSQL, whichever the run uses) and makes one
 * short gameplay file. Returns helpers bound to that server.
 */
export async function socialServer({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-social-'));
  const game = makeGameplay(dir, 'game', { seconds: 4, size: '320x180', fps: 15, burstAt: 2 });
  const srv = await startServer({ env: { COSMIV_WORKERS: '2', ...env } });

  const s = {
    srv, dir, game,
    api: (...a) => srv.api(...a),

    /** A fresh user (no clip). */
    async user(overrides) { return srv.register(overrides); },

    /** Several fresh users, registered a few at a time. */
    async users(n) {
      const out = [];
      for (let i = 0; i < n; i += 4) {
        out.push(...await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => srv.register())));
      }
      return out;
    },

    /** Gives a user a ready clip of their own (u.clip); returns u. */
    async withClip(u) {
      const tok = u.access_token;
      const upload_id = await tusUpload(srv, tok, game);
      const v = await srv.api('POST', `${API}/videos`, { upload_id, title: 'match', game: 'Test Arena' }, { token: tok });
      expectStatus(v, 201, 'create video');
      const ready = await waitFor(srv, `${API}/videos/${v.body.id}`, tok, (x) => x.status !== 'processing');
      assert.equal(ready.status, 'ready', ready.error);
      const c = await srv.api('POST', `${API}/clips`, { video_id: ready.id, start_s: CLIP_START_S, end_s: CLIP_END_S, aspect: '16:9' }, { token: tok });
      expectStatus(c, 202, 'create clip');
      const k = await waitFor(srv, `${API}/clips/${c.body.id}`, tok, (x) => x.status !== 'processing');
      assert.equal(k.status, 'ready', k.error);
      u.clip = k;
      u.video = ready;
      return u;
    },

    /** A fresh user with a ready clip. */
    async author(overrides) { return s.withClip(await srv.register(overrides)); },

    /** Creates a post (201 expected); returns the post. */
    async post(u, fields = {}) {
      const body = { clip_id: u.clip.id, title: fields.title ?? uniq('post'), ...fields };
      const r = await srv.api('POST', `${API}/posts`, body, { token: u.access_token });
      expectStatus(r, 201, `create post ${JSON.stringify(body)}`);
      return r.body;
    },

    async getPost(id, u) { return srv.api('GET', `${API}/posts/${id}`, undefined, { token: u?.access_token }); },
    async like(id, u) { return srv.api('PUT', `${API}/posts/${id}/like`, undefined, { token: u.access_token }); },
    async unlike(id, u) { return srv.api('DELETE', `${API}/posts/${id}/like`, undefined, { token: u.access_token }); },
    async follow(a, b) { return srv.api('PUT', `${API}/users/${b.username}/follow`, undefined, { token: a.access_token }); },
    async unfollow(a, b) { return srv.api('DELETE', `${API}/users/${b.username}/follow`, undefined, { token: a.access_token }); },
    async block(a, b) { return srv.api('PUT', `${API}/users/${b.username}/block`, undefined, { token: a.access_token }); },
    async unblock(a, b) { return srv.api('DELETE', `${API}/users/${b.username}/block`, undefined, { token: a.access_token }); },
    async comment(id, u, body) { return srv.api('POST', `${API}/posts/${id}/comments`, body, { token: u.access_token }); },
    async profile(username, u) { return srv.api('GET', `${API}/users/${username}`, undefined, { token: u?.access_token }); },

    /** A user with the given role made with `cosmiv admin create`, signed in. */
    async staff(role = 'moderator') {
      const username = uniq(role.slice(0, 5));
      const password = `${role} password 1`;
      const cli = await runCli(['admin', 'create', '--username', username, '--email', `${username}@example.com`, '--role', role, '--data-dir', srv.dataDir],
        { env: srv.env, input: `${password}\n` });
      assert.equal(cli.code, 0, cli.stderr);
      const r = await srv.api('POST', `${API}/auth/login`, { login: username, password });
      expectStatus(r, 200, 'staff login');
      assert.equal(r.body.user.role, role);
      return { ...r.body, username, password };
    },

    async stop() {
      rmSync(dir, { recursive: true, force: true });
      const info = await srv.stop();
      assert.equal(info.code, 0, srv.logs().slice(-20000));
    },
  };
  return s;
}
