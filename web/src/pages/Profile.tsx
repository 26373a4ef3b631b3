import { useEffect, useState } from 'preact/hooks';
import { ApiError, getProfile, setBlock, userConnections, userPosts, type Post, type Profile as ProfileT, type SessionState, type UserSummary } from '../api';
import { Link } from '../router';
import { ErrorBox, RoleBadge, Spinner, formatDate, useTitle } from '../components/ui';
import { PostTile } from '../components/PostCard';
import {
  FollowButton,
  ListFooter,
  Menu,
  UserAvatar,
  compactCount,
  displayName,
  profileHref,
  requireSignIn,
  useInfinite,
} from '../components/social';

const PAGE = 24;

function NotFoundCard({ username }: { username: string }) {
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

function useProfile(username: string, session: SessionState) {
  const [user, setUser] = useState<ProfileT | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (session.status === 'loading') return;
    let live = true;
    getProfile(username)
      .then((u) => live && setUser(u))
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(err instanceof Error ? err.message : 'Could not load this profile.');
      });
    return () => {
      live = false;
    };
  }, [username, session.status, session.user?.id]);
  return { user, setUser, missing, error };
}

function PostsGrid({ username, session, blocked }: { username: string; session: SessionState; blocked: boolean }) {
  const list = useInfinite<Post>((cursor) => userPosts(username, PAGE, cursor), `${username}|${session.user?.id ?? ''}|${blocked}`, !blocked);
  if (blocked) return null;
  return (
    <section class="profile-posts" aria-labelledby="posts-title" data-feed="profile">
      <h2 id="posts-title" class="section-sub">
        Posts
      </h2>
      {list.items === null ? (
        list.unavailable ? (
          <div class="empty-clips">
            <p class="muted">Posts will show up here soon.</p>
          </div>
        ) : list.error ? (
          <ErrorBox message={list.error.message} />
        ) : (
          <Spinner label="Loading posts…" />
        )
      ) : list.items.length === 0 ? (
        <div class="empty-clips">
          <p class="muted">{session.user?.username === username ? 'You have not posted anything yet. Post one of your clips from My clips.' : 'No posts yet.'}</p>
          {session.user?.username === username ? (
            <Link href="/clips" class="btn btn-primary btn-sm empty-cta">
              Go to my clips
            </Link>
          ) : null}
        </div>
      ) : (
        <ul class="post-grid" aria-label={`Posts by @${username}`}>
          {list.items.map((p) => (
            <PostTile key={p.id} post={p} />
          ))}
        </ul>
      )}
      <ListFooter list={list} />
    </section>
  );
}

export function Profile({ username, session }: { username: string; session: SessionState }) {
  const { user, setUser, missing, error } = useProfile(username, session);
  const [blockError, setBlockError] = useState<string | null>(null);
  useTitle(user ? `${displayName(user)} (@${user.username})` : missing ? 'Player not found' : username);

  if (missing) return <NotFoundCard username={username} />;
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
  const toggleBlock = async () => {
    if (!requireSignIn(session)) return;
    const next = !user.blocked_by_me;
    setBlockError(null);
    try {
      const r = await setBlock(user.username, next);
      // Blocking ends follows both ways.
      setUser({
        ...user,
        blocked_by_me: r.blocked,
        ...(r.blocked
          ? {
              followed_by_me: false,
              follows_me: false,
              follower_count: Math.max(0, user.follower_count - (user.followed_by_me ? 1 : 0)),
              following_count: Math.max(0, user.following_count - (user.follows_me ? 1 : 0)),
            }
          : {}),
      });
    } catch (err) {
      setBlockError(err instanceof Error ? err.message : 'Could not update.');
    }
  };
  const base = profileHref(user.username);
  return (
    <section class="container profile-page">
      <div class="card profile-card">
        <div class="profile-banner" aria-hidden="true" />
        <div class="profile-head">
          <UserAvatar user={user} size={96} class="avatar avatar-img" />
          <div class="profile-names">
            <h1 class="profile-display">{displayName(user)}</h1>
            <p class="profile-handle">
              <span class="handle">
                @<span id="profile-username">{user.username}</span>
              </span>
              <RoleBadge role={user.role} />
              {user.follows_me && !isMe ? <span class="follows-you">Follows you</span> : null}
            </p>
          </div>
          <div class="profile-actions">
            {isMe ? (
              <Link href="/me" class="btn btn-ghost btn-sm">
                Edit profile
              </Link>
            ) : user.blocked_by_me ? null : (
              <FollowButton
                username={user.username}
                following={user.followed_by_me}
                session={session}
                onChange={(following, count) =>
                  setUser((u) =>
                    u
                      ? {
                          ...u,
                          followed_by_me: following,
                          follower_count: count ?? Math.max(0, u.follower_count + (following === u.followed_by_me ? 0 : following ? 1 : -1)),
                        }
                      : u,
                  )
                }
              />
            )}
            {!isMe && session.status === 'signed-in' ? (
              <Menu label={`More options for @${user.username}`}>
                {(close) => (
                  <button
                    type="button"
                    role="menuitem"
                    class="menu-item menu-danger"
                    onClick={() => {
                      close();
                      void toggleBlock();
                    }}
                  >
                    {user.blocked_by_me ? `Unblock @${user.username}` : `Block @${user.username}`}
                  </button>
                )}
              </Menu>
            ) : null}
          </div>
        </div>
        <ErrorBox message={blockError} />
        {user.blocked_by_me ? (
          <div class="blocked-note" role="status">
            <p>
              You blocked <strong>@{user.username}</strong>. They can't see your posts or follow you, and you won't see theirs.
            </p>
            <button type="button" class="btn btn-ghost btn-sm" onClick={toggleBlock}>
              Unblock
            </button>
          </div>
        ) : null}
        {user.bio ? <p class="profile-bio">{user.bio}</p> : <p class="profile-bio muted">No bio yet.</p>}
        <ul class="stats" aria-label="Stats">
          <li>
            <a href="#posts-title" class="stat">
              <strong id="stat-posts">{compactCount(user.post_count)}</strong> <span>{user.post_count === 1 ? 'post' : 'posts'}</span>
            </a>
          </li>
          <li>
            <Link href={`${base}/followers`} class="stat">
              <strong id="stat-followers">{compactCount(user.follower_count)}</strong> <span>{user.follower_count === 1 ? 'follower' : 'followers'}</span>
            </Link>
          </li>
          <li>
            <Link href={`${base}/following`} class="stat">
              <strong id="stat-following">{compactCount(user.following_count)}</strong> <span>following</span>
            </Link>
          </li>
          <li class="stat stat-plain muted">
            Joined <time dateTime={user.created_at}>{formatDate(user.created_at)}</time>
          </li>
        </ul>
      </div>
      <PostsGrid username={user.username} session={session} blocked={user.blocked_by_me} />
    </section>
  );
}

function PersonRow({ u, session }: { u: UserSummary; session: SessionState }) {
  const [following, setFollowing] = useState(!!u.followed_by_me);
  return (
    <li class="person" data-user={u.username}>
      <Link href={profileHref(u.username)} class="person-link">
        <UserAvatar user={u} size={44} />
        <span class="person-names">
          <span class="person-name">{displayName(u)}</span>
          <span class="muted">@{u.username}</span>
        </span>
      </Link>
      {session.user?.username !== u.username ? (
        <FollowButton username={u.username} following={following} session={session} onChange={setFollowing} />
      ) : (
        <span class="muted person-you">You</span>
      )}
    </li>
  );
}

/** /u/{name}/followers and /u/{name}/following */
export function Connections({ username, which, session }: { username: string; which: 'followers' | 'following'; session: SessionState }) {
  const { user, missing } = useProfile(username, session);
  const list = useInfinite<UserSummary>((cursor) => userConnections(username, which, 30, cursor), `${username}|${which}|${session.user?.id ?? ''}`, session.status !== 'loading');
  useTitle(`${which === 'followers' ? 'Followers of' : 'Followed by'} @${username}`);
  if (missing) return <NotFoundCard username={username} />;
  const base = profileHref(username);
  const title = user ? displayName(user) : `@${username}`;
  return (
    <section class="container page people-page">
      <header class="page-head">
        <div>
          <p class="crumbs">
            <Link href={base}>{title}</Link>
          </p>
          <h1>{which === 'followers' ? 'Followers' : 'Following'}</h1>
        </div>
      </header>
      <nav class="tabs tabs-links" aria-label="Connections">
        <Link href={`${base}/followers`} class={`tab${which === 'followers' ? ' tab-on' : ''}`} aria-current={which === 'followers' ? 'page' : undefined}>
          Followers{user ? ` · ${compactCount(user.follower_count)}` : ''}
        </Link>
        <Link href={`${base}/following`} class={`tab${which === 'following' ? ' tab-on' : ''}`} aria-current={which === 'following' ? 'page' : undefined}>
          Following{user ? ` · ${compactCount(user.following_count)}` : ''}
        </Link>
      </nav>
      <div class="card people-card" data-feed={which}>
        {list.items === null ? (
          list.error ? (
            <ErrorBox message={list.error.message} />
          ) : (
            <Spinner />
          )
        ) : list.items.length === 0 ? (
          <p class="muted people-empty">
            {which === 'followers' ? `No one follows @${username} yet.` : `@${username} doesn't follow anyone yet.`}
          </p>
        ) : (
          <ul class="people">
            {list.items.map((u) => (
              <PersonRow key={u.id} u={u} session={session} />
            ))}
          </ul>
        )}
        <ListFooter list={list} />
      </div>
    </section>
  );
}
