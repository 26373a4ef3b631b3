import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  avatarUrl,
  setFollow,
  setLike,
  sharePost,
  type Page,
  type Post,
  type SessionState,
  type UserSummary,
} from '../api';
import { Link, navigate } from '../router';

// ---------------------------------------------------------------------------
// Small helpers

/** Where a signed-out visitor goes to act: sign in, then come back here. */
export function signInHref(): string {
  return `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}

export function requireSignIn(session: SessionState): boolean {
  if (session.status === 'signed-in') return true;
  navigate(signInHref());
  return false;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", then a short date. */
export function relativeTime(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 7) return `${d} d ago`;
  const date = new Date(t);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(undefined, sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' }).format(date);
}

export function RelTime({ iso }: { iso: string }) {
  const d = new Date(iso);
  const full = Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  return (
    <time dateTime={iso} title={full}>
      {relativeTime(iso)}
    </time>
  );
}

/** 1234 -> "1.2K". */
export function compactCount(n: number): string {
  if (!Number.isFinite(n)) return '0';
  if (n < 1000) return String(n);
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export const plural = (n: number, one: string, many = `${one}s`) => `${compactCount(n)} ${n === 1 ? one : many}`;

export const profileHref = (username: string) => `/u/${encodeURIComponent(username)}`;
export const postHref = (id: string) => `/p/${encodeURIComponent(id)}`;

export function displayName(u: Pick<UserSummary, 'username' | 'display_name'>): string {
  return (u.display_name || '').trim() || u.username;
}

/** The generated avatar (an SVG the server draws from the name), with the initial as a fallback. */
export function UserAvatar({ user, size = 36, class: cls }: { user: Pick<UserSummary, 'username' | 'avatar_url'>; size?: number; class?: string }) {
  const url = user.avatar_url || avatarUrl(user.username);
  const [broken, setBroken] = useState(false);
  useEffect(() => setBroken(false), [url]);
  return broken ? (
    <span class={`uavatar uavatar-fallback ${cls ?? ''}`} style={{ width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.45)}px` }} aria-hidden="true">
      {(Array.from(user.username)[0] || '?').toUpperCase()}
    </span>
  ) : (
    <img class={`uavatar ${cls ?? ''}`} src={url} alt="" width={size} height={size} decoding="async" loading="lazy" onError={() => setBroken(true)} />
  );
}

/** Avatar, display name and @username (a link to the profile). */
export function Byline({ user, children }: { user: UserSummary; children?: ComponentChildren }) {
  const name = displayName(user);
  return (
    <div class="byline">
      <Link href={profileHref(user.username)} class="byline-avatar" tabIndex={-1} aria-hidden="true">
        <UserAvatar user={user} />
      </Link>
      <div class="byline-text">
        <span class="byline-name">{name}</span>
        <span class="byline-sub">
          <Link href={profileHref(user.username)} class="byline-handle">
            @{user.username}
          </Link>
          {children}
        </span>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Icons

export type SIconName = 'heart' | 'comment' | 'share' | 'more' | 'bell' | 'eye' | 'check' | 'gamepad' | 'sliders' | 'reply' | 'clock' | 'sound-on' | 'sound-off';

export function SIcon({ name }: { name: SIconName }) {
  const paths: Record<SIconName, JSX.Element> = {
    heart: <path d="M12 20s-7-4.4-9.2-8.6C1.3 8.4 3 5 6.4 5c2 0 3.3 1.1 4.1 2.3h3C14.3 6.1 15.6 5 17.6 5 21 5 22.7 8.4 21.2 11.4 19 15.6 12 20 12 20Z" />,
    comment: <path d="M4 5h16v11H9l-5 4V5Z" />,
    share: (
      <>
        <circle cx="18" cy="5" r="2.5" />
        <circle cx="6" cy="12" r="2.5" />
        <circle cx="18" cy="19" r="2.5" />
        <path d="m8.2 10.8 7.6-4.4M8.2 13.2l7.6 4.4" />
      </>
    ),
    more: (
      <>
        <circle cx="5" cy="12" r="1.6" />
        <circle cx="12" cy="12" r="1.6" />
        <circle cx="19" cy="12" r="1.6" />
      </>
    ),
    bell: <path d="M6 16V11a6 6 0 1 1 12 0v5l2 2H4l2-2Zm4 4h4" />,
    eye: (
      <>
        <path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12Z" />
        <circle cx="12" cy="12" r="3" />
      </>
    ),
    check: <path d="m5 12 5 5 9-10" />,
    gamepad: (
      <>
        <path d="M7 8h10a4 4 0 0 1 4 4.2l-.4 3.6a2.5 2.5 0 0 1-4.3 1.4L14.5 15h-5l-1.8 2.2a2.5 2.5 0 0 1-4.3-1.4L3 12.2A4 4 0 0 1 7 8Z" />
        <path d="M8 11v3M6.5 12.5h3M15.5 12h.01M17.5 13.5h.01" />
      </>
    ),
    sliders: <path d="M4 6h10m4 0h2M4 12h4m4 0h8M4 18h12m4 0h0M14 4v4M8 10v4M16 16v4" />,
    reply: <path d="M10 8 5 12l5 4M5 12h9a5 5 0 0 1 5 5v1" />,
    clock: (
      <>
        <circle cx="12" cy="12" r="9" />
        <path d="M12 7v5l3 2" />
      </>
    ),
    'sound-on': <path d="M4 9h4l5-4v14l-5-4H4V9Zm12.5-.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12" />,
    'sound-off': <path d="M4 9h4l5-4v14l-5-4H4V9Zm12 0 6 6m0-6-6 6" />,
  };
  return (
    <svg class={`icon sicon sicon-${name}`} viewBox="0 0 24 24" aria-hidden="true">
      {paths[name]}
    </svg>
  );
}

// ---------------------------------------------------------------------------
// A small popup menu ("⋯")

export function Menu({ label, children, class: cls }: { label: string; children: (close: () => void) => ComponentChildren; class?: string }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const close = () => setOpen(false);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: Event) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        trigger.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onDown);
    document.addEventListener('keydown', onKey);
    const first = root.current?.querySelector<HTMLElement>('[role=menuitem]');
    first?.focus();
    return () => {
      document.removeEventListener('pointerdown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  const onMenuKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const items = Array.from(root.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    const next = items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length];
    next?.focus();
  };
  return (
    <div class={`menu ${cls ?? ''}`} ref={root}>
      <button
        type="button"
        ref={trigger}
        class="icon-btn menu-trigger"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <SIcon name="more" />
      </button>
      {open ? (
        <div class="menu-pop" role="menu" aria-label={label} onKeyDown={onMenuKey}>
          {children(close)}
        </div>
      ) : null}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Like, share, follow

export function LikeButton({ post, session, onChange }: { post: Post; session: SessionState; onChange: (p: Post) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toggle = async () => {
    if (!requireSignIn(session) || busy) return;
    const before = post;
    const liked = !post.liked_by_me;
    // Optimistic; rolled back when the server says no.
    onChange({ ...post, liked_by_me: liked, like_count: Math.max(0, post.like_count + (liked ? 1 : -1)) });
    setBusy(true);
    setError(null);
    try {
      const r = await setLike(post.id, liked);
      onChange({ ...before, liked_by_me: r.liked, like_count: r.like_count });
    } catch (err) {
      onChange(before);
      setError(err instanceof Error ? err.message : 'Could not like this post.');
    } finally {
      setBusy(false);
    }
  };
  const n = post.like_count;
  return (
    <span class="action-wrap">
      <button
        type="button"
        class={`action like-btn${post.liked_by_me ? ' action-on' : ''}`}
        aria-pressed={post.liked_by_me}
        aria-label={`Like (${plural(n, 'like')})`}
        onClick={toggle}
        data-testid="like"
      >
        <SIcon name="heart" />
        <span class="like-count" aria-hidden="true">
          {compactCount(n)}
        </span>
      </button>
      {error ? (
        <span class="action-error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through to the old way */
  }
  try {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  } catch {
    return false;
  }
}

export function ShareButton({ post, session, onChange }: { post: Post; session: SessionState; onChange: (p: Post) => void }) {
  const [status, setStatus] = useState<{ text: string; url?: string; bad?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const share = async () => {
    if (!requireSignIn(session) || busy) return;
    setBusy(true);
    if (timer.current) clearTimeout(timer.current);
    try {
      const r = await sharePost(post.id);
      onChange({ ...post, share_count: r.share_count });
      const url = new URL(r.url || `/p/${post.id}`, window.location.origin).toString();
      if (await copyText(url)) {
        setStatus({ text: 'Link copied' });
        timer.current = setTimeout(() => setStatus(null), 2500);
      } else {
        setStatus({ text: 'Copy this link:', url });
      }
    } catch (err) {
      setStatus({ text: err instanceof Error ? err.message : 'Could not share.', bad: true });
      timer.current = setTimeout(() => setStatus(null), 4000);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action-wrap">
      <button type="button" class="action share-btn" onClick={share} disabled={busy} aria-label={`Share (${plural(post.share_count, 'share')})`}>
        <SIcon name="share" />
        <span aria-hidden="true">Share</span>
      </button>
      <span class={`action-status${status?.bad ? ' action-error' : ''}`} role="status" aria-live="polite">
        {status?.text}
        {status?.url ? <input class="share-url" readOnly value={status.url} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} /> : null}
      </span>
    </span>
  );
}

export function FollowButton({
  username,
  following,
  session,
  onChange,
  small = false,
}: {
  username: string;
  following: boolean;
  session: SessionState;
  onChange: (following: boolean, followerCount?: number) => void;
  small?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (session.user?.username === username) return null;
  const toggle = async () => {
    if (!requireSignIn(session) || busy) return;
    const next = !following;
    onChange(next);
    setBusy(true);
    setError(null);
    try {
      const r = await setFollow(username, next);
      onChange(r.following, r.follower_count);
    } catch (err) {
      onChange(!next);
      setError(err instanceof ApiError ? err.message : 'Could not update.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action-wrap follow-wrap">
      <button
        type="button"
        class={`btn ${following ? 'btn-ghost follow-on' : 'btn-primary'} ${small ? 'btn-xs' : 'btn-sm'} follow-btn`}
        aria-pressed={following}
        aria-label={`Follow @${username}`}
        onClick={toggle}
        disabled={busy}
        data-testid="follow"
      >
        {following ? (
          <>
            <SIcon name="check" /> Following
          </>
        ) : (
          'Follow'
        )}
      </button>
      {error ? (
        <span class="action-error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

// ---------------------------------------------------------------------------
// Infinite lists: an IntersectionObserver on a sentinel loads the next page.

export interface Infinite<T> {
  items: T[] | null;
  setItems: (fn: (items: T[]) => T[]) => void;
  loading: boolean;
  done: boolean;
  error: ApiError | Error | null;
  /** true when the endpoint is not there (404 route_not_found / 405 / 501). */
  unavailable: boolean;
  restarted: boolean;
  sentinel: (el: Element | null) => void;
  retry: () => void;
  reload: () => void;
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 405 || err.status === 501 || (err.status === 404 && err.code === 'route_not_found'));
}

export function useInfinite<T extends { id: string }>(
  load: (cursor: string | null) => Promise<Page<T>>,
  key: string,
  enabled = true,
): Infinite<T> {
  const [items, setItemsState] = useState<T[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [restarted, setRestarted] = useState(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const gen = useRef(0);
  const st = useRef({ cursor: null as string | null, loading: false, done: false, failed: false, restarts: 0 });
  const observer = useRef<IntersectionObserver | null>(null);
  const el = useRef<Element | null>(null);

  const rearm = () => {
    // Re-observing fires the callback again if the sentinel is still on screen.
    if (observer.current && el.current) {
      observer.current.unobserve(el.current);
      observer.current.observe(el.current);
    }
  };

  const fetchPage = async (fromTop: boolean) => {
    const s = st.current;
    // A next page needs the cursor from the one before (the sentinel may fire before the first load starts).
    if (s.loading || (!fromTop && (s.done || s.failed || s.cursor === null))) return;
    const my = gen.current;
    s.loading = true;
    setLoading(true);
    try {
      const page = await loadRef.current(fromTop ? null : s.cursor);
      if (my !== gen.current) return;
      s.cursor = page.next_cursor;
      s.done = !page.next_cursor;
      setItemsState((cur) => {
        if (fromTop || !cur) return page.items;
        const seen = new Set(cur.map((x) => x.id));
        return [...cur, ...page.items.filter((x) => !seen.has(x.id))];
      });
      setDone(s.done);
      setError(null);
    } catch (err) {
      if (my !== gen.current) return;
      if (err instanceof ApiError && err.status === 409 && err.code === 'cursor_expired' && s.restarts < 3) {
        // The ranking snapshot behind this cursor is gone: start again from the top.
        const restarts = s.restarts + 1;
        start();
        st.current.restarts = restarts;
        setRestarted(true);
        const feedTop = el.current?.closest('[data-feed]');
        if (feedTop && feedTop.getBoundingClientRect().top < 0) feedTop.scrollIntoView({ block: 'start' });
        return;
      }
      s.failed = true;
      setError(err as Error);
    } finally {
      if (my === gen.current) {
        s.loading = false;
        setLoading(false);
        requestAnimationFrame(rearm);
      }
    }
  };

  const start = () => {
    gen.current++;
    st.current = { cursor: null, loading: false, done: false, failed: false, restarts: 0 };
    setItemsState(null);
    setDone(false);
    setError(null);
    setLoading(false);
    void fetchPage(true);
  };

  useEffect(() => {
    setRestarted(false);
    if (!enabled) {
      gen.current++;
      return;
    }
    start();
  }, [key, enabled]);

  useEffect(
    () => () => {
      gen.current++;
      observer.current?.disconnect();
    },
    [],
  );

  const sentinel = (node: Element | null) => {
    if (node === el.current) return;
    observer.current?.disconnect();
    el.current = node;
    if (!node) return;
    observer.current = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void fetchPage(false);
      },
      { rootMargin: '800px 0px' },
    );
    observer.current.observe(node);
  };

  return {
    items,
    setItems: (fn) => setItemsState((cur) => (cur ? fn(cur) : cur)),
    loading,
    done,
    error,
    unavailable: isUnavailable(error),
    restarted,
    sentinel,
    retry: () => {
      st.current.failed = false;
      setError(null);
      void fetchPage(st.current.cursor === null && !items);
    },
    reload: start,
  };
}

/** The bottom of an infinite list: the sentinel, a spinner, the end, or a retry. */
export function ListFooter<T>({ list, endText, busyLabel = 'Loading more…' }: { list: Infinite<T>; endText?: string; busyLabel?: string }) {
  const { items, loading, done, error, unavailable } = list;
  return (
    <div class="list-footer">
      {error && !unavailable && items ? (
        <div class="list-error" role="alert">
          <span>{error.message}</span>
          <button type="button" class="btn btn-ghost btn-sm" onClick={list.retry}>
            Try again
          </button>
        </div>
      ) : null}
      {!done && !error ? <div class="sentinel" ref={list.sentinel} aria-hidden="true" /> : null}
      {loading && items ? (
        <div class="list-more" role="status">
          <span class="spinner spinner-sm" aria-hidden="true" />
          <span class="sr-only">{busyLabel}</span>
        </div>
      ) : null}
      {done && items && items.length > 0 && endText ? <p class="list-end muted">{endText}</p> : null}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Chip input: a list of short strings (games, usernames)

export function ChipInput({
  id,
  label,
  values,
  onChange,
  placeholder,
  hint,
  max = 50,
  normalize = (v: string) => v.trim(),
  validate,
  prefix,
  suggestions,
  serverError,
}: {
  serverError?: string | null;
  id: string;
  label: string;
  values: string[];
  onChange: (values: string[]) => void;
  placeholder?: string;
  hint?: string;
  max?: number;
  normalize?: (v: string) => string;
  validate?: (v: string) => string | null;
  prefix?: string;
  suggestions?: string[];
}) {
  const [text, setText] = useState('');
  const [localError, setError] = useState<string | null>(null);
  const error = localError ?? serverError ?? null;
  const add = (raw: string) => {
    const v = normalize(raw);
    if (!v) return;
    const bad = validate?.(v);
    if (bad) {
      setError(bad);
      return;
    }
    if (values.some((x) => x.toLowerCase() === v.toLowerCase())) {
      setText('');
      return;
    }
    if (values.length >= max) {
      setError(`At most ${max}.`);
      return;
    }
    onChange([...values, v]);
    setText('');
    setError(null);
  };
  const listId = suggestions && suggestions.length ? `${id}-list` : undefined;
  return (
    <div class={`field chip-field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <div class="chip-box" onClick={(e) => (e.currentTarget as HTMLElement).querySelector('input')?.focus()}>
        <ul class="chips chip-values" aria-label={label}>
          {values.map((v) => (
            <li class="chip chip-removable" key={v}>
              <span>
                {prefix}
                {v}
              </span>
              <button
                type="button"
                class="chip-x"
                aria-label={`Remove ${prefix ?? ''}${v}`}
                onClick={() => onChange(values.filter((x) => x !== v))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <input
          id={id}
          value={text}
          list={listId}
          placeholder={values.length ? 'Add another…' : placeholder}
          autocomplete="off"
          spellcheck={false}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={`${id}-help`}
          onInput={(e) => {
            const v = (e.currentTarget as HTMLInputElement).value;
            setError(null);
            if (v.includes(',')) {
              const parts = v.split(',');
              const last = parts.pop() ?? '';
              let next = values;
              for (const p of parts) {
                const n = normalize(p);
                if (n && !validate?.(n) && !next.some((x) => x.toLowerCase() === n.toLowerCase()) && next.length < max) next = [...next, n];
              }
              if (next !== values) onChange(next);
              setText(last);
            } else setText(v);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add(text);
            } else if (e.key === 'Backspace' && !text && values.length) {
              onChange(values.slice(0, -1));
            }
          }}
          onBlur={() => text.trim() && add(text)}
        />
        {listId ? (
          <datalist id={listId}>
            {suggestions!.map((s) => (
              <option value={s} key={s} />
            ))}
          </datalist>
        ) : null}
      </div>
      <p class={error ? 'field-error' : 'field-hint'} id={`${id}-help`}>
        {error ?? hint ?? 'Press Enter or comma to add.'}
      </p>
    </div>
  );
}

/** Comment or description text with @mentions linked to profiles. */
export function RichText({ text }: { text: string }) {
  const parts: ComponentChildren[] = [];
  const re = /(^|[^A-Za-z0-9_])@([A-Za-z0-9_]{3,32})/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const at = m.index + m[1].length;
    if (at > last) parts.push(text.slice(last, at));
    parts.push(
      <Link href={profileHref(m[2])} class="mention" key={at}>
        @{m[2]}
      </Link>,
    );
    last = at + 1 + m[2].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
