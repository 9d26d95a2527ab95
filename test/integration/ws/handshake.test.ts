import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { TestSocket, refusal, wsUrl } from './clients.ts';
import { waitFor } from '../../helpers/wait.ts';
import { pruneJob } from '../../../jobs/platform/prune.ts';

describe('ws handshake: checked before the upgrade completes', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  const room = randomUUID();

  before(async () => {
    app = await startConveyor({ roles: ['api', 'ws'], extensions: [wsExtension()], env: { WS_ORIGINS: 'https://chat.example' } });
  });
  after(async () => app.stop());

  const url = (query: Record<string, string | undefined>) => wsUrl(app.url, query);
  const viewer = () => app.token({ sub: randomUUID(), role: 'client' });

  it('welcomes a viewer with a token in the query, with a connection id it registered', async () => {
    const sub = randomUUID();
    const socket = await TestSocket.open(url({ room, token: await app.token({ sub, role: 'client' }) }));
    expect(socket.frames[0]).to.have.keys('type', 'connection_id');
    expect(socket.connectionId).to.match(/^[0-9a-f-]{36}$/);
    const rows = await app.database.db('connections').where({ connection_uuid: socket.connectionId });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ entity_uuid: sub, type: 'client' });
    await socket.close();
    // The row lives as long as the socket: a closed connection leaves nothing behind.
    await waitFor(async () => (await app.database.db('connections').where({ connection_uuid: socket.connectionId })).length === 0, { what: 'the connection row to go' });
  });

  it('prunes connection rows nobody deleted by age, and only those', async () => {
    const db = app.database.db;
    const old = randomUUID();
    const fresh = randomUUID();
    await db('connections').insert([
      { type: 'client', entity_uuid: randomUUID(), connection_uuid: old, created_at: new Date(Date.now() - 8 * 86_400_000) },
      { type: 'client', entity_uuid: randomUUID(), connection_uuid: fresh, created_at: new Date() },
    ]);
    const payload = { outbox_retention_ms: 86_400_000, idempotency_retention_ms: 86_400_000, connection_retention_ms: 7 * 86_400_000 };
    const pruned = await pruneJob({ payload, queue: 'platform.prune', jobId: 'test-prune', attempt: 1, maxAttempts: 1, eventId: undefined, outboxId: undefined, outboxIds: undefined, trace: undefined, log: app.running.services.log, services: app.running.services });
    expect(pruned).to.deep.include({ connections: 1 });
    expect((await db('connections').whereIn('connection_uuid', [old, fresh]).select('connection_uuid')).map((r: { connection_uuid: string }) => r.connection_uuid)).to.deep.equal([fresh]);
  });

  it('takes the token from Sec-WebSocket-Protocol and echoes that protocol', async () => {
    const protocol = `bearer.${await viewer()}`;
    const socket = await TestSocket.open(url({ room }), [protocol]);
    expect(socket.ws.protocol).to.equal(protocol);
    await socket.close();
  });

  it('accepts an allowed Origin and refuses another with 403', async () => {
    const token = await viewer();
    const ok = await TestSocket.open(url({ room, token }), undefined, { origin: 'https://chat.example' });
    await ok.close();
    const refused = await refusal(url({ room, token }), undefined, { origin: 'https://evil.example' });
    expect(refused).to.deep.include({ status: 403 });
    expect(refused.body.code).to.equal('origin_not_allowed');
  });

  it('refuses a missing, garbled, foreign-signed, expired or alg-none token with 401', async () => {
    const sub = randomUUID();
    const foreign = await new SignJWT({ sub, role: 'client' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode('not-our-secret'));
    const expired = await app.token({ sub, role: 'client' }, -10);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, role: 'client', exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    const cases: Array<[string, string | undefined, string]> = [
      ['missing', undefined, 'unauthorized'],
      ['garbled', 'not.a.jwt', 'invalid_token'],
      ['foreign', foreign, 'invalid_token'],
      ['expired', expired, 'token_expired'],
      ['alg none', algNone, 'invalid_token'],
    ];
    for (const [name, token, code] of cases) {
      const refused = await refusal(url({ room, token }));
      expect(refused.status, name).to.equal(401);
      expect(refused.body.code, name).to.equal(code);
    }
    const viaProtocol = await refusal(url({ room }), [`bearer.${expired}`]);
    expect(viaProtocol.status).to.equal(401);
  });

  it('refuses a missing or non-uuid room and a bad since with 400, another path with 404', async () => {
    const token = await viewer();
    expect((await refusal(url({ token }))).status).to.equal(400);
    expect((await refusal(url({ token, room: 'lobby' }))).status).to.equal(400);
    expect((await refusal(url({ token, room: `${room}x` }))).status).to.equal(400);
    expect((await refusal(url({ token, room, since: 'a b' }))).status).to.equal(400);
    expect((await refusal(`${app.url.replace('http', 'ws')}/socket?room=${room}&token=${token}`)).status).to.equal(404);
  });

  it('refuses roles that take no part in chat with 403', async () => {
    const refused = await refusal(url({ room, token: await app.token({ sub: randomUUID(), role: 'employee' }) }));
    expect(refused.status).to.equal(403);
    expect(refused.body.code).to.equal('forbidden_role');
  });

  it('counts refusals by status in the drops metric', async () => {
    const text = await app.running.services.metrics.registry.getSingleMetricAsString('conveyor_ws_drops_total');
    expect(text).to.match(/reason="refused_401"} [1-9]/);
    expect(text).to.match(/reason="refused_400"} [1-9]/);
    expect(text).to.match(/reason="refused_403"} [1-9]/);
  });
});
