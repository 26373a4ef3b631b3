// The media pipeline end to end against the real server: upload → video →
// sandboxed processing → highlights with reasons → clips; identical uploads
// reuse the analysis; broken and hostile files fail cleanly; owners only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, runCli } from '../../lib/harness.mjs';
import { makeGameplay, ffprobe, tusUpload, waitFor, writeFile } from '../../lib/media.mjs';

let srv, alice, bob, dir, game;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-media-'));
  game = makeGameplay(dir, 'game', { seconds: 12 });
  srv = await startServer({ env: { COSMIV_WORKERS: '1' } });
  alice = await srv.register();
  bob = await srv.register();
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal((await srv.stop()).code, 0, srv.logs());
});

async function newVideo(user, file, title = 'match', game = 'Test Arena') {
  const upload_id = await tusUpload(srv, user.access_token, file);
  const r = await srv.api('POST', '/api/v2/videos', { upload_id, title, game }, { token: user.access_token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

const done = (v) => v.status !== 'processing';

/** A copy of an MP4 whose mvhd/mdhd/tkhd durations claim 10 hours. */
function tenHourHeader(src) {
  const d = Buffer.from(readFileSync(src));
  const mv = d.indexOf('mvhd');
  const movieScale = d.readUInt32BE(mv + 16);
  for (let i = d.indexOf('mvhd'); i >= 0; i = d.indexOf('mvhd', i + 4)) d.writeUInt32BE(movieScale * 36000, i + 20);
  for (let i = d.indexOf('mdhd'); i >= 0; i = d.indexOf('mdhd', i + 4)) d.writeUInt32BE(d.readUInt32BE(i + 16) * 36000, i + 20);
  for (let i = d.indexOf('tkhd'); i >= 0; i = d.indexOf('tkhd', i + 4)) d.writeUInt32BE(movieScale * 36000, i + 24);
  return writeFile(dir, 'tenhours.mp4', d);
}

/** A Matroska copy whose PixelWidth/PixelHeight elements claim 65535x65535. */
function hugeHeader(src) {
  const mkv = join(dir, 'huge.mkv');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-c', 'copy', '-t', '3', mkv]);
  const d = Buffer.from(readFileSync(mkv));
  for (const id of [[0xb0, 0x82], [0xba, 0x82]]) {
    const i = d.indexOf(Buffer.from(id));
    d.writeUInt16BE(0xffff, i + 2);
  }
  return writeFile(dir, 'huge.mkv', d);
}

let ready; // the processed video, shared by the tests below

test('upload → processing → ready with metadata, thumbnail, playback and highlights', async () => {
  const v = await newVideo(alice, game);
  assert.equal(v.status, 'processing');
  assert.match(v.job_id, /^\d+$/);
  assert.equal(v.playback_url, null);
  ready = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(ready.status, 'ready', ready.error);
  assert.equal(ready.progress, 100);
  assert.ok(Math.abs(ready.duration_s - 12) < 0.2, String(ready.duration_s));
  assert.equal(ready.width, 640);
  assert.equal(ready.height, 360);
  assert.ok(Math.abs(ready.fps - 30) < 0.1);
  // thumbnail
  const t = await srv.fetch(ready.thumbnail_url);
  assert.equal(t.status, 200);
  assert.equal(t.headers.get('content-type'), 'image/jpeg');
  const jpg = Buffer.from(await t.arrayBuffer());
  assert.equal(jpg[0], 0xff);
  assert.equal(jpg[1], 0xd8);
  // playback with Range
  const p = await srv.fetch(ready.playback_url, { headers: { Range: 'bytes=0-99' } });
  assert.equal(p.status, 206);
  assert.match(p.headers.get('content-range'), /^bytes 0-99\/\d+$/);
  assert.equal((await p.arrayBuffer()).byteLength, 100);
  const whole = await srv.fetch(ready.playback_url);
  assert.equal(Buffer.from(await whole.arrayBuffer()).length, readFileSync(game).length);
  // a tampered or missing signature is refused
  // (change the first character of the signature to a different one: 'A' when it is not 'A' already)
  const tampered = ready.playback_url.replace(/sig=(.)/, (_, ch) => `sig=${ch === 'A' ? 'B' : 'A'}`);
  assert.notEqual(tampered, ready.playback_url);
  assert.equal((await srv.fetch(tampered)).status, 403);
  assert.equal((await srv.fetch(`/api/v2/videos/${ready.id}/playback`)).status, 403);
  // highlights with reasons, around the burst at 6 s
  const h = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: alice.access_token });
  assert.equal(h.status, 200);
  assert.ok(h.body.items.length >= 1);
  const top = h.body.items[0];
  assert.ok(top.start_s <= 6.5 && top.end_s >= 6, JSON.stringify(top));
  assert.ok(top.end_s - top.start_s >= 3 && top.end_s - top.start_s <= 20);
  assert.ok(top.score > 0 && top.score <= 1);
  assert.ok(top.reasons.length >= 1 && top.reasons.every((x) => typeof x === 'string' && x.length > 3));
  // the job: completed, with per-stage timings
  const j = await srv.waitJob(ready.job_id, alice.access_token);
  assert.equal(j.body.state, 'completed');
  for (const k of ['probe', 'decode', 'features', 'sandbox', 'total']) assert.ok(k in j.body.timings_ms, k);
  // feedback
  const f = await srv.api('POST', `/api/v2/highlights/${top.id}/feedback`, { kept: false }, { token: alice.access_token });
  assert.equal(f.status, 204);
  assert.equal((await srv.api('POST', `/api/v2/highlights/${top.id}/feedback`, { kept: 'yes' }, { token: alice.access_token })).status, 422);
});

test("others see nothing: someone else's video, highlights, job and upload are 404", async () => {
  assert.ok(ready);
  const t = bob.access_token;
  assert.equal((await srv.api('GET', `/api/v2/videos/${ready.id}`, undefined, { token: t })).status, 404);
  assert.equal((await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: t })).status, 404);
  assert.equal((await srv.api('GET', `/api/v2/jobs/${ready.job_id}`, undefined, { token: t })).status, 404);
  assert.equal((await srv.api('DELETE', `/api/v2/videos/${ready.id}`, undefined, { token: t })).status, 404);
  const h = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: alice.access_token });
  assert.equal((await srv.api('POST', `/api/v2/highlights/${h.body.items[0].id}/feedback`, { kept: true }, { token: t })).status, 404);
  const upload_id = await tusUpload(srv, alice.access_token, game);
  const r = await srv.api('POST', '/api/v2/videos', { upload_id, title: 'stolen' }, { token: t });
  assert.equal(r.status, 404);
  assert.equal(r.body.field, 'upload_id');
  const list = await srv.api('GET', '/api/v2/videos', undefined, { token: t });
  assert.equal(list.body.items.length, 0);
});

test('an identical upload reuses the analysis', async () => {
  const v = await newVideo(alice, game, 'again');
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(r.status, 'ready');
  const j = await srv.waitJob(r.job_id, alice.access_token);
  assert.ok('reused_analysis' in j.body.timings_ms, JSON.stringify(j.body.timings_ms));
  const a = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: alice.access_token });
  const b = await srv.api('GET', `/api/v2/videos/${r.id}/highlights`, undefined, { token: alice.access_token });
  assert.deepEqual(b.body.items.map((x) => [x.start_s, x.end_s, x.score]), a.body.items.map((x) => [x.start_s, x.end_s, x.score]));
  assert.equal((await srv.api('DELETE', `/api/v2/videos/${r.id}`, undefined, { token: alice.access_token })).status, 204);
  // the original still plays
  assert.equal((await srv.fetch(ready.playback_url, { headers: { Range: 'bytes=0-9' } })).status, 206);
});

test('the game picks the detector\'s model: OpenArena footage gets the OpenArena model, not another game\'s analysis', async () => {
  const a = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: alice.access_token });
  assert.match(a.body.items[0].model, /^synth-/, 'the default model for "Test Arena"');
  const v = await newVideo(alice, game, 'same file, another game', 'openarena');
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(r.status, 'ready', r.error);
  const j = await srv.waitJob(r.job_id, alice.access_token);
  assert.ok(!('reused_analysis' in j.body.timings_ms), 'analysed again: the twin is of another game');
  const b = await srv.api('GET', `/api/v2/videos/${r.id}/highlights`, undefined, { token: alice.access_token });
  for (const h of b.body.items) assert.match(h.model, /^openarena-/);
  assert.equal((await srv.api('DELETE', `/api/v2/videos/${r.id}`, undefined, { token: alice.access_token })).status, 204);
});

test('GET /highlights/models says which games have their own detector and what it reads on screen', async () => {
  const r = await srv.api('GET', '/api/v2/highlights/models');
  assert.equal(r.status, 200);
  const oa = JSON.parse(readFileSync(new URL('../../../src/media/model-openarena.json', import.meta.url), 'utf8'));
  const def = JSON.parse(readFileSync(new URL('../../../src/media/model.json', import.meta.url), 'utf8'));
  assert.deepEqual(r.body.items, [{ model: oa.version, games: ['OpenArena'], reads_screen: 'kill message', trained_on: oa.training.set }]);
  assert.equal(r.body.default.model, def.version);
});

test('a WebM (VP9/Opus) gets a web-playable H.264/AAC proxy', async () => {
  const webm = makeGameplay(dir, 'vp9', { seconds: 5, vcodec: 'libvpx-vp9', acodec: 'libopus', ext: 'webm' });
  const v = await newVideo(alice, webm);
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(r.status, 'ready', r.error);
  const res = await srv.fetch(r.playback_url);
  const file = join(dir, 'proxy.mp4');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const info = ffprobe(file);
  assert.deepEqual(info.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
});

test('broken and hostile files fail with a clear reason and nothing else is affected', async () => {
  const cases = {
    text: [writeFile(dir, 'notes.mp4', 'this is not a video at all\n'.repeat(100)), /not a video|invalid|format/i],
    truncated: [writeFile(dir, 'trunc.mp4', readFileSync(game).subarray(0, Math.floor(readFileSync(game).length * 0.3))), /truncat|damaged|invalid|moov|no video|stream/i],
    hls: [writeFile(dir, 'playlist.mp4', '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n'), /not a video|format|playlist|not allowed|invalid/i],
    concat: [writeFile(dir, 'concat.mp4', "ffconcat version 1.0\nfile '/etc/passwd'\n"), /not a video|format|not allowed|invalid/i],
    audio_only: [makeGameplay(dir, 'audio', { seconds: 3, video: false, ext: 'm4a' }), /audio/i],
    ten_hours: [tenHourHeader(game), /10:00:00 long; the limit is 1:00:00/],
  };
  const ids = {};
  for (const [name, [file]] of Object.entries(cases)) ids[name] = (await newVideo(alice, file, name)).id;
  for (const [name, [, reason]] of Object.entries(cases)) {
    const r = await waitFor(srv, `/api/v2/videos/${ids[name]}`, alice.access_token, done);
    assert.equal(r.status, 'failed', name);
    assert.match(r.error, reason, `${name}: ${r.error}`);
    assert.doesNotMatch(r.error, /root:x:0/, name);
    const j = await srv.waitJob(r.job_id, alice.access_token);
    assert.equal(j.body.state, 'discarded', name);
  }
  // the good video is untouched and the server is healthy
  assert.equal((await srv.api('GET', `/api/v2/videos/${ready.id}`, undefined, { token: alice.access_token })).body.status, 'ready');
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('a header claiming 65535x65535 is not believed: the real frames decide', async () => {
  const v = await newVideo(alice, hugeHeader(game));
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(r.status, 'ready', r.error);
  assert.equal(r.width, 640);
  assert.equal(r.height, 360);
});

test('a video without sound is processed; highlights then come from the picture alone', async () => {
  const v = await newVideo(alice, makeGameplay(dir, 'silent', { seconds: 6, audio: false }));
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal(r.status, 'ready', r.error);
});

test('creating a video needs a complete upload of your own and valid fields', async () => {
  let r = await srv.api('POST', '/api/v2/videos', { upload_id: 'f'.repeat(32), title: 'x' }, { token: alice.access_token });
  assert.equal(r.status, 404);
  r = await srv.api('POST', '/api/v2/videos', { title: 'x' }, { token: alice.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'upload_id');
  const part = await srv.fetch('/api/v2/uploads', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${alice.access_token}`, 'Upload-Length': '1000' } });
  const pid = part.headers.get('location').split('/').pop();
  r = await srv.api('POST', '/api/v2/videos', { upload_id: pid, title: 'x' }, { token: alice.access_token });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, 'upload_not_complete');
  const full = await tusUpload(srv, alice.access_token, game);
  r = await srv.api('POST', '/api/v2/videos', { upload_id: full, title: '' }, { token: alice.access_token });
  assert.equal(r.status, 422);
  assert.equal(r.body.field, 'title');
  r = await srv.api('POST', '/api/v2/videos', { upload_id: full, title: 'ok' }, { token: alice.access_token });
  assert.equal(r.status, 201);
  r = await srv.api('POST', '/api/v2/videos', { upload_id: full, title: 'twice' }, { token: alice.access_token });
  assert.equal(r.status, 409);
});

test('clips: validation, 9:16 blurred export with the free-plan watermark, download, delete', async () => {
  const tok = alice.access_token;
  const base = { video_id: ready.id, aspect: '9:16' };
  const bad = [
    [{ ...base, start_s: 5, end_s: 4 }, 'end_s'],
    [{ ...base, start_s: 2, end_s: 2.5 }, 'end_s'],
    [{ ...base, start_s: -1, end_s: 3 }, 'start_s'],
    [{ ...base, start_s: 0, end_s: 500 }, 'end_s'],
    [{ ...base, start_s: 1, end_s: 3, aspect: '4:3' }, 'aspect'],
    [{ ...base, start_s: 1, end_s: 3, fill: 'stretch' }, 'fill'],
    [{ ...base, start_s: '1', end_s: 3 }, 'start_s'],
  ];
  for (const [body, field] of bad) {
    const r = await srv.api('POST', '/api/v2/clips', body, { token: tok });
    assert.equal(r.status, 422, JSON.stringify(body));
    assert.equal(r.body.field, field, JSON.stringify(body));
  }
  assert.equal((await srv.api('POST', '/api/v2/clips', { ...base, start_s: 1, end_s: 3 }, { token: bob.access_token })).status, 404);
  const h = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: tok });
  const c = await srv.api('POST', '/api/v2/clips', { ...base, start_s: 4, end_s: 9, fill: 'blur', title: 'clutch', highlight_id: h.body.items[0].id }, { token: tok });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  assert.equal(c.body.status, 'processing');
  assert.equal(c.body.watermark, true);
  const k = await waitFor(srv, `/api/v2/clips/${c.body.id}`, tok, done);
  assert.equal(k.status, 'ready', k.error);
  assert.equal(k.copied, false);
  const res = await srv.fetch(k.download_url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-disposition'), /attachment/);
  const file = join(dir, 'clip.mp4');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const info = ffprobe(file);
  const v = info.streams.find((s) => s.codec_type === 'video');
  assert.equal(v.codec_name, 'h264');
  assert.ok(Math.abs(v.width / v.height - 9 / 16) < 0.01, `${v.width}x${v.height}`);
  assert.ok(Math.abs(Number(info.format.duration) - 5) <= 0.15, info.format.duration);
  assert.ok(info.streams.some((s) => s.codec_name === 'aac'));
  assert.equal((await srv.api('GET', `/api/v2/clips/${k.id}`, undefined, { token: bob.access_token })).status, 404);
  const list = await srv.api('GET', '/api/v2/clips', undefined, { token: tok });
  assert.ok(list.body.items.some((x) => x.id === k.id));
  assert.equal((await srv.api('DELETE', `/api/v2/clips/${k.id}`, undefined, { token: tok })).status, 204);
  assert.equal((await srv.fetch(k.download_url)).status, 404);
});

test('deleting a video removes it and its files; admins see dead jobs and can retry them', async () => {
  const v = await newVideo(alice, game, 'to delete');
  const r = await waitFor(srv, `/api/v2/videos/${v.id}`, alice.access_token, done);
  assert.equal((await srv.api('DELETE', `/api/v2/videos/${r.id}`, undefined, { token: alice.access_token })).status, 204);
  assert.equal((await srv.api('GET', `/api/v2/videos/${r.id}`, undefined, { token: alice.access_token })).status, 404);
  assert.equal((await srv.fetch(r.playback_url)).status, 404);
  assert.equal((await srv.api('GET', '/api/v2/admin/jobs/dead', undefined, { token: alice.access_token })).status, 403);
});

test('cosmiv eval --feedback reports the precision users saw per model', async () => {
  const r = await runCli(['eval', '--feedback', '--json', '--data-dir', srv.dataDir], { env: srv.env });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.ok(rows.length >= 1);
  const judged = rows.reduce((a, x) => a + x.judged, 0);
  assert.ok(judged >= 1);
  for (const x of rows) assert.ok(x.precision >= 0 && x.precision <= 1 && x.model);
});
