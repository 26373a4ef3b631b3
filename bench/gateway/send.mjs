// bench/gateway/send.mjs — the sender of the gateway benchmark (bench/gateway/run.sh).
//
//   node send.mjs BASE_URL CHANNEL_ID TOKENS_FILE SENDERS PHASE COUNT RATE CONTENT_BYTES
//
// POSTs COUNT messages to BASE_URL/api/v2/channels/CHANNEL_ID/messages, as the
// first SENDERS tokens of TOKENS_FILE in turn (message i by sender i % SENDERS).
// Each content starts with "gwbench:PHASE:SEQ:SENT_US " (SENT_US: CLOCK_MONOTONIC
// in µs, read just before the request; wsload reads the same clock) and is padded
// with "x" to CONTENT_BYTES.
//   PHASE b (burst): every sender posts its share back to back, all senders at once;
//   PHASE p (paced): one message every 1/RATE s, not waiting for the answers.
// Prints one JSON line: {phase, posted, failed, statuses, first_send_us, last_send_us, last_answer_us}.
//
// BASE_URL redis://HOST:PORT/COMMUNITY_ID instead: no HTTP; each message is appended
// (XADD) to the Redis stream cosmiv:events the way src/gateway/bus.c publishes a
// MESSAGE_CREATE (the envelope {t, sc, c, ch, u, x, f, d}, d the message object
// the API would have stored), for a Cosmiv build without the messages API. The
// author's username comes from BENCH_GW_USERS ("id username room" lines).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [base, channel, tokensFile, sendersArg, phase, countArg, rateArg, bytesArg] = process.argv.slice(2);
if (!bytesArg || !['b', 'p'].includes(phase)) {
  console.error('usage: node send.mjs BASE_URL CHANNEL_ID TOKENS_FILE SENDERS b|p COUNT RATE CONTENT_BYTES');
  process.exit(2);
}
const senders = Number(sendersArg);
const count = Number(countArg);
const rate = Number(rateArg);
const bytes = Number(bytesArg);
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean).slice(0, senders);
if (tokens.length < senders) throw new Error(`${tokensFile} has fewer than ${senders} tokens`);
const url = `${base}/api/v2/channels/${channel}/messages`;
const us = () => Number(process.hrtime.bigint() / 1000n);

const statuses = {};
let posted = 0;
let failed = 0;
let firstSend = 0;
let lastSend = 0;
let lastAnswer = 0;
let firstError = '';

// ---- Redis: XADD over one connection, answers (a bulk string id, or "-ERR …") read in order ----
let redis = null;
const redisWaiters = [];
let redisBuf = '';
const names = new Map();
let community = '';
if (base.startsWith('redis://')) {
  const u = new URL(base);
  community = u.pathname.slice(1);
  if (!/^\d+$/.test(community) || !/^\d+$/.test(channel)) throw new Error('redis://HOST:PORT/COMMUNITY_ID and a numeric channel id');
  for (const line of readFileSync(process.env.BENCH_GW_USERS || '/dev/null', 'utf8').split('\n')) {
    const [id, name] = line.split(' ');
    if (id) names.set(id, name);
  }
  redis = connect(Number(u.port), u.hostname);
  redis.setNoDelay(true);
  await new Promise((res, rej) => { redis.once('connect', res); redis.once('error', rej); });
  redis.on('data', (chunk) => {
    redisBuf += chunk;
    let nl;
    while ((nl = redisBuf.indexOf('\r\n')) >= 0) {
      const line = redisBuf.slice(0, nl);
      if (line.startsWith('$') && line !== '$-1') { // "$N" then the id on its own line
        const nl2 = redisBuf.indexOf('\r\n', nl + 2);
        if (nl2 < 0) break;
        redisBuf = redisBuf.slice(nl2 + 2);
        redisWaiters.shift()?.('+id');
        continue;
      }
      redisBuf = redisBuf.slice(nl + 2);
      redisWaiters.shift()?.(line);
    }
  });
}
const ID_EPOCH_MS = 1704067200000n;
let idSeq = 0n;
const newId = () => String(((BigInt(Date.now()) - ID_EPOCH_MS) << 22n) | (idSeq++ & 0x3fffffn));
const jwtSub = (tok) => JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).sub;

function publish(i, content) {
  const sub = jwtSub(tokens[i % senders]);
  const name = names.get(sub) || 'bench_sender';
  const msg = JSON.stringify({
    id: newId(),
    channel_id: channel,
    community_id: community,
    author: { id: sub, username: name, display_name: null, avatar_url: null },
    content,
    reply_to: null,
    clip: null,
    mentions: [],
    mention_everyone: false,
    pinned: false,
    edited_at: null,
    created_at: new Date().toISOString(),
    reactions: [],
  });
  // ids stay decimal strings inside d; c and ch are JSON integers (int64: spelled out, not via Number)
  const ev = `{"t":"MESSAGE_CREATE","sc":1,"c":${community},"ch":${channel},"u":0,"x":0,"f":0,"d":${msg}}`;
  const n = Buffer.byteLength(ev);
  return new Promise((resolve) => {
    redisWaiters.push(resolve);
    const args = ['XADD', 'cosmiv:events', 'MAXLEN', '~', '20000', '*', 'd'];
    const head = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    redis.write(`*${args.length + 1}\r\n${head}$${n}\r\n${ev}\r\n`);
  });
}

async function post(i) {
  const t = us();
  if (!firstSend) firstSend = t;
  lastSend = t;
  let content = `gwbench:${phase}:${i}:${t} `;
  content += 'x'.repeat(Math.max(0, bytes - content.length));
  if (redis) {
    const answer = await publish(i, content);
    const ok = answer === '+id';
    statuses[ok ? 'published' : answer] = (statuses[ok ? 'published' : answer] || 0) + 1;
    if (ok) posted++;
    else {
      failed++;
      if (!firstError) firstError = `XADD answered ${answer}`;
    }
    lastAnswer = us();
    return;
  }
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[i % senders]}` },
      body: JSON.stringify({ content }),
    });
    const text = await r.text();
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    if (r.status === 201) posted++;
    else {
      failed++;
      if (!firstError) firstError = `${r.status} ${text.slice(0, 200)}`;
    }
  } catch (e) {
    failed++;
    statuses.error = (statuses.error || 0) + 1;
    if (!firstError) firstError = String(e.cause?.message || e.message);
  }
  lastAnswer = us();
}

// The first fetch of a fresh Node process loads undici and opens the connection: tens of ms
// that are the sender's, not the server's. One unmeasured GET on the same URL, for both servers
// alike (a server without GET there answers 404; only the warm-up matters).
if (!redis) {
  await fetch(url + '?limit=1', { headers: { Authorization: `Bearer ${tokens[0]}` } })
    .then((r) => r.arrayBuffer())
    .catch(() => {});
}

if (phase === 'b') {
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let i = s; i < count; i += senders) await post(i);
    }),
  );
} else {
  const start = us();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1e6) / rate - us();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait / 1000));
    pending.push(post(i));
  }
  await Promise.all(pending);
}
redis?.end();
console.log(
  JSON.stringify({
    phase,
    posted,
    failed,
    statuses,
    first_error: firstError,
    first_send_us: firstSend,
    last_send_us: lastSend,
    last_answer_us: lastAnswer,
  }),
);
