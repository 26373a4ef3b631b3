// report.mjs — turns bench/media/run.sh's measurements into the table and build/bench/media.json.
//
// Matching is the detector's own protocol (src/media/detect_eval.c): a predicted window is a hit when
// its temporal IoU with a not-yet-matched labelled window is >= 0.5, best score first. auto-editor's
// kept segments have no score; they are matched in time order. The random baseline draws, 200 times,
// as many 10-second windows as the detector returned on each real video, uniformly over the video,
// pools the hits of a set's videos and averages precision, recall and F1.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, basename } from 'node:path';

const args = process.argv.slice(2);
const opt = (n) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

function iou(a, b) {
  const inter = Math.min(a.end_s, b.end_s) - Math.max(a.start_s, b.start_s);
  if (inter <= 0) return 0;
  return inter / (Math.max(a.end_s, b.end_s) - Math.min(a.start_s, b.start_s));
}

function score(pred, truth) {
  const used = new Set();
  let tp = 0;
  const order = [...pred].sort((x, y) => (y.score ?? 0) - (x.score ?? 0));
  for (const p of order) {
    let best = 0.5, bi = -1;
    truth.forEach((t, j) => {
      const v = iou(p, t);
      if (!used.has(j) && v >= best) { best = v; bi = j; }
    });
    if (bi >= 0) { used.add(bi); tp++; }
  }
  const precision = pred.length ? tp / pred.length : truth.length ? 0 : 1;
  const recall = truth.length ? tp / truth.length : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { truth: truth.length, predicted: pred.length, tp, precision, recall, f1 };
}

function aeSegments(file) {
  try {
    const tl = readJson(file).timeline;
    const [num, den] = String(tl.timebase).split('/').map(Number);
    const tb = num / (den || 1);
    return (tl.v?.[0] ?? []).map((c) => ({ start_s: c.offset / tb, end_s: (c.offset + c.dur * (c.speed || 1)) / tb }));
  } catch {
    return null;
  }
}

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

const fmt = (x, d = 3) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
const manifest = existsSync(opt('manifest')) ? readJson(opt('manifest')) : [];
const work = opt('work');
const rows = readFileSync(opt('measure'), 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
const result = { generated_at: new Date().toISOString(), ffmpeg: opt('ffmpeg'), auto_editor: opt('auto-editor') || null,
  cpus: (await import('node:os')).cpus().length, videos: [], real: null };

console.log('Highlight detection — speed (wall seconds, same machine, same run) and quality (F1 at IoU >= 0.5)\n');
console.log(`${'video'.padEnd(24)} ${'dur_s'.padStart(6)} ${'cosmiv_s'.padStart(9)} ${'ffmpeg_s'.padStart(9)} ` +
  `${'speedup'.padStart(8)} ${'cosmiv_F1'.padStart(9)} ${'ae_s'.padStart(7)} ${'ae_F1'.padStart(6)} ` +
  `${'ae0.2_s'.padStart(8)} ${'ae0.2_F1'.padStart(8)}`);
for (const [name, tc, tf, ta, ta2] of rows) {
  if (/^real\d+$/.test(name)) continue;
  const m = manifest.find((x) => x.video === `${name}.mp4`);
  const out = readJson(`${work}/${name}.cosmiv.json`);
  const cos = score(out.highlights, m.highlights);
  const ae = ta ? aeSegments(`${work}/${name}.ae.json`) : null;
  const ae2 = ta2 ? aeSegments(`${work}/${name}.ae2.json`) : null;
  const aeS = ae ? score(ae, m.highlights) : null, ae2S = ae2 ? score(ae2, m.highlights) : null;
  const v = {
    video: name, duration_s: out.duration_s, size: `${out.width}x${out.height}`, fps: out.fps,
    cosmiv_s: Number(tc), ffmpeg_full_decode_s: Number(tf), speedup: Number(tf) / Number(tc),
    cosmiv: { ...cos, timings_ms: out.timings_ms, frames: out.frames },
    auto_editor: ae ? { seconds: Number(ta), segments: ae.length, ...aeS } : null,
    auto_editor_threshold_0_2: ae2 ? { seconds: Number(ta2), segments: ae2.length, ...ae2S } : null,
  };
  result.videos.push(v);
  console.log(`${name.padEnd(24)} ${fmt(out.duration_s, 0).padStart(6)} ${fmt(v.cosmiv_s, 2).padStart(9)} ` +
    `${fmt(v.ffmpeg_full_decode_s, 2).padStart(9)} ${(fmt(v.speedup, 1) + 'x').padStart(8)} ${fmt(cos.f1).padStart(9)} ` +
    `${(ta ? fmt(Number(ta), 2) : '-').padStart(7)} ${(aeS ? fmt(aeS.f1) : '-').padStart(6)} ` +
    `${(ta2 ? fmt(Number(ta2), 2) : '-').padStart(8)} ${(ae2S ? fmt(ae2S.f1) : '-').padStart(8)}`);
}
for (const v of result.videos)
  console.log(`  ${v.video}: cosmiv decoded ${v.cosmiv.frames.decoded} of ${v.cosmiv.frames.total} frames; stages ms ` +
    Object.entries(v.cosmiv.timings_ms).map(([k, x]) => `${k} ${fmt(x, 0)}`).join(', ') +
    `; truth ${v.cosmiv.truth}, predicted ${v.cosmiv.predicted}, hits ${v.cosmiv.tp}` +
    (v.auto_editor ? `; auto-editor kept ${v.auto_editor.segments} segments` : ''));
if (!result.auto_editor) console.log('  auto-editor: not available on this machine (apt-cache policy auto-editor)');

// Real footage: one or more labelled sets (--real-labels and --real-eval, comma-separated, in the same
// order), pooled over each set's videos. The random baseline draws, per video, as many 10 s windows as
// the detector returned on it, and pools the hits the same way.
const realLabels = (opt('real-labels') || '').split(',').filter(Boolean);
const realEvals = (opt('real-eval') || '').split(',').filter(Boolean);
const gameEvals = (opt('real-game-eval') || '').split(',').filter(Boolean);
result.real = [];
function pooledRandom(set, ev, draws = 200) {
  const rnd = mulberry32(12345);
  const acc = { precision: 0, recall: 0, f1: 0 };
  for (let d = 0; d < draws; d++) {
    let tp = 0, np = 0, nt = 0;
    for (const [i, l] of set.entries()) {
      const truth = l.highlights.map((h) => ({ start_s: h.start_s ?? h.start, end_s: h.end_s ?? h.end }));
      const k = ev.videos[i].predicted;
      const pred = Array.from({ length: k }, () => {
        const st = rnd() * Math.max(0, l.duration_s - 10);
        return { start_s: st, end_s: st + 10, score: rnd() };
      });
      const r = score(pred, truth);
      tp += r.tp; np += r.predicted; nt += r.truth;
    }
    const p = np ? tp / np : nt ? 0 : 1, r = nt ? tp / nt : 1;
    acc.precision += p / draws; acc.recall += r / draws; acc.f1 += (p + r > 0 ? (2 * p * r) / (p + r) : 0) / draws;
  }
  return { draws, ...acc };
}
for (const [i, evFile] of realEvals.entries()) {
  const ev = readJson(evFile);
  const set = readJson(realLabels[i]);
  const real = rows.find((r) => r[0] === `real${i}`);
  const nTruth = set.reduce((n, l) => n + l.highlights.length, 0);
  const seconds = set.reduce((n, l) => n + l.duration_s, 0);
  const rb = pooledRandom(set, ev);
  const gev = gameEvals[i] ? readJson(gameEvals[i]) : null;
  const grb = gev ? pooledRandom(set, gev) : null;
  result.real.push({ labels: realLabels[i], videos: set.map((l) => basename(l.video)), duration_s: seconds,
    model: ev.model, seconds: Number(real[1]), ffmpeg_full_decode_s: Number(real[2]), cosmiv: ev.overall,
    random_10s_windows: { windows: ev.overall.predicted, ...rb },
    game_model: gev ? { model: gev.model, seconds: Number(real[3]) || null, cosmiv: gev.overall, random_10s_windows: { windows: gev.overall.predicted, ...grb } } : null });
  console.log(`\nReal footage ${realLabels[i]}: ${set.length} video${set.length > 1 ? 's' : ''}, ${seconds} s, ` +
    `${nTruth} labelled highlights, model ${ev.model}; cosmiv ${fmt(Number(real[1]), 2)} s vs a full decode ` +
    `${fmt(Number(real[2]), 2)} s (all of its videos)` +
    (gev && real[3] ? `; --game OpenArena (reads the kill messages on screen) ${fmt(Number(real[3]), 2)} s, ` +
      `${fmt(Number(real[2]) / Number(real[3]), 2)}x faster than the full decode` : ''));
  console.log(`${'method'.padEnd(28)} ${'pred'.padStart(5)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'F1'.padStart(6)}`);
  console.log(`${'cosmiv highlights'.padEnd(28)} ${String(ev.overall.predicted).padStart(5)} ${fmt(ev.overall.precision).padStart(9)} ` +
    `${fmt(ev.overall.recall).padStart(7)} ${fmt(ev.overall.f1).padStart(6)}   (mAP ${fmt(ev.overall.map)})`);
  console.log(`${`random 10 s windows (x${rb.draws})`.padEnd(28)} ${String(ev.overall.predicted).padStart(5)} ` +
    `${fmt(rb.precision).padStart(9)} ${fmt(rb.recall).padStart(7)} ${fmt(rb.f1).padStart(6)}`);
  if (gev) {
    console.log(`${'cosmiv --game OpenArena'.padEnd(28)} ${String(gev.overall.predicted).padStart(5)} ` +
      `${fmt(gev.overall.precision).padStart(9)} ${fmt(gev.overall.recall).padStart(7)} ${fmt(gev.overall.f1).padStart(6)}   (mAP ${fmt(gev.overall.map)})`);
    console.log(`${'random, as many windows'.padEnd(28)} ${String(gev.overall.predicted).padStart(5)} ` +
      `${fmt(grb.precision).padStart(9)} ${fmt(grb.recall).padStart(7)} ${fmt(grb.f1).padStart(6)}`);
  }
  for (const v of ev.videos)
    console.log(`  ${v.video}: truth ${v.truth}, predicted ${v.predicted}, hits ${v.tp}`);
}
const out = opt('out');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.error(`bench/media: wrote ${out}`);
