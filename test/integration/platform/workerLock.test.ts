import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';

const LOCK = { WORKER_LOCK_DURATION: '2s', WORKER_STALLED_INTERVAL: '1s' };

// Found by npm run chaos (worker-kill): with BullMQ's lock fixed at 30 s a killed worker's jobs
// waited 45–75 s. The lock and the stalled check are settings now.
describe('a killed worker: its job runs again after WORKER_LOCK_DURATION + WORKER_STALLED_INTERVAL', function () {
  this.timeout(60_000);
  let consumer: ConsumerServer;
  let app: TestConveyor;
  let child: ChildProcess | undefined;
  let survivor: Running | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-lock-'));

  before(async () => {
    consumer = await new ConsumerServer().start();
    const file = join(dir, 'integrations.json');
    writeFileSync(file, JSON.stringify({ promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 60_000, max_attempts: 5, remember_for: '1h' } }));
    app = await startConveyor({ roles: ['api'], env: { ...LOCK, INTEGRATIONS_FILE: file } });
  });
  after(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    await app?.stop();
    await consumer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a lock too short to be renewed in time', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', WORKER_LOCK_DURATION: '500ms' })).to.throw(/WORKER_LOCK_DURATION/);
  });

  it('delivers a fact whose worker was killed mid-delivery within a few seconds, by another worker', async () => {
    consumer.setScript(['hang'], 200);
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--role', 'worker'], {
      env: { ...process.env, ...LOCK, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: app.config.databaseUrl, REDIS_URL: TEST_REDIS, QUEUE_PREFIX: app.prefix, INTEGRATIONS_FILE: app.config.integrationsFile },
      stdio: 'ignore',
    });
    const seen = await app.post('/4.0/mark-notify/v1/seen', { tag: 'promotions', id: 'killed-mid-delivery' });
    expect(seen.status).to.equal(200);
    await waitFor(() => consumer.received.length === 1, { what: 'the child worker calling the consumer', timeoutMs: 30_000 });
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const killedAt = Date.now();
    survivor = await start(app.config, ['worker'], { metricsDefaults: false });
    await waitFor(() => consumer.received.length >= 2, { what: 'the survivor delivering it', timeoutMs: 20_000, intervalMs: 50 });
    const tookMs = Date.now() - killedAt;
    expect(consumer.received[1]!.body.event_id).to.equal(seen.body.event_id);
    // Lock 2 s + stalled check every 1 s, with room for a loaded machine; 30 s+ before.
    expect(tookMs, `redelivered ${tookMs} ms after the kill`).to.be.below(8_000);
  });
});
