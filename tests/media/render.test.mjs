// Media library end to end: probe, thumbnails, web proxies and clip exports,
// through `cosmiv media-tool …` (src/media/tool.c), checked with ffprobe.
//
//   COSMIV_BIN=build/cosmiv node --test tests/media/render.test.mjs
//
// Inputs are made at run time with the ffmpeg CLI in a temporary directory
// (short and small: the suite takes ~30 s on 2 cores). Hostile inputs: a
// zero-byte file, a text file and an HLS playlist and a concat script named
// .mp4 whose entries point at /etc/passwd and at a FIFO "canary": opening the
// FIFO for reading would block, so a tool that finishes proves nothing opened
// it; with strace installed the open() calls are checked too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.COSMIV_BIN || join(ROOT, 'build/cosmiv');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
let dir;
const f = (name) => join(dir, name);

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args], { stdio: 'pipe' });
}

function ffprobe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height,sample_rate,channels',
    '-show_entries', 'format=duration,format_name', '-of', 'json', file]);
  const j = JSON.parse(out);
  return {
    format: j.format.format_name,
    duration: Number(j.format.duration),
    video: j.streams.find((s) => s.width),
    audio: j.streams.find((s) => s.sample_rate),
    streams: j.streams,
  };
}

/** Runs `cosmiv media-tool ...`: { code, json, stderr, progress[] }. */
function tool(args, { timeout = 60000 } = {}) {
  const r = spawnSync(BIN, ['media-tool', ...args], { encoding: 'utf8', timeout });
  assert.equal(r.error, undefined, `media-tool ${args.join(' ')} did not finish: ${r.error}`);
  let json = null;
  try { json = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { /* asserted by callers */ }
  const progress = r.stderr.split('\n').filter((l) => l.startsWith('{"progress"')).map((l) => JSON.parse(l).progress);
  return { code: r.status, json, stdout: r.stdout, stderr: r.stderr, progress };
}

function ok(args) {
  const r = tool(args);
  assert.equal(r.code, 0, `media-tool ${args.join(' ')} failed: ${r.stdout} ${r.stderr}`);
  return r;
}

function refused(args, pattern) {
  const r = tool(args);
  assert.equal(r.code, 1, `expected a refusal: ${r.stdout} ${r.stderr}`);
  assert.ok(r.json?.error, `no JSON error: ${r.stdout}`);
  assert.match(r.json.error.detail, pattern);
  assert.doesNotMatch(r.stdout + r.stderr, /root:x?:0:0/, 'the content of /etc/passwd leaked');
  return r.json.error;
}

/** Bytes of the gray bottom-right corner of the frame at `t`. */
function corner(file, t) {
  return execFileSync('ffmpeg', ['-v', 'error', '-ss', String(t), '-i', file, '-frames:v', '1',
    '-vf', 'crop=220:70:iw-220:ih-70,format=gray', '-f', 'rawvideo', '-']);
}

const hasStrace = spawnSync('strace', ['-V']).status === 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-media-'));
  const threads = ['-threads', '2'];
  // 10 s 1280x720 30 fps H.264 (B-frames, keyframe every 2 s) + stereo AAC
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=10', '-f', 'lavfi',
    '-i', 'sine=frequency=440:sample_rate=48000:duration=10', ...threads, '-c:v', 'libx264', '-preset', 'veryfast',
    '-crf', '32', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-ac', '2', '-b:a', '96k', '-shortest', f('main.mp4')]);
  ffmpeg(['-i', f('main.mp4'), '-c', 'copy', '-movflags', '+faststart', f('main-faststart.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=3', '-f', 'lavfi',
    '-i', 'sine=frequency=300:sample_rate=48000:duration=3', ...threads, '-c:v', 'libvpx-vp9', '-deadline', 'realtime',
    '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus', '-b:a', '64k', f('src.webm')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2', ...threads, '-c:v', 'libx264',
    '-preset', 'veryfast', '-g', '25', '-pix_fmt', 'yuv420p', f('video-only.mp4')]);
  ffmpeg(['-i', f('video-only.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=90', f('rotated.mp4')]);
  // MPEG-TS (no index, timestamps from 1.4 s, ADTS AAC at 44.1 kHz): the copy path's timestamp-search seek
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=4', '-f', 'lavfi',
    '-i', 'sine=duration=4:sample_rate=44100', ...threads, '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', f('src.ts')]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'mp4', f('audio-only.mp4')]);
  writeFileSync(f('empty.mp4'), '');
  writeFileSync(f('text.mp4'), 'hello, this is not a video at all\n'.repeat(20));
  for (const name of ['main.mp4', 'main-faststart.mp4']) {
    const b = readFileSync(f(name));
    writeFileSync(f(`trunc-${name}`), b.subarray(0, Math.floor(b.length * 0.3)));
  }
  execFileSync('mkfifo', [f('canary')]);
  writeFileSync(f('playlist.mp4'), ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:10',
    '#EXT-X-MEDIA-SEQUENCE:0', '#EXTINF:10.0,', '/etc/passwd', '#EXTINF:10.0,', f('canary'),
    '#EXTINF:10.0,', `file:${f('canary')}`, '#EXT-X-ENDLIST', ''].join('\n'));
  writeFileSync(f('concat.mp4'), `ffconcat version 1.0\nfile '/etc/passwd'\nfile '${f('canary')}'\n`);
});

after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

// ---- probe ----

test('probe: H.264/AAC MP4 matches ffprobe and is web-playable', () => {
  const m = ok(['probe', f('main.mp4')]).json;
  const p = ffprobe(f('main.mp4'));
  assert.equal(m.format_name, p.format);
  assert.equal(m.container, 'mp4');
  assert.ok(Math.abs(m.duration_s - p.duration) < 0.01, `${m.duration_s} vs ${p.duration}`);
  assert.equal(m.width, p.video.width);
  assert.equal(m.height, p.video.height);
  assert.equal(m.fps, 30);
  assert.equal(m.video_codec, 'h264');
  assert.equal(m.audio_codec, 'aac');
  assert.equal(m.pix_fmt, 'yuv420p');
  assert.equal(m.channels, 2);
  assert.equal(m.sample_rate, 48000);
  assert.equal(m.has_video, true);
  assert.equal(m.has_audio, true);
  assert.equal(m.rotation, 0);
  assert.ok(m.bit_rate > 0);
  assert.equal(m.file_bytes, statSync(f('main.mp4')).size);
  assert.equal(m.web_playable, true);
});

test('probe: VP9/Opus WebM, video-only and rotated files', () => {
  const w = ok(['probe', f('src.webm')]).json;
  assert.equal(w.container, 'webm');
  assert.equal(w.format_name, ffprobe(f('src.webm')).format);
  assert.equal(w.video_codec, 'vp9');
  assert.equal(w.audio_codec, 'opus');
  assert.deepEqual([w.width, w.height], [640, 360]);
  assert.ok(Math.abs(w.duration_s - 3) < 0.1);
  assert.equal(w.web_playable, false);

  const v = ok(['probe', f('video-only.mp4')]).json;
  assert.equal(v.has_audio, false);
  assert.equal(v.audio_codec, null);
  assert.equal(v.web_playable, true);

  const r = ok(['probe', f('rotated.mp4')]).json;
  assert.notEqual(r.rotation, 0);
  assert.deepEqual([r.width, r.height], [320, 240]);
  assert.deepEqual([r.display_width, r.display_height], [240, 320]);
});

test('probe: bad inputs are refused with a clear reason', () => {
  assert.equal(refused(['probe', f('audio-only.mp4')], /^no video stream: this is an audio-only file/).code, 'media_audio_only');
  assert.equal(refused(['probe', f('empty.mp4')], /^the file is empty$/).code, 'media_empty');
  assert.equal(refused(['probe', f('text.mp4')], /^not a video file/).code, 'media_not_video');
  refused(['probe', f('trunc-main.mp4')], /^the file is truncated or damaged: .*moov/);
  refused(['probe', f('trunc-main-faststart.mp4')], /^the file is truncated or damaged: it is .* but its index refers to/);
  refused(['probe', f('playlist.mp4')], /playlist, not a video file/);
  refused(['probe', f('concat.mp4')], /file list .*not a video file/);
  assert.equal(refused(['probe', f('nope.mp4')], /does not exist/).code, 'media_missing');
});

test('probe: plan limits', () => {
  assert.equal(refused(['probe', f('main.mp4'), '--max-duration', '5'],
    /^the video is 0:10 long; the limit is 0:05$/).code, 'media_too_long');
  refused(['probe', f('main.mp4'), '--max-width', '640', '--max-height', '360'],
    /^resolution 1280x720 is above the limit of 640x360$/);
  refused(['probe', f('main.mp4'), '--max-pixels', '100000'], /^resolution 1280x720 \(0\.9 megapixels\) is above/);
  refused(['probe', f('main.mp4'), '--max-bytes', '100000'], /^the file is \d+\.\d MB; the limit is 98 KB$/);
  // portrait is checked against the limit turned the same way
  ok(['probe', f('rotated.mp4'), '--max-width', '320', '--max-height', '240']);
});

test('hostile files never open what they point at, in any operation', () => {
  // Each call would hang on the FIFO if anything opened it; tool() asserts it finished.
  for (const bad of ['playlist.mp4', 'concat.mp4']) {
    refused(['probe', f(bad)], /not a video file/);
    refused(['thumb', f(bad), f('x.jpg'), '1'], /not a video file/);
    refused(['web', f(bad), f('x.mp4')], /not a video file/);
    refused(['clip', f(bad), f('x.mp4'), '0', '2', '16:9', 'crop', '0'], /not a video file/);
    assert.equal(existsSync(f('x.mp4')), false, 'a refused input left an output behind');
  }
  if (!hasStrace) return;
  for (const bad of ['playlist.mp4', 'concat.mp4']) {
    const log = f(`strace-${bad}.txt`);
    spawnSync('strace', ['-f', '-e', 'trace=open,openat', '-o', log, BIN, 'media-tool', 'probe', f(bad)], { timeout: 30000 });
    const opens = readFileSync(log, 'utf8');
    assert.doesNotMatch(opens, /\/etc\/passwd/);
    assert.doesNotMatch(opens, /canary/);
  }
});

// ---- thumbnails ----

test('thumbnail: JPEG of the requested width, aspect kept, rotation applied', () => {
  ok(['thumb', f('main.mp4'), f('thumb.jpg'), '3.5', '320']);
  const jpg = readFileSync(f('thumb.jpg'));
  assert.deepEqual([...jpg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  const p = ffprobe(f('thumb.jpg'));
  assert.equal(p.video.codec_name, 'mjpeg');
  assert.deepEqual([p.video.width, p.video.height], [320, 180]);

  ok(['thumb', f('rotated.mp4'), f('thumb-rot.jpg'), '1', '640']); // never upscaled
  const r = ffprobe(f('thumb-rot.jpg'));
  assert.deepEqual([r.video.width, r.video.height], [240, 320]);

  ok(['thumb', f('main.mp4'), f('thumb-end.jpg'), '999', '160']); // clamped into the video
  assert.deepEqual([ffprobe(f('thumb-end.jpg')).video.width], [160]);
});

test('thumbnail: the colours of a BT.709 source survive (JPEG is BT.601 full range)', () => {
  // a red (224, 32, 32) picture stored as BT.709 limited-range YUV, as HD recordings are; read
  // back as BT.601 without converting the matrix it would come out near (205, 9, 32)
  ffmpeg(['-f', 'lavfi', '-i', 'color=c=0xE02020:s=320x180:d=2:r=30', '-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
    '-c:v', 'libx264', '-crf', '10', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', f('red709.mp4')]);
  ok(['thumb', f('red709.mp4'), f('red709.jpg'), '1', '320']);
  const rgb = execFileSync('ffmpeg', ['-v', 'error', '-i', f('red709.jpg'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  const px = [...rgb.subarray(3 * (90 * 320 + 160), 3 * (90 * 320 + 160) + 3)]; // the centre pixel
  for (const [i, want] of [224, 32, 32].entries()) assert.ok(Math.abs(px[i] - want) <= 8, `thumbnail pixel ${px} for (224, 32, 32)`);
});

test('HDR (PQ) is tone-mapped to SDR BT.709 in exports, web proxies and thumbnails', () => {
  // SDR white and grey carried into an HDR10 file (PQ, BT.2020, 10-bit HEVC) as a
  // camera or console would: 100 nits of white is PQ code ~0.51, Y ~129 if shown as SDR
  ffmpeg(['-f', 'lavfi', '-i', 'color=c=white:s=640x360:d=2:r=30,drawbox=x=0:y=0:w=320:h=360:color=0x808080:t=fill',
    '-vf', 'zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=smpte2084:m=bt2020nc:p=bt2020:r=tv:npl=100,format=yuv420p10le',
    '-c:v', 'libx265', '-x265-params', 'log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc',
    '-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc', f('hdr10.mp4')]);
  const luma = (file, x, y, w) => execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'])[y * w + x];
  assert.ok(luma(f('hdr10.mp4'), 480, 180, 640) < 140, 'the source keeps PQ code values');
  const tags = (file) => JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries',
    'stream=pix_fmt,color_transfer,color_primaries,color_space', '-of', 'json', file])).streams[0];
  for (const [name, args] of [['hdr-web.mp4', ['web']], ['hdr-clip.mp4', ['clip', '0.2', '1.5', '16:9', 'crop', '0']]]) {
    ok([args[0], f('hdr10.mp4'), f(name), ...args.slice(1)]);
    assert.deepEqual(tags(f(name)), { pix_fmt: 'yuv420p', color_space: 'bt709', color_transfer: 'bt709', color_primaries: 'bt709' });
    const w = ffprobe(f(name)).video.width;
    const white = luma(f(name), Math.round(w * 0.75), Math.round(w * 9 / 32), w), grey = luma(f(name), Math.round(w / 4), Math.round(w * 9 / 32), w);
    assert.ok(white >= 180, `${name}: SDR white stays bright (Y ${white}; ~129 untouched)`);
    assert.ok(Math.abs(grey - 126) <= 12, `${name}: SDR grey stays grey (Y ${grey} for 126)`);
  }
  ok(['thumb', f('hdr10.mp4'), f('hdr10.jpg'), '1', '640']);
  const jw = luma(f('hdr10.jpg'), 480, 180, 640);
  assert.ok(jw >= 190, `thumbnail: SDR white stays bright (Y ${jw} full range)`);
});

// ---- web proxy ----

test('web proxy of a VP9/Opus WebM: H.264/AAC MP4, faststart, progress', () => {
  const r = ok(['web', f('src.webm'), f('web.mp4')]);
  const p = ffprobe(f('web.mp4'));
  assert.match(p.format, /mp4/);
  assert.equal(p.video.codec_name, 'h264');
  assert.deepEqual([p.video.width, p.video.height], [640, 360]);
  assert.equal(p.audio.codec_name, 'aac');
  assert.equal(p.audio.sample_rate, '48000');
  assert.equal(p.audio.channels, 2);
  assert.ok(Math.abs(p.duration - 3) < 0.1, `duration ${p.duration}`);
  const b = readFileSync(f('web.mp4'));
  assert.ok(b.indexOf('moov') > 0 && b.indexOf('moov') < b.indexOf('mdat'), 'moov must precede mdat');
  assert.equal(r.progress.at(-1), 100);
  assert.deepEqual(r.progress, [...r.progress].sort((a, b2) => a - b2), 'progress goes up');
  const m = ok(['probe', f('web.mp4')]).json;
  assert.equal(m.web_playable, true);
});

test('web proxy of a video-only file is video-only', () => {
  ok(['web', f('video-only.mp4'), f('web-v.mp4')]);
  const p = ffprobe(f('web-v.mp4'));
  assert.equal(p.streams.length, 1);
  assert.equal(p.video.codec_name, 'h264');
  assert.ok(Math.abs(p.duration - 2) < 0.1, `duration ${p.duration}`);
});

// ---- clips ----

function clip(name, start, end, aspect, fill, wm) {
  const r = ok(['clip', f('main.mp4'), f(name), String(start), String(end), aspect, fill, wm ? '1' : '0']);
  const p = ffprobe(f(name));
  assert.match(p.format, /mp4/);
  assert.equal(p.video.codec_name, 'h264');
  assert.equal(p.audio.codec_name, 'aac');
  assert.ok(Math.abs(p.duration - (end - start)) <= 0.1, `${name}: duration ${p.duration}, wanted ${end - start}`);
  assert.ok(Math.abs(r.json.duration_s - p.duration) <= 0.05, `reported ${r.json.duration_s} vs ${p.duration}`);
  assert.deepEqual([r.json.width, r.json.height], [p.video.width, p.video.height]);
  const b = readFileSync(f(name));
  assert.ok(b.indexOf('moov') < b.indexOf('mdat'), 'faststart');
  return { r: r.json, p };
}

test('clip 16:9 from a keyframe, no watermark: stream copy', () => {
  const { r, p } = clip('copy.mp4', 2, 6, '16:9', 'crop', false);
  assert.equal(r.copied, true);
  assert.deepEqual([p.video.width, p.video.height], [1280, 720]);
  // an end between keyframes still lands within a frame or two
  const mid = clip('copy-mid.mp4', 4, 7.5, '16:9', 'crop', false);
  assert.equal(mid.r.copied, true);
});

test('clip of an MPEG-TS from a keyframe: stream copy into MP4', () => {
  const r = ok(['clip', f('src.ts'), f('ts.mp4'), '1', '3.5', '16:9', 'crop', '0']).json;
  assert.equal(r.copied, true);
  const p = ffprobe(f('ts.mp4'));
  assert.match(p.format, /mp4/);
  assert.equal(p.video.codec_name, 'h264');
  assert.equal(p.audio.codec_name, 'aac');
  assert.ok(Math.abs(p.duration - 2.5) <= 0.1, `duration ${p.duration}`);
});

test('clip 16:9 off a keyframe is re-encoded, frame-accurate', () => {
  const { r, p } = clip('reenc.mp4', 2.5, 5.5, '16:9', 'crop', false);
  assert.equal(r.copied, false);
  assert.deepEqual([p.video.width, p.video.height], [1280, 720]);
});

test('clip 9:16 crop and blur: 720x1280 for a 720p source', () => {
  for (const fill of ['crop', 'blur']) {
    const { r, p } = clip(`v-${fill}.mp4`, 1.3, 4.3, '9:16', fill, false);
    assert.equal(r.copied, false);
    assert.deepEqual([p.video.width, p.video.height], [720, 1280]);
    assert.equal(p.audio.sample_rate, '48000');
    assert.equal(p.audio.channels, 2);
  }
});

test('clip 1:1 is 720x720', () => {
  const { p } = clip('square.mp4', 0, 2, '1:1', 'blur', false);
  assert.deepEqual([p.video.width, p.video.height], [720, 720]);
});

test('watermark forces a re-encode and marks the bottom-right corner', () => {
  const { r } = clip('wm.mp4', 2, 4, '16:9', 'crop', true);
  assert.equal(r.copied, false);
  const a = corner(f('wm.mp4'), 1), b = corner(f('copy.mp4'), 1); // both show source time 3 s
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
  assert.ok(diff / a.length > 4, `corner barely changed (${(diff / a.length).toFixed(2)})`);
  if (!existsSync(FONT)) console.log('# fonts-dejavu-core missing: the watermark is the drawbox badge');
});

test('clip requests are validated', () => {
  assert.equal(refused(['clip', f('main.mp4'), f('bad.mp4'), '0', '2', '4:3', 'crop', '0'], /aspect/).field, 'aspect');
  assert.equal(refused(['clip', f('main.mp4'), f('bad.mp4'), '3', '2', '16:9', 'crop', '0'], /after the start/).field, 'end_s');
  assert.equal(refused(['clip', f('main.mp4'), f('bad.mp4'), '5', '30', '16:9', 'crop', '0'], /only 10\.0 s/).field, 'end_s');
  assert.equal(refused(['clip', f('main.mp4'), f('bad.mp4'), '0', '2', '16:9', 'sparkle', '0'], /fill/).field, 'fill');
  assert.equal(existsSync(f('bad.mp4')), false);
});
