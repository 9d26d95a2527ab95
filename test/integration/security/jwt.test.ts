import { expect } from 'chai';
import { createHmac, randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { verifyToken } from '../../../src/http/auth/jwt.ts';
import { TestSocket, refusal, wsUrl } from '../ws/clients.ts';
import { runCli, STACK_LINE } from './cli.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const sign = (secret: string, head: string, body: string) => `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;

/** Other spellings of the same bytes: the last character with different unused low bits. */
function otherSpellings(segment: string): string[] {
  const bytes = Buffer.from(segment, 'base64url');
  return [...ALPHABET]
    .map((c) => segment.slice(0, -1) + c)
    .filter((s) => s !== segment && Buffer.from(s, 'base64url').equals(bytes));
}

describe('security: JWT — canonical encodings only, uuid sub, optional issuer and audience (HTTP and ws)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  const room = randomUUID();
  const exp = () => Math.floor(Date.now() / 1000) + 600;

  before(async () => {
    app = await startConveyor({ roles: ['api', 'ws'], extensions: [wsExtension()] });
  });
  after(async () => app.stop());

  /** The status GET /notifications and the ws handshake give the token (200 / 101 → 'ok'). */
  async function answers(token: string): Promise<{ http: number; ws: number | 'ok' }> {
    const http = (await app.get('/notifications', { authorization: `Bearer ${token}` })).status;
    try {
      const socket = await TestSocket.open(wsUrl(app.url, { room, token }));
      await socket.close();
      return { http, ws: 'ok' };
    } catch {
      return { http, ws: (await refusal(wsUrl(app.url, { room, token }))).status };
    }
  }

  it('accepts the canonical token and refuses every other spelling of its signature, header and payload', async () => {
    const secret = app.config.jwtSecret;
    // A kid and a pad make both segments' lengths leave unused bits in their last character.
    const header = b64({ alg: 'HS256', kid: 'k' });
    const payload = b64({ sub: randomUUID(), role: 'client', exp: exp(), pad: 'x' });
    expect(header.length % 4).not.to.equal(0);
    expect(payload.length % 4).not.to.equal(0);
    const good = sign(secret, header, payload);
    expect(await answers(good)).to.deep.equal({ http: 200, ws: 'ok' });

    const [, , signature] = good.split('.') as [string, string, string];
    const forged = otherSpellings(signature).map((s) => `${header}.${payload}.${s}`);
    expect(forged).to.have.length(3); // 32 bytes in 43 characters: two unused bits
    // Re-signed over the other spelling: the HMAC is right, only the encoding is not canonical.
    for (const h of otherSpellings(header)) forged.push(sign(secret, h, payload));
    for (const p of otherSpellings(payload)) forged.push(sign(secret, header, p));
    forged.push(`${good}=`, sign(secret, `${header}=`, payload));
    expect(forged.length).to.be.greaterThan(10);
    for (const token of forged) expect(await answers(token), token).to.deep.equal({ http: 401, ws: 401 });
  });

  it('refuses any sub but a lowercase uuid with 401, over HTTP and at the ws handshake', async () => {
    const uuid = randomUUID();
    for (const sub of [uuid.toUpperCase(), `${uuid} `, ` ${uuid}`, uuid.replaceAll('-', ''), `{${uuid}}`, 'alice', '', `${uuid}\u0000`]) {
      const token = sign(app.config.jwtSecret, b64({ alg: 'HS256', typ: 'JWT' }), b64({ sub, role: 'client', exp: exp() }));
      expect(await answers(token), JSON.stringify(sub)).to.deep.equal({ http: 401, ws: 401 });
    }
    expect(await answers(await app.token({ sub: uuid, role: 'client' }))).to.deep.equal({ http: 200, ws: 'ok' });
  });

  it('checks JWT_ISSUER and JWT_AUDIENCE when they are set', async () => {
    const strict = await startConveyor({ roles: ['api'], env: { JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'conveyor' } });
    try {
      const claims = { sub: randomUUID(), role: 'client', exp: exp() };
      const status = async (extra: Record<string, unknown>) => {
        const token = sign(strict.config.jwtSecret, b64({ alg: 'HS256' }), b64({ ...claims, ...extra }));
        return (await strict.get('/notifications', { authorization: `Bearer ${token}` })).status;
      };
      expect(await status({})).to.equal(401);
      expect(await status({ iss: 'https://issuer.example' })).to.equal(401);
      expect(await status({ aud: 'conveyor' })).to.equal(401);
      expect(await status({ iss: 'https://other.example', aud: 'conveyor' })).to.equal(401);
      expect(await status({ iss: 'https://issuer.example', aud: 'another' })).to.equal(401);
      expect(await status({ iss: 'https://issuer.example', aud: 'conveyor' })).to.equal(200);
      expect(await status({ iss: 'https://issuer.example', aud: ['another', 'conveyor'] })).to.equal(200);
      // The signing helpers write both claims, so the token CLI and dev tokens keep working.
      expect((await strict.get('/notifications', { authorization: `Bearer ${await strict.token({ sub: randomUUID(), role: 'client' })}` })).status).to.equal(200);
    } finally {
      await strict.stop();
    }
    // Unset, neither claim is looked at.
    const loose = sign(app.config.jwtSecret, b64({ alg: 'HS256' }), b64({ sub: randomUUID(), role: 'client', exp: exp(), iss: 'anyone', aud: 'anything' }));
    expect((await answers(loose)).http).to.equal(200);
  });

  it('npm run token prints a token the server takes, with a uuid sub and the configured issuer', async () => {
    const env = { JWT_SECRET: 'cli-secret-'.repeat(4), JWT_ISSUER: 'https://issuer.example', NODE_ENV: 'development' };
    const run = await runCli(['token', '--role', 'client', '--claim', 'user_id=42'], env);
    expect(run.code, run.stderr).to.equal(0);
    const claims = await verifyToken({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER }, run.stdout.trim());
    expect(claims.sub).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(claims).to.include({ role: 'client', user_id: '42', iss: env.JWT_ISSUER });
    const bad = await runCli(['token', '--role', 'client', '--sub', 'ALICE'], env);
    expect(bad.code, 'a usage error').to.equal(2);
    expect(bad.stderr).to.include('--sub must be a lowercase uuid');
    expect(bad.stderr).not.to.match(STACK_LINE);
  });
});
