// Communities: the rail of my communities, a community's channels (grouped by
// category, unread badges), the chat pane and the member list. Live through
// the gateway (src/gateway.ts).

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, listClips, type Clip, type SessionState } from '../api';
import {
  ackChannel,
  allMembers,
  can,
  communityPerms,
  createCommunity,
  deleteMessage,
  editMessage,
  getCommunity,
  idGt,
  joinCommunity,
  leaveCommunity,
  listChannels,
  listMessages,
  MESSAGE_MAX,
  sendMessage,
  setReaction,
  type Channel,
  type Community,
  type CommunityRole,
  type Member,
  type Message,
  type MessageClip,
} from '../communities';
import { gateway, type GatewayStatus } from '../gateway';
import { Link, navigate } from '../router';
import { formatTime, useRequireSignIn } from '../components/media';
import { RelTime, SIcon, UserAvatar, displayName } from '../components/social';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import {
  CommunityIcon,
  InviteDialog,
  MemberActions,
  Modal,
  PresenceDot,
  topRoleColor,
  type ModContext,
} from '../components/chat';
import {
  channelUnread,
  communityUnread,
  dropCommunity,
  loadCommunities,
  markRead,
  noteChannels,
  typingIn,
  upsertCommunity,
  useChatStore,
  wireChatStore,
} from '../components/chatstore';

export const communityHref = (cid: string, chid?: string) => `/c/${encodeURIComponent(cid)}${chid ? `/${encodeURIComponent(chid)}` : ''}`;

export function useGatewayStatus(): GatewayStatus {
  const [s, setS] = useState<GatewayStatus>(gateway.status);
  useEffect(() => {
    setS(gateway.status);
    return gateway.onStatus(setS);
  }, []);
  return s;
}

// ---------------------------------------------------------------------------
// The rail

export function Rail({ activeId }: { activeId: string | null }) {
  const st = useChatStore();
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    wireChatStore();
    void loadCommunities();
  }, []);
  return (
    <nav class="rail" aria-label="My communities">
      <ul class="rail-list">
        {(st.communities ?? []).map((c) => {
          const unread = c.id !== activeId && communityUnread(c.id);
          return (
            <li key={c.id} class={`rail-item${c.id === activeId ? ' rail-active' : ''}`}>
              {unread ? <span class="rail-pip" aria-hidden="true" /> : null}
              <Link href={communityHref(c.id)} class="rail-link" title={c.name} aria-label={`${c.name}${unread ? ' (unread)' : ''}`} aria-current={c.id === activeId ? 'page' : undefined}>
                <CommunityIcon community={c} size={46} />
              </Link>
            </li>
          );
        })}
        <li class="rail-sep" aria-hidden="true" />
        <li class="rail-item">
          <button type="button" class="rail-action" id="create-community" title="Create a community" aria-label="Create a community" onClick={() => setCreating(true)}>
            <svg viewBox="0 0 24 24" class="icon" aria-hidden="true">
              <path d="M12 5v14M5 12h14" />
            </svg>
          </button>
        </li>
        <li class="rail-item">
          <Link href="/discover" class="rail-action" title="Discover communities" aria-label="Discover communities">
            <svg viewBox="0 0 24 24" class="icon" aria-hidden="true">
              <circle cx="12" cy="12" r="9" />
              <path d="M15.5 8.5l-2 5-5 2 2-5 5-2Z" />
            </svg>
          </Link>
        </li>
      </ul>
      {creating ? <CreateCommunity onClose={() => setCreating(false)} /> : null}
    </nav>
  );
}

function CreateCommunity({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [icon, setIcon] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (name.trim().length < 2) {
      setError('The name needs at least 2 characters.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await createCommunity({ name: name.trim(), description: description.trim() || undefined, icon: icon.trim() || undefined, public: isPublic });
      upsertCommunity(c);
      onClose();
      navigate(communityHref(c.id));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not create the community.');
      setBusy(false);
    }
  };
  return (
    <Modal title="Create a community" onClose={onClose} id="create-dialog">
      <form onSubmit={submit} class="stack">
        <ErrorBox message={error} />
        <label class="lbl">
          Name
          <input id="community-name" class="input" value={name} maxLength={100} required onInput={(e) => setName(e.currentTarget.value)} placeholder="Friday night squad" />
        </label>
        <label class="lbl">
          Icon <span class="optional">an emoji or up to 16 characters</span>
          <input id="community-icon" class="input" value={icon} maxLength={16} onInput={(e) => setIcon(e.currentTarget.value)} placeholder="🎮" />
        </label>
        <label class="lbl">
          Description <span class="optional">optional</span>
          <textarea class="input" rows={3} maxLength={1000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label class="cs-check">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.currentTarget.checked)} />
          Public: anyone can find it in Discover and join
        </label>
        <div class="btn-row end">
          <button type="button" class="btn btn-ghost btn-sm" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" id="create-submit" class="btn btn-primary btn-sm" disabled={busy}>
            {busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

// ---------------------------------------------------------------------------
// The page

export function Communities({ session, communityId, channelId }: { session: SessionState; communityId: string | null; channelId: string | null }) {
  const ok = useRequireSignIn(session, communityId ? communityHref(communityId, channelId ?? undefined) : '/c');
  const st = useChatStore();
  useTitle(communityId ? 'Community' : 'Communities');
  if (!ok) return <Spinner />;
  return (
    <div class="chat-shell">
      <Rail activeId={communityId} />
      {communityId ? (
        <CommunityView key={communityId} session={session} communityId={communityId} channelId={channelId} />
      ) : (
        <div class="chat-empty">
          <div class="chat-empty-card card">
            <h1>Communities</h1>
            {st.communities === null && !st.error ? (
              <Spinner />
            ) : st.communities && st.communities.length ? (
              <>
                <p class="muted">Pick a community on the left, or find a new one.</p>
                <ul class="community-grid">
                  {st.communities.map((c) => (
                    <li key={c.id}>
                      <Link href={communityHref(c.id)} class="community-tile">
                        <CommunityIcon community={c} size={40} />
                        <span>{c.name}</span>
                      </Link>
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <p class="muted">You are not in any community yet. Create one for your squad, or discover public ones.</p>
            )}
            <ErrorBox message={st.error} />
            <div class="btn-row">
              <button type="button" class="btn btn-primary btn-sm" onClick={() => document.getElementById('create-community')?.click()}>
                Create a community
              </button>
              <Link href="/discover" class="btn btn-ghost btn-sm">
                Discover
              </Link>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

interface CommunityData {
  community: Community;
  channels: Channel[];
  roles: CommunityRole[];
}

function sortChannels(chs: Channel[]): Channel[] {
  return [...chs].sort((a, b) => a.position - b.position || (idGt(a.id, b.id) ? 1 : -1));
}

/** Loads a community with its channels, roles and members and keeps them live. */
export function useCommunity(communityId: string) {
  const [data, setData] = useState<CommunityData | null>(null);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<{ message: string; status: number } | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    let live = true;
    getCommunity(communityId)
      .then((c) => {
        if (!live) return;
        const channels = sortChannels(c.channels ?? []);
        noteChannels(channels);
        setData({ community: c, channels, roles: c.roles ?? [] });
        if (c.me?.joined === false) {
          setMembers([]);
          return;
        }
        return allMembers(communityId).then((m) => live && setMembers(m));
      })
      .catch((err: ApiError) => live && setError({ message: err.message, status: err.status }));
    return () => {
      live = false;
    };
  }, [communityId, reload]);

  useEffect(() => {
    const mine = (d: { community_id?: string }) => d.community_id === communityId;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refetchChannels = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        listChannels(communityId)
          .then((r) => {
            const channels = sortChannels(r.items);
            noteChannels(channels);
            setData((d) => (d ? { ...d, channels } : d));
          })
          .catch(() => undefined);
      }, 150);
    };
    const offs = [
      gateway.on('READY', () => setReload((n) => n + 1)),
      gateway.on('COMMUNITY_UPDATE', (c) => {
        if (c.id !== communityId) return;
        // Our permissions may have changed too: refetch.
        setData((d) => (d ? { ...d, community: { ...d.community, ...c, me: c.me ?? d.community.me } } : d));
      }),
      gateway.on('COMMUNITY_DELETE', (d) => {
        if (d.id === communityId) setError({ message: 'This community was deleted.', status: 404 });
      }),
      gateway.on('CHANNEL_CREATE', (ch) => {
        if (!mine(ch)) return;
        setData((d) => (d ? { ...d, channels: sortChannels([...d.channels.filter((x) => x.id !== ch.id), { ...ch, my_permissions: ch.my_permissions ?? d.community.me?.permissions ?? '0' }]) } : d));
        refetchChannels();
      }),
      gateway.on('CHANNEL_UPDATE', (ch) => {
        if (!mine(ch)) return;
        setData((d) =>
          d ? { ...d, channels: sortChannels([...d.channels.filter((x) => x.id !== ch.id), { ...d.channels.find((x) => x.id === ch.id), ...ch } as Channel]) } : d,
        );
        // The event carries the channel, not what I may do in it now (overwrites may have changed).
        refetchChannels();
      }),
      gateway.on('CHANNEL_DELETE', (ch) => {
        if (mine(ch)) setData((d) => (d ? { ...d, channels: d.channels.filter((x) => x.id !== ch.id) } : d));
      }),
      gateway.on('ROLE_CREATE', (r) => {
        if (mine(r)) setData((d) => (d ? { ...d, roles: [...d.roles.filter((x) => x.id !== r.id), r] } : d));
      }),
      gateway.on('ROLE_UPDATE', (r) => {
        if (mine(r)) {
          setData((d) => (d ? { ...d, roles: d.roles.map((x) => (x.id === r.id ? r : x)) } : d));
          setReload((n) => n + 1); // permissions may have moved
        }
      }),
      gateway.on('ROLE_DELETE', (r) => {
        if (mine(r)) setData((d) => (d ? { ...d, roles: d.roles.filter((x) => x.id !== r.id) } : d));
      }),
      gateway.on('MEMBER_JOIN', (m) => {
        if (mine(m)) setMembers((list) => (list ? [...list.filter((x) => x.user.id !== m.user.id), m] : list));
      }),
      gateway.on('MEMBER_UPDATE', (m) => {
        if (!mine(m)) return;
        setMembers((list) => (list ? list.map((x) => (x.user.id === m.user.id ? { ...x, ...m } : x)) : list));
        if (m.user.id === gateway.user?.id) setReload((n) => n + 1);
      }),
      gateway.on('MEMBER_LEAVE', (d) => {
        if (!mine(d)) return;
        setMembers((list) => (list ? list.filter((x) => x.user.id !== d.user_id) : list));
        if (d.user_id === gateway.user?.id) setError({ message: 'You are no longer a member of this community.', status: 404 });
      }),
    ];
    return () => {
      offs.forEach((off) => off());
      if (timer !== null) clearTimeout(timer);
    };
  }, [communityId]);

  return { data, setData, members, setMembers, error, refresh: () => setReload((n) => n + 1) };
}

function CommunityView({ session, communityId, channelId }: { session: SessionState; communityId: string; channelId: string | null }) {
  const { data, members, setMembers, error, refresh } = useCommunity(communityId);
  const [inviting, setInviting] = useState(false);
  const [showMembers, setShowMembers] = useState(true);
  const [drawer, setDrawer] = useState(false);
  const [membersOverlay, setMembersOverlay] = useState(false); // narrow screens
  useEffect(() => {
    setDrawer(false);
    setMembersOverlay(false);
  }, [channelId]);
  const toggleMembers = () => {
    if (window.matchMedia('(max-width: 1100px)').matches) setMembersOverlay(!membersOverlay);
    else setShowMembers(!showMembers);
  };
  const myId = session.user?.id ?? '';
  useTitle(data ? data.community.name : 'Community');

  const channel = data && channelId ? data.channels.find((c) => c.id === channelId) ?? null : null;
  useEffect(() => {
    if (!data || channel) return;
    const first = data.channels.find((c) => can(c.my_permissions, 'VIEW_CHANNEL')) ?? data.channels[0];
    if (first && (!channelId || !channel)) navigate(communityHref(communityId, first.id), { replace: true });
  }, [data, channelId, channel]);

  if (error) {
    return (
      <div class="chat-empty">
        <div class="chat-empty-card card">
          <h1>{error.status === 404 ? 'Community not found' : 'Could not open this community'}</h1>
          <p class="muted">{error.message}</p>
          <Link href="/c" class="btn btn-ghost btn-sm">
            Back to communities
          </Link>
        </div>
      </div>
    );
  }
  if (!data) return <div class="chat-loading"><Spinner /></div>;
  const { community, channels, roles } = data;
  if (community.me?.joined === false) return <JoinPublic community={community} onJoined={refresh} />;
  const perms = communityPerms(community);
  // my rank must not depend on how much of a large member list is loaded
  const me = members?.find((m) => m.user.id === myId) ?? community.me?.member;
  const ctx: ModContext = { community, roles, me, myId, perms };
  const settingsAllowed = ['MANAGE_COMMUNITY', 'MANAGE_ROLES', 'MANAGE_CHANNELS', 'KICK_MEMBERS', 'BAN_MEMBERS'].some((p) =>
    can(perms, p as 'MANAGE_COMMUNITY'),
  ) || community.owner_id === myId;

  return (
    <>
      <aside class={`channels${drawer ? ' open' : ''}`} aria-label={`${community.name} channels`}>
        <header class="channels-head">
          <h1 class="channels-title" title={community.name}>
            {community.name}
          </h1>
          <div class="channels-tools">
            {can(perms, 'CREATE_INVITE') ? (
              <button type="button" class="icon-btn" id="invite-open" title="Invite people" aria-label="Invite people" onClick={() => setInviting(true)}>
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                  <circle cx="9" cy="8" r="4" />
                  <path d="M2 21c.8-4 3.6-6 7-6s6.2 2 7 6M19 8v6M16 11h6" />
                </svg>
              </button>
            ) : null}
            {settingsAllowed ? (
              <Link href={`${communityHref(communityId)}/settings`} class="icon-btn" id="settings-open" title="Community settings" aria-label="Community settings">
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                  <circle cx="12" cy="12" r="3" />
                  <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1Z" />
                </svg>
              </Link>
            ) : null}
          </div>
        </header>
        <ChannelList channels={channels} communityId={communityId} activeId={channelId} />
        <footer class="channels-foot">
          {session.user ? (
            <div class="me-card">
              <span class="me-avatar">
                <UserAvatar user={{ username: session.user.username, avatar_url: null }} size={32} />
                <PresenceDot status="online" />
              </span>
              <span class="me-name">
                <strong>{displayName(session.user)}</strong>
                <GatewayLine />
              </span>
              {community.owner_id !== myId ? (
                <button
                  type="button"
                  class="icon-btn"
                  title="Leave community"
                  aria-label="Leave community"
                  onClick={async () => {
                    if (!window.confirm(`Leave ${community.name}?`)) return;
                    try {
                      await leaveCommunity(communityId);
                      dropCommunity(communityId);
                      navigate('/c');
                    } catch (err) {
                      window.alert(err instanceof Error ? err.message : 'Could not leave.');
                    }
                  }}
                >
                  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M9 4H6a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h3M16 17l5-5-5-5M21 12H9" />
                  </svg>
                </button>
              ) : null}
            </div>
          ) : null}
        </footer>
      </aside>
      {channel ? (
        <ChatPane
          key={channel.id}
          channel={channel}
          community={community}
          roles={roles}
          members={members ?? []}
          myId={myId}
          membersShown={showMembers}
          onToggleMembers={toggleMembers}
          onToggleChannels={() => setDrawer(!drawer)}
        />
      ) : (
        <section class="chat-pane chat-pane-empty">
          <p class="muted">{channels.length ? 'Pick a channel.' : 'No channels you can see here yet.'}</p>
        </section>
      )}
      {(showMembers || membersOverlay) && channel ? (
        <MemberList
          overlay={membersOverlay}
          members={members}
          roles={roles}
          ctx={ctx}
          onChange={(what, m) => {
            if (what !== 'roles') setMembers((list) => (list ? list.filter((x) => x.user.id !== m.user.id) : list));
          }}
        />
      ) : null}
      {inviting ? <InviteDialog community={community} onClose={() => setInviting(false)} /> : null}
    </>
  );
}

function GatewayLine() {
  const s = useGatewayStatus();
  const text = s === 'ready' ? 'Online' : s === 'connecting' ? 'Connecting…' : s === 'reconnecting' ? 'Reconnecting…' : s === 'unavailable' ? 'Live updates unavailable' : 'Offline';
  return (
    <span class={`gw-status gw-${s}`} id="gateway-status" data-status={s}>
      {text}
    </span>
  );
}

function JoinPublic({ community, onJoined }: { community: Community; onJoined: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="chat-empty">
      <div class="chat-empty-card card invite-card">
        <CommunityIcon community={community} size={72} />
        <h1>{community.name}</h1>
        {community.description ? <p class="muted">{community.description}</p> : null}
        <p class="muted">{community.member_count} members</p>
        <ErrorBox message={error} />
        <button
          type="button"
          class="btn btn-primary"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await joinAndOpen(community.id);
              onJoined();
            } catch (err) {
              setError(err instanceof Error ? err.message : 'Could not join.');
              setBusy(false);
            }
          }}
        >
          Join community
        </button>
      </div>
    </div>
  );
}

async function joinAndOpen(id: string): Promise<Community> {
  const c = await joinCommunity(id);
  upsertCommunity(c);
  return c;
}

// ---------------------------------------------------------------------------
// Channels

function ChannelList({ channels, communityId, activeId }: { channels: Channel[]; communityId: string; activeId: string | null }) {
  useChatStore();
  const groups = useMemo(() => {
    const out: { category: string; items: Channel[] }[] = [];
    const byCat = new Map<string, Channel[]>();
    for (const ch of channels) {
      const cat = ch.category?.trim() || '';
      if (!byCat.has(cat)) {
        byCat.set(cat, []);
        out.push({ category: cat, items: byCat.get(cat)! });
      }
      byCat.get(cat)!.push(ch);
    }
    // Uncategorised channels first, as in most chat apps.
    out.sort((a, b) => (a.category === '' ? -1 : b.category === '' ? 1 : 0));
    return out;
  }, [channels]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  return (
    <div class="channel-scroll">
      {groups.map((g) => {
        const closed = collapsed.has(g.category);
        return (
          <div class="channel-group" key={g.category || '-'}>
            {g.category ? (
              <button
                type="button"
                class="channel-cat"
                aria-expanded={!closed}
                onClick={() => {
                  const next = new Set(collapsed);
                  if (closed) next.delete(g.category);
                  else next.add(g.category);
                  setCollapsed(next);
                }}
              >
                <svg class={`chev${closed ? ' chev-closed' : ''}`} viewBox="0 0 24 24" aria-hidden="true">
                  <path d="M6 9l6 6 6-6" />
                </svg>
                {g.category}
              </button>
            ) : null}
            <ul class="channel-list">
              {g.items.map((ch) => {
                const active = ch.id === activeId;
                const unread = !active && channelUnread(ch.id);
                if (closed && !active && !unread) return null;
                return (
                  <li key={ch.id}>
                    <Link
                      href={communityHref(communityId, ch.id)}
                      class={`channel-link${active ? ' active' : ''}${unread ? ' unread' : ''}`}
                      aria-current={active ? 'page' : undefined}
                      data-channel={ch.name}
                    >
                      <span class="channel-hash" aria-hidden="true">
                        {ch.type === 'announcement' ? '📣' : '#'}
                      </span>
                      <span class="channel-name">{ch.name}</span>
                      {unread ? (
                        <span class="unread-badge" aria-label="unread" data-testid="channel-unread">
                          new
                        </span>
                      ) : null}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Members

function MemberList({
  overlay,
  members,
  roles,
  ctx,
  onChange,
}: {
  overlay: boolean;
  members: Member[] | null;
  roles: CommunityRole[];
  ctx: ModContext;
  onChange: (what: 'kicked' | 'banned' | 'roles', m: Member) => void;
}) {
  const st = useChatStore();
  const [open, setOpen] = useState<string | null>(null);
  const cls = `members${overlay ? ' open' : ''}`;
  if (!members) return <aside class={cls}><Spinner /></aside>;
  const status = (m: Member) => st.presence.get(m.user.id) ?? (m.user.id === ctx.myId && gateway.status === 'ready' ? 'online' : m.presence);
  const online = members.filter((m) => status(m) !== 'offline');
  const offline = members.filter((m) => status(m) === 'offline');
  const byName = (a: Member, b: Member) => displayName(a.user).localeCompare(displayName(b.user));
  const section = (title: string, list: Member[]) =>
    list.length ? (
      <>
        <h2 class="members-h">
          {title} — {list.length}
        </h2>
        <ul class="member-list">
          {list.sort(byName).map((m) => {
            const s = status(m);
            const color = topRoleColor(m, roles);
            return (
              <li key={m.user.id} class={`member${s === 'offline' ? ' member-off' : ''}`} data-member={m.user.username} data-presence={s}>
                <button type="button" class="member-btn" aria-expanded={open === m.user.id} onClick={() => setOpen(open === m.user.id ? null : m.user.id)}>
                  <span class="member-avatar">
                    <UserAvatar user={m.user} size={32} />
                    <PresenceDot status={s} />
                  </span>
                  <span class="member-name" style={color ? { color } : undefined}>
                    {m.nick || displayName(m.user)}
                    {m.user.id === ctx.community.owner_id ? (
                      <span class="owner-crown" title="Owner" aria-label="owner">
                        ♛
                      </span>
                    ) : null}
                  </span>
                </button>
                {open === m.user.id ? (
                  <div class="member-pop card">
                    <div class="member-pop-head">
                      <UserAvatar user={m.user} size={40} />
                      <div>
                        <strong>{displayName(m.user)}</strong>
                        <Link href={`/u/${encodeURIComponent(m.user.username)}`} class="muted small">
                          @{m.user.username}
                        </Link>
                      </div>
                    </div>
                    <div class="chips">
                      {roles
                        .filter((r) => !r.is_everyone && m.roles.includes(r.id))
                        .map((r) => (
                          <span class="role-chip" key={r.id}>
                            <span class="role-swatch" style={{ background: r.color ? `#${r.color.toString(16).padStart(6, '0')}` : 'var(--muted)' }} />
                            {r.name}
                          </span>
                        ))}
                    </div>
                    <MemberActions ctx={ctx} member={m} onDone={(what) => onChange(what, m)} />
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      </>
    ) : null;
  return (
    <aside class={cls} aria-label="Members">
      {section('Online', online)}
      {section('Offline', offline)}
      {ctx.community.member_count > members.length ? (
        <p class="muted small members-more">
          Showing {members.length} of {ctx.community.member_count} members.
        </p>
      ) : null}
    </aside>
  );
}

// ---------------------------------------------------------------------------
// Chat

const QUICK_EMOJI = ['👍', '❤️', '😂', '🔥', '🎉', '😮', '😢', '👀'];
const GROUP_MS = 7 * 60_000;

function upsert(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.id === m.id);
  if (i >= 0) {
    const next = list.slice();
    next[i] = m;
    return next;
  }
  // Keep id order (ids grow with time).
  if (!list.length || idGt(m.id, list[list.length - 1].id)) return [...list, m];
  const next = [...list, m];
  next.sort((a, b) => (idGt(a.id, b.id) ? 1 : idGt(b.id, a.id) ? -1 : 0));
  return next;
}

function applyReaction(m: Message, emoji: string, delta: 1 | -1, mine: boolean): Message {
  const reactions = m.reactions.slice();
  const i = reactions.findIndex((r) => r.emoji === emoji);
  if (i < 0) {
    if (delta < 0) return m;
    reactions.push({ emoji, count: 1, me: mine });
  } else {
    const r = reactions[i];
    if (mine && r.me === (delta > 0)) return m; // already applied (optimistic)
    const count = r.count + delta;
    if (count <= 0) reactions.splice(i, 1);
    else reactions[i] = { emoji, count, me: mine ? delta > 0 : r.me };
  }
  return { ...m, reactions };
}

interface PendingScroll {
  kind: 'bottom' | 'keep';
  height?: number;
  top?: number;
}

function ChatPane({
  channel,
  community,
  roles,
  members,
  myId,
  membersShown,
  onToggleMembers,
  onToggleChannels,
}: {
  channel: Channel;
  community: Community;
  roles: CommunityRole[];
  members: Member[];
  myId: string;
  membersShown: boolean;
  onToggleMembers: () => void;
  onToggleChannels: () => void;
}) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const pending = useRef<PendingScroll | null>(null);
  const perms = channel.my_permissions;
  useTitle(`#${channel.name} · ${community.name}`);

  const nearBottom = () => {
    const el = scroller.current;
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 140;
  };

  const loadLatest = (initial: boolean) => {
    if (initial) setLoading(true);
    listMessages(channel.id, { limit: 50 })
      .then((page) => {
        pending.current = { kind: 'bottom' };
        setMessages((old) => {
          if (initial || !old.length) return page.items;
          // After a fresh identify: merge what we had with the latest page.
          let out = old;
          for (const m of page.items) out = upsert(out, m);
          return out;
        });
        if (initial) setHasMore(page.has_more);
        setError(null);
      })
      .catch((err: Error) => setError(err.message))
      .finally(() => setLoading(false));
  };

  useEffect(() => {
    loadLatest(true);
    const mine = (d: { channel_id: string }) => d.channel_id === channel.id;
    const offs = [
      gateway.on('READY', () => loadLatest(false)),
      gateway.on('MESSAGE_CREATE', (m) => {
        if (!mine(m)) return;
        if (nearBottom() || m.author?.id === myId) pending.current = { kind: 'bottom' };
        setMessages((list) => upsert(list, m));
      }),
      gateway.on('MESSAGE_UPDATE', (m) => {
        if (mine(m)) setMessages((list) => (list.some((x) => x.id === m.id) ? upsert(list, m) : list));
      }),
      gateway.on('MESSAGE_DELETE', (d) => {
        if (mine(d)) setMessages((list) => list.filter((x) => x.id !== d.id));
      }),
      gateway.on('REACTION_ADD', (d) => {
        if (mine(d)) setMessages((list) => list.map((m) => (m.id === d.message_id ? applyReaction(m, d.emoji, 1, d.user_id === myId) : m)));
      }),
      gateway.on('REACTION_REMOVE', (d) => {
        if (mine(d)) setMessages((list) => list.map((m) => (m.id === d.message_id ? applyReaction(m, d.emoji, -1, d.user_id === myId) : m)));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [channel.id]);

  // Applied once the messages are on screen: while the first page loads, a spinner stands in for them.
  useLayoutEffect(() => {
    const el = scroller.current;
    const p = pending.current;
    if (!el || !p || loading) return;
    pending.current = null;
    if (p.kind === 'bottom') el.scrollTop = el.scrollHeight;
    else if (p.height !== undefined && p.top !== undefined) el.scrollTop = p.top + (el.scrollHeight - p.height);
  }, [messages, loading]);

  // Mark the newest message read while the channel is on screen.
  useEffect(() => {
    const last = messages[messages.length - 1];
    if (!last) return;
    const ack = () => {
      if (document.visibilityState !== 'visible') return;
      if (markRead(channel.id, last.id)) ackChannel(channel.id, last.id).catch(() => undefined);
    };
    // At once: a quick look at a channel counts as reading it.
    ack();
    document.addEventListener('visibilitychange', ack);
    return () => document.removeEventListener('visibilitychange', ack);
  }, [messages, channel.id]);

  const loadOlder = async () => {
    if (loadingOlder || !hasMore || !messages.length) return;
    setLoadingOlder(true);
    try {
      const page = await listMessages(channel.id, { before: messages[0].id, limit: 50 });
      const el = scroller.current;
      pending.current = el ? { kind: 'keep', height: el.scrollHeight, top: el.scrollTop } : null;
      setMessages((list) => {
        const ids = new Set(list.map((m) => m.id));
        return [...page.items.filter((m) => !ids.has(m.id)), ...list];
      });
      setHasMore(page.has_more);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not load older messages.');
    } finally {
      setLoadingOlder(false);
    }
  };

  const onScroll = () => {
    const el = scroller.current;
    if (el && el.scrollTop < 200) void loadOlder();
  };

  const byId = useMemo(() => new Map(members.map((m) => [m.user.id, m])), [members]);
  const canManage = can(perms, 'MANAGE_MESSAGES');
  const canReact = can(perms, 'ADD_REACTIONS');

  const react = async (m: Message, emoji: string) => {
    const had = m.reactions.find((r) => r.emoji === emoji)?.me ?? false;
    setMessages((list) => list.map((x) => (x.id === m.id ? applyReaction(x, emoji, had ? -1 : 1, true) : x)));
    try {
      await setReaction(m.id, emoji, !had);
    } catch (err) {
      setMessages((list) => list.map((x) => (x.id === m.id ? applyReaction(x, emoji, had ? 1 : -1, true) : x)));
      setError(err instanceof Error ? err.message : 'Could not react.');
    }
  };

  return (
    <section class="chat-pane" aria-label={`#${channel.name}`}>
      <header class="chat-head">
        <button type="button" class="icon-btn chat-drawer" aria-label="Channels" onClick={onToggleChannels}>
          <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 6h16M4 12h16M4 18h16" />
          </svg>
        </button>
        <span class="channel-hash big" aria-hidden="true">
          {channel.type === 'announcement' ? '📣' : '#'}
        </span>
        <h2 class="chat-title">{channel.name}</h2>
        {channel.topic ? <span class="chat-topic" title={channel.topic}>{channel.topic}</span> : null}
        <button type="button" class={`icon-btn chat-members-toggle${membersShown ? ' on' : ''}`} aria-pressed={membersShown} aria-label="Member list" title="Member list" onClick={onToggleMembers}>
          <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <circle cx="9" cy="8" r="3.5" />
            <path d="M2.5 20c.7-3.6 3.3-5.5 6.5-5.5s5.8 1.9 6.5 5.5M16 4.5a3.5 3.5 0 0 1 0 7M18 14.6c2 .7 3.2 2.5 3.6 5.4" />
          </svg>
        </button>
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} id="messages" role="log" aria-live="polite" aria-relevant="additions">
        {loading ? (
          <Spinner label="Loading messages…" />
        ) : (
          <>
            {hasMore ? (
              <div class="history-more">{loadingOlder ? <Spinner label="Loading older messages…" /> : <button type="button" class="link-btn" onClick={() => void loadOlder()}>Load older messages</button>}</div>
            ) : (
              <div class="channel-intro">
                <span class="channel-intro-icon" aria-hidden="true">
                  #
                </span>
                <h3>Welcome to #{channel.name}</h3>
                <p class="muted">{channel.topic || `This is the start of #${channel.name}.`}</p>
              </div>
            )}
            {messages.map((m, i) => {
              const prev = messages[i - 1];
              const grouped =
                !!prev &&
                !m.reply_to &&
                prev.author?.id === m.author?.id &&
                Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_MS;
              return (
                <MessageItem
                  key={m.id}
                  m={m}
                  grouped={grouped}
                  color={m.author ? topRoleColor(byId.get(m.author.id), roles) : undefined}
                  mine={m.author?.id === myId}
                  canDelete={m.author?.id === myId || canManage}
                  canReact={canReact}
                  canReply={can(perms, 'SEND_MESSAGES')}
                  onReact={(e) => void react(m, e)}
                  onReply={() => {
                    setReplyTo(m);
                    document.getElementById('chat-input')?.focus();
                  }}
                  onError={setError}
                  myId={myId}
                />
              );
            })}
          </>
        )}
      </div>
      <TypingLine channelId={channel.id} />
      <Composer
        channel={channel}
        replyTo={replyTo}
        clearReply={() => setReplyTo(null)}
        error={error}
        setError={setError}
        onSent={(m) => {
          pending.current = { kind: 'bottom' };
          setMessages((list) => upsert(list, m));
        }}
      />
    </section>
  );
}

function TypingLine({ channelId }: { channelId: string }) {
  useChatStore();
  const names = typingIn(channelId);
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = 'Several people are typing…';
  return (
    <div class="typing" id="typing-indicator" aria-live="polite">
      {text ? (
        <>
          <span class="typing-dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {text}
        </>
      ) : null}
    </div>
  );
}

function MessageText({ text, myName }: { text: string; myName?: string }) {
  const parts: (string | preact.JSX.Element)[] = [];
  const re = /(^|[^A-Za-z0-9_])@([A-Za-z0-9_]{3,32}|everyone)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const at = m.index + m[1].length;
    if (at > last) parts.push(text.slice(last, at));
    const name = m[2];
    const me = name === 'everyone' || (myName && name.toLowerCase() === myName.toLowerCase());
    parts.push(
      name === 'everyone' ? (
        <span class="mention mention-me" key={at}>
          @everyone
        </span>
      ) : (
        <Link href={`/u/${encodeURIComponent(name)}`} class={`mention${me ? ' mention-me' : ''}`} key={at}>
          @{name}
        </Link>
      ),
    );
    last = at + 1 + name.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}

function ClipEmbed({ clip }: { clip: MessageClip }) {
  const w = clip.width || 16;
  const h = clip.height || 9;
  const ratio = Math.max(9 / 16, Math.min(16 / 9, w / h));
  if (!clip.playback_url) {
    return (
      <div class="clip-embed clip-embed-missing" style={{ aspectRatio: String(ratio) }}>
        <SIcon name="gamepad" />
        <span class="muted">Clip unavailable</span>
      </div>
    );
  }
  return (
    <div class="clip-embed" style={{ aspectRatio: String(ratio), maxWidth: ratio < 1 ? '260px' : '440px' }}>
      <video class="clip-embed-video" src={clip.playback_url} poster={clip.thumbnail_url ?? undefined} controls playsInline preload="metadata" data-clip={clip.id} />
      {clip.duration_s ? <span class="pc-duration">{formatTime(clip.duration_s)}</span> : null}
    </div>
  );
}

function timeOnly(iso: string): string {
  const d = new Date(iso);
  // Short enough for the gutter: "10:47" (the day period is implied by the messages around it).
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' }).replace(/\s?[AP]\.?M\.?$/i, '');
}

function MessageItem({
  m,
  grouped,
  color,
  mine,
  canDelete,
  canReact,
  canReply,
  onReact,
  onReply,
  onError,
  myId,
}: {
  m: Message;
  grouped: boolean;
  color?: string;
  mine: boolean;
  canDelete: boolean;
  canReact: boolean;
  canReply: boolean;
  onReact: (emoji: string) => void;
  onReply: () => void;
  onError: (e: string) => void;
  myId: string;
}) {
  const [picker, setPicker] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.content);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const author = m.author;
  const name = author ? displayName(author) : 'Deleted user';
  const mentioned = m.mention_everyone || m.mentions.includes(myId);

  const save = async () => {
    const text = draft.trim();
    if (!text || text === m.content) {
      setEditing(false);
      return;
    }
    try {
      await editMessage(m.id, text);
      setEditing(false);
    } catch (err) {
      onError(err instanceof Error ? err.message : 'Could not edit the message.');
    }
  };

  return (
    <article class={`msg${grouped ? ' msg-grouped' : ''}${mentioned ? ' msg-mentioned' : ''}`} data-message={m.id} data-author={author?.username ?? ''}>
      {m.reply_to ? (
        <div class="msg-reply" data-reply-to={m.reply_to.id}>
          <span class="reply-spine" aria-hidden="true" />
          <strong>@{m.reply_to.author_username ?? 'unknown'}</strong>
          <span class="reply-text">{m.reply_to.content || 'Original message was deleted'}</span>
        </div>
      ) : null}
      <div class="msg-row">
        <div class="msg-gutter">
          {grouped ? (
            <time class="msg-hover-time" dateTime={m.created_at}>
              {timeOnly(m.created_at)}
            </time>
          ) : author ? (
            <UserAvatar user={author} size={38} />
          ) : (
            <span class="uavatar uavatar-fallback" style={{ width: '38px', height: '38px' }} />
          )}
        </div>
        <div class="msg-body">
          {!grouped ? (
            <div class="msg-head">
              <span class="msg-author" style={color ? { color } : undefined}>
                {name}
              </span>
              <span class="msg-time">
                <RelTime iso={m.created_at} />
              </span>
            </div>
          ) : null}
          {editing ? (
            <div class="msg-edit">
              <textarea
                class="input"
                value={draft}
                maxLength={MESSAGE_MAX}
                rows={Math.min(8, draft.split('\n').length + 1)}
                onInput={(e) => setDraft(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) {
                    e.preventDefault();
                    void save();
                  } else if (e.key === 'Escape') {
                    setEditing(false);
                    setDraft(m.content);
                  }
                }}
                aria-label="Edit message"
                ref={(el) => el?.focus()}
              />
              <span class="muted small">Enter to save · Esc to cancel</span>
            </div>
          ) : (
            <div class="msg-content">
              <MessageText text={m.content} myName={undefined} />
              {m.edited_at ? <span class="msg-edited" title={new Date(m.edited_at).toLocaleString()}> (edited)</span> : null}
            </div>
          )}
          {m.clip ? <ClipEmbed clip={m.clip} /> : null}
          {m.reactions.length ? (
            <div class="reactions">
              {m.reactions.map((r) => (
                <button
                  key={r.emoji}
                  type="button"
                  class={`reaction${r.me ? ' reaction-me' : ''}`}
                  aria-pressed={r.me}
                  aria-label={`${r.emoji} ${r.count}`}
                  disabled={!canReact && !r.me}
                  onClick={() => onReact(r.emoji)}
                  data-emoji={r.emoji}
                >
                  <span class="reaction-emoji">{r.emoji}</span>
                  <span class="reaction-count">{r.count}</span>
                </button>
              ))}
            </div>
          ) : null}
          {confirmDelete ? (
            <div class="msg-confirm" role="group" aria-label="Delete this message?">
              <span>Delete this message?</span>
              <button
                type="button"
                class="btn btn-danger-solid btn-sm msg-confirm-yes"
                onClick={async () => {
                  try {
                    await deleteMessage(m.id);
                  } catch (err) {
                    onError(err instanceof Error ? err.message : 'Could not delete the message.');
                  }
                  setConfirmDelete(false);
                }}
              >
                Delete
              </button>
              <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </div>
          ) : null}
        </div>
      </div>
      {!editing && !confirmDelete ? (
        <div class={`msg-tools${picker ? ' open' : ''}`} role="toolbar" aria-label="Message actions">
          {canReact ? (
            <button type="button" class="tool" title="Add reaction" aria-label="Add reaction" aria-expanded={picker} onClick={() => setPicker(!picker)}>
              <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="12" r="9" />
                <path d="M8.5 14.5s1.3 2 3.5 2 3.5-2 3.5-2M9 9.5h.01M15 9.5h.01" />
              </svg>
            </button>
          ) : null}
          {canReply ? (
            <button type="button" class="tool" title="Reply" aria-label="Reply" onClick={onReply}>
              <SIcon name="reply" />
            </button>
          ) : null}
          {mine ? (
            <button
              type="button"
              class="tool"
              title="Edit"
              aria-label="Edit"
              onClick={() => {
                setDraft(m.content);
                setEditing(true);
              }}
            >
              <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M4 20h4L19 9l-4-4L4 16v4ZM14 6l4 4" />
              </svg>
            </button>
          ) : null}
          {canDelete ? (
            <button type="button" class="tool tool-danger" title="Delete" aria-label="Delete" onClick={() => setConfirmDelete(true)}>
              <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />
              </svg>
            </button>
          ) : null}
          {picker ? (
            <div class="emoji-picker card" role="menu" aria-label="Pick a reaction">
              {QUICK_EMOJI.map((e) => (
                <button
                  key={e}
                  type="button"
                  role="menuitem"
                  class="emoji-btn"
                  aria-label={`React with ${e}`}
                  onClick={() => {
                    setPicker(false);
                    onReact(e);
                  }}
                >
                  {e}
                </button>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}

// ---------------------------------------------------------------------------
// Composer

const TYPING_EVERY_MS = 3000;

function Composer({
  channel,
  replyTo,
  clearReply,
  error,
  setError,
  onSent,
}: {
  channel: Channel;
  replyTo: Message | null;
  clearReply: () => void;
  error: string | null;
  setError: (e: string | null) => void;
  onSent: (m: Message) => void;
}) {
  const [text, setText] = useState('');
  const [clip, setClip] = useState<Clip | null>(null);
  const [pickClip, setPickClip] = useState(false);
  const [sending, setSending] = useState(false);
  const lastTyping = useRef(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const mayWrite = can(channel.my_permissions, 'SEND_MESSAGES');
  const mayClip = can(channel.my_permissions, 'ATTACH_CLIPS');

  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(220, el.scrollHeight)}px`;
  }, [text]);

  const send = async () => {
    const content = text.trim();
    if (!content || sending) return;
    if (content.length > MESSAGE_MAX) {
      setError(`Messages can be at most ${MESSAGE_MAX} characters.`);
      return;
    }
    setSending(true);
    setError(null);
    try {
      const m = await sendMessage(channel.id, { content, reply_to: replyTo?.id, clip_id: clip?.id });
      setText('');
      setClip(null);
      clearReply();
      lastTyping.current = 0;
      onSent(m);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setError(`You cannot do that here: ${err.message}`);
      else setError(err instanceof Error ? err.message : 'Could not send the message.');
    } finally {
      setSending(false);
      area.current?.focus();
    }
  };

  if (!mayWrite) {
    return (
      <div class="composer composer-disabled">
        <textarea
          id="chat-input"
          class="composer-input"
          disabled
          rows={1}
          placeholder={`You do not have permission to send messages in #${channel.name}`}
          aria-describedby="composer-reason"
        />
        <p class="composer-reason" id="composer-reason">
          <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <rect x="5" y="11" width="14" height="9" rx="2" />
            <path d="M8 11V8a4 4 0 0 1 8 0v3" />
          </svg>
          {channel.type === 'announcement'
            ? 'This is an announcement channel: only members with the Send messages permission can post.'
            : 'You do not have the Send messages permission in this channel.'}
        </p>
        {error ? (
          <p class="composer-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    );
  }

  const left = MESSAGE_MAX - text.length;
  return (
    <div class="composer">
      {replyTo ? (
        <div class="composer-bar" id="reply-bar">
          <span>
            Replying to <strong>@{replyTo.author?.username ?? 'unknown'}</strong>
          </span>
          <button type="button" class="icon-btn small-x" aria-label="Cancel reply" onClick={clearReply}>
            ×
          </button>
        </div>
      ) : null}
      {clip ? (
        <div class="composer-bar" id="clip-bar">
          <span>
            <Icon16 /> Clip attached: <strong>{clip.title || 'Untitled clip'}</strong>
          </span>
          <button type="button" class="icon-btn small-x" aria-label="Remove clip" onClick={() => setClip(null)}>
            ×
          </button>
        </div>
      ) : null}
      <div class="composer-box">
        {mayClip ? (
          <button type="button" class="icon-btn composer-attach" id="attach-clip" aria-label="Attach a clip" title="Attach a clip" onClick={() => setPickClip(true)}>
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
              <rect x="3" y="5" width="18" height="14" rx="3" />
              <path d="M10 9.5v5l4.5-2.5L10 9.5Z" />
            </svg>
          </button>
        ) : null}
        <textarea
          id="chat-input"
          ref={area}
          class="composer-input"
          rows={1}
          value={text}
          maxLength={MESSAGE_MAX}
          placeholder={`Message #${channel.name}`}
          aria-label={`Message #${channel.name}`}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            const now = Date.now();
            if (v.trim() && now - lastTyping.current >= TYPING_EVERY_MS) {
              lastTyping.current = now;
              gateway.typing(channel.id);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="button" class="composer-send" aria-label="Send" disabled={!text.trim() || sending} onClick={() => void send()}>
          <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2.5-6.5L4 12Z" />
          </svg>
        </button>
      </div>
      <div class="composer-foot">
        {error ? (
          <p class="composer-error" role="alert" id="composer-error">
            {error}
          </p>
        ) : (
          <span class="muted small composer-hint">Enter to send · Shift+Enter for a new line</span>
        )}
        {left <= 500 ? (
          <span class={`char-count${left < 0 ? ' over' : left <= 100 ? ' warn' : ''}`} id="char-count" aria-live="polite">
            {left}
          </span>
        ) : null}
      </div>
      {pickClip ? (
        <ClipPicker
          onClose={() => setPickClip(false)}
          onPick={(c) => {
            setClip(c);
            setPickClip(false);
            area.current?.focus();
          }}
        />
      ) : null}
    </div>
  );
}

function Icon16() {
  return (
    <svg class="icon inline-icon" viewBox="0 0 24 24" aria-hidden="true">
      <rect x="3" y="5" width="18" height="14" rx="3" />
      <path d="M10 9.5v5l4.5-2.5L10 9.5Z" />
    </svg>
  );
}

function ClipPicker({ onClose, onPick }: { onClose: () => void; onPick: (c: Clip) => void }) {
  const [clips, setClips] = useState<Clip[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listClips(50)
      .then((p) => setClips(p.items.filter((c) => c.status === 'ready')))
      .catch((err: Error) => setError(err.message));
  }, []);
  return (
    <Modal title="Attach a clip" onClose={onClose} id="clip-picker">
      <ErrorBox message={error} />
      {clips === null && !error ? (
        <Spinner />
      ) : clips && clips.length ? (
        <ul class="clip-pick-list">
          {clips.map((c) => (
            <li key={c.id}>
              <button type="button" class="clip-pick" onClick={() => onPick(c)} data-clip={c.id}>
                <span class={`clip-pick-shape shape-${c.aspect.replace(':', 'x')}`} aria-hidden="true">
                  <Icon16 />
                </span>
                <span class="clip-pick-title">{c.title || 'Untitled clip'}</span>
                <span class="muted small">
                  {c.aspect} · {formatTime(c.duration_s ?? c.end_s - c.start_s)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">
          No ready clips yet. Make one from a video on <Link href="/videos">Videos</Link>.
        </p>
      )}
    </Modal>
  );
}
