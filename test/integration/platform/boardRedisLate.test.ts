import { expect } from 'chai';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { RedisServer } from '../../helpers/redisServer.ts';
import { StallAfterReadyProxy } from '../../helpers/stallAfterReadyProxy.ts';
import { waitFor } from '../../helpers/wait.ts';

const auth = { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` };

interface BoardQueue {
  name: string;
  counts: Record<string, number>;
  jobs: { id: string }[];
}

// Redis lets Conveyor's connections become ready, then answers nothing for 3 s: the queues' first
// handshakes (BullMQ's INFO) time out, BullMQ keeps that failure for the Queue's life and QueueSet
// builds new Queues, which the board must follow. (Redis down, or paused before the connections are
// ready, breaks nothing: BullMQ waits for the connection's ready event.)
describe('Bull Board after Redis was slow at start', function () {
  this.timeout(60_000);
  let server: RedisServer;
  let proxy: StallAfterReadyProxy;
  let consumer: ConsumerServer;
  let app: TestConveyor;

  before(async () => {
    server = await RedisServer.start();
    proxy = await StallAfterReadyProxy.start(server.port, 3_000);
    consumer = await new ConsumerServer().start();
    app = await startConveyor({
      roles: ['api', 'worker'],
      env: { REDIS_URL: proxy.url, REDIS_COMMAND_TIMEOUT: '1s', ADMIN_USER: 'ops', ADMIN_PASSWORD: 's3cret' },
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, max_attempts: 1, backoff: { delay_ms: 50, jitter: 0 } },
      }),
    });
  });

  after(async () => {
    await app?.running.stop();
    await app?.database.drop();
    await consumer?.stop();
    await proxy?.close();
    await server?.stop();
  });

  it('lists the queues with their job counts and retries a failed job once Redis answers', async () => {
    consumer.setScript([500], 200);
    const seen = await waitFor(
      async () => {
        const r = await app.post('/4.0/mark-notify/v1/seen', { tag: 'promotions', id: 'retry-me' });
        return r.status === 200 ? r : null;
      },
      { what: 'the API to accept a fact once Redis answers', timeoutMs: 15_000, intervalMs: 200 },
    );
    const id = seen.body.event_id as string;
    const queue = app.running.services.queues.get('notify.deliver-seen');
    await waitFor(async () => (await queue.getJobState(id).catch(() => null)) === 'failed', { what: 'the delivery to fail', timeoutMs: 15_000, intervalMs: 100 });

    const res = await fetch(`${app.url}/admin/queues/api/queues?activeQueue=notify.deliver-seen&status=failed`, { headers: auth });
    const text = await res.text();
    expect(res.status, text).to.equal(200);
    const listed = (JSON.parse(text) as { queues: BoardQueue[] }).queues.find((q) => q.name === 'notify.deliver-seen');
    expect(listed, 'the board lists the queue').to.not.equal(undefined);
    expect(listed!.counts.failed).to.equal(1);
    expect(listed!.jobs.map((j) => j.id)).to.deep.equal([id]);

    const retry = await fetch(`${app.url}/admin/queues/api/queues/notify.deliver-seen/${id}/retry`, { method: 'PUT', headers: auth });
    expect(retry.status, await retry.text()).to.be.within(200, 204);
    await waitFor(async () => (await queue.getJobState(id)) === 'completed', { what: 'the retried job to complete' });
    expect(consumer.received.filter((r) => r.body.id === 'retry-me')).to.have.length(2);
  });
});
