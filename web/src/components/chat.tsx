// Pieces the communities pages share: modal dialog, community icon, presence
// dot, member moderation actions, the hierarchy rules.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  banMember,
  can,
  colorHex,
  createInvite,
  kickMember,
  setMemberRole,
  type Community,
  type CommunityRole,
  type Invite,
  type Member,
  type Presence,
} from '../communities';
import { displayName } from './social';

export function Modal({
  title,
  onClose,
  children,
  id,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  id?: string;
  wide?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>('input, textarea, select, button:not(.modal-x)');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      // Give focus back only if it is still in the dialog (or nowhere): a caller that moved it on
      // (the clip picker to the message box) keeps it, and a key pressed next goes where it was aimed.
      const active = document.activeElement;
      if (!active || active === document.body || box.current?.contains(active)) prev?.focus?.();
    };
  }, []);
  return (
    <div
      class="modal-backdrop"
      onPointerDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class={`modal card${wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true" aria-labelledby={`${id ?? 'modal'}-title`} id={id} ref={box}>
        <div class="modal-head">
          <h2 id={`${id ?? 'modal'}-title`}>{title}</h2>
          <button type="button" class="icon-btn modal-x" aria-label="Close" onClick={onClose}>
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" />
            </svg>
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/** The community's emoji/short icon, or its initials, on a tile. */
export function CommunityIcon({ community, size = 48 }: { community: Pick<Community, 'name' | 'icon' | 'id'>; size?: number }) {
  const text =
    community.icon?.trim() ||
    community.name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => Array.from(w)[0]?.toUpperCase() ?? '')
      .join('');
  let h = 0;
  for (const ch of community.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = 200 + (h % 120);
  return (
    <span
      class="cicon"
      style={{
        width: `${size}px`,
        height: `${size}px`,
        fontSize: `${Math.round(size * (Array.from(text).length > 2 ? 0.3 : 0.4))}px`,
        background: `linear-gradient(135deg, hsl(${hue} 70% 45%), hsl(${hue + 40} 70% 38%))`,
      }}
      aria-hidden="true"
    >
      {text || '?'}
    </span>
  );
}

export function PresenceDot({ status }: { status: Presence | string }) {
  const s = status === 'online' || status === 'idle' ? status : 'offline';
  return <span class={`pdot pdot-${s}`} title={s[0].toUpperCase() + s.slice(1)} aria-label={s} />;
}

export function PermissionNote({ children }: { children: ComponentChildren }) {
  return <p class="perm-note">{children}</p>;
}

// ---------------------------------------------------------------------------
// Hierarchy (docs/communities-api.md): rank = highest role position; owner above all.

export function rankOf(userId: string, community: Community, member: Member | undefined, roles: CommunityRole[]): number {
  if (userId === community.owner_id) return Number.MAX_SAFE_INTEGER;
  if (!member) return 0;
  let top = 0;
  for (const r of roles) if (!r.is_everyone && member.roles.includes(r.id)) top = Math.max(top, r.position);
  return top;
}

export function topRoleColor(member: Member | undefined, roles: CommunityRole[]): string | undefined {
  if (!member) return undefined;
  let best: CommunityRole | null = null;
  for (const r of roles) if (!r.is_everyone && r.color && member.roles.includes(r.id) && (!best || r.position > best.position)) best = r;
  return best ? colorHex(best.color) : undefined;
}

export interface ModContext {
  community: Community;
  roles: CommunityRole[];
  me: Member | undefined;
  myId: string;
  perms: string; // community-wide
}

/** Kick / ban / roles for one member, each shown only when my permissions and rank allow it. */
export function MemberActions({ ctx, member, onDone }: { ctx: ModContext; member: Member; onDone?: (what: 'kicked' | 'banned' | 'roles') => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<'kick' | 'ban' | null>(null);
  const [reason, setReason] = useState('');
  // Role toggles answer at once; the server's answer (or MEMBER_UPDATE) confirms.
  const [held, setHeld] = useState<string[]>(member.roles);
  useEffect(() => setHeld(member.roles), [member.roles.join(',')]);
  const myRank = rankOf(ctx.myId, ctx.community, ctx.me, ctx.roles);
  const theirRank = rankOf(member.user.id, ctx.community, member, ctx.roles);
  const self = member.user.id === ctx.myId;
  const above = !self && member.user.id !== ctx.community.owner_id && myRank > theirRank;
  const mayKick = above && can(ctx.perms, 'KICK_MEMBERS');
  const mayBan = above && can(ctx.perms, 'BAN_MEMBERS');
  const mayRoles = (above || self) && can(ctx.perms, 'MANAGE_ROLES');
  const assignable = ctx.roles.filter((r) => !r.is_everyone && r.position < myRank).sort((a, b) => b.position - a.position);

  const run = async (fn: () => Promise<void>, what: 'kicked' | 'banned' | 'roles') => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setConfirm(null);
      onDone?.(what);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'That did not work.');
    } finally {
      setBusy(false);
    }
  };

  if (!mayKick && !mayBan && !(mayRoles && assignable.length)) return null;
  const name = displayName(member.user);
  return (
    <div class="member-actions" data-member-actions={member.user.id}>
      {mayRoles && assignable.length ? (
        <fieldset class="role-toggles">
          <legend>Roles</legend>
          {assignable.map((r) => {
            const on = held.includes(r.id);
            return (
              <label key={r.id} class="role-toggle">
                <input
                  type="checkbox"
                  checked={on}
                  disabled={busy}
                  onChange={() => {
                    const before = held;
                    setHeld(on ? held.filter((x) => x !== r.id) : [...held, r.id]);
                    void run(async () => {
                      try {
                        await setMemberRole(ctx.community.id, member.user.id, r.id, !on);
                      } catch (err) {
                        setHeld(before);
                        throw err;
                      }
                    }, 'roles');
                  }}
                />
                <span class="role-swatch" style={{ background: colorHex(r.color) || 'var(--muted)' }} />
                {r.name}
              </label>
            );
          })}
        </fieldset>
      ) : null}
      {confirm ? (
        <div class="mod-confirm">
          <p>
            {confirm === 'kick' ? `Kick ${name}? They can rejoin with an invite.` : `Ban ${name}? They cannot rejoin until unbanned.`}
          </p>
          {confirm === 'ban' ? (
            <input
              class="input"
              type="text"
              maxLength={512}
              placeholder="Reason (optional)"
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
              aria-label="Ban reason"
            />
          ) : null}
          <div class="btn-row">
            <button
              type="button"
              class="btn btn-danger-solid btn-sm"
              disabled={busy}
              onClick={() =>
                void (confirm === 'kick'
                  ? run(() => kickMember(ctx.community.id, member.user.id), 'kicked')
                  : run(() => banMember(ctx.community.id, member.user.id, reason.trim() || undefined), 'banned'))
              }
            >
              {confirm === 'kick' ? 'Kick' : 'Ban'}
            </button>
            <button type="button" class="btn btn-ghost btn-sm" disabled={busy} onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : mayKick || mayBan ? (
        <div class="btn-row">
          {mayKick ? (
            <button type="button" class="btn btn-ghost btn-danger btn-sm" onClick={() => setConfirm('kick')}>
              Kick
            </button>
          ) : null}
          {mayBan ? (
            <button type="button" class="btn btn-ghost btn-danger btn-sm" onClick={() => setConfirm('ban')}>
              Ban
            </button>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p class="action-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Invite dialog

const EXPIRY = [
  { s: 3600, label: '1 hour' },
  { s: 86400, label: '1 day' },
  { s: 604800, label: '7 days' },
  { s: 0, label: 'Never' },
];

export function inviteLink(code: string): string {
  return `${window.location.origin}/invite/${encodeURIComponent(code)}`;
}

export function InviteDialog({ community, onClose }: { community: Community; onClose: () => void }) {
  const [expires, setExpires] = useState(604800);
  const [maxUses, setMaxUses] = useState(0);
  const [invite, setInvite] = useState<Invite | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const make = async () => {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await createInvite(community.id, { max_uses: maxUses, expires_in_s: expires }));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not create an invite.');
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void make();
  }, []);
  const link = invite ? inviteLink(invite.code) : '';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      const input = document.getElementById('invite-link') as HTMLInputElement | null;
      input?.select();
    }
  };
  return (
    <Modal title={`Invite friends to ${community.name}`} onClose={onClose} id="invite-dialog">
      <p class="muted">Anyone with this link can join.</p>
      <div class="invite-row">
        <input id="invite-link" class="input invite-input" readOnly value={busy && !invite ? 'Creating…' : link} aria-label="Invite link" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" id="invite-copy" class="btn btn-primary btn-sm" disabled={!invite} onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <div class="invite-opts">
        <label>
          Expires after
          <select class="input" value={String(expires)} onChange={(e) => setExpires(Number(e.currentTarget.value))}>
            {EXPIRY.map((x) => (
              <option key={x.s} value={String(x.s)}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Max uses
          <select class="input" value={String(maxUses)} onChange={(e) => setMaxUses(Number(e.currentTarget.value))}>
            {[0, 1, 5, 10, 25, 100].map((n) => (
              <option key={n} value={String(n)}>
                {n === 0 ? 'No limit' : `${n} use${n === 1 ? '' : 's'}`}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="btn btn-ghost btn-sm" disabled={busy} onClick={() => void make()}>
          New link
        </button>
      </div>
      {error ? (
        <p class="action-error" role="alert">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
