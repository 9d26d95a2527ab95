import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Queue } from 'bullmq';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { seenKey } from '../../../src/domain/notify/seenFact.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { waitFor, sleep } from '../../helpers/wait.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

/**
 * POSTs written to one socket in one write (HTTP/1.1 pipelining): the server parses them all in
 * one read, so they reach the API in the same event-loop turn, as concurrent requests do under load.
 */
async function pipelined(port: number, bodies: object[]): Promise<{ status: number; body: Record<string, unknown> }[]> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    bodies
      .map((b) => {
        const json = JSON.stringify(b);
        return `POST ${SEEN} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
      })
      .join(''),
  );
  const answers: { status: number; body: Record<string, unknown> }[] = [];
  let buf = '';
  for await (const chunk of socket) {
    buf += (chunk as Buffer).toString('latin1');
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      const length = end < 0 ? null : /content-length: (\d+)/i.exec(buf.slice(0, end))?.[1];
      if (!length || buf.length < end + 4 + Number(length)) break;
      answers.push({ status: Number(buf.split(' ')[1]), body: JSON.parse(buf.slice(end + 4, end + 4 + Number(length))) as Record<string, unknown> });
      buf = buf.slice(end + 4 + Number(length));
    }
    if (answers.length === bodies.length) break;
  }
  socket.destroy();
  return answers;
}

const jobsIn = async (queue: Queue) => (await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).filter(Boolean);

describe('mark-notify batches: one job per event-loop turn, one job per fact only for retries and failures', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let consumer: ConsumerServer;
  let batches: Queue;
  let singles: Queue;

  before(async () => {
    consumer = await new ConsumerServer().start();
    const fast = { delay_ms: 100, max_delay_ms: 400, jitter: 0 };
    app = await startConveyor({
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 300, max_attempts: 5, backoff: fast },
        mixed: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 300, max_attempts: 5, backoff: fast },
        banners: { delivery: 'topic', topic: 'banners.seen' },
      }),
    });
    batches = app.running.services.queues.get('notify.deliver-seen-batch');
    singles = app.running.services.queues.get('notify.deliver-seen');
  });
  after(async () => {
    await app.stop();
    await consumer.stop();
  });
  beforeEach(async () => {
    await batches.obliterate({ force: true });
    await singles.obliterate({ force: true });
    consumer.received.length = 0;
    consumer.setScript([], 200);
    consumer.choose = () => undefined;
  });

  it('queues the facts accepted in one turn as one job, and delivers each', async () => {
    const bodies = [...Array.from({ length: 8 }, (_, i) => ({ tag: 'promotions', id: `turn-${i}` })), { tag: 'banners', id: 'turn-b' }];
    const answers = await pipelined(app.running.port, bodies);
    expect(answers.map((a) => a.status)).to.deep.equal(bodies.map(() => 200));
    expect(answers.every((a) => a.body.deduplicated === false)).to.equal(true);
    const jobs = await jobsIn(batches);
    expect(jobs).to.have.length(1);
    // The batch job's id is its first fact's event id; it carries every fact of the turn.
    expect(jobs[0]!.id).to.equal(answers[0]!.body.event_id);
    expect((jobs[0]!.data as { payload: { facts: { event_id: string }[] } }).payload.facts.map((f) => f.event_id)).to.deep.equal(answers.map((a) => a.body.event_id));
    await waitFor(() => consumer.received.length === 8, { what: '8 HTTP deliveries' });
    const stream = `${app.prefix}:topic:banners.seen`;
    await waitFor(async () => (await app.running.services.redis.xlen(stream)) === 1, { what: 'the topic delivery' });
    expect(new Set(consumer.received.map((r) => r.headers['idempotency-key']))).to.deep.equal(new Set(answers.slice(0, 8).map((a) => a.body.event_id)));
    // A delivery that succeeds in its batch has no job of its own.
    expect(await jobsIn(singles)).to.have.length(0);
  });

  it('retries a failed fact in its own job with the same gaps, keeps a refused one failed without a second call, and a Bull Board retry delivers it', async () => {
    let retryCalls = 0;
    let refusedCalls = 0;
    consumer.choose = (r) => (r.body.id === 'm-retry' ? (++retryCalls <= 2 ? 500 : 200) : r.body.id === 'm-refused' ? (++refusedCalls === 1 ? 404 : 200) : 200);
    const answers = await pipelined(app.running.port, [
      { tag: 'mixed', id: 'm-retry' },
      { tag: 'mixed', id: 'm-refused' },
      { tag: 'mixed', id: 'm-ok' },
    ]);
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200]);
    const [retried, refused, ok] = answers.map((a) => a.body.event_id as string);
    expect(await jobsIn(batches)).to.have.length(1);

    await waitFor(async () => (await singles.getJobState(retried!)) === 'completed', { what: 'the retried fact delivered' });
    const calls = consumer.received.filter((r) => r.body.id === 'm-retry');
    expect(calls).to.have.length(3);
    const gaps = calls.slice(1).map((r, i) => r.at - calls[i]!.at);
    // As a fact delivered alone: 100 ms, then 200 ms (no jitter).
    expect(gaps[0]).to.be.within(90, 400);
    expect(gaps[1]).to.be.within(190, 600);
    const retryJob = (await singles.getJob(retried!))!;
    expect(retryJob.attemptsMade).to.equal(2);
    expect(retryJob.opts.attempts).to.equal(4);
    // The consumer gets the fact's fields only, never the job's bookkeeping.
    expect(Object.keys(calls[2]!.body).sort()).to.deep.equal(['event_id', 'id', 'identity', 'kind', 'seen_at', 'tag']);

    await waitFor(async () => (await singles.getJobState(refused!)) === 'failed', { what: 'the refused fact in the failed set' });
    await sleep(300);
    expect(consumer.received.filter((r) => r.body.id === 'm-refused')).to.have.length(1);
    const failed = (await singles.getJob(refused!))!;
    expect(failed.failedReason).to.match(/mixed: consumer refused with 404/);
    expect((failed.data as { payload: Record<string, unknown> }).payload).to.not.have.property('failure');
    expect(consumer.received.filter((r) => r.body.id === 'm-ok')).to.have.length(1);
    expect(await singles.getJob(ok!)).to.equal(undefined);

    const metrics = () => app.running.services.metrics.registry.getSingleMetricAsString('conveyor_notify_deliveries_total');
    let text = await metrics();
    expect(text).to.match(/consumer="mixed",outcome="refused"} 1/);
    expect(text).to.match(/consumer="mixed",outcome="retry"} 2/);
    expect(text).to.match(/consumer="mixed",outcome="delivered"} 2/);
    const attempts = await app.running.services.metrics.registry.getSingleMetricAsString('conveyor_notify_delivery_attempts');
    // m-ok took 1 attempt, m-retry 3 (its batch's and two of its own job).
    expect(attempts).to.match(/conveyor_notify_delivery_attempts_sum{consumer="mixed",outcome="delivered"} 4/);

    // What Bull Board's retry button does.
    await failed.retry('failed');
    await waitFor(async () => (await singles.getJobState(refused!)) === 'completed', { what: 'the retried refused fact delivered' });
    expect(consumer.received.filter((r) => r.body.id === 'm-refused')).to.have.length(2);
    text = await metrics();
    expect(text).to.match(/consumer="mixed",outcome="refused"} 1/);
    expect(text).to.match(/consumer="mixed",outcome="delivered"} 3/);
  });

  it('answers a repeat inside the window with the first event id and queues nothing', async () => {
    const auth = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'client', user_id: 'repeat-user' })}` };
    const first = await app.post(SEEN, { tag: 'promotions', id: 'again' }, auth);
    expect(first.body.deduplicated).to.equal(false);
    const seen = await app.get(`${SEEN}?tag=promotions&id=again`, auth);
    expect(seen.body).to.deep.include({ seen: true, event_id: first.body.event_id });
    const again = await app.post(SEEN, { tag: 'promotions', id: 'again' }, auth);
    expect(again.body).to.deep.include({ event_id: first.body.event_id, deduplicated: true });
    // The same fact twice in one turn: the second is a repeat of the first.
    const twice = await pipelined(app.running.port, [{ tag: 'promotions', id: 'twice' }, { tag: 'promotions', id: 'twice' }]);
    expect(twice[1]!.body).to.deep.include({ event_id: twice[0]!.body.event_id, deduplicated: true });
    await waitFor(() => consumer.received.length === 2, { what: 'two deliveries' });
    await sleep(200);
    expect(consumer.received.map((r) => r.body.id).sort()).to.deep.equal(['again', 'twice']);
    expect(await jobsIn(batches)).to.have.length(2);
  });

  it('forgets what a batch remembered when its add fails, so the client retry queues it', async () => {
    // INCR is the add script's first write: a non-integer id counter makes every add fail
    // after the SETs succeeded; the workers never touch that key.
    const idKey = `${app.prefix}:notify.deliver-seen-batch:id`;
    await app.running.services.redis.set(idKey, 'not-a-counter');
    const key = `${app.prefix}:seen:${seenKey('unauthorized', {}, 'promotions', 'lost-add')}`;
    try {
      const failedAnswer = await app.post(SEEN, { tag: 'promotions', id: 'lost-add' });
      expect(failedAnswer.status).to.be.at.least(500);
      expect(failedAnswer.body.success).to.equal(false);
      expect(await app.running.services.redis.exists(key)).to.equal(0);
      expect((await app.get(`${SEEN}?tag=promotions&id=lost-add`)).body.seen).to.equal(false);
    } finally {
      await app.running.services.redis.del(idKey);
    }
    const retry = await app.post(SEEN, { tag: 'promotions', id: 'lost-add' });
    expect(retry.status).to.equal(200);
    expect(retry.body.deduplicated).to.equal(false);
    await waitFor(() => consumer.received.some((r) => r.body.event_id === retry.body.event_id), { what: 'the retried fact delivered' });
  });

  it('answers 503 with Retry-After when Redis is down, remembering nothing', async () => {
    const down = await startConveyor({ roles: ['api'], env: { REDIS_URL: 'redis://127.0.0.1:9' }, integrations: parseIntegrations({ promotions: { delivery: 'topic', topic: 'x' } }) });
    try {
      const res = await down.post(SEEN, { tag: 'promotions', id: 'no-redis' });
      expect(res.status).to.equal(503);
      expect(res.body).to.include({ success: false, code: 'unavailable' });
      expect(res.headers.get('retry-after')).to.equal('1');
    } finally {
      await down.stop();
    }
  });
});
