import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getFeed, type FeedKind, type Post, type SessionState } from '../api';
import { Link, navigate } from '../router';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import { PostCard } from '../components/PostCard';
import { ListFooter, SIcon, signInHref, useInfinite } from '../components/social';

const PAGE = 10;

const highlights = [
  { at: '02:14', pos: 14, tag: 'Gunfire', reason: '7 sharp sound onsets in 2 s' },
  { at: '07:51', pos: 49, tag: 'Loud', reason: 'Loudness spike +21 dB over the last 10 s' },
  { at: '12:36', pos: 79, tag: 'Action', reason: 'Burst of motion and 3 scene cuts in 4 s' },
];

function HeroVisual() {
  return (
    <figure class="hero-visual hero-visual-compact" aria-label="Illustration: a gameplay timeline with three detected highlights and the reason for each">
      <div class="hv-screen" aria-hidden="true">
        <div class="hv-scanlines" />
        <div class="hv-hud">
          <span class="hv-rec">● REC</span>
          <span class="hv-time">12:36 / 18:02</span>
        </div>
        <div class="hv-reticle" />
      </div>
      <div class="hv-timeline" aria-hidden="true">
        <div class="hv-track">
          <div class="hv-wave" />
          {highlights.map((h) => (
            <span class="hv-marker" style={{ left: `${h.pos}%` }} key={h.at} />
          ))}
        </div>
      </div>
      <ul class="hv-list">
        {highlights.map((h) => (
          <li class="hv-item" key={h.at}>
            <span class="hv-at">{h.at}</span>
            <span class="hv-tag">{h.tag}</span>
            <span class="hv-reason">{h.reason}</span>
          </li>
        ))}
      </ul>
      <figcaption class="hv-caption">Example of what Cosmiv finds in a match</figcaption>
    </figure>
  );
}

const features = [
  { title: 'Upload gameplay', text: 'Drop in a whole session, no trimming first.', icon: <path d="M12 16V4m0 0-5 5m5-5 5 5M4 20h16" /> },
  { title: 'Highlights, explained', text: 'Found automatically, each with the reason it was picked.', icon: <path d="M13 2 4 14h7l-1 8 9-12h-7l1-8Z" /> },
  {
    title: 'Any format',
    text: 'Export 16:9, 9:16 or 1:1, from widescreen to vertical.',
    icon: (
      <>
        <rect x="3" y="6" width="18" height="12" rx="2" />
        <rect x="9" y="3" width="6" height="18" rx="1.5" />
      </>
    ),
  },
  {
    title: 'Share & follow',
    text: 'Post clips to the feed and follow players you rate.',
    icon: (
      <>
        <circle cx="8" cy="9" r="3" />
        <circle cx="17" cy="8" r="2.5" />
        <path d="M3 19c.6-3 2.6-5 5-5s4.4 2 5 5M14 14.5c.9-.9 1.9-1.5 3-1.5 2 0 3.5 1.6 4 4" />
      </>
    ),
  },
];

/** The marketing block, compact, for signed-out visitors only. */
function Hero() {
  return (
    <section class="hero hero-compact" aria-labelledby="hero-title">
      <div class="container hero-grid">
        <div class="hero-copy">
          <p class="eyebrow">For players, not video editors</p>
          <h1 class="hero-title" id="hero-title">
            Your best plays, <span class="gradient-text">found for you.</span>
          </h1>
          <p class="lead">
            Upload your gameplay and Cosmiv picks out the highlights automatically, and tells you <em>why</em> each moment made the cut. Export
            clips in any format and share them with the players who follow you.
          </p>
          <div class="cta-row">
            <Link href="/register" class="btn btn-primary btn-lg">
              Create account
            </Link>
            <Link href="/login" class="btn btn-ghost btn-lg">
              Sign in
            </Link>
          </div>
          <ul class="mini-features" aria-label="What Cosmiv does">
            {features.map((f) => (
              <li key={f.title}>
                <span class="feature-icon mini-icon" aria-hidden="true">
                  <svg viewBox="0 0 24 24">{f.icon}</svg>
                </span>
                <span>
                  <strong>{f.title}</strong>
                  <span class="muted"> {f.text}</span>
                </span>
              </li>
            ))}
          </ul>
        </div>
        <HeroVisual />
      </div>
    </section>
  );
}

const TABS: { id: FeedKind; label: string; needsAccount: boolean }[] = [
  { id: 'for-you', label: 'For you', needsAccount: true },
  { id: 'following', label: 'Following', needsAccount: true },
  { id: 'trending', label: 'Trending', needsAccount: false },
  { id: 'new', label: 'New', needsAccount: false },
];

function parseTab(search: string, signedIn: boolean): { tab: FeedKind; game: string } {
  const q = new URLSearchParams(search);
  const t = q.get('tab');
  const tab = TABS.find((x) => x.id === t)?.id ?? (signedIn ? 'for-you' : 'trending');
  return { tab, game: tab === 'trending' || tab === 'new' ? (q.get('game') ?? '').trim() : '' };
}

function hrefFor(tab: FeedKind, game = ''): string {
  const q = new URLSearchParams({ tab });
  if (game) q.set('game', game);
  return `/?${q.toString()}`;
}

function GameFilter({ game, games, tab }: { game: string; games: string[]; tab: FeedKind }) {
  const [text, setText] = useState(game);
  useEffect(() => setText(game), [game]);
  const chips = useMemo(() => {
    const all = game && !games.some((g) => g.toLowerCase() === game.toLowerCase()) ? [game, ...games] : games;
    return all.slice(0, 10);
  }, [game, games]);
  return (
    <div class="game-filter">
      <form
        class="game-filter-form"
        role="search"
        aria-label="Filter by game"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(hrefFor(tab, text.trim()), { replace: true });
        }}
      >
        <label for="game-filter" class="sr-only">
          Game
        </label>
        <span class="game-filter-icon" aria-hidden="true">
          <SIcon name="gamepad" />
        </span>
        <input
          id="game-filter"
          value={text}
          maxLength={40}
          placeholder="Filter by game"
          list="game-filter-list"
          autocomplete="off"
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <datalist id="game-filter-list">
          {games.map((g) => (
            <option value={g} key={g} />
          ))}
        </datalist>
        <button type="submit" class="btn btn-ghost btn-sm">
          Filter
        </button>
      </form>
      {chips.length || game ? (
        <ul class="filter-chips" aria-label="Games">
          <li>
            <button type="button" class={`filter-chip${!game ? ' filter-chip-on' : ''}`} aria-pressed={!game} onClick={() => navigate(hrefFor(tab), { replace: true })}>
              All games
            </button>
          </li>
          {chips.map((g) => {
            const on = g.toLowerCase() === game.toLowerCase();
            return (
              <li key={g}>
                <button
                  type="button"
                  class={`filter-chip${on ? ' filter-chip-on' : ''}`}
                  aria-pressed={on}
                  onClick={() => navigate(hrefFor(tab, on ? '' : g), { replace: true })}
                >
                  {g}
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}

function SignInPrompt({ tab }: { tab: FeedKind }) {
  return (
    <div class="card empty-card empty-state feed-empty" id="feed-signin">
      <div class="feature-icon empty-icon" aria-hidden="true">
        <svg viewBox="0 0 24 24">
          <path d="M12 3l2.6 5.6 6 .7-4.5 4.1 1.2 6-5.3-3-5.3 3 1.2-6L3.4 9.3l6-.7L12 3Z" />
        </svg>
      </div>
      <h2>{tab === 'for-you' ? 'A feed picked for you' : 'Clips from players you follow'}</h2>
      <p class="muted">
        {tab === 'for-you'
          ? 'Sign in and Cosmiv ranks clips from the games and players you like, and tells you why each one is there.'
          : 'Sign in to follow players and see their new clips here first.'}
      </p>
      <div class="btn-row center">
        <Link href={signInHref()} class="btn btn-primary">
          Sign in
        </Link>
        <Link href="/register" class="btn btn-ghost">
          Create account
        </Link>
      </div>
    </div>
  );
}

function EmptyFeed({ tab, game }: { tab: FeedKind; game: string }) {
  const text: Record<FeedKind, { h: string; p: string }> = {
    'for-you': { h: 'Nothing to recommend yet', p: 'Like and follow a few players, or tell us your favourite games.' },
    following: { h: 'No posts from people you follow', p: 'Follow players from Trending or New, and their clips land here.' },
    trending: { h: game ? `Nothing trending in ${game}` : 'Nothing trending right now', p: 'Check the newest posts instead.' },
    new: { h: game ? `No posts in ${game} yet` : 'No posts yet', p: 'Be the first: post one of your clips.' },
  };
  const t = text[tab];
  return (
    <div class="card empty-card empty-state feed-empty">
      <h2>{t.h}</h2>
      <p class="muted">{t.p}</p>
      <div class="btn-row center">
        {tab === 'for-you' ? (
          <Link href="/settings/feed" class="btn btn-ghost">
            Pick your favourite games
          </Link>
        ) : null}
        {tab !== 'trending' ? (
          <Link href={hrefFor('trending')} class="btn btn-ghost">
            See what's trending
          </Link>
        ) : (
          <Link href={hrefFor('new', game)} class="btn btn-ghost">
            See new posts
          </Link>
        )}
        {tab === 'new' ? (
          <Link href="/clips" class="btn btn-primary">
            Post a clip
          </Link>
        ) : null}
      </div>
    </div>
  );
}

function Feed({ tab, game, session }: { tab: FeedKind; game: string; session: SessionState }) {
  const list = useInfinite<Post>((cursor) => getFeed(tab, { limit: PAGE, cursor, game }), `${tab}|${game}|${session.user?.id ?? ''}`);
  const seenGames = useRef<string[]>([]);
  const games = useMemo(() => {
    const counts = new Map<string, number>();
    for (const p of list.items ?? []) if (p.game) counts.set(p.game, (counts.get(p.game) ?? 0) + 1);
    const fresh = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
    // Keep the chips from before a filter was picked, so the row does not collapse to one game.
    const merged = [...seenGames.current];
    for (const g of fresh) if (!merged.some((x) => x.toLowerCase() === g.toLowerCase())) merged.push(g);
    seenGames.current = merged.slice(0, 12);
    return seenGames.current;
  }, [list.items]);

  return (
    <div class="feed" data-feed={tab} role="tabpanel" id="feed-panel" aria-labelledby={`tab-${tab}`}>
      {tab === 'trending' || tab === 'new' ? <GameFilter game={game} games={games} tab={tab} /> : null}
      {list.restarted ? (
        <p class="notice feed-notice" role="status">
          Your feed was refreshed.
        </p>
      ) : null}
      {list.items === null ? (
        list.unavailable ? (
          <div class="card empty-card empty-state feed-empty">
            <h2>The feed is almost here</h2>
            <p class="muted">Posts and feeds are being switched on. Check back in a moment.</p>
          </div>
        ) : list.error ? (
          <div class="feed-error">
            <ErrorBox message={list.error.message} />
            <button type="button" class="btn btn-ghost" onClick={list.retry}>
              Try again
            </button>
          </div>
        ) : (
          <Spinner label="Loading the feed…" />
        )
      ) : list.items.length === 0 ? (
        <EmptyFeed tab={tab} game={game} />
      ) : (
        <ol class="feed-list" aria-label="Posts">
          {list.items.map((p) => (
            <li key={p.id}>
              <PostCard post={p} session={session} showReasons={tab === 'for-you'} onRemove={(id) => list.setItems((xs) => xs.filter((x) => x.id !== id))} />
            </li>
          ))}
        </ol>
      )}
      <ListFooter list={list} endText="You're all caught up." />
    </div>
  );
}

export function Home({ session, search }: { session: SessionState; search: string }) {
  useTitle('');
  const signedIn = session.status === 'signed-in';
  const { tab, game } = parseTab(search, signedIn);
  const needsAccount = TABS.find((t) => t.id === tab)!.needsAccount;
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  const select = (t: FeedKind) => navigate(hrefFor(t, t === 'trending' || t === 'new' ? game : ''), { replace: true });
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = TABS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    select(TABS[j].id);
    requestAnimationFrame(() => tabRefs.current[TABS[j].id]?.focus());
  };

  return (
    <>
      {session.status === 'signed-out' ? <Hero /> : null}
      <section class={`container feed-page${signedIn ? '' : ' feed-page-guest'}`} aria-label="Feed">
        <div class="feed-head">
          {signedIn ? <h1 class="sr-only">Your feed</h1> : null}
          <div class="tabs" role="tablist" aria-label="Feeds" onKeyDown={onKey}>
            {TABS.map((t) => (
              <button
                key={t.id}
                ref={(el) => {
                  tabRefs.current[t.id] = el;
                }}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                class={`tab${tab === t.id ? ' tab-on' : ''}`}
                aria-selected={tab === t.id}
                aria-controls="feed-panel"
                tabIndex={tab === t.id ? 0 : -1}
                onClick={() => select(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
          {tab === 'for-you' && signedIn ? (
            <Link href="/settings/feed" class="btn btn-ghost btn-sm tune-link">
              <SIcon name="sliders" /> Tune your feed
            </Link>
          ) : null}
        </div>
        {session.status === 'loading' ? (
          <Spinner label="Loading…" />
        ) : needsAccount && !signedIn ? (
          <div role="tabpanel" id="feed-panel" aria-labelledby={`tab-${tab}`}>
            <SignInPrompt tab={tab} />
          </div>
        ) : (
          <Feed key={tab} tab={tab} game={game} session={session} />
        )}
      </section>
    </>
  );
}
