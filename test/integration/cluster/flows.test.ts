import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { RedisCluster, type ClusterNode } from '../../helpers/redisCluster.ts';
import { waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { roomChannel } from '../../../src/domain/chat/chatEvent.ts';
import { wsExtension, type WsExtension } from '../../../src/ws/extension.ts';
import { contracts } from '../../../queues/contracts/index.ts';
import { buildSchedules } from '../../../queues/schedules.ts';
import { actor, checkChatInvariants, GENEROUS_LIMITS, quiescent, topUp } from '../chat/chatApp.ts';
import { envelope, goodListing, grantsOf, testSettings, waitForState } from '../bonus/bonusApp.ts';
import { TestSocket, wsUrl } from '../ws/clients.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

/** The keys under `pattern` on one node (SCAN on that node alone). */
async function keysOn(node: ClusterNode, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await node.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

describe('cluster mode: the core flows on a Redis Cluster of three masters', function () {
  this.timeout(90_000);
  let cluster: RedisCluster;
  let app: TestConveyor;
  let wsNode: Running;
  let first: WsExtension;
  let second: WsExtension;
  let consumer: ConsumerServer;
  let points: ConsumerServer;
  let redis: Cluster;

  before(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    consumer = await new ConsumerServer().start();
    points = await new ConsumerServer().start();
    first = wsExtension();
    second = wsExtension();
    app = await startConveyor({
      env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', ...GENEROUS_LIMITS, OUTBOX_RECONCILE_EVERY: '200ms', OUTBOX_RECONCILE_GRACE: '500ms', SCHEDULER_CHECK_EVERY: '200ms' },
      extensions: [first],
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 1000, backoff: { delay_ms: 100, max_delay_ms: 400, jitter: 0 } },
        banners: { delivery: 'topic', topic: 'banners.seen', remember_for: '7d' },
      }),
      bonus: testSettings({ points_url: `${points.url}/grants` }),
    });
    // A second process with the ws role alone, on the same database, cluster and prefix.
    wsNode = await start(app.config, ['ws'], { extensions: [second], metricsDefaults: false });
    redis = cluster.client();
  });

  after(async () => {
    redis?.disconnect();
    await wsNode?.stop();
    await app?.stop();
    await Promise.all([consumer?.stop(), points?.stop()]);
    await cluster?.stop();
  });

  const clientToken = () => app.token({ sub: randomUUID(), role: 'client', user_id: randomUUID() });

  it('/readyz reports the cluster: cluster_state ok and each master reachable and noeviction', async () => {
    const res = await app.get('/readyz');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const check = res.body.checks.redis;
    expect(check).to.include({ ok: true, cluster_state: 'ok' });
    expect(check.masters.map((m: { node: string }) => m.node).sort()).to.deep.equal((await cluster.masters()).map((n) => `127.0.0.1:${n.port}`).sort());
    expect(check.masters.every((m: { ok: boolean; eviction_policy: string }) => m.ok && m.eviction_policy === 'noeviction')).to.equal(true);
  });

  it('mark-notify: one request batch spans slots; each fact is remembered, delivered by HTTP or topic, and a repeat is deduplicated', async () => {
    const auth = { authorization: `Bearer ${await clientToken()}` };
    // Sent together: the api's seen batch holds keys of many slots (per-master pipelines).
    const ids = Array.from({ length: 30 }, (_, i) => `promo-${i}`);
    const answers = await Promise.all(ids.map((id) => app.post(SEEN, { tag: 'promotions', id }, auth)));
    expect(answers.map((a) => a.status)).to.deep.equal(ids.map(() => 200));
    const banner = await app.post(SEEN, { tag: 'banners', id: 'b-1' }, auth);
    expect(banner.status).to.equal(200);
    await waitFor(() => consumer.received.length >= ids.length, { what: 'every promotion delivered' });
    expect(new Set(consumer.received.map((r) => r.body.id))).to.deep.equal(new Set(ids));
    const stream = `${app.prefix}:topic:banners.seen`;
    await waitFor(async () => (await redis.xlen(stream)) === 1, { what: 'the banner fact on its stream' });
    const again = await app.post(SEEN, { tag: 'promotions', id: 'promo-7' }, auth);
    expect(again.body).to.include({ deduplicated: true, event_id: answers[7]!.body.event_id });
  });

  it('donations through the ledger: money moves, goals and sponsors follow, the ws fan-out reaches both ws processes', async () => {
    const admin = await actor(app, 'admin');
    const model = await actor(app, 'model', 'Mila');
    const ann = await actor(app, 'client', 'Ann');
    await topUp(app, admin, ann, '100.00');
    expect((await app.post('/chat/goals', { name: 'lamp', require_sum: '20.00' }, model.auth)).status).to.equal(201);
    const open = async (base: string, sub: string, role: 'client' | 'model') =>
      TestSocket.open(wsUrl(base, { room: model.uuid, token: await app.token({ sub, role }) }));
    const onFirst = await open(app.url, model.uuid, 'model');
    const onSecond = await open(`http://127.0.0.1:${wsNode.port}`, randomUUID(), 'client');
    // Sharded pub/sub: the room's channel is subscribed on its own slot's master, by both processes.
    const channel = roomChannel(app.prefix, model.uuid, true);
    const owner = await cluster.masterOf(channel);
    await waitFor(async () => {
      const [, n] = (await owner.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
      return Number(n) === 2;
    }, { what: 'both ws processes subscribed on the room\'s master' });

    const sums = ['5.00', '7.50', '12.25'];
    const donated = await Promise.all(sums.map((sum) => app.post('/chat/donat/add', { room: model.uuid, sum }, ann.auth)));
    expect(donated.map((d) => d.status)).to.deep.equal([201, 201, 201]);
    await quiescent(app.database.db);
    const report = await checkChatInvariants(app.database.db);
    expect(report).to.include({ completed: 3, rejected: 0, pending: 0 });
    expect((await app.get('/accounts/me', model.auth)).body.balance).to.equal('24.75');
    for (const socket of [onFirst, onSecond]) {
      await waitFor(() => socket.events.filter((e) => e.type === 'donate').length === 3 && socket.events.some((e) => e.type === 'goal_reached'), { what: 'donations and the goal on both processes' });
    }
    const history = await app.get(`/chat/event/history?room=${model.uuid}`, ann.auth);
    expect(history.body.events.filter((e: { type: string }) => e.type === 'donate')).to.have.length(3);
    await onFirst.close();
    await onSecond.close();
  });

  it('the bonus hold: a delayed job on its queue\'s master pays once when the hold ends', async () => {
    const service = { authorization: `Bearer ${await app.token({ sub: '00000000-0000-4000-8000-00000000b0b0', role: 'service' })}` };
    const u = randomUUID();
    expect((await app.post('/events', envelope('AccountLinked', { user_id: u, yandex_uid: 'ya-9' }), service)).status).to.equal(200);
    await waitFor(async () => (await app.database.db('bonus_state').where('user_id', u).first())?.yandex_uid === 'ya-9', { what: 'the link applied' });
    expect((await app.post('/events', envelope('ListingPublished', goodListing(u, 'L1')), service)).status).to.equal(200);
    const holding = await waitForState(app.database.db, u, 'holding');
    await waitForState(app.database.db, u, 'cooldown');
    const grants = await grantsOf(app.database.db, u);
    expect(grants.map((g) => g.listing_id)).to.deep.equal(['L1']);
    expect(grants[0]!.granted_at.getTime()).to.be.at.least(holding.grant_at!.getTime());
    await waitFor(() => points.received.some((r) => r.body.user_id === u), { what: 'the grant delivered' });
  });

  it('spreads the queues over the masters: each queue\'s keys on one master, the queues on more than one', async () => {
    const masters = await cluster.masters();
    const keysByMaster = await Promise.all(masters.map((m) => keysOn(m, `${app.prefix}:{*}:*`)));
    const queueMasters = new Map<string, Set<number>>();
    keysByMaster.forEach((keys, i) => {
      for (const key of keys) {
        const queue = /\{([^}]+)\}/.exec(key)![1]!;
        queueMasters.set(queue, (queueMasters.get(queue) ?? new Set()).add(masters[i]!.port));
      }
    });
    // Every queue the flows above used left keys (its meta, its completed jobs).
    for (const queue of ['notify.deliver-seen', 'chat.transfer-money', 'chat.update-goal', 'bonus.apply-event']) expect(queueMasters.has(queue), queue).to.equal(true);
    for (const [queue, where] of queueMasters) expect(where.size, `${queue} on ${[...where].join(', ')}`).to.equal(1);
    const used = new Set([...queueMasters.values()].map((s) => [...s][0]));
    expect(used.size, 'masters holding queues').to.be.at.least(2);
    // And the contracts' queues as a whole hash to every master.
    const owners = await Promise.all(Object.values(contracts).map((c) => cluster.masterOf(`${app.prefix}:{${c.queue}}:meta`)));
    expect(new Set(owners.map((o) => o.port)).size).to.equal(masters.length);
  });

  it('Bull Board lists every queue by its contract name', async () => {
    const auth = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
    const res = await fetch(`${app.url}/admin/queues/api/queues`, { headers: auth });
    expect(res.status).to.equal(200);
    const { queues } = (await res.json()) as { queues: { name: string; displayName?: string; counts: Record<string, number> }[] };
    const byName = new Map(queues.map((q) => [q.name, q]));
    expect(byName.get('{notify.deliver-seen-batch}')?.displayName).to.equal('notify.deliver-seen-batch');
    expect(byName.get('{notify.deliver-seen-batch}')!.counts.completed).to.be.greaterThan(0);
    expect(queues).to.have.length(Object.keys(contracts).length);
  });

  it('one master that lost its data is noticed and healed: its durable jobs and its schedulers come back', async () => {
    const admin = await actor(app, 'admin');
    const model = await actor(app, 'model');
    const bob = await actor(app, 'client');
    await topUp(app, admin, bob, '50.00');
    const { queues } = app.running.services;
    const schedules = buildSchedules(app.running.services);
    const lost = await cluster.masterOf(`${app.prefix}:{chat.transfer-money}:meta`);
    const kept = (await cluster.masters()).filter((m) => m !== lost);
    const keysBefore = await Promise.all(kept.map((m) => m.call('DBSIZE')));
    const onLost = await Promise.all(schedules.map(async (s) => (await cluster.masterOf(`${app.prefix}:{${s.contract.queue}}:meta`)) === lost));
    await Promise.all(app.running.workers.map((w) => w.pause()));
    const donated = await Promise.all(['1.00', '2.00'].map((sum) => app.post('/chat/donat/add', { room: model.uuid, sum }, bob.auth)));
    expect(donated.map((d) => d.status)).to.deep.equal([201, 201]);
    await waitFor(async () => Number(((await app.database.db('outbox').where('status', 'pending').count({ n: '*' })) as { n: number }[])[0]!.n) === 0, { what: 'the donations relayed' });
    // Completed jobs of the queue (earlier flows'): nothing writes that set again while the workers are paused.
    const history = `${app.prefix}:{chat.transfer-money}:completed`;
    expect(Number(await lost.call('EXISTS', history))).to.equal(1);
    await lost.call('FLUSHALL');
    // Gone with the rest (the outbox's wake sweep may already be writing a new wake job there).
    expect(Number(await lost.call('EXISTS', history))).to.equal(0);
    expect((await Promise.all(kept.map((m) => m.call('DBSIZE')))).every((n, i) => Number(n) >= Number(keysBefore[i]))).to.equal(true);
    app.running.workers.forEach((w) => w.resume());
    await quiescent(app.database.db, 30_000);
    expect((await app.get('/accounts/me', model.auth)).body.balance).to.equal('3.00');
    await checkChatInvariants(app.database.db);
    await waitFor(async () => (await Promise.all(schedules.map((s) => queues.get(s.contract.queue).getJobScheduler(s.id)))).every(Boolean), { what: 'the lost master\'s schedulers registered again' });
    // Schedulers whose queues live on the wiped master were among them (bonus.recheck-links and
    // popug.payout-cron share chat.transfer-money's third of the slots), so the check had work to do.
    expect(onLost.some(Boolean)).to.equal(true);
  });

  it('the reconciler and the scheduler check heal a FLUSHALL on every master', async () => {
    const admin = await actor(app, 'admin');
    const model = await actor(app, 'model');
    const bob = await actor(app, 'client');
    await topUp(app, admin, bob, '50.00');
    // Workers paused: the donations' jobs wait in Redis, then the wipe takes them.
    await Promise.all(app.running.workers.map((w) => w.pause()));
    const donated = await Promise.all(['1.00', '2.00', '3.00'].map((sum) => app.post('/chat/donat/add', { room: model.uuid, sum }, bob.auth)));
    expect(donated.map((d) => d.status)).to.deep.equal([201, 201, 201]);
    await waitFor(async () => {
      const [row] = (await app.database.db('outbox').where('status', 'pending').count({ n: '*' })) as { n: number }[];
      return Number(row!.n) === 0;
    }, { what: 'the donations relayed' });
    const transfers = app.running.services.queues.get('chat.transfer-money');
    expect(await transfers.count()).to.be.greaterThan(0);
    const wipedAt = Date.now();
    await cluster.flushAll();
    // The relay's poll may wake the queue again at once (that is the healing), so look only for
    // jobs from before the wipe: none may survive it.
    const survivors = (await transfers.getJobs(['waiting', 'delayed', 'prioritized'])).filter((job) => job.timestamp < wipedAt);
    expect(survivors).to.have.length(0);
    app.running.workers.forEach((w) => w.resume());
    await quiescent(app.database.db, 30_000);
    expect((await app.get('/accounts/me', model.auth)).body.balance).to.equal('6.00');
    await checkChatInvariants(app.database.db);
    // The job schedulers came back, each on its own queue's master.
    const { queues } = app.running.services;
    const schedules = buildSchedules(app.running.services);
    expect(schedules.length).to.be.greaterThan(0);
    await waitFor(async () => (await Promise.all(schedules.map((s) => queues.get(s.contract.queue).getJobScheduler(s.id)))).every(Boolean), { what: 'the schedulers registered again' });
  });
});
