/**
 * The topic appender's drain: N events queued for events.topic-append (a row per event, written
 * while the queue is paused, 500 a transaction, over 1,000 users), then the time until every row
 * is done and its entry is in domain.popug. The ceiling: a raw loop over the same number of rows in
 * a scratch table, 500 at a time (lock in id order, one pipelined XADD per batch, mark done, commit).
 *
 * Usage: npm run bench:topics -- [--events 20000]
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { cliArgs } from './lib/args.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { note, startPhase } from './lib/progress.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { finish, pct, ratio } from './lib/table.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';
import { TOPIC_APPEND_QUEUE, topicEntry, topicStream } from '../../src/domain/events/topics.ts';
import { PaymentMade } from '../../src/domain/popug/events.ts';
import { makeEnvelope, type Envelope } from '../../queues/outbox/envelope.ts';
import { writeOutbox } from '../../queues/outbox/writer.ts';

const args = cliArgs({
  name: 'bench:topics',
  summary: 'How fast N queued topic-append rows drain into their Redis stream, beside a raw loop doing the same appends and done marks.',
  options: {
    'events <n>': 'events queued (default 20000)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
  },
});

const EVENTS = args.num('events', 20_000);
const PER_TRANSACTION = 500;
const server = args.str('mysql', 'mysql://root@127.0.0.1:3306');
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const dbUrl = `${server}/${benchPrefix('bench_topics').replace(/-/g, '_')}`;
const prefix = benchPrefix('btopics');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function envelopes(n: number): Envelope[] {
  const users = Array.from({ length: 1000 }, () => randomUUID());
  return Array.from({ length: n }, (_, i) => makeEnvelope(PaymentMade, { user_id: users[i % users.length]!, day: '2026-12-05', amount: 100 + i, entry_id: randomUUID().replace(/-/g, '') }));
}

async function openRows(pool: mysql.Pool): Promise<number> {
  const [rows] = (await pool.query("SELECT COUNT(*) AS n FROM outbox WHERE queue = ? AND status <> 'done'", [TOPIC_APPEND_QUEUE])) as unknown as [{ n: unknown }[]];
  return Number(rows[0]!.n);
}

/** The ceiling: the same appends and done marks with nothing around them. */
async function rawDrain(pool: mysql.Pool, list: Envelope[]): Promise<number> {
  await pool.query('CREATE TABLE raw_topic_rows (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload LONGTEXT NOT NULL, done TINYINT NOT NULL DEFAULT 0, KEY (done, id))');
  for (let i = 0; i < list.length; i += PER_TRANSACTION) {
    const part = list.slice(i, i + PER_TRANSACTION);
    await pool.query(`INSERT INTO raw_topic_rows (payload) VALUES ${part.map(() => '(?)').join(', ')}`, part.map((e) => JSON.stringify(e)));
  }
  const redis = benchRedis(redisUrl);
  const stream = `${prefix}:raw-topic`;
  const conn = await pool.getConnection();
  const t0 = performance.now();
  try {
    for (;;) {
      await conn.beginTransaction();
      const [rows] = (await conn.query('SELECT id, payload FROM raw_topic_rows WHERE done = 0 ORDER BY id LIMIT ? FOR UPDATE', [PER_TRANSACTION])) as unknown as [{ id: number; payload: string }[]];
      if (rows.length === 0) {
        await conn.commit();
        break;
      }
      const pipeline = redis.pipeline();
      for (const row of rows) pipeline.xadd(stream, 'MAXLEN', '~', '100000', '*', ...topicEntry(JSON.parse(row.payload) as Envelope));
      await pipeline.exec();
      await conn.query(`UPDATE raw_topic_rows SET done = 1 WHERE id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.id));
      await conn.commit();
    }
  } finally {
    conn.release();
    redis.disconnect();
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const busyBefore = await waitForIdle();
  await migratedDatabase(dbUrl);
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'bench-topics-secret-0123456789abcdef01234', ADMIN_USER: 'bench', ADMIN_PASSWORD: 'bench-password', WS_ORIGINS: 'http://127.0.0.1', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: dbUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', TZ: 'UTC' });
  const running = await start(config, config.roles, { metricsDefaults: false });
  const pool = mysql.createPool({ uri: dbUrl, connectionLimit: 4 });
  const redis = benchRedis(redisUrl);
  const figures: Record<string, unknown> = {};
  try {
    const list = envelopes(EVENTS);
    const queue = running.services.queues.get(TOPIC_APPEND_QUEUE);
    await queue.pause();
    let bar = startPhase(`queueing ${EVENTS} topic-append rows (queue paused)`);
    for (let i = 0; i < list.length; i += PER_TRANSACTION) {
      const part = list.slice(i, i + PER_TRANSACTION);
      await running.services.outbox.transaction((trx) => writeOutbox(trx, part.map((e) => ({ queue: TOPIC_APPEND_QUEUE, payload: e, version: e.event_version, eventId: e.event_id, envelope: true }))));
    }
    // Rows written pending are relayed into the paused queue (the row-at-a-time version): let it finish.
    await sleep(2000);
    bar.done();
    bar = startPhase('draining');
    const t0 = performance.now();
    await queue.resume();
    while ((await openRows(pool)) > 0) await sleep(100);
    const drainMs = performance.now() - t0;
    const appended = await redis.xlen(topicStream(prefix, 'domain.popug'));
    bar.done(`${(drainMs / 1000).toFixed(1)} s, ${appended} entries`);
    if (appended < EVENTS) throw new Error(`only ${appended} of ${EVENTS} events reached the stream`);
    bar = startPhase('raw loop (ceiling)');
    const rawMs = await rawDrain(pool, list);
    bar.done(`${(rawMs / 1000).toFixed(1)} s`);
    figures.drain = { events: EVENTS, conveyor_s: drainMs / 1000, raw_s: rawMs / 1000, appended };
    note('ratio: the raw loop time over Conveyor time (higher is better)');
    finish({
      bench: 'bench:topics',
      machine: await machineFacts({ redis: redisUrl, mysqlUrl: server, busyBefore }),
      table: { columns: ['what', 'Conveyor per s', 'raw per s', 'ratio'], rows: [[`drain of ${EVENTS} topic-append rows`, (EVENTS / drainMs) * 1000, (EVENTS / rawMs) * 1000, pct(ratio(rawMs, drainMs))]] },
      figures,
      ratios: { drain: ratio(rawMs, drainMs) },
      params: { events: EVENTS },
      notes: [],
    });
  } finally {
    await pool.end();
    await running.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await dropDatabase(dbUrl);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
