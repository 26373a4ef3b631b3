import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteClip, getClip, listClips, sentence, type Clip, type SessionState } from '../api';
import { Link, navigate } from '../router';
import { PostComposer } from '../components/PostComposer';
import { SIcon } from '../components/social';
import { ErrorBox, Spinner, formatDate, useTitle } from '../components/ui';
import {
  AspectBadge,
  ConfirmButton,
  Icon,
  ProgressBar,
  StatusBadge,
  formatTime,
  formatTimePrecise,
  useInterval,
  useRequireSignIn,
} from '../components/media';
import { jobEnded, useJobProgress, usePollInterval } from '../components/jobprogress';

const PAGE = 24;

function fileName(clip: Clip): string {
  const base = (clip.title || `cosmiv-clip-${clip.id}`)
    .replace(/[^\p{L}\p{N} _.-]+/gu, '')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 80);
  return `${base || `cosmiv-clip-${clip.id}`}.mp4`;
}

function ClipCard({ clip, onDelete }: { clip: Clip; onDelete: () => Promise<void> }) {
  const [posting, setPosting] = useState(false);
  const length = clip.duration_s ?? clip.end_s - clip.start_s;
  const shape = clip.aspect === '9:16' ? 'tall' : clip.aspect === '1:1' ? 'square' : 'wide';
  return (
    <li class="card clip-card" data-status={clip.status} data-clip={clip.id}>
      <div class={`clip-media clip-media-${shape}`}>
        {clip.status === 'ready' && clip.download_url ? (
          <video class="clip-video" src={clip.download_url} controls playsInline preload="metadata" />
        ) : clip.status === 'processing' ? (
          <div class="clip-placeholder">
            <span class="spinner" aria-hidden="true" />
            <span class="muted">Rendering… {Math.round(clip.progress)}%</span>
          </div>
        ) : (
          <div class="clip-placeholder clip-placeholder-failed">
            <span class="thumb-x" aria-hidden="true">
              !
            </span>
          </div>
        )}
      </div>
      <div class="clip-body">
        <h2 class="clip-title">{clip.title || 'Untitled clip'}</h2>
        <div class="clip-meta">
          <StatusBadge status={clip.status} progress={clip.progress} />
          <AspectBadge aspect={clip.aspect} />
          <span class="muted clip-length">{formatTimePrecise(length)}</span>
          {clip.aspect !== '16:9' && clip.fill ? <span class="muted">{clip.fill === 'blur' ? 'blurred bg' : 'cropped'}</span> : null}
          {clip.watermark ? (
            <span class="muted" title="Clips on the free plan carry a small Cosmiv watermark">
              watermarked
            </span>
          ) : null}
        </div>
        <p class="muted clip-source">
          From <Link href={`/videos/${encodeURIComponent(clip.video_id)}`}>the video</Link> at {formatTime(clip.start_s)}–
          {formatTime(clip.end_s)} · {formatDate(clip.created_at)}
        </p>
        {clip.status === 'processing' ? <ProgressBar value={clip.progress} label={`Rendering ${clip.title || 'clip'}`} /> : null}
        {clip.status === 'failed' ? (
          <div class="alert" role="alert">
            <span>{clip.error ? sentence(clip.error) : 'Rendering failed.'}</span>
          </div>
        ) : null}
        <div class="btn-row clip-actions">
          {clip.status === 'ready' && !posting ? (
            <button type="button" class="btn btn-primary btn-sm clip-post" onClick={() => setPosting(true)} aria-expanded={posting}>
              <SIcon name="share" /> Post
            </button>
          ) : null}
          {clip.status === 'ready' && clip.download_url ? (
            <a class="btn btn-ghost btn-sm clip-download" href={clip.download_url} download={fileName(clip)}>
              <Icon name="download" /> Download
            </a>
          ) : null}
          <ConfirmButton label="Delete" confirmLabel="Delete clip" question="Delete this clip?" onConfirm={onDelete} />
        </div>
        {posting ? (
          <PostComposer clip={clip} onCancel={() => setPosting(false)} onPosted={(post) => navigate(`/p/${encodeURIComponent(post.id)}`)} />
        ) : null}
      </div>
    </li>
  );
}

export function Clips({ session }: { session: SessionState }) {
  useTitle('My clips');
  const signedIn = useRequireSignIn(session, '/clips');
  const [items, setItems] = useState<Clip[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    listClips(PAGE)
      .then((p) => {
        if (!live) return;
        setItems(p.items);
        setCursor(p.next_cursor);
      })
      .catch((err: Error) => {
        if (!live) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 501)) setUnavailable(true);
        else setError(err.message);
      });
    return () => {
      live = false;
    };
  }, [signedIn]);

  const processing = (items ?? []).filter((c) => c.status === 'processing');
  // Only the latest answer about an item applies (a refetch on a finished job may overtake a poll).
  const asked = useRef({ seq: 0, latest: new Map<string, number>() });
  const refresh = async (list: Clip[]) => {
    const n = ++asked.current.seq;
    for (const c of list) asked.current.latest.set(c.id, n);
    const fresh = await Promise.all(list.map((c) => getClip(c.id).catch(() => c)));
    const byId = new Map(fresh.filter((c) => asked.current.latest.get(c.id) === n).map((c) => [c.id, c]));
    setItems((cur) => (cur ? cur.map((c) => byId.get(c.id) ?? c) : cur));
  };
  useInterval(() => void refresh(processing.slice(0, 12)), usePollInterval(), processing.length > 0);
  useJobProgress(
    processing.map((c) => c.job_id),
    (d) => {
      const jobId = String(d.job_id);
      if (d.progress >= 0) {
        const progress = Math.min(100, d.progress);
        setItems((cur) =>
          cur ? cur.map((c) => (c.job_id === jobId && c.status === 'processing' ? { ...c, progress } : c)) : cur,
        );
      }
      if (jobEnded(d)) void refresh(processing.filter((c) => c.job_id === jobId));
    },
    () => void refresh(processing.slice(0, 12)),
  );

  const more = async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    try {
      const p = await listClips(PAGE, cursor);
      setItems((cur) => [...(cur ?? []), ...p.items.filter((c) => !(cur ?? []).some((x) => x.id === c.id))]);
      setCursor(p.next_cursor);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoadingMore(false);
    }
  };

  const remove = async (clip: Clip) => {
    try {
      await deleteClip(clip.id);
      setItems((cur) => (cur ? cur.filter((c) => c.id !== clip.id) : cur));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section class="container page">
      <header class="page-head">
        <div>
          <h1>My clips</h1>
          <p class="muted">Exported clips, ready to download or post to your feed.</p>
        </div>
        <Link href="/videos" class="btn btn-ghost btn-sm">
          My videos
        </Link>
      </header>
      <ErrorBox message={error} />
      {unavailable ? (
        <div class="card empty-card empty-state">
          <h2>Clips are coming soon</h2>
          <p class="muted">Exporting clips isn't switched on yet.</p>
        </div>
      ) : items === null ? (
        error ? null : <Spinner label="Loading your clips…" />
      ) : items.length === 0 ? (
        <div class="card empty-card empty-state">
          <div class="feature-icon empty-icon" aria-hidden="true">
            <Icon name="clips" />
          </div>
          <h2>No clips yet</h2>
          <p class="muted">Open one of your videos and hit Export on a highlight.</p>
          <Link href="/videos" class="btn btn-primary">
            Go to my videos
          </Link>
        </div>
      ) : (
        <>
          <ul class="clip-grid" aria-label="Clips">
            {items.map((c) => (
              <ClipCard key={c.id} clip={c} onDelete={() => remove(c)} />
            ))}
          </ul>
          {cursor ? (
            <div class="load-more">
              <button type="button" class="btn btn-ghost" onClick={more} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more'}
              </button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
