// The real-time gateway client (docs/gateway.md): one WebSocket per tab.
//
//   GET /api/v2/gateway -> {url, heartbeat_interval_ms}; connect; hello;
//   identify {token} -> ready, or resume {token, session_id, seq} -> resumed
//   (the server replays what was missed). Heartbeats every interval carry the
//   last sequence seen; a heartbeat that is not acknowledged before the next
//   one means the connection is dead and it is replaced.
//
// Reconnects back off exponentially with jitter and resume transparently;
// `invalid_session` falls back to identify, and subscribers get `READY` again
// so they can refetch what they show. The access token comes from the API
// client, refreshed first when it is about to expire, and forcibly after a
// 4004 close.

import { accessTokenFor, getSession, request, subscribe as onSession } from './api';
import type { Channel, ChatUser, Community, CommunityRole, Member, Message, Presence } from './communities';

export interface ReadyCommunity {
  id: string;
  name: string;
  icon: string | null;
  owner_id: string;
  public: boolean;
  my_permissions: string;
  channels: Channel[];
}

export interface GatewayEvents {
  READY: { session_id: string; user: ChatUser; communities: ReadyCommunity[] };
  RESUMED: { session_id: string; replayed: number };
  MESSAGE_CREATE: Message;
  MESSAGE_UPDATE: Message;
  MESSAGE_DELETE: { id: string; channel_id: string; community_id: string };
  REACTION_ADD: { message_id: string; channel_id: string; community_id: string; user_id: string; emoji: string };
  REACTION_REMOVE: { message_id: string; channel_id: string; community_id: string; user_id: string; emoji: string };
  TYPING_START: { channel_id: string; community_id: string; user_id: string; username: string };
  PRESENCE_UPDATE: { user_id: string; status: Presence };
  CHANNEL_CREATE: Channel;
  CHANNEL_UPDATE: Channel;
  CHANNEL_DELETE: { id: string; community_id: string };
  MEMBER_JOIN: Member;
  MEMBER_UPDATE: Member;
  MEMBER_LEAVE: { community_id: string; user_id: string };
  ROLE_CREATE: CommunityRole;
  ROLE_UPDATE: CommunityRole;
  ROLE_DELETE: { id: string; community_id: string };
  COMMUNITY_UPDATE: Community;
  COMMUNITY_DELETE: { id: string };
  JOB_PROGRESS: { job_id: string; progress: number; message: string | null };
  NOTIFICATION: unknown;
}

export type GatewayEvent = keyof GatewayEvents;

export type GatewayStatus =
  | 'idle' // not started (signed out)
  | 'connecting'
  | 'ready'
  | 'reconnecting'
  | 'unavailable'; // the server has no gateway, or refuses us (too many connections)

interface Frame {
  op: string;
  t?: string | null;
  s?: number | null;
  d?: unknown;
}

const CLOSE_REASONS: Record<number, string> = {
  1009: 'frame_too_large',
  4000: 'unknown_error',
  4001: 'unknown_op',
  4002: 'decode_error',
  4003: 'not_authenticated',
  4004: 'authentication_failed',
  4005: 'already_authenticated',
  4008: 'rate_limited',
  4009: 'session_timeout',
  4010: 'too_many_connections',
  4011: 'slow_consumer',
  4012: 'server_shutdown',
};

/** Seconds left on a JWT (null when the token is not a readable JWT). */
function secondsLeft(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp - Date.now() / 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Whether the page's Content-Security-Policy lets it open `ws`. The server
 * sends `connect-src 'self'`, so the gateway must share the page's origin
 * (nginx proxies it in production); a cross-origin gateway URL is only tried
 * when the policy names it, instead of producing a CSP violation per attempt.
 */
let cspCache: Promise<string | null> | null = null;
async function cspAllows(ws: URL): Promise<boolean> {
  const here = window.location;
  const secure = here.protocol === 'https:';
  if (ws.host === here.host && (ws.protocol === (secure ? 'wss:' : 'ws:') || (!secure && ws.protocol === 'wss:'))) return true;
  cspCache ??= fetch(here.pathname, { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' })
    .then((r) => r.headers.get('content-security-policy'))
    .catch(() => null);
  const csp = await cspCache;
  if (!csp) return true;
  const directives = csp.split(';').map((d) => d.trim().split(/\s+/));
  const d = directives.find((x) => x[0] === 'connect-src') ?? directives.find((x) => x[0] === 'default-src');
  if (!d) return true;
  return d.slice(1).some((src) => {
    const s = src.replace(/\/$/, '');
    return s === '*' || s === ws.protocol || s === `${ws.protocol}//${ws.host}` || s === ws.host;
  });
}

type Handler = (d: never) => void;

export class GatewayClient {
  status: GatewayStatus = 'idle';
  /** Why the last connection closed (for the status line and tests). */
  lastClose: { code: number; reason: string } | null = null;
  sessionId: string | null = null;
  seq = 0;
  user: ChatUser | null = null;
  communities: ReadyCommunity[] = [];

  private ws: WebSocket | null = null;
  private handlers = new Map<string, Set<Handler>>();
  private statusHandlers = new Set<(s: GatewayStatus) => void>();
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private interval = 30_000;
  private acked = true;
  private attempts = 0;
  private running = false;
  private paused = false; // test hook: stay disconnected until unpaused
  private forceRefresh: string | null = null; // the token a 4004 rejected
  private generation = 0; // bumps on every connect; stale sockets are ignored

  /** Subscribe to one dispatch type (or READY / RESUMED); returns the unsubscribe function. */
  on<K extends GatewayEvent>(t: K, fn: (d: GatewayEvents[K]) => void): () => void {
    let set = this.handlers.get(t);
    if (!set) this.handlers.set(t, (set = new Set()));
    set.add(fn as Handler);
    return () => {
      set!.delete(fn as Handler);
    };
  }

  onStatus(fn: (s: GatewayStatus) => void): () => void {
    this.statusHandlers.add(fn);
    return () => {
      this.statusHandlers.delete(fn);
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempts = 0;
    void this.connect();
  }

  /** Close for good (sign-out): no reconnect, the session is forgotten. */
  stop(): void {
    this.running = false;
    this.sessionId = null;
    this.seq = 0;
    this.user = null;
    this.communities = [];
    this.teardown(1000, 'bye');
    this.setStatus('idle');
  }

  /** Tell the channel we are typing (callers throttle). */
  typing(channelId: string): void {
    this.send({ op: 'typing', d: { channel_id: channelId } });
  }

  presence(status: 'online' | 'idle'): void {
    this.send({ op: 'presence', d: { status } });
  }

  /** Test hook: drop the connection and stay offline until `unpause()`; then it resumes. */
  pause(): void {
    this.paused = true;
    this.teardown(4000, 'paused');
    this.setStatus('reconnecting');
  }

  /** The network is back: reconnect now instead of waiting for the backoff. */
  wake(): void {
    if (!this.running || this.paused || this.status === 'ready' || this.status === 'connecting') return;
    this.attempts = 0;
    void this.connect();
  }

  unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.running) void this.connect();
  }

  // -------------------------------------------------------------------------

  private emit(t: string, d: unknown): void {
    const set = this.handlers.get(t);
    if (!set) return;
    for (const fn of Array.from(set)) {
      try {
        (fn as (d: unknown) => void)(d);
      } catch (err) {
        console.error(`gateway ${t} handler failed`, err);
      }
    }
  }

  private setStatus(s: GatewayStatus): void {
    if (this.status === s) return;
    this.status = s;
    for (const fn of Array.from(this.statusHandlers)) fn(s);
  }

  private send(frame: Frame): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private clearTimers(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
  }

  private teardown(code: number, reason: string): void {
    this.clearTimers();
    this.generation++;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code, reason);
      } catch {
        /* already closing */
      }
    }
  }

  private async connect(): Promise<void> {
    if (!this.running || this.paused) return;
    this.teardown(1000, 'reconnect');
    const gen = this.generation;
    this.setStatus(this.sessionId ? 'reconnecting' : 'connecting');
    let url: string;
    try {
      const info = await request<{ url: string; heartbeat_interval_ms?: number }>('GET', '/gateway', { auth: true });
      if (info.heartbeat_interval_ms) this.interval = info.heartbeat_interval_ms;
      url = new URL(info.url, window.location.href).toString().replace(/^http/, 'ws');
    } catch (err) {
      if (gen !== this.generation || !this.running) return;
      const status = (err as { status?: number }).status;
      if (status === 401) return this.stop();
      // No gateway on this server (404): try again much later.
      this.scheduleReconnect(status === 404 || status === 405 ? 300_000 : undefined, status === 404 || status === 405);
      return;
    }
    if (gen !== this.generation || !this.running || this.paused) return;
    if (!(await cspAllows(new URL(url)))) {
      if (gen !== this.generation) return;
      console.warn(`Live updates are off: the gateway ${url} is not on this page's origin and connect-src does not list it.`);
      this.scheduleReconnect(300_000, true);
      return;
    }
    if (gen !== this.generation || !this.running || this.paused) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (e) => {
      if (gen !== this.generation) return;
      let frame: Frame;
      try {
        frame = JSON.parse(typeof e.data === 'string' ? e.data : '') as Frame;
      } catch {
        return;
      }
      void this.handle(frame, gen);
    };
    ws.onclose = (e) => {
      if (gen !== this.generation) return;
      this.onClosed(e.code, e.reason || CLOSE_REASONS[e.code] || '');
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private async token(): Promise<string> {
    let t = await accessTokenFor(this.forceRefresh);
    this.forceRefresh = null;
    const left = secondsLeft(t);
    if (left !== null && left < 60) t = await accessTokenFor(t);
    return t;
  }

  private async handle(frame: Frame, gen: number): Promise<void> {
    if (typeof frame.s === 'number' && frame.s > this.seq) this.seq = frame.s;
    switch (frame.op) {
      case 'hello': {
        const d = (frame.d ?? {}) as { heartbeat_interval_ms?: number };
        if (d.heartbeat_interval_ms) this.interval = d.heartbeat_interval_ms;
        this.acked = true;
        // The first beat comes early (jittered) so many clients do not beat in step.
        this.scheduleHeartbeat(Math.floor(this.interval * (0.3 + Math.random() * 0.5)));
        let token: string;
        try {
          token = await this.token();
        } catch {
          if (gen === this.generation) this.stop();
          return;
        }
        if (gen !== this.generation) return;
        if (this.sessionId) this.send({ op: 'resume', d: { token, session_id: this.sessionId, seq: this.seq } });
        else this.send({ op: 'identify', d: { token } });
        return;
      }
      case 'ready': {
        const d = frame.d as GatewayEvents['READY'];
        this.sessionId = d.session_id;
        this.seq = typeof frame.s === 'number' ? frame.s : 0;
        this.user = d.user;
        this.communities = d.communities || [];
        this.attempts = 0;
        this.setStatus('ready');
        this.emit('READY', d);
        return;
      }
      case 'resumed': {
        this.attempts = 0;
        this.setStatus('ready');
        this.emit('RESUMED', frame.d);
        return;
      }
      case 'invalid_session': {
        // The session is gone (expired, other node, buffer overrun): start a new one.
        this.sessionId = null;
        this.seq = 0;
        let token: string;
        try {
          token = await this.token();
        } catch {
          if (gen === this.generation) this.stop();
          return;
        }
        if (gen === this.generation) this.send({ op: 'identify', d: { token } });
        return;
      }
      case 'heartbeat_ack':
        this.acked = true;
        return;
      case 'heartbeat':
        // The server asks for a beat now.
        this.send({ op: 'heartbeat', d: { seq: this.seq } });
        return;
      case 'dispatch':
        if (frame.t) this.emit(frame.t, frame.d);
        return;
      default:
        return;
    }
  }

  private scheduleHeartbeat(ms: number): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      if (!this.acked) {
        // No ack since the last beat: the connection is a zombie.
        this.teardown(4000, 'zombie');
        this.lastClose = { code: 0, reason: 'heartbeat_timeout' };
        this.scheduleReconnect();
        return;
      }
      this.acked = false;
      this.send({ op: 'heartbeat', d: { seq: this.seq } });
      this.scheduleHeartbeat(this.interval);
    }, ms);
  }

  private onClosed(code: number, reason: string): void {
    this.lastClose = { code, reason };
    this.clearTimers();
    this.ws = null;
    if (!this.running) return;
    switch (code) {
      case 4004: // the token was refused: refresh it, then try again (resume keeps the session)
        this.forceRefresh = null;
        void accessTokenFor()
          .then((t) => {
            this.forceRefresh = t;
            this.scheduleReconnect();
          })
          .catch(() => this.stop());
        return;
      case 4003:
      case 4005:
      case 4001:
      case 4002:
        // Protocol confusion on our side: start over with a fresh session.
        this.sessionId = null;
        this.seq = 0;
        this.scheduleReconnect();
        return;
      case 4010: // too many tabs open: wait a while before trying again
        this.scheduleReconnect(30_000 + Math.random() * 30_000, true);
        return;
      case 4008: // rate limited
        this.scheduleReconnect(5_000 + Math.random() * 5_000);
        return;
      case 4012: // node stopping: reconnect right away (resume)
        this.scheduleReconnect(250 + Math.random() * 750);
        return;
      default: // 1006 network loss, 4009 timeout, 4011 slow consumer, 4000: resume with backoff
        this.scheduleReconnect();
    }
  }

  private scheduleReconnect(delayMs?: number, unavailable = false): void {
    if (!this.running) return;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    const n = this.attempts++;
    const base = Math.min(30_000, 1000 * 2 ** Math.min(n, 5));
    const ms = delayMs ?? (n === 0 ? 300 + Math.random() * 700 : base / 2 + Math.random() * (base / 2));
    this.setStatus(unavailable ? 'unavailable' : 'reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, ms);
  }
}

export const gateway = new GatewayClient();

/** Runs the gateway while signed in (called once from the app). */
export function startGatewayWithSession(): void {
  let userId: string | null = null;
  const apply = () => {
    const s = getSession();
    if (s.status === 'signed-in') {
      // Another account signed in in this tab: a new session, not a resume of the old one.
      if (userId !== null && s.user && s.user.id !== userId) gateway.stop();
      userId = s.user?.id ?? userId;
      gateway.start();
    } else if (s.status === 'signed-out') {
      userId = null;
      gateway.stop();
    }
  };
  onSession(apply);
  apply();
  // Presence: idle when the tab is hidden for a while, online when it is back.
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  document.addEventListener('visibilitychange', () => {
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = null;
    if (document.visibilityState === 'hidden') idleTimer = setTimeout(() => gateway.presence('idle'), 5 * 60_000);
    else gateway.presence('online');
  });
  window.addEventListener('online', () => {
    gateway.wake();
  });
  // A small hook for diagnostics and browser tests.
  (window as unknown as { cosmivGateway: GatewayClient }).cosmivGateway = gateway;
}

export { CLOSE_REASONS };
