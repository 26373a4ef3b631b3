import { useEffect, useState } from 'preact/hooks';
import { getSession, logout, subscribe, type SessionState } from './api';
import { Link, navigate, useLocation } from './router';
import { Logo } from './components/Logo';
import { Home } from './pages/Home';
import { Register } from './pages/Register';
import { Login } from './pages/Login';
import { Me } from './pages/Me';
import { Connections, Profile } from './pages/Profile';
import { PostPage } from './pages/PostPage';
import { FeedSettings } from './pages/FeedSettings';
import { Notifications } from './pages/Notifications';
import { SIcon } from './components/social';
import { useUnread } from './components/unread';
import { NotFound } from './pages/NotFound';
import { Upload, useUpload } from './pages/Upload';
import { Videos } from './pages/Videos';
import { VideoPage } from './pages/VideoPage';
import { Clips } from './pages/Clips';
import { Icon } from './components/media';
import { Communities } from './pages/Communities';
import { CommunitySettings } from './pages/CommunitySettings';
import { Discover, InvitePage } from './pages/Invite';

export function useSession(): SessionState {
  const [s, setS] = useState<SessionState>(getSession);
  useEffect(() => {
    setS(getSession());
    return subscribe(setS);
  }, []);
  return s;
}

function UploadBadge() {
  const u = useUpload();
  if (u.phase !== 'uploading' && u.phase !== 'paused' && u.phase !== 'finishing') return null;
  const pct = u.total > 0 ? Math.floor((u.sent / u.total) * 100) : 0;
  return (
    <span class={`nav-badge${u.phase === 'paused' ? ' nav-badge-paused' : ''}`} aria-label={`upload ${pct}%`}>
      {pct}%
    </span>
  );
}

function Bell({ pathname }: { pathname: string }) {
  const n = useUnread(true, pathname);
  const label = n > 0 ? `Notifications, ${n} unread` : 'Notifications';
  return (
    <Link href="/notifications" class="nav-link nav-media nav-bell" aria-current={pathname === '/notifications' ? 'page' : undefined} aria-label={label} title={label}>
      <SIcon name="bell" />
      {n > 0 ? (
        <span class="nav-badge bell-badge" aria-hidden="true" data-testid="unread-count">
          {n > 99 ? '99+' : n}
        </span>
      ) : null}
    </Link>
  );
}

function Nav({ session, pathname }: { session: SessionState; pathname: string }) {
  const [busy, setBusy] = useState(false);
  const current = (p: string) => (pathname === p ? 'page' : undefined);
  const section = (p: string) => (pathname === p ? 'page' : pathname.startsWith(`${p}/`) ? 'true' : undefined);
  const signOut = async () => {
    setBusy(true);
    try {
      await logout();
    } finally {
      setBusy(false);
      navigate('/');
    }
  };
  const signedIn = session.status === 'signed-in';
  return (
    <header class="topbar">
      <nav class={`nav container${signedIn ? ' nav-signed-in' : ''}`} aria-label="Main">
        <Link href="/" class="wordmark" aria-label="Cosmiv home">
          <Logo />
          <span>Cosmiv</span>
        </Link>
        <ul class="nav-links">
          <li class={signedIn ? 'nav-home' : undefined}>
            <Link href="/" class="nav-link" aria-current={current('/')}>
              Home
            </Link>
          </li>
          {signedIn ? (
            <>
              <li>
                <Link href="/upload" class="nav-link nav-media" aria-current={current('/upload')}>
                  <Icon name="upload" />
                  <span class="nav-label">Upload</span>
                  <UploadBadge />
                </Link>
              </li>
              <li>
                <Link href="/videos" class="nav-link nav-media" aria-current={section('/videos')}>
                  <Icon name="videos" />
                  <span class="nav-label">Videos</span>
                </Link>
              </li>
              <li>
                <Link href="/clips" class="nav-link nav-media" aria-current={current('/clips')}>
                  <Icon name="clips" />
                  <span class="nav-label">Clips</span>
                </Link>
              </li>
              <li>
                <Link
                  href="/c"
                  class="nav-link nav-media"
                  id="nav-communities"
                  aria-current={pathname === '/c' || pathname.startsWith('/c/') || pathname === '/discover' ? 'page' : undefined}
                  aria-label="Communities"
                >
                  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M4 5h16v10H9l-5 4V5Z" />
                    <path d="M8 9h8M8 12h5" />
                  </svg>
                  <span class="nav-label">
                    <span class="hide-phone">Communities</span>
                    <span class="show-phone">Chat</span>
                  </span>
                </Link>
              </li>
              <li>
                <Bell pathname={pathname} />
              </li>
              <li>
                <Link href="/me" class="nav-link nav-media" aria-current={current('/me')} aria-label="My profile">
                  <svg class="icon show-phone-flex" viewBox="0 0 24 24" aria-hidden="true">
                    <circle cx="12" cy="8" r="4" />
                    <path d="M4 21c1-4.5 4-7 8-7s7 2.5 8 7" />
                  </svg>
                  <span class="nav-label">
                    <span class="hide-phone">My profile</span>
                    <span class="show-phone">Profile</span>
                  </span>
                </Link>
              </li>
              <li>
                <button type="button" id="signout" class="nav-link nav-button nav-media" onClick={signOut} disabled={busy}>
                  <svg class="icon show-phone-flex" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M9 4H6a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h3M16 17l5-5-5-5M21 12H9" />
                  </svg>
                  <span class="nav-label">Sign out</span>
                </button>
              </li>
            </>
          ) : session.status === 'signed-out' ? (
            <>
              <li>
                <Link href="/login" class="nav-link" aria-current={current('/login')}>
                  Sign in
                </Link>
              </li>
              <li>
                <Link href="/register" class="btn btn-primary btn-sm" aria-current={current('/register')}>
                  Create account
                </Link>
              </li>
            </>
          ) : (
            <li class="nav-placeholder" aria-hidden="true" />
          )}
        </ul>
      </nav>
    </header>
  );
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function route(pathname: string, session: SessionState, search: string) {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/') return <Home session={session} search={search} />;
  if (path === '/notifications') return <Notifications session={session} />;
  if (path === '/settings/feed') return <FeedSettings session={session} />;
  const p = /^\/p\/([^/]+)$/.exec(path);
  if (p) {
    const pid = decodeSegment(p[1]);
    return <PostPage key={pid} id={pid} session={session} />;
  }
  const c = /^\/u\/([^/]+)\/(followers|following)$/.exec(path);
  if (c) {
    const name = decodeSegment(c[1]);
    return <Connections key={`${name}/${c[2]}`} username={name} which={c[2] as 'followers' | 'following'} session={session} />;
  }
  if (path === '/c') return <Communities session={session} communityId={null} channelId={null} />;
  if (path === '/discover') return <Discover session={session} />;
  const cs = /^\/c\/([^/]+)\/settings(?:\/([a-z]+))?$/.exec(path);
  if (cs) return <CommunitySettings key={cs[1]} session={session} communityId={decodeSegment(cs[1])} tab={cs[2] ?? null} />;
  const cc = /^\/c\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (cc) return <Communities session={session} communityId={decodeSegment(cc[1])} channelId={cc[2] ? decodeSegment(cc[2]) : null} />;
  const inv = /^\/invite\/([^/]+)$/.exec(path);
  if (inv) return <InvitePage key={inv[1]} session={session} code={decodeSegment(inv[1])} />;
  if (path === '/register') return <Register session={session} search={search} />;
  if (path === '/login') return <Login session={session} search={search} />;
  if (path === '/me') return <Me session={session} />;
  if (path === '/upload') return <Upload session={session} />;
  if (path === '/videos') return <Videos session={session} />;
  if (path === '/clips') return <Clips session={session} />;
  const v = /^\/videos\/([^/]+)$/.exec(path);
  if (v) {
    let vid = v[1];
    try {
      vid = decodeURIComponent(vid);
    } catch {
      /* keep raw */
    }
    return <VideoPage key={vid} id={vid} session={session} />;
  }
  const m = /^\/u\/([^/]+)$/.exec(path);
  if (m) {
    let name = m[1];
    try {
      name = decodeURIComponent(name);
    } catch {
      /* keep raw */
    }
    return <Profile key={name} username={name} session={session} />;
  }
  return <NotFound />;
}

export function App() {
  const session = useSession();
  const { pathname, search } = useLocation();
  const chat = pathname === '/c' || pathname.startsWith('/c/') || pathname === '/discover';
  return (
    <div class={`shell${chat ? ' shell-chat' : ''}`}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Nav session={session} pathname={pathname} />
      <main id="main" class="main" tabIndex={-1}>
        {route(pathname, session, search)}
      </main>
      <footer class="footer">
        <div class="container footer-inner">
          <span class="footer-brand">
            <Logo size={18} /> Cosmiv
          </span>
          <span class="muted">Made for players. Your clips, your call.</span>
        </div>
      </footer>
    </div>
  );
}
