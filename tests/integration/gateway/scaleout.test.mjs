// Two `serve` nodes on one PostgreSQL and one Redis: events cross nodes
// through a Redis stream and presence lives in Redis (docs/gateway.md,
// "Scale-out"). Runs in the scaled-out stage of tests/run-integration.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, usingPostgres } from '../../lib/harness.mjs';
import { openGateway } from '../../lib/gateway.mjs';

const scaled = usingPostgres && !!process.env.COSMIV_TEST_REDIS_URL;
const opts = { skip: scaled ? false : 'needs PostgreSQL and Redis (the scaled-out stage)' };

let A, B;
before(async () => {
  if (!scaled) return;
  const env = { COSMIV_PRESENCE_GRACE_S: '1' };
  A = await startServer({ env });
  B = await startServer({ env, databaseUrl: A.databaseUrl });
});
after(async () => {
  if (!scaled) return;
  for (const s of [B, A]) assert.deepEqual(await s.stop(), { code: 0, signal: null }, s.logs());
});

const api = (srv, method, path, body, u) => srv.api(method, `/api/v2${path}`, body, { token: u.access_token });

/** An owner on node A, a member who joined through node B, their #general, and the member's gateway on B. */
async function crossNodeChannel(name) {
  const owner = await A.register();
  const member = await B.register();
  const com = (await api(A, 'POST', '/communities', { name }, owner)).body;
  const inv = (await api(A, 'POST', `/communities/${com.id}/invites`, {}, owner)).body;
  assert.equal((await api(B, 'POST', `/invites/${inv.code}/accept`, undefined, member)).status, 200);
  const general = (await api(A, 'GET', `/communities/${com.id}/channels`, undefined, owner)).body.items[0];
  const onB = await openGateway(B);
  await onB.identify(member.access_token);
  return { owner, general, onB };
}

test('an event caused through node A reaches a gateway client on node B', opts, async () => {
  const x = await A.register();
  const y = await A.register();
  const onB = await openGateway(B);
  await onB.identify(x.access_token);
  const r = await A.api('PUT', `/api/v2/users/${x.username}/follow`, undefined, { token: y.access_token });
  assert.equal(r.status, 200);
  const n = await onB.next((f) => f.t === 'NOTIFICATION');
  assert.equal(n.d.kind, 'follow');
  assert.equal(n.d.actor_id, y.user.id);
  assert.equal(n.s, 1);
  await onB.close();
});

test('presence of a client on node B is visible on node A, live and in the member list', opts, async () => {
  const owner = await A.register();
  const member = await A.register();
  const com = (await api(A, 'POST', '/communities', { name: 'Two Nodes' }, owner)).body;
  const inv = (await api(A, 'POST', `/communities/${com.id}/invites`, {}, owner)).body;
  assert.equal((await api(A, 'POST', `/invites/${inv.code}/accept`, undefined, member)).status, 200);
  const presenceOnA = async () => (await api(A, 'GET', `/communities/${com.id}/members`, undefined, owner)).body
    .items.find((m) => m.user.id === member.user.id).presence;
  const ownerOnA = await openGateway(A);
  await ownerOnA.identify(owner.access_token);
  assert.equal(await presenceOnA(), 'offline');
  const memberOnB = await openGateway(B);
  await memberOnB.identify(member.access_token);
  const up = await ownerOnA.next((f) => f.t === 'PRESENCE_UPDATE' && f.d.user_id === member.user.id);
  assert.equal(up.d.status, 'online');
  assert.equal(await presenceOnA(), 'online');
  await memberOnB.close();
  const down = await ownerOnA.next((f) => f.t === 'PRESENCE_UPDATE' && f.d.user_id === member.user.id, 5000);
  assert.equal(down.d.status, 'offline');
  assert.equal(await presenceOnA(), 'offline');
  await ownerOnA.close();
});

test('a message posted through node A reaches a gateway client on node B, once and in order', opts, async () => {
  const { owner, general, onB } = await crossNodeChannel('Cross Node');
  const sent = [];
  for (const content of ['first', 'second', 'third']) {
    const r = await api(A, 'POST', `/channels/${general.id}/messages`, { content }, owner);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    sent.push(r.body.id);
  }
  for (const [i, id] of sent.entries()) {
    const m = await onB.next((f) => f.t === 'MESSAGE_CREATE');
    assert.equal(m.d.id, id, `message ${i} in order`);
    assert.equal(m.d.author.id, owner.user.id);
  }
  await onB.none((f) => f.t === 'MESSAGE_CREATE', 300);
  await onB.close();
});

test('a node whose Redis connection drops reads on from where it was: nothing published meanwhile is lost', opts, async () => {
  const { owner, general, onB } = await crossNodeChannel('Flaky Link');
  const redis = (...args) => execFileSync('redis-cli', ['-u', process.env.COSMIV_TEST_REDIS_URL, ...args], { encoding: 'utf8' });
  // Freeze node B, cut its event reader's connection, and post through A while B cannot read:
  // with a subscription (pub/sub) these messages would be gone; from the stream B reads them on.
  const sent = [];
  process.kill(B.proc.pid, 'SIGSTOP');
  try {
    const clients = redis('CLIENT', 'LIST');
    const line = clients.split('\n').find((l) => l.includes(` name=cosmiv-events-${B.proc.pid} `));
    assert.ok(line, `node B's event reader in CLIENT LIST:\n${clients}`);
    assert.equal(redis('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line)[1]).trim(), '1');
    for (const content of ['while', 'B was', 'away']) {
      const r = await api(A, 'POST', `/channels/${general.id}/messages`, { content }, owner);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      sent.push(r.body.id);
    }
  } finally {
    process.kill(B.proc.pid, 'SIGCONT');
  }
  for (const [i, id] of sent.entries()) {
    const m = await onB.next((f) => f.t === 'MESSAGE_CREATE', 5000);
    assert.equal(m.d.id, id, `message ${i} in order`);
  }
  await onB.none((f) => f.t === 'MESSAGE_CREATE', 300);
  assert.match(B.logs(), /Redis event stream read failed; reconnecting/);
  // and it keeps reading: a message after the reconnection arrives too
  const after = await api(A, 'POST', `/channels/${general.id}/messages`, { content: 'back' }, owner);
  assert.equal((await onB.next((f) => f.t === 'MESSAGE_CREATE')).d.id, after.body.id);
  await onB.close();
});
