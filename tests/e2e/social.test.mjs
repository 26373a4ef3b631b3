// Browser end-to-end test of the social layer against the real server: two
// players, A and B. A gets a ready clip through the API (tus upload, video,
// clip), then posts it from the "My clips" page. B follows A from A's profile,
// finds the post in the Following feed, likes it and comments on it (at a
// player time), and both survive a reload. A's notifications show B's like,
// comment and follow, and the bell count clears. B sees the post in For you,
// says "Not interested" and it stays gone after a reload. B tunes the feed
// preferences, which persist; blocks and unblocks A; the pages fit a phone.
//
//   (cd web && npm ci && npm run build) && make build/cosmiv && (cd tests && npm ci)
//   node --test tests/e2e/social.test.mjs
//
// Env: COSMIV_BIN (server binary, default build/cosmiv), CHROMIUM_PATH (default
// /usr/bin/chromium). Screenshots go to tests/e2e/screenshots/ (git-ignored),
// named social-*.png. When the server has no social API yet (GET
// /api/v2/feed/new -> 404), the test is skipped with a message saying so.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { makeGameplay, tusUpload, waitFor } from '../lib/media.mjs';
import { freePort, stopServer, waitHealthy } from '../lib/browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const WEB_DIR = join(ROOT, 'web/dist');
const BIN = process.env.COSMIV_BIN ? resolve(process.env.COSMIV_BIN) : join(ROOT, 'build/cosmiv');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROME_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const API = '/api/v2';
const GAME = 'Test Arena';

let server;
let serverLog = '';
let baseURL;
let dataDir;
let workDir;
let gameplay;
let browser;
const pageProblems = [];
const apiRequests = [];

function watch(page) {
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) pageProblems.push(`csp: ${text}`);
  });
  page.on('request', (req) => {
    const url = new URL(req.url());
    // <video>/<img> load signed media URLs and avatars; they cannot send headers.
    if (url.pathname.startsWith('/api/') && ['fetch', 'xhr'].includes(req.resourceType())) {
      apiRequests.push({ method: req.method(), path: url.pathname, client: req.headers()['x-cosmiv-client'] });
    }
  });
}

async function shot(page, name, opts = {}) {
  if (opts.fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(SHOTS, name), ...opts });
}

async function expectPath(page, test) {
  await page.waitForURL((u) => (typeof test === 'string' ? u.pathname === test : test.test(u.pathname)), { timeout: 30_000 });
  return new URL(page.url()).pathname;
}

async function noHorizontalScroll(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: no horizontal scrolling on a phone (scrollWidth ${scrollWidth} > ${innerWidth})`);
  const navBox = await page.locator('.nav').boundingBox();
  assert.ok(navBox && navBox.height <= 72, `${what}: nav bar fits on one row (height ${navBox?.height})`);
}

/** The post page player showing a decoded frame (not the loading spinner), for a screenshot. */
async function showFrame(page) {
  await page.waitForFunction(() => document.querySelector('#post-video')?.readyState >= 1, null, { timeout: 30_000 });
  await page.locator('#post-video').evaluate(async (v) => {
    v.muted = true;
    await v.play().catch(() => {});
    await new Promise((r) => setTimeout(r, 400));
    v.pause();
  });
}

/** JSON request from the test itself: { status, body }. */
async function api(method, path, body, { token } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(baseURL + path, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') || '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed };
}

// What tests/lib/media.mjs expects of a server handle.
const srvHandle = {
  fetch: (path, init) => fetch(baseURL + path, init),
  api: (method, path, body, opts) => api(method, path, body, opts),
};

/**
 * A browser context signed in as a new player: registered through the
 * context's own request API as the web app does, so the HttpOnly refresh
 * cookie lands in the context and the app restores the session on load.
 */
async function player(prefix, viewport = DESKTOP) {
  const username = `${prefix}_${randomBytes(4).toString('hex')}`;
  const context = await browser.newContext({ baseURL, viewport, deviceScaleFactor: 1 });
  context.setDefaultTimeout(20_000);
  const res = await context.request.post(`${API}/auth/register`, {
    headers: { 'X-Cosmiv-Client': 'web' },
    data: { username, email: `${username}@example.test`, password: `correct-horse-${username}` },
  });
  assert.equal(res.status(), 201, `register ${username}: ${await res.text()}`);
  const { access_token: token, user } = await res.json();
  const page = await context.newPage();
  watch(page);
  return { username, token, user, context, page };
}

/** A ready 16:9 clip for `who`, made through the API (upload, video, clip). */
async function readyClip(who) {
  const uploadId = await tusUpload(srvHandle, who.token, gameplay);
  const v = await api('POST', `${API}/videos`, { upload_id: uploadId, title: 'ranked match', game: GAME }, { token: who.token });
  assert.equal(v.status, 201, `create video: ${JSON.stringify(v.body)}`);
  const video = await waitFor(srvHandle, `${API}/videos/${v.body.id}`, who.token, (x) => x.status !== 'processing', 120_000);
  assert.equal(video.status, 'ready', `video processing: ${video.error}`);
  const c = await api('POST', `${API}/clips`, { video_id: video.id, start_s: 1, end_s: 5, aspect: '16:9', title: 'Triple on the bridge' }, { token: who.token });
  assert.equal(c.status, 202, `create clip: ${JSON.stringify(c.body)}`);
  const clip = await waitFor(srvHandle, `${API}/clips/${c.body.id}`, who.token, (x) => x.status !== 'processing', 120_000);
  assert.equal(clip.status, 'ready', `clip rendering: ${clip.error}`);
  return clip;
}

before(async () => {
  assert.ok(existsSync(BIN), `server binary not found at ${BIN} (run \`make build/cosmiv\` or set COSMIV_BIN)`);
  assert.ok(existsSync(join(WEB_DIR, 'index.html')), `web/dist is missing (run \`npm ci && npm run build\` in web/)`);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium or set CHROMIUM_PATH)`);
  await mkdir(SHOTS, { recursive: true });

  workDir = await mkdtemp(join(tmpdir(), 'cosmiv-e2e-social-'));
  gameplay = makeGameplay(workDir, 'social-gameplay', { seconds: 8, size: '640x360', burstAt: 3 });

  dataDir = await mkdtemp(join(tmpdir(), 'cosmiv-e2e-'));
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: {
      ...process.env,
      COSMIV_WEB_DIR: WEB_DIR,
      // Two players reloading pages: every full page load is a (rate-limited) refresh.
      COSMIV_RATE_AUTH_PER_MIN: '100000',
      COSMIV_RATE_AUTH_BURST: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk) => {
    serverLog += chunk.toString();
    if (serverLog.length > 64_000) serverLog = serverLog.slice(-64_000);
  };
  server.stdout.on('data', collect);
  server.stderr.on('data', collect);
  server.on('error', (err) => collect(`spawn error: ${err.message}\n`));
  await waitHealthy(baseURL, server, () => serverLog);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('post a clip, follow, like, comment, notifications, For you "Not interested", feed preferences', { timeout: 600_000 }, async (t) => {
  const probe = await api('GET', `${API}/feed/new`);
  if (probe.status === 404 || probe.status === 405) {
    t.skip(`the server has no social API yet (GET ${API}/feed/new -> ${probe.status})`);
    return;
  }
  const a = await player('alice');
  const b = await player('bob');
  await b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  const failedShots = [];
  let failed = false;
  const step = (name, fn) =>
    t.test(name, async (st) => {
      if (failed) return st.skip('an earlier step failed');
      try {
        await fn(st);
      } catch (err) {
        failed = true;
        const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
        for (const [who, page] of [['a', a.page], ['b', b.page]]) {
          const file = `social-FAILED-${slug}-${who}.png`;
          await page.screenshot({ path: join(SHOTS, file) }).catch(() => {});
          failedShots.push(file);
        }
        st.diagnostic(`server log (tail):\n${serverLog.slice(-3000)}`);
        throw err;
      }
    });

  let clip;
  let post;
  let commentId;
  const postTitle = `Clutch 1v3 ${randomBytes(2).toString('hex')}`;
  try {
    await step('A gets a ready clip (API: tus upload, video, clip)', async () => {
      clip = await readyClip(a);
    });

    await step('A posts the clip from "My clips"', async () => {
      const page = a.page;
      await page.goto('/clips');
      const card = page.locator(`.clip-card[data-clip="${clip.id}"]`);
      await card.waitFor();
      await card.getByRole('button', { name: 'Post' }).click();
      const form = card.locator('[data-testid=post-composer]');
      await form.waitFor();
      await form.getByLabel('Title').fill(postTitle);
      await form.getByLabel(/Description/).fill('Last alive, three on the bridge. GG @' + b.username);
      // The game comes from the clip's video.
      await page.waitForFunction((id) => document.querySelector(`#post-${id}-game`)?.value === 'Test Arena', clip.id);
      await form.getByLabel(/Tags/).fill('clutch, e2e');
      await form.locator('label.seg-item', { hasText: 'Public' }).click();
      const created = page.waitForResponse((r) => r.url().endsWith(`${API}/posts`) && r.request().method() === 'POST');
      await form.getByRole('button', { name: 'Post', exact: true }).click();
      const res = await created;
      assert.equal(res.status(), 201, `POST /posts: ${await res.text()}`);
      post = await res.json();
      assert.deepEqual(
        { title: post.title, game: post.game, tags: post.tags, visibility: post.visibility, clip: post.clip?.id },
        { title: postTitle, game: GAME, tags: ['clutch', 'e2e'], visibility: 'public', clip: clip.id },
      );
      await expectPath(page, `/p/${post.id}`);
      await page.getByRole('heading', { level: 1, name: postTitle }).waitFor();
      await page.locator('#post-video').waitFor();
      // The owner can edit and delete; no Follow button on one's own post.
      await page.locator('#edit-post').waitFor();
      await page.locator('#delete-post').waitFor();
      assert.equal(await page.locator('[data-testid=follow]').count(), 0, 'no Follow button on my own post');
    });

    await step("B follows A from A's profile", async () => {
      const page = b.page;
      await page.goto(`/u/${a.username}`);
      await page.locator('#profile-username').getByText(a.username, { exact: true }).waitFor();
      await page.locator(`.post-tile[data-post="${post.id}"]`).waitFor();
      const follow = page.getByRole('button', { name: `Follow @${a.username}` });
      assert.equal(await follow.getAttribute('aria-pressed'), 'false');
      const put = page.waitForResponse((r) => r.url().endsWith(`${API}/users/${a.username}/follow`) && r.request().method() === 'PUT');
      await follow.click();
      assert.equal((await put).status(), 200);
      await page.waitForFunction(() => document.querySelector('[data-testid=follow]')?.getAttribute('aria-pressed') === 'true');
      assert.equal((await page.locator('#stat-followers').textContent()).trim(), '1', 'follower count went to 1');
      await page.waitForFunction(() => [...document.querySelectorAll('.post-tile img, .uavatar')].every((i) => i.complete));
      await shot(page, 'social-03-profile.png');
      // The followers list has B in it.
      await page.locator('a.stat', { hasText: 'follower' }).click();
      await expectPath(page, `/u/${a.username}/followers`);
      await page.locator(`.person[data-user="${b.username}"]`).waitFor();
    });

    await step('B: Following tab shows the post; like it (count 1), share it (link copied)', async () => {
      const page = b.page;
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cosmiv home' }).click();
      await expectPath(page, '/');
      await page.getByRole('tab', { name: 'Following' }).click();
      await page.waitForURL((u) => u.searchParams.get('tab') === 'following');
      const card = page.locator(`.post-card[data-post="${post.id}"]`);
      await card.waitFor();
      await card.getByRole('heading', { name: postTitle }).waitFor();
      // The clip autoplays, muted, once most of it is on screen.
      await card.locator('video').evaluate((v) => v.scrollIntoView({ block: 'center' }));
      await page.waitForFunction((id) => {
        const v = document.querySelector(`.post-card[data-post="${id}"] video`);
        return v && v.muted && v.loop && !v.paused;
      }, post.id);

      const like = card.getByRole('button', { name: /^Like/ });
      assert.equal(await like.getAttribute('aria-pressed'), 'false');
      const put = page.waitForResponse((r) => r.url().endsWith(`${API}/posts/${post.id}/like`) && r.request().method() === 'PUT');
      await like.click();
      const likeRes = await put;
      assert.equal(likeRes.status(), 200);
      assert.deepEqual(await likeRes.json(), { liked: true, like_count: 1 });
      assert.equal(await like.getAttribute('aria-pressed'), 'true');
      assert.equal((await card.locator('.like-count').textContent()).trim(), '1');

      const shared = page.waitForResponse((r) => r.url().endsWith(`${API}/posts/${post.id}/share`));
      await card.getByRole('button', { name: /^Share/ }).click();
      const shareRes = await shared;
      assert.equal(shareRes.status(), 200);
      const { url } = await shareRes.json();
      await card.getByRole('status').filter({ hasText: 'Link copied' }).waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, new URL(url, baseURL).toString(), 'the share URL is on the clipboard');
      await card.locator('video').evaluate((v) => v.pause());
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'social-01-home-following.png');
    });

    await step('B comments at the player time; the comment and the like survive a reload', async () => {
      const page = b.page;
      const card = page.locator(`.post-card[data-post="${post.id}"]`);
      await card.getByRole('link', { name: /^Comments/ }).click();
      await expectPath(page, `/p/${post.id}`);
      const video = page.locator('#post-video');
      await page.waitForFunction(() => document.querySelector('#post-video')?.readyState >= 1, null, { timeout: 30_000 });
      // Play a little (a view is reported when the page is left), then pause at 1.5 s.
      await video.evaluate(async (v) => {
        v.muted = true;
        await v.play();
        await new Promise((r) => setTimeout(r, 1200));
        v.pause();
        v.currentTime = 1.5;
        await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
      });
      await page.locator('#new-comment').fill(`Insane timing @${a.username}`);
      await page.locator('#new-comment-at').check();
      const posted = page.waitForResponse((r) => r.url().endsWith(`${API}/posts/${post.id}/comments`) && r.request().method() === 'POST');
      const sent = page.waitForRequest((r) => r.url().endsWith(`${API}/posts/${post.id}/comments`) && r.method() === 'POST');
      await page.getByRole('button', { name: 'Comment', exact: true }).click();
      assert.deepEqual((await sent).postDataJSON(), { body: `Insane timing @${a.username}`, at_s: 1.5 });
      const res = await posted;
      assert.equal(res.status(), 201, await res.text());
      const comment = await res.json();
      commentId = comment.id;
      assert.equal(comment.at_s, 1.5);
      const item = page.locator(`.comment[data-comment="${commentId}"]`);
      await item.waitFor();
      assert.equal((await item.locator('.ts-chip').textContent()).trim(), '0:01');

      // The timestamp chip seeks the player and plays.
      await video.evaluate((v) => {
        v.currentTime = 0;
      });
      await item.locator('.ts-chip').click();
      await page.waitForFunction(() => {
        const v = document.querySelector('#post-video');
        return v && Math.abs(v.currentTime - 1.5) < 1 && !v.paused;
      });
      await video.evaluate((v) => v.pause());

      // Leaving the page (in the app: to A's profile) reports one view of what was watched.
      const view = page.waitForRequest((r) => r.url().endsWith(`${API}/posts/${post.id}/views`) && r.method() === 'POST', { timeout: 10_000 });
      await page.locator('.post-author-row .byline-handle').click();
      await expectPath(page, `/u/${a.username}`);
      const watched = (await view).postDataJSON().watched_s;
      assert.ok(watched > 0.5 && watched < 5, `watched_s is about the 1.2 s played (${watched})`);

      // A fresh load: the like and the comment are stored.
      await page.goto(`/p/${post.id}`);
      const like = page.locator('.post-actions').getByRole('button', { name: /^Like/ });
      await page.waitForFunction(() => document.querySelector('.post-actions .like-btn')?.getAttribute('aria-pressed') === 'true');
      assert.equal((await page.locator('.post-actions .like-count').textContent()).trim(), '1');
      assert.equal(await like.getAttribute('aria-pressed'), 'true');
      await page.locator(`.comment[data-comment="${commentId}"]`).getByText(`Insane timing`).waitFor();
      assert.equal((await page.locator('.comments-count').textContent()).trim(), '1');
      // B may delete their own comment; the Follow button on A's post says Following.
      await page.locator(`.comment[data-comment="${commentId}"]`).getByRole('button', { name: 'Delete' }).waitFor();
      await page.waitForFunction(() => document.querySelector('.post-author-row [data-testid=follow]')?.getAttribute('aria-pressed') === 'true');
    });

    await step('A replies to the comment; B sees the reply', async () => {
      const page = a.page;
      await page.reload();
      const item = page.locator(`.comment[data-comment="${commentId}"]`);
      await item.waitFor();
      // The post owner may delete any comment on it.
      await item.getByRole('button', { name: 'Delete' }).first().waitFor();
      await item.getByRole('button', { name: 'Reply' }).click();
      await page.locator(`#reply-${commentId}`).fill('Thanks! Took me forty tries.');
      const posted = page.waitForResponse((r) => r.url().endsWith(`${API}/posts/${post.id}/comments`) && r.request().method() === 'POST');
      await item.getByRole('button', { name: 'Reply', exact: true }).last().click();
      const res = await posted;
      assert.equal(res.status(), 201, await res.text());
      const reply = await res.json();
      assert.equal(reply.reply_to, commentId);
      await item.locator(`.comment-reply[data-comment="${reply.id}"]`).waitFor();

      await b.page.reload();
      await b.page.locator(`.comment[data-comment="${commentId}"] .comment-reply[data-comment="${reply.id}"]`).waitFor();
      await showFrame(b.page);
      await shot(b.page, 'social-02-post-comments.png');
    });

    await step("A's notifications show B's like, comment and follow; the bell clears", async () => {
      const page = a.page;
      const bell = page.getByRole('navigation', { name: 'Main' }).locator('.nav-bell');
      await page.goto(`/u/${a.username}`);
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=unread-count]')?.textContent) >= 3, null, { timeout: 35_000 });
      assert.match(await bell.getAttribute('aria-label'), /^Notifications, \d+ unread$/);
      const marked = page.waitForResponse((r) => r.url().endsWith(`${API}/notifications/read`));
      await bell.click();
      await expectPath(page, '/notifications');
      const list = page.locator('.notif-list');
      await list.waitFor();
      const items = await list.locator('.notif').evaluateAll((lis) =>
        lis.map((li) => ({ kind: li.getAttribute('data-kind'), text: li.querySelector('.notif-text')?.textContent?.replace(/\s+/g, ' ').trim() })),
      );
      t.diagnostic(`A's notifications: ${JSON.stringify(items)}`);
      const bName = b.username;
      const has = (kind, re) => items.some((n) => n.kind === kind && re.test(n.text));
      assert.ok(has('like', new RegExp(`^${bName} liked your post ${postTitle}`)), 'like notification');
      assert.ok(has('comment', new RegExp(`^${bName} commented on ${postTitle}`)), 'comment notification');
      assert.ok(has('follow', new RegExp(`^${bName} followed you`)), 'follow notification');
      // Opening the page marks what it shows as read.
      assert.equal((await marked).status(), 200);
      await page.locator('[data-testid=unread-count]').waitFor({ state: 'detached' });
      assert.equal(await bell.getAttribute('aria-label'), 'Notifications');
      await shot(page, 'social-05-notifications.png');
      await page.locator('#mark-all-read').click();
      await page.locator('.notif-unread').first().waitFor({ state: 'detached' });
    });

    await step('B: For you shows the post; "Not interested" removes it, also after a reload', async () => {
      const page = b.page;
      await page.goto('/');
      await page.getByRole('tab', { name: 'For you', selected: true }).waitFor();
      const card = page.locator(`.post-card[data-post="${post.id}"]`);
      await card.waitFor();
      const why = card.locator('.pc-why');
      await why.waitFor();
      await why.locator('summary').click();
      assert.ok((await why.locator('li').count()) >= 1, 'For you items say why they are there');
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'social-01-home-for-you.png');
      await card.getByRole('button', { name: 'More options' }).click();
      const hide = page.waitForResponse((r) => r.url().endsWith(`${API}/posts/${post.id}/hide`) && r.request().method() === 'PUT');
      await page.getByRole('menuitem', { name: 'Not interested' }).click();
      assert.equal((await hide).status(), 204);
      await card.waitFor({ state: 'detached' });
      await page.reload();
      await page.getByRole('tab', { name: 'For you', selected: true }).waitFor();
      await page.locator('.feed-list, .feed-empty').first().waitFor();
      await page.locator('.list-more').waitFor({ state: 'detached' });
      assert.equal(await page.locator(`.post-card[data-post="${post.id}"]`).count(), 0, 'a hidden post stays out of For you');
    });

    await step('B tunes the feed: favourite game, hidden creator, freshness; saved and reloaded', async () => {
      const page = b.page;
      await page.getByRole('link', { name: 'Tune your feed' }).click();
      await expectPath(page, '/settings/feed');
      await page.locator('#favourite-games').fill('Rocket League');
      await page.locator('#favourite-games').press('Enter');
      await page.locator('#hidden-games').fill('Solitaire,');
      // A creator to hide must exist.
      const carol = `carol_${randomBytes(4).toString('hex')}`;
      const reg = await api('POST', `${API}/auth/register`, { username: carol, email: `${carol}@example.test`, password: 'correct horse battery' });
      assert.equal(reg.status, 201);
      await page.locator('#hidden-creators').fill(`@nobody_${carol}`);
      await page.locator('#hidden-creators').press('Enter');
      const refused = page.waitForResponse((r) => r.url().endsWith(`${API}/feed/preferences`) && r.request().method() === 'PUT');
      await page.locator('#save-prefs').click();
      assert.equal((await refused).status(), 422, 'an unknown creator is refused');
      await page.locator('#hidden-creators-help.field-error').waitFor();
      await page.getByRole('button', { name: `Remove @nobody_${carol}` }).click();
      await page.locator('#hidden-creators').fill(`@${carol}`);
      await page.locator('#hidden-creators').press('Enter');
      await page.locator('#freshness').evaluate((el) => {
        el.value = '80';
        el.dispatchEvent(new Event('input', { bubbles: true }));
      });
      const put = page.waitForRequest((r) => r.url().endsWith(`${API}/feed/preferences`) && r.method() === 'PUT');
      const putRes = page.waitForResponse((r) => r.url().endsWith(`${API}/feed/preferences`) && r.request().method() === 'PUT');
      await page.locator('#save-prefs').click();
      assert.deepEqual((await put).postDataJSON(), {
        favourite_games: ['Rocket League'],
        hidden_games: ['Solitaire'],
        hidden_creators: [carol],
        freshness: 80,
      });
      assert.equal((await putRes).status(), 200, await (await putRes).text());
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      await page.reload();
      await page.locator('.chip-values .chip', { hasText: 'Rocket League' }).waitFor();
      assert.equal(await page.locator('#freshness').inputValue(), '80');
      await page.locator('#hidden-creators').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'social-04-preferences.png');
    });

    await step("B blocks A from the profile menu (the follow ends), then unblocks", async () => {
      const page = b.page;
      await page.goto(`/u/${a.username}`);
      await page.waitForFunction(() => document.querySelector('[data-testid=follow]')?.getAttribute('aria-pressed') === 'true');
      await page.getByRole('button', { name: `More options for @${a.username}` }).click();
      const blocked = page.waitForResponse((r) => r.url().endsWith(`${API}/users/${a.username}/block`) && r.request().method() === 'PUT');
      await page.getByRole('menuitem', { name: `Block @${a.username}` }).click();
      assert.equal((await blocked).status(), 200);
      await page.locator('.blocked-note').waitFor();
      assert.equal(await page.locator('[data-testid=follow]').count(), 0, 'no Follow button while blocked');
      assert.equal(await page.locator('.post-tile').count(), 0, 'no posts while blocked');
      await page.reload();
      await page.locator('.blocked-note').waitFor();
      const unblocked = page.waitForResponse((r) => r.url().endsWith(`${API}/users/${a.username}/block`) && r.request().method() === 'DELETE');
      await page.locator('.blocked-note').getByRole('button', { name: 'Unblock' }).click();
      assert.equal((await unblocked).status(), 200);
      await page.locator(`.post-tile[data-post="${post.id}"]`).waitFor();
      // Blocking ended the follow.
      assert.equal(await page.locator('[data-testid=follow]').getAttribute('aria-pressed'), 'false');
      assert.equal((await page.locator('#stat-followers').textContent()).trim(), '0');
      const refollow = page.waitForResponse((r) => r.url().endsWith(`${API}/users/${a.username}/follow`) && r.request().method() === 'PUT');
      await page.locator('[data-testid=follow]').click();
      assert.equal((await refollow).status(), 200);
    });

    await step('phone (390 px): feed, post page, profile fit without horizontal scrolling', async () => {
      const page = b.page;
      await page.setViewportSize(PHONE);
      await page.goto(`/p/${post.id}`);
      await page.locator(`.comment[data-comment="${commentId}"]`).waitFor();
      await showFrame(page);
      await noHorizontalScroll(page, `/p/${post.id}`);
      await shot(page, 'social-06-post-phone.png', { fullPage: true });
      await page.goto(`/u/${a.username}`);
      await page.locator(`.post-tile[data-post="${post.id}"]`).waitFor();
      await noHorizontalScroll(page, `/u/${a.username}`);
      await page.goto('/?tab=following');
      await page.locator(`.post-card[data-post="${post.id}"]`).waitFor();
      await noHorizontalScroll(page, '/ (Following)');
      await shot(page, 'social-07-home-phone.png');
      await page.setViewportSize(DESKTOP);
    });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('every API call identifies the web client; no page errors or CSP violations', (t) => {
  if (apiRequests.length === 0) return t.skip('no browser run');
  const missing = apiRequests.filter((r) => r.client !== 'web');
  assert.deepEqual(missing, [], 'requests without X-Cosmiv-Client: web');
  assert.deepEqual(pageProblems, []);
});
