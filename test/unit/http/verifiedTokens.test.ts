import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { VerifiedTokens } from '../../../src/http/auth/verifiedTokens.ts';

const SECRET = 'unit-secret';
const SUB = '0b6f3c1e-2d4a-4f5b-9c8d-7e6f5a4b3c2d';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(claims: Record<string, unknown>, secret = SECRET): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

async function code(tokens: VerifiedTokens, t: string): Promise<string> {
  try {
    await tokens.verify(t);
    return 'accepted';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('VerifiedTokens (a bounded cache of verified tokens)', () => {
  let now = 1_000_000_000_000;
  const clock = () => now;
  const nowS = () => Math.floor(now / 1000);

  it('remembers a token that verified and answers the same claims from memory', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock });
    const t = token({ sub: SUB, role: 'client', user_id: '42', exp: nowS() + 60 });
    const first = await tokens.verify(t);
    expect(tokens.size).to.equal(1);
    expect(await tokens.verify(t)).to.equal(first);
    expect(first).to.include({ sub: SUB, role: 'client', user_id: '42' });
  });

  it('never remembers a refused token: a forgery is refused every time', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock });
    const forged = token({ sub: SUB, role: 'admin', exp: nowS() + 60 }, 'other-secret');
    expect(await code(tokens, forged)).to.equal('invalid_token');
    expect(await code(tokens, forged)).to.equal('invalid_token');
    expect(tokens.size).to.equal(0);
  });

  it('refuses a remembered token once its exp has passed, and forgets it', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock });
    const t = token({ sub: SUB, role: 'client', exp: nowS() + 60 });
    expect(await code(tokens, t)).to.equal('accepted');
    now += 61_000;
    expect(await code(tokens, t)).to.equal('token_expired');
    expect(tokens.size).to.equal(0);
    expect(await code(tokens, t)).to.equal('token_expired');
  });

  it('hands out frozen claims, since every request with the token shares them', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock });
    const claims = await tokens.verify(token({ sub: SUB, role: 'client', bound_uids: ['a'], exp: nowS() + 60 }));
    expect(Object.isFrozen(claims)).to.equal(true);
    expect(Object.isFrozen(claims.bound_uids)).to.equal(true);
  });

  it('stays within its bound, forgetting the oldest first', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock, max: 3 });
    const subs = ['a', 'b', 'c', 'd'].map((c) => `0b6f3c1e-2d4a-4f5b-9c8d-7e6f5a4b3c2${c}`);
    const all = subs.map((sub) => token({ sub, role: 'client', exp: nowS() + 60 }));
    for (const t of all) await tokens.verify(t);
    expect(tokens.size).to.equal(3);
    // The oldest was forgotten but still verifies (and is remembered again).
    expect((await tokens.verify(all[0]!)).sub).to.equal(subs[0]);
    expect(tokens.size).to.equal(3);
  });

  it('does not remember very long tokens', async () => {
    const tokens = new VerifiedTokens(SECRET, { now: clock, maxTokenLength: 100 });
    expect(await code(tokens, token({ sub: SUB, role: 'client', name: 'x'.repeat(100), exp: nowS() + 60 }))).to.equal('accepted');
    expect(tokens.size).to.equal(0);
  });
});
