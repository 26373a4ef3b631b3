// Live progress of processing and render jobs.
//
// The server pushes JOB_PROGRESS to the job's owner over the gateway
// (docs/gateway.md): {job_id, progress 0..100, message}; 100 with "completed"
// when the job is done, -1 with the error when an attempt failed. Pages show
// these at once and refetch the video or clip when a job ends; polling stays
// as a fallback: slow while the gateway is connected, brisker while it is not.

import { useEffect, useRef, useState } from 'preact/hooks';
import { gateway, type GatewayEvents } from '../gateway';

export type JobProgress = GatewayEvents['JOB_PROGRESS'];

/** Polling interval while live events arrive (a safety net only). */
export const POLL_LIVE_MS = 10_000;
/** Polling interval while the gateway is not connected. */
export const POLL_OFFLINE_MS = 2_000;

/** Whether a JOB_PROGRESS event says the job stopped (completed, or an attempt failed). */
export function jobEnded(d: JobProgress): boolean {
  return d.progress >= 100 || d.progress < 0;
}

// The socket receives the owner's job events whatever page is open, so a job
// can end between a page's fetch (still processing) and its subscription. The
// last event of each job is kept; a new subscriber gets it if it was an end.
const RECENT_MAX = 100;
const recent = new Map<string, JobProgress>();
gateway.on('JOB_PROGRESS', (d) => {
  if (!d || typeof d.progress !== 'number') return;
  const id = String(d.job_id);
  recent.delete(id);
  recent.set(id, d);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value as string);
});
gateway.onStatus((s) => {
  if (s === 'idle') recent.clear(); // signed out
});

/** The polling interval for what is still processing: slow while the gateway is connected. */
export function usePollInterval(): number {
  const [ready, setReady] = useState(gateway.status === 'ready');
  useEffect(() => {
    setReady(gateway.status === 'ready');
    return gateway.onStatus((s) => setReady(s === 'ready'));
  }, []);
  return ready ? POLL_LIVE_MS : POLL_OFFLINE_MS;
}

/**
 * Calls `onEvent` for every JOB_PROGRESS of one of `jobIds` (nulls are
 * ignored) while mounted, first with a job's end if it came before the
 * subscription. `onResync` runs when the gateway starts a new
 * session (first connect, or a reconnect that could not resume): events may
 * have been missed, so the caller refetches what it shows.
 */
export function useJobProgress(
  jobIds: ReadonlyArray<string | null | undefined>,
  onEvent: (d: JobProgress) => void,
  onResync?: () => void,
): void {
  const ev = useRef(onEvent);
  ev.current = onEvent;
  const rs = useRef(onResync);
  rs.current = onResync;
  const key = Array.from(new Set(jobIds.filter((id): id is string => !!id)))
    .sort()
    .join(',');
  useEffect(() => {
    if (!key) return;
    const ids = new Set(key.split(','));
    for (const id of ids) {
      const d = recent.get(id);
      if (d && jobEnded(d)) ev.current(d);
    }
    const offs = [
      gateway.on('JOB_PROGRESS', (d) => {
        if (d && typeof d.progress === 'number' && ids.has(String(d.job_id))) ev.current(d);
      }),
      gateway.on('READY', () => rs.current?.()),
    ];
    return () => offs.forEach((off) => off());
  }, [key]);
}
