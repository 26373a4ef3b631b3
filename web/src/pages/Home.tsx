import type { SessionState } from '../api';
import { Link } from '../router';
import { useTitle } from '../components/ui';

const highlights = [
  { at: '02:14', pos: 14, tag: 'Gunfire', reason: '7 sharp sound onsets in 2 s' },
  { at: '07:51', pos: 49, tag: 'Loud', reason: 'Loudness spike +21 dB over the last 10 s' },
  { at: '12:36', pos: 79, tag: 'Action', reason: 'Burst of motion and 3 scene cuts in 4 s' },
];

function HeroVisual() {
  return (
    <figure class="hero-visual" aria-label="Illustration: a gameplay timeline with three detected highlights and the reason for each">
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

function Ratio({ w, h, label }: { w: number; h: number; label: string }) {
  const scale = 34 / Math.max(w, h);
  return (
    <span class="ratio">
      <span class="ratio-box" style={{ width: `${w * scale}px`, height: `${h * scale}px` }} aria-hidden="true" />
      <span class="ratio-label">{label}</span>
    </span>
  );
}

export function Home({ session }: { session: SessionState }) {
  useTitle('');
  const signedIn = session.status === 'signed-in';
  return (
    <>
      <section class="hero">
        <div class="container hero-grid">
          <div class="hero-copy">
            <p class="eyebrow">For players, not video editors</p>
            <h1 class="hero-title">
              Your best plays,
              <br />
              <span class="gradient-text">found for you.</span>
            </h1>
            <p class="lead">
              Upload your gameplay and Cosmiv picks out the highlights automatically, and tells you
              <em> why</em> each moment made the cut. Export clips in 16:9, 9:16 or 1:1 and share them with
              your feed and your communities.
            </p>
            <div class="cta-row">
              {signedIn ? (
                <>
                  <Link href="/upload" class="btn btn-primary btn-lg">
                    Upload gameplay
                  </Link>
                  <Link href="/videos" class="btn btn-ghost btn-lg">
                    My videos
                  </Link>
                </>
              ) : (
                <>
                  <Link href="/register" class="btn btn-primary btn-lg">
                    Create account
                  </Link>
                  <Link href="/login" class="btn btn-ghost btn-lg">
                    Sign in
                  </Link>
                </>
              )}
            </div>
            <p class="early-access">
              <span class="pill">Early access</span> Uploads, automatic highlights and clip export are live.
              Feeds and communities are rolling out next.
            </p>
          </div>
          <HeroVisual />
        </div>
      </section>

      <section class="features container" aria-labelledby="features-title">
        <h2 id="features-title" class="section-title">
          From raw footage to a clip worth sharing
        </h2>
        <div class="feature-grid">
          <article class="card feature">
            <div class="feature-icon" aria-hidden="true">
              <svg viewBox="0 0 24 24">
                <path d="M12 16V4m0 0-5 5m5-5 5 5M4 20h16" />
              </svg>
            </div>
            <h3>Upload gameplay</h3>
            <p>Drop in a whole session. No trimming first, no timestamps to note down.</p>
          </article>
          <article class="card feature">
            <div class="feature-icon" aria-hidden="true">
              <svg viewBox="0 0 24 24">
                <path d="M13 2 4 14h7l-1 8 9-12h-7l1-8Z" />
              </svg>
            </div>
            <h3>Highlights, explained</h3>
            <p>
              Moments are found automatically, each with the reason it was picked: a multi-kill, a clutch,
              a sudden roar from your squad.
            </p>
          </article>
          <article class="card feature">
            <div class="feature-icon" aria-hidden="true">
              <svg viewBox="0 0 24 24">
                <rect x="3" y="6" width="18" height="12" rx="2" />
                <rect x="9" y="3" width="6" height="18" rx="1.5" />
              </svg>
            </div>
            <h3>Any format</h3>
            <p>Export for every screen, from widescreen to vertical.</p>
            <div class="ratios">
              <Ratio w={16} h={9} label="16:9" />
              <Ratio w={9} h={16} label="9:16" />
              <Ratio w={1} h={1} label="1:1" />
            </div>
          </article>
          <article class="card feature">
            <div class="feature-icon" aria-hidden="true">
              <svg viewBox="0 0 24 24">
                <circle cx="8" cy="9" r="3" />
                <circle cx="17" cy="8" r="2.5" />
                <path d="M3 19c.6-3 2.6-5 5-5s4.4 2 5 5M14 14.5c.9-.9 1.9-1.5 3-1.5 2 0 3.5 1.6 4 4" />
              </svg>
            </div>
            <h3>Share &amp; communities</h3>
            <p>Post clips to your feed, follow players you rate and join communities around your games.</p>
          </article>
        </div>
      </section>
    </>
  );
}
