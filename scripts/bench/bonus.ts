/**
 * Bonus events end to end — POST /events (ListingPublished) → recorded once by event_id →
 * bonus.apply-event applied to the user's actor (row lock, transition, listing, notification, hold
 * timer) — for many users and for ONE very active user, beside the bare BullMQ no-op worker
 * ceiling measured in the same run; then the link re-check cron over 100 thousand waiting users
 * against an accounts service, timed against its 15-minute period.
 *
 * Usage: npm run bench:bonus -- [--duration 15] [--connections 64] [--users 20000] [--waiting 100000]
 * The server under test (`--serve`) and the accounts service (`--accounts`) run in child processes.
 */
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
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
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { workerDrainCeiling } from './ceilings/measure.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { createDb, dropDatabase, ensureDatabase, migrate, type Db } from '../../src/platform/db.ts';

const args = cliArgs({
  name: 'bench:bonus',
  summary: 'Listing events/s end to end (many users, one very active user) beside the bare BullMQ no-op ceiling; the link re-check over 100k waiting users.',
  defaults: { duration: 15, connections: 64 },
  options: {
    'users <n>': 'distinct users of the many-users phase (default 20000)',
    'waiting <n>': 'users waiting for a link in the re-check phase (default 100000)',
    'linked-every <n>': 'the accounts service reports a link for one user in n (default 100)',
    'jobs <n>': 'jobs for the no-op ceiling drain (default 20000)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'env <k=v,...>': 'extra environment for the server under test (e.g. WORKER_CONCURRENCY_SCALE=2)',
    'skip-recheck': 'skip the re-check phase',
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 60)',
  },
});

const JWT_SECRET = 'bench-bonus-secret-0123456789abcdef0123';
// The upstream listings service's identity: a token's sub is always a lowercase uuid.
const LISTINGS_SERVICE = '00000000-0000-4000-8000-00000000b0b0';
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const PERIOD_MS = 15 * 60_000;

// ---- parent ------------------------------------------------------------------------------------

const DESCRIPTION = 'A solid oak dining table for six, bought two years ago, no scratches, pick-up only from the city centre, evenings.';

function listingBody(userId: string, listingId: string): string {
  return JSON.stringify({
    event_id: randomUUID(),
    event_name: 'ListingPublished',
    event_version: 1,
    produced_at: new Date().toISOString(),
    payload: { listing_id: listingId, user_id: userId, title: 'Oak table', description: DESCRIPTION, photos_count: 5, price: 15000 },
  });
}

interface E2eFigure {
  /** Events answered 200 by POST /events inside the window, per second. */
  acceptedRate: number;
  /** Events applied to their actor inside the window, per second. */
  appliedRate: number;
  /** Events of the window over the window plus the time the backlog took to drain. */
  settledRate: number;
  httpP50: number;
  httpP99: number;
  /** Accept (outbox row written) → applied (outbox row done), ms. */
  applyP50: number;
  applyP99: number;
  /** Averages over the window's events: accept → relayed to BullMQ, relayed → applied (ms). */
  relayMs: number;
  jobMs: number;
  backlogAtEnd: number;
  drainMs: number;
  errors: number;
  cpu: Record<string, number>;
}

async function applyBacklog(db: Db): Promise<number> {
  const [row] = (await db('outbox').where('queue', 'bonus.apply-event').whereNot('status', 'done').count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}

async function endToEnd(
  db: Db,
  server: ChildHandle<{ port: number }>,
  monitor: ReturnType<typeof benchRedis>,
  label: string,
  pickUser: () => string,
  connections: number,
  durationMs: number,
  warmupMs: number,
): Promise<E2eFigure> {
  const port = server.info.port;
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const auth = `Bearer ${await signToken(JWT_SECRET, { sub: LISTINGS_SERVICE, role: 'service', exp })}`;
  const pool = new RawHttpPool({ host: '127.0.0.1', port, method: 'POST', connections, timeoutMs: 30_000 });
  const http = new LatencyHistogram();
  const measureFrom = performance.now() + warmupMs;
  const endAt = measureFrom + durationMs;
  let windowFrom = new Date(Date.now() + warmupMs);
  let accepted = 0;
  let errors = 0;
  let listing = 0;
  const bar = startPhase(label, { totalMs: warmupMs + durationMs, counter: () => accepted, unit: 'accepted' });
  let cpuMeter: Awaited<ReturnType<typeof startCpuMeter>> | undefined;
  const meterAt = setTimeout(() => {
    windowFrom = new Date();
    void startCpuMeter([server], monitor).then((m) => (cpuMeter = m));
  }, warmupMs);
  const producer = async () => {
    while (performance.now() < endAt) {
      const body = listingBody(pickUser(), `L${++listing}`);
      const sent = performance.now();
      const res = await pool.request(requestBytes('POST', '/events', `127.0.0.1:${port}`, `authorization: ${auth}\r\ncontent-type: application/json\r\n`, body)).catch(() => undefined);
      const at = performance.now();
      if (!res || res.status !== 200) {
        errors++;
        continue;
      }
      if (sent >= measureFrom && at <= endAt) {
        accepted++;
        http.record(at - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, producer));
  clearTimeout(meterAt);
  const cpu = (await cpuMeter?.stop()) ?? {};
  pool.close();
  const windowTo = new Date();
  const backlogAtEnd = await applyBacklog(db);
  const drainStart = performance.now();
  while ((await applyBacklog(db)) > 0) await new Promise((r) => setTimeout(r, 100));
  const drainMs = performance.now() - drainStart;

  const [applied] = (await db.raw(
    `SELECT COUNT(*) AS n FROM outbox WHERE queue = 'bonus.apply-event' AND done_at BETWEEN ? AND ?`,
    [windowFrom, windowTo],
  )) as [{ n: number }[]];
  const [lat] = (await db.raw(
    `SELECT TIMESTAMPDIFF(MICROSECOND, created_at, done_at) / 1000 AS ms FROM outbox
     WHERE queue = 'bonus.apply-event' AND created_at BETWEEN ? AND ? ORDER BY ms`,
    [windowFrom, windowTo],
  )) as [{ ms: number }[]];
  const q = (p: number) => Number(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]?.ms ?? 0);
  const [stages] = (await db.raw(
    `SELECT AVG(TIMESTAMPDIFF(MICROSECOND, created_at, relayed_at)) / 1000 AS relay_ms, AVG(TIMESTAMPDIFF(MICROSECOND, relayed_at, done_at)) / 1000 AS job_ms
     FROM outbox WHERE queue = 'bonus.apply-event' AND created_at BETWEEN ? AND ?`,
    [windowFrom, windowTo],
  )) as [{ relay_ms: number; job_ms: number }[]];
  const seconds = (windowTo.getTime() - windowFrom.getTime()) / 1000;
  const s = http.summary();
  const fig: E2eFigure = {
    acceptedRate: accepted / (durationMs / 1000),
    appliedRate: Number(applied[0]!.n) / seconds,
    settledRate: lat.length / (seconds + drainMs / 1000),
    httpP50: s.p50,
    httpP99: s.p99,
    applyP50: q(0.5),
    applyP99: q(0.99),
    relayMs: Math.round(Number(stages[0]?.relay_ms ?? 0)),
    jobMs: Math.round(Number(stages[0]?.job_ms ?? 0)),
    backlogAtEnd,
    drainMs,
    errors,
    cpu,
  };
  bar.done(`${fmt(fig.acceptedRate)} accepted/s, ${fmt(fig.appliedRate)} applied/s, settled ${fmt(fig.settledRate)}/s; backlog ${backlogAtEnd} drained in ${(drainMs / 1000).toFixed(1)} s; accept→relayed ${fig.relayMs} ms, relayed→applied ${fig.jobMs} ms`);
  return fig;
}

interface RawFigure {
  rate: number;
  p50: number;
  p99: number;
}

/**
 * The SQL one listing event costs, statement for statement, straight through mysql2 with
 * `inFlight` events at a time: no HTTP, no Redis, no knex. The accept transaction (event id,
 * outbox row), then the apply transaction (outbox row lock, user row lock + read, listing read,
 * state write, listing write, hold outbox row, notification, outbox row done). For one user, the
 * later events are fallback listings: no state write, hold or notification, as in Conveyor.
 */
async function rawCeiling(dbUrl: string, hot: boolean, inFlight: number, durationMs: number): Promise<RawFigure> {
  const pool = mysql.createPool({ uri: dbUrl, connectionLimit: inFlight, supportBigNumbers: true });
  const histogram = new LatencyHistogram();
  const tag = randomBytes(4).toString('hex');
  let count = 0;
  const bar = startPhase(`raw mysql2, the SQL of one event, ${hot ? 'one user' : 'many users'}`, { totalMs: durationMs, counter: () => count, unit: 'events' });
  const endAt = performance.now() + durationMs;
  const worker = async (w: number) => {
    const conn = await pool.getConnection();
    try {
      for (let k = 0; performance.now() < endAt; k++) {
        const user = hot ? `raw-hot-${tag}` : `raw-${tag}-${w}-${k}`;
        const listing = `L${w}-${k}`;
        const now = new Date();
        const t0 = performance.now();
        await conn.query('BEGIN');
        await conn.query('INSERT IGNORE INTO processed_events (event_id, event_name, event_version, payload_hash, received_at) VALUES (?, ?, 1, ?, ?)', [randomUUID(), 'ListingPublished', 'h'.repeat(64), now]);
        const [ins] = await conn.query(
          "INSERT INTO outbox (queue, job_name, payload_version, payload, event_id, status, available_at, created_at) VALUES ('raw', 'raw', 1, ?, ?, 'pending', ?, ?)",
          [listingBody(user, listing), randomUUID(), now, now],
        );
        await conn.query('COMMIT');
        const outboxId = (ins as { insertId: number }).insertId;
        await conn.query('BEGIN');
        await conn.query('SELECT status FROM outbox WHERE id = ? FOR UPDATE', [outboxId]);
        const [state] = await conn.query(
          `INSERT INTO bonus_state (user_id, state, hold_seq, points_granted, problems, created_at, updated_at) VALUES (?, 'idle', 0, 0, '', ?, ?)
           ON DUPLICATE KEY UPDATE user_id = user_id RETURNING user_id, state, listing_id, grant_at, hold_seq, yandex_uid, last_grant_at, points_granted, problems`,
          [user, now, now],
        );
        await conn.query('SELECT listing_id, status, failed, content_at, first_seen_at FROM bonus_listings WHERE user_id = ? AND listing_id = ?', [user, listing]);
        const first = (state as { state: string }[])[0]?.state === 'idle';
        if (first) {
          await conn.query(
            'UPDATE bonus_state SET state = ?, listing_id = ?, grant_at = ?, hold_seq = ?, yandex_uid = ?, last_grant_at = ?, points_granted = ?, problems = ?, updated_at = ? WHERE user_id = ?',
            ['holding', listing, now, 1, null, null, 0, '', now, user],
          );
        }
        await conn.query(
          `INSERT INTO bonus_listings (user_id, listing_id, status, failed, content_at, first_seen_at, updated_at) VALUES (?, ?, 'good', '', ?, ?, ?)
           ON DUPLICATE KEY UPDATE status = VALUES(status), failed = VALUES(failed), content_at = VALUES(content_at), updated_at = VALUES(updated_at)`,
          [user, listing, Date.now(), now, now],
        );
        if (first) {
          await conn.query(
            "INSERT INTO outbox (queue, job_name, payload_version, payload, event_id, status, available_at, created_at) VALUES ('raw-hold', 'raw-hold', 1, '{}', NULL, 'done', ?, ?)",
            [now, now],
          );
          await conn.query(
            "INSERT INTO notifications (user_id, kind, title, body, mail_subject, mail_body, data, created_at) VALUES (?, 'bonus_pending', 't', 'b', 's', 'm', '{}', ?)",
            [user, now],
          );
        }
        await conn.query("UPDATE outbox SET status = 'done', done_at = ? WHERE id = ?", [now, outboxId]);
        await conn.query('COMMIT');
        histogram.record(performance.now() - t0);
        count++;
      }
    } finally {
      conn.release();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  await pool.end();
  const rate = (count * 1000) / durationMs;
  bar.done(`${fmt(rate)} events/s`);
  const s = histogram.summary();
  return { rate, p50: s.p50, p99: s.p99 };
}

interface RecheckFigure {
  waiting: number;
  checked: number;
  linked: number;
  durationMs: number;
  usersPerSec: number;
  /** Share of the 15-minute cron period the pass took. */
  ofPeriod: number;
  asked: number;
}

async function seedWaiting(db: Db, n: number): Promise<void> {
  const bar = startPhase(`seed ${fmt(n)} users waiting for a link`, {});
  for (let from = 0; from < n; from += 50_000) {
    const to = Math.min(n, from + 50_000);
    await db.raw(
      `INSERT INTO bonus_state (user_id, state, listing_id, hold_seq, points_granted, problems, created_at, updated_at)
       SELECT CONCAT('wait-', seq), 'waiting_link', 'L1', 1, 0, '', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM seq_${from + 1}_to_${to}`,
    );
    await db.raw(
      `INSERT INTO bonus_listings (user_id, listing_id, status, failed, content_at, first_seen_at, updated_at)
       SELECT CONCAT('wait-', seq), 'L1', 'good', '', NULL, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM seq_${from + 1}_to_${to}`,
    );
  }
  await db.raw('ANALYZE TABLE bonus_state');
  bar.done();
}

async function recheck(db: Db, prefix: string, accounts: ChildHandle<{ port: number }>, waiting: number): Promise<RecheckFigure> {
  await seedWaiting(db, waiting);
  const redis = benchRedis(redisUrl);
  const queue = new Queue('bonus.recheck-links', { connection: redis, prefix });
  try {
    const job = await queue.add('bonus.recheck-links', { v: 1, payload: {} }, { attempts: 1, removeOnComplete: false });
    const bar = startPhase(`re-check ${fmt(waiting)} waiting users`, {});
    for (;;) {
      const state = await queue.getJobState(job.id!);
      if (state === 'completed' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const done = (await queue.getJob(job.id!))!;
    if (done.failedReason) throw new Error(`re-check failed: ${done.failedReason}`);
    const report = done.returnvalue as { checked: number; linked: number; durationMs: number };
    bar.done(`${fmt(report.checked)} checked, ${fmt(report.linked)} linked and paid in ${(report.durationMs / 1000).toFixed(1)} s`);
    return {
      waiting,
      checked: report.checked,
      linked: report.linked,
      durationMs: report.durationMs,
      usersPerSec: (report.checked * 1000) / report.durationMs,
      ofPeriod: report.durationMs / PERIOD_MS,
      asked: await accounts.request<number>('asked'),
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const mysqlBase = args.str('mysql', 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
  const dbUrl = `${mysqlBase}/conveyor_bench_${randomBytes(4).toString('hex')}`;
  const prefix = benchPrefix('bench-bonus');
  const monitor = benchRedis(redisUrl);
  const durationMs = args.durationMs;
  const warmupMs = 3_000;
  const connections = args.connections;
  const users = args.num('users', 20_000);
  const waiting = args.num('waiting', 100_000);
  const extraEnv = Object.fromEntries(
    args.str('env', '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
  );

  note('waiting (up to 60 s) for the cores to be idle…');
  const busyBefore = await waitForIdle(args.num('idle-wait', 60) * 1000);
  const machine = await machineFacts({ redis: monitor, mysqlUrl: mysqlBase, busyBefore });
  await ensureDatabase(dbUrl);
  const db = createDb(dbUrl, 8);
  await migrate(db);
  let server: ChildHandle<{ port: number }> | undefined;
  let accounts: ChildHandle<{ port: number }> | undefined;
  try {
    // The same concurrency as bonus.apply-event, so the ceiling is the queue a listener could reach.
    const [ceiling] = await workerDrainCeiling({ durationMs, prefix, redisUrl, monitor, jobs: args.num('jobs', 20_000), concurrencies: [16] });
    const rawMany = await rawCeiling(dbUrl, false, 16, durationMs);
    const rawOne = await rawCeiling(dbUrl, true, 16, durationMs);

    accounts = await startNodeScript<{ port: number }>('scripts/bench/bonus.ts', { name: 'accounts', args: ['--accounts', '--linked-every', String(args.num('linked-every', 100))] });
    server = await startNodeScript<{ port: number }>('scripts/bench/bonus.ts', {
      name: 'conveyor',
      args: ['--serve'],
      env: {
        NODE_ENV: 'production', JWT_SECRET, ADMIN_USER: 'bench', ADMIN_PASSWORD: 'bench-password', WS_ORIGINS: 'http://127.0.0.1', DATABASE_URL: dbUrl, REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', ROLE: 'all', DB_POOL_MAX: '40',
        // The hold outlasts the run: the figures are the listing path, not grants.
        BONUS_HOLD: '24h', BONUS_ACCOUNTS_URL: `http://127.0.0.1:${accounts.info.port}`, ...extraEnv,
      },
    });

    const many = await endToEnd(db, server, monitor, `e2e: ListingPublished for ${fmt(users)} users`, () => `user-${Math.floor(Math.random() * users)}`, connections, durationMs, warmupMs);
    const hot = `hot-${randomUUID()}`;
    const one = await endToEnd(db, server, monitor, 'e2e: ListingPublished, all for one user', () => hot, connections, durationMs, warmupMs);
    const rc = args.flag('skip-recheck') ? undefined : await recheck(db, prefix, accounts, waiting);

    const ratios = {
      manyUsersVsNoopCeiling: ratio(many.settledRate, ceiling!.jobsPerSec),
      manyUsersVsRawSql: ratio(many.settledRate, rawMany.rate),
      oneUserVsRawSql: ratio(one.settledRate, rawOne.rate),
      oneUserVsManyUsers: ratio(one.settledRate, many.settledRate),
      ...(rc ? { recheckOfPeriod: rc.ofPeriod } : {}),
    };
    const cores = (c: Record<string, number>) => `${(c.conveyor ?? 0).toFixed(2)} / ${(c.others ?? 0).toFixed(2)}`;
    const e2eRow = (label: string, f: E2eFigure): Cell[] => [
      label, `${fmt(f.acceptedRate)}/s`, `${fmt(f.appliedRate)}/s`, `${fmt(f.settledRate)}/s`,
      `${f.httpP50.toFixed(1)} / ${f.httpP99.toFixed(1)}`, `${f.applyP50.toFixed(0)} / ${f.applyP99.toFixed(0)}`, cores(f.cpu),
    ];
    const rows: Cell[][] = [
      ['bare BullMQ no-op worker, c=16 (ceiling)', '', `${fmt(ceiling!.jobsPerSec)}/s`, '', '', '', ''],
      ['raw mysql2: the SQL of one event, many users, 16 in flight', '', `${fmt(rawMany.rate)}/s`, '', '', `${rawMany.p50.toFixed(1)} / ${rawMany.p99.toFixed(1)}`, ''],
      ['raw mysql2: the SQL of one event, one user, 16 in flight', '', `${fmt(rawOne.rate)}/s`, '', '', `${rawOne.p50.toFixed(1)} / ${rawOne.p99.toFixed(1)}`, ''],
      e2eRow(`Conveyor e2e, ${fmt(users)} users`, many),
      e2eRow('Conveyor e2e, one very active user', one),
      ...(rc ? [[`link re-check, ${fmt(rc.waiting)} waiting users`, '', `${fmt(rc.usersPerSec)} users/s`, `${(rc.durationMs / 1000).toFixed(1)} s`, '', '', `${pct(rc.ofPeriod)} of 15 min`] as Cell[]] : []),
    ];
    const notes = [
      `e2e = POST /events (ListingPublished, role service) answered 200 → bonus.apply-event applied to the user's actor (row lock, transition, listing row, notification, hold timer) and its outbox row done; ${connections} connections posting as fast as answered; ${fmt(durationMs / 1000)} s measured after ${warmupMs / 1000} s warm-up.`,
      '"accepted" = answered 200; "applied" = applied inside the window; "settled" = events of the window over the window plus the time their backlog took to drain (what the pipeline sustains).',
      'HTTP ms = POST answered; apply ms = accept committed → applied (outbox created_at → done_at).',
      `where the wait is (mean ms, accept → relayed to BullMQ / relayed → applied): many users ${many.relayMs} / ${many.jobMs}, one user ${one.relayMs} / ${one.jobMs}.`,
      'raw mysql2 = the accept and apply transactions of one event, statement for statement, through mysql2 with 16 events in flight (the apply concurrency): the database-bound ceiling, same database, same run.',
      'cores = server process / everything outside the benchmark (MariaDB and Redis count as outside).',
      ...(rc ? [`re-check: the bonus.recheck-links job over ${fmt(rc.waiting)} users in waiting_link (pages of 500, 32 requests in flight) against a local accounts service (another process) that links one user in ${args.num('linked-every', 100)}; ${fmt(rc.linked)} links found were paid through the ledger inside the pass; ${fmt(rc.asked)} requests answered.`] : []),
    ];
    finish({
      bench: 'bonus',
      machine,
      table: { columns: ['what', 'accepted', 'applied', 'settled / time', 'HTTP p50 / p99 ms', 'apply p50 / p99 ms', 'cores srv / other'], rows },
      figures: { ceiling, rawMany, rawOne, many, one, ...(rc ? { recheck: rc } : {}) },
      ratios,
      params: { durationMs, warmupMs, connections, users, waiting, env: extraEnv },
      notes,
    });
  } finally {
    await server?.stop();
    await accounts?.stop();
    await deletePrefix(monitor, prefix).catch(() => undefined);
    monitor.disconnect();
    await db.destroy();
    await dropDatabase(dbUrl).catch(() => undefined);
  }
}

// ---- entry: the children, or the benchmark (last, so every constant above is initialised) -----

if (args.flag('serve')) {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const running = await start(config, config.roles, { metricsDefaults: false });
  serveChild({ stop: () => running.stop() }).ready({ port: running.port });
} else if (args.flag('accounts')) {
  // The accounts service: GET /users/<id> → {"yandex_uid": ...}; one user in `every` is linked.
  const every = args.num('linked-every', 100);
  let asked = 0;
  const server = createServer((req, res) => {
    asked++;
    const id = decodeURIComponent((req.url ?? '').replace(/^\/users\//, ''));
    const n = Number(/(\d+)$/.exec(id)?.[1] ?? 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ yandex_uid: n % every === 0 ? `ya-${n}` : null }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  serveChild({ commands: { asked: () => asked }, stop: () => new Promise((resolve) => server.close(() => resolve())) }).ready({
    port: typeof address === 'object' && address ? address.port : 0,
  });
} else {
  await main();
}
