import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { RedisCluster, type ClusterNode } from '../../helpers/redisCluster.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { roomChannel } from '../../../src/domain/chat/chatEvent.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { actor, checkChatInvariants, GENEROUS_LIMITS, quiescent, topUp, type Actor } from '../chat/chatApp.ts';
import { TestSocket, wsUrl } from '../ws/clients.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

describe('cluster mode: a master dies under traffic and its replica takes over', function () {
  this.timeout(120_000);
  let cluster: RedisCluster;
  let app: TestConveyor;
  let consumer: ConsumerServer;
  let victim: ClusterNode;

  before(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    // The master holding the seen-delivery queue gets the replica, and is the one killed.
    victim = await cluster.masterOf('{notify.deliver-seen-batch}');
    await cluster.addReplica(victim);
    consumer = await new ConsumerServer().start();
    app = await startConveyor({
      env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', ...GENEROUS_LIMITS, OUTBOX_RECONCILE_EVERY: '500ms', OUTBOX_RECONCILE_GRACE: '2s' },
      extensions: [wsExtension()],
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 1000, backoff: { delay_ms: 100, max_delay_ms: 400, jitter: 0 } },
      }),
    });
  });

  after(async () => {
    await app?.stop();
    await consumer?.stop();
    await cluster?.stop();
  });

  it('keeps every acknowledged seen fact and donation; Conveyor reconnects by itself', async () => {
    const admin = await actor(app, 'admin');
    // The room's sharded channel lives on the master that dies: the ws bridge must follow it.
    let room = randomUUID();
    while ((await cluster.masterOf(roomChannel(app.prefix, room, true))) !== victim) room = randomUUID();
    const modelAuth = { authorization: `Bearer ${await app.token({ sub: room, role: 'model' })}` };
    expect((await app.get('/accounts/me', modelAuth)).status).to.equal(200);
    const model = { uuid: room, role: 'model' as const, auth: modelAuth };
    const viewer = await TestSocket.open(wsUrl(app.url, { room, token: await app.token({ sub: randomUUID(), role: 'client' }) }));
    const donors: Actor[] = [];
    for (let i = 0; i < 4; i++) {
      const donor = await actor(app, 'client');
      await topUp(app, admin, donor, '1000.00');
      donors.push(donor);
    }
    const auth = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'client', user_id: randomUUID() })}` };
    const ackedSeen = new Map<string, string>();
    const ackedDonations: string[] = [];
    const refused: number[] = [];
    let stop = false;
    let n = 0;
    const traffic = async (who: number) => {
      while (!stop) {
        const i = n++;
        const seen = await app.post(SEEN, { tag: 'promotions', id: `f-${i}` }, auth).catch(() => null);
        if (seen?.status === 200) ackedSeen.set(`f-${i}`, seen.body.event_id as string);
        else refused.push(seen?.status ?? 0);
        const donated = await app.post('/chat/donat/add', { room: model.uuid, sum: '1.00' }, donors[who]!.auth).catch(() => null);
        if (donated?.status === 201) ackedDonations.push(donated.body.donation_id as string);
        else refused.push(donated?.status ?? 0);
        await sleep(5);
      }
    };
    const running = donors.map((_, i) => traffic(i));
    let before = 0;
    let promoted: ClusterNode;
    try {
      await waitFor(() => ackedSeen.size >= 40, { what: 'traffic under way', timeoutMs: 20_000 });
      before = ackedSeen.size;
      promoted = await cluster.killMaster(victim);
      // Traffic goes on through the failover, then until requests succeed again on the new master.
      await waitFor(() => ackedSeen.size >= before + 40, { what: 'requests acknowledged again after the failover', timeoutMs: 30_000 });
    } finally {
      stop = true;
      await Promise.all(running);
    }

    // Every acknowledged fact reaches the consumer (at least once; its Idempotency-Key is the event id).
    const received = () => new Set(consumer.received.map((r) => String(r.body.id)));
    await waitFor(() => { const got = received(); return [...ackedSeen.keys()].every((id) => got.has(id)); }, { what: `all ${ackedSeen.size} acknowledged facts delivered`, timeoutMs: 40_000 }).catch((err: Error) => {
      const got = received();
      const missing = [...ackedSeen.keys()].filter((id) => !got.has(id));
      throw new Error(`${err.message}; missing ${missing.join(', ')}`);
    });
    for (const r of consumer.received) if (ackedSeen.has(String(r.body.id))) expect(r.headers['idempotency-key']).to.equal(ackedSeen.get(String(r.body.id)));

    // Every acknowledged donation moved its money exactly once.
    await quiescent(app.database.db, 40_000);
    const report = await checkChatInvariants(app.database.db);
    expect(report.completed).to.equal(ackedDonations.length);
    expect((await app.get('/accounts/me', model.auth)).body.balance).to.equal(`${ackedDonations.length}.00`);

    // The socket in the room on the dead master's slots hears what is said after the failover.
    const said = await app.post('/chat/message/add', { room, message: 'after the failover', is_public: true }, donors[0]!.auth);
    expect(said.status, JSON.stringify(said.body)).to.equal(201);
    await waitFor(() => viewer.events.some((e) => e.event_id === said.body.event_id), { what: 'the message on the socket after the failover', timeoutMs: 15_000 });
    await viewer.close();

    // /readyz names the promoted replica among the masters, and not the dead one.
    let last: unknown;
    await waitFor(async () => {
      const res = await app.get('/readyz');
      last = res.body;
      return res.status === 200;
    }, { what: 'ready again', timeoutMs: 20_000 }).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    const masters = (await app.get('/readyz')).body.checks.redis.masters.map((m: { node: string }) => m.node);
    expect(masters).to.include(`127.0.0.1:${promoted.port}`);
    expect(masters).not.to.include(`127.0.0.1:${victim.port}`);
    // A request the failover caught answers 503 (retry later), never 500; most just wait it out.
    expect(refused.every((s) => s === 503 || s === 0), `refusals: ${refused.join(',')}`).to.equal(true);
  });
});
