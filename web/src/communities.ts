// Communities: servers, channels, roles, members, invites and messages
// (docs/communities-api.md), and the permission bits (docs/permissions.md,
// src/communities/perms.h). Ids and permission bitfields are decimal strings;
// bitfields are handled as BigInt because 64 bits do not fit a JS number.

import { request, type Page } from './api';

export interface CommunityMe {
  joined: boolean;
  permissions: string;
  /** my own member record (GET /communities/{id} of a member) */
  member?: Member;
}

export interface Community {
  id: string;
  name: string;
  description: string | null;
  icon: string | null;
  public: boolean;
  owner_id: string;
  member_count: number;
  created_at: string;
  me?: CommunityMe;
  my_permissions?: string; // the gateway's ready payload
  channels?: Channel[];
  roles?: CommunityRole[];
}

export type OverwriteType = 'role' | 'member';

export interface Overwrite {
  type: OverwriteType;
  id: string;
  allow: string;
  deny: string;
}

export type ChannelType = 'text' | 'announcement';

export interface Channel {
  id: string;
  community_id: string;
  name: string;
  type: ChannelType;
  category: string | null;
  topic: string | null;
  position: number;
  last_message_id: string | null;
  last_read_id: string | null;
  my_permissions: string;
  overwrites?: Overwrite[];
}

export interface CommunityRole {
  id: string;
  community_id: string;
  name: string;
  color: number;
  position: number;
  permissions: string;
  is_everyone: boolean;
}

export interface ChatUser {
  id: string;
  username: string;
  display_name: string | null;
  avatar_url: string | null;
}

export type Presence = 'online' | 'idle' | 'offline';

export interface Member {
  community_id: string;
  user: ChatUser;
  nick: string | null;
  joined_at: string;
  roles: string[];
  presence: Presence;
}

export interface Invite {
  code: string;
  community_id: string;
  inviter_id: string;
  max_uses: number;
  uses: number;
  expires_at: string | null;
  created_at: string;
}

export interface InvitePreview {
  code: string;
  community: Pick<Community, 'id' | 'name' | 'description' | 'icon' | 'member_count'>;
}

export interface MessageClip {
  id: string;
  duration_s: number | null;
  width: number | null;
  height: number | null;
  thumbnail_url: string | null;
  playback_url: string | null;
}

export interface Reaction {
  emoji: string;
  count: number;
  me: boolean;
}

export interface Message {
  id: string;
  channel_id: string;
  community_id: string;
  author: ChatUser | null;
  content: string;
  reply_to: { id: string; author_username: string | null; content: string } | null;
  clip: MessageClip | null;
  mentions: string[];
  mention_everyone: boolean;
  pinned: boolean;
  edited_at: string | null;
  created_at: string;
  reactions: Reaction[];
}

export interface MessagePage {
  items: Message[];
  has_more: boolean;
}

export interface Ban {
  user: ChatUser;
  reason: string | null;
  created_at?: string;
}

// ---------------------------------------------------------------------------
// Permissions

export const PERMS = {
  VIEW_CHANNEL: 1n << 0n,
  SEND_MESSAGES: 1n << 1n,
  MANAGE_MESSAGES: 1n << 2n,
  MANAGE_CHANNELS: 1n << 3n,
  MANAGE_ROLES: 1n << 4n,
  KICK_MEMBERS: 1n << 5n,
  BAN_MEMBERS: 1n << 6n,
  MENTION_EVERYONE: 1n << 7n,
  ADD_REACTIONS: 1n << 8n,
  ATTACH_CLIPS: 1n << 9n,
  ADMINISTRATOR: 1n << 10n,
  CREATE_INVITE: 1n << 11n,
  MANAGE_COMMUNITY: 1n << 12n,
  VIEW_AUDIT_LOG: 1n << 13n,
} as const;

export type PermName = keyof typeof PERMS;

/** Every bit, in order, with what it lets a member do (for the role and overwrite editors). */
export const PERM_LIST: { name: PermName; label: string; hint: string; channel: boolean }[] = [
  { name: 'VIEW_CHANNEL', label: 'View channels', hint: 'See the channel and read its messages.', channel: true },
  { name: 'SEND_MESSAGES', label: 'Send messages', hint: 'Post messages in text channels.', channel: true },
  { name: 'MANAGE_MESSAGES', label: 'Manage messages', hint: 'Delete and pin messages of others.', channel: true },
  { name: 'MANAGE_CHANNELS', label: 'Manage channels', hint: 'Create, edit and delete channels.', channel: true },
  { name: 'MANAGE_ROLES', label: 'Manage roles', hint: 'Create and edit roles below their own, and channel overwrites.', channel: true },
  { name: 'KICK_MEMBERS', label: 'Kick members', hint: 'Remove members ranked below them.', channel: false },
  { name: 'BAN_MEMBERS', label: 'Ban members', hint: 'Ban and unban members ranked below them.', channel: false },
  { name: 'MENTION_EVERYONE', label: 'Mention @everyone', hint: 'Notify every member with @everyone.', channel: true },
  { name: 'ADD_REACTIONS', label: 'Add reactions', hint: 'React to messages with emoji.', channel: true },
  { name: 'ATTACH_CLIPS', label: 'Attach clips', hint: 'Share their clips in messages.', channel: true },
  { name: 'ADMINISTRATOR', label: 'Administrator', hint: 'Every permission, in every channel. Grant with care.', channel: false },
  { name: 'CREATE_INVITE', label: 'Create invites', hint: 'Invite people to the community.', channel: true },
  { name: 'MANAGE_COMMUNITY', label: 'Manage community', hint: 'Edit the name, description, icon and visibility.', channel: false },
  { name: 'VIEW_AUDIT_LOG', label: 'View audit log', hint: 'Read the record of moderation actions.', channel: false },
];

export function bits(s: string | null | undefined): bigint {
  if (!s) return 0n;
  try {
    return /^\d+$/.test(s) ? BigInt(s) : 0n;
  } catch {
    return 0n;
  }
}

/** Does the bitfield grant `name`? ADMINISTRATOR grants everything. */
export function can(perms: string | bigint | null | undefined, name: PermName): boolean {
  const p = typeof perms === 'bigint' ? perms : bits(perms);
  if (p & PERMS.ADMINISTRATOR) return true;
  return (p & PERMS[name]) !== 0n;
}

export function withBit(perms: string, name: PermName, on: boolean): string {
  const p = bits(perms);
  return (on ? p | PERMS[name] : p & ~PERMS[name]).toString();
}

/** Decimal-string ids compared as numbers ("10" > "9"). */
export function idGt(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  return bits(a) > bits(b);
}

export function isUnread(ch: Pick<Channel, 'last_message_id' | 'last_read_id'>): boolean {
  return idGt(ch.last_message_id, ch.last_read_id);
}

export function communityPerms(c: Community | null | undefined): string {
  return c?.me?.permissions ?? c?.my_permissions ?? '0';
}

export const colorHex = (c: number) => (c ? `#${c.toString(16).padStart(6, '0')}` : '');

export const MESSAGE_MAX = 4000;

// ---------------------------------------------------------------------------
// Endpoints

const seg = (id: string) => encodeURIComponent(id);
function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
const auth = { auth: true } as const;

export interface NewCommunity {
  name: string;
  description?: string;
  icon?: string;
  public?: boolean;
}

export const createCommunity = (c: NewCommunity) => request<Community>('POST', '/communities', { ...auth, body: c });
export const myCommunities = () => request<{ items: Community[] }>('GET', '/communities', auth);
export const discoverCommunities = (q: string, limit = 24, cursor?: string | null) =>
  request<Page<Community>>('GET', `/communities/discover${query({ q, limit, cursor })}`, auth);
export const getCommunity = (id: string) => request<Community>('GET', `/communities/${seg(id)}`, auth);
export const updateCommunity = (id: string, changes: Partial<NewCommunity>) =>
  request<Community>('PATCH', `/communities/${seg(id)}`, { ...auth, body: changes });
export const deleteCommunity = (id: string) => request<void>('DELETE', `/communities/${seg(id)}`, auth);
export const joinCommunity = (id: string) => request<Community>('POST', `/communities/${seg(id)}/join`, auth);
export const leaveCommunity = (id: string) => request<void>('POST', `/communities/${seg(id)}/leave`, auth);

export const listChannels = (cid: string) => request<{ items: Channel[] }>('GET', `/communities/${seg(cid)}/channels`, auth);
export interface ChannelFields {
  name?: string;
  type?: ChannelType;
  category?: string | null;
  topic?: string | null;
  position?: number;
}
export const createChannel = (cid: string, ch: ChannelFields) =>
  request<Channel>('POST', `/communities/${seg(cid)}/channels`, { ...auth, body: ch });
export const updateChannel = (id: string, ch: ChannelFields) => request<Channel>('PATCH', `/channels/${seg(id)}`, { ...auth, body: ch });
export const deleteChannel = (id: string) => request<void>('DELETE', `/channels/${seg(id)}`, auth);
export const putOverwrite = (chId: string, type: OverwriteType, target: string, allow: string, deny: string) =>
  request<void>('PUT', `/channels/${seg(chId)}/overwrites/${type}/${seg(target)}`, { ...auth, body: { allow, deny } });
export const deleteOverwrite = (chId: string, type: OverwriteType, target: string) =>
  request<void>('DELETE', `/channels/${seg(chId)}/overwrites/${type}/${seg(target)}`, auth);

export const listMembers = (cid: string, limit = 100, cursor?: string | null) =>
  request<Page<Member>>('GET', `/communities/${seg(cid)}/members${query({ limit, cursor })}`, auth);
export const kickMember = (cid: string, uid: string) => request<void>('DELETE', `/communities/${seg(cid)}/members/${seg(uid)}`, auth);
export const banMember = (cid: string, uid: string, reason?: string) =>
  request<void>('PUT', `/communities/${seg(cid)}/bans/${seg(uid)}`, { ...auth, body: reason ? { reason } : {} });
export const unbanMember = (cid: string, uid: string) => request<void>('DELETE', `/communities/${seg(cid)}/bans/${seg(uid)}`, auth);
export const listBans = (cid: string) => request<{ items: Ban[] }>('GET', `/communities/${seg(cid)}/bans`, auth);
export const createInvite = (cid: string, opts: { max_uses?: number; expires_in_s?: number }) =>
  request<Invite>('POST', `/communities/${seg(cid)}/invites`, { ...auth, body: opts });
export const getInvite = (code: string) => request<InvitePreview>('GET', `/invites/${seg(code)}`, auth);
export const acceptInvite = (code: string) => request<Community>('POST', `/invites/${seg(code)}/accept`, auth);

export const listRoles = (cid: string) => request<{ items: CommunityRole[] }>('GET', `/communities/${seg(cid)}/roles`, auth);
export interface RoleFields {
  name?: string;
  color?: number;
  permissions?: string;
  position?: number;
}
export const createRole = (cid: string, r: RoleFields) => request<CommunityRole>('POST', `/communities/${seg(cid)}/roles`, { ...auth, body: r });
export const updateRole = (cid: string, id: string, r: RoleFields) =>
  request<CommunityRole>('PATCH', `/communities/${seg(cid)}/roles/${seg(id)}`, { ...auth, body: r });
export const deleteRole = (cid: string, id: string) => request<void>('DELETE', `/communities/${seg(cid)}/roles/${seg(id)}`, auth);
export const setMemberRole = (cid: string, uid: string, rid: string, on: boolean) =>
  request<void>(on ? 'PUT' : 'DELETE', `/communities/${seg(cid)}/members/${seg(uid)}/roles/${seg(rid)}`, auth);

export const listMessages = (chId: string, opts: { before?: string; after?: string; limit?: number } = {}) =>
  request<MessagePage>('GET', `/channels/${seg(chId)}/messages${query({ before: opts.before, after: opts.after, limit: opts.limit ?? 50 })}`, auth);
export const sendMessage = (chId: string, m: { content: string; reply_to?: string; clip_id?: string }) =>
  request<Message>('POST', `/channels/${seg(chId)}/messages`, { ...auth, body: m });
export const editMessage = (id: string, content: string) => request<Message>('PATCH', `/messages/${seg(id)}`, { ...auth, body: { content } });
export const deleteMessage = (id: string) => request<void>('DELETE', `/messages/${seg(id)}`, auth);
export const setReaction = (id: string, emoji: string, on: boolean) =>
  request<void>(on ? 'PUT' : 'DELETE', `/messages/${seg(id)}/reactions/${encodeURIComponent(emoji)}`, auth);
export const ackChannel = (chId: string, messageId: string) =>
  request<void>('POST', `/channels/${seg(chId)}/ack`, { ...auth, body: { message_id: messageId } });

/** Every member (the API pages by user id). */
export async function allMembers(cid: string, max = 1000): Promise<Member[]> {
  const out: Member[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Member> = await listMembers(cid, 100, cursor);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}
