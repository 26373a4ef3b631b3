import { useEffect, useState } from 'preact/hooks';
import { login, type SessionState } from '../api';
import { Link, navigate, safeNext } from '../router';
import { ErrorBox, Field, useTitle } from '../components/ui';
import { useFormErrors, type FieldErrors } from '../components/form';

export function Login({ session, search }: { session: SessionState; search: string }) {
  useTitle('Sign in');
  const [loginName, setLoginName] = useState('');
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
    const errs: FieldErrors = {};
    if (!loginName.trim()) errs.login = 'Enter your username or email.';
    if (!password) errs.password = 'Enter your password.';
    if (errors.fromValidation(errs)) return;
    setBusy(true);
    try {
      await login(loginName.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      errors.fromError(err, ['login', 'password']);
      setBusy(false);
    }
  };

  return (
    <section class="container auth-page">
      <div class="card auth-card">
        <h1>Welcome back</h1>
        <p class="muted auth-sub">Sign in to pick up where you left off.</p>
        <ErrorBox message={errors.message} />
        <form method="post" action="/login" noValidate onSubmit={onSubmit} aria-busy={busy}>
          <Field
            id="login"
            name="login"
            label="Username or email"
            value={loginName}
            onValue={(v) => {
              setLoginName(v);
              errors.clearField('login');
            }}
            error={errors.fields.login}
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
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
            autocomplete="current-password"
            required
          />
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="auth-switch muted">
          New to Cosmiv? <Link href="/register">Create an account</Link>
        </p>
      </div>
    </section>
  );
}
