// Test media made at run time with the ffmpeg CLI (never committed), and a
// one-request tus upload.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A short "gameplay" clip: moving test pattern, quiet tone, a loud burst + white flash at burstAt. */
export function makeGameplay(dir, name, { seconds = 12, size = '640x360', fps = 30, burstAt = 6, vcodec = 'libx264', acodec = 'aac', ext = 'mp4', audio = true, video = true } = {}) {
  const out = join(dir, `${name}.${ext}`);
  const args = ['-v', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${seconds},drawbox=c=white:t=fill:enable='between(t,${burstAt},${burstAt + 0.2})'`);
  // a steady tone as game ambience, and a broadband burst (gunfire-like) at burstAt
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-f', 'lavfi', '-i', `anoisesrc=color=white:sample_rate=48000:amplitude=1:seed=7:duration=${seconds}`,
    '-filter_complex', `[${video ? 1 : 0}:a]volume=0.3[s];[${video ? 2 : 1}:a]volume='if(between(t,${burstAt},${burstAt + 1.5}),1,0)':eval=frame[n];[s][n]amix=inputs=2:duration=first:normalize=0[a]`,
    '-map', video ? '0:v' : '[a]');
  if (audio && video) args.push('-map', '[a]');
  if (video) args.push('-c:v', vcodec, '-pix_fmt', 'yuv420p', '-g', String(fps * 2));
  if (vcodec === 'libx264') args.push('-preset', 'ultrafast');
  if (vcodec === 'libvpx-vp9') args.push('-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k');
  if (audio) args.push('-c:a', acodec, '-ac', '2', '-ar', '48000');
  if (ext === 'mp4') args.push('-movflags', '+faststart');
  args.push('-t', String(seconds), out);
  execFileSync('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

export function ffprobe(file) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height', '-show_entries', 'format=duration,format_name', '-of', 'json', file]).toString());
}

/** Uploads a file with one tus creation-with-upload request; returns the upload id. */
export async function tusUpload(srv, token, file, { type = 'video/mp4' } = {}) {
  const data = readFileSync(file);
  const r = await srv.fetch('/api/v2/uploads', {
    method: 'POST', body: data,
    headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}`, 'Upload-Length': String(data.length),
      'Upload-Metadata': `filename ${Buffer.from(file.split('/').pop()).toString('base64')},filetype ${Buffer.from(type).toString('base64')}`,
      'Content-Type': 'application/offset+octet-stream' },
  });
  if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${await r.text()}`);
  if (r.headers.get('upload-offset') !== String(data.length)) throw new Error('upload incomplete');
  return r.headers.get('location').split('/').pop();
}

/** Polls GET path until pred(body) or the timeout; returns the last body. */
export async function waitFor(srv, path, token, pred, timeoutMs = 120000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    const r = await srv.api('GET', path, undefined, { token });
    last = r.body;
    if (pred(last)) return last;
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`timed out waiting on ${path}: ${JSON.stringify(last)}`);
}

export function writeFile(dir, name, content) {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
