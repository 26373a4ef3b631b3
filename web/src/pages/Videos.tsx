import { useEffect, useRef, useState } from 'preact/hooks';
import { getVideo, listVideos, type SessionState, type Video } from '../api';
import { Link } from '../router';
import { ErrorBox, Spinner, formatDate, useTitle } from '../components/ui';
import { Icon, ProgressBar, StatusBadge, formatTime, useInterval, useRequireSignIn } from '../components/media';
import { jobEnded, useJobProgress, usePollInterval } from '../components/jobprogress';

const PAGE = 24;

export function Thumb({ video }: { video: Video }) {
  const [broken, setBroken] = useState(false);
  return (
    <div class={`thumb thumb-${video.status}`}>
      {video.thumbnail_url && !broken ? (
        <img src={video.thumbnail_url} alt="" loading="lazy" decoding="async" onError={() => setBroken(true)} />
      ) : (
        <div class="thumb-placeholder" aria-hidden="true">
          {video.status === 'processing' ? <span class="spinner" /> : video.status === 'failed' ? <span class="thumb-x">!</span> : <Icon name="videos" />}
        </div>
      )}
      {video.status === 'ready' && video.duration_s !== null ? (
        <span class="thumb-duration">{formatTime(video.duration_s)}</span>
      ) : null}
      {video.status === 'processing' ? (
        <div class="thumb-progress">
          <ProgressBar value={video.progress} label={`Processing ${video.title}`} />
        </div>
      ) : null}
    </div>
  );
}

export function Videos({ session }: { session: SessionState }) {
  useTitle('My videos');
  const signedIn = useRequireSignIn(session, '/videos');
  const [items, setItems] = useState<Video[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    listVideos(PAGE)
      .then((p) => {
        if (!live) return;
        setItems(p.items);
        setCursor(p.next_cursor);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [signedIn]);

  const processing = (items ?? []).filter((v) => v.status === 'processing');
  // Only the latest answer about an item applies (a refetch on a finished job may overtake a poll).
  const asked = useRef({ seq: 0, latest: new Map<string, number>() });
  const refresh = async (list: Video[]) => {
    const n = ++asked.current.seq;
    for (const v of list) asked.current.latest.set(v.id, n);
    const fresh = await Promise.all(list.map((v) => getVideo(v.id).catch(() => v)));
    const byId = new Map(fresh.filter((v) => asked.current.latest.get(v.id) === n).map((v) => [v.id, v]));
    setItems((cur) => (cur ? cur.map((v) => byId.get(v.id) ?? v) : cur));
  };
  useInterval(() => void refresh(processing.slice(0, 12)), usePollInterval(), processing.length > 0);
  useJobProgress(
    processing.map((v) => v.job_id),
    (d) => {
      const jobId = String(d.job_id);
      if (d.progress >= 0) {
        const progress = Math.min(100, d.progress);
        setItems((cur) =>
          cur ? cur.map((v) => (v.job_id === jobId && v.status === 'processing' ? { ...v, progress } : v)) : cur,
        );
      }
      if (jobEnded(d)) void refresh(processing.filter((v) => v.job_id === jobId));
    },
    () => void refresh(processing.slice(0, 12)),
  );

  const more = async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    try {
      const p = await listVideos(PAGE, cursor);
      setItems((cur) => [...(cur ?? []), ...p.items.filter((v) => !(cur ?? []).some((c) => c.id === v.id))]);
      setCursor(p.next_cursor);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <section class="container page">
      <header class="page-head">
        <div>
          <h1>My videos</h1>
          <p class="muted">Your uploads and the highlights found in them.</p>
        </div>
        <Link href="/upload" class="btn btn-primary btn-sm">
          <Icon name="upload" /> Upload
        </Link>
      </header>
      <ErrorBox message={error} />
      {items === null ? (
        error ? null : <Spinner label="Loading your videos…" />
      ) : items.length === 0 ? (
        <div class="card empty-card empty-state">
          <div class="feature-icon empty-icon" aria-hidden="true">
            <Icon name="videos" />
          </div>
          <h2>No videos yet</h2>
          <p class="muted">Upload a match and we'll pull out the best moments for you.</p>
          <Link href="/upload" class="btn btn-primary">
            Upload your first video
          </Link>
        </div>
      ) : (
        <>
          <ul class="video-grid" aria-label="Videos">
            {items.map((v) => (
              <li key={v.id} class="video-card card" data-status={v.status}>
                <Link href={`/videos/${encodeURIComponent(v.id)}`} class="video-card-link">
                  <Thumb video={v} />
                  <div class="video-card-body">
                    <h2 class="video-card-title">{v.title}</h2>
                    <div class="video-card-meta">
                      <StatusBadge status={v.status} progress={v.progress} />
                      {v.game ? <span class="game-tag">{v.game}</span> : null}
                      <span class="muted video-card-date">{formatDate(v.created_at)}</span>
                    </div>
                  </div>
                </Link>
              </li>
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
