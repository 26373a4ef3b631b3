import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Aspect, MediaStatus, SessionState } from '../api';
import { navigate } from '../router';

/** Seconds -> "m:ss" (or "h:mm:ss"). */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–:––';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds -> "m:ss.s" (tenths), for trim fields. */
export function formatTimePrecise(seconds: number): string {
  const t = Math.max(0, Math.round(seconds * 10) / 10);
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

/** "m:ss.s", "h:mm:ss", "ss.s" or "12" -> seconds; null when not a time. */
export function parseTime(text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (!t) return null;
  const parts = t.split(':');
  if (parts.length > 3) return null;
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const last = i === parts.length - 1;
    if (!(last ? /^\d+(\.\d*)?$|^\.\d+$/ : /^\d+$/).test(p)) return null;
    const v = Number(p);
    if (!last && i > 0 && v >= 60) return null;
    if (last && parts.length > 1 && v >= 60) return null;
    total = total * 60 + v;
  }
  return Number.isFinite(total) ? total : null;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Run `fn` every `ms` while `active`; the latest `fn` is always used. */
export function useInterval(fn: () => void, ms: number, active: boolean): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

/** Pages that need an account send signed-out visitors to sign in first. */
export function useRequireSignIn(session: SessionState, path: string): boolean {
  useEffect(() => {
    if (session.status === 'signed-out') navigate(`/login?next=${encodeURIComponent(path)}`, { replace: true });
  }, [session.status, path]);
  return session.status === 'signed-in';
}

const STATUS_LABEL: Record<MediaStatus, string> = {
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Failed',
};

export function StatusBadge({ status, progress }: { status: MediaStatus; progress?: number }) {
  const label = STATUS_LABEL[status] ?? status;
  return (
    <span class={`status status-${status}`} data-status={status}>
      {status === 'processing' ? <span class="status-dot" aria-hidden="true" /> : null}
      {label}
      {status === 'processing' && progress !== undefined ? ` ${Math.round(progress)}%` : ''}
    </span>
  );
}

export function ProgressBar({ value, label, id }: { value: number; label: string; id?: string }) {
  const v = Math.max(0, Math.min(100, value));
  return (
    <div
      class="progress"
      id={id}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(v)}
    >
      <div class="progress-fill" style={{ width: `${v}%` }} />
    </div>
  );
}

export const ASPECTS: { value: Aspect; w: number; h: number; label: string; hint: string }[] = [
  { value: '16:9', w: 16, h: 9, label: '16:9', hint: 'YouTube, Twitch' },
  { value: '9:16', w: 9, h: 16, label: '9:16', hint: 'TikTok, Shorts, Reels' },
  { value: '1:1', w: 1, h: 1, label: '1:1', hint: 'Feeds' },
];

export function AspectShape({ aspect, size = 28 }: { aspect: Aspect; size?: number }) {
  const a = ASPECTS.find((x) => x.value === aspect) ?? ASPECTS[0];
  const scale = size / Math.max(a.w, a.h);
  return (
    <span
      class="aspect-shape"
      style={{ width: `${Math.round(a.w * scale)}px`, height: `${Math.round(a.h * scale)}px` }}
      aria-hidden="true"
    />
  );
}

export function AspectBadge({ aspect }: { aspect: Aspect }) {
  return (
    <span class="aspect-badge" title={`Aspect ratio ${aspect}`}>
      <AspectShape aspect={aspect} size={12} />
      {aspect}
    </span>
  );
}

export type IconName = 'upload' | 'videos' | 'clips' | 'play' | 'download' | 'trash' | 'scissors' | 'thumbs-up' | 'thumbs-down';

export function Icon({ name }: { name: IconName }) {
  const paths: Record<string, JSX.Element> = {
    upload: <path d="M12 16V4m0 0-5 5m5-5 5 5M4 20h16" />,
    videos: (
      <>
        <rect x="3" y="5" width="18" height="14" rx="2.5" />
        <path d="m10 9 5 3-5 3Z" />
      </>
    ),
    clips: (
      <>
        <rect x="7" y="3" width="10" height="18" rx="2" />
        <path d="M3 7v10M21 7v10" />
      </>
    ),
    play: <path d="m8 5 11 7-11 7Z" />,
    download: <path d="M12 4v12m0 0-5-5m5 5 5-5M4 20h16" />,
    trash: <path d="M4 7h16M9 7V4h6v3m-9 0 1 13h10l1-13" />,
    'thumbs-up': <path d="M7 10v10H4V10Zm0 0 4-7a2 2 0 0 1 3 2l-1 5h5.5a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 17.3 20H7" />,
    'thumbs-down': <path d="M7 14V4H4v10Zm0 0 4 7a2 2 0 0 0 3-2l-1-5h5.5a2 2 0 0 0 2-2.3l-1.2-6A2 2 0 0 0 17.3 4H7" />,
    scissors: (
      <>
        <circle cx="6" cy="7" r="2.5" />
        <circle cx="6" cy="17" r="2.5" />
        <path d="M8 8.5 20 18M8 15.5 20 6" />
      </>
    ),
  };
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      {paths[name]}
    </svg>
  );
}

/** A destructive action that asks "Sure?" inline instead of a browser dialog. */
export function ConfirmButton({
  label,
  confirmLabel,
  question,
  onConfirm,
  busyLabel = 'Deleting…',
  id,
  small = true,
}: {
  label: string;
  confirmLabel: string;
  question: string;
  onConfirm: () => Promise<void> | void;
  busyLabel?: string;
  id?: string;
  small?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const size = small ? ' btn-sm' : '';
  if (!asking) {
    return (
      <button type="button" id={id} class={`btn btn-ghost btn-danger${size}`} onClick={() => setAsking(true)}>
        <Icon name="trash" /> {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span class="confirm-q">{question}</span>
      <button
        type="button"
        class={`btn btn-danger-solid${size}`}
        id={id ? `${id}-confirm` : undefined}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {busy ? busyLabel : confirmLabel}
      </button>
      <button type="button" class={`btn btn-ghost${size}`} disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
