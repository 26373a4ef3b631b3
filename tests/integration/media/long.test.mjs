// A 10-minute 1080p recording through the whole pipeline, as a client would
// send it: a resumable tus upload in 8 MiB PATCHes (HEAD between them), the
// video's progress climbing while it is processed, ranked highlights with
// reasons on the three fights in it, and a 9:16 clip of the best one exported
// and downloaded. The recording is made at run time with ffmpeg (testsrc2
// 1920x1080 at 30 fps and 1 Mbit/s, about 80 MB, game ambience, three gunfire-like bursts with a white
// flash at 95 s, 290 s and 505 s) and kept in the system temp dir between the
// SQLite and the PostgreSQL stages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer } from '../../lib/harness.mjs';
import { ffprobe } from '../../lib/media.mjs';

const SECONDS = 600;
const BURSTS = [95, 290, 505];
const CHUNK = 8 << 20;

/** The recording, made once per machine (same arguments, same file). */
function recording() {
  const cacheDir = join(tmpdir(), 'cosmiv-test-media');
  const out = join(cacheDir, `long-1080p30-${SECONDS}s-v2.mp4`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const on = BURSTS.map((t) => `between(t,${t},${t + 1.5})`).join('+');
  const flash = BURSTS.map((t) => `between(t,${t},${t + 0.2})`).join('+');
  const tmp = `${out}.${process.pid}.tmp.mp4`;
  execFileSync('ffmpeg', ['-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${SECONDS},drawbox=c=white:t=fill:enable='${flash}'`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `anoisesrc=color=white:sample_rate=48000:amplitude=1:seed=7:duration=${SECONDS}`,
    '-filter_complex', `[1:a]volume=0.3[s];[2:a]volume='if(${on},1,0)':eval=frame[n];[s][n]amix=inputs=2:duration=first:normalize=0[a]`,
    '-map', '0:v', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M', '-pix_fmt', 'yuv420p', '-g', '60',
    '-c:a', 'aac', '-ac', '2', '-ar', '48000', '-movflags', '+faststart', '-t', String(SECONDS), tmp],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, out);
  return out;
}

let srv, user, file, dir;
before(async () => {
  file = recording();
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-long-'));
  srv = await startServer({ env: { COSMIV_WORKERS: '1' } });
  user = await srv.register();
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal((await srv.stop()).code, 0, srv.logs().slice(-5000));
});

const tus = (path, method, headers = {}, body) => srv.fetch(path, {
  method, body, headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${user.access_token}`, ...headers },
});

test('a 10-minute 1080p recording: chunked upload, live progress, ranked highlights, a 9:16 clip', { timeout: 900000 }, async () => {
  const size = statSync(file).size;
  // 1. tus: create, then PATCH 8 MiB at a time from the offset HEAD reports, as tus-js-client does
  const created = await tus('/api/v2/uploads', 'POST', {
    'Upload-Length': String(size),
    'Upload-Metadata': `filename ${Buffer.from('match-10min.mp4').toString('base64')},filetype ${Buffer.from('video/mp4').toString('base64')}`,
  });
  assert.equal(created.status, 201, await created.text());
  const loc = new URL(created.headers.get('location'), 'http://x').pathname;
  const fd = openSync(file, 'r');
  try {
    let patches = 0;
    for (;;) {
      const head = await tus(loc, 'HEAD');
      assert.equal(head.status, 200);
      const offset = Number(head.headers.get('upload-offset'));
      assert.equal(head.headers.get('upload-length'), String(size));
      if (offset === size) break;
      const buf = Buffer.alloc(Math.min(CHUNK, size - offset));
      readSync(fd, buf, 0, buf.length, offset);
      const r = await tus(loc, 'PATCH', { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, buf);
      assert.equal(r.status, 204, await r.text());
      assert.equal(r.headers.get('upload-offset'), String(offset + buf.length));
      patches++;
    }
    assert.ok(patches >= Math.ceil(size / CHUNK), `${patches} PATCHes for ${size} bytes`);
  } finally {
    closeSync(fd);
  }

  // 2. the video, and its progress while it is processed
  const upload_id = loc.split('/').pop();
  const v = await srv.api('POST', '/api/v2/videos', { upload_id, title: '10 minutes of deathmatch', game: 'Test Arena' }, { token: user.access_token });
  assert.equal(v.status, 201, JSON.stringify(v.body));
  const seen = [];
  let ready;
  for (const end = Date.now() + 600000; Date.now() < end;) {
    const r = await srv.api('GET', `/api/v2/videos/${v.body.id}`, undefined, { token: user.access_token });
    assert.equal(r.status, 200);
    if (seen.at(-1) !== r.body.progress) seen.push(r.body.progress);
    if (r.body.status !== 'processing') { ready = r.body; break; }
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(ready, `still processing after 10 minutes; progress seen: ${seen}`);
  assert.equal(ready.status, 'ready', ready.error);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `progress only goes forward: ${seen}`);
  assert.ok(seen.some((p) => p > 0 && p < 100), `progress between 0 and 100 was visible: ${seen}`);
  assert.equal(ready.progress, 100);
  assert.ok(Math.abs(ready.duration_s - SECONDS) < 1, String(ready.duration_s));
  assert.equal(ready.width, 1920);
  assert.equal(ready.height, 1080);

  // 3. ranked highlights with reasons, one on each fight
  const h = await srv.api('GET', `/api/v2/videos/${ready.id}/highlights`, undefined, { token: user.access_token });
  assert.equal(h.status, 200);
  const items = h.body.items;
  assert.ok(items.length >= BURSTS.length, JSON.stringify(items));
  for (let i = 1; i < items.length; i++) assert.ok(items[i].score <= items[i - 1].score, 'ranked by score');
  for (const t of BURSTS) {
    const hit = items.find((x) => x.start_s <= t + 0.5 && x.end_s >= t);
    assert.ok(hit, `a highlight covers the fight at ${t} s: ${JSON.stringify(items)}`);
    assert.ok(hit.end_s - hit.start_s >= 3 && hit.end_s - hit.start_s <= 20, JSON.stringify(hit));
    assert.ok(hit.reasons.length >= 1 && hit.reasons.every((r) => typeof r === 'string' && r.length > 3));
  }
  const j = await srv.waitJob(ready.job_id, user.access_token);
  assert.equal(j.body.state, 'completed');
  assert.ok(j.body.timings_ms.total > 0);

  // 4. the best moment as a 9:16 clip, downloaded and checked
  const top = items[0];
  const c = await srv.api('POST', '/api/v2/clips', { video_id: ready.id, start_s: top.start_s, end_s: top.end_s, aspect: '9:16', title: 'the best fight', highlight_id: top.id }, { token: user.access_token });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  let clip;
  for (const end = Date.now() + 300000; Date.now() < end;) {
    const r = await srv.api('GET', `/api/v2/clips/${c.body.id}`, undefined, { token: user.access_token });
    if (r.body.status !== 'processing') { clip = r.body; break; }
    await new Promise((res) => setTimeout(res, 300));
  }
  assert.ok(clip, 'the clip is still rendering after 5 minutes');
  assert.equal(clip.status, 'ready', clip.error);
  const res = await srv.fetch(clip.download_url);
  assert.equal(res.status, 200);
  const out = join(dir, 'clip.mp4');
  writeFileSync(out, Buffer.from(await res.arrayBuffer()));
  const info = ffprobe(out);
  const vs = info.streams.find((s) => s.codec_type === 'video');
  assert.equal(vs.codec_name, 'h264');
  assert.ok((vs.width === 1080 && vs.height === 1920) || (vs.width === 720 && vs.height === 1280), `${vs.width}x${vs.height}`);
  assert.ok(Math.abs(Number(info.format.duration) - (top.end_s - top.start_s)) <= 0.15, `${info.format.duration} s for ${top.end_s - top.start_s} s asked`);
  assert.ok(info.streams.some((s) => s.codec_name === 'aac'));
});
