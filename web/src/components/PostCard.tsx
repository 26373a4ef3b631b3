import { useEffect, useRef, useState } from 'preact/hooks';
import { reportView, setHidden, type Post, type SessionState } from '../api';
import { Link, navigate } from '../router';
import { formatTime } from './media';
import {
  Byline,
  LikeButton,
  Menu,
  RelTime,
  SIcon,
  ShareButton,
  compactCount,
  plural,
  postHref,
  requireSignIn,
} from './social';

/**
 * Counts the seconds a <video> really played and reports one view
 * (POST /posts/{id}/views, fire-and-forget) the first time `flush` is called
 * after it played: when it leaves the screen, ends (or loops), or goes away.
 */
export function useViewReport(postId: string, video: { current: HTMLVideoElement | null }) {
  const st = useRef({ played: false, reported: false, watched: 0, last: -1 });
  const flush = () => {
    const s = st.current;
    if (!s.played || s.reported) return;
    s.reported = true;
    reportView(postId, s.watched);
  };
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const s = st.current;
    const onPlaying = () => {
      s.played = true;
      s.last = v.currentTime;
    };
    const onTime = () => {
      const t = v.currentTime;
      if (s.last >= 0 && !v.paused) {
        const d = t - s.last;
        if (d > 0 && d < 1.5) s.watched += d;
        else if (d < -0.5 && v.loop && s.last > (v.duration || 0) - 1.5) {
          // Looped back to the start: it played to the end once.
          s.watched += Math.max(0, (v.duration || s.last) - s.last);
          flush();
        }
      }
      s.last = t;
    };
    const onSeeking = () => {
      s.last = -1;
    };
    const onSeeked = () => {
      s.last = v.currentTime;
    };
    const onEnded = () => {
      onTime();
      flush();
    };
    v.addEventListener('playing', onPlaying);
    v.addEventListener('timeupdate', onTime);
    v.addEventListener('seeking', onSeeking);
    v.addEventListener('seeked', onSeeked);
    v.addEventListener('ended', onEnded);
    window.addEventListener('pagehide', flush);
    return () => {
      v.removeEventListener('playing', onPlaying);
      v.removeEventListener('timeupdate', onTime);
      v.removeEventListener('seeking', onSeeking);
      v.removeEventListener('seeked', onSeeked);
      v.removeEventListener('ended', onEnded);
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [postId]);
  return flush;
}

/** Plays the video while at least 60 % of it is on screen, pauses it otherwise. */
function useAutoplay(video: { current: HTMLVideoElement | null }, onLeave: () => void) {
  const leave = useRef(onLeave);
  leave.current = onLeave;
  useEffect(() => {
    const v = video.current;
    if (!v || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (e.isIntersecting && e.intersectionRatio >= 0.6) {
            v.play().catch(() => undefined);
          } else {
            if (!v.paused) v.pause();
            leave.current();
          }
        }
      },
      { threshold: [0, 0.6] },
    );
    io.observe(v);
    return () => io.disconnect();
  }, []);
}

function aspectOf(post: Post): number {
  const w = post.clip?.width;
  const h = post.clip?.height;
  if (!w || !h) return 16 / 9;
  return Math.max(4 / 5, Math.min(16 / 9, w / h));
}

export function GamePlaceholder({ game, compact = false }: { game: string | null; compact?: boolean }) {
  return (
    <div class={`media-placeholder${compact ? ' media-placeholder-compact' : ''}`}>
      <span class="mp-icon" aria-hidden="true">
        <SIcon name="gamepad" />
      </span>
      <span class="mp-game">{game || 'Gameplay'}</span>
      {compact ? null : <span class="mp-note">No video for this post</span>}
    </div>
  );
}

function CardMedia({ post }: { post: Post }) {
  const video = useRef<HTMLVideoElement>(null);
  const [muted, setMuted] = useState(true);
  const flush = useViewReport(post.id, video);
  useAutoplay(video, flush);
  const clip = post.clip;
  if (!clip || !clip.playback_url) {
    return (
      <Link href={postHref(post.id)} class="pc-media pc-media-empty" aria-label={`Open ${post.title}`}>
        <GamePlaceholder game={post.game} />
      </Link>
    );
  }
  return (
    <div class="pc-media" style={{ aspectRatio: String(aspectOf(post)) }}>
      <video
        ref={video}
        class="pc-video"
        poster={clip.thumbnail_url ?? undefined}
        src={clip.playback_url}
        muted={muted}
        loop
        playsInline
        preload="metadata"
        onClick={() => navigate(postHref(post.id))}
        aria-label={`${post.title}: video`}
      />
      <button
        type="button"
        class="icon-btn pc-sound"
        aria-pressed={!muted}
        aria-label={muted ? 'Turn sound on' : 'Mute'}
        onClick={() => {
          setMuted(!muted);
          if (video.current) video.current.muted = !muted;
        }}
      >
        <SIcon name={muted ? 'sound-off' : 'sound-on'} />
      </button>
      {clip.duration_s ? <span class="pc-duration">{formatTime(clip.duration_s)}</span> : null}
    </div>
  );
}

export function GameChip({ game }: { game: string }) {
  return (
    <Link href={`/?tab=trending&game=${encodeURIComponent(game)}`} class="game-chip" title={`Trending in ${game}`}>
      <SIcon name="gamepad" />
      {game}
    </Link>
  );
}

export function Tags({ tags }: { tags: string[] }) {
  if (!tags.length) return null;
  return (
    <ul class="tag-list" aria-label="Tags">
      {tags.map((t) => (
        <li key={t} class="tag">
          #{t}
        </li>
      ))}
    </ul>
  );
}

export function Why({ reasons }: { reasons: string[] }) {
  if (!reasons.length) return null;
  return (
    <details class="pc-why">
      <summary>
        <span>Why am I seeing this?</span>
        <span class="pc-why-first muted">{reasons[0]}</span>
      </summary>
      <ul>
        {reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
    </details>
  );
}

/** One post in a feed: autoplaying muted clip, author, game, tags, actions. */
export function PostCard({
  post: initial,
  session,
  onRemove,
  showReasons = false,
}: {
  post: Post;
  session: SessionState;
  onRemove?: (id: string) => void;
  showReasons?: boolean;
}) {
  const [post, setPost] = useState(initial);
  const [hiding, setHiding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setPost(initial), [initial]);
  const mine = session.user?.id === post.author.id;

  const notInterested = async () => {
    if (!requireSignIn(session) || hiding) return;
    setHiding(true);
    setError(null);
    try {
      await setHidden(post.id, true);
      onRemove?.(post.id);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not hide this post.');
      setHiding(false);
    }
  };

  return (
    <article class={`card post-card${hiding ? ' post-card-leaving' : ''}`} data-post={post.id} aria-labelledby={`pc-title-${post.id}`}>
      <header class="pc-head">
        <Byline user={post.author}>
          <span class="dot" aria-hidden="true">
            ·
          </span>
          <RelTime iso={post.created_at} />
          {post.visibility !== 'public' ? <span class="vis-badge">{post.visibility === 'followers' ? 'Followers' : 'Private'}</span> : null}
        </Byline>
        {!mine ? (
          <Menu label="More options">
            {(close) => (
              <>
                <button
                  type="button"
                  role="menuitem"
                  class="menu-item"
                  onClick={() => {
                    close();
                    void notInterested();
                  }}
                >
                  <SIcon name="eye" /> Not interested
                </button>
                <button
                  type="button"
                  role="menuitem"
                  class="menu-item"
                  onClick={() => {
                    close();
                    navigate(postHref(post.id));
                  }}
                >
                  <SIcon name="comment" /> Open post
                </button>
              </>
            )}
          </Menu>
        ) : null}
      </header>
      <CardMedia post={post} />
      <div class="pc-body">
        <h2 class="pc-title" id={`pc-title-${post.id}`}>
          <Link href={postHref(post.id)}>{post.title}</Link>
        </h2>
        {post.game || post.tags.length ? (
          <div class="pc-meta">
            {post.game ? <GameChip game={post.game} /> : null}
            <Tags tags={post.tags} />
          </div>
        ) : null}
        {showReasons && post.reasons ? <Why reasons={post.reasons} /> : null}
        {error ? (
          <p class="action-error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="pc-actions">
          <LikeButton post={post} session={session} onChange={setPost} />
          <Link href={`${postHref(post.id)}#comments`} class="action comment-link" aria-label={`Comments (${plural(post.comment_count, 'comment')})`}>
            <SIcon name="comment" />
            <span aria-hidden="true">{compactCount(post.comment_count)}</span>
          </Link>
          <ShareButton post={post} session={session} onChange={setPost} />
          <span class="pc-views muted" title={plural(post.view_count, 'view')}>
            <SIcon name="eye" /> {compactCount(post.view_count)}
          </span>
        </div>
      </div>
    </article>
  );
}

/** A post in a profile grid: thumbnail, title, counts. */
export function PostTile({ post }: { post: Post }) {
  const [broken, setBroken] = useState(false);
  const thumb = post.clip?.thumbnail_url;
  return (
    <li class="post-tile" data-post={post.id}>
      <Link href={postHref(post.id)} class="pt-link">
        <div class="pt-media">
          {thumb && !broken ? (
            <img src={thumb} alt="" loading="lazy" decoding="async" onError={() => setBroken(true)} />
          ) : post.clip?.playback_url ? (
            <video src={`${post.clip.playback_url}#t=0.5`} muted playsInline preload="metadata" aria-hidden="true" tabIndex={-1} />
          ) : (
            <GamePlaceholder game={post.game} compact />
          )}
          {post.clip?.duration_s ? <span class="pc-duration">{formatTime(post.clip.duration_s)}</span> : null}
          {post.visibility !== 'public' ? <span class="vis-badge pt-vis">{post.visibility === 'followers' ? 'Followers' : 'Private'}</span> : null}
        </div>
        <span class="pt-title">{post.title}</span>
        <span class="pt-stats muted">
          <span title={plural(post.like_count, 'like')}>
            <SIcon name="heart" /> {compactCount(post.like_count)}
          </span>
          <span title={plural(post.comment_count, 'comment')}>
            <SIcon name="comment" /> {compactCount(post.comment_count)}
          </span>
          <span title={plural(post.view_count, 'view')}>
            <SIcon name="eye" /> {compactCount(post.view_count)}
          </span>
        </span>
      </Link>
    </li>
  );
}
