import { useEffect, useState } from 'preact/hooks';
import { PASSWORD_MAX, PASSWORD_MIN, USERNAME_RE, register, type SessionState } from '../api';
import { Link, navigate, safeNext } from '../router';
import { ErrorBox, Field, useTitle } from '../components/ui';
import { useFormErrors, type FieldErrors } from '../components/form';

function validate(username: string, email: string, password: string): FieldErrors {
  const errs: FieldErrors = {};
  if (!USERNAME_RE.test(username)) {
    errs.username = 'Username must be 3–32 characters: letters, digits and underscores.';
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
    errs.email = 'Enter a valid email address.';
  }
  if (password.length < PASSWORD_MIN) {
    errs.password = `Password must be at least ${PASSWORD_MIN} characters.`;
  } else if (password.length > PASSWORD_MAX) {
    errs.password = `Password must be at most ${PASSWORD_MAX} characters.`;
  }
  return errs;
}

export function Register({ session, search }: { session: SessionState; search: string }) {
  useTitle('Create account');
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors();
  const next = safeNext(search);

  useEffect(() => {
    if (session.status === 'signed-in' && !busy) navigate(next, { replace: true });
  }, [session.status]);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    errors.clear();
    if (errors.fromValidation(validate(username, email, password))) return;
    setBusy(true);
    try {
      await register(username, email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      errors.fromError(err, ['username', 'email', 'password']);
      setBusy(false);
    }
  };

  return (
    <section class="container auth-page">
      <div class="card auth-card">
        <h1>Create your account</h1>
        <p class="muted auth-sub">Claim your name and get ready for your first highlights.</p>
        <ErrorBox message={errors.message} />
        <form method="post" action="/register" noValidate onSubmit={onSubmit} aria-busy={busy}>
          <Field
            id="username"
            name="username"
            label="Username"
            value={username}
            onValue={(v) => {
              setUsername(v);
              errors.clearField('username');
            }}
            error={errors.fields.username}
            hint="3–32 characters: letters, digits and underscores."
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            maxLength={32}
            required
          />
          <Field
            id="email"
            name="email"
            type="email"
            label="Email"
            value={email}
            onValue={(v) => {
              setEmail(v);
              errors.clearField('email');
            }}
            error={errors.fields.email}
            autocomplete="email"
            inputMode="email"
            required
          />
          <Field
            id="password"
            name="password"
            type="password"
            label="Password"
            value={password}
            onValue={(v) => {
              setPassword(v);
              errors.clearField('password');
            }}
            error={errors.fields.password}
            hint={`At least ${PASSWORD_MIN} characters.`}
            autocomplete="new-password"
            maxLength={PASSWORD_MAX}
            required
          />
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Creating account…' : 'Create account'}
          </button>
        </form>
        <p class="auth-switch muted">
          Already have an account? <Link href="/login">Sign in</Link>
        </p>
      </div>
    </section>
  );
}
