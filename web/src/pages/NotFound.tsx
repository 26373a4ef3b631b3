import { Link } from '../router';
import { useTitle } from '../components/ui';

export function NotFound() {
  useTitle('Page not found');
  return (
    <section class="container narrow center-page">
      <div class="card empty-card">
        <p class="big-code gradient-text" aria-hidden="true">
          404
        </p>
        <h1>Page not found</h1>
        <p class="muted">This page respawned somewhere else, or never existed.</p>
        <Link href="/" class="btn btn-primary">
          Back to home
        </Link>
      </div>
    </section>
  );
}
