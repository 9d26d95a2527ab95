import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { Unauthorized } from '../../platform/errors.ts';
import { compileSchema } from '../../platform/validation.ts';
import { ClaimsSchema, type Claims } from './claims.ts';

const checkClaims = compileSchema(ClaimsSchema);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function invalid(message = 'invalid token'): Unauthorized {
  return new Unauthorized(message, 'invalid_token');
}

function decodeJson(segment: string): Record<string, unknown> {
  if (!BASE64URL.test(segment)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

/**
 * Verifies an HS256 token and returns its claims. Only HS256 is accepted (never `none`, HS512 or
 * an asymmetric alg), `exp` is required, `nbf` is honoured. Written on node:crypto's HMAC rather
 * than WebCrypto: verification is on every request's path and WebCrypto's per-call key import
 * cost a quarter of the API's CPU (docs/BENCHMARKS.md).
 */
export async function verifyToken(secret: string, token: string, nowSeconds = Date.now() / 1000): Promise<Claims> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[2] || !BASE64URL.test(parts[2])) throw invalid();
  const [head, body, signature] = parts as [string, string, string];
  const header = decodeJson(head);
  if (header.alg !== 'HS256' || header.crit !== undefined) throw invalid();
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  const payload = decodeJson(body);
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw invalid('token has no exp');
  if (payload.exp <= nowSeconds) throw new Unauthorized('token expired', 'token_expired');
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) throw invalid('token not valid yet');
  if (!checkClaims(payload)) throw invalid(`invalid token claims: ${checkClaims.errors().join('; ')}`);
  return payload;
}

export async function signToken(secret: string, claims: Omit<Claims, 'exp'> & Record<string, unknown>, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

/** The token from "Authorization: Bearer <JWT>", or null when there is no such header. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (!match) throw new Unauthorized('Authorization must be "Bearer <token>"', 'invalid_token');
  return match[1]!;
}
