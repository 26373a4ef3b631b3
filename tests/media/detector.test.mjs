// Highlight detector, end to end through the real binary: `cosmiv highlights`
// and `cosmiv eval` on synthetic gameplay generated here (gen_gameplay.mjs:
// known events and distractors, ground truth in manifest.json), plus inputs
// that must fail cleanly. Videos are made in a temporary directory at run
// time and removed afterwards; none is committed.
//
//   node --test tests/media/            (COSMIV_BIN overrides build/cosmiv)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from './gen_gameplay.mjs';
import { ROOT, BIN, run, ffmpeg } from './cli.mjs';

let dir;

// Four short videos, one per codec family and shape; ~12 slots, ~8 events in all.
const VIDEOS = [
  { name: 'synth_h264_720p', duration: 45, size: '1280x720', fps: 30, vcodec: 'h264', acodec: 'aac', seed: 1, preset: 'ultrafast' },
  { name: 'synth_hevc', duration: 45, size: '640x360', fps: 30, vcodec: 'hevc', acodec: 'aac', seed: 2 },
  { name: 'synth_vp9_opus', duration: 45, size: '640x360', fps: 30, vcodec: 'vp9', acodec: 'opus', seed: 3 },
  { name: 'synth_vertical_60fps', duration: 45, size: '360x640', fps: 60, vcodec: 'h264', acodec: 'aac', seed: 4 },
].map((v) => ({ ...v, eventShare: 0.7 }));

before(() => {
  assert.ok(existsSync(BIN), `${BIN} not built (make build, or set COSMIV_BIN)`);
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-media-'));
  generate(dir, VIDEOS);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('highlights prints one JSON object: metadata, stage timings, ranked 5-20 s windows with reasons', async () => {
  const file = join(dir, 'synth_h264_720p.mp4');
  const r = await run(['highlights', file]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout); // throws if anything but one JSON document is on stdout
  assert.equal(out.duration_s, 45);
  assert.equal(out.width, 1280);
  assert.equal(out.height, 720);
  assert.equal(out.fps, 30);
  assert.match(out.model, /\S/);
  for (const k of ['probe', 'decode', 'features', 'refine', 'scoring', 'total']) assert.equal(typeof out.timings_ms[k], 'number', k);
  assert.ok(out.highlights.length >= 1);
  for (let i = 0; i < out.highlights.length; i++) {
    const h = out.highlights[i];
    assert.ok(h.start_s >= 0 && h.end_s <= 45 && h.end_s - h.start_s >= 5 - 1e-6 && h.end_s - h.start_s <= 20 + 1e-6, JSON.stringify(h));
    assert.ok(h.score > 0 && h.score <= 1);
    if (i > 0) assert.ok(h.score <= out.highlights[i - 1].score, 'ranked by score');
    assert.ok(h.reasons.length >= 1 && h.reasons.every((s) => typeof s === 'string' && s.length > 3));
  }
  // cheap: far fewer frames decoded than the file holds
  assert.ok(out.frames.decoded < 0.3 * out.frames.total, JSON.stringify(out.frames));
});

test('eval finds the generated highlights: F1 >= 0.9 at IoU 0.5', async () => {
  const r = await run(['eval', join(dir, 'manifest.json'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const ev = JSON.parse(r.stdout);
  const table = ev.videos.map((v) => `${v.video}: truth ${v.truth} pred ${v.predicted} tp ${v.tp} f1 ${v.f1}`).join('\n');
  assert.ok(ev.overall.truth >= 6, 'enough events to mean something');
  assert.ok(ev.overall.f1 >= 0.9, `F1 ${ev.overall.f1}\n${table}`);
  assert.ok(ev.overall.map >= 0.8, `mAP ${ev.overall.map}`);
  // the plain table: one row per video and the overall line
  const t = await run(['eval', join(dir, 'manifest.json')]);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout.trim().split('\n').length, VIDEOS.length + 2);
  assert.match(t.stdout, /^overall \(4 videos\)/m);
});

test('audio-only and video-only files are analysed with the signals they have', async () => {
  const src = join(dir, 'synth_hevc.mp4');
  const audio = join(dir, 'audio_only.m4a'), video = join(dir, 'video_only.mp4');
  ffmpeg(['-i', src, '-vn', '-c:a', 'copy', audio]);
  ffmpeg(['-i', src, '-an', '-c:v', 'copy', video]);
  let r = await run(['highlights', audio]);
  assert.equal(r.code, 0, r.stderr);
  let out = JSON.parse(r.stdout);
  assert.equal(out.width, 0);
  assert.match(out.notes.join(' '), /no video stream/);
  for (const h of out.highlights) assert.ok(h.reasons.some((s) => /sound only/.test(s)));
  r = await run(['highlights', video]);
  assert.equal(r.code, 0, r.stderr);
  out = JSON.parse(r.stdout);
  assert.equal(out.width, 640);
  assert.match(out.notes.join(' '), /no audio stream/);
});

test('broken and hostile inputs fail cleanly: exit 1, a reason on stderr, nothing on stdout', async () => {
  const bad = join(dir, 'bad');
  mkdirSync(bad);
  const real = readFileSync(join(dir, 'synth_hevc.mp4'));
  const cases = {
    'missing.mp4': null,
    'empty.mp4': Buffer.alloc(0),
    'text.mp4': Buffer.from('this is not a video\n'.repeat(100)),
    'noise.mp4': Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 2654435761) >>> 24)),
    'truncated.mp4': real.subarray(0, Math.floor(real.length / 3)),
    // a playlist that would make a naive demuxer read another local file
    'playlist.mp4': Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n'),
    'concat.mp4': Buffer.from(`ffconcat version 1.0\nfile '${join(dir, 'synth_hevc.mp4')}'\n`),
  };
  for (const [name, bytes] of Object.entries(cases)) if (bytes) writeFileSync(join(bad, name), bytes);
  for (const name of [...Object.keys(cases), '.']) {
    const file = join(bad, name);
    const r = await run(['highlights', file]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, '', `${name}: stdout must stay empty`);
    assert.ok(r.stderr.startsWith(`cosmiv: ${file}: `) && r.stderr.trim().length > `cosmiv: ${file}: `.length + 5,
      `${name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /root:/, 'never echoes another file');
  }
  // usage errors are status 2
  assert.equal((await run(['highlights'])).code, 2);
  assert.equal((await run(['highlights', join(dir, 'synth_hevc.mp4'), '--bogus'])).code, 2);
  // eval on a manifest naming a missing video reports it and fails
  writeFileSync(join(bad, 'manifest.json'), JSON.stringify([{ video: 'nope.mp4', highlights: [{ start_s: 1, end_s: 9 }] }]));
  const ev = await run(['eval', join(bad, 'manifest.json')]);
  assert.equal(ev.code, 1);
  assert.match(ev.stderr, /nope\.mp4/);
});

test('COSMIV_MEDIA_MODEL selects the model; an invalid model is refused with a reason', async () => {
  const file = join(dir, 'synth_vp9_opus.webm');
  const model = JSON.parse(readFileSync(join(ROOT, 'src/media/model.json'), 'utf8'));
  const mine = join(dir, 'model.json');
  writeFileSync(mine, JSON.stringify({ ...model, version: 'test-model-1', threshold: 0.999 }));
  let r = await run(['highlights', file], { COSMIV_MEDIA_MODEL: mine });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).model, 'test-model-1');
  writeFileSync(mine, JSON.stringify({ ...model, weights: { ...model.weights, nonsense: 1 } }));
  r = await run(['highlights', file], { COSMIV_MEDIA_MODEL: mine });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown feature "nonsense"/);
});

test('--game picks the model compiled in for that game (any case); another game gets the default', async () => {
  const file = join(dir, 'synth_vp9_opus.webm');
  const oa = JSON.parse(readFileSync(join(ROOT, 'src/media/model-openarena.json'), 'utf8'));
  const def = JSON.parse(readFileSync(join(ROOT, 'src/media/model.json'), 'utf8'));
  assert.deepEqual(oa.games, ['OpenArena']);
  for (const [game, version] of [['OpenArena', oa.version], ['openarena', oa.version], ['Valorant', def.version]]) {
    const r = await run(['highlights', file, '--game', game]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).model, version, game);
  }
  const bad = join(dir, 'games.json');
  writeFileSync(bad, JSON.stringify({ ...oa, games: 'OpenArena' }));
  const r = await run(['highlights', file], { COSMIV_MEDIA_MODEL: bad });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /"games" must be a list/);
});
