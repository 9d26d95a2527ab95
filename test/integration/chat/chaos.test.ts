import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { formatMoney } from '../../../src/domain/ledger/index.ts';
import { chatContracts } from '../../../queues/contracts/chat.ts';
import { actor, checkChatInvariants, GENEROUS_LIMITS, quiescent, startChat, topUp, type Actor } from './chatApp.ts';

const CHAT_QUEUES = Object.keys(chatContracts);

// Deletes every key matching the pattern atomically (KEYS is fine on a test Redis).
const WIPE = `local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
return #keys`;

/** A worker-only Conveyor in its own process, on the test's database and prefix, to kill with SIGKILL. */
function spawnWorker(app: TestConveyor): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--role', 'worker'], {
    env: {
      ...process.env, ...GENEROUS_LIMITS, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: app.config.databaseUrl,
      REDIS_URL: TEST_REDIS, QUEUE_PREFIX: app.prefix, OUTBOX_POLL: '100ms',
    },
    stdio: 'ignore',
  });
}

async function counts(app: TestConveyor): Promise<Record<string, number>> {
  const rows = (await app.database.db('donations').groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function activeJobs(app: TestConveyor): Promise<number> {
  const all = await Promise.all(CHAT_QUEUES.map((q) => app.running.services.queues.get(q).getActiveCount()));
  return all.reduce((a, b) => a + b, 0);
}

describe('chat: chaos — a worker killed mid-transfer and Redis wiped mid-run keep every invariant', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let admin: Actor;
  let rooms: Actor[];
  let clients: Actor[];
  let child: ChildProcess | undefined;
  let survivor: Running | undefined;
  let redis: Redis;

  before(async () => {
    // The API (and its relay) here; the workers elsewhere.
    app = await startChat({}, ['api']);
    redis = new Redis(TEST_REDIS, { protocol: 2 });
    admin = await actor(app, 'admin');
    rooms = await Promise.all([0, 1].map(() => actor(app, 'model')));
    clients = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => actor(app, 'client', `c${i}`)));
    for (const c of clients) await topUp(app, admin, c, '60.00');
    for (const room of rooms) expect((await app.post('/chat/goals', { name: 'g', require_sum: '120.00' }, room.auth)).status).to.equal(201);
  });

  after(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    redis.disconnect();
    // CHAT_TEST_KEEP=1 keeps the database and the keys for a post-mortem.
    const keep = Boolean(process.env.CHAT_TEST_KEEP);
    if (keep) console.log(`kept ${app.database.url} and the keys under ${app.prefix}:*`);
    await app.stop({ keep });
  });

  const donateMany = (n: number, seed: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) => {
        const client = clients[(i + seed) % clients.length]!;
        const room = rooms[(i * 7 + seed) % rooms.length]!;
        const cents = 100 + ((i * 37 + seed) % 900);
        const message = i % 5 === 0 ? { message: { message: `m${i}`, is_public: i % 10 === 0 } } : {};
        return app.post('/chat/donat/add', { room: room.uuid, sum: formatMoney(cents), ...message }, client.auth);
      }),
    );

  it('SIGKILL of the worker process while transfers run: every donation settles exactly once on a new worker', async () => {
    child = spawnWorker(app);
    const answers = await donateMany(400, 1);
    expect(answers.every((a) => a.status === 201)).to.equal(true);
    // Kill once the dead worker has settled some but not all of them.
    await waitFor(async () => { const c = await counts(app); return (c.completed ?? 0) + (c.rejected ?? 0) >= 40; }, { timeoutMs: 30_000, intervalMs: 10, what: 'the child worker to settle donations' });
    const activeAtKill = await activeJobs(app);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const atKill = await counts(app);
    expect(atKill.pending ?? 0, 'donations left pending by the killed worker').to.be.greaterThan(0);

    // The dead worker's locks would expire after WORKER_LOCK_DURATION; expire them now, then let the survivor's
    // stalled-job check move those jobs back to wait.
    survivor = await start(app.config, ['worker'], { metricsDefaults: false });
    const workers: Worker[] = survivor.workers;
    await waitFor(async () => {
      // BullMQ skips a stalled check for stalledInterval after the last one (the stalled-check key).
      const keys = [...(await redis.keys(`${app.prefix}:chat.*:lock`)), ...(await redis.keys(`${app.prefix}:chat.*:stalled-check`))];
      if (keys.length > 0) await redis.del(...keys);
      for (const w of workers) await w.startStalledCheckTimer();
      await sleep(200);
      return (await activeJobs(app)) === 0 || (await counts(app)).pending === undefined;
    }, { timeoutMs: 20_000, what: 'stalled jobs back in wait' });
    await quiescent(app.database.db, 30_000);
    const report = await checkChatInvariants(app.database.db);
    expect(report.completed + report.rejected).to.equal(400);
    expect(report.pending).to.equal(0);
    if (process.env.CHAT_TEST_VERBOSE) console.log({ activeAtKill, atKill });
  });

  it('every key of the prefix deleted mid-run: the reconciler restores the jobs, history is rebuilt from MySQL', async () => {
    expect(survivor).to.not.equal(undefined);
    for (const c of clients) await topUp(app, admin, c, '20.00');
    const burst = donateMany(300, 5);
    await waitFor(async () => ((await counts(app)).pending ?? 0) > 0 && (await activeJobs(app)) >= 0, { what: 'donations in flight' });
    await sleep(150);
    // Every key of the prefix at one instant, as a Redis that restarts without AOF loses them. (A
    // SCAN-and-UNLINK pass while workers run tears jobs apart instead: see the report.)
    const wiped = (await redis.eval(WIPE, 0, `${app.prefix}:*`)) as number;
    expect(wiped).to.be.greaterThan(0);
    const answers = await burst;
    // Requests in flight during the wipe may have been refused with 503; none may have half-happened.
    expect(answers.every((a) => a.status === 201 || a.status === 503)).to.equal(true);
    await waitFor(async () => {
      // A pass that loses a deadlock to a running job is simply run again (as the reconciler's timer would).
      await survivor!.reconciler!.runOnce(Date.now() + 60_000).catch(() => 0);
      const [row] = (await app.database.db('outbox').whereNot('status', 'done').count({ n: '*' })) as { n: number }[];
      return Number(row!.n) === 0;
    }, { timeoutMs: 30_000, intervalMs: 300, what: 'every outbox row done after the wipe' }).catch(async (err: unknown) => {
      const stuck = await app.database.db('outbox').whereNot('status', 'done').select('id', 'queue', 'status', 'relayed_at', 'relay_count').limit(10);
      const states = await Promise.all(stuck.map(async (r: { id: number; queue: string }) => (await app.running.services.queues.get(r.queue).getJob(`ob-${r.id}`))?.getState()));
      const jobs = await Promise.all(stuck.map(async (r: { id: number; queue: string }) => { const j = await app.running.services.queues.get(r.queue).getJob(`ob-${r.id}`); return j ? { made: j.attemptsMade, reason: j.failedReason } : null; }));
      console.log(JSON.stringify({ stuck, states, jobs }, null, 1));
      throw err;
    });
    const report = await checkChatInvariants(app.database.db);
    expect(report.pending).to.equal(0);
    expect(report.completed + report.rejected).to.equal(400 + answers.filter((a) => a.status === 201).length);

    // The list was lost with the wipe and pushes skip a missing list, so this read rebuilds it from
    // chat_events: the answer is exactly what MySQL implies (newest 200, visible, last 20 by time).
    for (const room of rooms) {
      const history = (await app.get(`/chat/event/history?room=${room.uuid}`, room.auth)).body.events as { event_id: string }[];
      const newest = (await app.database.db('chat_events').where('room', room.uuid).orderBy('id', 'desc').limit(200).select('event_id', 'at', 'audience')) as { event_id: string; at: Date; audience: string | null }[];
      const expected = newest
        .reverse()
        .filter((e) => e.audience === null || (JSON.parse(e.audience) as string[]).includes(room.uuid))
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .slice(-20)
        .map((e) => e.event_id);
      expect(expected.length).to.be.greaterThan(0);
      expect(history.map((e) => e.event_id)).to.deep.equal(expected);
    }
  });
});
