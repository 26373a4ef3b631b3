// A small gateway client for the tests (docs/gateway.md).
//
//   const gw = await openGateway(srv);            // connected, hello received
//   const ready = await gw.identify(token);       // the ready payload
//   const ev = await gw.next((f) => f.t === 'NOTIFICATION');
//   const { code, reason } = await gw.closed;     // after the server closes
import WebSocket from 'ws';

export async function gatewayUrl(srv) {
  const r = await srv.api('GET', '/api/v2/gateway');
  if (r.status !== 200) throw new Error(`GET /api/v2/gateway → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function openGateway(srv, { url } = {}) {
  url ??= (await gatewayUrl(srv)).url;
  const ws = new WebSocket(url);
  const frames = [];
  const waiters = [];
  let closeInfo = null;
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: String(reason) };
      for (const w of waiters.splice(0)) w.reject(new Error(`socket closed ${code} ${reason} while waiting`));
      resolve(closeInfo);
    });
  });
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const f = isBinary ? { binary: data } : JSON.parse(String(data));
    frames.push(f);
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i].pred(f)) { waiters[i].resolve(f); waiters.splice(i, 1); i--; }
    }
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const gw = {
    ws, frames, closed,
    get closeInfo() { return closeInfo; },
    send(obj) { ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); },
    /** The first frame (already received or coming) matching pred, within ms. */
    next(pred = () => true, ms = 5000) {
      const seen = frames.find((f) => pred(f) && !f.__taken);
      if (seen) { seen.__taken = true; return Promise.resolve(seen); }
      if (closeInfo) return Promise.reject(new Error(`socket closed ${closeInfo.code} ${closeInfo.reason}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no matching frame in ${ms} ms; got ${JSON.stringify(frames.map(({ op, t, s }) => ({ op, t, s })))}`));
        }, ms);
        const w = {
          pred,
          resolve: (f) => { clearTimeout(timer); f.__taken = true; resolve(f); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        };
        waiters.push(w);
      });
    },
    /** Nothing matching pred arrives within ms. */
    async none(pred, ms = 500) {
      await new Promise((r) => setTimeout(r, ms));
      const hit = frames.find((f) => pred(f) && !f.__taken);
      if (hit) throw new Error(`unexpected frame ${JSON.stringify(hit)}`);
    },
    async identify(token) {
      gw.send({ op: 'identify', d: { token } });
      return (await gw.next((f) => f.op === 'ready')).d;
    },
    dispatches(t) { return frames.filter((f) => f.op === 'dispatch' && (!t || f.t === t)); },
    close() { ws.close(); return closed; },
    terminate() { ws.terminate(); return closed; },
  };
  await gw.next((f) => f.op === 'hello');
  return gw;
}
