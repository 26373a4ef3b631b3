import { useEffect, useRef, useState } from 'preact/hooks';
import type { PreviousUpload } from 'tus-js-client';
import { getHighlightModels, type HighlightModels, type SessionState } from '../api';
import { Link, navigate } from '../router';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import { Icon, ProgressBar, formatBytes, formatTime, useRequireSignIn } from '../components/media';
import {
  cancel,
  chooseFile,
  discardPrevious,
  getUploadState,
  pause,
  remoteOffset,
  reset,
  resume,
  setGame,
  setOnVideoCreated,
  setTitle,
  start,
  subscribeUpload,
  unfinishedUploads,
  type UploadState,
} from '../uploads';

export function useUpload(): UploadState {
  const [s, setS] = useState<UploadState>(getUploadState);
  useEffect(() => {
    setS(getUploadState());
    return subscribeUpload(setS);
  }, []);
  return s;
}

/** What the detector will do for this game: its own model (and what it reads on screen) or the default. */
function modelHint(models: HighlightModels | null, game: string): string | null {
  const g = game.trim().toLowerCase();
  if (!models || !g) return null;
  const m = models.items.find((x) => x.games.some((name) => name.toLowerCase() === g));
  if (!m) return 'No model for this game yet: highlights come from its sound and motion.';
  const name = m.games.find((x) => x.toLowerCase() === g) ?? m.games[0];
  return m.reads_screen
    ? `Highlights use the ${name} model, which also reads the ${m.reads_screen}s on screen.`
    : `Highlights use the ${name} model.`;
}

const pct = (n: number, total: number) => (total > 0 ? Math.min(100, (n / total) * 100) : 0);

function looksLikeVideo(file: File): boolean {
  if (file.type) return file.type.startsWith('video/');
  return /\.(mp4|m4v|mov|mkv|webm|avi|flv|ts|mts|m2ts|wmv|3gp)$/i.test(file.name);
}

interface Unfinished {
  prev: PreviousUpload;
  percent: number | null;
}

/** Uploads this browser started earlier and never finished (e.g. before a reload). */
function UnfinishedList() {
  const [items, setItems] = useState<Unfinished[] | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const found: Unfinished[] = [];
      for (const prev of await unfinishedUploads()) {
        const off = prev.uploadUrl ? await remoteOffset(prev.uploadUrl) : null;
        if (off === -1) {
          await discardPrevious(prev);
          continue;
        }
        found.push({ prev, percent: off !== null && prev.size ? pct(off, prev.size) : null });
      }
      if (live) setItems(found);
    })();
    return () => {
      live = false;
    };
  }, []);
  if (!items || items.length === 0) return null;
  const discard = async (u: Unfinished) => {
    setItems(items.filter((x) => x !== u));
    await discardPrevious(u.prev);
  };
  return (
    <div class="card unfinished" aria-labelledby="unfinished-title">
      <h2 id="unfinished-title">Unfinished uploads</h2>
      <p class="muted">Pick the same file again to continue where it stopped.</p>
      <ul class="unfinished-list">
        {items.map((u) => (
          <li key={u.prev.urlStorageKey}>
            <span class="unfinished-name">{u.prev.metadata?.filename || 'Unnamed file'}</span>
            <span class="muted">
              {u.prev.size ? formatBytes(u.prev.size) : ''}
              {u.percent !== null ? ` · ${Math.floor(u.percent)}% uploaded` : ''}
            </span>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => discard(u)}>
              Discard
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function DropZone({ disabled, onFile }: { disabled: boolean; onFile: (f: File) => void }) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const take = (files: FileList | null | undefined) => {
    const f = files && files[0];
    if (f) onFile(f);
  };
  return (
    <div
      class={`dropzone${over ? ' dropzone-over' : ''}${disabled ? ' dropzone-disabled' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (!disabled) take(e.dataTransfer?.files);
      }}
    >
      <div class="dropzone-icon" aria-hidden="true">
        <Icon name="upload" />
      </div>
      <p class="dropzone-title">
        <span class="hide-phone">Drop your gameplay here, or </span>
        <label for="file" class="dropzone-pick">
          <span class="hide-phone">choose a file</span>
          <span class="show-phone">Choose a video</span>
        </label>
      </p>
      <p class="muted dropzone-hint">MP4, MOV, MKV or WebM. Whole sessions are fine; uploads resume if you get cut off.</p>
      <input
        ref={input}
        id="file"
        name="file"
        type="file"
        accept="video/*"
        class="sr-only"
        disabled={disabled}
        onChange={(e) => {
          take((e.currentTarget as HTMLInputElement).files);
          // Allow choosing the same file again later.
          (e.currentTarget as HTMLInputElement).value = '';
        }}
      />
    </div>
  );
}

function Stats({ s }: { s: UploadState }) {
  const parts = [`${formatBytes(s.sent)} of ${formatBytes(s.total)}`];
  if (s.phase === 'uploading') {
    parts.push(s.bytesPerSec !== null ? `${(s.bytesPerSec / 1e6).toFixed(1)} MB/s` : 'measuring speed…');
    if (s.etaSec !== null && Number.isFinite(s.etaSec)) parts.push(`${formatTime(Math.ceil(s.etaSec))} left`);
  } else if (s.phase === 'paused') {
    parts.push('paused');
  } else if (s.phase === 'finishing') {
    parts.push('saving your video…');
  }
  return (
    <p class="upload-stats" id="upload-stats" aria-live="off">
      {parts.join(' · ')}
    </p>
  );
}

export function Upload({ session }: { session: SessionState }) {
  useTitle('Upload');
  const signedIn = useRequireSignIn(session, '/upload');
  const s = useUpload();
  const [localError, setLocalError] = useState<string | null>(null);

  // Open the video page as soon as the video exists (only while this page is shown).
  useEffect(() => {
    setOnVideoCreated((v) => navigate(`/videos/${encodeURIComponent(v.id)}`));
    return () => setOnVideoCreated(null);
  }, []);
  useEffect(() => {
    // Came back after it finished elsewhere in the app: start fresh.
    if (s.phase === 'done') reset();
  }, []);
  const [models, setModels] = useState<HighlightModels | null>(null);
  useEffect(() => {
    // which games have their own detector; without it the form just says nothing about the model
    getHighlightModels().then(setModels, () => setModels(null));
  }, []);

  if (!signedIn) {
    return (
      <section class="container narrow">
        <Spinner />
      </section>
    );
  }

  const busy = s.phase === 'uploading' || s.phase === 'finishing' || s.phase === 'paused';
  const started = busy || (s.phase === 'error' && (s.sent > 0 || !!s.uploadId));
  const onFile = (f: File) => {
    setLocalError(null);
    if (!looksLikeVideo(f)) {
      setLocalError(`"${f.name}" doesn't look like a video file. Choose an MP4, MOV, MKV or WebM.`);
      return;
    }
    void chooseFile(f);
  };
  const onSubmit = (e: Event) => {
    e.preventDefault();
    if (!s.title.trim()) {
      setLocalError('Give your video a title.');
      document.getElementById('upload-title')?.focus();
      return;
    }
    setLocalError(null);
    if (s.phase === 'ready') start(false);
    else if (s.phase === 'error' && s.uploadId) resume();
  };
  const resumePct = s.resume && s.resume.offset !== null ? Math.floor(pct(s.resume.offset, s.resume.size)) : null;
  const titleErr = s.errorField === 'title' ? s.error : !s.title.trim() && localError ? localError : null;
  const gameErr = s.errorField === 'game' ? s.error : null;
  const hint = gameErr ? null : modelHint(models, s.game);

  return (
    <section class="container page upload-page">
      <header class="page-head">
        <div>
          <h1>Upload gameplay</h1>
          <p class="muted">We find the highlights for you, and tell you why each one made the cut.</p>
        </div>
        <Link href="/videos" class="btn btn-ghost btn-sm">
          My videos
        </Link>
      </header>

      {s.phase === 'idle' ? <UnfinishedList /> : null}

      <form class="card upload-card" noValidate onSubmit={onSubmit} aria-busy={s.phase === 'checking'}>
        {!started ? <DropZone disabled={busy} onFile={onFile} /> : null}

        {s.file ? (
          <div class="file-row">
            <span class="file-icon" aria-hidden="true">
              <Icon name="videos" />
            </span>
            <div class="file-info">
              <span class="file-name" id="upload-file-name">
                {s.file.name}
              </span>
              <span class="muted">{formatBytes(s.file.size)}</span>
            </div>
            {s.phase === 'ready' || s.phase === 'checking' || (s.phase === 'error' && !started) ? (
              <button type="button" class="btn btn-ghost btn-sm" onClick={() => reset()}>
                Remove
              </button>
            ) : null}
          </div>
        ) : null}

        <ErrorBox message={s.phase === 'error' && !s.errorField ? s.error : localError && !titleErr ? localError : null} />

        {s.phase === 'checking' ? <p class="muted">Checking for an earlier upload of this file…</p> : null}

        {s.phase === 'ready' && s.resume ? (
          <div class="resume-offer" role="group" aria-labelledby="resume-title">
            <p id="resume-title">
              You started uploading this file before
              {resumePct !== null ? (
                <>
                  : <strong>{resumePct}%</strong> is already on Cosmiv.
                </>
              ) : (
                '.'
              )}
            </p>
            <div class="btn-row">
              <button type="button" class="btn btn-primary" id="resume-previous" onClick={() => start(true)}>
                Resume {s.file?.name}
                {resumePct !== null ? ` (${resumePct}%)` : ''}
              </button>
              <button type="button" class="btn btn-ghost" onClick={() => start(false)}>
                Start over
              </button>
            </div>
          </div>
        ) : null}

        {s.file && s.phase !== 'checking' ? (
          <div class="form-grid">
            <div class={titleErr ? 'field field-invalid' : 'field'}>
              <label for="upload-title">Title</label>
              <input
                id="upload-title"
                name="title"
                value={s.title}
                maxLength={200}
                onInput={(e) => {
                  setTitle((e.currentTarget as HTMLInputElement).value);
                  setLocalError(null);
                }}
                aria-invalid={titleErr ? 'true' : undefined}
                aria-describedby={titleErr ? 'upload-title-error' : undefined}
                required
              />
              {titleErr ? (
                <p class="field-error" id="upload-title-error">
                  {titleErr}
                </p>
              ) : null}
            </div>
            <div class={gameErr ? 'field field-invalid' : 'field'}>
              <label for="upload-game">
                Game <span class="muted optional">(optional)</span>
              </label>
              <input
                id="upload-game"
                name="game"
                value={s.game}
                maxLength={80}
                placeholder="e.g. Valorant"
                list="upload-game-models"
                onInput={(e) => setGame((e.currentTarget as HTMLInputElement).value)}
                aria-invalid={gameErr ? 'true' : undefined}
                aria-describedby={gameErr ? 'upload-game-error' : hint ? 'upload-game-hint' : undefined}
              />
              <datalist id="upload-game-models">
                {(models?.items ?? []).flatMap((m) => m.games).map((g) => (
                  <option key={g} value={g} />
                ))}
              </datalist>
              {hint ? (
                <p class="field-hint" id="upload-game-hint">
                  {hint}
                </p>
              ) : null}
              {gameErr ? (
                <p class="field-error" id="upload-game-error">
                  {gameErr}
                </p>
              ) : null}
            </div>
          </div>
        ) : null}

        {started ? (
          <div class="upload-progress" id="upload-progress">
            <div class="upload-progress-head">
              <strong>
                {s.phase === 'finishing'
                  ? 'Upload complete'
                  : s.phase === 'paused'
                    ? 'Paused'
                    : s.phase === 'error'
                      ? 'Stopped'
                      : 'Uploading…'}
              </strong>
              <span class="upload-pct" id="upload-percent">
                {Math.floor(pct(s.sent, s.total))}%
              </span>
            </div>
            <ProgressBar value={pct(s.sent, s.total)} label="Upload progress" id="upload-bar" />
            <Stats s={s} />
          </div>
        ) : null}

        <div class="btn-row upload-actions">
          {s.phase === 'ready' && !s.resume ? (
            <button type="submit" class="btn btn-primary" id="start-upload">
              <Icon name="upload" /> Upload
            </button>
          ) : null}
          {s.phase === 'uploading' ? (
            <button type="button" class="btn btn-ghost" id="pause-upload" onClick={() => pause()}>
              Pause
            </button>
          ) : null}
          {s.phase === 'paused' || (s.phase === 'error' && s.canRetry && started) ? (
            <button type="button" class="btn btn-primary" id="resume-upload" onClick={() => resume()}>
              {s.uploadId ? 'Save video' : 'Resume'}
            </button>
          ) : null}
          {s.phase === 'uploading' || s.phase === 'paused' || (s.phase === 'error' && started && !s.uploadId) ? (
            <button type="button" class="btn btn-ghost btn-danger" id="cancel-upload" onClick={() => void cancel()}>
              Cancel
            </button>
          ) : null}
          {s.phase === 'error' && (!s.canRetry || !started) ? (
            <button type="button" class="btn btn-ghost" onClick={() => reset()}>
              Choose another file
            </button>
          ) : null}
          {s.phase === 'finishing' ? <span class="muted">Creating your video…</span> : null}
        </div>
      </form>
    </section>
  );
}
