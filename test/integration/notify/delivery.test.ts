import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { seenKey } from '../../../src/domain/notify/seenFact.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor, sleep } from '../../helpers/wait.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

describe('mark-notify delivery (real Redis, MySQL and HTTP consumer)', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let consumer: ConsumerServer;
  let closed: string;
  let redis: Redis;

  before(async () => {
    consumer = await new ConsumerServer().start();
    // A port nobody listens on: connection refused, a network error.
    closed = 'http://127.0.0.1:9/v1/seen';
    const fast = { delay_ms: 100, max_delay_ms: 400, jitter: 0 };
    app = await startConveyor({
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 300, max_attempts: 5, backoff: fast, remember_for: '30d' },
        unlimited: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 300, backoff: fast },
        offline: { delivery: 'http', url: closed, timeout_ms: 300, max_attempts: 3, backoff: fast },
        banners: { delivery: 'topic', topic: 'banners.seen', remember_for: '7d' },
      }),
    });
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });

  after(async () => {
    redis.disconnect();
    await app.stop();
    await consumer.stop();
  });

  beforeEach(() => {
    consumer.received.length = 0;
    consumer.setScript([], 200);
  });

  const clientToken = (userId = randomUUID()) =>
    app.token({ sub: randomUUID(), role: 'client', user_id: userId, uid: 'u-1', bound_uids: ['b-1', 'b-2'], phone_id: 'p-1' });

  const jobOf = async (eventId: string) => app.running.services.queues.get('notify.deliver-seen').getJob(eventId);
  /** The job once it is in `state`, read after it got there (a job read earlier is a stale snapshot). */
  const jobIn = async (eventId: string, state: 'completed' | 'failed', timeoutMs = 10_000) => {
    const queue = app.running.services.queues.get('notify.deliver-seen');
    await waitFor(async () => (await queue.getJobState(eventId)) === state, { timeoutMs, what: `job ${state}` });
    return (await jobOf(eventId))!;
  };

  it('delivers a client fact with its identity, fields and Idempotency-Key', async () => {
    const userId = randomUUID();
    const res = await app.post(SEEN, { tag: 'promotions', id: 'promo-1' }, { authorization: `Bearer ${await clientToken(userId)}` });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ success: true, deduplicated: false });
    const eventId = res.body.event_id as string;
    await waitFor(() => consumer.received.length === 1, { what: 'delivery' });
    const got = consumer.received[0]!;
    expect(got.headers['idempotency-key']).to.equal(eventId);
    expect(got.body).to.deep.include({ event_id: eventId, tag: 'promotions', id: 'promo-1', kind: 'client' });
    expect(got.body.identity).to.deep.equal({ user_id: userId, uid: 'u-1', bound_uids: ['b-1', 'b-2'], phone_id: 'p-1' });
    expect(Date.parse(got.body.seen_at as string)).to.be.closeTo(Date.now(), 10_000);
  });

  it('delivers driver and unauthorized facts with their own identities', async () => {
    const driver = await app.token({ sub: randomUUID(), role: 'driver', db_id: 'park-7', uuid: 'drv-9' });
    expect((await app.post(SEEN, { tag: 'promotions', id: 'd-1' }, { authorization: `Bearer ${driver}` })).status).to.equal(200);
    expect((await app.post(SEEN, { tag: 'promotions', id: 'anon-1' })).status).to.equal(200);
    await waitFor(() => consumer.received.length === 2);
    const byId = Object.fromEntries(consumer.received.map((r) => [r.body.id, r.body]));
    expect(byId['d-1']).to.deep.include({ kind: 'driver', identity: { db_id: 'park-7', uuid: 'drv-9' } });
    expect(byId['anon-1']).to.deep.include({ kind: 'unauthorized', identity: {} });
  });

  it('retries 503, 429, 408 and a hang with growing backoff, then succeeds', async () => {
    consumer.setScript([503, 429, 408, 'hang'], 200);
    const res = await app.post(SEEN, { tag: 'promotions', id: 'retry-1' }, { authorization: `Bearer ${await clientToken()}` });
    await waitFor(() => consumer.received.length === 5, { what: '5 attempts', timeoutMs: 15_000 });
    await sleep(200);
    expect(consumer.received).to.have.length(5);
    const gaps = consumer.received.slice(1).map((r, i) => r.at - consumer.received[i]!.at);
    // delay 100 ms doubling, capped at 400 ms, no jitter; the hang adds its 300 ms timeout.
    expect(gaps[0]).to.be.within(90, 400);
    expect(gaps[1]).to.be.within(190, 600);
    expect(gaps[2]).to.be.within(390, 900);
    expect(gaps[3]).to.be.within(390 + 290, 1400);
    // The first call was its batch's; its own job made the other four.
    const job = await jobIn(res.body.event_id as string, 'completed');
    expect(job.attemptsMade).to.equal(4);
    const all = new Set(consumer.received.map((r) => r.headers['idempotency-key']));
    expect([...all]).to.deep.equal([res.body.event_id]);
  });

  it('fails at once, without retry, on another 4xx and keeps the job in the failed set', async () => {
    consumer.setScript([422], 200);
    const res = await app.post(SEEN, { tag: 'promotions', id: 'refused-1' }, { authorization: `Bearer ${await clientToken()}` });
    const job = await jobIn(res.body.event_id as string, 'failed');
    await sleep(300);
    // One request and no retry scheduled: the failure was final at once.
    expect(consumer.received).to.have.length(1);
    expect(job.attemptsMade).to.be.at.most(1);
    expect(job.failedReason).to.match(/refused with 422/);
    expect(await app.running.services.metrics.registry.getSingleMetricAsString('conveyor_notify_deliveries_total')).to.match(/consumer="promotions",outcome="refused"} 1/);
  });

  it('gives up after max_attempts on network errors', async () => {
    const res = await app.post(SEEN, { tag: 'offline', id: 'gone-1' });
    const job = await jobIn(res.body.event_id as string, 'failed');
    // 3 calls: its batch's, then two by its own job.
    expect(job.attemptsMade).to.equal(2);
    const metrics = await app.running.services.metrics.registry.getSingleMetricAsString('conveyor_notify_deliveries_total');
    expect(metrics).to.match(/consumer="offline",outcome="gave_up"} 1/);
    expect(metrics).to.match(/consumer="offline",outcome="retry"} 2/);
  });

  it('retries for about a day when max_attempts is not set', async () => {
    consumer.setScript([500, 500, 500], 200);
    const res = await app.post(SEEN, { tag: 'unlimited', id: 'u-1' });
    const job = await waitFor(() => jobOf(res.body.event_id as string));
    // 100 ms doubling to a 400 ms cap: 24 h needs ~216k attempts; capped at 10k by the parser.
    expect(job.opts.attempts).to.be.greaterThan(1000);
    await jobIn(res.body.event_id as string, 'completed');
  });

  it('appends topic deliveries to the Redis stream', async () => {
    const res = await app.post(SEEN, { tag: 'banners', id: 'banner-1' });
    const stream = `${app.prefix}:topic:banners.seen`;
    const entries = await waitFor(async () => {
      const e = await redis.xrange(stream, '-', '+');
      return e.length > 0 ? e : null;
    });
    const fields = Object.fromEntries(
      entries[0]![1].reduce<[string, string][]>((acc, v, i, arr) => (i % 2 === 0 ? [...acc, [v, arr[i + 1]!]] : acc), []),
    );
    expect(fields).to.include({ event_id: res.body.event_id, tag: 'banners', id: 'banner-1', kind: 'unauthorized', identity: '{}' });
  });

  it('deduplicates repeats inside the remember window and answers GET from the seen store', async () => {
    const userId = randomUUID();
    const token = await clientToken(userId);
    const auth = { authorization: `Bearer ${token}` };
    const before = await app.get(`${SEEN}?tag=promotions&id=dup-1`, auth);
    expect(before.body).to.deep.include({ success: true, seen: false, seen_at: null });

    const first = await app.post(SEEN, { tag: 'promotions', id: 'dup-1' }, auth);
    const again = await Promise.all([1, 2, 3].map(() => app.post(SEEN, { tag: 'promotions', id: 'dup-1' }, auth)));
    for (const r of again) expect(r.body).to.include({ event_id: first.body.event_id, deduplicated: true });
    // Another user seeing the same notification is a separate fact.
    const other = await app.post(SEEN, { tag: 'promotions', id: 'dup-1' }, { authorization: `Bearer ${await clientToken()}` });
    expect(other.body.deduplicated).to.equal(false);

    await waitFor(() => consumer.received.length === 2);
    await sleep(300);
    expect(consumer.received).to.have.length(2);
    const seen = await app.get(`${SEEN}?tag=promotions&id=dup-1`, auth);
    // seen_at is the delivered fact's own, read back from what was remembered.
    const delivered = consumer.received.find((r) => r.body.event_id === first.body.event_id)!;
    expect(seen.body).to.deep.include({ seen: true, event_id: first.body.event_id, seen_at: delivered.body.seen_at });
    // Remembered for the tag's window (30d), then forgotten.
    const key = seenKey('client', { user_id: userId, uid: 'u-1', bound_uids: ['b-1', 'b-2'], phone_id: 'p-1' }, 'promotions', 'dup-1');
    const ttl = await redis.pttl(`${app.prefix}:seen:${key}`);
    expect(ttl).to.be.within(30 * 86_400_000 - 60_000, 30 * 86_400_000);
    // Another identity's GET sees nothing.
    const stranger = await app.get(`${SEEN}?tag=promotions&id=dup-1`, { authorization: `Bearer ${await clientToken()}` });
    expect(stranger.body).to.deep.include({ seen: false, seen_at: null, event_id: null });
  });

  it('rejects an unknown tag with 400 unknown_tag and queues nothing', async () => {
    const queues = ['notify.deliver-seen', 'notify.deliver-seen-batch'].map((q) => app.running.services.queues.get(q));
    const counts = () => Promise.all(queues.map(async (q) => (await q.count()) + (await q.getCompletedCount())));
    const before = await counts();
    const res = await app.post(SEEN, { tag: 'nope', id: 'x' });
    expect(res.status).to.equal(400);
    expect(res.body).to.deep.include({ success: false, code: 'unknown_tag' });
    expect(await counts()).to.deep.equal(before);
  });
});
