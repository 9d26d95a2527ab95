import { Unauthorized } from '../../platform/errors.ts';
import type { Claims } from './claims.ts';
import { verifyToken, type TokenRules } from './jwt.ts';

export interface VerifiedTokensOptions {
  /** Tokens remembered at most; the oldest is forgotten first. Default 10,000. */
  max?: number;
  /** Longer tokens are verified every time and never remembered. Default 4,096 characters. */
  maxTokenLength?: number;
  now?: () => number;
}

interface Entry {
  claims: Claims;
  exp: number;
  nbf: number | undefined;
}

function freezeClaims(claims: Claims): Claims {
  for (const value of Object.values(claims)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(claims);
}

/**
 * Verifies HS256 tokens and remembers the ones that passed, keyed by the exact token string,
 * until their `exp`. Clients send the same token with every request until it expires, so most
 * requests skip the HMAC, the base64 and JSON decoding and the claims check. Only a token that
 * verified is ever remembered, so a lookup can never accept anything `verifyToken` would refuse;
 * `exp` and `nbf` are checked again on every hit. The claims handed out are frozen: they are
 * shared by every request carrying the token.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  private readonly maxTokenLength: number;
  private readonly now: () => number;

  constructor(
    private readonly rules: TokenRules | string,
    opts: VerifiedTokensOptions = {},
  ) {
    this.max = opts.max ?? 10_000;
    this.maxTokenLength = opts.maxTokenLength ?? 4_096;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The claims of a remembered token at once (throws if it lapsed), else a promise of the full check. */
  verify(token: string): Claims | Promise<Claims> {
    const nowSeconds = this.now() / 1000;
    const hit = this.entries.get(token);
    if (!hit) return this.verifyAndRemember(token, nowSeconds);
    if (hit.exp <= nowSeconds) {
      this.entries.delete(token);
      throw new Unauthorized('token expired', 'token_expired');
    }
    if (hit.nbf !== undefined && hit.nbf > nowSeconds) throw new Unauthorized('token not valid yet', 'invalid_token');
    return hit.claims;
  }

  private async verifyAndRemember(token: string, nowSeconds: number): Promise<Claims> {
    const claims = freezeClaims(await verifyToken(this.rules, token, nowSeconds));
    if (token.length <= this.maxTokenLength) {
      // Map keeps insertion order: the first key is the oldest.
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      const nbf = (claims as { nbf?: unknown }).nbf;
      this.entries.set(token, { claims, exp: claims.exp, nbf: typeof nbf === 'number' ? nbf : undefined });
    }
    return claims;
  }
}
