import { useEffect, useState } from 'preact/hooks';
import { getSession, logout, subscribe, type SessionState } from './api';
import { Link, navigate, useLocation } from './router';
import { Logo } from './components/Logo';
import { Home } from './pages/Home';
import { Register } from './pages/Register';
import { Login } from './pages/Login';
import { Me } from './pages/Me';
import { Profile } from './pages/Profile';
import { NotFound } from './pages/NotFound';

export function useSession(): SessionState {
  const [s, setS] = useState<SessionState>(getSession);
  useEffect(() => {
    setS(getSession());
    return subscribe(setS);
  }, []);
  return s;
}

function Nav({ session, pathname }: { session: SessionState; pathname: string }) {
  const [busy, setBusy] = useState(false);
  const current = (p: string) => (pathname === p ? 'page' : undefined);
  const signOut = async () => {
    setBusy(true);
    try {
      await logout();
    } finally {
      setBusy(false);
      navigate('/');
    }
  };
  return (
    <header class="topbar">
      <nav class="nav container" aria-label="Main">
        <Link href="/" class="wordmark" aria-label="Cosmiv home">
          <Logo />
          <span>Cosmiv</span>
        </Link>
        <ul class="nav-links">
          <li>
            <Link href="/" class="nav-link" aria-current={current('/')}>
              Home
            </Link>
          </li>
          {session.status === 'signed-in' ? (
            <>
              <li>
                <Link href="/me" class="nav-link" aria-current={current('/me')}>
                  My profile
                </Link>
              </li>
              <li>
                <button type="button" id="signout" class="nav-link nav-button" onClick={signOut} disabled={busy}>
                  Sign out
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

function route(pathname: string, session: SessionState, search: string) {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/') return <Home session={session} />;
  if (path === '/register') return <Register session={session} search={search} />;
  if (path === '/login') return <Login session={session} search={search} />;
  if (path === '/me') return <Me session={session} />;
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
  return (
    <div class="shell">
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
