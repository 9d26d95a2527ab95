import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { RedisCluster } from '../../helpers/redisCluster.ts';
import type { RedisClient } from '../../../src/platform/redis.ts';
import { TOPIC_APPEND_QUEUE } from '../../../src/domain/events/topics.ts';
import { writeOutbox, type OutboxJob } from '../../../queues/outbox/writer.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';

/** Aggregates on three topics; each event carries its aggregate and its place in that aggregate. */
const AGGREGATES = [
  { topic: 'domain.popug', name: 'TaskAssigned', key: 'task_id' },
  { topic: 'domain.popug', name: 'PaymentMade', key: 'user_id' },
  { topic: 'domain.bonus', name: 'ListingUpdated', key: 'user_id' },
  { topic: 'domain.bonus', name: 'AccountLinked', key: 'user_id' },
  { topic: 'datarep.exercise', name: 'ExerciseUpdated', key: 'exercise_id' },
  { topic: 'domain.hiring', name: 'ReviewerAssigned', key: 'candidate_id' },
] as const;

function envelope(name: string, payload: Record<string, unknown>): Envelope {
  return { event_id: randomUUID(), event_name: name, event_version: 1, produced_at: new Date().toISOString(), payload };
}

const row = (e: Envelope): OutboxJob => ({ queue: TOPIC_APPEND_QUEUE, payload: e, version: e.event_version, eventId: e.event_id, envelope: true });

/**
 * Queues 40 transactions of 1 to 6 events (six aggregates on four topics, some as event batch
 * rows) while the queue is paused, lets it drain, and checks every stream: each event once, in
 * commit order, the backlog taken in batches of many rows.
 */
async function appendsABacklogInOrder(app: TestConveyor, redis: RedisClient): Promise<void> {
  // Rows pile up while the queue is paused, so its jobs take them in batches.
  const queue = app.running.services.queues.get(TOPIC_APPEND_QUEUE);
  await queue.pause();
  const ids = AGGREGATES.map(() => randomUUID());
  const seq = AGGREGATES.map(() => 0);
  const sent: { topic: string; event_id: string }[] = [];
  const { outbox } = app.running.services;
  for (let t = 0; t < 40; t++) {
    const envelopes: { topic: string; e: Envelope }[] = [];
    // Each transaction: 1 to 6 events of aggregates picked round the list.
    for (let k = 0; k <= t % 6; k++) {
      const a = (t + k * 5) % AGGREGATES.length;
      const agg = AGGREGATES[a]!;
      envelopes.push({ topic: agg.topic, e: envelope(agg.name, { [agg.key]: ids[a], seq: (seq[a] = seq[a]! + 1) - 1 }) });
    }
    // Every fifth transaction writes one event batch row of one event for all its events.
    const batchRow = t % 5 === 0 && envelopes.every((x) => x.e.event_name === envelopes[0]!.e.event_name);
    await outbox.transaction((trx) =>
      writeOutbox(
        trx,
        batchRow
          ? [{ queue: TOPIC_APPEND_QUEUE, payload: envelopes.map((x) => x.e), version: 1, events: true }]
          : envelopes.map((x) => row(x.e)),
      ),
    );
    sent.push(...envelopes.map((x) => ({ topic: x.topic, event_id: x.e.event_id })));
  }
  const streams = [...new Set(AGGREGATES.map((a) => a.topic))];
  for (const topic of streams) expect(await redis.xlen(`${app.prefix}:topic:${topic}`)).to.equal(0);
  await queue.resume();

  const db = app.database.db;
  await waitFor(async () => Number(((await db('outbox').where({ queue: TOPIC_APPEND_QUEUE }).whereNot('status', 'done').count({ n: '*' })) as { n: number }[])[0]!.n) === 0, {
    what: 'every topic-append row done',
  });
  for (const topic of streams) {
    const entries = (await redis.xrange(`${app.prefix}:topic:${topic}`, '-', '+')).map(([, f]) => f[f.indexOf('event_id') + 1]);
    // Each event once, in the order the transactions committed (one writer here, so all of them).
    expect(entries, topic).to.deep.equal(sent.filter((s) => s.topic === topic).map((s) => s.event_id));
  }
  for (let a = 0; a < AGGREGATES.length; a++) {
    const agg = AGGREGATES[a]!;
    const seqs = (await redis.xrange(`${app.prefix}:topic:${agg.topic}`, '-', '+'))
      .map(([, f]) => JSON.parse(f[f.indexOf('payload') + 1]!) as Record<string, unknown>)
      .filter((p) => p[agg.key] === ids[a])
      .map((p) => p.seq);
    expect(seqs, agg.name).to.deep.equal([...Array(seq[a]).keys()]);
  }
  // The events went out in batches: a few jobs, at least one of many rows.
  const done = await queue.getCompleted();
  const batches = done.map((j) => (j.returnvalue as { batch?: number } | null)?.batch ?? 0).filter((n) => n > 0);
  expect(batches.reduce((s, n) => s + n, 0)).to.equal(sent.length);
  expect(Math.max(...batches)).to.be.greaterThan(20);
}

describe('topic appender: a batch of many events from several aggregates and topics', function () {
  this.timeout(90_000);

  describe('one Redis', () => {
    let app: TestConveyor;
    let redis: Redis;
    before(async () => {
      // A quick reconciler: row jobs for the waiting rows run beside the wakes (they must keep the order too).
      app = await startConveyor({ env: { TOPIC_APPEND_BATCH: '64', OUTBOX_RECONCILE_EVERY: '200ms', OUTBOX_RECONCILE_GRACE: '300ms' } });
      redis = new Redis(TEST_REDIS);
    });
    after(async () => {
      redis.disconnect();
      await app.stop();
    });

    it('appends each event once, in commit order per stream, a batch of many rows per job', () => appendsABacklogInOrder(app, redis));

    it('a row naming no registered event stays out of the batches and goes dead; the events around it are appended', async () => {
      const before = envelope('TaskAssigned', { task_id: randomUUID(), seq: 0 });
      const unknown = envelope('NoSuchEvent', { task_id: randomUUID() });
      const after = envelope('TaskAssigned', { task_id: randomUUID(), seq: 1 });
      await app.running.services.outbox.transaction((trx) => writeOutbox(trx, [row(before), row(unknown), row(after)]));
      const db = app.database.db;
      const status = async (e: Envelope) => ((await db('outbox').where({ queue: TOPIC_APPEND_QUEUE, event_id: e.event_id }).first()) as { status: string; last_error: string | null });
      await waitFor(async () => (await status(unknown)).status === 'dead', { what: 'the unknown event row dead' });
      expect((await status(before)).status).to.equal('done');
      expect((await status(after)).status).to.equal('done');
      const ids = (await redis.xrange(`${app.prefix}:topic:domain.popug`, '-', '+')).map(([, f]) => f[f.indexOf('event_id') + 1]);
      expect(ids.filter((id) => id === before.event_id || id === after.event_id)).to.deep.equal([before.event_id, after.event_id]);
      expect(ids).to.not.include(unknown.event_id);
    });
  });

  describe('a Redis Cluster of three masters (REDIS_CLUSTER)', () => {
    let cluster: RedisCluster;
    let app: TestConveyor;
    let redis: Cluster;
    before(async () => {
      cluster = await RedisCluster.start({ masters: 3 });
      app = await startConveyor({ env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', TOPIC_APPEND_BATCH: '64' } });
      redis = cluster.client();
    });
    after(async () => {
      redis?.disconnect();
      await app?.stop();
      await cluster?.stop();
    });

    it('appends each event once, in commit order per stream, its streams in several slots', () => appendsABacklogInOrder(app, redis));
  });
});
