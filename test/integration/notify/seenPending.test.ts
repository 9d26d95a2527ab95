import { expect } from 'chai';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { newEventId } from '../../../src/domain/notify/eventId.ts';
import { findSeen, SeenBatcher, seenStoreKey } from '../../../src/domain/notify/seenBatcher.ts';
import type { SeenFact } from '../../../src/domain/notify/seenFact.ts';
import { Unavailable } from '../../../src/platform/errors.ts';
import { deleteKeys } from '../../helpers/conveyor.ts';
import { TEST_REDIS, uniqueName } from '../../helpers/db.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

const fact = (id: string): SeenFact => ({ event_id: newEventId(Date.now()), seen_at: new Date().toISOString(), tag: 'banners', id, kind: 'unauthorized', identity: {} });

/** A gate the test opens: an add that is "in flight" until then (Redis slow, paused) and then succeeds or fails. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const rejection = (p: Promise<unknown>) => p.then((v) => ({ resolved: v }), (err: unknown) => ({ rejected: err }));

// Found by npm run chaos (redis-pause): a retry on the other api got `200 deduplicated` from a seen
// key whose fact's job was never added. A "deduplicated" must only ever stand for a queued fact.
describe('mark-notify: only a queued fact answers "deduplicated" (two api processes, one Redis)', function () {
  this.timeout(20_000);
  const prefix = uniqueName('seenpend');
  let redis: Redis;
  let queue: Queue;
  const add = async (facts: SeenFact[]) => void (await queue.add('batch', { facts }, { jobId: facts[0]!.event_id }));
  const batcher = (addBatch: (facts: SeenFact[]) => Promise<void>, pendingTtlMs?: number) =>
    new SeenBatcher({ redis, prefix, max: 100, addBatch, ...(pendingTtlMs ? { pendingTtlMs } : {}) });
  const queued = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'completed'])).flatMap((j) => (j.data as { facts: SeenFact[] }).facts.map((f) => f.event_id));

  before(() => {
    redis = new Redis(TEST_REDIS, { protocol: 2 });
    queue = new Queue('notify.deliver-seen-batch', { connection: new Redis(TEST_REDIS, { protocol: 2, maxRetriesPerRequest: null }), prefix });
  });
  after(async () => {
    await queue.close();
    redis.disconnect();
    await deleteKeys(TEST_REDIS, prefix);
  });

  it('a repeat on another api while the first add is in flight is refused (503), and queued once the first add failed', async () => {
    const slow = gate();
    const api1 = batcher(async () => {
      await slow.wait;
      throw new Error('Command timed out');
    });
    const api2 = batcher(add);
    const first = fact('race');
    const firstAnswer = rejection(api1.submit('race', first, 60_000, null));
    await waitFor(async () => (await redis.get(seenStoreKey(prefix, 'race'))) !== null, { what: "api1's SET" });

    const retry = await rejection(api2.submit('race', fact('race'), 60_000, null));
    expect(retry, 'not answered from a fact that is not queued').to.have.property('rejected').that.is.instanceOf(Unavailable);
    expect(await findSeen(redis, prefix, 'race'), 'GET /seen: not seen while only pending').to.equal(null);

    slow.open();
    expect(await firstAnswer).to.have.property('rejected');
    const second = fact('race');
    expect(await api2.submit('race', second, 60_000, null), 'queued, not deduplicated').to.equal(null);
    expect(await queued()).to.include(second.event_id).and.not.include(first.event_id);
    expect(await findSeen(redis, prefix, 'race')).to.equal(second.event_id);
    expect(await api1.submit('race', fact('race'), 60_000, null), 'now a repeat is deduplicated').to.equal(second.event_id);
  });

  it('a repeat in the same process waits for the first add and answers its id', async () => {
    const slow = gate();
    const api1 = batcher(async (facts) => {
      await slow.wait;
      await add(facts);
    });
    const first = fact('same');
    const answers = [api1.submit('same', first, 60_000, null), api1.submit('same', fact('same'), 60_000, null)];
    await sleep(20);
    answers.push(api1.submit('same', fact('same'), 60_000, null)); // a later batch, while the first is in flight
    let settled = 0;
    for (const a of answers) void a.then(() => settled++, () => settled++);
    await sleep(100);
    expect(settled, 'nobody answered before the add resolved').to.equal(0);
    slow.open();
    expect(await Promise.all(answers)).to.deep.equal([null, first.event_id, first.event_id]);
    expect(await queued()).to.include(first.event_id);
  });

  it('a pending mark left by an api that died between SET and add lapses, then the fact is queued', async () => {
    const dead = batcher(() => new Promise<void>(() => undefined), 500);
    void dead.submit('dead', fact('dead'), 60_000, null);
    await waitFor(async () => (await redis.get(seenStoreKey(prefix, 'dead'))) !== null, { what: 'the dead api\'s SET' });
    const api2 = batcher(add);
    expect(await rejection(api2.submit('dead', fact('dead'), 60_000, null))).to.have.property('rejected').that.is.instanceOf(Unavailable);
    await sleep(600);
    const retried = fact('dead');
    expect(await api2.submit('dead', retried, 60_000, null)).to.equal(null);
    expect(await queued()).to.include(retried.event_id);
    expect(await redis.pttl(seenStoreKey(prefix, 'dead')), 'confirmed for the remember window').to.be.above(50_000);
  });
});
