import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { listNotifications, markNotificationsRead, type Notification, type SessionState } from '../api';
import { Link } from '../router';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import { useRequireSignIn } from '../components/media';
import { ListFooter, RelTime, SIcon, UserAvatar, displayName, postHref, profileHref, useInfinite, type SIconName } from '../components/social';
import { refreshUnread, setUnread } from '../components/unread';

const ICON: Record<Notification['kind'], SIconName> = {
  like: 'heart',
  comment: 'comment',
  reply: 'reply',
  follow: 'check',
  mention: 'comment',
};

function quote(text: string, max = 120): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function NotificationItem({ n, fresh }: { n: Notification; fresh: boolean }) {
  const who = displayName(n.actor);
  const postTitle = n.post?.title ?? 'your post';
  const href = n.post ? `${postHref(n.post.id)}${n.comment ? '#comments' : ''}` : profileHref(n.actor.username);
  let text: JSX.Element;
  switch (n.kind) {
    case 'like':
      text = (
        <>
          liked your post <strong>{postTitle}</strong>
        </>
      );
      break;
    case 'comment':
      text = (
        <>
          commented on <strong>{postTitle}</strong>
        </>
      );
      break;
    case 'reply':
      text = (
        <>
          replied to your comment on <strong>{postTitle}</strong>
        </>
      );
      break;
    case 'follow':
      text = <>followed you</>;
      break;
    case 'mention':
      text = n.post ? (
        <>
          mentioned you on <strong>{postTitle}</strong>
        </>
      ) : (
        <>mentioned you</>
      );
      break;
    default:
      text = <>did something</>;
  }
  return (
    <li class={`notif${fresh ? ' notif-unread' : ''}`} data-kind={n.kind} data-notification={n.id}>
      <Link href={profileHref(n.actor.username)} class="notif-avatar" tabIndex={-1} aria-hidden="true">
        <UserAvatar user={n.actor} size={40} />
        <span class={`notif-kind notif-kind-${n.kind}`}>
          <SIcon name={ICON[n.kind] ?? 'bell'} />
        </span>
      </Link>
      <div class="notif-main">
        <p class="notif-text">
          <Link href={profileHref(n.actor.username)} class="notif-actor">
            {who}
          </Link>{' '}
          <Link href={href} class="notif-link">
            {text}
          </Link>
        </p>
        {n.comment ? <p class="notif-quote">“{quote(n.comment.body)}”</p> : null}
        <p class="notif-time muted">
          <RelTime iso={n.created_at} />
          {fresh ? <span class="sr-only"> (new)</span> : null}
        </p>
      </div>
      {fresh ? <span class="notif-dot" aria-hidden="true" /> : null}
    </li>
  );
}

export function Notifications({ session }: { session: SessionState }) {
  useTitle('Notifications');
  const signedIn = useRequireSignIn(session, '/notifications');
  const [unreadSeen, setUnreadSeen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [allBusy, setAllBusy] = useState(false);
  const marked = useRef(new Set<string>());
  const list = useInfinite<Notification>(
    async (cursor) => {
      const p = await listNotifications(20, cursor);
      if (typeof p.unread_count === 'number') setUnread(p.unread_count);
      return p;
    },
    session.user?.id ?? '',
    signedIn,
  );

  // Opening the page marks what is shown as read; they stay highlighted for this visit.
  useEffect(() => {
    const fresh = (list.items ?? []).filter((n) => !n.read && !marked.current.has(n.id));
    if (!fresh.length) return;
    for (const n of fresh) marked.current.add(n.id);
    setUnreadSeen((s) => new Set([...s, ...fresh.map((n) => n.id)]));
    markNotificationsRead({ ids: fresh.map((n) => n.id) })
      .then((r) => setUnread(r.unread_count))
      .catch(() => void refreshUnread(true));
  }, [list.items]);

  const markAll = async () => {
    setAllBusy(true);
    setError(null);
    try {
      const r = await markNotificationsRead({ all: true });
      setUnread(r.unread_count);
      setUnreadSeen(new Set());
      list.setItems((xs) => xs.map((n) => ({ ...n, read: true })));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not mark them read.');
    } finally {
      setAllBusy(false);
    }
  };

  if (!signedIn) {
    return (
      <section class="container narrow page">
        <Spinner />
      </section>
    );
  }
  return (
    <section class="container page notif-page">
      <header class="page-head">
        <div>
          <h1>Notifications</h1>
          <p class="muted">Likes, comments, replies, mentions and new followers.</p>
        </div>
        <button type="button" class="btn btn-ghost btn-sm" onClick={markAll} disabled={allBusy || !list.items?.length} id="mark-all-read">
          <SIcon name="check" /> Mark all read
        </button>
      </header>
      <ErrorBox message={error} />
      <div class="card notif-card" data-feed="notifications">
        {list.items === null ? (
          list.unavailable ? (
            <p class="muted notif-empty">Notifications are being switched on. Check back in a moment.</p>
          ) : list.error ? (
            <ErrorBox message={list.error.message} />
          ) : (
            <Spinner label="Loading notifications…" />
          )
        ) : list.items.length === 0 ? (
          <div class="notif-empty">
            <span class="feature-icon empty-icon" aria-hidden="true">
              <SIcon name="bell" />
            </span>
            <p class="muted">Nothing yet. When players like, comment on or share your clips, you'll see it here.</p>
          </div>
        ) : (
          <ol class="notif-list" aria-label="Notifications">
            {list.items.map((n) => (
              <NotificationItem key={n.id} n={n} fresh={unreadSeen.has(n.id) || !n.read} />
            ))}
          </ol>
        )}
        <ListFooter list={list} />
      </div>
    </section>
  );
}
