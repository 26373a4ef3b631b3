// /invite/:code (preview and accept) and /discover (public communities).

import { useEffect, useState } from 'preact/hooks';
import type { SessionState } from '../api';
import { acceptInvite, discoverCommunities, getInvite, joinCommunity, type Community, type InvitePreview } from '../communities';
import { Link, navigate } from '../router';
import { useRequireSignIn } from '../components/media';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import { CommunityIcon } from '../components/chat';
import { plural } from '../components/social';
import { upsertCommunity } from '../components/chatstore';
import { Rail, communityHref } from './Communities';

export function InvitePage({ session, code }: { session: SessionState; code: string }) {
  const ok = useRequireSignIn(session, `/invite/${encodeURIComponent(code)}`);
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useTitle(preview ? `Join ${preview.community.name}` : 'Invite');
  useEffect(() => {
    if (!ok) return;
    getInvite(code)
      .then(setPreview)
      .catch((err: { status?: number; message: string }) =>
        setError(err.status === 404 ? 'This invite is invalid, used up or has expired.' : err.message),
      );
  }, [ok, code]);
  if (!ok) return <Spinner />;
  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      const c = await acceptInvite(code);
      upsertCommunity(c);
      navigate(communityHref(c.id));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not accept the invite.');
      setBusy(false);
    }
  };
  return (
    <div class="center-page invite-page">
      <div class="card invite-card" id="invite-card">
        {preview ? (
          <>
            <p class="eyebrow-sm">You have been invited to join</p>
            <CommunityIcon community={preview.community} size={84} />
            <h1 class="invite-name">{preview.community.name}</h1>
            {preview.community.description ? <p class="muted invite-desc">{preview.community.description}</p> : null}
            <p class="invite-count">
              <span class="pdot pdot-online" aria-hidden="true" /> {plural(preview.community.member_count, 'member')}
            </p>
            <ErrorBox message={error} />
            <button type="button" id="invite-accept" class="btn btn-primary btn-lg btn-block" disabled={busy} onClick={() => void accept()}>
              {busy ? 'Joining…' : 'Accept invite'}
            </button>
            <Link href="/c" class="muted small invite-later">
              No thanks
            </Link>
          </>
        ) : error ? (
          <>
            <h1>Invite unavailable</h1>
            <ErrorBox message={error} />
            <Link href="/discover" class="btn btn-ghost">
              Discover communities
            </Link>
          </>
        ) : (
          <Spinner label="Loading the invite…" />
        )}
      </div>
    </div>
  );
}

export function Discover({ session }: { session: SessionState }) {
  const ok = useRequireSignIn(session, '/discover');
  const [q, setQ] = useState('');
  const [items, setItems] = useState<Community[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  useTitle('Discover communities');
  useEffect(() => {
    if (!ok) return;
    let live = true;
    const t = setTimeout(() => {
      discoverCommunities(q.trim())
        .then((p) => {
          if (!live) return;
          setItems(p.items);
          setCursor(p.next_cursor);
          setError(null);
        })
        .catch((err: Error) => live && setError(err.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [ok, q]);
  if (!ok) return <Spinner />;
  const more = async () => {
    if (!cursor) return;
    try {
      const p = await discoverCommunities(q.trim(), 24, cursor);
      setItems((old) => [...(old ?? []), ...p.items]);
      setCursor(p.next_cursor);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not load more.');
    }
  };
  const join = async (c: Community) => {
    if (c.me?.joined) {
      navigate(communityHref(c.id));
      return;
    }
    setJoining(c.id);
    try {
      const joined = await joinCommunity(c.id);
      upsertCommunity(joined);
      navigate(communityHref(c.id));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not join.');
      setJoining(null);
    }
  };
  return (
    <div class="chat-shell">
      <Rail activeId={null} />
      <div class="discover">
        <header class="discover-hero">
          <h1>Find your community</h1>
          <p class="muted">Public communities of players, biggest first.</p>
          <input
            id="discover-search"
            class="input discover-search"
            type="search"
            placeholder="Search communities"
            value={q}
            onInput={(e) => setQ(e.currentTarget.value)}
            aria-label="Search communities"
          />
        </header>
        <ErrorBox message={error} />
        {items === null && !error ? (
          <Spinner />
        ) : items && items.length ? (
          <ul class="discover-grid">
            {items.map((c) => (
              <li key={c.id} class="card discover-card" data-community={c.id}>
                <div class="discover-banner" aria-hidden="true" />
                <CommunityIcon community={c} size={56} />
                <h2>{c.name}</h2>
                <p class="muted discover-desc">{c.description || 'No description yet.'}</p>
                <div class="discover-foot">
                  <span class="muted small">{plural(c.member_count, 'member')}</span>
                  <button type="button" class={`btn btn-sm ${c.me?.joined ? 'btn-ghost' : 'btn-primary'}`} disabled={joining === c.id} onClick={() => void join(c)}>
                    {c.me?.joined ? 'Open' : joining === c.id ? 'Joining…' : 'Join'}
                  </button>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted discover-none">{q.trim() ? `No public community matches “${q.trim()}”.` : 'No public communities yet.'}</p>
        )}
        {cursor ? (
          <div class="load-more">
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => void more()}>
              Show more
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}
