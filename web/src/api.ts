// Cosmiv API client (same-origin, /api/v2, JSON).
//
// Session model:
//  * The access token lives ONLY in this module's memory (never in Web Storage).
//  * The refresh token is an HttpOnly cookie set by the server; JS never sees it.
//    On start-up we POST /auth/refresh with `{}` to restore a session after a reload.
//  * Refreshes are coalesced (one request in flight per tab, serialized across tabs
//    with the Web Locks API when available) because the server rotates refresh
//    tokens and treats the reuse of an old one as theft.

export const API_BASE = '/api/v2';
const CLIENT_HEADER = { 'X-Cosmiv-Client': 'web' } as const;

export type Role = 'user' | 'moderator' | 'admin';

export interface User {
  id: string;
  username: string;
  email: string;
  role: Role;
  display_name: string | null;
  bio: string | null;
  created_at: string;
}

export type PublicUser = Omit<User, 'email'>;

export interface AuthResponse {
  user: User;
  access_token: string;
  refresh_token?: string; // also in the HttpOnly cookie; deliberately ignored here
  expires_in: number; // seconds
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code?: string;
  detail?: string;
  field?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code?: string;
  readonly field?: string;
  readonly title?: string;
  readonly type?: string;
  readonly retryAfter?: number;

  constructor(problem: Problem, retryAfter?: number) {
    super(messageFor(problem, retryAfter));
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.field = problem.field || undefined;
    this.title = problem.title;
    this.type = problem.type;
    this.retryAfter = retryAfter;
  }
}

function messageFor(p: Problem, retryAfter?: number): string {
  if (p.status === 429) {
    const n = retryAfter !== undefined ? Math.max(1, Math.ceil(retryAfter)) : undefined;
    return n !== undefined
      ? `Too many attempts, try again in ${n} s.`
      : 'Too many attempts, try again in a moment.';
  }
  if (p.detail) return sentence(p.detail);
  if (p.title) return sentence(p.title);
  if (p.status === 0) return 'Could not reach Cosmiv. Check your connection and try again.';
  if (p.status >= 500) return 'Something went wrong on our side. Please try again.';
  return `Request failed (HTTP ${p.status}).`;
}

/** "that username is already taken" -> "That username is already taken." */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return parseInt(v, 10);
  const when = Date.parse(v);
  if (!Number.isNaN(when)) return Math.max(0, Math.round((when - Date.now()) / 1000));
  return undefined;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let body: Partial<Problem> = {};
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json')) {
    try {
      const parsed: unknown = await res.json();
      if (parsed && typeof parsed === 'object') body = parsed as Partial<Problem>;
    } catch {
      /* not JSON after all */
    }
  }
  const problem: Problem = {
    type: typeof body.type === 'string' ? body.type : undefined,
    title: typeof body.title === 'string' ? body.title : undefined,
    status: res.status,
    code: typeof body.code === 'string' ? body.code : undefined,
    detail: typeof body.detail === 'string' ? body.detail : undefined,
    field: typeof body.field === 'string' ? body.field : undefined,
  };
  return new ApiError(problem, parseRetryAfter(res.headers.get('Retry-After')));
}

function networkError(): ApiError {
  return new ApiError({ status: 0, title: 'Network error' });
}

// ---------------------------------------------------------------------------
// Session state (observable)

export type SessionStatus = 'loading' | 'signed-in' | 'signed-out';
export interface SessionState {
  status: SessionStatus;
  user: User | null;
}

let session: SessionState = { status: 'loading', user: null };
const listeners = new Set<(s: SessionState) => void>();

export function getSession(): SessionState {
  return session;
}

export function subscribe(fn: (s: SessionState) => void): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

function setSession(next: SessionState): void {
  session = next;
  for (const fn of listeners) fn(session);
}

// ---------------------------------------------------------------------------
// Tokens (memory only)

let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;
let refreshInFlight: Promise<boolean> | null = null;
let epoch = 0; // bumped on sign-in / sign-out so stale refresh results are dropped

function clearTimer(): void {
  if (refreshTimer !== null) {
    clearTimeout(refreshTimer);
    refreshTimer = null;
  }
}

function scheduleRefresh(expiresIn: number): void {
  clearTimer();
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) return;
  // Refresh a little before expiry: 60 s early, or 20 % early for short lifetimes.
  const ms = expiresIn * 1000 - Math.min(60_000, expiresIn * 200);
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refreshSession().catch(() => {
      // Transient failure (network, 5xx, 429): try again soon; a 401 from an
      // authenticated call will also trigger a refresh.
      scheduleRefresh(30);
    });
  }, Math.max(1000, ms));
}

function applyAuth(res: AuthResponse): void {
  accessToken = res.access_token;
  setSession({ status: 'signed-in', user: res.user });
  scheduleRefresh(res.expires_in);
}

function dropSession(): void {
  accessToken = null;
  clearTimer();
  if (session.status !== 'signed-out' || session.user !== null) {
    setSession({ status: 'signed-out', user: null });
  }
}

/**
 * Exchange the refresh cookie for a new token pair. Concurrent callers share
 * one request. Resolves true when signed in afterwards, false when the server
 * says there is no valid session (401). Throws ApiError on other failures.
 */
export function refreshSession(): Promise<boolean> {
  if (refreshInFlight) return refreshInFlight;
  const myEpoch = epoch;
  const run = async (): Promise<boolean> => {
    let res: Response;
    try {
      res = await fetch(`${API_BASE}/auth/refresh`, {
        method: 'POST',
        headers: { ...CLIENT_HEADER, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: '{}',
        credentials: 'same-origin',
        // Never hold the cross-tab refresh lock forever on a stalled connection.
        signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(20_000) : undefined,
      });
    } catch {
      throw networkError();
    }
    if (res.ok) {
      const data = (await res.json()) as AuthResponse;
      if (myEpoch !== epoch) return session.status === 'signed-in';
      applyAuth(data);
      return true;
    }
    if (res.status === 401 || res.status === 400 || res.status === 403) {
      if (myEpoch === epoch) dropSession();
      return false;
    }
    throw await errorFrom(res);
  };
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const p = (locks ? locks.request('cosmiv-auth-refresh', run) : run()) as Promise<boolean>;
  refreshInFlight = p.finally(() => {
    refreshInFlight = null;
  });
  return refreshInFlight;
}

/**
 * Called once at app start: restores the session from the refresh cookie,
 * silently. A rate-limited (429) or failing (5xx) refresh is retried a couple
 * of times after a short wait before giving up and showing the app signed out.
 */
export async function initSession(): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const ok = await refreshSession();
      if (!ok && session.status === 'loading') dropSession();
      return;
    } catch (err) {
      const retryable = err instanceof ApiError && (err.status === 429 || err.status >= 500);
      if (!retryable || attempt === 2 || session.status !== 'loading') break;
      const waitS = Math.min(10, Math.max(1, (err as ApiError).retryAfter ?? 2));
      await new Promise((r) => setTimeout(r, waitS * 1000));
    }
  }
  if (session.status === 'loading') dropSession();
}

// ---------------------------------------------------------------------------
// Requests

export interface RequestOptions {
  /** true: must be signed in; 'optional': send the token when there is one (personalised answers). */
  auth?: boolean | 'optional';
  body?: unknown;
  keepalive?: boolean;
}

async function send(method: string, path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { ...CLIENT_HEADER, Accept: 'application/json, application/problem+json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers['Authorization'] = `Bearer ${token}`;
  try {
    return await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
      keepalive: opts.keepalive || undefined,
    });
  } catch {
    throw networkError();
  }
}

const notSignedIn = () =>
  new ApiError({ status: 401, code: 'unauthenticated', detail: 'You are not signed in.' });

/** An API call (JSON in and out, problem+json errors as ApiError); `auth` handles the token and one refresh-and-retry on 401. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const optional = opts.auth === 'optional';
  if (optional) {
    // Wait for a start-up (or any) refresh so a signed-in visitor gets the personalised answer.
    if (refreshInFlight) await refreshInFlight.catch(() => undefined);
  } else if (opts.auth && !accessToken) {
    if (!(await refreshSession())) throw notSignedIn();
  }
  let used = opts.auth ? accessToken : null;
  let res = await send(method, path, opts, used);
  if (res.status === 401 && opts.auth && (!optional || used)) {
    // Token expired or revoked: refresh once (unless another call already did) and retry.
    if (accessToken === used) {
      if (!(await refreshSession())) {
        if (!optional) throw notSignedIn();
      }
    }
    if (!accessToken && !optional) throw notSignedIn();
    used = accessToken;
    res = await send(method, path, opts, used);
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---------------------------------------------------------------------------
// Endpoints

async function authenticate(path: string, body: unknown): Promise<User> {
  const myEpoch = ++epoch;
  try {
    const res = await request<AuthResponse>('POST', path, { body });
    if (myEpoch === epoch) applyAuth(res);
    return res.user;
  } catch (err) {
    // A start-up refresh may have been superseded by this attempt; don't stay "loading".
    if (session.status === 'loading') dropSession();
    throw err;
  }
}

export function register(username: string, email: string, password: string): Promise<User> {
  return authenticate('/auth/register', { username, email, password });
}

export function login(loginName: string, password: string): Promise<User> {
  return authenticate('/auth/login', { login: loginName, password });
}

export async function logout(): Promise<void> {
  epoch++;
  if (refreshInFlight) await refreshInFlight.catch(() => undefined);
  const token = accessToken;
  try {
    await send('POST', '/auth/logout', { body: {} }, token);
  } catch {
    /* signed out locally regardless */
  } finally {
    dropSession();
  }
}

export async function fetchMe(): Promise<User> {
  const user = await request<User>('GET', '/users/me', { auth: true });
  if (session.status === 'signed-in') setSession({ status: 'signed-in', user });
  return user;
}

export async function updateMe(changes: { display_name?: string; bio?: string }): Promise<User> {
  const user = await request<User>('PATCH', '/users/me', { auth: true, body: changes });
  if (session.status === 'signed-in') setSession({ status: 'signed-in', user });
  return user;
}

export function getUser(username: string): Promise<PublicUser> {
  return request<PublicUser>('GET', `/users/${encodeURIComponent(username)}`);
}

/**
 * A usable access token for requests the API client does not make itself
 * (tus uploads). Pass the token a request was just rejected with (401) to
 * force a refresh unless another caller already replaced it.
 */
export async function accessTokenFor(rejected?: string | null): Promise<string> {
  if (refreshInFlight) await refreshInFlight.catch(() => undefined);
  if (!accessToken || (rejected && accessToken === rejected)) {
    if (!(await refreshSession())) throw notSignedIn();
  }
  if (!accessToken) throw notSignedIn();
  return accessToken;
}

export const clientHeaders: Readonly<Record<string, string>> = CLIENT_HEADER;

/** Turn a problem+json body (e.g. from a tus response) into an ApiError. */
export function problemFromText(status: number, body: string, retryAfter?: string | null): ApiError {
  let parsed: Partial<Problem> = {};
  try {
    const j: unknown = JSON.parse(body);
    if (j && typeof j === 'object') parsed = j as Partial<Problem>;
  } catch {
    /* not JSON */
  }
  return new ApiError(
    {
      status,
      title: typeof parsed.title === 'string' ? parsed.title : undefined,
      code: typeof parsed.code === 'string' ? parsed.code : undefined,
      detail: typeof parsed.detail === 'string' ? parsed.detail : undefined,
      field: typeof parsed.field === 'string' ? parsed.field : undefined,
    },
    parseRetryAfter(retryAfter ?? null),
  );
}

// ---------------------------------------------------------------------------
// Media: videos, jobs, highlights, clips

export type MediaStatus = 'processing' | 'ready' | 'failed';

export interface Video {
  id: string;
  title: string;
  game: string | null;
  status: MediaStatus;
  progress: number;
  job_id: string | null;
  size_bytes: number;
  duration_s: number | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  error: string | null;
  thumbnail_url: string | null;
  playback_url: string | null;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type JobState = 'available' | 'running' | 'completed' | 'retryable' | 'discarded';

export interface Job {
  id: string;
  kind: string;
  state: JobState;
  progress: number;
  message?: string | null;
  attempts: number;
  max_attempts: number;
  error: string | null;
  timings_ms: Record<string, number> | null;
}

export interface Highlight {
  id: string;
  rank: number;
  start_s: number;
  end_s: number;
  score: number;
  reasons: string[];
  model: string;
}

export interface Highlights {
  status: MediaStatus;
  items: Highlight[];
}

export type Aspect = '16:9' | '9:16' | '1:1';
export type Fill = 'crop' | 'blur';

export interface Clip {
  id: string;
  video_id: string;
  title: string | null;
  status: MediaStatus;
  progress: number;
  job_id: string | null;
  aspect: Aspect;
  fill: Fill | null;
  start_s: number;
  end_s: number;
  duration_s: number | null;
  width: number | null;
  height: number | null;
  download_url: string | null;
  watermark?: boolean;
  highlight_id?: string | null;
  error: string | null;
  created_at: string;
}

export interface NewClip {
  video_id: string;
  start_s: number;
  end_s: number;
  aspect: Aspect;
  fill?: Fill;
  title?: string;
  highlight_id?: string;
}

const seg = (id: string) => encodeURIComponent(id);
const pageQuery = (limit?: number, cursor?: string | null) => {
  const q = new URLSearchParams();
  if (limit) q.set('limit', String(limit));
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return s ? `?${s}` : '';
};

export function createVideo(uploadId: string, title: string, game?: string | null): Promise<Video> {
  const body: Record<string, unknown> = { upload_id: uploadId, title };
  if (game) body.game = game;
  return request<Video>('POST', '/videos', { auth: true, body });
}
export function listVideos(limit?: number, cursor?: string | null): Promise<Page<Video>> {
  return request<Page<Video>>('GET', `/videos${pageQuery(limit, cursor)}`, { auth: true });
}
export function getVideo(id: string): Promise<Video> {
  return request<Video>('GET', `/videos/${seg(id)}`, { auth: true });
}
export function deleteVideo(id: string): Promise<void> {
  return request<void>('DELETE', `/videos/${seg(id)}`, { auth: true });
}
export function getJob(id: string): Promise<Job> {
  return request<Job>('GET', `/jobs/${seg(id)}`, { auth: true });
}
/** Which highlight detector a video gets: a game's own model, or the default (GET /highlights/models). */
export interface HighlightModels {
  items: { model: string; games: string[]; reads_screen: string | null; trained_on: string }[];
  default: { model: string; trained_on: string };
}
export function getHighlightModels(): Promise<HighlightModels> {
  return request<HighlightModels>('GET', '/highlights/models');
}
export function getHighlights(videoId: string): Promise<Highlights> {
  return request<Highlights>('GET', `/videos/${seg(videoId)}/highlights`, { auth: true });
}
export function sendHighlightFeedback(id: string, kept: boolean): Promise<void> {
  return request<void>('POST', `/highlights/${seg(id)}/feedback`, { auth: true, body: { kept } });
}
export function createClip(clip: NewClip): Promise<Clip> {
  return request<Clip>('POST', '/clips', { auth: true, body: clip });
}
export function listClips(limit?: number, cursor?: string | null): Promise<Page<Clip>> {
  return request<Page<Clip>>('GET', `/clips${pageQuery(limit, cursor)}`, { auth: true });
}
export function getClip(id: string): Promise<Clip> {
  return request<Clip>('GET', `/clips/${seg(id)}`, { auth: true });
}
export function deleteClip(id: string): Promise<void> {
  return request<void>('DELETE', `/clips/${seg(id)}`, { auth: true });
}

// ---------------------------------------------------------------------------
// Social: posts, follows, likes, comments, shares, views, blocks, notifications, feeds

export type Visibility = 'public' | 'followers' | 'private';

export interface UserSummary {
  id: string;
  username: string;
  display_name: string | null;
  avatar_url: string | null;
  followed_by_me?: boolean; // followers/following lists only
}

export interface PostClip {
  id: string;
  duration_s: number | null;
  width: number | null;
  height: number | null;
  thumbnail_url: string | null;
  playback_url: string | null;
}

export interface Post {
  id: string;
  title: string;
  description: string | null;
  game: string | null;
  tags: string[];
  visibility: Visibility;
  created_at: string;
  updated_at: string;
  author: UserSummary;
  clip: PostClip | null;
  like_count: number;
  comment_count: number;
  share_count: number;
  view_count: number;
  liked_by_me: boolean;
  reasons?: string[];
}

export interface Profile extends PublicUser {
  avatar_url: string | null;
  follower_count: number;
  following_count: number;
  post_count: number;
  followed_by_me: boolean;
  follows_me: boolean;
  blocked_by_me: boolean;
}

export interface Comment {
  id: string;
  post_id: string;
  author: UserSummary;
  body: string;
  reply_to: string | null;
  at_s: number | null;
  created_at: string;
  reply_count?: number;
  replies?: Comment[];
}

export type NotificationKind = 'like' | 'comment' | 'reply' | 'follow' | 'mention';

export interface Notification {
  id: string;
  kind: NotificationKind;
  actor: UserSummary;
  post: { id: string; title: string } | null;
  comment: { id: string; body: string } | null;
  created_at: string;
  read: boolean;
}

export interface NotificationPage extends Page<Notification> {
  unread_count: number;
}

export interface FeedPreferences {
  favourite_games: string[];
  hidden_games: string[];
  hidden_creators: string[];
  freshness: number; // 0 = popular, 100 = fresh
}

export type FeedKind = 'for-you' | 'following' | 'trending' | 'new';

export interface NewPost {
  clip_id: string;
  title: string;
  description?: string;
  game?: string;
  tags?: string[];
  visibility?: Visibility;
}

export type PostChanges = Partial<Pick<Post, 'title' | 'description' | 'game' | 'tags' | 'visibility'>>;

const user = (u: string) => `/users/${encodeURIComponent(u)}`;
function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const POST_TITLE_MAX = 120;
export const POST_DESCRIPTION_MAX = 2000;
export const POST_GAME_MAX = 40;
export const POST_TAGS_MAX = 10;
export const TAG_RE = /^[A-Za-z0-9_-]{1,32}$/;
export const COMMENT_MAX = 2000;

export function createPost(post: NewPost): Promise<Post> {
  return request<Post>('POST', '/posts', { auth: true, body: post });
}
export function getPost(id: string): Promise<Post> {
  return request<Post>('GET', `/posts/${seg(id)}`, { auth: 'optional' });
}
export function updatePost(id: string, changes: PostChanges): Promise<Post> {
  return request<Post>('PATCH', `/posts/${seg(id)}`, { auth: true, body: changes });
}
export function deletePost(id: string): Promise<void> {
  return request<void>('DELETE', `/posts/${seg(id)}`, { auth: true });
}
export function setLike(id: string, liked: boolean): Promise<{ liked: boolean; like_count: number }> {
  return request(liked ? 'PUT' : 'DELETE', `/posts/${seg(id)}/like`, { auth: true });
}
export function listComments(postId: string, limit?: number, cursor?: string | null): Promise<Page<Comment>> {
  return request<Page<Comment>>('GET', `/posts/${seg(postId)}/comments${pageQuery(limit, cursor)}`, { auth: 'optional' });
}
export function addComment(postId: string, body: string, opts: { reply_to?: string; at_s?: number } = {}): Promise<Comment> {
  return request<Comment>('POST', `/posts/${seg(postId)}/comments`, { auth: true, body: { body, ...opts } });
}
export function deleteComment(id: string): Promise<void> {
  return request<void>('DELETE', `/comments/${seg(id)}`, { auth: true });
}
export function sharePost(id: string): Promise<{ share_count: number; url: string }> {
  return request('POST', `/posts/${seg(id)}/share`, { auth: true });
}
/** Fire-and-forget view report; survives the page being left (keepalive). */
export function reportView(id: string, watchedS: number): void {
  const watched_s = Math.round(Math.max(0, watchedS) * 10) / 10;
  request('POST', `/posts/${seg(id)}/views`, { auth: 'optional', body: { watched_s }, keepalive: true }).catch(() => undefined);
}
export function setHidden(id: string, hidden: boolean): Promise<void> {
  return request<void>(hidden ? 'PUT' : 'DELETE', `/posts/${seg(id)}/hide`, { auth: true });
}
export function getProfile(username: string): Promise<Profile> {
  return request<Profile>('GET', user(username), { auth: 'optional' });
}
export function setFollow(username: string, follow: boolean): Promise<{ following: boolean; follower_count: number }> {
  return request(follow ? 'PUT' : 'DELETE', `${user(username)}/follow`, { auth: true });
}
export function setBlock(username: string, block: boolean): Promise<{ blocked: boolean }> {
  return request(block ? 'PUT' : 'DELETE', `${user(username)}/block`, { auth: true });
}
export function userPosts(username: string, limit?: number, cursor?: string | null): Promise<Page<Post>> {
  return request<Page<Post>>('GET', `${user(username)}/posts${pageQuery(limit, cursor)}`, { auth: 'optional' });
}
export function userConnections(
  username: string,
  which: 'followers' | 'following',
  limit?: number,
  cursor?: string | null,
): Promise<Page<UserSummary>> {
  return request<Page<UserSummary>>('GET', `${user(username)}/${which}${pageQuery(limit, cursor)}`, { auth: 'optional' });
}
export function avatarUrl(username: string): string {
  return `${API_BASE}${user(username)}/avatar.svg`;
}
export function listNotifications(limit?: number, cursor?: string | null, unreadOnly = false): Promise<NotificationPage> {
  return request<NotificationPage>('GET', `/notifications${query({ limit, cursor, unread: unreadOnly ? 1 : null })}`, { auth: true });
}
export function markNotificationsRead(which: { ids: string[] } | { all: true }): Promise<{ unread_count: number }> {
  return request('POST', '/notifications/read', { auth: true, body: which });
}
export function getFeed(kind: FeedKind, opts: { limit?: number; cursor?: string | null; game?: string | null } = {}): Promise<Page<Post>> {
  const signedInOnly = kind === 'for-you' || kind === 'following';
  return request<Page<Post>>('GET', `/feed/${kind}${query({ limit: opts.limit, cursor: opts.cursor, game: opts.game })}`, {
    auth: signedInOnly ? true : 'optional',
  });
}
export function getFeedPreferences(): Promise<FeedPreferences> {
  return request<FeedPreferences>('GET', '/feed/preferences', { auth: true });
}
export function putFeedPreferences(prefs: Partial<FeedPreferences>): Promise<FeedPreferences> {
  return request<FeedPreferences>('PUT', '/feed/preferences', { auth: true, body: prefs });
}

export const CLIP_MIN_S = 1;
export const CLIP_MAX_S = 180;

// Validation rules shared with the server contract.
export const USERNAME_RE = /^[A-Za-z0-9_]{3,32}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const DISPLAY_NAME_MAX = 64;
export const BIO_MAX = 500;
