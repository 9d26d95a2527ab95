import { expect } from 'chai';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { Scheduler, schedule } from '../../../queues/scheduler.ts';
import { contracts } from '../../../queues/contracts/index.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { RedisServer } from '../../helpers/redisServer.ts';
import { createRedis } from '../../../src/platform/redis.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('operations: health, metrics, OpenAPI, Bull Board, schedulers', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let consumer: ConsumerServer;

  before(async () => {
    consumer = await new ConsumerServer().start();
    app = await startConveyor({
      env: { ADMIN_USER: 'ops', ADMIN_PASSWORD: 's3cret' },
      integrations: parseIntegrations({
        promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, max_attempts: 1, backoff: { delay_ms: 50, jitter: 0 } },
      }),
    });
  });
  after(async () => {
    await app.stop();
    await consumer.stop();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await app.get('/healthz')).body).to.deep.equal({ success: true, status: 'ok' });
    const ready = await app.get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.checks).to.deep.equal({ redis: { ok: true, eviction_policy: 'noeviction' }, mysql: { ok: true } });
  });

  it('exports Prometheus metrics for HTTP, queues and the outbox', async () => {
    await app.post('/4.0/mark-notify/v1/seen', { tag: 'promotions', id: 'm-1' });
    await waitFor(() => consumer.received.length === 1, { what: 'the delivery' });
    const res = await fetch(`${app.url}/metrics`);
    expect(res.headers.get('content-type')).to.match(/text\/plain/);
    const text = await res.text();
    expect(text).to.match(/conveyor_http_requests_total\{method="POST",route="\/4\.0\/mark-notify\/v1\/seen",status="200"\} 1/);
    expect(text).to.match(/conveyor_queue_jobs\{queue="notify\.deliver-seen",state="\w+"\} \d+/);
    expect(text).to.match(/conveyor_outbox_rows\{status="pending"\} 0/);
    expect(text).to.include('conveyor_job_duration_seconds_bucket');
  });

  it('serves an OpenAPI document describing the mounted routes', async () => {
    const doc = (await app.get('/openapi.json')).body;
    expect(doc.openapi).to.equal('3.1.0');
    const seen = doc.paths['/4.0/mark-notify/v1/seen'];
    expect(seen.post.requestBody.content['application/json'].schema.required).to.deep.equal(['tag', 'id']);
    expect(seen.get.parameters.map((p: { name: string }) => p.name)).to.deep.equal(['tag', 'id']);
    expect(doc.paths['/readyz'].get.summary).to.be.a('string');
  });

  it('guards Bull Board, static assets included, with HTTP Basic', async () => {
    const page = await fetch(`${app.url}/admin/queues`);
    expect(page.status).to.equal(401);
    expect(page.headers.get('www-authenticate')).to.match(/^Basic/);
    expect((await fetch(`${app.url}/admin/queues`, { headers: { authorization: basic('ops', 'wrong') } })).status).to.equal(401);
    const ok = await fetch(`${app.url}/admin/queues`, { headers: { authorization: basic('ops', 's3cret') } });
    expect(ok.status).to.equal(200);
    const html = await ok.text();
    const asset = /(?:src|href)="([^"]+\.(?:js|css))"/.exec(html)?.[1];
    expect(asset, 'the board page links its assets').to.be.a('string');
    const assetUrl = new URL(asset!, `${app.url}/admin/queues/`).toString();
    expect((await fetch(assetUrl)).status).to.equal(401);
    expect((await fetch(assetUrl, { headers: { authorization: basic('ops', 's3cret') } })).status).to.equal(200);
  });

  it('lists every queue in Bull Board and retries a failed job through its API', async () => {
    const auth = { authorization: basic('ops', 's3cret') };
    const list = (await (await fetch(`${app.url}/admin/queues/api/queues`, { headers: auth })).json()) as { queues: { name: string }[] };
    expect(list.queues.map((q) => q.name).sort()).to.deep.equal(Object.keys(contracts).sort());

    consumer.setScript([500], 200);
    const res = await app.post('/4.0/mark-notify/v1/seen', { tag: 'promotions', id: 'retry-me' });
    const queue = app.running.services.queues.get('notify.deliver-seen');
    const id = res.body.event_id as string;
    await waitFor(async () => (await queue.getJobState(id)) === 'failed', { what: 'the job to fail' });

    const retry = await fetch(`${app.url}/admin/queues/api/queues/notify.deliver-seen/${id}/retry`, { method: 'PUT', headers: auth });
    expect(retry.status).to.be.within(200, 204);
    await waitFor(async () => (await queue.getJobState(id)) === 'completed', { what: 'the retried job to complete' });
    expect(consumer.received.filter((r) => r.body.id === 'retry-me')).to.have.length(2);
  });

  it('registers job schedulers idempotently, runs cron with seconds, and re-registers after Redis loses them', async () => {
    const services = app.running.services;
    const everySecond = schedule({ id: 'test.prune-every-second', contract: contracts['platform.prune'], pattern: '* * * * * *', payload: { outbox_retention_ms: 0, idempotency_retention_ms: 0 } });
    const scheduler = new Scheduler(services.queues, services.redis, [everySecond], services.log, { tz: 'UTC', checkEveryMs: 60_000 });
    await scheduler.registerAll();
    await scheduler.registerAll();
    const queue = services.queues.get('platform.prune');
    const ids = (await queue.getJobSchedulers()).map((s) => s.key);
    expect(ids.filter((k) => k === 'test.prune-every-second')).to.have.length(1);
    await waitFor(async () => (await queue.getCompletedCount()) >= 1, { what: 'a scheduled prune to run', timeoutMs: 5000 });

    expect(await scheduler.check()).to.equal(false);
    await deleteKeys(TEST_REDIS, app.prefix);
    expect(await queue.getJobSchedulers()).to.deep.equal([]);
    expect(await scheduler.check()).to.equal(true);
    expect((await queue.getJobSchedulers()).map((s) => s.key)).to.include('test.prune-every-second');
    await waitFor(async () => (await queue.getCompletedCount()) >= 1, { what: 'a prune after re-registering', timeoutMs: 5000 });
    await queue.removeJobScheduler('test.prune-every-second');
  });

  it('starts even when Redis does not answer yet, and the first check that reaches it registers the schedulers', async () => {
    const services = app.running.services;
    const payload = { outbox_retention_ms: 0, idempotency_retention_ms: 0 };
    const later = schedule({ id: 'test.later', contract: contracts['platform.prune'], pattern: '0 0 1 1 *', payload });
    // The scheduler's own connection (its sentinel) goes to a server that is down at start.
    const server = await RedisServer.start();
    await server.kill();
    const redis = createRedis(server.url, 'producer');
    redis.on('error', () => undefined);
    const scheduler = new Scheduler(services.queues, redis, [later], services.log, { tz: 'UTC', checkEveryMs: 200 });
    try {
      await scheduler.start();
      await server.run();
      const sentinel = server.client();
      try {
        await waitFor(async () => (await sentinel.exists(`${services.queues.prefix}:schedulers:registered`)) === 1, { what: 'a check to register them once Redis answers', timeoutMs: 10_000 });
      } finally {
        sentinel.disconnect();
      }
      expect(await services.queues.get('platform.prune').getJobScheduler('test.later')).to.include({ key: 'test.later' });
    } finally {
      scheduler.stop();
      redis.disconnect();
      await services.queues.get('platform.prune').removeJobScheduler('test.later');
      await server.stop();
    }
  });

  it('brings back, at the next check, a job scheduler deleted on its own (as Bull Board does), and leaves the others alone', async () => {
    const services = app.running.services;
    const payload = { outbox_retention_ms: 0, idempotency_retention_ms: 0 };
    const kept = schedule({ id: 'test.kept', contract: contracts['platform.prune'], pattern: '0 0 1 1 *', payload });
    const deleted = schedule({ id: 'test.deleted', contract: contracts['platform.prune'], pattern: '0 0 1 1 *', payload });
    const scheduler = new Scheduler(services.queues, services.redis, [kept, deleted], services.log, { tz: 'UTC', checkEveryMs: 200 });
    const queue = services.queues.get('platform.prune');
    await scheduler.start();
    try {
      const keptBefore = await queue.getJobScheduler('test.kept');
      expect(await scheduler.check()).to.equal(false);
      // What Bull Board's "remove" on the schedulers page calls; the sentinel key stays.
      expect(await queue.removeJobScheduler('test.deleted')).to.equal(true);
      expect(await queue.getJobScheduler('test.deleted')).to.equal(undefined);
      await waitFor(async () => (await queue.getJobScheduler('test.deleted')) !== undefined, { what: 'the scheduler check to bring it back', timeoutMs: 5000 });
      const back = await queue.getJobScheduler('test.deleted');
      expect(back).to.include({ key: 'test.deleted', pattern: '0 0 1 1 *' });
      // The one nobody touched was not re-upserted: its next run did not move.
      expect((await queue.getJobScheduler('test.kept'))?.next).to.equal(keptBefore?.next);
    } finally {
      scheduler.stop();
      await queue.removeJobScheduler('test.kept');
      await queue.removeJobScheduler('test.deleted');
    }
  });
});
