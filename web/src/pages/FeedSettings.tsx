import { useEffect, useState } from 'preact/hooks';
import { ApiError, POST_GAME_MAX, USERNAME_RE, getFeedPreferences, putFeedPreferences, type FeedPreferences, type SessionState } from '../api';
import { Link } from '../router';
import { ErrorBox, Notice, Spinner, useTitle } from '../components/ui';
import { useRequireSignIn } from '../components/media';
import { ChipInput, SIcon, isUnavailable } from '../components/social';

const EMPTY: FeedPreferences = { favourite_games: [], hidden_games: [], hidden_creators: [], freshness: 50 };

/** Just the four fields, whatever else the server sends along. */
function normalize(p: Partial<FeedPreferences> | null | undefined): FeedPreferences {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const f = Number(p?.freshness);
  return {
    favourite_games: list(p?.favourite_games),
    hidden_games: list(p?.hidden_games),
    hidden_creators: list(p?.hidden_creators),
    freshness: Number.isFinite(f) ? Math.max(0, Math.min(100, Math.round(f))) : EMPTY.freshness,
  };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function freshnessText(v: number): string {
  if (v <= 15) return 'Mostly the most popular clips';
  if (v < 40) return 'Leaning popular';
  if (v <= 60) return 'A mix of popular and fresh';
  if (v < 85) return 'Leaning fresh';
  return 'Mostly the newest clips';
}

export function FeedSettings({ session }: { session: SessionState }) {
  useTitle('Tune your feed');
  const signedIn = useRequireSignIn(session, '/settings/feed');
  const [saved, setSaved] = useState<FeedPreferences | null>(null);
  const [prefs, setPrefs] = useState<FeedPreferences>(EMPTY);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<{ field: string; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    getFeedPreferences()
      .then((p) => {
        if (!live) return;
        const full = normalize(p);
        setSaved(full);
        setPrefs(full);
      })
      .catch((err) => {
        if (!live) return;
        if (isUnavailable(err)) {
          setSaved(EMPTY);
          setLoadError('Feed preferences are not switched on yet; you can try saving in a moment.');
        } else setLoadError(err instanceof Error ? err.message : 'Could not load your preferences.');
      });
    return () => {
      live = false;
    };
  }, [signedIn]);

  const dirty =
    !!saved &&
    (!sameList(prefs.favourite_games, saved.favourite_games) ||
      !sameList(prefs.hidden_games, saved.hidden_games) ||
      !sameList(prefs.hidden_creators, saved.hidden_creators) ||
      prefs.freshness !== saved.freshness);

  const update = (p: Partial<FeedPreferences>) => {
    setPrefs((cur) => ({ ...cur, ...p }));
    setNotice(null);
    if (fieldError && Object.keys(p).includes(fieldError.field)) setFieldError(null);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setFieldError(null);
    setNotice(null);
    try {
      const r = await putFeedPreferences(prefs);
      const full = r && typeof r === 'object' ? normalize(r) : prefs;
      setSaved(full);
      setPrefs(full);
      setLoadError(null);
      setNotice('Saved. Your For you feed will follow these from now on.');
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not save.');
      if (err instanceof ApiError && err.field) setFieldError({ field: err.field, message: err.message });
    } finally {
      setBusy(false);
    }
  };

  if (!signedIn || saved === null) {
    return (
      <section class="container narrow page">
        {loadError ? <ErrorBox message={loadError} /> : <Spinner label="Loading your preferences…" />}
      </section>
    );
  }

  const gameRule = (v: string) => (v.length > POST_GAME_MAX ? `At most ${POST_GAME_MAX} characters.` : null);
  return (
    <section class="container page settings-page">
      <header class="page-head">
        <div>
          <p class="crumbs">
            <Link href="/?tab=for-you">For you</Link>
          </p>
          <h1>Tune your feed</h1>
          <p class="muted">Tell us what you want more of, and what you never want to see. Only you see these.</p>
        </div>
      </header>
      <form class="card settings-card" onSubmit={save} noValidate aria-label="Feed preferences">
        {loadError ? (
          <p class="muted" role="status">
            {loadError}
          </p>
        ) : null}
        <ErrorBox message={error} />
        <fieldset class="settings-section">
          <legend>
            <SIcon name="sliders" /> Fresh or popular
          </legend>
          <div class="slider-field">
            <div class="slider-ends" aria-hidden="true">
              <span>Popular</span>
              <span>Fresh</span>
            </div>
            <input
              type="range"
              id="freshness"
              min={0}
              max={100}
              step={5}
              value={prefs.freshness}
              aria-label="Fresh or popular: 0 is popular, 100 is fresh"
              aria-valuetext={`${prefs.freshness}: ${freshnessText(prefs.freshness)}`}
              style={{ '--v': `${prefs.freshness}%` }}
              onInput={(e) => update({ freshness: Number((e.currentTarget as HTMLInputElement).value) })}
            />
            <p class="slider-value" aria-hidden="true">
              {freshnessText(prefs.freshness)}
            </p>
          </div>
        </fieldset>
        <fieldset class="settings-section">
          <legend>Games</legend>
          <ChipInput
            id="favourite-games"
            serverError={fieldError?.field === 'favourite_games' ? fieldError.message : null}
            label="Favourite games"
            values={prefs.favourite_games}
            onChange={(v) => update({ favourite_games: v, hidden_games: prefs.hidden_games.filter((g) => !v.some((x) => x.toLowerCase() === g.toLowerCase())) })}
            placeholder="Valorant, Rocket League…"
            hint="Clips from these games get a boost."
            validate={gameRule}
          />
          <ChipInput
            id="hidden-games"
            serverError={fieldError?.field === 'hidden_games' ? fieldError.message : null}
            label="Hidden games"
            values={prefs.hidden_games}
            onChange={(v) => update({ hidden_games: v, favourite_games: prefs.favourite_games.filter((g) => !v.some((x) => x.toLowerCase() === g.toLowerCase())) })}
            placeholder="Games you never want to see"
            hint="Clips from these games leave your For you feed."
            validate={gameRule}
          />
        </fieldset>
        <fieldset class="settings-section">
          <legend>Creators</legend>
          <ChipInput
            id="hidden-creators"
            serverError={fieldError?.field === 'hidden_creators' ? fieldError.message : null}
            label="Hidden creators"
            values={prefs.hidden_creators}
            onChange={(v) => update({ hidden_creators: v })}
            placeholder="username"
            prefix="@"
            hint="Their posts leave your For you feed. They are not told."
            normalize={(v) => v.trim().replace(/^@/, '')}
            validate={(v) => (USERNAME_RE.test(v) ? null : 'A username is 3–32 letters, digits or _.')}
          />
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled={busy || !dirty} id="save-prefs">
            {busy ? 'Saving…' : 'Save'}
          </button>
          {dirty ? (
            <button type="button" class="btn btn-ghost" onClick={() => setPrefs(saved)}>
              Undo changes
            </button>
          ) : null}
          <Notice message={notice} />
        </div>
      </form>
    </section>
  );
}
