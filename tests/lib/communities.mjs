// Shared helpers for the communities API tests (tests/integration/communities/).
//
//   const s = await communitiesServer();
//   const [owner, bob] = await s.users(2);
//   const com = await s.community(owner, { name: 'Squad' });
//   await s.invite(owner, com, bob);          // bob joins through an invite
//   const mod = await s.role(owner, com, { name: 'mod', permissions: perms('KICK_MEMBERS') });
//   await s.assign(owner, com, bob, mod);
//   ...
//   await s.stop();
import assert from 'node:assert/strict';
import { startServer, uniq } from './harness.mjs';
import { expectStatus } from './social.mjs';

export const API = '/api/v2';

/** The permission bits of docs/permissions.md. */
export const PERM = {
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
};
export const PERM_ALL = (1n << 14n) - 1n;
export const EVERYONE_DEFAULT = PERM.VIEW_CHANNEL | PERM.SEND_MESSAGES | PERM.ADD_REACTIONS | PERM.ATTACH_CLIPS | PERM.CREATE_INVITE;

/** The decimal string of the named bits: perms('KICK_MEMBERS', 'BAN_MEMBERS'). */
export function perms(...names) {
  let v = 0n;
  for (const n of names) {
    assert.ok(n in PERM, `unknown permission ${n}`);
    v |= PERM[n];
  }
  return v.toString();
}

/** Whether a decimal permission string holds the named bit. */
export const has = (str, name) => (BigInt(str) & PERM[name]) !== 0n;

export async function communitiesServer({ env = {} } = {}) {
  const srv = await startServer({ env });
  const call = (method, path, body, u, opts = {}) => srv.api(method, `${API}${path}`, body, { token: u?.access_token, ...opts });

  const s = {
    srv,
    call,
    async user(overrides) { return srv.register(overrides); },
    async users(n) {
      const out = [];
      for (let i = 0; i < n; i += 4) {
        out.push(...await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => srv.register())));
      }
      return out;
    },

    /** Creates a community (201 expected). */
    async community(u, fields = {}) {
      const body = { name: fields.name ?? uniq('Squad'), ...fields };
      return expectStatus(await call('POST', '/communities', body, u), 201, `create community ${JSON.stringify(body)}`);
    },
    async get(u, com) { return call('GET', `/communities/${com.id ?? com}`, undefined, u); },
    async channels(u, com) { return expectStatus(await call('GET', `/communities/${com.id ?? com}/channels`, undefined, u), 200, 'list channels').items; },
    async roles(u, com) { return expectStatus(await call('GET', `/communities/${com.id ?? com}/roles`, undefined, u), 200, 'list roles').items; },
    async everyone(u, com) { return (await s.roles(u, com)).find((r) => r.is_everyone); },

    /** An invite of u's (201 expected). */
    async makeInvite(u, com, body = {}) {
      return expectStatus(await call('POST', `/communities/${com.id ?? com}/invites`, body, u), 201, 'create invite');
    },
    /** `who` joins com through a fresh invite made by `by`. */
    async invite(by, com, ...who) {
      const inv = await s.makeInvite(by, com);
      for (const w of who) expectStatus(await call('POST', `/invites/${inv.code}/accept`, undefined, w), 200, 'accept invite');
      return inv;
    },
    async channel(u, com, body) {
      return expectStatus(await call('POST', `/communities/${com.id ?? com}/channels`, body, u), 201, `create channel ${JSON.stringify(body)}`);
    },
    async role(u, com, body) {
      return expectStatus(await call('POST', `/communities/${com.id ?? com}/roles`, body, u), 201, `create role ${JSON.stringify(body)}`);
    },
    async assign(by, com, who, role) {
      expectStatus(await call('PUT', `/communities/${com.id ?? com}/members/${who.user.id}/roles/${role.id}`, undefined, by), 204, 'assign role');
    },
    async members(u, com, q = 'limit=100') {
      return expectStatus(await call('GET', `/communities/${com.id ?? com}/members?${q}`, undefined, u), 200, 'list members');
    },
    async audit(u, com, q = 'limit=100') {
      return expectStatus(await call('GET', `/communities/${com.id ?? com}/audit-log?${q}`, undefined, u), 200, 'audit log').items;
    },
    /** A community with an owner, a member holding a role with `bits`, and a plain member. */
    async staffed(bits, { name = 'mod', position } = {}) {
      const [owner, mod, plain] = await s.users(3);
      const com = await s.community(owner);
      await s.invite(owner, com, mod, plain);
      const role = await s.role(owner, com, { name, permissions: bits, ...(position ? { position } : {}) });
      await s.assign(owner, com, mod, role);
      return { owner, mod, plain, com, role };
    },

    async stop() {
      const info = await srv.stop();
      assert.equal(info.code, 0, srv.logs().slice(-20000));
    },
  };
  return s;
}
