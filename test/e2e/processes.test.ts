import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { dropDatabase } from '../../src/platform/db.ts';
import { deleteKeys } from '../helpers/conveyor.ts';
import { TEST_MYSQL, TEST_REDIS, uniqueName } from '../helpers/db.ts';
import { freePort } from '../helpers/redisServer.ts';
import { START_NODE_FLAGS } from '../../scripts/bench/lib/processes.ts';
import { waitFor } from '../helpers/wait.ts';

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function conveyor(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [...START_NODE_FLAGS, '--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const ready = (port: number) =>
  waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 30_000, intervalMs: 200, what: `port ${port} ready` });

describe('conveyor processes (npm start as users run it)', function () {
  this.timeout(90_000);
  const database = uniqueName('ce2e');
  const prefix = uniqueName('te2e');
  const procs: Proc[] = [];
  let env: Record<string, string>;
  let redis: Redis;

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-'));
    const integrations = join(dir, 'integrations.json');
    writeFileSync(integrations, JSON.stringify({ banners: { delivery: 'topic', topic: 'banners.seen' } }));
    env = {
      NODE_ENV: 'development',
      DATABASE_URL: `${TEST_MYSQL}/${database}`,
      REDIS_URL: TEST_REDIS,
      QUEUE_PREFIX: prefix,
      INTEGRATIONS_FILE: integrations,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });

  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    redis.disconnect();
    await deleteKeys(TEST_REDIS, prefix);
    await dropDatabase(`${TEST_MYSQL}/${database}`);
  });

  it('creates the database, serves, and drains on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const proc = conveyor(['start'], { ...env, PORT: String(port) });
    procs.push(proc);
    await ready(port);
    // Once up, one log line per place to go (JSON here: stdout is a pipe, not a terminal).
    await waitFor(async () => proc.output().includes(`"url":"http://127.0.0.1:${port}/metrics"`), { what: 'the URL lines' });
    for (const path of ['/', '/docs/', '/openapi.json', '/admin/queues', '/chat/', '/metrics']) expect(proc.output()).to.include(`"url":"http://127.0.0.1:${port}${path}"`);
    expect(proc.output()).to.include(`"url":"ws://127.0.0.1:${port}/ws"`);
    const res = await fetch(`http://127.0.0.1:${port}/4.0/mark-notify/v1/seen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tag":"banners","id":"e2e-1"}' });
    expect(res.status).to.equal(200);
    await waitFor(async () => (await redis.xlen(`${prefix}:topic:banners.seen`)) === 1, { what: 'the topic delivery' });
    const started = Date.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.equal(0);
    expect(Date.now() - started).to.be.below(30_000);
    expect(proc.output()).to.match(/"msg":"stopped"/);
  });

  it('runs roles in separate processes: the api accepts, a worker elsewhere delivers', async () => {
    const apiPort = await freePort();
    const api = conveyor(['start', '--role', 'api'], { ...env, PORT: String(apiPort) });
    const worker = conveyor(['start', '--role', 'worker,scheduler'], { ...env, PORT: String(await freePort()) });
    procs.push(api, worker);
    await ready(apiPort);
    const before = await redis.xlen(`${prefix}:topic:banners.seen`);
    const res = await fetch(`http://127.0.0.1:${apiPort}/4.0/mark-notify/v1/seen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tag":"banners","id":"e2e-2"}' });
    expect(res.status).to.equal(200);
    await waitFor(async () => (await redis.xlen(`${prefix}:topic:banners.seen`)) === before + 1, { what: 'delivery by the worker process', timeoutMs: 30_000 });
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited).to.equal(0);
    expect(await worker.exited).to.equal(0);
  });

  it('refuses to start with bad settings and names every one', async () => {
    const proc = conveyor(['start'], { ...env, PORT: 'x', REDIS_URL: 'nope', NODE_ENV: 'production' });
    procs.push(proc);
    expect(await proc.exited).to.equal(1);
    const out = proc.output();
    for (const name of ['PORT', 'REDIS_URL', 'JWT_SECRET', 'ADMIN_USER']) expect(out).to.include(name);
  });
});
