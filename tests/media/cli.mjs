// The binary under test and the two ways the media tests call out: `cosmiv`
// (exit code and both streams, without throwing) and the ffmpeg CLI that
// makes their inputs (which must succeed).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.COSMIV_BIN || join(ROOT, 'build/cosmiv');

/** Runs build/cosmiv (or COSMIV_BIN) with args: { code, stdout, stderr }. */
export function run(args, env = {}) {
  return new Promise((res) => {
    const p = spawn(BIN, args, { env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

/** ffmpeg -y with args, quiet; fails the test with ffmpeg's message if it fails. */
export function ffmpeg(args) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}
