/**
 * Donations end to end: API accept → TransferMoney committed → `donate` event published, with many
 * senders to many rooms and with every sender to ONE room (a hot account), beside the raw ceiling
 * measured in the same run (the same two-row locked transfer issued directly through mysql2; each
 * phase is compared with the mean of the raw runs just before and just after it), and
 * the cost of CalculateNewSponsor + UpdateGoal with 10 thousand and 1 million donor rows; then the
 * latency of a donation (accepted → completed → ws frame) at half the measured uniform rate.
 *
 * Usage: npm run bench:donations -- [--duration 15] [--users 128] [--senders 2000] [--rooms 200] [--validation on|off]
 * The server under test runs in a child process (`--serve`, started by this script).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import mysql from 'mysql2/promise';
import { cliArgs } from './lib/args.ts';
import { serveChild } from './lib/child.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { startCpuMeter, startNodeScript, type ChildHandle } from './lib/processes.ts';
import { note, startPhase } from './lib/progress.ts';
import { RawHttpPool, requestBytes } from './lib/raw-http.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { LatencyHistogram } from './lib/stats.ts';
import { latencyAtRate, type LatencyFigure } from './donationLatency.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { wsExtension } from '../../src/ws/extension.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { createDb, dropDatabase, ensureDatabase, migrate, withTransaction, type Db } from '../../src/platform/db.ts';
import { makeEnvelope } from '../../queues/outbox/envelope.ts';
import { topUp } from '../../src/domain/chat/accounts.ts';
import { ReceiveMoney } from '../../src/domain/chat/events.ts';
import { applyToGoals, createGoal } from '../../src/domain/chat/goals.ts';
import { ensureParticipantIn, type Participant } from '../../src/domain/chat/participants.ts';
import { calculateSponsors } from '../../src/domain/chat/sponsors.ts';

const args = cliArgs({
  name: 'bench:donations',
  summary: 'Donations/s end to end (uniform and one hot room) against the raw mysql2 transfer ceiling; sponsor/goal cost at 10k and 1M donor rows.',
  defaults: { duration: 15, connections: 256 },
  options: {
    'users <n>': 'virtual users, each waiting for its donation to be published before the next (default --connections)',
    'senders <n>': 'viewers donating (default 2000)',
    'rooms <n>': 'rooms for the uniform phase (default 200)',
    'in-flight <n>': 'transfers in flight for the raw ceiling (default 32)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'env <k=v,...>': 'extra environment for the server under test (e.g. CHAT_JOB_BATCH=50)',
    'validation <on|off>': 'event schema checks by producers and consumers (EVENT_VALIDATION; default on): run once each way to see their cost',
    'workers <n>': 'worker processes beside the API process (default 1; 0 = one process with every role)',
    'flat-samples <n>': 'sponsor+goal calls timed per table size (default 1000)',
    'skip-flat': 'skip the 10k → 1M donor rows phase',
    'skip-latency': 'skip the latency phase at half the uniform maximum',
    'latency-rate <n>': 'donations/s of the latency phase (default half the uniform maximum)',
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 60)',
    'profile <dir>': 'write a V8 CPU profile of each server process into this directory (read it with Chrome DevTools)',
  },
});

const JWT_SECRET = 'bench-donations-secret-0123456789abcdef';
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);

// ---- child: the server under test -----------------------------------------------------------

if (args.flag('serve')) {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
  // The ws role (the latency phase's sockets) is attached as main.ts attaches it.
  const running = await start(config, config.roles, { metricsDefaults: false, extensions: config.roles.includes('ws') ? [wsExtension()] : [] });
  const child = serveChild({ stop: () => running.stop() });
  child.ready({ port: running.port });
} else {
  await main();
}

// ---- parent ---------------------------------------------------------------------------------

interface Seeded {
  db: Db;
  dbUrl: string;
  senders: { p: Participant; auth: string }[];
  rooms: Participant[];
}

async function seed(dbUrl: string, senders: number, rooms: number): Promise<Seeded> {
  await ensureDatabase(dbUrl);
  const db = createDb(dbUrl, 16);
  await migrate(db);
  const bar = startPhase('seed participants and balances', { counter: () => done, unit: 'rows' });
  let done = 0;
  const make = async (type: 'client' | 'model', n: number) => {
    const out: Participant[] = new Array(n);
    for (let i = 0; i < n; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, n - i) }, async (_, k) => {
          out[i + k] = await withTransaction(db, async (trx) => {
            const p = await ensureParticipantIn(trx, type, randomUUID(), `${type} ${i + k}`);
            if (type === 'client') await topUp(trx, p, 100_000_000);
            return p;
          });
          done++;
        }),
      );
    }
    return out;
  };
  const modelRows = await make('model', rooms);
  const clientRows = await make('client', senders);
  bar.done();
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
  const withAuth = await Promise.all(clientRows.map(async (p) => ({ p, auth: `Bearer ${await signToken(JWT_SECRET, { sub: p.uuid, role: 'client', exp })}` })));
  return { db, dbUrl, senders: withAuth, rooms: modelRows };
}

/** The transfer of transferMoney, statement for statement, straight through mysql2 (no knex, no HTTP, no queue). */
interface RawFigure {
  rate: number;
  p50: number;
  p99: number;
}

async function rawCeiling(mysqlBase: string, dbName: string, hot: boolean, inFlight: number, durationMs: number): Promise<RawFigure> {
  const pool = mysql.createPool({ uri: `${mysqlBase}/${dbName}`, connectionLimit: inFlight, supportBigNumbers: true });
  const accounts = 1000;
  const [res] = await pool.query(
    `INSERT INTO accounts (owner_type, owner_id, kind, balance, allow_negative, created_at, updated_at)
     SELECT 'bench', CONCAT(?, seq), 'raw', 0, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM seq_1_to_${accounts}`,
    [`${hot ? 'h' : 'u'}-${randomBytes(4).toString('hex')}-`],
  );
  const first = (res as { insertId: number }).insertId;
  const ids = Array.from({ length: accounts }, (_, i) => first + i);
  const histogram = new LatencyHistogram();
  let count = 0;
  const bar = startPhase(`raw mysql2 transfer, ${hot ? 'one hot account' : 'random pairs'}`, { totalMs: durationMs, counter: () => count, unit: 'transfers' });
  const endAt = performance.now() + durationMs;
  const worker = async () => {
    const conn = await pool.getConnection();
    try {
      while (performance.now() < endAt) {
        const from = ids[Math.floor(Math.random() * accounts)]!;
        let to = hot ? ids[0]! : ids[Math.floor(Math.random() * accounts)]!;
        if (to === from) to = from === ids[0] ? ids[1]! : ids[0]!;
        const t0 = performance.now();
        await conn.query('BEGIN');
        const [ins] = await conn.query(
          'INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, reference, created_at) VALUES (?, ?, ?, 100, ?, NULL, UTC_TIMESTAMP(3))',
          [`raw:${randomBytes(12).toString('hex')}`, from, to, 'bench'],
        );
        const transferId = (ins as { insertId: number }).insertId;
        await conn.query('SELECT id, balance, allow_negative FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE', [from, to]);
        await conn.query('UPDATE accounts SET balance = balance + CASE id WHEN ? THEN ? ELSE ? END, updated_at = UTC_TIMESTAMP(3) WHERE id IN (?, ?)', [from, -100, 100, from, to]);
        await conn.query(
          'INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at) VALUES (?, ?, -100, 0, UTC_TIMESTAMP(3)), (?, ?, 100, 0, UTC_TIMESTAMP(3))',
          [transferId, from, transferId, to],
        );
        await conn.query('COMMIT');
        histogram.record(performance.now() - t0);
        count++;
      }
    } finally {
      conn.release();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  await pool.end();
  const rate = (count * 1000) / durationMs;
  bar.done(`${fmt(rate)}/s`);
  const s = histogram.summary();
  return { rate, p50: s.p50, p99: s.p99 };
}

interface E2eFigure {
  rate: number;
  accepted: number;
  completed: number;
  rejected: number;
  p50: number;
  p99: number;
  /** Outbox rows not yet done when the window closed (goal/sponsor work still queued). */
  backlogAtEnd: number;
  /** How long the remaining work took to drain after the window, in ms. */
  drainMs: number;
  /** Donations per second counting the drain: the rate the whole pipeline sustained. */
  settledRate: number;
  cpu: Record<string, number>;
  errors: number;
  /** Per queue, from the outbox timestamps: ms from commit to relayed, and from relayed to done. */
  stages: Record<string, { rows: number; relayMs: number; jobMs: number }>;
  /** Per queue, from the last completed BullMQ jobs: events per job (an event batch row counts its events), ms waiting, ms running. */
  jobs: Record<string, { jobs: number; batch: number; waitMs: number; runMs: number }>;
  /** Database statements and row operations per completed donation over the window (all clients). */
  perDonation: Record<string, number>;
}

async function jobFigures(redis: Redis, prefix: string): Promise<E2eFigure['jobs']> {
  const out: E2eFigure['jobs'] = {};
  for (const name of ['chat.transfer-money', 'chat.save-donate', 'chat.update-goal', 'chat.calculate-sponsor']) {
    const queue = new Queue(name, { connection: redis, prefix });
    const done = (await queue.getCompleted(0, 199)).filter((j) => j.finishedOn && j.processedOn);
    await queue.close();
    if (done.length === 0) continue;
    const mean = (f: (j: (typeof done)[number]) => number) => Math.round((done.reduce((a, j) => a + f(j), 0) / done.length) * 10) / 10;
    out[name.replace('chat.', '')] = {
      jobs: done.length,
      batch: mean((j) => Number((j.returnvalue as { batch?: number } | null)?.batch ?? 0)),
      waitMs: mean((j) => j.processedOn! - j.timestamp),
      runMs: mean((j) => j.finishedOn! - j.processedOn!),
    };
  }
  return out;
}

async function stageTimes(db: Db, from: Date, to: Date): Promise<E2eFigure['stages']> {
  const [rows] = (await db.raw(
    `SELECT queue, COUNT(*) AS n,
            AVG(TIMESTAMPDIFF(MICROSECOND, created_at, relayed_at)) / 1000 AS relay_ms,
            AVG(TIMESTAMPDIFF(MICROSECOND, relayed_at, done_at)) / 1000 AS job_ms
     FROM outbox WHERE created_at BETWEEN ? AND ? AND status = 'done' GROUP BY queue ORDER BY queue`,
    [from, to],
  )) as [{ queue: string; n: number; relay_ms: number; job_ms: number }[]];
  return Object.fromEntries(rows.map((r) => [r.queue, { rows: Number(r.n), relayMs: Math.round(Number(r.relay_ms) * 10) / 10, jobMs: Math.round(Number(r.job_ms) * 10) / 10 }]));
}

/** Stage times over the window and the last jobs' batches, per queue, printed as one phase's notes. */
async function pipelineFigures(db: Db, redis: Redis, prefix: string, from: Date, to: Date, label: string): Promise<Pick<E2eFigure, 'stages' | 'jobs'>> {
  const stages = await stageTimes(db, from, to);
  note(`${label}stages (commit→relayed / relayed→done, ms): ${Object.entries(stages).map(([q, v]) => `${q.replace('chat.', '')} ${v.relayMs}/${v.jobMs}`).join(', ')}`);
  const jobs = await jobFigures(redis, prefix);
  note(`${label}jobs (events per job / wait ms / run ms): ${Object.entries(jobs).map(([q, v]) => `${q} ${v.batch}/${v.waitMs}/${v.runMs}`).join(', ')}`);
  return { stages, jobs };
}

/** The database server's CPU seconds so far (Linux /proc, local server only); null when unknown. */
function dbCpuSeconds(): number | null {
  try {
    const pid = execFileSync('pidof', ['mariadbd', 'mysqld'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The database server's statement and row counters (global, so other clients count too). */
async function dbCounters(db: Db): Promise<Record<string, number>> {
  const names = ['Questions', 'Com_commit', 'Com_insert', 'Com_update', 'Com_select', 'Handler_write', 'Handler_update', 'Handler_read_key', 'Handler_read_next', 'Bytes_received', 'Bytes_sent', 'Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Innodb_buffer_pool_reads', 'Innodb_pages_written'];
  const [rows] = (await db.raw(`SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map(() => '?').join(', ')})`, names)) as [{ Variable_name: string; Value: string }[]];
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

async function outboxBacklog(db: Db): Promise<number> {
  const [row] = (await db('outbox').whereNot('status', 'done').count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}

async function endToEnd(
  seeded: Seeded,
  server: ChildHandle<{ port: number }>[],
  port: number,
  subscriber: Redis,
  monitor: Redis,
  prefix: string,
  label: string,
  pickRoom: () => Participant,
  users: number,
  durationMs: number,
  warmupMs: number,
): Promise<E2eFigure> {
  const waiting = new Map<string, (type: string) => void>();
  const early = new Map<string, string>();
  const onMessage = (_pattern: string, _channel: string, message: string) => {
    const event = JSON.parse(message) as { type: string; data: { donation_id?: string } };
    const id = event.data.donation_id;
    if (!id || (event.type !== 'donate' && event.type !== 'donation_rejected')) return;
    const resolve = waiting.get(id);
    if (resolve) {
      waiting.delete(id);
      resolve(event.type);
    } else early.set(id, event.type);
  };
  subscriber.on('pmessage', onMessage);
  await subscriber.psubscribe(`${prefix}:chat:room:*`);

  const pool = new RawHttpPool({ host: '127.0.0.1', port, method: 'POST', connections: users, timeoutMs: 30_000 });
  const histogram = new LatencyHistogram();
  const t0 = performance.now();
  const windowFrom = new Date(Date.now() + warmupMs);
  const measureFrom = t0 + warmupMs;
  const endAt = measureFrom + durationMs;
  let accepted = 0;
  let completed = 0;
  let rejected = 0;
  let errors = 0;
  const bar = startPhase(label, { totalMs: warmupMs + durationMs, counter: () => completed, unit: 'published' });
  let cpuMeter: Awaited<ReturnType<typeof startCpuMeter>> | undefined;
  let db0: { cpu: number | null; at: number } | undefined;
  let counters0: Promise<Record<string, number>> | undefined;
  const meterAt = setTimeout(() => {
    db0 = { cpu: dbCpuSeconds(), at: performance.now() };
    counters0 = dbCounters(seeded.db);
    void startCpuMeter(server, monitor).then((m) => (cpuMeter = m));
  }, warmupMs);

  const user = async (u: number) => {
    let k = 0;
    while (performance.now() < endAt) {
      const sender = seeded.senders[(u + k * users) % seeded.senders.length]!;
      k++;
      const room = pickRoom();
      const body = JSON.stringify({ room: room.uuid, sum: '1.00' });
      const sent = performance.now();
      const res = await pool.request(requestBytes('POST', '/chat/donat/add', `127.0.0.1:${port}`, `authorization: ${sender.auth}\r\ncontent-type: application/json\r\n`, body)).catch(() => undefined);
      if (!res || res.status !== 201) {
        errors++;
        continue;
      }
      const id = (JSON.parse(res.body.toString('utf8')) as { donation_id: string }).donation_id;
      if (sent >= measureFrom) accepted++;
      const type =
        early.get(id) ??
        (await new Promise<string>((resolve) => {
          waiting.set(id, resolve);
          setTimeout(() => waiting.get(id) === resolve && (waiting.delete(id), resolve('timeout')), 60_000).unref();
        }));
      early.delete(id);
      const at = performance.now();
      if (sent >= measureFrom && at <= endAt) {
        if (type === 'donate') completed++;
        else if (type === 'donation_rejected') rejected++;
        else errors++;
        histogram.record(at - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: users }, (_, u) => user(u)));
  clearTimeout(meterAt);
  const cpu = (await cpuMeter?.stop()) ?? {};
  const db1 = dbCpuSeconds();
  const counters1 = await dbCounters(seeded.db);
  const start0 = (await counters0) ?? counters1;
  const perDonation = Object.fromEntries(Object.keys(counters1).map((k) => [k, Math.round(((counters1[k]! - (start0[k] ?? 0)) / Math.max(1, completed)) * 10) / 10]));
  if (db0?.cpu != null && db1 !== null) {
    cpu.db = Math.round(((db1 - db0.cpu) / ((performance.now() - db0.at) / 1000)) * 100) / 100;
    cpu.others = Math.max(0, Math.round(((cpu.others ?? 0) - cpu.db) * 100) / 100);
  }
  pool.close();
  const windowTo = new Date();
  const backlogAtEnd = await outboxBacklog(seeded.db);
  const drainStart = performance.now();
  while ((await outboxBacklog(seeded.db)) > 0) await new Promise((r) => setTimeout(r, 100));
  const drainMs = performance.now() - drainStart;
  await subscriber.punsubscribe();
  subscriber.off('pmessage', onMessage);
  const rate = (completed * 1000) / durationMs;
  const s = histogram.summary();
  const { stages, jobs } = await pipelineFigures(seeded.db, monitor, prefix, windowFrom, windowTo, '');
  note(`database per donation: ${Object.entries(perDonation).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  bar.done(`${fmt(rate)} donations/s, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, backlog ${backlogAtEnd} rows drained in ${(drainMs / 1000).toFixed(1)} s`);
  return { rate, accepted, completed, rejected, p50: s.p50, p99: s.p99, backlogAtEnd, drainMs, settledRate: (completed * 1000) / (durationMs + drainMs), cpu, errors, stages, jobs, perDonation };
}

interface FlatFigure {
  rows: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  plan: string;
}

/** CalculateNewSponsor + UpdateGoal in one transaction, timed against a room with `rows` donors. */
async function sponsorGoalCost(db: Db, room: Participant, rows: number, samples: number): Promise<FlatFigure> {
  const [have] = (await db('donor_totals').where('room', room.uuid).count({ n: '*' })) as { n: number }[];
  const missing = rows - Number(have!.n);
  const seedBar = startPhase(`seed ${fmt(rows)} donor rows`, {});
  for (let from = Number(have!.n); from < rows; from += 200_000) {
    const to = Math.min(rows, from + 200_000);
    await db.raw(
      `INSERT INTO donor_totals (room, client_uuid, total, updated_at)
       SELECT ?, CONCAT('donor-', seq), 100 + FLOOR(RAND() * 1000000), UTC_TIMESTAMP(3) FROM seq_${from + 1}_to_${to}`,
      [room.uuid],
    );
  }
  seedBar.done(`${fmt(Math.max(0, missing))} inserted`);
  await db.raw('ANALYZE TABLE donor_totals');
  const [explain] = (await db.raw('EXPLAIN SELECT client_uuid, total FROM donor_totals WHERE room = ? ORDER BY total DESC LIMIT 1', [room.uuid])) as [{ key: string; rows: number; Extra: string }[]];
  const plan = `${explain[0]?.key ?? '?'} (${explain[0]?.Extra ?? ''})`;
  const histogram = new LatencyHistogram();
  const bar = startPhase(`sponsor + goal, ${fmt(rows)} donor rows`, { counter: () => histogram.summary().count, unit: 'calls' });
  for (let i = 0; i < samples; i++) {
    const donor = `donor-${1 + Math.floor(Math.random() * rows)}`;
    const envelope = makeEnvelope(ReceiveMoney, { donation_id: randomUUID(), transfer_id: 1, room: room.uuid, sender_uuid: donor, sender_name: null, sum: 100 });
    const t0 = performance.now();
    // As a chat job runs it (a batch of one, the worst case per event), in READ COMMITTED.
    await db.transaction(
      async (trx) => {
        await calculateSponsors(trx, [envelope]);
        await applyToGoals(trx, [envelope]);
      },
      { isolationLevel: 'read committed' },
    );
    histogram.record(performance.now() - t0);
  }
  const s = histogram.summary();
  bar.done(`mean ${s.mean.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, plan ${plan}`);
  return { rows, meanMs: s.mean, p50Ms: s.p50, p99Ms: s.p99, plan };
}

async function main(): Promise<void> {
  const mysqlBase = args.str('mysql', 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
  const dbName = `conveyor_bench_${randomBytes(4).toString('hex')}`;
  const dbUrl = `${mysqlBase}/${dbName}`;
  const prefix = benchPrefix('bench-donations');
  const monitor = benchRedis(redisUrl);
  const subscriber = benchRedis(redisUrl, true);
  const users = args.num('users', args.connections);
  const inFlight = args.num('in-flight', 32);
  const durationMs = args.durationMs;
  const warmupMs = 3_000;
  const validation = args.str('validation', 'on');
  if (validation !== 'on' && validation !== 'off') throw new Error(`--validation takes on or off, got "${validation}"`);
  const extraEnv = {
    ...Object.fromEntries(args.str('env', '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const)),
    EVENT_VALIDATION: validation === 'on' ? 'true' : 'false',
  };

  note('waiting (up to 60 s) for the cores to be idle…');
  const busyBefore = await waitForIdle(args.num('idle-wait', 60) * 1000);
  const machine = await machineFacts({ redis: monitor, mysqlUrl: mysqlBase, busyBefore });
  const seeded = await seed(dbUrl, args.num('senders', 2000), args.num('rooms', 200));
  let server: ChildHandle<{ port: number }> | undefined;
  const servers: ChildHandle<{ port: number }>[] = [];
  try {
    // Each phase is compared with the mean of the raw runs right before and right after it: the
    // machine's speed drifts within minutes, and the neighbours' mean follows the drift.
    const raw = (hot: boolean) => rawCeiling(mysqlBase, dbName, hot, inFlight, durationMs);
    const rawHotBefore = await raw(true);
    const rawUniformBefore = await raw(false);

    const workers = args.num('workers', 1);
    const serverEnv = {
      NODE_ENV: 'production', JWT_SECRET, ADMIN_USER: 'bench', ADMIN_PASSWORD: 'bench-password', WS_ORIGINS: 'http://127.0.0.1', DATABASE_URL: dbUrl, REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', DB_POOL_MAX: '20',
      CHAT_DONATIONS_PER_MINUTE: '1000000', CHAT_MESSAGES_PER_MINUTE: '1000000', ...extraEnv,
    };
    const profileDir = args.str('profile', '');
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    server = await startNodeScript<{ port: number }>('scripts/bench/donations.ts', { name: 'conveyor', args: ['--serve'], nodeArgs, env: { ...serverEnv, ROLE: workers > 0 ? 'api,ws' : 'all' } });
    for (let i = 0; i < workers; i++) {
      servers.push(await startNodeScript<{ port: number }>('scripts/bench/donations.ts', { name: `worker${i + 1}`, args: ['--serve'], nodeArgs, env: { ...serverEnv, ROLE: 'worker' } }));
    }
    const port = server.info.port;
    const rooms = seeded.rooms;
    const all = [server, ...servers];
    const uniform = await endToEnd(seeded, all, port, subscriber, monitor, prefix, `e2e uniform: ${seeded.senders.length} senders → ${rooms.length} rooms`, () => rooms[Math.floor(Math.random() * rooms.length)]!, users, durationMs, warmupMs);
    // Conveyor's processes stay up, idle once the phase settled (its CPU shows under "others" if not).
    const rawUniformAfter = await raw(false);
    const hot = await endToEnd(seeded, all, port, subscriber, monitor, prefix, 'e2e hot: every sender → one room', () => rooms[0]!, users, durationMs, warmupMs);
    const latencyRate = args.num('latency-rate', 0);
    const measured = args.flag('skip-latency')
      ? null
      : await latencyAtRate({ port, prefix, subscriber, jwtSecret: JWT_SECRET, senders: seeded.senders, rooms, rate: latencyRate || Math.max(1, uniform.rate / 2), durationMs });
    // Per queue over the latency run: commit → relayed → done, and the jobs' batches.
    const latency: (LatencyFigure & Pick<E2eFigure, 'stages' | 'jobs'>) | null = measured
      ? { ...measured, ...(await pipelineFigures(seeded.db, monitor, prefix, measured.from, measured.to, 'latency ')) }
      : null;
    await Promise.all(all.map((c) => c.stop()));
    server = undefined;
    servers.length = 0;
    const rawHotAfter = await raw(true);
    const rawUniform = (rawUniformBefore.rate + rawUniformAfter.rate) / 2;
    const rawHot = (rawHotBefore.rate + rawHotAfter.rate) / 2;

    let flat: FlatFigure[] = [];
    if (!args.flag('skip-flat')) {
      const flatRoom = await withTransaction(seeded.db, (trx) => ensureParticipantIn(trx, 'model', randomUUID(), 'flat room'));
      for (const require of [100_00, 1_000_000_00]) await withTransaction(seeded.db, (trx) => createGoal(trx, flatRoom.uuid, 'flat', require));
      const samples = args.num('flat-samples', 1000);
      flat = [await sponsorGoalCost(seeded.db, flatRoom, 10_000, samples), await sponsorGoalCost(seeded.db, flatRoom, 1_000_000, samples)];
    }

    const ratios = {
      uniformVsRaw: ratio(uniform.rate, rawUniform),
      hotVsUniform: ratio(hot.rate, uniform.rate),
      hotVsRawHot: ratio(hot.rate, rawHot),
      ...(flat.length === 2 ? { flat1MVs10k: ratio(flat[1]!.meanMs, flat[0]!.meanMs) } : {}),
    };
    const serverCores = (c: Record<string, number>) => Object.entries(c).filter(([k]) => k === 'conveyor' || k.startsWith('worker')).reduce((a, [, v]) => a + v, 0);
    const cores = (c: Record<string, number>) => `${serverCores(c).toFixed(2)} / ${(c.db ?? 0).toFixed(2)} / ${(c.redis ?? 0).toFixed(2)} / ${(c.others ?? 0).toFixed(2)}`;
    const rawRow = (what: string, r: RawFigure): Cell[] => [`raw mysql2 transfer, ${what}`, `${fmt(r.rate)}/s`, r.p50.toFixed(2), r.p99.toFixed(2), '', '', ''];
    const rows: Cell[][] = [
      rawRow('one hot account (before)', rawHotBefore),
      rawRow('random pairs (before the uniform phase)', rawUniformBefore),
      ['Conveyor e2e, many senders → many rooms', `${fmt(uniform.rate)}/s`, uniform.p50.toFixed(1), uniform.p99.toFixed(1), `${fmt(uniform.settledRate)}/s`, cores(uniform.cpu), `${pct(ratios.uniformVsRaw)} of raw (target ≥ 80 %)`],
      [
        'rows written / updated per donation (uniform; the raw transfer writes 3 and updates 2 by construction)',
        `${uniform.perDonation.Handler_write ?? '?'} / ${uniform.perDonation.Handler_update ?? '?'}`, '', '', '', '',
        'MariaDB handler counters over the window (server-wide: other clients count too)',
      ],
      rawRow('random pairs (after the uniform phase)', rawUniformAfter),
      ['Conveyor e2e, all senders → one room', `${fmt(hot.rate)}/s`, hot.p50.toFixed(1), hot.p99.toFixed(1), `${fmt(hot.settledRate)}/s`, cores(hot.cpu), `${pct(ratios.hotVsUniform)} of uniform (target ≥ 30 %)`],
      ...(latency
        ? (['accepted', 'completed', 'frame'] as const).map((point): Cell[] => [
            `latency at ${fmt(latency.rate)}/s (${latencyRate ? 'as asked' : 'half the uniform rate'}): ${point === 'frame' ? 'ws frame' : point}`,
            `${latency.seen}/${latency.sent} seen`, latency[point].p50.toFixed(1), latency[point].p99.toFixed(1), '', '', point === 'frame' ? 'target p99 < 150 ms' : '',
          ])
        : []),
      rawRow('one hot account (after)', rawHotAfter),
      ...flat.map((f): Cell[] => [`sponsor + goal, ${fmt(f.rows)} donor rows`, `${f.meanMs.toFixed(2)} ms mean`, f.p50Ms.toFixed(2), f.p99Ms.toFixed(2), '', '', f.plan]),
    ];
    const notes = [
      `e2e = POST /chat/donat/add answered 201 → TransferMoney committed → 'donate' event received on the room's pub/sub channel; ${users} virtual users, each waiting for its event before its next donation; ${fmt(durationMs / 1000)} s measured after ${warmupMs / 1000} s warm-up.`,
      '"settled" counts the time after the window until every outbox row (goal, sponsor, history jobs) was done: the rate the whole pipeline sustains.',
      `cores = Conveyor's processes (${args.num('workers', 1) > 0 ? `one API + ${args.num('workers', 1)} worker` : 'one with every role'}) / MariaDB / Redis / everything else on the machine (other work sharing the cores).`,
      `raw = the transfer of transferMoney statement for statement through mysql2, ${inFlight} in flight, same database, same run; the uniform phase is compared with the mean of the random-pairs runs right before and after it (${fmt(rawUniform)}/s), the hot phase with the mean of the hot runs before and after all of Conveyor's phases (${fmt(rawHot)}/s).`,
      'latency = donations sent open-loop at half the uniform rate (or --latency-rate) to 20 rooms, each timed from its request to its 201 (accepted), to its `donate` event on Redis pub/sub (completed: TransferMoney moved the money and committed the event) and to that frame on a WebSocket joined to the room.',
      ...(flat.length === 2 ? [`sponsor + goal cost at 1M donor rows is ${pct(ratios.flat1MVs10k!)} of the cost at 10k (flat = about 100 %).`] : []),
    ];
    finish({
      bench: 'donations',
      machine,
      table: { columns: ['what', 'rate', 'p50 ms', 'p99 ms', 'settled', 'cores srv / db / redis / other', 'vs'], rows },
      figures: { rawUniform, rawHot, rawUniformBefore, rawUniformAfter, rawHotBefore, rawHotAfter, uniform, hot, latency, flat },
      ratios,
      params: { durationMs, warmupMs, users, senders: seeded.senders.length, rooms: rooms.length, inFlight, workers: args.num('workers', 1), env: extraEnv },
      notes,
    });
  } finally {
    await Promise.all([server, ...servers].map((c) => c?.stop()));
    await deletePrefix(monitor, prefix).catch(() => 0);
    monitor.disconnect();
    subscriber.disconnect();
    await seeded.db.destroy();
    if (!args.flag('keep')) await dropDatabase(dbUrl);
  }
}
