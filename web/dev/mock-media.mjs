#!/usr/bin/env node
// Stand-in for the Cosmiv media API (tus uploads, videos, jobs, highlights,
// feedback, clips), for front-end work while the C server is being finished.
// It starts web/dev/mock-cosmiv.mjs (auth, users, static files) on a private
// port and proxies everything it does not handle itself to it, so it takes the
// same command line as the real binary:
//
//   COSMIV_BIN=web/dev/mock-media.mjs node --test tests/e2e/media.test.mjs
//   node web/dev/mock-media.mjs serve --listen 127.0.0.1:8080 --data-dir /tmp/x
//
// Processing is simulated (MOCK_PROCESS_S seconds, default 5) but uses the real
// ffprobe/ffmpeg for metadata, the thumbnail and the clip render, so the clips
// it hands out are real files. Env: MOCK_MAX_UPLOAD (bytes, default 2 GB),
// MOCK_NO_CLIPS=1 (clip routes answer 404, as before they existed).
// A file whose name contains "fail" fails processing.

import { createServer, request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
if (args[0] !== 'serve') {
  console.error('usage: mock-media.mjs serve [--listen HOST:PORT] [--data-dir DIR]');
  process.exit(2);
}
const [host, portStr] = opt('--listen', '127.0.0.1:8080').split(/:(?=\d+$)/);
const dataDir = opt('--data-dir', null) || (await mkdtemp(join(tmpdir(), 'mock-media-')));
const filesDir = join(dataDir, 'mock-media');
await mkdir(filesDir, { recursive: true });
const PROCESS_S = Number(process.env.MOCK_PROCESS_S || 5);
const MAX_UPLOAD = Number(process.env.MOCK_MAX_UPLOAD || 2e9);
const NO_CLIPS = process.env.MOCK_NO_CLIPS === '1';

// ---- upstream: the auth/users mock ----------------------------------------
const freePort = () =>
  new Promise((ok, ko) => {
    const s = netServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
const upPort = await freePort();
const upstream = spawn(process.execPath, [join(HERE, 'mock-cosmiv.mjs'), 'serve', '--listen', `127.0.0.1:${upPort}`], {
  env: process.env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`http://127.0.0.1:${upPort}/healthz`).then((r) => r.ok, () => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

function proxy(req, res) {
  const p = httpRequest(
    { host: '127.0.0.1', port: upPort, method: req.method, path: req.url, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  p.on('error', () => problem(res, 502, 'upstream', 'mock upstream unavailable'));
  req.pipe(p);
}

// ---- helpers ---------------------------------------------------------------
function problem(res, status, code, detail, extra = {}, headers = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify({ type: `https://cosmiv.dev/problems/${code}`, title: code, status, code, detail, ...extra }));
}
function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
let nextId = 1000;
const newId = () => String(nextId++);
const tokenCache = new Map(); // bearer -> { userId, until }

async function auth(req, res) {
  const h = req.headers.authorization || '';
  const hit = tokenCache.get(h);
  if (hit && hit.until > Date.now()) return hit.userId;
  if (!/^Bearer .+/.test(h)) {
    problem(res, 401, 'unauthenticated', 'Missing or invalid access token.');
    return null;
  }
  const r = await fetch(`http://127.0.0.1:${upPort}/api/v2/users/me`, { headers: { Authorization: h } });
  if (!r.ok) {
    problem(res, 401, 'unauthenticated', 'Missing or invalid access token.');
    return null;
  }
  const me = await r.json();
  tokenCache.set(h, { userId: me.id, until: Date.now() + 5000 });
  return me.id;
}

function run(cmd, argv) {
  return new Promise((ok, ko) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', ko);
    p.on('close', (code) => (code === 0 ? ok(out) : ko(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}

function sendFile(req, res, file, type, size, extraHeaders = {}) {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
  const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'private, max-age=3600', ...extraHeaders };
  if (range && size > 0) {
    let start = range[1] ? Number(range[1]) : size - Number(range[2]);
    let end = range[1] && range[2] ? Number(range[2]) : size - 1;
    start = Math.max(0, start);
    end = Math.min(size - 1, end);
    if (start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` });
      return res.end();
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
    if (req.method === 'HEAD') return res.end();
    return createReadStream(file, { start, end }).pipe(res);
  }
  res.writeHead(200, { ...headers, 'Content-Length': size });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).pipe(res);
}

// ---- tus uploads -----------------------------------------------------------
const uploads = new Map(); // id -> { id, owner, length, offset, file, filename, filetype, state }
const TUS = { 'Tus-Resumable': '1.0.0' };

function parseMeta(h) {
  const out = {};
  for (const part of (h || '').split(',')) {
    const [k, v] = part.trim().split(' ');
    if (k) out[k] = v ? Buffer.from(v, 'base64').toString('utf8') : '';
  }
  return out;
}

async function writeChunk(req, res, up, status, extra = {}) {
  const ct = req.headers['content-type'] || '';
  if (!ct.startsWith('application/offset+octet-stream')) {
    return problem(res, 415, 'unsupported_media_type', 'PATCH needs Content-Type: application/offset+octet-stream', {}, TUS);
  }
  const out = createWriteStream(up.file, { flags: 'r+', start: up.offset });
  let written = 0;
  let tooMuch = false;
  await new Promise((ok) => {
    req.on('data', (c) => {
      if (up.offset + written + c.length > up.length) {
        tooMuch = true;
        c = c.subarray(0, Math.max(0, up.length - up.offset - written));
      }
      written += c.length;
      out.write(c);
    });
    req.on('end', ok);
    req.on('close', ok); // client aborted (pause): keep what arrived, like the real server's fsync'd chunks
  });
  await new Promise((ok) => out.end(ok));
  up.offset += written;
  if (up.offset === up.length) up.state = 'complete';
  if (tooMuch) return problem(res, 400, 'too_much_data', 'More data than Upload-Length.', {}, TUS);
  res.writeHead(status, { ...TUS, 'Upload-Offset': String(up.offset), 'Upload-Length': String(up.length), ...extra });
  res.end();
}

async function tus(req, res, rest) {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...TUS, 'Tus-Version': '1.0.0', 'Tus-Extension': 'creation,creation-with-upload,termination,expiration,checksum', 'Tus-Max-Size': String(MAX_UPLOAD), 'Tus-Checksum-Algorithm': 'sha256' });
    return res.end();
  }
  if (req.headers['tus-resumable'] !== '1.0.0') return problem(res, 412, 'tus_version', 'send Tus-Resumable: 1.0.0', { field: 'Tus-Resumable' }, { 'Tus-Version': '1.0.0' });
  const userId = await auth(req, res);
  if (!userId) return;
  if (req.method === 'POST' && !rest) {
    const length = Number(req.headers['upload-length']);
    if (!Number.isInteger(length) || length < 1) return problem(res, 400, 'bad_upload_length', 'Upload-Length must be a positive integer', { field: 'Upload-Length' });
    if (length > MAX_UPLOAD) {
      return problem(res, 413, 'upload_too_large', `the file is ${length} bytes; the free plan allows uploads up to ${MAX_UPLOAD} bytes`, { field: 'Upload-Length' }, { 'Tus-Max-Size': String(MAX_UPLOAD) });
    }
    const meta = parseMeta(req.headers['upload-metadata']);
    const id = randomBytes(12).toString('hex');
    const file = join(filesDir, `upload-${id}`);
    await writeFile(file, '');
    const up = { id, owner: userId, length, offset: 0, file, filename: meta.filename || '', filetype: meta.filetype || '', state: 'uploading' };
    uploads.set(id, up);
    const loc = `/api/v2/uploads/${id}`;
    if ((req.headers['content-type'] || '').startsWith('application/offset+octet-stream')) return writeChunk(req, res, up, 201, { Location: loc });
    res.writeHead(201, { ...TUS, Location: loc, 'Upload-Offset': '0', 'Upload-Length': String(length) });
    return res.end();
  }
  const up = uploads.get(rest);
  if (!up || up.owner !== userId) return problem(res, 404, 'upload_not_found', 'no such upload', {}, TUS);
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...TUS, 'Upload-Offset': String(up.offset), 'Upload-Length': String(up.length), 'Cache-Control': 'no-store' });
    return res.end();
  }
  if (req.method === 'PATCH') {
    const off = Number(req.headers['upload-offset']);
    if (off !== up.offset) return problem(res, 409, 'offset_mismatch', `Upload-Offset is ${up.offset}`, {}, TUS);
    return writeChunk(req, res, up, 204);
  }
  if (req.method === 'DELETE') {
    uploads.delete(up.id);
    await rm(up.file, { force: true });
    res.writeHead(204, TUS);
    return res.end();
  }
  return problem(res, 405, 'method_not_allowed', 'Method not allowed.');
}

// ---- videos, jobs, highlights ---------------------------------------------
const videos = new Map();
const jobs = new Map();
const highlights = new Map(); // videoId -> [...]
const feedback = new Map();
const clips = new Map();
const mediaTokens = new Map(); // token -> { file, type, name? }

function mediaUrl(path, file, type, name) {
  const tok = randomBytes(12).toString('hex');
  mediaTokens.set(tok, { file, type, name });
  return `${path}?exp=${Math.floor(Date.now() / 1000) + 6 * 3600}&sig=${tok}`;
}

function videoJson(v) {
  const ready = v.status === 'ready';
  return {
    id: v.id,
    title: v.title,
    game: v.game,
    status: v.status,
    progress: v.progress,
    job_id: v.job_id,
    size_bytes: v.size_bytes,
    duration_s: ready ? v.duration_s : null,
    width: ready ? v.width : null,
    height: ready ? v.height : null,
    fps: ready ? v.fps : null,
    error: v.error,
    thumbnail_url: ready && v.thumb ? mediaUrl(`/api/v2/videos/${v.id}/thumbnail`, v.thumb, 'image/jpeg') : null,
    playback_url: ready ? mediaUrl(`/api/v2/videos/${v.id}/playback`, v.file, 'video/mp4') : null,
    created_at: v.created_at,
  };
}

function newJob(kind, owner) {
  const j = { id: newId(), kind, owner, state: 'available', progress: 0, message: null, attempts: 0, max_attempts: 3, error: null, timings_ms: null, created_at: now() };
  jobs.set(j.id, j);
  return j;
}

async function processVideo(v, j) {
  const stages = [
    [0.1, 'probing the file'],
    [0.35, 'making a web copy'],
    [0.75, 'detecting highlights'],
    [1, 'writing the timeline'],
  ];
  j.state = 'running';
  j.attempts = 1;
  const t0 = Date.now();
  const total = PROCESS_S * 1000;
  await new Promise((done) => {
    const tick = setInterval(() => {
      const f = Math.min(1, (Date.now() - t0) / total);
      v.progress = j.progress = Math.min(99, Math.round(f * 100));
      j.message = (stages.find(([lim]) => f <= lim) || stages[stages.length - 1])[1];
      if (f >= 1) {
        clearInterval(tick);
        done();
      }
    }, 200);
  });
  try {
    if (/fail/i.test(v.filename)) throw new Error('the file has no video stream we can read');
    const probe = JSON.parse(await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate', '-show_entries', 'format=duration', '-of', 'json', v.file]));
    const s = probe.streams?.[0];
    if (!s) throw new Error('the file has no video stream');
    const [a, b] = String(s.r_frame_rate || '30/1').split('/').map(Number);
    v.width = s.width;
    v.height = s.height;
    v.fps = b ? a / b : a;
    v.duration_s = Number(probe.format.duration);
    v.thumb = `${v.file}.jpg`;
    await run('ffmpeg', ['-v', 'error', '-y', '-ss', String(Math.min(1, v.duration_s / 2)), '-i', v.file, '-frames:v', '1', '-vf', 'scale=480:-2', v.thumb]);
    const d = v.duration_s;
    const hl = [];
    if (d >= 12) hl.push({ start_s: 9.4, end_s: 12.6, score: 0.91, reasons: ['Sudden loud audio', 'Bright flash on screen'] });
    if (d >= 6) hl.push({ start_s: Math.round(d * 0.2 * 10) / 10, end_s: Math.round((d * 0.2 + 2.5) * 10) / 10, score: 0.42, reasons: ['Fast camera motion'] });
    if (d >= 30) hl.push({ start_s: Math.round(d * 0.75), end_s: Math.round(d * 0.75 + 4), score: 0.63, reasons: ['Crowd noise spike', 'Kill feed burst'] });
    hl.sort((x, y) => y.score - x.score);
    highlights.set(v.id, hl.map((h, i) => ({ id: newId(), rank: i + 1, ...h, model: 'mock-1' })));
    v.status = 'ready';
    v.progress = 100;
    j.state = 'completed';
    j.progress = 100;
    j.message = 'done';
    j.timings_ms = { total: Date.now() - t0 };
  } catch (err) {
    v.status = 'failed';
    v.error = err.message;
    j.state = 'discarded';
    j.error = err.message;
  }
}

function clipJson(c) {
  return {
    id: c.id,
    video_id: c.video_id,
    title: c.title,
    status: c.status,
    progress: c.progress,
    job_id: c.job_id,
    aspect: c.aspect,
    fill: c.fill,
    start_s: c.start_s,
    end_s: c.end_s,
    duration_s: c.status === 'ready' ? c.duration_s : null,
    width: c.status === 'ready' ? c.width : null,
    height: c.status === 'ready' ? c.height : null,
    download_url: c.status === 'ready' ? mediaUrl(`/api/v2/clips/${c.id}/download`, c.file, 'video/mp4', `${(c.title || 'clip').replace(/[^\w.-]+/g, '-')}.mp4`) : null,
    error: c.error,
    created_at: c.created_at,
  };
}

async function renderClip(c, v, j) {
  j.state = 'running';
  j.attempts = 1;
  const [W, H] = c.aspect === '9:16' ? [720, 1280] : c.aspect === '1:1' ? [1080, 1080] : [1280, 720];
  let vf;
  if (c.aspect === '16:9') vf = `scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
  else if (c.fill === 'blur') vf = `split[a][b];[a]scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},boxblur=20[bg];[b]scale=${W}:${H}:force_original_aspect_ratio=decrease[fg];[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1`;
  else vf = `scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},setsar=1`;
  c.file = join(filesDir, `clip-${c.id}.mp4`);
  const len = c.end_s - c.start_s;
  const p = spawn('ffmpeg', ['-v', 'error', '-y', '-ss', String(c.start_s), '-i', v.file, '-t', String(len), '-filter_complex', vf, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', '-progress', 'pipe:1', c.file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.stdout.on('data', (d) => {
    const m = /out_time_us=(\d+)/.exec(String(d));
    if (m) c.progress = j.progress = Math.min(99, Math.round((Number(m[1]) / 1e6 / len) * 100));
  });
  const code = await new Promise((ok) => p.on('close', ok));
  if (code !== 0) {
    c.status = 'failed';
    c.error = `render failed: ${err.slice(-200)}`;
    j.state = 'discarded';
    return;
  }
  const probe = JSON.parse(await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', c.file]));
  c.duration_s = Number(probe.format.duration);
  c.width = W;
  c.height = H;
  c.status = 'ready';
  c.progress = 100;
  j.state = 'completed';
  j.progress = 100;
}

const page = (items, url) => {
  const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') || 20)));
  const cursor = url.searchParams.get('cursor');
  const sorted = items.sort((a, b) => Number(b.id) - Number(a.id));
  const from = cursor ? sorted.findIndex((x) => Number(x.id) < Number(cursor)) : 0;
  const slice = from < 0 ? [] : sorted.slice(from, from + limit);
  const more = from >= 0 && from + limit < sorted.length;
  return { slice, next_cursor: more ? slice[slice.length - 1].id : null };
};

async function api(req, res, url) {
  const path = url.pathname.slice('/api/v2'.length);
  const m = (re) => re.exec(path);
  let r;

  // Signed media (no bearer).
  if ((r = m(/^\/(videos|clips)\/(\d+)\/(thumbnail|playback|download)$/)) && (req.method === 'GET' || req.method === 'HEAD')) {
    const t = mediaTokens.get(url.searchParams.get('sig') || '');
    if (!t) return problem(res, 403, 'bad_signature', 'this media link is invalid or has expired; fetch the video again for a fresh one');
    const s = await stat(t.file).catch(() => null);
    if (!s) return problem(res, 404, 'not_found', 'no such file');
    return sendFile(req, res, t.file, t.type, s.size, t.name ? { 'Content-Disposition': `attachment; filename="${t.name}"` } : {});
  }
  if (path === '/uploads' || path.startsWith('/uploads/')) return tus(req, res, path.slice('/uploads/'.length));

  const isMedia = /^\/(videos|jobs|highlights|clips)(\/|$)/.test(path);
  if (!isMedia) return proxy(req, res);
  if (NO_CLIPS && path.startsWith('/clips')) return problem(res, 404, 'not_found', 'No such endpoint.');
  const userId = await auth(req, res);
  if (!userId) return;

  if (path === '/videos' && req.method === 'POST') {
    const b = await readJson(req);
    if (!b) return problem(res, 400, 'invalid_json', 'Request body must be a JSON object.');
    if (typeof b.title !== 'string' || !b.title.trim() || b.title.length > 200) return problem(res, 422, 'invalid_title', 'title must be 1-200 characters', { field: 'title' });
    if (b.game != null && (typeof b.game !== 'string' || b.game.length > 80)) return problem(res, 422, 'invalid_game', 'game must be at most 80 characters', { field: 'game' });
    const up = uploads.get(String(b.upload_id || ''));
    if (!up || up.owner !== userId) return problem(res, 404, 'upload_not_found', 'no such upload', { field: 'upload_id' });
    if (up.state !== 'complete') return problem(res, 409, 'upload_incomplete', 'the upload is not complete yet', { field: 'upload_id' });
    uploads.delete(up.id);
    const j = newJob('video.process', userId);
    const v = { id: newId(), owner: userId, title: b.title.trim(), game: b.game || null, status: 'processing', progress: 0, job_id: j.id, size_bytes: up.length, duration_s: null, width: null, height: null, fps: null, error: null, file: up.file, filename: up.filename, thumb: null, created_at: now() };
    videos.set(v.id, v);
    void processVideo(v, j);
    return json(res, 201, videoJson(v));
  }
  if (path === '/videos' && req.method === 'GET') {
    const { slice, next_cursor } = page([...videos.values()].filter((v) => v.owner === userId), url);
    return json(res, 200, { items: slice.map(videoJson), next_cursor });
  }
  if ((r = m(/^\/videos\/([^/]+)(\/highlights)?$/))) {
    const v = videos.get(r[1]);
    if (!v || v.owner !== userId) return problem(res, 404, 'video_not_found', 'no such video');
    if (r[2] && req.method === 'GET') return json(res, 200, { status: v.status, items: highlights.get(v.id) || [] });
    if (!r[2] && req.method === 'GET') return json(res, 200, videoJson(v));
    if (!r[2] && req.method === 'DELETE') {
      videos.delete(v.id);
      res.writeHead(204);
      return res.end();
    }
  }
  if ((r = m(/^\/jobs\/([^/]+)$/)) && req.method === 'GET') {
    const j = jobs.get(r[1]);
    if (!j || j.owner !== userId) return problem(res, 404, 'job_not_found', 'no such job');
    const { owner, ...out } = j;
    return json(res, 200, out);
  }
  if ((r = m(/^\/highlights\/([^/]+)\/feedback$/)) && req.method === 'POST') {
    const b = await readJson(req);
    if (!b || typeof b.kept !== 'boolean') return problem(res, 422, 'invalid_kept', 'kept must be a boolean', { field: 'kept' });
    feedback.set(r[1], b.kept);
    res.writeHead(204);
    return res.end();
  }
  if (path === '/clips' && req.method === 'POST') {
    const b = await readJson(req);
    if (!b) return problem(res, 400, 'invalid_json', 'Request body must be a JSON object.');
    const v = videos.get(String(b.video_id || ''));
    if (!v || v.owner !== userId) return problem(res, 404, 'video_not_found', 'no such video', { field: 'video_id' });
    if (v.status !== 'ready') return problem(res, 409, 'video_not_ready', 'the video is not ready yet', { field: 'video_id' });
    if (!['16:9', '9:16', '1:1'].includes(b.aspect)) return problem(res, 422, 'invalid_aspect', 'aspect must be 16:9, 9:16 or 1:1', { field: 'aspect' });
    if (b.fill != null && !['crop', 'blur'].includes(b.fill)) return problem(res, 422, 'invalid_fill', 'fill must be crop or blur', { field: 'fill' });
    const s = Number(b.start_s);
    const e = Number(b.end_s);
    if (!Number.isFinite(s) || s < 0 || s >= v.duration_s) return problem(res, 422, 'invalid_start', `start_s must be between 0 and ${v.duration_s}`, { field: 'start_s' });
    if (!Number.isFinite(e) || e > v.duration_s + 0.001) return problem(res, 422, 'invalid_end', `end_s must be at most the video's length (${v.duration_s} s)`, { field: 'end_s' });
    if (e - s < 1 || e - s > 180) return problem(res, 422, 'invalid_length', 'a clip must be 1-180 seconds long', { field: 'end_s' });
    const j = newJob('clip.render', userId);
    const c = { id: newId(), owner: userId, video_id: v.id, title: b.title || null, status: 'processing', progress: 0, job_id: j.id, aspect: b.aspect, fill: b.aspect === '16:9' ? null : b.fill || 'crop', start_s: s, end_s: e, duration_s: null, width: null, height: null, error: null, created_at: now(), highlight_id: b.highlight_id || null };
    if (c.highlight_id) feedback.set(String(c.highlight_id), true);
    clips.set(c.id, c);
    void renderClip(c, v, j);
    return json(res, 202, clipJson(c));
  }
  if (path === '/clips' && req.method === 'GET') {
    const { slice, next_cursor } = page([...clips.values()].filter((c) => c.owner === userId), url);
    return json(res, 200, { items: slice.map(clipJson), next_cursor });
  }
  if ((r = m(/^\/clips\/([^/]+)$/))) {
    const c = clips.get(r[1]);
    if (!c || c.owner !== userId) return problem(res, 404, 'clip_not_found', 'no such clip');
    if (req.method === 'GET') return json(res, 200, clipJson(c));
    if (req.method === 'DELETE') {
      clips.delete(c.id);
      res.writeHead(204);
      return res.end();
    }
  }
  return problem(res, 404, 'not_found', 'No such endpoint.');
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/v2/')) return await api(req, res, url);
    return proxy(req, res);
  } catch (err) {
    console.error(err);
    problem(res, 500, 'internal', 'Internal error.');
  }
});
server.listen(Number(portStr), host, () => console.error(`mock cosmiv (media) listening on http://${host}:${portStr}`));
const stop = () => {
  upstream.kill('SIGTERM');
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
