/**
 * What one statement and one transaction cost Conveyor's SQL layer, beside mysql2 alone on the same
 * server in the same run: CPU of this process per operation (the server's work is the same on both
 * sides), on one connection, one operation at a time.
 *   - a statement: selectRows in a withTransaction transaction, knex raw in a knex transaction, and
 *     mysql2's query on its own connection (the ceiling);
 *   - a transaction of BEGIN, one SELECT, COMMIT: withTransaction, a knex transaction, mysql2;
 *   - a write of two 155 KB event batch rows: as the outbox sends them (a prepared statement),
 *     beside the same INSERT in mysql2's text protocol.
 *
 * Usage: npm run bench:sql -- [--ops 4000] [--rounds 3]
 */
import mysql from 'mysql2/promise';
import { cliArgs } from './lib/args.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { migratedDatabase } from './lib/database.ts';
import { finish, fmt, pct, ratio } from './lib/table.ts';
import { benchPrefix } from './lib/redis.ts';
import { median } from './lib/stats.ts';
import { createDb, dropDatabase, withTransaction } from '../../src/platform/db.ts';
import { executeLarge, selectRows } from '../../src/platform/sql.ts';
import { eventBatchJobs } from '../../queues/outbox/writer.ts';
import { makeEnvelope } from '../../queues/outbox/envelope.ts';
import { PaymentMade } from '../../src/domain/popug/events.ts';

const args = cliArgs({
  name: 'bench:sql',
  summary: "CPU per statement, per transaction and per large event batch write through Conveyor's SQL layer, beside knex and mysql2 alone.",
  options: {
    'ops <n>': 'statements and transactions timed per round (default 4000; the large writes: a tenth)',
    'rounds <n>': 'rounds, each side once per round; the median round is reported (default 3)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
  },
});
const OPS = args.num('ops', 4000);
const ROUNDS = args.num('rounds', 3);
const server = args.str('mysql', 'mysql://root@127.0.0.1:3306');
const dbUrl = `${server}/${benchPrefix('bench_sql').replace(/-/g, '_')}`;

/** CPU µs of this process per operation, and wall µs. */
async function timed(n: number, body: () => Promise<void>): Promise<{ cpuUs: number; wallUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
}

async function main(): Promise<void> {
  const busyBefore = await waitForIdle();
  await migratedDatabase(dbUrl);
  const db = createDb(dbUrl, 1);
  const raw = await mysql.createConnection({ uri: dbUrl, supportBigNumbers: true });
  // Two rows of a 500-payout batch each, as the payout writes them (one per listener).
  const at = new Date();
  const [row] = eventBatchJobs(PaymentMade, Array.from({ length: 500 }, (_, i) => makeEnvelope(PaymentMade, { user_id: crypto.randomUUID(), day: '2026-12-05', amount: 1000 + i, entry_id: 'a'.repeat(64) }, at)));
  const payload = JSON.stringify(row!.payload);
  const insert = 'INSERT INTO outbox (queue, job_name, payload_version, payload, status, available_at, created_at) VALUES (?, ?, 1, ?, ?, ?, ?), (?, ?, 1, ?, ?, ?, ?)';
  const values = ['bench.a', 'bench.a', payload, 'done', at, at, 'bench.b', 'bench.b', payload, 'done', at, at];
  const large = Math.max(1, Math.floor(OPS / 10));

  const sides: Record<string, (() => Promise<{ cpuUs: number; wallUs: number }>)> = {
    'statement: selectRows in withTransaction': () => withTransaction(db, (trx) => timed(OPS, async () => { for (let i = 0; i < OPS; i++) await selectRows(trx, 'SELECT ? AS a, ? AS b', ['abc', i]); })),
    'statement: knex raw in a knex transaction': () => db.transaction((trx) => timed(OPS, async () => { for (let i = 0; i < OPS; i++) await trx.raw('SELECT ? AS a, ? AS b', ['abc', i]); })),
    'statement: mysql2 query (ceiling)': () => timed(OPS, async () => { for (let i = 0; i < OPS; i++) await raw.query('SELECT ? AS a, ? AS b', ['abc', i]); }),
    'transaction: withTransaction': () => timed(OPS, async () => { for (let i = 0; i < OPS; i++) await withTransaction(db, (trx) => selectRows(trx, 'SELECT 1')); }),
    'transaction: knex transaction': () => timed(OPS, async () => { for (let i = 0; i < OPS; i++) await db.transaction((trx) => trx.raw('SELECT 1')); }),
    'transaction: mysql2 (ceiling)': () => timed(OPS, async () => { for (let i = 0; i < OPS; i++) { await raw.query('BEGIN'); await raw.query('SELECT 1'); await raw.query('COMMIT'); } }),
    'two 155 KB rows: prepared (outbox)': () => timed(large, async () => { for (let i = 0; i < large; i++) await withTransaction(db, (trx) => executeLarge(trx, insert, values)); }),
    'two 155 KB rows: text protocol': () => timed(large, async () => { for (let i = 0; i < large; i++) { await raw.query('BEGIN'); await raw.query(insert, values); await raw.query('COMMIT'); } }),
  };
  const runs = new Map<string, { cpuUs: number; wallUs: number }[]>(Object.keys(sides).map((k) => [k, []]));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, run] of Object.entries(sides)) runs.get(name)!.push(await run());
      await raw.query("DELETE FROM outbox WHERE queue LIKE 'bench.%'");
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await raw.end();
    await db.destroy();
    await dropDatabase(dbUrl);
  }
  const fig = Object.fromEntries([...runs].map(([k, v]) => [k, { cpuUs: median(v.map((x) => x.cpuUs)), wallUs: median(v.map((x) => x.wallUs)) }]));
  const cpu = (k: string) => fig[k]!.cpuUs;
  const ratios = {
    statementVsMysql2: ratio(cpu('statement: mysql2 query (ceiling)'), cpu('statement: selectRows in withTransaction')),
    knexStatementVsMysql2: ratio(cpu('statement: mysql2 query (ceiling)'), cpu('statement: knex raw in a knex transaction')),
    transactionVsMysql2: ratio(cpu('transaction: mysql2 (ceiling)'), cpu('transaction: withTransaction')),
    knexTransactionVsMysql2: ratio(cpu('transaction: mysql2 (ceiling)'), cpu('transaction: knex transaction')),
    preparedVsTextWall: ratio(fig['two 155 KB rows: text protocol']!.wallUs, fig['two 155 KB rows: prepared (outbox)']!.wallUs),
  };
  finish({
    bench: 'bench:sql',
    machine: await machineFacts({ mysqlUrl: server, busyBefore }),
    table: { columns: ['what', 'CPU µs per op', 'wall µs per op'], rows: [...runs.keys()].map((k) => [k, fmt(fig[k]!.cpuUs), fmt(fig[k]!.wallUs)]) },
    figures: fig,
    ratios,
    params: { ops: OPS, rounds: ROUNDS },
    notes: [
      `ratios are mysql2's CPU per operation over the side's: a statement through selectRows ${pct(ratios.statementVsMysql2)} (knex raw ${pct(ratios.knexStatementVsMysql2)}), a transaction through withTransaction ${pct(ratios.transactionVsMysql2)} (a knex transaction ${pct(ratios.knexTransactionVsMysql2)})`,
      `two 155 KB rows: the text protocol's wall time over the prepared write's, ${pct(ratios.preparedVsTextWall)} (MariaDB's parsing counts there, not in this process's CPU)`,
      'medians of the rounds; one connection, one operation at a time',
    ],
  });
}

await main();
