#!/usr/bin/env node
// Stand-in for the communities API and the WebSocket gateway
// (docs/communities-api.md, docs/gateway.md), for front-end work without the
// C build. Like mock-media.mjs it starts web/dev/mock-cosmiv.mjs (auth, users,
// static files) on a private port and proxies whatever it does not handle, so
// it takes the real binary's command line:
//
//   COSMIV_BIN=web/dev/mock-communities.mjs node --test tests/e2e/communities.test.mjs
//   node web/dev/mock-communities.mjs serve --listen 127.0.0.1:8080
//
// The gateway answers WebSocket upgrades on the same port, and also on
// COSMIV_GATEWAY_LISTEN when set; GET /api/v2/gateway reports
// COSMIV_GATEWAY_PUBLIC_URL or the same-port URL. Everything is in memory.
// Not used in production.

import { createServer, request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as netServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
if (args[0] !== 'serve') {
  console.error('usage: mock-communities.mjs serve [--listen HOST:PORT] [--data-dir DIR]');
  process.exit(2);
}
const [host, portStr] = opt('--listen', '127.0.0.1:8080').split(/:(?=\d+$)/);
const HEARTBEAT_MS = Number(process.env.MOCK_HEARTBEAT_MS || 30000);

// ---------------------------------------------------------------------------
// The inner auth server

const innerPort = await new Promise((ok) => {
  const s = netServer();
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});
const inner = spawn(process.execPath, [join(HERE, 'mock-cosmiv.mjs'), 'serve', '--listen', `127.0.0.1:${innerPort}`], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
process.on('exit', () => inner.kill());
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`http://127.0.0.1:${innerPort}/healthz`).then((r) => r.ok).catch(() => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

function proxy(req, res) {
  const p = httpRequest({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  p.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(p);
}

const users = new Map(); // id -> {id, username, display_name, avatar_url}
const tokenCache = new Map(); // token -> {user, at}
async function userFor(token) {
  if (!token) return null;
  const c = tokenCache.get(token);
  if (c && Date.now() - c.at < 5000) return c.user;
  const r = await fetch(`http://127.0.0.1:${innerPort}/api/v2/users/me`, { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) {
    tokenCache.delete(token);
    return null;
  }
  const u = await r.json();
  const user = { id: u.id, username: u.username, display_name: u.display_name, avatar_url: null };
  users.set(user.id, user);
  tokenCache.set(token, { user, at: Date.now() });
  return user;
}

// ---------------------------------------------------------------------------
// Data

const P = {
  VIEW: 1n, SEND: 2n, MANAGE_MESSAGES: 4n, MANAGE_CHANNELS: 8n, MANAGE_ROLES: 16n, KICK: 32n, BAN: 64n,
  MENTION_EVERYONE: 128n, REACT: 256n, CLIPS: 512n, ADMIN: 1024n, INVITE: 2048n, MANAGE_COMMUNITY: 4096n, AUDIT: 8192n,
};
const ALL = (1n << 14n) - 1n;
const EVERYONE_DEFAULT = P.VIEW | P.SEND | P.REACT | P.CLIPS | P.INVITE;
const NAMES = Object.fromEntries(Object.entries(P).map(([k, v]) => [v, k]));

let nextId = 1000n;
const newId = () => String(++nextId);
const now = () => new Date().toISOString();

const communities = new Map();
const members = new Map(); // cid -> Map uid -> {joined_at, roles:Set, nick}
const roles = new Map(); // rid -> role (permissions BigInt)
const channels = new Map(); // chid -> channel
const messages = new Map(); // chid -> [msg]
const reads = new Map(); // uid:chid -> id
const invites = new Map();
const bans = new Map(); // cid -> Map uid -> reason
const sendLog = new Map(); // uid:chid -> [t]

const big = (s) => (typeof s === 'bigint' ? s : /^\d+$/.test(String(s ?? '')) ? BigInt(s) : null);
const idGt = (a, b) => (a ? (b ? BigInt(a) > BigInt(b) : true) : false);

function communityRoles(cid) {
  return [...roles.values()].filter((r) => r.community_id === cid).sort((a, b) => a.position - b.position);
}
function base(cid, uid) {
  const c = communities.get(cid);
  const m = members.get(cid)?.get(uid);
  if (!c || !m) return null;
  if (c.owner_id === uid) return ALL;
  let p = roles.get(cid).permissions;
  for (const rid of m.roles) p |= roles.get(rid)?.permissions ?? 0n;
  if (p & P.ADMIN) return ALL;
  return p;
}
function chanPerms(ch, uid) {
  let p = base(ch.community_id, uid);
  if (p === null) return 0n;
  const c = communities.get(ch.community_id);
  if (c.owner_id === uid || p === ALL) return ALL;
  const m = members.get(ch.community_id).get(uid);
  const ev = ch.overwrites.find((o) => o.type === 'role' && o.id === ch.community_id);
  if (ev) p = (p & ~ev.deny) | ev.allow;
  let a = 0n, d = 0n;
  for (const o of ch.overwrites) if (o.type === 'role' && m.roles.has(o.id)) (a |= o.allow), (d |= o.deny);
  p = (p & ~d) | a;
  const mo = ch.overwrites.find((o) => o.type === 'member' && o.id === uid);
  if (mo) p = (p & ~mo.deny) | mo.allow;
  if (!(p & P.VIEW)) return 0n;
  return p;
}
function rank(cid, uid) {
  const c = communities.get(cid);
  if (c.owner_id === uid) return Infinity;
  const m = members.get(cid)?.get(uid);
  if (!m) return -1;
  let top = 0;
  for (const rid of m.roles) top = Math.max(top, roles.get(rid)?.position ?? 0);
  return top;
}

const roleJson = (r) => ({ ...r, permissions: r.permissions.toString(), is_everyone: r.id === r.community_id });
const owJson = (o) => ({ type: o.type, id: o.id, allow: o.allow.toString(), deny: o.deny.toString() });
function channelJson(ch, uid) {
  const list = messages.get(ch.id) || [];
  return {
    id: ch.id, community_id: ch.community_id, name: ch.name, type: ch.type, category: ch.category, topic: ch.topic, position: ch.position,
    last_message_id: list.length ? list[list.length - 1].id : null,
    last_read_id: reads.get(`${uid}:${ch.id}`) ?? null,
    my_permissions: chanPerms(ch, uid).toString(),
    overwrites: ch.overwrites.map(owJson),
  };
}
/** What CHANNEL_CREATE/UPDATE carry: the channel without per-user fields (as the real server). */
function channelPublic(ch) {
  const { last_read_id: _r, my_permissions: _p, ...rest } = channelJson(ch, '0');
  return rest;
}
function communityJson(c, uid) {
  const joined = members.get(c.id)?.has(uid) ?? false;
  return { ...c, member_count: members.get(c.id).size, me: { joined, permissions: (joined ? base(c.id, uid) : 0n).toString() } };
}
function memberJson(cid, uid) {
  const m = members.get(cid).get(uid);
  return { community_id: cid, user: users.get(uid), nick: m.nick, joined_at: m.joined_at, roles: [...m.roles], presence: presenceOf(uid) };
}
function messageJson(m, uid) {
  return { ...m, reactions: m.reactions.map((r) => ({ emoji: r.emoji, count: r.users.size, me: r.users.has(uid) })) };
}
const visibleChannels = (cid, uid) =>
  [...channels.values()].filter((ch) => ch.community_id === cid && chanPerms(ch, uid) & P.VIEW).sort((a, b) => a.position - b.position);

// ---------------------------------------------------------------------------
// HTTP

function problem(res, status, code, detail, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: `https://cosmiv.dev/problems/${code}`, title: code, status, code, detail }));
}
function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
function empty(res) {
  res.writeHead(204);
  res.end();
}
async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  if (!chunks.length) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) ?? {};
  } catch {
    return null;
  }
}
const missing = (res, name) => problem(res, 403, 'missing_permission', `missing permission ${name}`);

function createCommunityFor(uid, b) {
  const c = { id: newId(), name: b.name, description: b.description ?? null, icon: b.icon ?? null, public: !!b.public, owner_id: uid, created_at: now() };
  communities.set(c.id, c);
  members.set(c.id, new Map([[uid, { joined_at: now(), roles: new Set(), nick: null }]]));
  roles.set(c.id, { id: c.id, community_id: c.id, name: '@everyone', color: 0, position: 0, permissions: EVERYONE_DEFAULT });
  const ch = { id: newId(), community_id: c.id, name: 'general', type: 'text', category: null, topic: null, position: 0, overwrites: [] };
  channels.set(ch.id, ch);
  messages.set(ch.id, []);
  bans.set(c.id, new Map());
  return c;
}

function addMember(cid, uid) {
  if (members.get(cid).has(uid)) return false;
  members.get(cid).set(uid, { joined_at: now(), roles: new Set(), nick: null });
  publish('MEMBER_JOIN', { scope: 'community', cid }, () => ({ ...memberJson(cid, uid) }), { reloadUser: uid });
  return true;
}

async function handle(req, res, path, user) {
  const method = req.method;
  const b = method === 'GET' || method === 'DELETE' ? {} : await readBody(req);
  if (b === null) return problem(res, 400, 'invalid_json', 'body must be JSON');
  const url = new URL(req.url, 'http://x');
  const uid = user.id;
  let m;

  if (path === '/clips' && method === 'GET') return json(res, 200, { items: [], next_cursor: null });

  if (path === '/communities' && method === 'POST') {
    if (typeof b.name !== 'string' || b.name.trim().length < 2 || b.name.length > 100) return problem(res, 422, 'invalid_name', 'name must be 2..100 characters');
    const c = createCommunityFor(uid, b);
    return json(res, 201, communityJson(c, uid));
  }
  if (path === '/communities' && method === 'GET') {
    const items = [...communities.values()].filter((c) => members.get(c.id).has(uid)).reverse().map((c) => communityJson(c, uid));
    return json(res, 200, { items });
  }
  if (path === '/communities/discover' && method === 'GET') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    const items = [...communities.values()].filter((c) => c.public && c.name.toLowerCase().includes(q)).sort((a, b) => members.get(b.id).size - members.get(a.id).size);
    return json(res, 200, { items: items.map((c) => communityJson(c, uid)), next_cursor: null });
  }
  if ((m = /^\/communities\/(\d+)(\/.*)?$/.exec(path))) {
    const c = communities.get(m[1]);
    const rest = m[2] || '';
    if (!c) return problem(res, 404, 'community_not_found', 'no such community');
    const member = members.get(c.id).has(uid);
    if (rest === '/join' && method === 'POST') {
      if (!c.public) return problem(res, 404, 'community_not_found', 'no such community');
      if (bans.get(c.id).has(uid)) return problem(res, 403, 'banned', 'you are banned from this community');
      addMember(c.id, uid);
      return json(res, 200, communityJson(c, uid));
    }
    if (!member) {
      if (!rest && method === 'GET' && c.public) return json(res, 200, communityJson(c, uid));
      return problem(res, 404, 'community_not_found', 'no such community');
    }
    const perms = base(c.id, uid);
    if (!rest && method === 'GET') {
      return json(res, 200, { ...communityJson(c, uid), channels: visibleChannels(c.id, uid).map((ch) => channelJson(ch, uid)), roles: communityRoles(c.id).map(roleJson) });
    }
    if (!rest && method === 'PATCH') {
      if (!(perms & P.MANAGE_COMMUNITY)) return missing(res, 'MANAGE_COMMUNITY');
      for (const k of ['name', 'description', 'icon', 'public']) if (b[k] !== undefined) c[k] = b[k];
      publish('COMMUNITY_UPDATE', { scope: 'community', cid: c.id }, (u) => communityJson(c, u));
      return json(res, 200, communityJson(c, uid));
    }
    if (!rest && method === 'DELETE') {
      if (c.owner_id !== uid) return missing(res, 'owner');
      publish('COMMUNITY_DELETE', { scope: 'community', cid: c.id }, () => ({ id: c.id }));
      communities.delete(c.id);
      return empty(res);
    }
    if (rest === '/leave' && method === 'POST') {
      if (c.owner_id === uid) return problem(res, 409, 'owner_cannot_leave', 'the owner cannot leave');
      members.get(c.id).delete(uid);
      publish('MEMBER_LEAVE', { scope: 'community', cid: c.id, alsoUser: uid }, () => ({ community_id: c.id, user_id: uid }));
      return empty(res);
    }
    if (rest === '/channels' && method === 'GET') return json(res, 200, { items: visibleChannels(c.id, uid).map((ch) => channelJson(ch, uid)) });
    if (rest === '/channels' && method === 'POST') {
      if (!(perms & P.MANAGE_CHANNELS)) return missing(res, 'MANAGE_CHANNELS');
      if (typeof b.name !== 'string' || !b.name.trim()) return problem(res, 422, 'invalid_name', 'name is required');
      const ch = {
        id: newId(), community_id: c.id, name: b.name.trim().toLowerCase().replace(/\s+/g, '-'), type: b.type === 'announcement' ? 'announcement' : 'text',
        category: b.category || null, topic: b.topic || null, position: b.position ?? [...channels.values()].filter((x) => x.community_id === c.id).length, overwrites: [],
      };
      if (ch.type === 'announcement') ch.overwrites.push({ type: 'role', id: c.id, allow: 0n, deny: P.SEND });
      channels.set(ch.id, ch);
      messages.set(ch.id, []);
      publish('CHANNEL_CREATE', { scope: 'channel', cid: c.id, chid: ch.id }, () => channelPublic(ch));
      return json(res, 201, channelJson(ch, uid));
    }
    if (rest === '/members' && method === 'GET') {
      const items = [...members.get(c.id).keys()].sort((a, b) => Number(a) - Number(b)).map((u) => memberJson(c.id, u));
      return json(res, 200, { items, next_cursor: null });
    }
    if ((m = /^\/members\/(\d+)$/.exec(rest)) && method === 'DELETE') {
      if (!(perms & P.KICK)) return missing(res, 'KICK_MEMBERS');
      if (!(rank(c.id, uid) > rank(c.id, m[1]))) return missing(res, 'hierarchy');
      members.get(c.id).delete(m[1]);
      publish('MEMBER_LEAVE', { scope: 'community', cid: c.id, alsoUser: m[1] }, () => ({ community_id: c.id, user_id: m[1] }));
      return empty(res);
    }
    if ((m = /^\/bans\/(\d+)$/.exec(rest))) {
      if (!(perms & P.BAN)) return missing(res, 'BAN_MEMBERS');
      if (method === 'PUT') {
        if (!(rank(c.id, uid) > rank(c.id, m[1]))) return missing(res, 'hierarchy');
        bans.get(c.id).set(m[1], b.reason || null);
        if (members.get(c.id).delete(m[1])) publish('MEMBER_LEAVE', { scope: 'community', cid: c.id, alsoUser: m[1] }, () => ({ community_id: c.id, user_id: m[1] }));
        return empty(res);
      }
      if (method === 'DELETE') {
        bans.get(c.id).delete(m[1]);
        return empty(res);
      }
    }
    if (rest === '/bans' && method === 'GET') {
      if (!(perms & P.BAN)) return missing(res, 'BAN_MEMBERS');
      return json(res, 200, { items: [...bans.get(c.id)].map(([u, reason]) => ({ user: users.get(u), reason })) });
    }
    if (rest === '/invites' && method === 'POST') {
      if (!(perms & P.INVITE)) return missing(res, 'CREATE_INVITE');
      const exp = b.expires_in_s ?? 604800;
      const inv = { code: randomBytes(8).toString('base64url').slice(0, 10), community_id: c.id, inviter_id: uid, max_uses: b.max_uses ?? 0, uses: 0, expires_at: exp ? new Date(Date.now() + exp * 1000).toISOString() : null, created_at: now() };
      invites.set(inv.code, inv);
      return json(res, 201, inv);
    }
    if (rest === '/roles' && method === 'GET') return json(res, 200, { items: communityRoles(c.id).map(roleJson) });
    if (rest === '/roles' && method === 'POST') {
      if (!(perms & P.MANAGE_ROLES)) return missing(res, 'MANAGE_ROLES');
      const p = big(b.permissions ?? '0');
      if (p === null || (p & ~perms) !== 0n) return missing(res, 'cannot grant bits you lack');
      const pos = b.position ?? 1;
      for (const r of communityRoles(c.id)) if (r.position >= pos && r.id !== c.id) r.position++;
      const r = { id: newId(), community_id: c.id, name: b.name || 'new role', color: b.color ?? 0, position: pos, permissions: p };
      roles.set(r.id, r);
      publish('ROLE_CREATE', { scope: 'community', cid: c.id, reload: true }, () => roleJson(r));
      return json(res, 201, roleJson(r));
    }
    if ((m = /^\/roles\/(\d+)$/.exec(rest))) {
      const r = roles.get(m[1]);
      if (!r || r.community_id !== c.id) return problem(res, 404, 'role_not_found', 'no such role');
      if (!(perms & P.MANAGE_ROLES)) return missing(res, 'MANAGE_ROLES');
      if (r.id !== c.id && !(rank(c.id, uid) > r.position)) return missing(res, 'hierarchy');
      if (method === 'PATCH') {
        if (b.permissions !== undefined) {
          const p = big(b.permissions);
          if (p === null || ((p & ~perms) & ~r.permissions) !== 0n) return missing(res, 'cannot grant bits you lack');
          r.permissions = p;
        }
        if (r.id !== c.id) {
          if (b.name !== undefined) r.name = b.name;
          if (b.position !== undefined) r.position = b.position;
        }
        if (b.color !== undefined) r.color = b.color;
        publish('ROLE_UPDATE', { scope: 'community', cid: c.id, reload: true }, () => roleJson(r));
        return json(res, 200, roleJson(r));
      }
      if (method === 'DELETE') {
        if (r.id === c.id) return problem(res, 409, 'everyone_role', '@everyone cannot be deleted');
        roles.delete(r.id);
        for (const mm of members.get(c.id).values()) mm.roles.delete(r.id);
        publish('ROLE_DELETE', { scope: 'community', cid: c.id, reload: true }, () => ({ id: r.id, community_id: c.id }));
        return empty(res);
      }
    }
    if ((m = /^\/members\/(\d+)\/roles\/(\d+)$/.exec(rest))) {
      if (!(perms & P.MANAGE_ROLES)) return missing(res, 'MANAGE_ROLES');
      const target = members.get(c.id).get(m[1]);
      const r = roles.get(m[2]);
      if (!target || !r) return problem(res, 404, 'not_found', 'no such member or role');
      if (!(rank(c.id, uid) > r.position) || (m[1] !== uid && !(rank(c.id, uid) > rank(c.id, m[1])))) return missing(res, 'hierarchy');
      if (method === 'PUT') target.roles.add(r.id);
      else target.roles.delete(r.id);
      publish('MEMBER_UPDATE', { scope: 'community', cid: c.id, reload: true }, () => memberJson(c.id, m[1]));
      return empty(res);
    }
    if (rest === '/audit-log') return json(res, 200, { items: [], next_cursor: null });
    return problem(res, 404, 'not_found', 'no such endpoint');
  }

  if ((m = /^\/invites\/([A-Za-z0-9_-]+)(\/accept)?$/.exec(path))) {
    const inv = invites.get(m[1]);
    const valid = inv && communities.has(inv.community_id) && (!inv.max_uses || inv.uses < inv.max_uses) && (!inv.expires_at || Date.parse(inv.expires_at) > Date.now());
    if (!valid) return problem(res, 404, 'invite_not_found', 'unknown, used up or expired invite');
    const c = communities.get(inv.community_id);
    if (!m[2] && method === 'GET') {
      return json(res, 200, { code: inv.code, community: { id: c.id, name: c.name, description: c.description, icon: c.icon, member_count: members.get(c.id).size } });
    }
    if (m[2] && method === 'POST') {
      if (bans.get(c.id).has(uid)) return problem(res, 403, 'banned', 'you are banned from this community');
      if (addMember(c.id, uid)) inv.uses++;
      return json(res, 200, communityJson(c, uid));
    }
  }

  if ((m = /^\/channels\/(\d+)(\/.*)?$/.exec(path))) {
    const ch = channels.get(m[1]);
    const rest = m[2] || '';
    const cp = ch && communities.has(ch.community_id) ? chanPerms(ch, uid) : 0n;
    if (!ch || !(cp & P.VIEW)) return problem(res, 404, 'channel_not_found', 'no such channel');
    const cperms = base(ch.community_id, uid);
    if (!rest && method === 'PATCH') {
      if (!(cp & P.MANAGE_CHANNELS)) return missing(res, 'MANAGE_CHANNELS');
      for (const k of ['name', 'category', 'topic', 'position']) if (b[k] !== undefined) ch[k] = k === 'name' ? String(b[k]).toLowerCase().replace(/\s+/g, '-') : b[k];
      publish('CHANNEL_UPDATE', { scope: 'channel', cid: ch.community_id, chid: ch.id }, () => channelPublic(ch));
      return json(res, 200, channelJson(ch, uid));
    }
    if (!rest && method === 'DELETE') {
      if (!(cp & P.MANAGE_CHANNELS)) return missing(res, 'MANAGE_CHANNELS');
      publish('CHANNEL_DELETE', { scope: 'community', cid: ch.community_id }, () => ({ id: ch.id, community_id: ch.community_id }));
      channels.delete(ch.id);
      return empty(res);
    }
    if ((m = /^\/overwrites\/(role|member)\/(\d+)$/.exec(rest))) {
      if (!(cperms & P.MANAGE_ROLES)) return missing(res, 'MANAGE_ROLES');
      ch.overwrites = ch.overwrites.filter((o) => !(o.type === m[1] && o.id === m[2]));
      if (method === 'PUT') {
        const allow = big(b.allow ?? '0'), deny = big(b.deny ?? '0');
        if (allow === null || deny === null) return problem(res, 422, 'invalid_permissions', 'allow and deny are decimal strings');
        if (((allow | deny) & ~cperms) !== 0n) return missing(res, 'cannot set bits you lack');
        ch.overwrites.push({ type: m[1], id: m[2], allow, deny });
      }
      publish('CHANNEL_UPDATE', { scope: 'channel', cid: ch.community_id, chid: ch.id, reload: true }, () => channelPublic(ch));
      return empty(res);
    }
    if (rest === '/messages' && method === 'GET') {
      const list = messages.get(ch.id);
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') || 50)));
      const before = url.searchParams.get('before');
      const after = url.searchParams.get('after');
      let items, has_more;
      if (after) {
        const newer = list.filter((x) => idGt(x.id, after));
        items = newer.slice(0, limit);
        has_more = newer.length > limit;
      } else {
        const older = before ? list.filter((x) => idGt(before, x.id)) : list;
        items = older.slice(-limit);
        has_more = older.length > limit;
      }
      return json(res, 200, { items: items.map((x) => messageJson(x, uid)), has_more });
    }
    if (rest === '/messages' && method === 'POST') {
      if (!(cp & P.SEND)) return missing(res, 'SEND_MESSAGES');
      const content = typeof b.content === 'string' ? b.content.trim() : '';
      if (!content || content.length > 4000) return problem(res, 422, 'invalid_content', 'content must be 1..4000 characters');
      const key = `${uid}:${ch.id}`;
      const t = Date.now();
      const recent = (sendLog.get(key) || []).filter((x) => t - x < 5000);
      if (recent.length >= 5) return problem(res, 429, 'rate_limited', 'slow down', { 'Retry-After': String(Math.ceil((recent[0] + 5000 - t) / 1000)) });
      recent.push(t);
      sendLog.set(key, recent);
      let reply = null;
      if (b.reply_to) {
        const r = messages.get(ch.id).find((x) => x.id === b.reply_to);
        if (!r) return problem(res, 422, 'invalid_reply_to', 'reply_to must be a message of this channel');
        reply = { id: r.id, author_username: r.author?.username ?? null, content: r.content.slice(0, 200) };
      }
      const mentions = [...content.matchAll(/@([A-Za-z0-9_]{3,32})/g)]
        .map((x) => [...users.values()].find((u) => u.username.toLowerCase() === x[1].toLowerCase()))
        .filter((u) => u && members.get(ch.community_id).has(u.id))
        .map((u) => u.id);
      const msg = {
        id: newId(), channel_id: ch.id, community_id: ch.community_id, author: users.get(uid), content, reply_to: reply, clip: null,
        mentions, mention_everyone: /@everyone\b/.test(content) && !!(cp & P.MENTION_EVERYONE), pinned: false, edited_at: null, created_at: now(), reactions: [],
      };
      messages.get(ch.id).push(msg);
      reads.set(`${uid}:${ch.id}`, msg.id);
      publish('MESSAGE_CREATE', { scope: 'channel', cid: ch.community_id, chid: ch.id }, (u) => messageJson(msg, u));
      return json(res, 201, messageJson(msg, uid));
    }
    if (rest === '/ack' && method === 'POST') {
      const k = `${uid}:${ch.id}`;
      if (idGt(b.message_id, reads.get(k))) reads.set(k, String(b.message_id));
      return empty(res);
    }
    if (rest === '/pins' && method === 'GET') return json(res, 200, { items: messages.get(ch.id).filter((x) => x.pinned).map((x) => messageJson(x, uid)) });
  }

  if ((m = /^\/messages\/(\d+)(\/.*)?$/.exec(path))) {
    let msg = null;
    for (const list of messages.values()) msg = msg || list.find((x) => x.id === m[1]);
    const ch = msg && channels.get(msg.channel_id);
    const cp = ch ? chanPerms(ch, uid) : 0n;
    if (!msg || !(cp & P.VIEW)) return problem(res, 404, 'message_not_found', 'no such message');
    const rest = m[2] || '';
    const scope = { scope: 'channel', cid: ch.community_id, chid: ch.id };
    if (!rest && method === 'PATCH') {
      if (msg.author?.id !== uid) return missing(res, 'author only');
      const content = typeof b.content === 'string' ? b.content.trim() : '';
      if (!content || content.length > 4000) return problem(res, 422, 'invalid_content', 'content must be 1..4000 characters');
      msg.content = content;
      msg.edited_at = now();
      publish('MESSAGE_UPDATE', scope, (u) => messageJson(msg, u));
      return json(res, 200, messageJson(msg, uid));
    }
    if (!rest && method === 'DELETE') {
      if (msg.author?.id !== uid && !(cp & P.MANAGE_MESSAGES)) return missing(res, 'MANAGE_MESSAGES');
      const list = messages.get(ch.id);
      list.splice(list.indexOf(msg), 1);
      publish('MESSAGE_DELETE', scope, () => ({ id: msg.id, channel_id: ch.id, community_id: ch.community_id }));
      return empty(res);
    }
    if ((m = /^\/reactions\/(.+)$/.exec(rest))) {
      const emoji = decodeURIComponent(m[1]);
      let r = msg.reactions.find((x) => x.emoji === emoji);
      if (method === 'PUT') {
        if (!(cp & P.REACT)) return missing(res, 'ADD_REACTIONS');
        if (!r) msg.reactions.push((r = { emoji, users: new Set() }));
        if (!r.users.has(uid)) {
          r.users.add(uid);
          publish('REACTION_ADD', scope, () => ({ message_id: msg.id, channel_id: ch.id, community_id: ch.community_id, user_id: uid, emoji }));
        }
        return empty(res);
      }
      if (method === 'DELETE') {
        if (r?.users.delete(uid)) {
          if (!r.users.size) msg.reactions.splice(msg.reactions.indexOf(r), 1);
          publish('REACTION_REMOVE', scope, () => ({ message_id: msg.id, channel_id: ch.id, community_id: ch.community_id, user_id: uid, emoji }));
        }
        return empty(res);
      }
    }
  }
  return null; // not ours
}

// ---------------------------------------------------------------------------
// Gateway

const sessions = new Map(); // id -> {id, user, seq, ring:[], conn, closedAt, status}

function presenceOf(uid) {
  let best = 'offline';
  for (const s of sessions.values()) if (s.user.id === uid && s.conn) best = s.status === 'online' || best === 'offline' ? s.status : best;
  return best;
}

function mayReceive(s, ev) {
  const uid = s.user.id;
  if (ev.alsoUser === uid) return true;
  if (ev.scope === 'user') return ev.uid === uid;
  const c = communities.get(ev.cid);
  if (!c || !members.get(ev.cid)?.has(uid)) return ev.type === 'COMMUNITY_DELETE' && ev.wasMember?.has(uid);
  if (ev.exclude === uid) return false;
  if (ev.scope === 'channel') {
    const ch = channels.get(ev.chid);
    return !!ch && !!(chanPerms(ch, uid) & P.VIEW);
  }
  return true;
}

function publish(type, ev, payloadFor) {
  ev = { ...ev, type };
  if (type === 'COMMUNITY_DELETE') ev.wasMember = new Set(members.get(ev.cid)?.keys() ?? []);
  for (const s of sessions.values()) {
    if (!mayReceive(s, ev)) continue;
    const seq = ++s.seq;
    const frame = JSON.stringify({ op: 'dispatch', t: type, s: seq, d: payloadFor(s.user.id) });
    s.ring.push({ seq, frame });
    if (s.ring.length > 512) s.ring.shift();
    if (s.conn) s.conn.send(frame);
  }
}

function presenceChanged(uid) {
  const status = presenceOf(uid);
  const cids = [...communities.keys()].filter((cid) => members.get(cid).has(uid));
  const seen = new Set();
  for (const cid of cids) for (const other of members.get(cid).keys()) seen.add(other);
  for (const s of sessions.values()) {
    if (!seen.has(s.user.id)) continue;
    const seq = ++s.seq;
    const frame = JSON.stringify({ op: 'dispatch', t: 'PRESENCE_UPDATE', s: seq, d: { user_id: uid, status } });
    s.ring.push({ seq, frame });
    if (s.conn) s.conn.send(frame);
  }
}

function readyPayload(s) {
  const uid = s.user.id;
  const comms = [...communities.values()]
    .filter((c) => members.get(c.id).has(uid))
    .map((c) => ({ id: c.id, name: c.name, icon: c.icon, owner_id: c.owner_id, public: c.public, my_permissions: base(c.id, uid).toString(), channels: visibleChannels(c.id, uid).map((ch) => channelJson(ch, uid)) }));
  return { session_id: s.id, user: s.user, communities: comms };
}

// Minimal RFC 6455 server side: unfragmented text frames, close, ping.
function wsAccept(req, socket) {
  const key = req.headers['sec-websocket-key'];
  if (!key || (req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return null;
  }
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  const conn = {
    open: true,
    send(text) {
      if (!this.open) return;
      const data = Buffer.from(text, 'utf8');
      const head = data.length < 126 ? Buffer.from([0x81, data.length]) : data.length < 65536 ? Buffer.from([0x81, 126, data.length >> 8, data.length & 255]) : null;
      if (!head) {
        const h = Buffer.alloc(10);
        h[0] = 0x81;
        h[1] = 127;
        h.writeBigUInt64BE(BigInt(data.length), 2);
        socket.write(Buffer.concat([h, data]));
      } else socket.write(Buffer.concat([head, data]));
    },
    close(code, reason = '') {
      if (!this.open) return;
      this.open = false;
      const r = Buffer.from(reason);
      const p = Buffer.alloc(2 + r.length);
      p.writeUInt16BE(code, 0);
      r.copy(p, 2);
      socket.write(Buffer.concat([Buffer.from([0x88, p.length]), p]));
      setTimeout(() => socket.destroy(), 200);
      this.onclose?.();
    },
    onmessage: null,
    onclose: null,
  };
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const op = buf[0] & 15;
      let len = buf[1] & 127;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = buf[1] & 128;
      if (buf.length < off + (masked ? 4 : 0) + len) return;
      let payload = buf.subarray(off + (masked ? 4 : 0), off + (masked ? 4 : 0) + len);
      if (masked) {
        const mask = buf.subarray(off, off + 4);
        payload = Buffer.from(payload.map((x, i) => x ^ mask[i % 4]));
      }
      buf = buf.subarray(off + (masked ? 4 : 0) + len);
      if (op === 1) conn.onmessage?.(payload.toString('utf8'));
      else if (op === 8) {
        conn.close(1000);
      } else if (op === 9) socket.write(Buffer.concat([Buffer.from([0x8a, payload.length]), payload]));
    }
  });
  socket.on('close', () => {
    if (conn.open) {
      conn.open = false;
      conn.onclose?.();
    }
  });
  socket.on('error', () => undefined);
  return conn;
}

function gatewayUpgrade(req, socket) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/api/v2/gateway') return socket.destroy();
  const conn = wsAccept(req, socket);
  if (!conn) return;
  let sess = null;
  let lastBeat = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - lastBeat > HEARTBEAT_MS + 10000) conn.close(4009, 'session_timeout');
  }, 1000);
  conn.onclose = () => {
    clearInterval(timer);
    if (sess && sess.conn === conn) {
      sess.conn = null;
      sess.closedAt = Date.now();
      presenceChanged(sess.user.id);
    }
  };
  conn.send(JSON.stringify({ op: 'hello', d: { heartbeat_interval_ms: HEARTBEAT_MS } }));
  conn.onmessage = async (text) => {
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      return conn.close(4002, 'decode_error');
    }
    if (!f || typeof f !== 'object' || typeof f.op !== 'string') return conn.close(4002, 'decode_error');
    const d = f.d || {};
    if (f.op === 'heartbeat') {
      lastBeat = Date.now();
      return conn.send(JSON.stringify({ op: 'heartbeat_ack' }));
    }
    if (f.op === 'identify' || f.op === 'resume') {
      if (sess) return conn.close(4005, 'already_authenticated');
      const user = await userFor(d.token);
      if (!user) return conn.close(4004, 'authentication_failed');
      if (f.op === 'resume') {
        const s = sessions.get(d.session_id);
        const oldest = s?.ring.length ? s.ring[0].seq : s ? s.seq + 1 : 0;
        if (!s || s.user.id !== user.id || d.seq > s.seq || d.seq + 1 < oldest) {
          return conn.send(JSON.stringify({ op: 'invalid_session', d: { reason: 'events were lost' } }));
        }
        if (s.conn) s.conn.close(4000, 'session resumed elsewhere');
        sess = s;
        s.conn = conn;
        let replayed = 0;
        for (const r of s.ring) if (r.seq > d.seq) conn.send(r.frame), replayed++;
        conn.send(JSON.stringify({ op: 'resumed', d: { session_id: s.id, replayed } }));
        presenceChanged(user.id);
        return;
      }
      sess = { id: randomBytes(12).toString('hex'), user, seq: 0, ring: [], conn, closedAt: 0, status: 'online' };
      sessions.set(sess.id, sess);
      conn.send(JSON.stringify({ op: 'ready', d: readyPayload(sess) }));
      presenceChanged(user.id);
      return;
    }
    if (!sess) return conn.close(4003, 'not_authenticated');
    if (f.op === 'typing') {
      const ch = channels.get(d.channel_id);
      if (!ch || !(chanPerms(ch, sess.user.id) & P.SEND)) return;
      publish('TYPING_START', { scope: 'channel', cid: ch.community_id, chid: ch.id, exclude: sess.user.id }, () => ({
        channel_id: ch.id, community_id: ch.community_id, user_id: sess.user.id, username: sess.user.username,
      }));
      return;
    }
    if (f.op === 'presence') {
      sess.status = d.status === 'idle' ? 'idle' : 'online';
      presenceChanged(sess.user.id);
      return;
    }
    conn.close(4001, 'unknown_op');
  };
}

setInterval(() => {
  for (const [id, s] of sessions) if (!s.conn && Date.now() - s.closedAt > 120_000) sessions.delete(id);
}, 5000);

// ---------------------------------------------------------------------------

const publicUrl = process.env.COSMIV_GATEWAY_PUBLIC_URL || `ws://${host}:${portStr}/api/v2/gateway`;
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/api/v2/gateway' && req.method === 'GET') return json(res, 200, { url: publicUrl, heartbeat_interval_ms: HEARTBEAT_MS });
    const path = url.pathname.startsWith('/api/v2/') ? url.pathname.slice(7) : null;
    if (path && /^\/(communities|channels|messages|invites|clips$)/.test(path)) {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const user = await userFor(m?.[1]);
      if (!user) return problem(res, 401, 'unauthenticated', 'Missing or invalid access token.');
      const done = await handle(req, res, path, user);
      if (done === null && !res.headersSent) problem(res, 404, 'not_found', 'No such endpoint.');
      return;
    }
    return proxy(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) problem(res, 500, 'internal', 'Internal error.');
  }
});
server.on('upgrade', gatewayUpgrade);
server.listen(Number(portStr), host, () => console.error(`mock communities listening on http://${host}:${portStr}`));
if (process.env.COSMIV_GATEWAY_LISTEN && process.env.COSMIV_GATEWAY_LISTEN !== 'off') {
  const [gh, gp] = process.env.COSMIV_GATEWAY_LISTEN.split(/:(?=\d+$)/);
  const gw = createServer((req, res) => problem(res, 426, 'upgrade_required', 'WebSocket only.'));
  gw.on('upgrade', gatewayUpgrade);
  gw.listen(Number(gp), gh);
}
process.on('SIGTERM', () => {
  inner.kill('SIGTERM');
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 500);
});
