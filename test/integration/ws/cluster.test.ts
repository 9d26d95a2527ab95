import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { roomChannel } from '../../../src/domain/chat/chatEvent.ts';
import { wsExtension, type WsExtension } from '../../../src/ws/extension.ts';
import { TestSocket, wsUrl } from './clients.ts';

describe('two ws processes share rooms through Redis', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let first: WsExtension;
  let second: WsExtension;
  let node2: Running;
  let redis: Redis;
  const url2 = () => `http://127.0.0.1:${node2.port}`;

  before(async () => {
    first = wsExtension();
    second = wsExtension();
    app = await startConveyor({ extensions: [first], env: { CHAT_MESSAGES_PER_MINUTE: '100000' } });
    // A second process with the ws role alone, on the same database, Redis and prefix.
    node2 = await start(app.config, ['ws'], { extensions: [second], metricsDefaults: false });
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });
  after(async () => {
    redis.disconnect();
    await node2.stop();
    await app.stop();
  });

  const open = async (base: string, room: string, sub: string, role: 'client' | 'model' = 'client') => {
    const token = await app.token({ sub, role });
    return { sub, auth: { authorization: `Bearer ${token}` }, socket: await TestSocket.open(wsUrl(base, { room, token })) };
  };
  const subscribers = async (room: string) => {
    const [, count] = (await redis.pubsub('NUMSUB', roomChannel(app.prefix, room))) as [string, number];
    return Number(count);
  };

  it('a ws-only process answers /ws, /healthz, /readyz and /metrics, and no API', async () => {
    expect((await fetch(`${url2()}/healthz`)).status).to.equal(200);
    // Freshly started: its first MySQL connection may still be opening (readiness allows 1 s per check).
    await waitFor(async () => (await fetch(`${url2()}/readyz`)).status === 200, { what: 'the ws-only process to be ready', timeoutMs: 10_000 });
    const metrics = await (await fetch(`${url2()}/metrics`)).text();
    expect(metrics).to.include('conveyor_ws_connections');
    expect((await fetch(`${url2()}/chat/message/add`, { method: 'POST', body: '{}' })).status).to.equal(404);
    expect((await fetch(`${url2()}/chat/`)).status).to.equal(404);
  });

  it('delivers one HTTP message to the sockets of both processes, private ones to sender and owner only', async () => {
    const room = randomUUID();
    const owner = await open(app.url, room, room, 'model');
    const alice = await open(url2(), room, randomUUID());
    const bob = await open(app.url, room, randomUUID());
    const carol = await open(url2(), room, randomUUID());
    const everyone = [owner, alice, bob, carol];

    const say = async (who: typeof alice, message: string, isPublic: boolean) => {
      const res = await app.post('/chat/message/add', { room, message, is_public: isPublic }, who.auth);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.event_id as string;
    };
    const pub = await say(alice, 'hi from node 2', true);
    const secret = await say(alice, 'only the owner', false);
    const marker = await say(bob, 'marker', true);
    const has = (p: typeof alice, id: string) => p.socket.events.some((f) => f.event_id === id);
    await waitFor(() => everyone.every((p) => has(p, marker)), { what: 'the marker everywhere' });
    expect(everyone.map((p) => has(p, pub))).to.deep.equal([true, true, true, true]);
    expect(everyone.map((p) => has(p, secret))).to.deep.equal([true, true, false, false]);
    expect(everyone.map((p) => p.socket.events.length)).to.deep.equal([3, 3, 2, 2]);
    for (const p of everyone) await p.socket.close();
  });

  it('subscribes a process only to the rooms its sockets are in', async () => {
    const shared = randomUUID();
    const onlyOnSecond = randomUUID();
    const a = await open(app.url, shared, randomUUID());
    const b = await open(url2(), shared, randomUUID());
    const c = await open(url2(), onlyOnSecond, randomUUID());
    const c2 = await open(url2(), onlyOnSecond, randomUUID());
    expect(await subscribers(shared)).to.equal(2);
    expect(await subscribers(onlyOnSecond)).to.equal(1);
    await b.socket.close();
    await waitFor(async () => (await subscribers(shared)) === 1, { what: 'node 2 to leave the shared room' });
    // One of two sockets leaving keeps the subscription.
    await c.socket.close();
    expect(await subscribers(onlyOnSecond)).to.equal(1);
    await c2.socket.close();
    await a.socket.close();
    await waitFor(async () => (await subscribers(shared)) + (await subscribers(onlyOnSecond)) === 0, { what: 'every room to be left' });
    expect(first.server!.stats().subscriptions).to.equal(0);
    expect(second.server!.stats().subscriptions).to.equal(0);
  });
});
