// Scaled-out workers: `cosmiv serve` with no workers of its own plus separate
// `cosmiv worker` processes on the same database and storage; a worker killed
// mid-job loses its lease and another one finishes the job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, BIN } from '../../lib/harness.mjs';
import { makeGameplay, tusUpload, waitFor } from '../../lib/media.mjs';

function startWorker(srv) {
  const p = spawn(BIN, ['worker', '--data-dir', srv.dataDir], { env: { ...srv.env, COSMIV_WORKERS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => p.on('exit', (code, signal) => r({ code, signal })));
  return { p, exited, log: () => log };
}

test('cosmiv worker processes jobs for a serve node without workers; a killed worker\'s job is run again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosmiv-wk-'));
  const srv = await startServer({ env: { COSMIV_WORKERS: '0', COSMIV_JOB_LEASE_S: '2' } });
  try {
    const u = await srv.register();
    // 1. nothing happens without a worker
    const quick = makeGameplay(dir, 'quick', { seconds: 4 });
    const up1 = await tusUpload(srv, u.access_token, quick);
    const v1 = (await srv.api('POST', '/api/v2/videos', { upload_id: up1, title: 'quick' }, { token: u.access_token })).body;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await srv.api('GET', `/api/v2/videos/${v1.id}`, undefined, { token: u.access_token })).body.status, 'processing');
    // 2. a worker process picks it up
    const w1 = startWorker(srv);
    const r1 = await waitFor(srv, `/api/v2/videos/${v1.id}`, u.access_token, (v) => v.status !== 'processing');
    assert.equal(r1.status, 'ready', r1.error);
    // 3. a long job; kill -9 the worker while it runs
    const slow = makeGameplay(dir, 'slow', { seconds: 20, size: '1280x720', vcodec: 'libvpx-vp9', acodec: 'libopus', ext: 'webm' });
    const up2 = await tusUpload(srv, u.access_token, slow);
    const v2 = (await srv.api('POST', '/api/v2/videos', { upload_id: up2, title: 'slow' }, { token: u.access_token })).body;
    await waitFor(srv, `/api/v2/jobs/${v2.job_id}`, u.access_token, (j) => j.state === 'running' && j.progress > 2, 60000);
    w1.p.kill('SIGKILL');
    await w1.exited;
    const w2 = startWorker(srv);
    const r2 = await waitFor(srv, `/api/v2/videos/${v2.id}`, u.access_token, (v) => v.status !== 'processing', 240000);
    assert.equal(r2.status, 'ready', r2.error);
    const j = (await srv.waitJob(v2.job_id, u.access_token)).body;
    assert.equal(j.state, 'completed');
    assert.equal(j.attempts, 2);
    w2.p.kill('SIGTERM');
    const ex = await w2.exited;
    assert.equal(ex.code, 0, w2.log());
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await srv.stop();
  }
});
