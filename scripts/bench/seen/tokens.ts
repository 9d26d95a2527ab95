/**
 * Client tokens for the seen benchmark, signed HS256 with node:crypto directly: signing through
 * jose would cost the load generator more CPU than the requests when every request needs a new
 * one. `users` distinct callers each get one token, reused as real clients reuse theirs until
 * it expires; `fresh` gives never-seen tokens, one per request, to show the API without the
 * server's cache of verified tokens.
 */
import { createHmac, randomUUID } from 'node:crypto';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const HEADER = b64({ alg: 'HS256', typ: 'JWT' });

export function clientToken(secret: string, n: number, ttlSeconds = 3600): string {
  const claims = { sub: randomUUID(), role: 'client', user_id: `bench-user-${n}`, bound_uids: [`b-${n}`], exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  const head = `${HEADER}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export function clientTokens(secret: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => clientToken(secret, from + i));
}
