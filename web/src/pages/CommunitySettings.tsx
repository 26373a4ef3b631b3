// /c/:id/settings/:tab: overview, roles, channels (with per-channel
// overwrites), members and bans. Each tab is offered only with the
// permission it needs; the server checks again.

import { useEffect, useState } from 'preact/hooks';
import type { SessionState } from '../api';
import {
  PERM_LIST,
  PERMS,
  bits,
  can,
  colorHex,
  communityPerms,
  createChannel,
  createRole,
  deleteChannel,
  deleteCommunity,
  deleteOverwrite,
  deleteRole,
  listBans,
  putOverwrite,
  unbanMember,
  updateChannel,
  updateCommunity,
  updateRole,
  withBit,
  type Ban,
  type Channel,
  type ChannelType,
  type Community,
  type CommunityRole,
  type Member,
  type Overwrite,
  type PermName,
} from '../communities';
import { Link, navigate } from '../router';
import { ConfirmButton, useRequireSignIn } from '../components/media';
import { UserAvatar, displayName } from '../components/social';
import { ErrorBox, Notice, Spinner, useTitle } from '../components/ui';
import { CommunityIcon, MemberActions, rankOf, type ModContext } from '../components/chat';
import { dropCommunity, upsertCommunity } from '../components/chatstore';
import { Rail, communityHref, useCommunity } from './Communities';

type Tab = 'overview' | 'roles' | 'channels' | 'members' | 'bans';
const TABS: { id: Tab; label: string; needs: PermName[] }[] = [
  { id: 'overview', label: 'Overview', needs: ['MANAGE_COMMUNITY'] },
  { id: 'roles', label: 'Roles', needs: ['MANAGE_ROLES'] },
  { id: 'channels', label: 'Channels', needs: ['MANAGE_CHANNELS', 'MANAGE_ROLES'] },
  { id: 'members', label: 'Members', needs: ['KICK_MEMBERS', 'BAN_MEMBERS', 'MANAGE_ROLES'] },
  { id: 'bans', label: 'Bans', needs: ['BAN_MEMBERS'] },
];

const errText = (err: unknown, fallback: string) => (err instanceof Error ? err.message : fallback);

export function CommunitySettings({ session, communityId, tab }: { session: SessionState; communityId: string; tab: string | null }) {
  const ok = useRequireSignIn(session, `${communityHref(communityId)}/settings${tab ? `/${tab}` : ''}`);
  const { data, setData, members, setMembers, error, refresh } = useCommunity(communityId);
  useTitle(data ? `Settings · ${data.community.name}` : 'Community settings');
  if (!ok) return <Spinner />;
  const myId = session.user?.id ?? '';
  if (error) {
    return (
      <div class="chat-shell">
        <Rail activeId={communityId} />
        <div class="chat-empty">
          <div class="chat-empty-card card">
            <h1>Settings unavailable</h1>
            <p class="muted">{error.message}</p>
          </div>
        </div>
      </div>
    );
  }
  if (!data) {
    return (
      <div class="chat-shell">
        <Rail activeId={communityId} />
        <div class="chat-loading">
          <Spinner />
        </div>
      </div>
    );
  }
  const { community, channels, roles } = data;
  const perms = community.owner_id === myId ? (PERMS.ADMINISTRATOR | bits(communityPerms(community))).toString() : communityPerms(community);
  const allowed = TABS.filter((t) => t.needs.some((p) => can(perms, p)));
  const current = allowed.find((t) => t.id === tab) ?? allowed[0];
  const me = members?.find((m) => m.user.id === myId);
  const ctx: ModContext = { community, roles, me, myId, perms };
  const setCommunity = (c: Community) => {
    setData((d) => (d ? { ...d, community: { ...d.community, ...c, me: c.me ?? d.community.me } } : d));
    upsertCommunity(c);
  };

  return (
    <div class="chat-shell">
      <Rail activeId={communityId} />
      <div class="settings-layout">
        <nav class="settings-nav" aria-label="Settings sections">
          <div class="settings-nav-head">
            <CommunityIcon community={community} size={36} />
            <strong title={community.name}>{community.name}</strong>
          </div>
          <ul>
            {allowed.map((t) => (
              <li key={t.id}>
                <Link
                  href={`${communityHref(communityId)}/settings/${t.id}`}
                  class={`settings-tab${current?.id === t.id ? ' active' : ''}`}
                  aria-current={current?.id === t.id ? 'page' : undefined}
                  id={`tab-${t.id}`}
                >
                  {t.label}
                </Link>
              </li>
            ))}
          </ul>
          <Link href={communityHref(communityId)} class="btn btn-ghost btn-sm settings-back">
            ← Back to chat
          </Link>
        </nav>
        <div class="settings-main">
          {!current ? (
            <p class="muted">You do not have permission to change this community's settings.</p>
          ) : current.id === 'overview' ? (
            <Overview community={community} isOwner={community.owner_id === myId} onSaved={setCommunity} />
          ) : current.id === 'roles' ? (
            <Roles
              community={community}
              roles={roles}
              myRank={rankOf(myId, community, me, roles)}
              perms={perms}
              onChange={(next) => setData((d) => (d ? { ...d, roles: next } : d))}
            />
          ) : current.id === 'channels' ? (
            <Channels community={community} channels={channels} roles={roles} members={members ?? []} perms={perms} refresh={refresh} />
          ) : current.id === 'members' ? (
            <Members ctx={ctx} members={members} roles={roles} setMembers={setMembers} refresh={refresh} />
          ) : (
            <Bans communityId={communityId} />
          )}
        </div>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------

function Overview({ community, isOwner, onSaved }: { community: Community; isOwner: boolean; onSaved: (c: Community) => void }) {
  const [name, setName] = useState(community.name);
  const [description, setDescription] = useState(community.description ?? '');
  const [icon, setIcon] = useState(community.icon ?? '');
  const [pub, setPub] = useState(community.public);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const dirty = name !== community.name || description !== (community.description ?? '') || icon !== (community.icon ?? '') || pub !== community.public;
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const c = await updateCommunity(community.id, { name: name.trim(), description: description.trim(), icon: icon.trim(), public: pub });
      onSaved(c);
      setNotice('Saved.');
    } catch (err) {
      setError(errText(err, 'Could not save.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="cs-section">
      <h1>Overview</h1>
      <form class="cs-card card stack" onSubmit={save}>
        <ErrorBox message={error} />
        <div class="overview-row">
          <CommunityIcon community={{ ...community, icon, name: name || community.name }} size={72} />
          <div class="stack grow">
            <label class="lbl">
              Name
              <input id="ov-name" class="input" value={name} minLength={2} maxLength={100} required onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label class="lbl">
              Icon <span class="optional">emoji or up to 16 characters</span>
              <input id="ov-icon" class="input" value={icon} maxLength={16} onInput={(e) => setIcon(e.currentTarget.value)} />
            </label>
          </div>
        </div>
        <label class="lbl">
          Description
          <textarea id="ov-description" class="input" rows={4} maxLength={1000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label class="cs-check">
          <input id="ov-public" type="checkbox" checked={pub} onChange={(e) => setPub(e.currentTarget.checked)} />
          <span>
            <strong>Public community</strong>
            <span class="muted small block">Listed in Discover; anyone can join without an invite.</span>
          </span>
        </label>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary btn-sm" id="ov-save" disabled={busy || !dirty}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
          <Notice message={notice} />
        </div>
      </form>
      {isOwner ? (
        <div class="cs-card card danger-zone">
          <h2>Delete community</h2>
          <p class="muted">Every channel and message goes with it. This cannot be undone.</p>
          <ConfirmButton
            label="Delete community"
            confirmLabel="Delete forever"
            question={`Delete ${community.name}?`}
            onConfirm={async () => {
              try {
                await deleteCommunity(community.id);
                dropCommunity(community.id);
                navigate('/c');
              } catch (err) {
                setError(errText(err, 'Could not delete.'));
              }
            }}
          />
        </div>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------------------

function PermissionChecks({ value, onChange, disabled, mine }: { value: string; onChange: (v: string) => void; disabled?: boolean; mine: string }) {
  return (
    <ul class="perm-list">
      {PERM_LIST.map((p) => {
        const on = (bits(value) & PERMS[p.name]) !== 0n;
        const lacking = !can(mine, p.name);
        return (
          <li key={p.name} class="perm-row">
            <label class="perm-label">
              <span class="perm-text">
                <span class="perm-name">{p.label}</span>
                <span class="perm-hint">{p.hint}</span>
              </span>
              <input
                type="checkbox"
                class="switch"
                data-perm={p.name}
                checked={on}
                disabled={disabled || (lacking && !on)}
                title={lacking ? 'You cannot grant a permission you do not have' : undefined}
                onChange={(e) => onChange(withBit(value, p.name, e.currentTarget.checked))}
              />
            </label>
          </li>
        );
      })}
    </ul>
  );
}

function Roles({
  community,
  roles,
  myRank,
  perms,
  onChange,
}: {
  community: Community;
  roles: CommunityRole[];
  myRank: number;
  perms: string;
  onChange: (roles: CommunityRole[]) => void;
}) {
  const sorted = [...roles].sort((a, b) => b.position - a.position);
  const [selected, setSelected] = useState<string | null>(sorted[0]?.id ?? null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const role = roles.find((r) => r.id === selected) ?? sorted[0];

  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await createRole(community.id, { name: 'new role', color: 0x8b5cf6 });
      onChange([...roles.filter((x) => x.id !== r.id), r]);
      setSelected(r.id);
    } catch (err) {
      setError(errText(err, 'Could not create the role.'));
    } finally {
      setBusy(false);
    }
  };

  const move = async (r: CommunityRole, dir: 1 | -1) => {
    const movable = sorted.filter((x) => !x.is_everyone);
    const i = movable.findIndex((x) => x.id === r.id);
    const other = movable[i - dir]; // sorted high → low: up means the one before
    if (!other) return;
    setBusy(true);
    setError(null);
    try {
      const a = await updateRole(community.id, r.id, { position: other.position });
      const b = await updateRole(community.id, other.id, { position: r.position });
      onChange(roles.map((x) => (x.id === a.id ? a : x.id === b.id ? b : x)));
    } catch (err) {
      setError(errText(err, 'Could not move the role.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="cs-section">
      <div class="settings-title-row">
        <h1>Roles</h1>
        <button type="button" class="btn btn-primary btn-sm" id="role-create" disabled={busy} onClick={() => void add()}>
          Create role
        </button>
      </div>
      <p class="muted">Members get the permissions of all their roles. Roles higher in the list outrank those below; you can only edit roles below your own.</p>
      <ErrorBox message={error} />
      <div class="roles-layout">
        <ul class="role-list card" aria-label="Roles, highest first">
          {sorted.map((r, i) => {
            const editable = r.is_everyone || r.position < myRank;
            return (
              <li key={r.id} class={`role-item${role?.id === r.id ? ' active' : ''}`}>
                <button type="button" class="role-pick" onClick={() => setSelected(r.id)} data-role={r.name}>
                  <span class="role-swatch" style={{ background: colorHex(r.color) || 'var(--muted)' }} />
                  <span class="role-name">{r.is_everyone ? '@everyone' : r.name}</span>
                  {!editable ? (
                    <span class="lock" title="Above your rank" aria-label="locked">
                      🔒
                    </span>
                  ) : null}
                </button>
                {!r.is_everyone && editable ? (
                  <span class="role-move">
                    <button type="button" class="icon-btn tiny" aria-label={`Move ${r.name} up`} disabled={busy || i === 0 || sorted[i - 1].position >= myRank} onClick={() => void move(r, 1)}>
                      ▲
                    </button>
                    <button
                      type="button"
                      class="icon-btn tiny"
                      aria-label={`Move ${r.name} down`}
                      disabled={busy || !sorted[i + 1] || sorted[i + 1].is_everyone}
                      onClick={() => void move(r, -1)}
                    >
                      ▼
                    </button>
                  </span>
                ) : null}
              </li>
            );
          })}
        </ul>
        {role ? (
          <RoleEditor
            key={role.id + role.permissions + role.name + role.color}
            community={community}
            role={role}
            editable={role.is_everyone || role.position < myRank}
            perms={perms}
            onSaved={(r) => onChange(roles.map((x) => (x.id === r.id ? r : x)))}
            onDeleted={() => {
              onChange(roles.filter((x) => x.id !== role.id));
              setSelected(null);
            }}
          />
        ) : null}
      </div>
    </section>
  );
}

function RoleEditor({
  community,
  role,
  editable,
  perms,
  onSaved,
  onDeleted,
}: {
  community: Community;
  role: CommunityRole;
  editable: boolean;
  perms: string;
  onSaved: (r: CommunityRole) => void;
  onDeleted: () => void;
}) {
  const [name, setName] = useState(role.name);
  const [color, setColor] = useState(colorHex(role.color) || '#99aab5');
  const [value, setValue] = useState(role.permissions);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const changes = role.is_everyone
        ? { permissions: value }
        : { name: name.trim(), color: parseInt(color.slice(1), 16), permissions: value };
      const r = await updateRole(community.id, role.id, changes);
      onSaved(r);
      setNotice('Saved.');
    } catch (err) {
      setError(errText(err, 'Could not save the role.'));
    } finally {
      setBusy(false);
    }
  };
  const dirty = value !== role.permissions || (!role.is_everyone && (name !== role.name || color !== (colorHex(role.color) || '#99aab5')));
  return (
    <div class="role-editor card" id="role-editor">
      <div class="role-editor-head">
        <label class="lbl grow">
          Name
          <input class="input" id="role-name" value={role.is_everyone ? '@everyone' : name} disabled={role.is_everyone || !editable} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        {!role.is_everyone ? (
          <label class="lbl">
            Color
            <input class="input color-input" id="role-color" type="color" value={color} disabled={!editable} onInput={(e) => setColor(e.currentTarget.value)} />
          </label>
        ) : null}
      </div>
      {role.is_everyone ? <p class="muted small">@everyone applies to every member of the community.</p> : null}
      {!editable ? <p class="perm-note">This role is at or above your highest role, so you cannot edit it.</p> : null}
      <h3 class="sub-h">Permissions</h3>
      <PermissionChecks value={value} onChange={setValue} disabled={!editable} mine={perms} />
      <ErrorBox message={error} />
      <div class="form-actions sticky-actions">
        <button type="button" class="btn btn-primary btn-sm" id="role-save" disabled={busy || !editable || !dirty} onClick={() => void save()}>
          {busy ? 'Saving…' : 'Save role'}
        </button>
        {dirty ? (
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => { setValue(role.permissions); setName(role.name); setColor(colorHex(role.color) || '#99aab5'); }}>
            Reset
          </button>
        ) : null}
        <Notice message={notice} />
        {!role.is_everyone && editable ? (
          <span class="push-right">
            <ConfirmButton
              label="Delete role"
              confirmLabel="Delete"
              question={`Delete ${role.name}?`}
              onConfirm={async () => {
                try {
                  await deleteRole(community.id, role.id);
                  onDeleted();
                } catch (err) {
                  setError(errText(err, 'Could not delete the role.'));
                }
              }}
            />
          </span>
        ) : null}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------

function Channels({
  community,
  channels,
  roles,
  members,
  perms,
  refresh,
}: {
  community: Community;
  channels: Channel[];
  roles: CommunityRole[];
  members: Member[];
  perms: string;
  refresh: () => void;
}) {
  const [selected, setSelected] = useState<string | null>(channels[0]?.id ?? null);
  const [creating, setCreating] = useState(false);
  const channel = channels.find((c) => c.id === selected) ?? null;
  const manage = can(perms, 'MANAGE_CHANNELS');
  return (
    <section class="cs-section">
      <div class="settings-title-row">
        <h1>Channels</h1>
        {manage ? (
          <button type="button" class="btn btn-primary btn-sm" id="channel-create" onClick={() => setCreating(!creating)}>
            {creating ? 'Close' : 'Create channel'}
          </button>
        ) : null}
      </div>
      {creating ? (
        <NewChannel
          community={community}
          onCreated={(ch) => {
            setCreating(false);
            setSelected(ch.id);
            refresh();
          }}
        />
      ) : null}
      <div class="roles-layout">
        <ul class="role-list card" aria-label="Channels">
          {channels.map((c) => (
            <li key={c.id} class={`role-item${channel?.id === c.id ? ' active' : ''}`}>
              <button type="button" class="role-pick" onClick={() => setSelected(c.id)} data-channel={c.name}>
                <span class="channel-hash" aria-hidden="true">
                  {c.type === 'announcement' ? '📣' : '#'}
                </span>
                <span class="role-name">{c.name}</span>
                {c.category ? <span class="muted small cat-tag">{c.category}</span> : null}
              </button>
            </li>
          ))}
        </ul>
        {channel ? (
          <div class="stack grow">
            {manage ? <ChannelEditor key={channel.id + channel.name + channel.position} channel={channel} onDeleted={() => { setSelected(null); refresh(); }} onSaved={refresh} /> : null}
            {can(perms, 'MANAGE_ROLES') ? (
              <Overwrites key={`ow-${channel.id}`} channel={channel} community={community} roles={roles} members={members} perms={perms} onSaved={refresh} />
            ) : null}
          </div>
        ) : (
          <p class="muted">Pick a channel.</p>
        )}
      </div>
    </section>
  );
}

function NewChannel({ community, onCreated }: { community: Community; onCreated: (ch: Channel) => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<ChannelType>('text');
  const [category, setCategory] = useState('');
  const [topic, setTopic] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await createChannel(community.id, { name: name.trim(), type, category: category.trim() || undefined, topic: topic.trim() || undefined }));
    } catch (err) {
      setError(errText(err, 'Could not create the channel.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="cs-card card stack" onSubmit={submit} id="new-channel">
      <ErrorBox message={error} />
      <div class="grid-2">
        <label class="lbl">
          Name
          <input class="input" id="nc-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="clips-of-the-week" />
        </label>
        <label class="lbl">
          Type
          <select class="input" id="nc-type" value={type} onChange={(e) => setType(e.currentTarget.value as ChannelType)}>
            <option value="text">Text</option>
            <option value="announcement">Announcement (only some can post)</option>
          </select>
        </label>
        <label class="lbl">
          Category <span class="optional">optional</span>
          <input class="input" id="nc-category" maxLength={100} value={category} onInput={(e) => setCategory(e.currentTarget.value)} placeholder="Text channels" />
        </label>
        <label class="lbl">
          Topic <span class="optional">optional</span>
          <input class="input" id="nc-topic" maxLength={1024} value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary btn-sm" id="nc-submit" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create channel'}
        </button>
      </div>
    </form>
  );
}

function ChannelEditor({ channel, onSaved, onDeleted }: { channel: Channel; onSaved: () => void; onDeleted: () => void }) {
  const [name, setName] = useState(channel.name);
  const [category, setCategory] = useState(channel.category ?? '');
  const [topic, setTopic] = useState(channel.topic ?? '');
  const [position, setPosition] = useState(String(channel.position));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await updateChannel(channel.id, { name: name.trim(), category: category.trim(), topic: topic.trim(), position: Number(position) || 0 });
      setNotice('Saved.');
      onSaved();
    } catch (err) {
      setError(errText(err, 'Could not save the channel.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="cs-card card stack" onSubmit={save} id="channel-editor">
      <h2 class="sub-h">#{channel.name}</h2>
      <ErrorBox message={error} />
      <div class="grid-2">
        <label class="lbl">
          Name
          <input class="input" id="ce-name" maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="lbl">
          Category
          <input class="input" id="ce-category" maxLength={100} value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
        </label>
        <label class="lbl">
          Topic
          <input class="input" id="ce-topic" maxLength={1024} value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        <label class="lbl">
          Position
          <input class="input" id="ce-position" type="number" min={0} value={position} onInput={(e) => setPosition(e.currentTarget.value)} />
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
          {busy ? 'Saving…' : 'Save channel'}
        </button>
        <Notice message={notice} />
        <span class="push-right">
          <ConfirmButton
            label="Delete channel"
            confirmLabel="Delete"
            question={`Delete #${channel.name}?`}
            onConfirm={async () => {
              try {
                await deleteChannel(channel.id);
                onDeleted();
              } catch (err) {
                setError(errText(err, 'Could not delete the channel.'));
              }
            }}
          />
        </span>
      </div>
    </form>
  );
}

type Tri = 'allow' | 'neutral' | 'deny';

function triOf(ow: { allow: string; deny: string }, name: PermName): Tri {
  if (bits(ow.allow) & PERMS[name]) return 'allow';
  if (bits(ow.deny) & PERMS[name]) return 'deny';
  return 'neutral';
}

function withTri(ow: { allow: string; deny: string }, name: PermName, t: Tri): { allow: string; deny: string } {
  const bit = PERMS[name];
  let a = bits(ow.allow) & ~bit;
  let d = bits(ow.deny) & ~bit;
  if (t === 'allow') a |= bit;
  if (t === 'deny') d |= bit;
  return { allow: a.toString(), deny: d.toString() };
}

function Overwrites({
  channel,
  community,
  roles,
  members,
  perms,
  onSaved,
}: {
  channel: Channel;
  community: Community;
  roles: CommunityRole[];
  members: Member[];
  perms: string;
  onSaved: () => void;
}) {
  const existing = channel.overwrites ?? [];
  const key = (o: { type: string; id: string }) => `${o.type}:${o.id}`;
  const [target, setTarget] = useState<string>(existing[0] ? key(existing[0]) : `role:${community.id}`);
  const [drafts, setDrafts] = useState<Record<string, { allow: string; deny: string }>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [adding, setAdding] = useState('');

  const targets: { type: 'role' | 'member'; id: string; label: string }[] = [];
  const labelOf = (o: { type: string; id: string }) => {
    if (o.type === 'role') {
      const r = roles.find((x) => x.id === o.id);
      return r ? (r.is_everyone ? '@everyone' : r.name) : `role ${o.id}`;
    }
    const m = members.find((x) => x.user.id === o.id);
    return m ? `@${m.user.username}` : `member ${o.id}`;
  };
  for (const o of existing) targets.push({ type: o.type, id: o.id, label: labelOf(o) });
  for (const k of Object.keys(drafts)) {
    const [type, id] = k.split(':') as ['role' | 'member', string];
    if (!targets.some((t) => key(t) === k)) targets.push({ type, id, label: labelOf({ type, id }) });
  }
  if (!targets.some((t) => key(t) === target)) {
    const [type, id] = target.split(':') as ['role' | 'member', string];
    targets.unshift({ type, id, label: labelOf({ type, id }) });
  }
  const current = targets.find((t) => key(t) === target)!;
  const saved: Overwrite | undefined = existing.find((o) => key(o) === target);
  const value = drafts[target] ?? { allow: saved?.allow ?? '0', deny: saved?.deny ?? '0' };
  const dirty = !!drafts[target] && (drafts[target].allow !== (saved?.allow ?? '0') || drafts[target].deny !== (saved?.deny ?? '0'));

  const save = async () => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await putOverwrite(channel.id, current.type, current.id, value.allow, value.deny);
      setDrafts((d) => {
        const n = { ...d };
        delete n[target];
        return n;
      });
      setNotice('Saved.');
      onSaved();
    } catch (err) {
      setError(errText(err, 'Could not save the overwrite.'));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await deleteOverwrite(channel.id, current.type, current.id);
      setDrafts((d) => {
        const n = { ...d };
        delete n[target];
        return n;
      });
      onSaved();
    } catch (err) {
      setError(errText(err, 'Could not remove the overwrite.'));
    } finally {
      setBusy(false);
    }
  };

  const addable = [
    ...roles.filter((r) => !targets.some((t) => t.type === 'role' && t.id === r.id)).map((r) => ({ k: `role:${r.id}`, label: r.is_everyone ? '@everyone' : `Role: ${r.name}` })),
    ...members.filter((m) => !targets.some((t) => t.type === 'member' && t.id === m.user.id)).map((m) => ({ k: `member:${m.user.id}`, label: `Member: @${m.user.username}` })),
  ];

  return (
    <div class="cs-card card" id="overwrites">
      <h2 class="sub-h">Permissions in #{channel.name}</h2>
      <p class="muted small">Override what a role or a member may do in this channel. Neutral keeps what their roles give them.</p>
      <div class="ow-targets" role="tablist" aria-label="Overwrite targets">
        {targets.map((t) => (
          <button key={key(t)} type="button" role="tab" aria-selected={key(t) === target} class={`chip-btn${key(t) === target ? ' active' : ''}`} onClick={() => setTarget(key(t))} data-target={t.label}>
            {t.label}
            {drafts[key(t)] ? ' •' : ''}
          </button>
        ))}
        {addable.length ? (
          <select
            class="input ow-add"
            aria-label="Add a role or member"
            id="ow-add"
            value={adding}
            onChange={(e) => {
              const k = e.currentTarget.value;
              setAdding('');
              if (!k) return;
              setDrafts((d) => ({ ...d, [k]: d[k] ?? { allow: '0', deny: '0' } }));
              setTarget(k);
            }}
          >
            <option value="">+ Add role or member</option>
            {addable.map((a) => (
              <option key={a.k} value={a.k}>
                {a.label}
              </option>
            ))}
          </select>
        ) : null}
      </div>
      <ul class="perm-list ow-list">
        {PERM_LIST.filter((p) => p.channel).map((p) => {
          const t = triOf(value, p.name);
          const lacking = !can(perms, p.name);
          return (
            <li key={p.name} class="perm-row">
              <span class="perm-text">
                <span class="perm-name">{p.label}</span>
                <span class="perm-hint">{p.hint}</span>
              </span>
              <span class="tri" role="radiogroup" aria-label={p.label} data-perm={p.name}>
                {(['deny', 'neutral', 'allow'] as Tri[]).map((opt) => (
                  <label key={opt} class={`tri-opt tri-${opt}${t === opt ? ' on' : ''}`} title={opt[0].toUpperCase() + opt.slice(1)}>
                    <input
                      type="radio"
                      name={`ow-${channel.id}-${target}-${p.name}`}
                      value={opt}
                      checked={t === opt}
                      disabled={busy || (lacking && opt !== 'neutral' && t !== opt)}
                      onChange={() => setDrafts((d) => ({ ...d, [target]: withTri(value, p.name, opt) }))}
                    />
                    <span aria-hidden="true">{opt === 'deny' ? '✕' : opt === 'allow' ? '✓' : '/'}</span>
                    <span class="sr-only">{opt}</span>
                  </label>
                ))}
              </span>
            </li>
          );
        })}
      </ul>
      <ErrorBox message={error} />
      <div class="form-actions">
        <button type="button" class="btn btn-primary btn-sm" id="ow-save" disabled={busy || !dirty} onClick={() => void save()}>
          Save overwrite
        </button>
        <Notice message={notice} />
        {saved ? (
          <button type="button" class="btn btn-ghost btn-danger btn-sm push-right" disabled={busy} onClick={() => void remove()}>
            Remove overwrite
          </button>
        ) : null}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------

function Members({
  ctx,
  members,
  roles,
  setMembers,
  refresh,
}: {
  ctx: ModContext;
  members: Member[] | null;
  roles: CommunityRole[];
  setMembers: (fn: (m: Member[] | null) => Member[] | null) => void;
  refresh: () => void;
}) {
  const [q, setQ] = useState('');
  if (!members) return <Spinner />;
  const shown = members.filter((m) => !q || `${m.user.username} ${m.user.display_name ?? ''}`.toLowerCase().includes(q.toLowerCase()));
  return (
    <section class="cs-section">
      <div class="settings-title-row">
        <h1>Members</h1>
        <span class="muted">{members.length}</span>
      </div>
      <input class="input" type="search" placeholder="Search members" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label="Search members" />
      <ul class="settings-members">
        {shown.map((m) => (
          <li key={m.user.id} class="settings-member card" data-member={m.user.username}>
            <div class="sm-head">
              <UserAvatar user={m.user} size={36} />
              <div class="sm-names">
                <strong>{displayName(m.user)}</strong>
                <span class="muted small">@{m.user.username}</span>
              </div>
              <div class="chips">
                {m.user.id === ctx.community.owner_id ? <span class="role-chip owner">Owner</span> : null}
                {roles
                  .filter((r) => !r.is_everyone && m.roles.includes(r.id))
                  .sort((a, b) => b.position - a.position)
                  .map((r) => (
                    <span class="role-chip" key={r.id}>
                      <span class="role-swatch" style={{ background: colorHex(r.color) || 'var(--muted)' }} />
                      {r.name}
                    </span>
                  ))}
              </div>
            </div>
            <MemberActions
              ctx={ctx}
              member={m}
              onDone={(what) => {
                if (what === 'roles') refresh();
                else setMembers((list) => (list ? list.filter((x) => x.user.id !== m.user.id) : list));
              }}
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Bans({ communityId }: { communityId: string }) {
  const [bans, setBans] = useState<Ban[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listBans(communityId)
      .then((r) =>
        // Tolerate a flat shape ({user_id, username, …}) as well as {user: {…}}.
        setBans(
          r.items.map((b) => {
            const x = b as Ban & { user_id?: string; username?: string };
            return x.user ? x : { ...x, user: { id: x.user_id ?? '', username: x.username ?? `user ${x.user_id}`, display_name: null, avatar_url: null } };
          }),
        ),
      )
      .catch((err: Error) => setError(err.message));
  }, [communityId]);
  return (
    <section class="cs-section">
      <h1>Bans</h1>
      <ErrorBox message={error} />
      {bans === null && !error ? (
        <Spinner />
      ) : bans && bans.length ? (
        <ul class="settings-members">
          {bans.map((b) => (
            <li key={b.user.id} class="settings-member card">
              <div class="sm-head">
                <UserAvatar user={b.user} size={36} />
                <div class="sm-names">
                  <strong>{displayName(b.user)}</strong>
                  <span class="muted small">{b.reason ? `Reason: ${b.reason}` : 'No reason given'}</span>
                </div>
                <button
                  type="button"
                  class="btn btn-ghost btn-sm push-right"
                  onClick={async () => {
                    try {
                      await unbanMember(communityId, b.user.id);
                      setBans((list) => (list ? list.filter((x) => x.user.id !== b.user.id) : list));
                    } catch (err) {
                      setError(errText(err, 'Could not unban.'));
                    }
                  }}
                >
                  Unban
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">Nobody is banned.</p>
      )}
    </section>
  );
}
