// Resumable uploads (tus 1.0 via tus-js-client) as a small observable store.
//
// The upload lives in this module, not in the Upload page, so it keeps going
// while the player browses the rest of the app. tus-js-client remembers each
// upload's URL in localStorage under the file's fingerprint (name, type, size,
// mtime, endpoint); after a reload, picking the same file again offers to
// resume where the server left off.

import type * as Tus from 'tus-js-client';
import { ApiError, accessTokenFor, clientHeaders, createVideo, problemFromText, type Video } from './api';
import { formatBytes } from './components/media';

export const UPLOAD_ENDPOINT = '/api/v2/uploads';
const CHUNK_SIZE = 8 * 1024 * 1024;
const FORM_KEY = 'cosmiv-upload-form::'; // + upload URL -> {title, game}

export type UploadPhase =
  | 'idle' // nothing chosen
  | 'checking' // looking for a previous upload of the chosen file
  | 'ready' // file chosen, not started (maybe with a resume offer)
  | 'uploading'
  | 'paused'
  | 'finishing' // bytes are in, creating the video
  | 'error'
  | 'done';

export interface ResumeOffer {
  previous: Tus.PreviousUpload;
  offset: number | null; // bytes the server already has, when known
  size: number;
}

export interface UploadState {
  phase: UploadPhase;
  file: File | null;
  title: string;
  game: string;
  sent: number;
  total: number;
  bytesPerSec: number | null;
  etaSec: number | null;
  resume: ResumeOffer | null;
  uploadId: string | null;
  error: string | null;
  errorField: string | null; // 'title' | 'game' when the server blamed a field
  canRetry: boolean; // false when trying again cannot help (e.g. 413 over the size limit)
  video: Video | null;
}

const initial: UploadState = {
  phase: 'idle',
  file: null,
  title: '',
  game: '',
  sent: 0,
  total: 0,
  bytesPerSec: null,
  etaSec: null,
  resume: null,
  uploadId: null,
  error: null,
  errorField: null,
  canRetry: true,
  video: null,
};

// tus-js-client is loaded on first use, keeping it out of the main bundle.
let tusModule: Promise<typeof Tus> | null = null;
const loadTus = () => (tusModule ??= import('tus-js-client'));

let state: UploadState = initial;
const listeners = new Set<(s: UploadState) => void>();
let upload: Tus.Upload | null = null;
let samples: { t: number; bytes: number }[] = [];
let rejectedToken: string | null = null;
const BUSY_PATIENCE_MS = 60_000;
const TERMINATE_RETRY_DELAYS = [0, 1000, 2000, 3000, 5000, 5000, 5000, 10000];
let busySince: number | null = null;
let busyTimer: ReturnType<typeof setTimeout> | null = null;
let onVideoCreated: ((v: Video) => void) | null = null;

export function getUploadState(): UploadState {
  return state;
}

export function subscribeUpload(fn: (s: UploadState) => void): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

function set(patch: Partial<UploadState>): void {
  state = { ...state, ...patch };
  for (const fn of listeners) fn(state);
}

/** Called once the video exists (the Upload page uses it to open the video). */
export function setOnVideoCreated(fn: ((v: Video) => void) | null): void {
  onVideoCreated = fn;
}

export function titleFromFileName(name: string): string {
  const base = name.replace(/\.[^./\\]{1,8}$/, '').trim();
  return (base || name).slice(0, 200);
}

export function uploadIdFromUrl(url: string): string {
  const path = new URL(url, window.location.origin).pathname.replace(/\/+$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

function rememberForm(): void {
  if (!upload?.url) return;
  try {
    localStorage.setItem(FORM_KEY + upload.url, JSON.stringify({ title: state.title, game: state.game }));
  } catch {
    /* storage full or unavailable: the form just won't come back after a reload */
  }
}

function recallForm(url: string | null): { title?: string; game?: string } {
  if (!url) return {};
  try {
    const v: unknown = JSON.parse(localStorage.getItem(FORM_KEY + url) || 'null');
    if (v && typeof v === 'object') return v as { title?: string; game?: string };
  } catch {
    /* ignore */
  }
  return {};
}

function forgetForm(url: string | null): void {
  if (!url) return;
  try {
    localStorage.removeItem(FORM_KEY + url);
  } catch {
    /* ignore */
  }
}

function tusHeaders(): Record<string, string> {
  return { ...clientHeaders, 'Tus-Resumable': '1.0.0' };
}

/** How many bytes of an earlier upload the server has; null when unknown, -1 when it is gone. */
export async function remoteOffset(url: string): Promise<number | null> {
  try {
    let token = await accessTokenFor();
    let res = await fetch(url, { method: 'HEAD', headers: { ...tusHeaders(), Authorization: `Bearer ${token}` } });
    if (res.status === 401) {
      token = await accessTokenFor(token);
      res = await fetch(url, { method: 'HEAD', headers: { ...tusHeaders(), Authorization: `Bearer ${token}` } });
    }
    if (res.status === 404 || res.status === 410 || res.status === 403) return -1;
    if (!res.ok) return null;
    const off = Number(res.headers.get('Upload-Offset'));
    return Number.isFinite(off) && off >= 0 ? off : null;
  } catch {
    return null;
  }
}

/** Earlier unfinished uploads remembered by this browser (any file). */
export async function unfinishedUploads(): Promise<Tus.PreviousUpload[]> {
  const tus = await loadTus();
  if (!tus.canStoreURLs) return [];
  try {
    const all = await tus.defaultOptions.urlStorage.findAllUploads();
    return all
      .filter((u) => u.uploadUrl && u.uploadUrl.startsWith(UPLOAD_ENDPOINT))
      .sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
  } catch {
    return [];
  }
}

/** Forget an earlier upload here and delete what the server has of it. */
export async function discardPrevious(prev: Tus.PreviousUpload): Promise<void> {
  const tus = await loadTus();
  await tus.defaultOptions.urlStorage.removeUpload(prev.urlStorageKey).catch(() => undefined);
  forgetForm(prev.uploadUrl);
  if (prev.uploadUrl) {
    await tus.Upload.terminate(prev.uploadUrl, { ...uploadOptions(), retryDelays: TERMINATE_RETRY_DELAYS }).catch(() => undefined);
  }
}

function errorMessage(err: unknown): { message: string; field: string | null; retry: boolean } {
  if (err instanceof ApiError) {
    const retry = err.status === 0 || err.status === 429 || err.status >= 500 || !!err.field;
    return { message: err.message, field: err.field ?? null, retry };
  }
  const detailed = err as Tus.DetailedError;
  const res = detailed?.originalResponse;
  if (res) {
    const status = res.getStatus();
    const apiErr = problemFromText(status, res.getBody() || '', res.getHeader('Retry-After'));
    if (status === 413) {
      const max = Number(res.getHeader('Tus-Max-Size'));
      const hint = Number.isFinite(max) && max > 0 ? ` Your plan takes files up to ${formatBytes(max)}.` : '';
      return { message: apiErr.message + hint, field: null, retry: false };
    }
    if (status === 401) {
      return { message: 'Your session ended. Sign in again, then pick the file to resume.', field: null, retry: false };
    }
    const retry = !(status >= 400 && status < 500) || status === 409 || status === 423 || status === 429 || status === 460;
    return { message: apiErr.message, field: null, retry };
  }
  const cause = (err as Tus.DetailedError)?.causingError;
  if (cause instanceof ApiError) return { message: cause.message, field: null, retry: cause.status !== 401 };
  if (typeof navigator !== 'undefined' && navigator.onLine === false) {
    return { message: 'You are offline. Resume when you are back online; the upload continues where it stopped.', field: null, retry: true };
  }
  return { message: 'The upload was interrupted. Resume to continue from where it stopped.', field: null, retry: true };
}

function uploadOptions(file?: File): Tus.UploadOptions {
  return {
    endpoint: UPLOAD_ENDPOINT,
    metadata: file ? { filename: file.name, filetype: file.type || 'application/octet-stream' } : {},
    chunkSize: CHUNK_SIZE,
    retryDelays: [0, 1000, 3000, 5000],
    headers: { ...clientHeaders },
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    // Refresh the access token before every request: long uploads outlive it.
    onBeforeRequest: async (req) => {
      const token = await accessTokenFor(rejectedToken);
      rejectedToken = null;
      req.setHeader('Authorization', `Bearer ${token}`);
    },
    onShouldRetry: (err) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      if (status === 401) {
        const auth = err.originalRequest?.getHeader('Authorization') || '';
        rejectedToken = auth.replace(/^Bearer\s+/i, '') || null;
        return true;
      }
      const clientError = status >= 400 && status < 500 && status !== 409 && status !== 423;
      return !clientError && (typeof navigator === 'undefined' || navigator.onLine !== false);
    },
  };
}

function resetSpeed(bytes: number): void {
  samples = [{ t: performance.now(), bytes }];
}

function onProgress(sent: number, total: number): void {
  const now = performance.now();
  samples.push({ t: now, bytes: sent });
  // Speed over the last ~4 s.
  while (samples.length > 2 && now - samples[0].t > 4000) samples.shift();
  const first = samples[0];
  const dt = (now - first.t) / 1000;
  let bytesPerSec = state.bytesPerSec;
  if (dt >= 0.4) bytesPerSec = Math.max(0, (sent - first.bytes) / dt);
  const etaSec = bytesPerSec && bytesPerSec > 0 ? (total - sent) / bytesPerSec : null;
  if (state.phase === 'uploading') set({ sent, total, bytesPerSec, etaSec });
}

/** A file was chosen: look for an earlier upload of it to offer resuming. */
export async function chooseFile(file: File): Promise<void> {
  if (state.phase === 'uploading' || state.phase === 'finishing') return;
  upload = null;
  set({
    ...initial,
    phase: 'checking',
    file,
    title: titleFromFileName(file.name),
    total: file.size,
  });
  let tus: typeof Tus;
  try {
    tus = await loadTus();
  } catch {
    tusModule = null;
    if (state.file === file) set({ phase: 'error', error: 'Could not load the uploader. Check your connection and try again.', canRetry: false });
    return;
  }
  if (state.file !== file) return;
  const candidate = new tus.Upload(file, uploadOptions(file));
  let offer: ResumeOffer | null = null;
  try {
    const previous = (await candidate.findPreviousUploads())
      .filter((p) => p.uploadUrl)
      .sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
    for (const p of previous) {
      const offset = await remoteOffset(p.uploadUrl!);
      if (offset === -1) {
        // Expired or deleted on the server: forget it.
        await tus.defaultOptions.urlStorage.removeUpload(p.urlStorageKey).catch(() => undefined);
        forgetForm(p.uploadUrl);
        continue;
      }
      if (!offer) offer = { previous: p, offset, size: file.size };
    }
  } catch {
    offer = null;
  }
  if (state.file !== file) return; // another file was chosen meanwhile
  upload = candidate;
  const saved = offer ? recallForm(offer.previous.uploadUrl) : {};
  set({
    phase: 'ready',
    resume: offer,
    title: saved.title || state.title,
    game: saved.game ?? state.game,
  });
}

export function setTitle(title: string): void {
  set({ title, errorField: state.errorField === 'title' ? null : state.errorField });
  rememberForm();
}

export function setGame(game: string): void {
  set({ game, errorField: state.errorField === 'game' ? null : state.errorField });
  rememberForm();
}

function clearBusy(): void {
  busySince = null;
  if (busyTimer !== null) {
    clearTimeout(busyTimer);
    busyTimer = null;
  }
}

function run(u: Tus.Upload): void {
  clearBusy();
  u.options.onProgress = (sent, total) => {
    busySince = null;
    onProgress(sent, total);
  };
  u.options.onUploadUrlAvailable = () => rememberForm();
  u.options.onError = (err) => {
    if (upload !== u) return;
    // 409 upload_busy: the server is still holding a previous, interrupted
    // request for this upload (it lets go once it notices the disconnect).
    // Keep trying for a while instead of giving up.
    const res = (err as Tus.DetailedError)?.originalResponse;
    if (res && res.getStatus() === 409 && problemFromText(409, res.getBody() || '').code === 'upload_busy') {
      busySince ??= Date.now();
      if (Date.now() - busySince < BUSY_PATIENCE_MS) {
        busyTimer = setTimeout(() => {
          busyTimer = null;
          if (upload === u && state.phase === 'uploading') u.start();
        }, 2000);
        return;
      }
    }
    busySince = null;
    const { message, retry } = errorMessage(err);
    set({ phase: 'error', error: message, canRetry: retry, bytesPerSec: null, etaSec: null });
  };
  u.options.onSuccess = () => {
    if (upload !== u || !u.url) return;
    const id = uploadIdFromUrl(u.url);
    forgetForm(u.url);
    set({ phase: 'finishing', sent: state.total, uploadId: id, bytesPerSec: null, etaSec: 0 });
    void finish();
  };
  set({ phase: 'uploading', error: null, errorField: null, canRetry: true });
  resetSpeed(state.sent);
  u.start();
}

/** Start (or, with `resume`, continue the earlier upload of the same file). */
export function start(resume: boolean): void {
  if (!upload || !state.file) return;
  if (state.phase !== 'ready') return;
  const offer = state.resume;
  if (resume && offer) {
    upload.resumeFromPreviousUpload(offer.previous);
    const from = offer.offset ?? 0;
    set({ sent: from });
  } else if (offer) {
    // Starting over: drop the earlier partial upload.
    void discardPrevious(offer.previous);
    set({ resume: null, sent: 0 });
  }
  run(upload);
}

export function pause(): void {
  if (!upload || state.phase !== 'uploading') return;
  clearBusy();
  void upload.abort(false);
  set({ phase: 'paused', bytesPerSec: null, etaSec: null });
}

export function resume(): void {
  if (!upload || (state.phase !== 'paused' && state.phase !== 'error')) return;
  if (state.uploadId) {
    // The bytes are all there; only creating the video failed.
    set({ phase: 'finishing', error: null });
    void finish();
    return;
  }
  run(upload);
}

/** Stop and delete the upload (server side too), back to an empty form. */
export async function cancel(): Promise<void> {
  const u = upload;
  upload = null;
  const url = u?.url ?? null;
  clearBusy();
  set({ ...initial });
  if (u) {
    // The DELETE can race the aborted PATCH (409 upload_busy until the server
    // notices the disconnect): be patient for about half a minute.
    u.options.retryDelays = TERMINATE_RETRY_DELAYS;
    await u.abort(true).catch(() => undefined);
  }
  forgetForm(url);
}

/** Clear a finished/failed state so another file can be picked. */
export function reset(): void {
  if (state.phase === 'uploading' || state.phase === 'finishing') return;
  upload = null;
  set({ ...initial });
}

async function finish(): Promise<void> {
  const uploadId = state.uploadId;
  if (!uploadId) return;
  const title = state.title.trim() || titleFromFileName(state.file?.name ?? 'Untitled');
  const game = state.game.trim();
  try {
    const video = await createVideo(uploadId, title, game || null);
    upload = null;
    set({ phase: 'done', video, error: null, errorField: null });
    if (onVideoCreated) onVideoCreated(video);
  } catch (err) {
    const { message, field, retry } = errorMessage(err);
    set({
      phase: 'error',
      error: message,
      canRetry: retry,
      errorField: field === 'title' || field === 'game' ? field : null,
    });
  }
}
