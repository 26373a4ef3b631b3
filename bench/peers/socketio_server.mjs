// bench/peers/socketio_server.mjs — the Socket.IO reference of the gateway benchmark
// (bench/gateway/README.md): the same scenario as Cosmiv's gateway, written the usual
// way with the npm `socket.io` package.
//
//   BENCH_JWT_SECRET=… node bench/peers/socketio_server.mjs PORT USERS_FILE
//
// USERS_FILE: one "id username room" line per user ("channel" for the members of
// the benchmarked channel, anything else for a room of their own kind).
// A client connects over the websocket transport with auth {token: ACCESS_JWT};
// the token is checked as Cosmiv checks it (HS256, iss, aud, sub, sid, exp) and
// the socket joins its user's room. POST /api/v2/channels/{id}/messages {content}
// with "Authorization: Bearer ACCESS_JWT" from a member of "channel" builds the
// message object Cosmiv's MESSAGE_CREATE carries (same fields, same shapes) and
// emits it to the room as event "MESSAGE_CREATE"; 201 with the message.
// Messages are not stored. GET /readyz answers 200. Standard Socket.IO settings
// otherwise (pingInterval 25 s, no per-message compression); HTTP keep-alive 65 s.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../gateway/package.json', import.meta.url));
const { Server } = require('socket.io');

const [portArg, usersFile] = process.argv.slice(2);
const secret = process.env.BENCH_JWT_SECRET;
if (!portArg || !usersFile || !secret) {
  console.error('usage: BENCH_JWT_SECRET=… node socketio_server.mjs PORT USERS_FILE');
  process.exit(2);
}

const users = new Map(); // id -> {username, room}
for (const line of readFileSync(usersFile, 'utf8').split('\n')) {
  const [id, username, room] = line.trim().split(/\s+/);
  if (id && username) users.set(id, { username, room: room || 'lobby' });
}

const ID_EPOCH_MS = 1704067200000n;
let idSeq = 0n;
const newId = () => String(((BigInt(Date.now()) - ID_EPOCH_MS) << 22n) | (idSeq++ & 0x3fffffn));

// The access token check Cosmiv makes (src/auth/jwt.c), minus the session lookup.
function verify(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const mac = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const sig = Buffer.from(parts[2], 'base64url');
  if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return null;
  let c;
  try {
    const h = JSON.parse(Buffer.from(parts[0], 'base64url'));
    if (h.alg !== 'HS256') return null;
    c = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch {
    return null;
  }
  const now = Math.floor(Date.now() / 1000);
  if (c.iss !== 'cosmiv' || c.aud !== 'cosmiv-api' || typeof c.sub !== 'string' || typeof c.sid !== 'string')
    return null;
  if (!Number.isInteger(c.exp) || c.exp <= now) return null;
  const u = users.get(c.sub);
  return u ? { id: c.sub, ...u } : null;
}

const CHANNEL_ID = newId();
const COMMUNITY_ID = newId();

function send(res, status, body) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') return send(res, 200, { status: 'ok' });
  const m = /^\/api\/v2\/channels\/(\d+)\/messages$/.exec(req.url);
  if (req.method !== 'POST' || !m) return send(res, 404, { error: 'not_found' });
  const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  const user = auth && verify(auth[1]);
  if (!user) return send(res, 401, { error: 'invalid_token' });
  if (user.room !== 'channel') return send(res, 404, { error: 'not_found' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks));
    } catch {
      return send(res, 400, { error: 'invalid_json' });
    }
    if (typeof body?.content !== 'string' || body.content.length < 1 || body.content.length > 4000)
      return send(res, 400, { error: 'invalid_content' });
    const msg = {
      id: newId(),
      channel_id: CHANNEL_ID,
      community_id: COMMUNITY_ID,
      author: { id: user.id, username: user.username, display_name: user.username, avatar_url: null },
      content: body.content,
      reply_to: null,
      clip: null,
      mentions: [],
      mention_everyone: false,
      pinned: false,
      edited_at: null,
      created_at: new Date().toISOString(),
      reactions: [],
    };
    io.to('channel').emit('MESSAGE_CREATE', msg);
    send(res, 201, msg);
  });
});

// Node closes an idle keep-alive socket after 5 s; while the loop is busy fanning out a burst the
// sender's next request can race that close (ECONNRESET). 65 s, as usually set behind a proxy.
http.keepAliveTimeout = 65000;
http.headersTimeout = 66000;

const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
io.use((socket, next) => {
  const user = verify(socket.handshake.auth?.token);
  if (!user) return next(new Error('authentication_failed'));
  socket.data.user = user;
  next();
});
io.on('connection', (socket) => {
  socket.join(socket.data.user.room);
});

http.listen(Number(portArg), '127.0.0.1', () => {
  console.error(`socket.io ${require('socket.io/package.json').version} listening on 127.0.0.1:${portArg}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
