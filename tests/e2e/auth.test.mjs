// Browser end-to-end test of the Cosmiv web app against the real server.
//
//   (cd web && npm ci && npm run build) && make build/cosmiv && (cd tests && npm ci)
//   node --test tests/e2e/
//
// Env: COSMIV_BIN (server binary, default build/cosmiv), CHROMIUM_PATH (default
// /usr/bin/chromium), COSMIV_UPDATE_SCREENSHOT=1 (also write docs/screenshot.png).
// Screenshots of every step go to tests/e2e/screenshots/ (git-ignored).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
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
const WRONG_PASSWORD_DETAIL = 'Invalid username/email or password.';

let server; // ChildProcess
let serverLog = '';
let baseURL;
let dataDir;
let browser;

// Problems the page itself reports (uncaught errors, CSP violations), per context.
const pageProblems = [];

async function newPage(viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL, viewport, deviceScaleFactor: 1 });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  watch(page);
  return { context, page };
}

// Every API call must carry X-Cosmiv-Client: web; collect page errors and CSP violations.
const apiRequests = [];
function watch(page) {
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) pageProblems.push(`csp: ${text}`);
  });
  page.on('request', (req) => {
    const url = new URL(req.url());
    // API calls made by the app's code (images such as avatars are plain <img> loads)
    if (url.pathname.startsWith('/api/') && ['fetch', 'xhr'].includes(req.resourceType())) {
      apiRequests.push({ method: req.method(), path: url.pathname, client: req.headers()['x-cosmiv-client'] });
    }
  });
}

async function shot(page, name, opts = {}) {
  await page.screenshot({ path: join(SHOTS, name), ...opts });
  return join(SHOTS, name);
}

async function expectText(locator, expected) {
  await locator.waitFor({ state: 'visible' });
  const text = (await locator.textContent())?.trim();
  assert.equal(text, expected);
}

async function expectPath(page, path) {
  await page.waitForURL((u) => u.pathname === path);
  assert.equal(new URL(page.url()).pathname, path);
}

// Client-side route change, as the app's own links do (no page load).
async function clientNavigate(page, path) {
  await page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  await expectPath(page, path);
}

async function signOut(page) {
  await page.locator('#signout').click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.locator('#signout').count(), 0, 'sign-out button should be gone when signed out');
}

before(async () => {
  assert.ok(existsSync(BIN), `server binary not found at ${BIN} (run \`make build/cosmiv\` or set COSMIV_BIN)`);
  assert.ok(existsSync(join(WEB_DIR, 'index.html')), `web/dist is missing (run \`npm ci && npm run build\` in web/)`);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium or set CHROMIUM_PATH)`);
  await mkdir(SHOTS, { recursive: true });

  dataDir = await mkdtemp(join(tmpdir(), 'cosmiv-e2e-'));
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: { ...process.env, COSMIV_WEB_DIR: WEB_DIR },
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
});

test('home page renders on desktop and phone', { timeout: 60_000 }, async () => {
  const { context, page } = await newPage(DESKTOP);
  try {
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, 'server should send the CSP header');
    await expectText(page.locator('.wordmark'), 'Cosmiv');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /found for you/);
    // Signed out: session restore attempt happened and failed silently.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create account', exact: true }).waitFor();
    assert.equal(await page.locator('[role=alert]').count(), 0, 'no error box on a fresh visit');
    await shot(page, '01-home.png');
  } finally {
    await context.close();
  }

  const phone = await newPage(PHONE);
  try {
    await phone.page.goto('/');
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    const { scrollWidth, innerWidth } = await phone.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    assert.ok(scrollWidth <= innerWidth, `no horizontal scrolling on a phone (scrollWidth ${scrollWidth} > ${innerWidth})`);
    // The nav must fit on one row at phone width.
    const navBox = await phone.page.locator('.nav').boundingBox();
    assert.ok(navBox && navBox.height <= 72, `nav bar fits on one row (height ${navBox?.height})`);
    await shot(phone.page, '02-home-phone.png');
    await shot(phone.page, '02-home-phone-full.png', { fullPage: true });
  } finally {
    await phone.context.close();
  }
});

test('register, reload, sign out, sign in, edit profile, wrong password', { timeout: 180_000 }, async () => {
  const suffix = randomBytes(4).toString('hex');
  const username = `e2e_${suffix}`;
  const email = `e2e_${suffix}@example.test`;
  const password = `correct-horse-${suffix}`;
  const { context, page } = await newPage(DESKTOP);
  try {
    // --- register -------------------------------------------------------
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create account', exact: true }).click();
    await expectPath(page, '/register');
    await page.locator('#username').fill(username);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await shot(page, '03-register.png');
    const registerResponse = page.waitForResponse((r) => r.url().endsWith('/api/v2/auth/register'));
    await page.locator('button[type=submit]').click();
    const reg = await registerResponse;
    assert.equal(reg.status(), 201, 'register returns 201');
    const { access_token: accessToken, refresh_token: refreshToken } = await reg.json();
    assert.ok(accessToken, 'register response has an access token');

    await expectPath(page, '/me');
    await expectText(page.locator('#profile-username'), username);
    await expectText(page.locator('#profile-email'), email);
    assert.match(await page.locator('#profile-role').textContent(), /^(user|moderator|admin)$/);
    await expectText(page.locator('#signout'), 'Sign out');
    await shot(page, '04-profile-after-register.png');

    // Tokens are never persisted where scripts could read them later.
    const stored = await page.evaluate(() =>
      JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }),
    );
    assert.ok(!stored.includes(accessToken), 'access token must not be in Web Storage or document.cookie');
    if (refreshToken) assert.ok(!stored.includes(refreshToken), 'refresh token must not be readable by JS');

    // --- reload: the session comes back through the refresh cookie ----------
    const refreshOnReload = page.waitForResponse((r) => r.url().endsWith('/api/v2/auth/refresh'));
    await page.reload();
    assert.equal((await refreshOnReload).status(), 200, 'refresh after reload succeeds');
    await expectPath(page, '/me');
    await expectText(page.locator('#profile-username'), username);
    await shot(page, '05-profile-after-reload.png');

    // Two tabs restoring the session at the same time must not trip the
    // server's refresh-token reuse detection (refreshes are serialized).
    const second = await context.newPage();
    watch(second);
    await Promise.all([page.reload(), second.goto('/me')]);
    await expectText(page.locator('#profile-username'), username);
    await expectText(second.locator('#profile-username'), username);
    await second.close();

    // --- sign out ---------------------------------------------------------
    await signOut(page);
    await expectPath(page, '/');
    await shot(page, '06-signed-out.png');
    // The session is really gone: a reload stays signed out and /me redirects.
    await page.goto('/me');
    await expectPath(page, '/login');
    assert.equal(await page.locator('#signout').count(), 0);

    // --- sign in with the username -----------------------------------------
    await page.locator('#login').fill(username);
    await page.locator('#password').fill(password);
    await shot(page, '07-login.png');
    await page.locator('button[type=submit]').click();
    await expectPath(page, '/me');
    await expectText(page.locator('#profile-username'), username);
    await shot(page, '08-profile-after-login.png');

    // --- edit display name and bio (PATCH) ---------------------------------
    const displayName = 'Nova Strike';
    const bio = 'Support main. Ranked grinder, clutch enjoyer.\nAlways recording.';
    await page.locator('#display_name').fill(displayName);
    await page.locator('#bio').fill(bio);
    const patch = page.waitForResponse((r) => r.url().endsWith('/api/v2/users/me') && r.request().method() === 'PATCH');
    await page.locator('form.edit-card button[type=submit]').click();
    assert.equal((await patch).status(), 200, 'PATCH /users/me succeeds');
    await page.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    await expectText(page.locator('.profile-display'), displayName);
    await page.reload();
    await expectText(page.locator('.profile-display'), displayName);
    assert.equal(await page.locator('#bio').inputValue(), bio, 'bio persisted');
    await page.mouse.move(0, 0);
    const profileShot = await shot(page, '09-profile-edited.png');
    if (process.env.COSMIV_UPDATE_SCREENSHOT === '1') {
      await mkdir(join(ROOT, 'docs'), { recursive: true });
      await copyFile(profileShot, join(ROOT, 'docs/screenshot.png'));
    }

    // --- public profile: no email ------------------------------------------
    // (In-app navigation from here on: every full page load costs a rate-limited refresh.)
    await page.getByRole('link', { name: 'View public profile' }).click();
    await expectPath(page, `/u/${username}`);
    await expectText(page.locator('#profile-username'), username);
    await expectText(page.locator('.profile-display'), displayName);
    assert.ok(!(await page.locator('main').textContent()).includes(email), 'public profile must not show the email');
    await shot(page, '10-public-profile.png');
    await clientNavigate(page, `/u/nobody_${suffix}`);
    await page.getByRole('heading', { name: 'Player not found' }).waitFor();
    // A deep unknown path is a full load: the server must fall back to index.html.
    const notFound = await page.goto(`/no/such/page`);
    assert.equal(notFound.status(), 200, 'SPA fallback serves index.html');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await shot(page, '11-not-found.png');

    // --- sign out, then a wrong password -----------------------------------
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My profile' }).click();
    await expectText(page.locator('#profile-username'), username);
    await signOut(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in', exact: true }).click();
    await expectPath(page, '/login');
    await page.locator('#login').fill(username);
    await page.locator('#password').fill(`${password}-wrong`);
    const loginResponse = page.waitForResponse((r) => r.url().endsWith('/api/v2/auth/login'));
    await page.locator('button[type=submit]').click();
    const bad = await loginResponse;
    assert.equal(bad.status(), 401, 'wrong password gives 401');
    assert.match(bad.headers()['content-type'] || '', /application\/problem\+json/);
    await expectText(page.locator('[role=alert]'), WRONG_PASSWORD_DETAIL);
    assert.equal(new URL(page.url()).pathname, '/login', 'stays on /login');
    assert.equal(await page.locator('#signout').count(), 0, 'still signed out');
    await shot(page, '12-login-wrong-password.png');
  } finally {
    await context.close();
  }
});

test('register form shows field errors', { timeout: 60_000 }, async () => {
  const suffix = randomBytes(4).toString('hex');
  const { context, page } = await newPage(DESKTOP);
  try {
    await page.goto('/register');
    await page.locator('#username').fill(`short_${suffix}`);
    await page.locator('#email').fill(`short_${suffix}@example.test`);
    await page.locator('#password').fill('abc');
    await page.locator('button[type=submit]').click();
    await page.locator('[role=alert]').waitFor();
    assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#username').getAttribute('aria-invalid'), null);
    const fieldError = page.locator('#password-error');
    await fieldError.waitFor();
    assert.match(await fieldError.textContent(), /8/, 'field error mentions the minimum length');
    assert.equal(new URL(page.url()).pathname, '/register');
    assert.equal(await page.locator('#signout').count(), 0);
    await shot(page, '13-register-short-password.png');

    // A field error reported by the server (409 duplicate username).
    const taken = `dup_${suffix}`;
    const api = await fetch(`${baseURL}/api/v2/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Cosmiv-Client': 'web' },
      body: JSON.stringify({ username: taken, email: `${taken}@example.test`, password: 'a-fine-password' }),
    });
    assert.equal(api.status, 201, `seed user registered (${await api.clone().text()})`);
    await page.locator('#username').fill(taken);
    await page.locator('#email').fill(`other_${suffix}@example.test`);
    await page.locator('#password').fill('another-fine-password');
    const dup = page.waitForResponse((r) => r.url().endsWith('/api/v2/auth/register'));
    await page.locator('button[type=submit]').click();
    const dupRes = await dup;
    assert.equal(dupRes.status(), 409);
    const problem = await dupRes.json();
    // The UI shows the server's detail (as a sentence: first letter capitalised, final period).
    const shown = (t) => t.trim().replace(/\.$/, '').toLowerCase();
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    assert.equal(shown(await alert.textContent()), shown(problem.detail));
    assert.equal(problem.field, 'username', 'duplicate username problem names the field');
    assert.equal(await page.locator('#username').getAttribute('aria-invalid'), 'true');
    assert.equal(shown(await page.locator('#username-error').textContent()), shown(problem.detail));
    assert.equal(new URL(page.url()).pathname, '/register');
    await shot(page, '14-register-duplicate.png');
  } finally {
    await context.close();
  }
});

test('too many failed sign-ins show the Retry-After wait', { timeout: 90_000 }, async () => {
  const { context, page } = await newPage(PHONE);
  try {
    await page.goto('/login');
    await page.locator('#login').fill(`nobody_${randomBytes(4).toString('hex')}`);
    let last;
    for (let i = 0; i < 40; i++) {
      await page.locator('#password').fill(`wrong-password-${i}`);
      const response = page.waitForResponse((r) => r.url().endsWith('/api/v2/auth/login'));
      await page.locator('button[type=submit]').click();
      last = await response;
      if (last.status() === 429) break;
      assert.equal(last.status(), 401);
    }
    assert.equal(last.status(), 429, 'login attempts are rate limited');
    const retryAfter = Number(last.headers()['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 0, `Retry-After is whole seconds (${retryAfter})`);
    await expectText(page.locator('[role=alert]'), `Too many attempts, try again in ${Math.max(1, retryAfter)} s.`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await shot(page, '15-login-rate-limited-phone.png');
  } finally {
    await context.close();
  }
});

test('every API request identifies the web client; no page errors or CSP violations', () => {
  assert.ok(apiRequests.length > 5, 'API requests were observed');
  const missing = apiRequests.filter((r) => r.client !== 'web');
  assert.deepEqual(missing, [], 'requests without X-Cosmiv-Client: web');
  assert.deepEqual(pageProblems, []);
});
