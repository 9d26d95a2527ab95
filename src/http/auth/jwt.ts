import { SignJWT, jwtVerify, errors } from 'jose';
import { Unauthorized } from '../../platform/errors.ts';
import { compileSchema } from '../../platform/validation.ts';
import { ClaimsSchema, type Claims } from './claims.ts';

const checkClaims = compileSchema(ClaimsSchema);
const keys = new Map<string, Uint8Array>();

function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keys.set(secret, key);
  }
  return key;
}

/** Verifies an HS256 token (no other algorithm, `exp` required) and returns its claims. */
export async function verifyToken(secret: string, token: string): Promise<Claims> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, keyFor(secret), { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new Unauthorized('token expired', 'token_expired');
    throw new Unauthorized('invalid token', 'invalid_token');
  }
  if (!checkClaims(payload)) throw new Unauthorized(`invalid token claims: ${checkClaims.errors().join('; ')}`, 'invalid_token');
  return payload;
}

export async function signToken(secret: string, claims: Omit<Claims, 'exp'> & Record<string, unknown>, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(keyFor(secret));
}

/** The token from "Authorization: Bearer <JWT>", or null when there is no such header. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (!match) throw new Unauthorized('Authorization must be "Bearer <token>"', 'invalid_token');
  return match[1]!;
}
