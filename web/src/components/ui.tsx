import type { ComponentChildren, PartialInputHTMLAttributes } from 'preact';
import { useEffect } from 'preact/hooks';
import type { PublicUser, Role } from '../api';

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Cosmiv` : 'Cosmiv: your best plays, found for you';
  }, [title]);
}

export function ErrorBox({ message, id }: { message: string | null; id?: string }) {
  if (!message) return null;
  return (
    <div class="alert" role="alert" id={id}>
      <svg class="alert-icon" viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" />
        <path d="M12 7v6M12 16.5v.5" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" />
      </svg>
      <span>{message}</span>
    </div>
  );
}

export function Notice({ message }: { message: string | null }) {
  return (
    <div class={message ? 'notice' : 'notice notice-empty'} role="status" aria-live="polite">
      {message}
    </div>
  );
}

type InputProps = Omit<PartialInputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'value' | 'onInput' | 'role' | 'type'> & {
  type?: 'text' | 'email' | 'password';
  id: string;
  name: string;
  label: string;
  value: string;
  onValue: (v: string) => void;
  error?: string | null;
  hint?: ComponentChildren;
};

export function Field({ id, name, label, value, onValue, error, hint, type = 'text', ...rest }: InputProps) {
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field field-invalid' : 'field'}>
      <label for={id}>{label}</label>
      <input
        // preact's typings discriminate on literal `type`; the union is fine at runtime.
        type={type as 'text'}
        id={id}
        name={name}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
        {...rest}
      />
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : hint ? (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="spinner-wrap" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span class="sr-only">{label}</span>
    </div>
  );
}

function hueFor(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h % 360;
}

export function Avatar({ user }: { user: Pick<PublicUser, 'username' | 'display_name'> }) {
  const name = (user.display_name || user.username).trim();
  const initial = (Array.from(name)[0] || '?').toUpperCase();
  // Stay on the brand palette: hues from cyan (185) through violet to pink (325).
  const hue = 185 + (hueFor(user.username) % 100);
  const style = {
    background: `linear-gradient(135deg, hsl(${hue} 85% 62%), hsl(${hue + 40} 80% 55%))`,
  };
  return (
    <div class="avatar" style={style} aria-hidden="true">
      {initial}
    </div>
  );
}

export function RoleBadge({ role }: { role: Role | string }) {
  const label = role === 'admin' ? 'Admin' : role === 'moderator' ? 'Moderator' : 'Player';
  return (
    <span class={`badge badge-${role}`} title={`Role: ${role}`}>
      {label}
    </span>
  );
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}
