import { useEffect, useState } from 'preact/hooks';
import { ApiError, getUser, type PublicUser, type SessionState } from '../api';
import { Link } from '../router';
import { Avatar, ErrorBox, RoleBadge, Spinner, formatDate, useTitle } from '../components/ui';

export function Profile({ username, session }: { username: string; session: SessionState }) {
  const [user, setUser] = useState<PublicUser | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useTitle(user ? `${user.display_name || user.username} (@${user.username})` : missing ? 'Player not found' : username);

  useEffect(() => {
    let live = true;
    getUser(username)
      .then((u) => live && setUser(u))
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(err instanceof Error ? err.message : 'Could not load this profile.');
      });
    return () => {
      live = false;
    };
  }, [username]);

  if (missing) {
    return (
      <section class="container narrow center-page">
        <div class="card empty-card">
          <p class="big-code gradient-text" aria-hidden="true">
            ?
          </p>
          <h1>Player not found</h1>
          <p class="muted">
            There is no player called <strong>@{username}</strong>.
          </p>
          <Link href="/" class="btn btn-primary">
            Back to home
          </Link>
        </div>
      </section>
    );
  }
  if (error) {
    return (
      <section class="container narrow">
        <ErrorBox message={error} />
      </section>
    );
  }
  if (!user) {
    return (
      <section class="container narrow">
        <Spinner label="Loading profile…" />
      </section>
    );
  }

  const isMe = session.user?.username === user.username;
  return (
    <section class="container profile-page">
      <div class="card profile-card">
        <div class="profile-banner" aria-hidden="true" />
        <div class="profile-head">
          <Avatar user={user} />
          <div class="profile-names">
            <h1 class="profile-display">{user.display_name || user.username}</h1>
            <p class="profile-handle">
              <span class="handle">
                @<span id="profile-username">{user.username}</span>
              </span>
              <RoleBadge role={user.role} />
            </p>
          </div>
          {isMe ? (
            <Link href="/me" class="btn btn-ghost btn-sm profile-public">
              Edit profile
            </Link>
          ) : null}
        </div>
        {user.bio ? <p class="profile-bio">{user.bio}</p> : <p class="profile-bio muted">No bio yet.</p>}
        <dl class="facts">
          <div>
            <dt>Member since</dt>
            <dd>
              <time dateTime={user.created_at}>{formatDate(user.created_at)}</time>
            </dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{user.role}</dd>
          </div>
        </dl>
        <div class="empty-clips">
          <p class="muted">Clips and highlights will show up here once uploads open.</p>
        </div>
      </div>
    </section>
  );
}
