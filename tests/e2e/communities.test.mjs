// Browser end-to-end test of communities and live chat against the real
// server: two players, A and B, in two browser contexts. A creates a community
// and an invite; B accepts it on /invite/:code; both open #general. A's
// message reaches B live, B's typing shows on A's screen, B's reaction shows
// on A's message. A adds a channel whose @everyone overwrite denies
// SEND_MESSAGES (settings UI): B sees the input disabled and a direct POST
// from B's page gets 403. B's gateway socket drops; a message sent meanwhile
// arrives after the reconnect (resume replays it). B sees an unread badge on
// a channel A writes in.
//
//   (cd web && npm ci && npm run build) && make build/cosmiv && (cd tests && npm ci)
//   node --test tests/e2e/communities.test.mjs
//
// The server runs as `make run` runs it: the gateway on its own port next to
// the HTTP port (GET /api/v2/gateway says where; the page's CSP lists it).
//
// Env: COSMIV_BIN (server binary, default build/cosmiv; web/dev/mock-communities.mjs
// works too), CHROMIUM_PATH (default /usr/bin/chromium), COMM_DEBUG=1 (print gateway frames
// and console messages). Screenshots go to
// tests/e2e/screenshots/ (git-ignored), named communities-*.png.

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
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const API = '/api/v2';

let server;
let serverLog = '';
let baseURL;
let dataDir;
let browser;
const pageProblems = [];
const apiRequests = [];

function watch(page) {
  if (process.env.COMM_DEBUG) {
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => console.error(`<< ${String(f.payload).slice(0, 300)}`));
      ws.on('framesent', (f) => console.error(`>> ${String(f.payload).slice(0, 200)}`));
      ws.on('close', () => console.error('ws closed'));
    });
    page.on('console', (m) => console.error(`console: ${m.text()}`));
  }
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) pageProblems.push(`csp: ${text}`);
  });
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/') && ['fetch', 'xhr'].includes(req.resourceType())) {
      apiRequests.push({ method: req.method(), path: url.pathname, client: req.headers()['x-cosmiv-client'] });
    }
  });
}

async function shot(page, name, opts = {}) {
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(SHOTS, name), ...opts });
}

async function expectPath(page, re) {
  await page.waitForURL((u) => re.test(u.pathname), { timeout: 30_000 });
  return new URL(page.url()).pathname;
}

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

const gatewayReady = (page) => page.waitForFunction(() => window.cosmivGateway?.status === 'ready', null, { timeout: 20_000 });

before(async () => {
  assert.ok(existsSync(BIN), `server binary not found at ${BIN} (run \`make build/cosmiv\` or set COSMIV_BIN)`);
  assert.ok(existsSync(join(WEB_DIR, 'index.html')), `web/dist is missing (run \`npm ci && npm run build\` in web/)`);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium or set CHROMIUM_PATH)`);
  await mkdir(SHOTS, { recursive: true });

  dataDir = await mkdtemp(join(tmpdir(), 'cosmiv-e2e-comm-'));
  const [httpPort, gatewayPort] = [await freePort(), await freePort()];
  const serverURL = `http://127.0.0.1:${httpPort}`;
  baseURL = serverURL;
  server = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${httpPort}`], {
    cwd: ROOT,
    env: {
      ...process.env,
      COSMIV_WEB_DIR: WEB_DIR,
      COSMIV_GATEWAY_LISTEN: `127.0.0.1:${gatewayPort}`,
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
  await waitHealthy(serverURL, server, () => serverLog);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('communities: invite, live chat, typing, reactions, permissions, reconnect', { timeout: 300_000 }, async (t) => {
  const a = await player('alice');
  const b = await player('bob');
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
          await page.screenshot({ path: join(SHOTS, `communities-FAILED-${slug}-${who}.png`) }).catch(() => {});
        }
        st.diagnostic(`server log (tail):\n${serverLog.slice(-3000)}`);
        throw err;
      }
    });

  let communityId;
  let generalId;
  let code;
  let lockedId;
  const hello = `GG everyone, scrims at 9? ${randomBytes(2).toString('hex')}`;
  try {
    await step('A creates a community from the rail and lands in #general', async () => {
      const page = a.page;
      await page.goto('/me');
      await page.locator('#nav-communities').click();
      await expectPath(page, /^\/c$/);
      await page.locator('#create-community').click();
      await page.locator('#community-name').fill('Friday Night Squad');
      await page.locator('#community-icon').fill('🎮');
      const created = page.waitForResponse((r) => r.url().endsWith(`${API}/communities`) && r.request().method() === 'POST');
      await page.locator('#create-submit').click();
      assert.equal((await created).status(), 201, 'POST /communities');
      const path = await expectPath(page, /^\/c\/\d+\/\d+$/);
      [communityId, generalId] = path.split('/').slice(2);
      await page.locator('.channel-link.active[data-channel="general"]').waitFor();
      await page.locator(`.rail-active a[href="/c/${communityId}"]`).waitFor();
      await gatewayReady(page);
    });

    await step('A creates an invite; B previews and accepts it on /invite/:code', async () => {
      await a.page.locator('#invite-open').click();
      await a.page.waitForFunction(() => /\/invite\/[A-Za-z0-9_-]+$/.test(document.querySelector('#invite-link')?.value || ''));
      const link = await a.page.locator('#invite-link').inputValue();
      code = link.split('/invite/')[1];
      assert.ok(link.startsWith(`${baseURL}/invite/`), `invite link on this origin: ${link}`);
      await shot(a.page, 'communities-invite-dialog.png');
      await a.page.keyboard.press('Escape');

      const page = b.page;
      await page.goto(`/invite/${code}`);
      await page.locator('#invite-card').getByRole('heading', { name: 'Friday Night Squad' }).waitFor();
      await page.getByText('1 member').waitFor();
      await shot(page, 'communities-invite.png');
      await page.locator('#invite-accept').click();
      await expectPath(page, new RegExp(`^/c/${communityId}/${generalId}$`));
      await page.locator('.channel-link.active[data-channel="general"]').waitFor();
      await gatewayReady(page);
      // A sees B join in the member list, live.
      await a.page.locator(`.member[data-member="${b.username}"]`).waitFor();
    });

    await step('A sends a message; B sees it live', async () => {
      await a.page.locator('#chat-input').fill(hello);
      await a.page.locator('#chat-input').press('Enter');
      await a.page.locator('.msg', { hasText: hello }).waitFor();
      assert.equal(await a.page.locator('#chat-input').inputValue(), '', 'the input is cleared after sending');
      await b.page.locator('.msg', { hasText: hello }).waitFor({ timeout: 10_000 });
      // Shift+Enter is a newline, not a send.
      await a.page.locator('#chat-input').press('Shift+Enter');
      assert.equal(await a.page.locator('#chat-input').inputValue(), '\n');
      await a.page.locator('#chat-input').fill('');
    });

    await step('B types; A sees the typing indicator', async () => {
      await b.page.locator('#chat-input').click();
      await b.page.keyboard.type('on my way', { delay: 40 });
      await a.page.locator('#typing-indicator', { hasText: `${b.username} is typing` }).waitFor({ timeout: 10_000 });
      await b.page.keyboard.press('Enter');
      await a.page.locator('.msg', { hasText: 'on my way' }).waitFor();
      // The indicator clears when B's message arrives.
      await a.page.waitForFunction(() => !document.querySelector('#typing-indicator')?.textContent?.includes('typing'));
    });

    await step("B reacts to A's message; A sees the count", async () => {
      const msg = b.page.locator('.msg', { hasText: hello });
      await msg.hover();
      await msg.getByRole('button', { name: 'Add reaction' }).click();
      const put = b.page.waitForResponse((r) => r.url().includes('/reactions/') && r.request().method() === 'PUT');
      await msg.getByRole('menuitem', { name: 'React with 🔥' }).click();
      assert.equal((await put).status(), 204);
      const chip = a.page.locator('.msg', { hasText: hello }).locator('.reaction[data-emoji="🔥"]');
      await chip.waitFor({ timeout: 10_000 });
      assert.equal((await chip.locator('.reaction-count').textContent()).trim(), '1');
      assert.equal(await chip.getAttribute('aria-pressed'), 'false', "A did not react; it is B's reaction");
      // A adds one too: 2, and B sees it.
      await chip.click();
      await a.page.waitForFunction(() => document.querySelector('.reaction[data-emoji="🔥"] .reaction-count')?.textContent === '2');
      await b.page.waitForFunction(() => document.querySelector('.reaction[data-emoji="🔥"] .reaction-count')?.textContent === '2');
      // A replies to B's message with a quoted header.
      const bMsg = a.page.locator('.msg', { hasText: 'on my way' });
      await bMsg.hover();
      await bMsg.getByRole('button', { name: 'Reply' }).click();
      await a.page.locator('#reply-bar').waitFor();
      await a.page.locator('#chat-input').fill('see you there');
      await a.page.locator('#chat-input').press('Enter');
      await b.page.locator('.msg', { hasText: 'see you there' }).locator('.msg-reply', { hasText: `@${b.username}` }).waitFor();
      await a.page.locator('#reply-bar').waitFor({ state: 'detached' });
      await shot(a.page, 'communities-chat.png');
    });

    await step('A edits and deletes own messages; B sees both live', async () => {
      await a.page.locator('#chat-input').fill('typo mesage');
      await a.page.locator('#chat-input').press('Enter');
      await a.page.locator('.msg', { hasText: 'typo mesage' }).waitFor();
      const mid = await a.page.locator('.msg', { hasText: 'typo mesage' }).getAttribute('data-message');
      const mine = a.page.locator(`.msg[data-message="${mid}"]`);
      await b.page.locator('.msg', { hasText: 'typo mesage' }).waitFor();
      await mine.hover();
      await mine.getByRole('button', { name: 'Edit' }).click();
      await mine.getByLabel('Edit message').fill('fixed message');
      await mine.getByLabel('Edit message').press('Enter');
      await b.page.locator('.msg', { hasText: 'fixed message' }).locator('.msg-edited').waitFor();
      const fixed = a.page.locator('.msg', { hasText: 'fixed message' });
      await fixed.hover();
      await fixed.getByRole('button', { name: 'Delete' }).click();
      await fixed.locator('.msg-confirm-yes').click();
      await b.page.locator('.msg', { hasText: 'fixed message' }).waitFor({ state: 'detached' });
      // B may not edit or delete A's message.
      const other = b.page.locator('.msg', { hasText: hello });
      await other.hover();
      assert.equal(await other.getByRole('button', { name: 'Edit' }).count(), 0);
      assert.equal(await other.getByRole('button', { name: 'Delete' }).count(), 0);
    });

    await step('A creates a role and a read-only channel in settings (@everyone denied SEND_MESSAGES)', async () => {
      const page = a.page;
      await page.locator('#settings-open').click();
      await expectPath(page, new RegExp(`^/c/${communityId}/settings`));
      await page.locator('#tab-roles').click();
      const made = page.waitForResponse((r) => r.url().endsWith(`/communities/${communityId}/roles`) && r.request().method() === 'POST');
      await page.locator('#role-create').click();
      assert.equal((await made).status(), 201);
      await page.locator('#role-name').fill('Shotcaller');
      await page.locator('#role-editor [data-perm="MANAGE_MESSAGES"]').check();
      await page.locator('#role-editor [data-perm="MENTION_EVERYONE"]').check();
      const saved = page.waitForResponse((r) => /\/roles\/\d+$/.test(r.url()) && r.request().method() === 'PATCH');
      await page.locator('#role-save').click();
      assert.equal((await saved).status(), 200);
      await page.locator('.role-pick[data-role="Shotcaller"]').waitFor();
      await page.locator('.settings-main').evaluate((el) => el.scrollTo(0, 0));
      await shot(page, 'communities-settings-roles.png');

      await page.locator('#tab-channels').click();
      await page.locator('#channel-create').click();
      await page.locator('#nc-name').fill('Rules');
      await page.locator('#nc-category').fill('Info');
      await page.locator('#nc-topic').fill('Read before you queue');
      const ch = page.waitForResponse((r) => r.url().endsWith(`/communities/${communityId}/channels`) && r.request().method() === 'POST');
      await page.locator('#nc-submit').click();
      const chRes = await ch;
      assert.equal(chRes.status(), 201);
      lockedId = (await chRes.json()).id;
      await page.locator('.role-pick[data-channel="rules"]').click();
      await page.locator('#overwrites .chip-btn[data-target="@everyone"]').click();
      await page.locator('#overwrites .tri[data-perm="SEND_MESSAGES"] .tri-deny').click();
      const ow = page.waitForResponse((r) => r.url().includes(`/channels/${lockedId}/overwrites/role/${communityId}`) && r.request().method() === 'PUT');
      await page.locator('#ow-save').click();
      assert.equal((await ow).status(), 204);
      await page.locator('#overwrites .tri[data-perm="SEND_MESSAGES"] .tri-deny.on').waitFor();
      await page.locator('#overwrites').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await shot(page, 'communities-settings-channels.png');
    });

    await step('A gives B the Shotcaller role from settings → Members; B sees the role live', async () => {
      const page = a.page;
      await page.locator('#tab-members').click();
      const row = page.locator(`.settings-member[data-member="${b.username}"]`);
      await row.waitFor();
      // A is the owner: kick, ban and roles are offered for B; A can give itself roles but not kick itself.
      await row.getByRole('button', { name: 'Kick' }).waitFor();
      await row.getByRole('button', { name: 'Ban' }).waitFor();
      assert.equal(await page.locator(`.settings-member[data-member="${a.username}"]`).getByRole('button', { name: 'Kick' }).count(), 0);
      const put = page.waitForResponse((r) => /\/members\/\d+\/roles\/\d+$/.test(r.url()) && r.request().method() === 'PUT');
      await row.getByLabel('Shotcaller').check();
      assert.equal((await put).status(), 204);
      await row.locator('.role-chip', { hasText: 'Shotcaller' }).waitFor();
      await shot(page, 'communities-settings-members.png');
      // B, now with MANAGE_MESSAGES, sees the delete tool on A's message; B's own member list shows the role.
      const other = b.page.locator('.msg', { hasText: hello });
      await b.page.locator(`.member[data-member="${b.username}"] .member-btn`).click();
      await b.page.locator('.member-pop .role-chip', { hasText: 'Shotcaller' }).waitFor({ timeout: 10_000 });
      await b.page.locator(`.member[data-member="${b.username}"] .member-btn`).click();
      await other.hover();
      await other.getByRole('button', { name: 'Delete' }).waitFor({ timeout: 10_000 });
      // Back to the owner's view of the settings channels for the next step.
      await page.locator('#tab-channels').click();
    });

    await step('B cannot write in #rules: the input is disabled with a reason, and the API answers 403', async () => {
      const page = b.page;
      await page.locator(`.channel-link[data-channel="rules"]`).click();
      await expectPath(page, new RegExp(`^/c/${communityId}/${lockedId}$`));
      await page.locator('#chat-input:disabled').waitFor();
      await page.locator('#composer-reason', { hasText: 'Send messages' }).waitFor();
      const status = await page.evaluate(
        async ({ id, token }) => {
          const r = await fetch(`/api/v2/channels/${id}/messages`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'X-Cosmiv-Client': 'web' },
            body: JSON.stringify({ content: 'let me in' }),
          });
          return { status: r.status, body: await r.json().catch(() => null) };
        },
        { id: lockedId, token: b.token },
      );
      assert.equal(status.status, 403, `POST as B: ${JSON.stringify(status.body)}`);
      assert.equal(status.body?.code, 'missing_permission');
      await shot(page, 'communities-readonly.png');
      // A, the owner, still can.
      await a.page.goto(`/c/${communityId}/${lockedId}`);
      await a.page.locator('#chat-input:not(:disabled)').waitFor();
    });

    await step('B sees an unread badge on #rules when A writes there', async () => {
      await b.page.locator(`.channel-link[data-channel="general"]`).click();
      await expectPath(b.page, new RegExp(`^/c/${communityId}/${generalId}$`));
      await a.page.locator('#chat-input').fill('No smurfing. No spawn camping.');
      await a.page.locator('#chat-input').press('Enter');
      await b.page.locator('.channel-link.unread[data-channel="rules"] .unread-badge').waitFor({ timeout: 10_000 });
      await b.page.locator('.channel-link[data-channel="rules"]').click();
      await b.page.locator('.msg', { hasText: 'No smurfing' }).waitFor();
      await b.page.locator('.channel-link[data-channel="general"]').click();
      await expectPath(b.page, new RegExp(`^/c/${communityId}/${generalId}$`));
      // Read: no badge once B has left it, and none after a reload (the server got the ack).
      await b.page.waitForTimeout(300);
      assert.equal(await b.page.locator('.channel-link.unread[data-channel="rules"]').count(), 0, '#rules is read');
      await b.page.reload();
      await b.page.locator('.msg', { hasText: hello }).waitFor();
      assert.equal(await b.page.locator('.channel-link.unread[data-channel="rules"]').count(), 0, '#rules is still read after a reload');
      await gatewayReady(b.page);
      await a.page.locator('.channel-link[data-channel="general"]').click();
    });

    await step("B's socket drops; a message sent meanwhile arrives after the reconnect", async () => {
      const page = b.page;
      await gatewayReady(page);
      await page.evaluate(() => {
        window.__resumed = null;
        window.cosmivGateway.on('RESUMED', (d) => (window.__resumed = d));
        window.cosmivGateway.pause();
      });
      await page.locator('#gateway-status[data-status="reconnecting"]').waitFor();
      const away = `sent while you were away ${randomBytes(2).toString('hex')}`;
      await a.page.locator('#chat-input').fill(away);
      await a.page.locator('#chat-input').press('Enter');
      await a.page.locator('.msg', { hasText: away }).waitFor();
      await page.waitForTimeout(800);
      assert.equal(await page.locator('.msg', { hasText: away }).count(), 0, 'not delivered while disconnected');
      await page.evaluate(() => window.cosmivGateway.unpause());
      await page.locator('.msg', { hasText: away }).waitFor({ timeout: 15_000 });
      const resumed = await page.evaluate(() => window.__resumed);
      assert.ok(resumed && resumed.replayed >= 1, `resumed and replayed the missed events: ${JSON.stringify(resumed)}`);
      await gatewayReady(page);
      // Still live after the resume.
      await a.page.locator('#chat-input').fill('welcome back');
      await a.page.locator('#chat-input').press('Enter');
      await page.locator('.msg', { hasText: 'welcome back' }).waitFor({ timeout: 10_000 });
    });

    await step('B goes offline (network) and comes back; the chat catches up', async () => {
      const page = b.page;
      await b.context.setOffline(true);
      // Chromium may keep an open socket through offline emulation; drop it for sure.
      await page.evaluate(() => window.cosmivGateway.pause());
      const during = `while offline ${randomBytes(2).toString('hex')}`;
      await a.page.locator('#chat-input').fill(during);
      await a.page.locator('#chat-input').press('Enter');
      await b.context.setOffline(false);
      await page.evaluate(() => window.cosmivGateway.unpause());
      await page.locator('.msg', { hasText: during }).waitFor({ timeout: 20_000 });
    });

    await step('A attaches a ready clip from the picker; it plays inline for B', async (st) => {
      // Needs the media pipeline (tus uploads, FFmpeg); stand-in servers without it skip this.
      const tus = await fetch(`${baseURL}${API}/uploads`, { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0' } });
      if (tus.status === 404 || tus.status === 405) return st.skip(`no media API (OPTIONS ${API}/uploads -> ${tus.status})`);
      const srv = { fetch: (path, init) => fetch(baseURL + path, init), api: (m, path, body, o) => api(m, path, body, o) };
      const work = await mkdtemp(join(tmpdir(), 'cosmiv-e2e-comm-media-'));
      try {
        const file = makeGameplay(work, 'comm-gameplay', { seconds: 6, size: '640x360', burstAt: 2 });
        const uploadId = await tusUpload(srv, a.token, file);
        const v = await api('POST', `${API}/videos`, { upload_id: uploadId, title: 'scrim', game: 'Test Arena' }, { token: a.token });
        assert.equal(v.status, 201, `create video: ${JSON.stringify(v.body)}`);
        const video = await waitFor(srv, `${API}/videos/${v.body.id}`, a.token, (x) => x.status !== 'processing', 120_000);
        assert.equal(video.status, 'ready', `video processing: ${video.error}`);
        const c = await api('POST', `${API}/clips`, { video_id: video.id, start_s: 1, end_s: 4, aspect: '16:9', title: 'Ace on B site' }, { token: a.token });
        assert.equal(c.status, 202, `create clip: ${JSON.stringify(c.body)}`);
        const clip = await waitFor(srv, `${API}/clips/${c.body.id}`, a.token, (x) => x.status !== 'processing', 120_000);
        assert.equal(clip.status, 'ready', `clip rendering: ${clip.error}`);

        const page = a.page;
        await page.locator('#attach-clip').click();
        await page.locator(`#clip-picker .clip-pick[data-clip="${clip.id}"]`).click();
        await page.locator('#clip-bar', { hasText: 'Ace on B site' }).waitFor();
        await page.locator('#clip-picker').waitFor({ state: 'detached' });
        // picking a clip puts the cursor in the message box
        await page.waitForFunction(() => document.activeElement?.id === 'chat-input');
        await page.locator('#chat-input').fill('watch this');
        const sent = page.waitForResponse((r) => /\/channels\/\d+\/messages$/.test(r.url()) && r.request().method() === 'POST');
        await page.locator('#chat-input').press('Enter');
        const res = await sent;
        assert.equal(res.status(), 201, `send with clip: ${await res.text()}`);
        const embed = b.page.locator('.msg', { hasText: 'watch this' }).locator(`video.clip-embed-video[data-clip="${clip.id}"]`);
        await embed.waitFor({ timeout: 10_000 });
        await b.page.waitForFunction((id) => document.querySelector(`video[data-clip="${id}"]`)?.readyState >= 1, clip.id, { timeout: 30_000 });
        await embed.evaluate(async (v) => {
          v.muted = true;
          await v.play().catch(() => {});
          await new Promise((r) => setTimeout(r, 500));
          v.pause();
        });
        assert.ok((await embed.evaluate((v) => v.currentTime)) > 0, 'the clip plays inline');
        await embed.scrollIntoViewIfNeeded();
        await shot(b.page, 'communities-clip.png');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    await step('discover lists public communities; the chat fits a phone', async () => {
      const pub = await api('POST', `${API}/communities`, { name: 'Open Lobby', description: 'Anyone can drop in. LFG, clips and patch talk.', icon: '🛰️', public: true }, { token: a.token });
      assert.equal(pub.status, 201, JSON.stringify(pub.body));
      const page = b.page;
      await page.goto('/discover');
      await page.locator('#discover-search').fill('lobby');
      await page.locator(`.discover-card[data-community="${pub.body.id}"]`).waitFor();
      await shot(page, 'communities-discover.png');
      await page.setViewportSize(PHONE);
      await page.goto(`/c/${communityId}/${generalId}`);
      await page.locator('.msg', { hasText: hello }).waitFor();
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      assert.ok(scrollWidth <= innerWidth, `no horizontal scroll on a phone (${scrollWidth} > ${innerWidth})`);
      const navBox = await page.locator('.nav').boundingBox();
      assert.ok(navBox && navBox.height <= 72, `nav bar fits on one row (height ${navBox?.height})`);
      await shot(page, 'communities-chat-phone.png');
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
