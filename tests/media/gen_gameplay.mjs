#!/usr/bin/env node
// gen_gameplay.mjs — synthetic "gameplay" videos with known highlights, for the
// highlight detector's tests and benchmark (src/media/detect.c).
//
// What: each video is a panning fractal landscape with a HUD bar and moving
// "enemies", low game ambience (pink noise) and soft background music (sine
// chords), cut into 15-second slots. A slot holds an event (a highlight), a
// distractor, or nothing:
//   events       firefight  4-8 gunshots (short white-noise bursts) in 1-2.5 s, camera shake,
//                           sometimes a muzzle flash
//                explosion  a boom (brown noise), 2-4 shots, a white flash, a fast pan
//                killcam    2-3 scene cuts in ~3 s and 3-5 quieter shots
//                battle     4.5-6.5 s of dense gunfire (4-7 shots a second) over a loud bed of
//                           impacts, a boom, a shaky camera: what real fights sound like
//   distractors  music_still  loud steady music over a frozen picture (8-12 s)
//                loud_steady  a long uniformly loud roar (10-12 s), normal picture
//                menu         one cut to a still "menu" screen for 5 s and back, quiet
//                whip_pan     a silent fast turn (0.4-0.7 s), in most slots without an event
// and distant gunfire (quiet shots, ~0.5 per second) all along.
// The ground truth is what the detector should return: for each event, the
// window [first action - 4 s, last action + 2 s] (the rule of the real labelled
// sample in ../shared/media/real-gameplay), clipped to the video.
//
// How: one ffmpeg run per video, everything from lavfi sources (mandelbrot,
// anoisesrc, aevalsrc) with time expressions, so nothing is downloaded and the
// output is reproducible from the seed. manifest.json (the `cosmiv eval`
// format: [{video, highlights:[{start_s,end_s}]}], plus the events and
// distractors for humans) is written next to the videos.
//
// Usage:
//   node tests/media/gen_gameplay.mjs --out DIR [--count 4] [--seed 1] [--duration 45]
//        [--size 1280x720] [--fps 30] [--vcodec h264|hevc|vp9] [--acodec aac|opus]
//        [--preset superfast] [--name NAME] [--keep]   (--keep: do not re-render existing files)
// or import { generate } from './gen_gameplay.mjs' (see the test).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SLOT = 15; // seconds per slot; windows are <= 9 s so slots never merge

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f3 = (x) => Number(x.toFixed(3));

/** Plans the timeline of one video: events, distractors, ground truth. */
export function plan({ duration, seed, eventShare = 0.55 }) {
  const rnd = mulberry32(seed * 7919 + 17);
  const uni = (a, b) => a + (b - a) * rnd();
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const nslots = Math.max(1, Math.floor(duration / SLOT));
  // A fixed share of the slots are events (at least one), at least one is a distractor when
  // there are two slots or more, the rest are distractors (2/3) or quiet; the order is shuffled.
  const nev = Math.max(1, Math.min(nslots - (nslots >= 2 ? 1 : 0), Math.round(nslots * eventShare)));
  const kinds = [];
  for (let i = 0; i < nslots; i++)
    kinds.push(i < nev ? 'event' : i === nev || rnd() < 0.67 ? 'distractor' : 'empty');
  for (let i = nslots - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const events = [], distractors = [], highlights = [];
  const shots = [], booms = [], flashes = [], cuts = [], shakes = [], freezes = [], music = [], roars = [], turns = [];
  let evi = Math.floor(rnd() * 4), dsi = Math.floor(rnd() * 3);
  for (let i = 0; i < nslots; i++) {
    const s0 = i * SLOT;
    if (kinds[i] === 'event') {
      const kind = ['firefight', 'explosion', 'killcam', 'battle'][evi++ % 4];
      const a = kind === 'battle' ? s0 + uni(4, 5) : s0 + uni(5, 8);
      let b = a;
      if (kind === 'battle') {
        // a real fight: seconds of dense fire over a loud bed of impacts and explosions
        const len = uni(4.5, 6.5), rate = uni(4, 7);
        for (let t = a; t < a + len; t += (0.5 + rnd()) / rate) shots.push({ t, amp: uni(0.12, 0.4) });
        booms.push({ t: a + uni(0.5, len - 0.5), amp: uni(0.4, 0.7) });
        roars.push({ a, b: a + len, amp: uni(0.06, 0.12) });
        shakes.push({ a, b: a + len, amp: uni(0.04, 0.08) });
        b = a + len;
      } else if (kind === 'firefight') {
        const n = 4 + Math.floor(rnd() * 5), span = uni(1.0, 2.5);
        for (let k = 0; k < n; k++) shots.push({ t: a + (span * k) / (n - 1) + uni(-0.05, 0.05), amp: uni(0.35, 0.8) });
        b = a + span + 0.1;
        shakes.push({ a, b, amp: uni(0.08, 0.15) });
        if (rnd() < 0.5) flashes.push({ t: a + uni(0.2, span), frames: 2 });
      } else if (kind === 'explosion') {
        booms.push({ t: a, amp: uni(0.6, 0.9) });
        flashes.push({ t: a, frames: 3 });
        const n = 2 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) shots.push({ t: a + 0.6 + 0.35 * k, amp: uni(0.3, 0.6) });
        b = a + 0.6 + 0.35 * n;
        shakes.push({ a, b: a + 1.5, amp: uni(0.2, 0.3) });
      } else {
        const n = 2 + Math.floor(rnd() * 2);
        let t = a;
        for (let k = 0; k < n; k++) {
          const len = uni(0.5, 0.8);
          cuts.push({ a: t, b: t + len });
          t += len + uni(0.4, 0.7);
        }
        const m = 3 + Math.floor(rnd() * 3);
        for (let k = 0; k < m; k++) shots.push({ t: a + ((t - a) * k) / m + 0.1, amp: uni(0.25, 0.4) });
        b = t;
      }
      events.push({ kind, start_s: f3(a), end_s: f3(b) });
      highlights.push({ start_s: f3(Math.max(0, a - 4)), end_s: f3(Math.min(duration, b + 2)) });
    } else if (kinds[i] === 'distractor') {
      const kind = ['music_still', 'loud_steady', 'menu'][dsi++ % 3];
      const a = s0 + uni(2, 4);
      let b;
      if (kind === 'music_still') {
        b = a + uni(8, 11);
        freezes.push({ a, b });
        music.push({ a, b, amp: uni(0.07, 0.12), f: pick([196, 220, 247, 262]) });
      } else if (kind === 'loud_steady') {
        b = a + uni(10, 12);
        roars.push({ a, b, amp: uni(0.15, 0.3) });
      } else {
        b = a + 5;
        cuts.push({ a, b, still: true });
        freezes.push({ a, b });
      }
      distractors.push({ kind, start_s: f3(a), end_s: f3(Math.min(b, duration)) });
    }
    // Outside events the player still turns around fast now and then (silent whip pans):
    // motion and encoder scene cuts without a fight, as in real footage.
    if (kinds[i] !== 'event' && rnd() < 0.6) {
      const a = s0 + uni(1, SLOT - 2);
      turns.push({ a, b: a + uni(0.4, 0.7), amp: uni(0.25, 0.4) * (rnd() < 0.5 ? -1 : 1) });
      distractors.push({ kind: 'whip_pan', start_s: f3(a), end_s: f3(turns[turns.length - 1].b) });
    }
  }
  // Distant gunfire all along (other players' fights): onsets are not rare in gameplay.
  for (let t = uni(0, 2); t < duration - 0.3; t += -Math.log(1 - rnd() * 0.999) / 0.5)
    shots.push({ t, amp: uni(0.03, 0.1) });
  shots.sort((x, y) => x.t - y.t);
  return { events, distractors, highlights, shots, booms, flashes, cuts, shakes, freezes, music, roars, turns };
}

const num = (x) => x.toFixed(3);

// ffmpeg's expression parser gives up on long chains (~100 terms), so sums are
// balanced trees; and time-local terms go in a binary search on t built with
// if(), which ffmpeg evaluates lazily: per frame (or sample) only the few
// terms near t are computed, which keeps a 10-minute soundtrack fast.
function sumTree(terms) {
  if (terms.length === 0) return '0';
  if (terms.length === 1) return terms[0];
  const m = terms.length >> 1;
  return `(${sumTree(terms.slice(0, m))}+${sumTree(terms.slice(m))})`;
}
/** items: [{a, b, ...}] (active on [a, b]); term(item) -> expression. */
function timeTree(items, term) {
  if (items.length <= 6) return sumTree(items.map(term));
  const sorted = [...items].sort((x, y) => x.a - y.a);
  const mid = sorted[sorted.length >> 1].a;
  const left = sorted.filter((x) => x.a < mid), right = sorted.filter((x) => x.b >= mid);
  if (left.length === sorted.length || right.length === sorted.length) return sumTree(sorted.map(term));
  return `if(lt(t,${num(mid)}),${timeTree(left, term)},${timeTree(right, term)})`;
}

/** ffmpeg arguments that render plan `p` into `file`. */
export function ffmpegArgs(p, o, file) {
  const [W, H] = o.size.split('x').map(Number);
  const F = o.fps, D = o.duration;
  // Texture 1.6x the frame, rendered once and looped; even sizes for yuv420p.
  const TW = 2 * Math.round((W * 1.6) / 2), TH = 2 * Math.round((H * 1.6) / 2);
  const RW = 2 * Math.round(Math.min(TW, 1600) / 2), RH = 2 * Math.round((RW * TH) / TW / 2);
  const mx = (TW - W) / 2, my = (TH - H) / 2;
  // Effective time: stands still during freezes so the pan resumes where it stopped.
  const T = `(t-${sumTree(o.freezesAll.map((z) => `clip(t-${num(z.a)},0,${num(z.b - z.a)})`))})`;
  const dx = timeTree(
    [...p.shakes.map((sh) => ({ ...sh, k: 's' })), ...p.turns.map((w) => ({ ...w, k: 'w' }))],
    (q) => q.k === 's'
      ? `between(t,${num(q.a)},${num(q.b)})*${num(q.amp * TW)}*sin(2*PI*2.7*(t-${num(q.a)}))`
      : `between(t,${num(q.a)},${num(q.b)})*${num(q.amp * TW)}*sin(PI*(t-${num(q.a)})/${num(q.b - q.a)})`);
  const dy = timeTree(p.shakes, (q) => `between(t,${num(q.a)},${num(q.b)})*${num(q.amp * TH)}*sin(2*PI*1.9*(t-${num(q.a)}))`);
  // Triangle-wave pan: a steady camera speed, like walking through a level.
  const X = `${num(mx)}+${num(mx * 0.9 * 2 / Math.PI)}*asin(sin(0.3*${T}))+${dx}`;
  const Y = `${num(my)}+${num(my * 0.5 * 2 / Math.PI)}*asin(sin(0.21*${T}+1))+${dy}`;
  const still = timeTree(o.freezesAll, (z) => `between(t,${num(z.a)},${num(z.b)})`);
  const cutOn = timeTree(p.cuts, (c) => `between(t,${num(c.a)},${num(c.b)})`);
  const flashOn = timeTree(p.flashes.map((fl) => ({ a: fl.t, b: fl.t + (fl.frames - 0.5) / F })),
    (fl) => `between(t,${num(fl.a)},${num(fl.b)})`);
  const bw = Math.round(W / 24), bh = Math.round(H / 8);
  const v =
    `mandelbrot=s=${RW}x${RH}:maxiter=160:start_scale=0.6:start_x=-0.745:start_y=0.11:r=${F},` +
    `trim=end_frame=1,scale=${TW}:${TH},format=yuv420p,loop=loop=-1:size=1,setpts=N,split[ta][tb];` +
    `[tb]negate,hflip,crop=${W}:${H}:x=${num(mx * 0.5)}:y=${num(my * 1.5)}[sb];` +
    `[ta]crop=${W}:${H}:x='${X}':y='${Y}',` +
    `drawbox=x='mod(${num(W * 0.31)}*t,${W})':y=${Math.round(H * 0.55)}:w=${bw}:h=${bh}:color=red:t=fill:enable='not(${still})',` +
    `drawbox=x='${W}-mod(${num(W * 0.17)}*t,${W})':y=${Math.round(H * 0.35)}:w=${bw}:h=${bh}:color=yellow:t=fill:enable='not(${still})',` +
    `drawbox=x=0:y=${H - Math.round(H / 14)}:w=${W}:h=${Math.round(H / 14)}:color=black@0.7:t=fill,` +
    `drawbox=x=${Math.round(W / 40)}:y=${H - Math.round(H / 18)}:w=${Math.round(W / 6)}:h=${Math.round(H / 40)}:color=green:t=fill[sa];` +
    `[sa][sb]overlay=enable='${cutOn}',` +
    `drawbox=x=0:y=0:w=${W}:h=${H}:color=white@0.92:t=fill:enable='${flashOn}',format=yuv420p[v]`;
  // Audio: ambience + music + the event and distractor sources, mixed without normalisation.
  const shotV = timeTree(p.shots.map((x) => ({ ...x, a: x.t, b: x.t + 0.25 })),
    (x) => `${num(x.amp)}*exp(-(t-${num(x.a)})/0.05)*between(t,${num(x.a)},${num(x.b)})`);
  const boomV = timeTree(p.booms.map((x) => ({ ...x, a: x.t, b: x.t + 1.5 })),
    (x) => `${num(x.amp)}*exp(-(t-${num(x.a)})/0.35)*between(t,${num(x.a)},${num(x.b)})`);
  const roarV = timeTree(p.roars, (r) => `${num(r.amp)}*between(t,${num(r.a)},${num(r.b)})`);
  const musV = timeTree(p.music, (m) => `between(t,${num(m.a)},${num(m.b)})*${num(m.amp)}*` +
    `(sin(2*PI*${m.f}*t)+sin(2*PI*${num(m.f * 1.26)}*t)+sin(2*PI*${num(m.f * 1.5)}*t))`);
  const sr = 48000;
  const a =
    `anoisesrc=color=pink:amplitude=0.035:seed=${o.seed}:r=${sr}:d=${D}[bg];` +
    `aevalsrc='0.018*(sin(2*PI*(220+55*mod(floor(t/4),3))*t)+sin(2*PI*(330+41*mod(floor(t/4),3))*t))':s=${sr}:d=${D}[bm];` +
    `anoisesrc=color=white:amplitude=1:seed=${o.seed + 1}:r=${sr}:d=${D}:nb_samples=240,volume=eval=frame:volume='${shotV}'[sh];` +
    `anoisesrc=color=brown:amplitude=1:seed=${o.seed + 2}:r=${sr}:d=${D}:nb_samples=480,volume=eval=frame:volume='${boomV}'[bo];` +
    `anoisesrc=color=pink:amplitude=1:seed=${o.seed + 3}:r=${sr}:d=${D}:nb_samples=480,volume=eval=frame:volume='${roarV}'[ro];` +
    `aevalsrc='${musV}':s=${sr}:d=${D}[mu];` +
    `[bg][bm][sh][bo][ro][mu]amix=inputs=6:normalize=0:duration=first,alimiter=limit=0.95:level=disabled,` +
    // libopus wants exactly 20 ms per frame
    `aformat=channel_layouts=stereo${o.acodec === 'opus' ? ',asetnsamples=n=960:p=0' : ''}[a]`;
  const venc = {
    h264: ['-c:v', 'libx264', '-preset', o.preset, '-crf', '23', '-pix_fmt', 'yuv420p'],
    hevc: ['-c:v', 'libx265', '-preset', 'ultrafast', '-crf', '28', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
    vp9: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-b:v', '0', '-crf', '40'],
  }[o.vcodec];
  const aenc = o.acodec === 'opus' ? ['-c:a', 'libopus', '-b:a', '96k'] : ['-c:a', 'aac', '-b:a', '128k'];
  if (!venc) throw new Error(`unknown vcodec ${o.vcodec}`);
  return ['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', `${v};${a}`, '-map', '[v]', '-map', '[a]',
    '-t', String(D), '-r', String(F), ...venc, ...aenc, ...(file.endsWith('.mp4') ? ['-movflags', '+faststart'] : []), file];
}

function extFor(vcodec, acodec) {
  if (vcodec === 'vp9') return acodec === 'opus' ? 'webm' : 'mkv';
  return acodec === 'opus' ? 'mkv' : 'mp4';
}

/**
 * Renders videos into `out` and writes out/manifest.json (merged with an
 * existing one: entries with the same video name are replaced).
 * videos: [{name, duration, size, fps, vcodec, acodec, seed, preset}]
 */
export function generate(out, videos, { log = () => {}, skipExisting = false } = {}) {
  mkdirSync(out, { recursive: true });
  const mpath = join(out, 'manifest.json');
  let manifest = existsSync(mpath) ? JSON.parse(readFileSync(mpath, 'utf8')) : [];
  for (const v0 of videos) {
    const o = { duration: 45, size: '1280x720', fps: 30, vcodec: 'h264', acodec: 'aac', seed: 1, preset: 'superfast', ...v0 };
    const p = plan(o);
    o.freezesAll = p.freezes;
    const file = `${o.name}.${extFor(o.vcodec, o.acodec)}`;
    if (skipExisting && existsSync(join(out, file))) {
      log(`${file}: exists, kept`);
    } else {
      log(`generating ${file} (${o.duration} s ${o.size} ${o.fps} fps ${o.vcodec}/${o.acodec}, ` +
        `${p.events.length} events, ${p.distractors.length} distractors)`);
      const r = spawnSync('ffmpeg', ffmpegArgs(p, o, join(out, file)), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) {
        rmSync(join(out, file), { force: true }); // no half-written video for the next --keep run
        throw new Error(`ffmpeg failed for ${file}: ${r.stderr || r.error}`);
      }
    }
    manifest = manifest.filter((m) => m.video !== file);
    manifest.push({ video: file, duration_s: o.duration, size: o.size, fps: o.fps, codec: `${o.vcodec}/${o.acodec}`,
      seed: o.seed, highlights: p.highlights, events: p.events, distractors: p.distractors });
    writeFileSync(mpath, JSON.stringify(manifest, null, 1) + '\n'); // after each video: a crash keeps the rest
  }
  return mpath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, d) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : d;
  };
  const out = opt('out');
  if (!out) {
    console.error('usage: gen_gameplay.mjs --out DIR [--count N] [--seed S] [--duration S] [--size WxH] ' +
      '[--fps N] [--vcodec h264|hevc|vp9] [--acodec aac|opus] [--preset P] [--name NAME]');
    process.exit(2);
  }
  const count = Number(opt('count', '1')), seed = Number(opt('seed', '1'));
  const vids = [];
  for (let i = 0; i < count; i++) {
    vids.push({ name: count === 1 && opt('name') ? opt('name') : `${opt('name', 'synth')}${count > 1 ? `_${i + 1}` : ''}`,
      duration: Number(opt('duration', '45')), size: opt('size', '1280x720'), fps: Number(opt('fps', '30')),
      vcodec: opt('vcodec', 'h264'), acodec: opt('acodec', 'aac'), seed: seed + i, preset: opt('preset', 'superfast') });
  }
  generate(out, vids, { log: (m) => console.error(m), skipExisting: args.includes('--keep') });
}
