// What every communities page shares: my communities (for the rail) and each
// channel's read state (for unread badges). Filled from GET /communities and
// the gateway's ready payload, kept current by dispatches.

import { useEffect, useState } from 'preact/hooks';
import { getSession, subscribe as onSession } from '../api';
import { idGt, myCommunities, type Channel, type Community } from '../communities';
import { gateway } from '../gateway';

export interface ReadState {
  community_id: string;
  last_message_id: string | null;
  last_read_id: string | null;
}

interface Store {
  communities: Community[] | null;
  error: string | null;
  reads: Map<string, ReadState>; // channel id ->
  typing: Map<string, Map<string, { username: string; until: number }>>; // channel id -> user id ->
  presence: Map<string, string>; // user id -> status
}

const store: Store = { communities: null, error: null, reads: new Map(), typing: new Map(), presence: new Map() };
let version = 0;
const listeners = new Set<() => void>();
let loading: Promise<void> | null = null;

function changed(): void {
  version++;
  for (const fn of Array.from(listeners)) fn();
}

export function useChatStore(): Store {
  const [, setV] = useState(version);
  useEffect(() => {
    const fn = () => setV(version);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return store;
}

export function loadCommunities(force = false): Promise<void> {
  if (loading) return loading;
  if (store.communities && !force) return Promise.resolve();
  loading = myCommunities()
    .then((r) => {
      store.communities = r.items;
      store.error = null;
    })
    .catch((err: Error) => {
      store.error = err.message;
    })
    .finally(() => {
      loading = null;
      changed();
    });
  return loading;
}

export function upsertCommunity(c: Community): void {
  const list = store.communities ?? [];
  const i = list.findIndex((x) => x.id === c.id);
  if (i >= 0) list[i] = { ...list[i], ...c };
  else list.unshift(c);
  store.communities = [...list];
  changed();
}

export function dropCommunity(id: string): void {
  if (!store.communities) return;
  store.communities = store.communities.filter((c) => c.id !== id);
  changed();
}

export function noteChannels(channels: Channel[]): void {
  for (const ch of channels) {
    const prev = store.reads.get(ch.id);
    store.reads.set(ch.id, {
      community_id: ch.community_id,
      last_message_id: idGt(prev?.last_message_id, ch.last_message_id) ? prev!.last_message_id : ch.last_message_id,
      last_read_id: idGt(prev?.last_read_id, ch.last_read_id) ? prev!.last_read_id : ch.last_read_id,
    });
  }
  changed();
}

export function markRead(channelId: string, messageId: string): boolean {
  const r = store.reads.get(channelId);
  if (r && !idGt(messageId, r.last_read_id)) return false;
  store.reads.set(channelId, {
    community_id: r?.community_id ?? '',
    last_message_id: idGt(messageId, r?.last_message_id) ? messageId : (r?.last_message_id ?? messageId),
    last_read_id: messageId,
  });
  changed();
  return true;
}

export function channelUnread(channelId: string): boolean {
  const r = store.reads.get(channelId);
  return !!r && idGt(r.last_message_id, r.last_read_id);
}

export function communityUnread(communityId: string): boolean {
  for (const r of store.reads.values()) if (r.community_id === communityId && idGt(r.last_message_id, r.last_read_id)) return true;
  return false;
}

export function typingIn(channelId: string): string[] {
  const m = store.typing.get(channelId);
  if (!m) return [];
  const now = Date.now();
  const out: string[] = [];
  for (const [uid, t] of m) {
    if (t.until > now) out.push(t.username);
    else m.delete(uid);
  }
  return out;
}

function stopTyping(channelId: string, userId: string): void {
  const m = store.typing.get(channelId);
  if (m?.delete(userId)) changed();
}

// ---------------------------------------------------------------------------
// Live updates

let wired = false;
export function wireChatStore(): void {
  if (wired) return;
  wired = true;
  // Nothing of one account's chat state survives a sign-out or a switch of account.
  let owner: string | null = getSession().user?.id ?? null;
  onSession((s) => {
    const id = s.user?.id ?? null;
    if (id === owner) return;
    owner = id;
    store.communities = null;
    store.error = null;
    store.reads.clear();
    store.typing.clear();
    store.presence.clear();
    changed();
  });
  gateway.on('READY', (d) => {
    const me = getSession().user?.id;
    for (const c of d.communities) noteChannels(c.channels.map((ch) => ({ ...ch, community_id: ch.community_id ?? c.id })));
    // The list of communities may have changed while we were away.
    if (store.communities || me) void loadCommunities(true);
  });
  gateway.on('MESSAGE_CREATE', (m) => {
    const r = store.reads.get(m.channel_id);
    const mine = m.author?.id === getSession().user?.id;
    store.reads.set(m.channel_id, {
      community_id: m.community_id,
      last_message_id: m.id,
      last_read_id: mine ? m.id : (r?.last_read_id ?? null),
    });
    if (m.author) stopTyping(m.channel_id, m.author.id);
    changed();
  });
  gateway.on('TYPING_START', (d) => {
    if (d.user_id === getSession().user?.id) return;
    let m = store.typing.get(d.channel_id);
    if (!m) store.typing.set(d.channel_id, (m = new Map()));
    m.set(d.user_id, { username: d.username, until: Date.now() + 8000 });
    changed();
    setTimeout(changed, 8100);
  });
  gateway.on('PRESENCE_UPDATE', (d) => {
    store.presence.set(d.user_id, d.status);
    changed();
  });
  gateway.on('CHANNEL_CREATE', (ch) => noteChannels([ch]));
  gateway.on('CHANNEL_DELETE', (d) => {
    store.reads.delete(d.id);
    changed();
  });
  gateway.on('COMMUNITY_UPDATE', (c) => {
    if (store.communities?.some((x) => x.id === c.id)) upsertCommunity(c);
  });
  gateway.on('COMMUNITY_DELETE', (d) => dropCommunity(d.id));
  gateway.on('MEMBER_LEAVE', (d) => {
    if (d.user_id === getSession().user?.id) dropCommunity(d.community_id);
  });
  gateway.on('MEMBER_JOIN', (m) => {
    if (m.user.id === getSession().user?.id) void loadCommunities(true);
  });
}
