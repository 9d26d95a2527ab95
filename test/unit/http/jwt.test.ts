import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { signToken, verifyToken } from '../../../src/http/auth/jwt.ts';

const SECRET = 'unit-secret';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(header: Record<string, unknown>, claims: Record<string, unknown>, secret = SECRET, alg = 'sha256'): string {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`;
}
// Taken at module load, which can be minutes before these tests run in a long combined mocha run: lifetimes stay wide.
const now = Math.floor(Date.now() / 1000);
const SUB = '0b6f3c1e-2d4a-4f5b-9c8d-7e6f5a4b3c2d';
// An hour ahead: mocha loads every file before running any, and a long suite may come first.
const good = { sub: SUB, role: 'client', exp: now + 3600 };

async function code(t: string): Promise<string> {
  try {
    await verifyToken(SECRET, t);
    return 'accepted';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('JWT verification (HS256 only)', () => {
  it('accepts what signToken makes and what any HS256 library makes', async () => {
    expect((await verifyToken(SECRET, await signToken(SECRET, { sub: SUB, role: 'admin' }))).role).to.equal('admin');
    expect((await verifyToken(SECRET, token({ alg: 'HS256', typ: 'JWT' }, good))).sub).to.equal(SUB);
  });

  it('refuses every forgery and malformation with a 401 code', async () => {
    const sig = token({ alg: 'HS256' }, good).split('.')[2]!;
    const cases: Record<string, string> = {
      'wrong secret': token({ alg: 'HS256' }, good, 'other'),
      'alg none': `${b64({ alg: 'none' })}.${b64(good)}.`,
      'alg none with a signature': `${b64({ alg: 'none' })}.${b64(good)}.${sig}`,
      'HS512 with the right secret': token({ alg: 'HS512' }, good, SECRET, 'sha512'),
      'RS256 header': token({ alg: 'RS256' }, good),
      'crit header': token({ alg: 'HS256', crit: ['x'] }, good),
      'payload swapped': `${b64({ alg: 'HS256' })}.${b64({ ...good, role: 'admin' })}.${sig}`,
      'two segments': `${b64({ alg: 'HS256' })}.${b64(good)}`,
      'four segments': `${token({ alg: 'HS256' }, good)}.x`,
      'not base64url': `${b64({ alg: 'HS256' })}.${b64(good)}.a+b/c`,
      'payload not JSON': (() => { const head = `${b64({ alg: 'HS256' })}.${Buffer.from('nope').toString('base64url')}`; return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`; })(),
      'payload an array': token({ alg: 'HS256' }, [1, 2] as unknown as Record<string, unknown>),
      'no exp': token({ alg: 'HS256' }, { sub: SUB, role: 'client' }),
      'exp as string': token({ alg: 'HS256' }, { ...good, exp: String(now + 3600) }),
      'not yet valid': token({ alg: 'HS256' }, { ...good, nbf: now + 1800 }),
      'unknown role': token({ alg: 'HS256' }, { ...good, role: 'root' }),
      'no sub': token({ alg: 'HS256' }, { role: 'client', exp: now + 3600 }),
    };
    for (const [name, t] of Object.entries(cases)) expect(await code(t), name).to.equal('invalid_token');
    expect(await code(token({ alg: 'HS256' }, { ...good, exp: now - 1 }))).to.equal('token_expired');
  });
});
