// bench/gateway/tokens.mjs — mint access tokens for the gateway benchmark (bench/gateway/run.sh).
//
//   BENCH_JWT_SECRET=… node tokens.mjs TTL_S < "user_id session_id" lines > tokens
//
// One HS256 access JWT per input line, with the claims Cosmiv signs and checks
// (src/auth/jwt.c: iss "cosmiv", aud "cosmiv-api", sub, sid, iat, exp, jti). The
// session must exist (a `sessions` row, not revoked, of that user) for Cosmiv to
// accept the token; run.sh inserts those rows.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const secret = process.env.BENCH_JWT_SECRET;
const ttl = Number(process.argv[2] || 86400);
if (!secret) {
  console.error('usage: BENCH_JWT_SECRET=… node tokens.mjs TTL_S < "user_id session_id" lines');
  process.exit(2);
}
const b64 = (s) => Buffer.from(s).toString('base64url');
const head = b64('{"alg":"HS256","typ":"JWT"}');
const now = Math.floor(Date.now() / 1000);
const out = [];
for (const line of readFileSync(0, 'utf8').split('\n')) {
  const [sub, sid] = line.trim().split(/\s+/);
  if (!sub || !sid) continue;
  const payload = b64(
    JSON.stringify({
      iss: 'cosmiv',
      aud: 'cosmiv-api',
      sub,
      sid,
      iat: now,
      exp: now + ttl,
      jti: randomBytes(8).toString('hex'),
    }),
  );
  const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
  out.push(`${head}.${payload}.${sig}\n`);
}
process.stdout.write(out.join(''));
