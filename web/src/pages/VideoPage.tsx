import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  deleteVideo,
  sentence,
  getHighlightModels,
  getHighlights,
  getJob,
  getVideo,
  sendHighlightFeedback,
  type Highlight,
  type HighlightModels,
  type Job,
  type SessionState,
  type Video,
} from '../api';
import { Link, navigate } from '../router';
import { ErrorBox, Spinner, formatDate, useTitle } from '../components/ui';
import {
  ConfirmButton,
  Icon,
  ProgressBar,
  StatusBadge,
  formatBytes,
  formatTime,
  useInterval,
  useRequireSignIn,
} from '../components/media';
import { Timeline, pctLabel, scoreColor } from '../components/Timeline';
import { jobEnded, useJobProgress, usePollInterval } from '../components/jobprogress';
import { ExportPanel, type ExportPreset } from '../components/ExportPanel';

/** Which detector found the highlights, in words: a game's model and what it reads, or the default. */
function modelLine(version: string, models: HighlightModels | null): string {
  const m = models?.items.find((x) => x.model === version);
  if (m)
    return m.reads_screen
      ? `Found by the ${m.games[0]} model: sound, motion and the ${m.reads_screen}s on screen.`
      : `Found by the ${m.games[0]} model: sound and motion.`;
  if (models && models.default.model === version) return 'Found by the general model: sound and motion.';
  return `Found by model ${version}.`;
}

type Verdict = 'kept' | 'dismissed';

/** The latest JOB_PROGRESS pushed by the gateway; `at` orders it against polled data. */
interface LiveProgress {
  progress: number;
  message: string | null;
  at: number;
}

function stageText(video: Video, job: Job | null, live: LiveProgress | null): string {
  if (!live && job?.state === 'retryable') {
    return `Hit a snag, trying again (attempt ${job.attempts + 1} of ${job.max_attempts})`;
  }
  const msg = (live ? live.message : job?.message)?.trim();
  if (msg) return msg[0].toUpperCase() + msg.slice(1);
  if (job?.state === 'available') return 'Waiting in the queue';
  return video.progress > 0 ? 'Processing' : 'Getting started';
}

function ProcessingPanel({ video, job, live }: { video: Video; job: Job | null; live: LiveProgress | null }) {
  const progress = live ? live.progress : Math.max(video.progress, job?.progress ?? 0);
  return (
    <div class="card processing-panel" id="processing-panel">
      <div class="processing-visual" aria-hidden="true">
        <div class="hv-scanlines" />
        <span class="spinner" />
      </div>
      <div class="processing-body">
        <h2>Finding your highlights…</h2>
        <p class="processing-stage" id="processing-stage" aria-live="polite">
          {stageText(video, job, live)}
        </p>
        <ProgressBar value={progress} label="Processing progress" id="processing-bar" />
        <p class="muted processing-meta">
          <span id="processing-percent">{Math.round(progress)}%</span> · {formatBytes(video.size_bytes)} · You can leave this page;
          we keep working.
        </p>
      </div>
    </div>
  );
}

function FailedPanel({ video, onDelete }: { video: Video; onDelete: () => Promise<void> }) {
  return (
    <div class="card failed-panel" id="failed-panel">
      <h2>We couldn't process this video</h2>
      <div class="alert" role="alert" id="video-error">
        <span>{video.error ? sentence(video.error) : 'Processing failed for an unknown reason.'}</span>
      </div>
      <p class="muted">Check that the file plays on your computer, then upload it again.</p>
      <div class="btn-row">
        <ConfirmButton label="Delete" confirmLabel="Delete video" question="Delete this video?" onConfirm={onDelete} id="delete-video" small={false} />
        <Link href="/upload" class="btn btn-primary">
          Upload again
        </Link>
      </div>
    </div>
  );
}

function HighlightItem({
  h,
  active,
  verdict,
  onPlay,
  onVerdict,
  onExport,
}: {
  h: Highlight;
  active: boolean;
  verdict: Verdict | undefined;
  onPlay: () => void;
  onVerdict: (kept: boolean) => void;
  onExport: () => void;
}) {
  return (
    <li class={`highlight${active ? ' highlight-active' : ''}${verdict === 'dismissed' ? ' highlight-dismissed' : ''}`} data-highlight={h.id}>
      <div class="highlight-top">
        <span class="highlight-rank" aria-label={`Rank ${h.rank}`}>
          #{h.rank}
        </span>
        <button type="button" class="highlight-time" onClick={onPlay} aria-label={`Play ${formatTime(h.start_s)} to ${formatTime(h.end_s)}`}>
          <Icon name="play" />
          {formatTime(h.start_s)}–{formatTime(h.end_s)}
        </button>
        <span class="highlight-score" title="How sure we are this is a highlight">
          <span class="score-meter" aria-hidden="true">
            <span style={{ width: pctLabel(h.score), background: scoreColor(h.score) }} />
          </span>
          <span class="score-value">{pctLabel(h.score)}</span>
        </span>
      </div>
      {h.reasons.length ? (
        <ul class="chips" aria-label="Why it was picked">
          {h.reasons.map((r, i) => (
            <li class="chip reason-chip" key={i}>
              {r}
            </li>
          ))}
        </ul>
      ) : null}
      <div class="highlight-actions">
        <button
          type="button"
          class={`btn btn-ghost btn-sm feedback${verdict === 'kept' ? ' feedback-on' : ''}`}
          aria-pressed={verdict === 'kept'}
          onClick={() => onVerdict(true)}
        >
          <Icon name="thumbs-up" /> {verdict === 'kept' ? 'Kept' : 'Keep'}
        </button>
        <button
          type="button"
          class={`btn btn-ghost btn-sm feedback${verdict === 'dismissed' ? ' feedback-on' : ''}`}
          aria-pressed={verdict === 'dismissed'}
          onClick={() => onVerdict(false)}
        >
          <Icon name="thumbs-down" /> {verdict === 'dismissed' ? 'Dismissed' : 'Dismiss'}
        </button>
        <button type="button" class="btn btn-primary btn-sm highlight-export" onClick={onExport}>
          <Icon name="scissors" /> Export
        </button>
      </div>
    </li>
  );
}

export function VideoPage({ id, session }: { id: string; session: SessionState }) {
  const signedIn = useRequireSignIn(session, `/videos/${encodeURIComponent(id)}`);
  const [video, setVideo] = useState<Video | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [live, setLive] = useState<LiveProgress | null>(null);
  const loads = useRef(0);
  const [loadError, setLoadError] = useState<{ message: string; notFound: boolean } | null>(null);
  const [highlights, setHighlights] = useState<Highlight[] | null>(null);
  const [models, setModels] = useState<HighlightModels | null>(null);
  const [hlError, setHlError] = useState<string | null>(null);
  const [verdicts, setVerdicts] = useState<Record<string, Verdict>>({});
  const [feedbackError, setFeedbackError] = useState<string | null>(null);
  const [currentTime, setCurrentTime] = useState(0);
  const [mediaDuration, setMediaDuration] = useState<number | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [preset, setPreset] = useState<ExportPreset | null>(null);
  const [range, setRange] = useState<{ start: number; end: number } | null>(null);
  const [playerError, setPlayerError] = useState<string | null>(null);
  const player = useRef<HTMLVideoElement>(null);
  const stopAt = useRef<number | null>(null);
  useTitle(video?.title ?? 'Video');

  // Only the latest load applies (a refetch on a finished job may overtake a poll).
  const load = async () => {
    const n = ++loads.current;
    const at = Date.now();
    try {
      const v = await getVideo(id);
      if (n !== loads.current) return;
      setVideo(v);
      setLoadError(null);
      if (v.status === 'processing' && v.job_id) {
        getJob(v.job_id)
          .then((j) => {
            if (n !== loads.current) return;
            setJob(j);
            // Polled data asked for after the last pushed event is the fresher one.
            setLive((l) => (l && l.at > at ? l : null));
          })
          .catch(() => undefined);
      } else {
        setLive(null);
      }
    } catch (err) {
      if (n !== loads.current) return;
      const notFound = err instanceof ApiError && err.status === 404;
      setLoadError({ message: notFound ? 'This video does not exist, or it is not yours.' : (err as Error).message, notFound });
    }
  };

  useEffect(() => {
    setLive(null);
    if (signedIn) void load();
  }, [signedIn, id]);

  const processing = !!video && video.status === 'processing';
  useInterval(() => void load(), usePollInterval(), processing);
  useJobProgress(
    [processing ? video.job_id : null],
    (d) => {
      if (d.progress >= 0) setLive({ progress: Math.min(100, d.progress), message: d.message, at: Date.now() });
      // Finished or failed: fetch the outcome (status, URLs, error) now.
      if (jobEnded(d)) void load();
    },
    () => void load(),
  );

  useEffect(() => {
    if (video?.status !== 'ready' || highlights !== null) return;
    let live = true;
    getHighlights(video.id)
      .then((h) => live && setHighlights([...h.items].sort((a, b) => a.rank - b.rank)))
      .catch((err: Error) => live && setHlError(err.message));
    return () => {
      live = false;
    };
  }, [video?.status, video?.id]);

  useEffect(() => {
    if (!highlights?.length || models) return;
    getHighlightModels().then(setModels, () => undefined);
  }, [highlights]);

  const duration = mediaDuration ?? video?.duration_s ?? 0;

  const seek = (t: number, h?: Highlight, end?: number) => {
    const el = player.current;
    if (!el) return;
    el.currentTime = Math.max(0, Math.min(t, duration || t));
    setCurrentTime(el.currentTime);
    setActiveId(h ? h.id : null);
    stopAt.current = end ?? null;
    if (h || end !== undefined) {
      el.play().catch(() => undefined);
    }
  };

  const feedback = async (h: Highlight, kept: boolean) => {
    const prev = verdicts[h.id];
    const next: Verdict = kept ? 'kept' : 'dismissed';
    setVerdicts({ ...verdicts, [h.id]: next });
    setFeedbackError(null);
    try {
      await sendHighlightFeedback(h.id, kept);
    } catch (err) {
      setVerdicts((v) => {
        const copy = { ...v };
        if (prev) copy[h.id] = prev;
        else delete copy[h.id];
        return copy;
      });
      setFeedbackError((err as Error).message);
    }
  };

  const openExport = (h?: Highlight) => {
    const t = player.current?.currentTime ?? 0;
    if (h) {
      setPreset({ start: h.start_s, end: h.end_s, highlightId: h.id, title: `${video?.title ?? 'Highlight'} #${h.rank}` });
      setActiveId(h.id);
    } else {
      setPreset({ start: t, end: Math.min(duration, t + 15) });
    }
  };

  const remove = async () => {
    try {
      await deleteVideo(id);
      navigate('/videos', { replace: true });
    } catch (err) {
      setLoadError({ message: (err as Error).message, notFound: false });
    }
  };

  if (!signedIn || (!video && !loadError)) {
    return (
      <section class="container narrow">
        <Spinner label="Loading the video…" />
      </section>
    );
  }

  if (!video) {
    return (
      <section class="container narrow center-page">
        <div class="card empty-card">
          <h1>{loadError?.notFound ? 'Video not found' : "Couldn't load the video"}</h1>
          <p class="muted">{loadError?.message}</p>
          <div class="btn-row center">
            {!loadError?.notFound ? (
              <button type="button" class="btn btn-ghost" onClick={() => void load()}>
                Try again
              </button>
            ) : null}
            <Link href="/videos" class="btn btn-primary">
              My videos
            </Link>
          </div>
        </div>
      </section>
    );
  }

  const list = highlights ?? [];
  return (
    <section class="container page video-page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/videos">My videos</Link> <span aria-hidden="true">/</span>
      </nav>
      <header class="page-head video-head">
        <div class="video-head-text">
          <h1 id="video-title">{video.title}</h1>
          <p class="video-meta">
            <StatusBadge status={video.status} progress={video.status === 'processing' && live ? live.progress : video.progress} />
            {video.game ? <span class="game-tag">{video.game}</span> : null}
            {video.status === 'ready' && video.duration_s !== null ? <span class="muted">{formatTime(video.duration_s)}</span> : null}
            {video.width && video.height ? (
              <span class="muted">
                {video.width}×{video.height}
                {video.fps ? ` · ${Math.round(video.fps)} fps` : ''}
              </span>
            ) : null}
            <span class="muted">{formatDate(video.created_at)}</span>
          </p>
        </div>
        {video.status === 'ready' ? (
          <ConfirmButton label="Delete" confirmLabel="Delete video" question="Delete this video and its highlights?" onConfirm={remove} id="delete-video" />
        ) : null}
      </header>
      <ErrorBox message={loadError?.message ?? null} />

      {video.status === 'processing' ? <ProcessingPanel video={video} job={job} live={live} /> : null}
      {video.status === 'failed' ? <FailedPanel video={video} onDelete={remove} /> : null}

      {video.status === 'ready' ? (
        <div class={`video-layout${preset ? ' video-layout-export' : ''}`}>
          <div class="player-col">
            <div class="player-frame">
              <video
                ref={player}
                id="player"
                class="player"
                src={video.playback_url ?? undefined}
                poster={video.thumbnail_url ?? undefined}
                controls
                playsInline
                preload="metadata"
                onLoadedMetadata={(e) => {
                  const d = (e.currentTarget as HTMLVideoElement).duration;
                  if (Number.isFinite(d) && d > 0) setMediaDuration(d);
                }}
                onTimeUpdate={(e) => {
                  const el = e.currentTarget as HTMLVideoElement;
                  setCurrentTime(el.currentTime);
                  if (stopAt.current !== null && el.currentTime >= stopAt.current) {
                    el.pause();
                    stopAt.current = null;
                  }
                }}
                onSeeked={(e) => setCurrentTime((e.currentTarget as HTMLVideoElement).currentTime)}
                onError={() => setPlayerError('The video could not be played. Reload the page to get a fresh link.')}
              />
            </div>
            <ErrorBox message={playerError} />
            <Timeline
              duration={duration}
              highlights={list}
              currentTime={currentTime}
              activeId={activeId}
              range={preset ? range : null}
              onSeek={(t, h) => seek(t, h)}
            />
            {!preset ? (
              <div class="btn-row player-actions">
                <button type="button" class="btn btn-ghost btn-sm" id="export-custom" onClick={() => openExport()}>
                  <Icon name="scissors" /> Make a clip from here
                </button>
              </div>
            ) : null}
            {preset ? (
              <ExportPanel
                key={`${preset.highlightId ?? 'custom'}-${preset.start}-${preset.end}`}
                video={video}
                duration={duration}
                preset={preset}
                currentTime={() => player.current?.currentTime ?? 0}
                onPreview={(s, e) => seek(s, undefined, e)}
                onRange={setRange}
                onClose={() => {
                  setPreset(null);
                  setRange(null);
                }}
                onCreated={(_clip, hid) => {
                  if (hid) setVerdicts((v) => ({ ...v, [hid]: 'kept' }));
                }}
              />
            ) : null}
          </div>

          <aside class="highlights-col" aria-labelledby="highlights-title">
            <div class="highlights-head">
              <h2 id="highlights-title">Highlights</h2>
              {highlights ? <span class="muted">{list.length} found</span> : null}
            </div>
            {highlights?.length ? (
              <p class="muted small highlight-model">{modelLine(highlights[0].model, models)}</p>
            ) : null}
            <ErrorBox message={hlError ?? feedbackError} />
            {highlights === null && !hlError ? <Spinner label="Loading highlights…" /> : null}
            {highlights !== null && list.length === 0 ? (
              <div class="empty-clips">
                <p>No standout moments found in this one. You can still make a clip by hand.</p>
              </div>
            ) : null}
            <ol class="highlight-list" id="highlight-list">
              {list.map((h) => (
                <HighlightItem
                  key={h.id}
                  h={h}
                  active={activeId === h.id}
                  verdict={verdicts[h.id]}
                  onPlay={() => seek(h.start_s, h)}
                  onVerdict={(kept) => void feedback(h, kept)}
                  onExport={() => openExport(h)}
                />
              ))}
            </ol>
          </aside>
        </div>
      ) : null}
    </section>
  );
}
