// Kill messages read from the screen: a game model's "hud" region (detect.h,
// hud_frame in src/media/detect.c). A synthetic clip gets glyph-like marks
// (white with a dark outline, drawn with drawbox: no font needed) in the
// region at known times, one message replacing another and a look-alike
// outside the region; the real OpenArena sample in ../shared is scored
// against the labels its game's own kill log gave.
//
//   node --test tests/media/hud.test.mjs        (COSMIV_BIN overrides build/cosmiv)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, BIN, run, ffmpeg } from './cli.mjs';

const REAL = resolve(ROOT, '../shared/media/real-gameplay');
let dir, clip, model;

// One "message": a row of glyph-like marks centred at y (fraction of the frame), shown in [t0, t1).
function message(seed, y, t0, t1, W = 640, H = 360) {
  const boxes = [];
  let x = W / 2 - 110 + (seed % 3) * 9;
  for (let i = 0; i < 13; i++) {
    const w = 6 + ((seed * 7 + i * 5) % 7), h = 12 + ((seed + i) % 3) * 2;
    const y0 = Math.round(y * H) + ((seed + i) % 2) * 2;
    const on = `enable='between(t,${t0},${t1 - 0.04})'`;
    boxes.push(`drawbox=x=${x - 2}:y=${y0 - 2}:w=${w + 4}:h=${h + 4}:color=black:t=fill:${on}`);
    boxes.push(`drawbox=x=${x}:y=${y0}:w=${w}:h=${h}:color=white:t=fill:${on}`);
    x += w + 8 + ((seed + i) % 4);
  }
  return boxes;
}

before(() => {
  assert.ok(existsSync(BIN), `${BIN} not built (make build, or set COSMIV_BIN)`);
  dir = mkdtempSync(join(tmpdir(), 'cosmiv-hud-'));
  clip = join(dir, 'hud.mp4');
  // a dim moving scene; messages at 8 s, replaced at 11 s, again at 30 s; a look-alike low on screen at 20 s
  const vf = [
    'eq=brightness=-0.25',
    ...message(1, 0.24, 8, 11),
    ...message(2, 0.24, 11, 14),
    ...message(3, 0.24, 30, 33),
    ...message(4, 0.8, 20, 23),
  ].join(',');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=40',
    '-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.05:duration=40:sample_rate=48000',
    '-vf', vf, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '120', '-bf', '2', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest', clip]);
  const oa = JSON.parse(readFileSync(join(ROOT, 'src/media/model-openarena.json'), 'utf8'));
  assert.ok(oa.hud, 'the OpenArena model reads kill messages');
  model = join(dir, 'model.json');
  writeFileSync(model, JSON.stringify({ ...oa, version: 'hud-test-1', games: [] }));
});

after(() => {
  if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
});

test('a HUD model reads each message once, a replacement too, and nothing outside its region', async () => {
  const r = await run(['highlights', clip, '--model', model]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.model, 'hud-test-1');
  assert.ok(out.notes.includes('3 kill messages read from the screen'), JSON.stringify(out.notes));
  // the two messages 3 s apart make the best highlight, and it says why
  const best = out.highlights[0];
  assert.ok(best, 'a highlight');
  assert.ok(best.start_s <= 8 && best.end_s >= 11, `best window ${best.start_s}-${best.end_s}`);
  assert.ok(best.reasons.includes('2 kill messages on screen within 6 s'), best.reasons.join('; '));
  // the lone message at 30 s is weaker than the pair
  for (const h of out.highlights.slice(1)) assert.ok(h.score <= best.score);
  // reading the HUD decodes the reference frames, not only keyframes: more frames than the default does
  const d = await run(['highlights', clip]);
  assert.equal(d.code, 0, d.stderr);
  const def = JSON.parse(d.stdout);
  assert.ok(!def.notes.some((n) => /kill message/.test(n)), 'the default model has no HUD region');
  assert.ok(out.frames.decoded > def.frames.decoded, `${out.frames.decoded} vs ${def.frames.decoded}`);
});

test('a bad hud region in a model is refused with the reason', async () => {
  const oa = JSON.parse(readFileSync(model, 'utf8'));
  for (const [hud, why] of [
    [{ ...oa.hud, region: [0.8, 0.2, 0.2, 0.3] }, /x0 < x1 and y0 < y1/],
    [{ ...oa.hud, region: [0.2, 0.2, 1.5, 0.3] }, /fractions of the frame/],
    [{ ...oa.hud, region: [0.2, 0.2] }, /"region": \[x0, y0, x1, y1\]/],
    [{ ...oa.hud, min_text: 0 }, /"min_text"/],
    [{ ...oa.hud, what: '' }, /hud "what"/],
  ]) {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...oa, hud }));
    const r = await run(['highlights', clip, '--model', bad]);
    assert.equal(r.code, 1, JSON.stringify(hud));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, why);
  }
});

test('real OpenArena footage: --game OpenArena finds the labelled frag clusters, the default model does not',
  { skip: !existsSync(join(REAL, 'labels.json')) && `no ${REAL}` }, async () => {
    const labels = join(REAL, 'labels.json');
    const g = await run(['eval', labels, '--json', '--game', 'OpenArena']);
    assert.equal(g.code, 0, g.stderr);
    const game = JSON.parse(g.stdout).overall;
    const d = await run(['eval', labels, '--json']);
    assert.equal(d.code, 0, d.stderr);
    const def = JSON.parse(d.stdout).overall;
    assert.ok(game.f1 >= 0.66, `OpenArena model F1 ${game.f1} (P ${game.precision}, R ${game.recall})`);
    assert.ok(game.f1 > def.f1, `OpenArena model ${game.f1} vs default ${def.f1}`);
    const h = await run(['highlights', join(REAL, 'gp01_aggressor.mp4'), '--game', 'OpenArena']);
    assert.equal(h.code, 0, h.stderr);
    const out = JSON.parse(h.stdout);
    assert.ok(out.highlights.some((x) => x.reasons.some((why) => /kill messages? on screen/.test(why))));
  });

test('a 10-bit video is analysed without the HUD, and the result says so', async () => {
  const ten = join(dir, 'ten.mp4');
  ffmpeg(['-i', clip, '-t', '12', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le', '-c:a', 'copy', ten]);
  const r = await run(['highlights', ten, '--model', model]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.notes.includes("kill messages are not read: the video's pixel format (yuv420p10le) is not 8-bit YUV"),
    JSON.stringify(out.notes));
  assert.ok(!out.notes.some((n) => /read from the screen/.test(n)));
});
