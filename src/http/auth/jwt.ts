import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { Unauthorized } from '../../platform/errors.ts';
import { compileSchema } from '../../platform/validation.ts';
import { ClaimsSchema, type Claims } from './claims.ts';

const checkClaims = compileSchema(ClaimsSchema);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What a token must satisfy besides its signature: the HS256 secret, and `iss` / `aud` when set. */
export interface TokenRules {
  secret: string;
  issuer?: string | null;
  audience?: string | null;
}

/** The rules of a configuration (config.jwtSecret, JWT_ISSUER, JWT_AUDIENCE). */
export function tokenRules(config: { jwtSecret: string; jwtIssuer: string | null; jwtAudience: string | null }): TokenRules {
  return { secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience };
}

/** The `iss` and `aud` claims a token signed under these rules must carry. */
export function ruleClaims(rules: TokenRules): { iss?: string; aud?: string } {
  return { ...(rules.issuer ? { iss: rules.issuer } : {}), ...(rules.audience ? { aud: rules.audience } : {}) };
}

/**
 * Base64url has several spellings of the same bytes (the unused low bits of the last character,
 * padding): only the one an encoder writes is accepted, so one token has one string.
 */
function decodeCanonical(segment: string): Buffer | null {
  if (!BASE64URL.test(segment)) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

function invalid(message = 'invalid token'): Unauthorized {
  return new Unauthorized(message, 'invalid_token');
}

function decodeJson(segment: string): Record<string, unknown> {
  const bytes = decodeCanonical(segment);
  if (!bytes) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

function audienceMatches(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/**
 * Verifies an HS256 token and returns its claims. Only HS256 is accepted (never `none`, HS512 or
 * an asymmetric alg), every segment in canonical base64url, `exp` is required, `nbf` is honoured,
 * `sub` is a lowercase uuid, and `iss` / `aud` match when the rules name them. The one check of
 * tokens: HTTP routes (through VerifiedTokens) and the ws handshake both call it. Written on
 * node:crypto's HMAC rather than WebCrypto: verification is on every request's path and
 * WebCrypto's per-call key import cost a quarter of the API's CPU (docs/BENCHMARKS.md).
 */
export async function verifyToken(rules: TokenRules | string, token: string, nowSeconds = Date.now() / 1000): Promise<Claims> {
  const { secret, issuer, audience } = typeof rules === 'string' ? { secret: rules } : rules;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[2]) throw invalid();
  const [head, body, signature] = parts as [string, string, string];
  const header = decodeJson(head);
  if (header.alg !== 'HS256' || header.crit !== undefined) throw invalid();
  // Comparing the encoded strings accepts exactly the canonical spelling of the right signature.
  const expected = Buffer.from(createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  const payload = decodeJson(body);
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw invalid('token has no exp');
  if (payload.exp <= nowSeconds) throw new Unauthorized('token expired', 'token_expired');
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) throw invalid('token not valid yet');
  if (issuer && payload.iss !== issuer) throw invalid('token has the wrong issuer');
  if (audience && !audienceMatches(payload.aud, audience)) throw invalid('token is not for this audience');
  if (!checkClaims(payload)) throw invalid(`invalid token claims: ${checkClaims.errors().join('; ')}`);
  return payload;
}

/** Signs claims for ttlSeconds; under rules with an issuer or audience, the token carries them. */
export async function signToken(rules: TokenRules | string, claims: Omit<Claims, 'exp'> & Record<string, unknown>, ttlSeconds = 3600): Promise<string> {
  const { secret, ...named } = typeof rules === 'string' ? { secret: rules } : rules;
  return new SignJWT({ ...ruleClaims({ secret, ...named }), ...claims })
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
