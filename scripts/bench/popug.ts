/**
 * Popug: the daily payout of N employees, task create → priced → charged and complete → credited
 * end to end, the dashboard at 1 M audit entries, and a reshuffle of N open tasks — each beside a
 * raw mysql2 loop doing the same SQL, measured in the same run.
 *
 * Usage: npm run bench:popug -- [--employees 100000] [--tasks 2000] [--connections 32] [--entries 1000000] [--open 100000]
 * Conveyor runs in this process (every role, NODE_ENV=production logging off), on a fresh database.
 * The task flows are driven by the raw keep-alive client (lib/raw-http.ts): fetch() costs several
 * times its CPU per request, in the core Conveyor's requests share.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import mysql from 'mysql2/promise';
import { cliArgs } from './lib/args.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { note, startPhase } from './lib/progress.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { LatencyHistogram } from './lib/stats.ts';
import { finish, pct, ratio } from './lib/table.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';
import { parsePopugSettings } from '../../src/domain/popug/settings.ts';
import { dayOf } from '../../src/domain/popug/days.ts';
import { requestPayout } from '../../src/domain/popug/payout.ts';
import { popugContracts } from '../../queues/contracts/popug.ts';
import { countingSmtp, rawMails } from './lib/smtp.ts';
import { RawHttpPool, requestBytes } from './lib/raw-http.ts';

const args = cliArgs({
  name: 'bench:popug',
  summary: 'Payout of N employees, task flows end to end, dashboard p99 at 1 M entries, reshuffle of N open tasks; each beside raw mysql2.',
  defaults: { connections: 32 },
  options: {
    'employees <n>': 'employees with a positive balance to pay (default 100000)',
    'tasks <n>': 'tasks created and completed end to end (default 2000)',
    'entries <n>': 'audit entries under the dashboard (default 1000000)',
    'open <n>': 'open tasks to reshuffle (default 100000)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'calls <n>': 'dashboard calls timed, each of the three (default 1000)',
    'staff <n>': 'employees the tracker knows besides the 50 the task flows start with, seeded in SQL: task creation draws its assignee among all of them (default 0)',
    'phases <list>': 'which phases to run, comma separated (default payout,tasks,dashboard,reshuffle)',
    'raw-first': "run the whole raw payout before Conveyor and do not wait for the payout's listener rows to be done (big sizes: the topic appends take long)",
    'raw-single': 'also time the raw payout at one transaction per employee (another N accounts)',
    mails: 'give the paid employees addresses and run an SMTP receiver in this process: time until every report mail arrived, beside raw nodemailer sending as many (as many at a time as the mail queue runs)',
  },
});

const EMPLOYEES = args.num('employees', 100_000);
const TASKS = args.num('tasks', 2000);
const STAFF = args.num('staff', 0);
const ENTRIES = args.num('entries', 1_000_000);
const OPEN = args.num('open', 100_000);
const CONNECTIONS = args.connections;
const CALLS = args.num('calls', 1000);
const RAW_SINGLE = args.flag('raw-single');
const RAW_FIRST = args.flag('raw-first');
const MAILS = args.flag('mails');
const PHASES = new Set(args.str('phases', 'payout,tasks,dashboard,reshuffle').split(','));
// Employees per payout transaction: the popug default batch_size (and the ledger's batch limit).
const PAYOUT_BATCH = parsePopugSettings({}).batchSize;
const server = args.str('mysql', 'mysql://root@127.0.0.1:3306');
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const dbUrl = `${server}/${benchPrefix('bench_popug').replace(/-/g, '_')}`;
const prefix = benchPrefix('bpopug');
const JWT_SECRET = 'bench-popug-secret-0123456789abcdef0123456';
const CHUNK = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Pool = mysql.Pool;

async function one(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const [rows] = (await pool.query(sql, params)) as unknown as [{ n: unknown }[]];
  return Number(rows[0]?.n ?? 0);
}

/**
 * N accounts of (ownerType, kind 'popug') with positive balances, as ledger transfers from the
 * company account with their entries, in bulk: the state a day of work leaves behind.
 */
async function seedBalances(pool: Pool, ownerType: string, n: number, companyId: number, addresses = false): Promise<number> {
  let total = 0;
  const day = dayOf(Date.now(), 'UTC');
  for (let from = 0; from < n; from += CHUNK) {
    const size = Math.min(CHUNK, n - from);
    const users = Array.from({ length: size }, () => randomUUID());
    const amounts = users.map((_, i) => 1000 + ((from + i) % 5000));
    total += amounts.reduce((a, b) => a + b, 0);
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      const [acc] = (await conn.query(
        `INSERT INTO accounts (owner_type, owner_id, kind, balance, allow_negative, created_at, updated_at) VALUES ${users.map(() => "(?, ?, 'popug', ?, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))").join(', ')}`,
        users.flatMap((u, i) => [ownerType, u, amounts[i]]),
      )) as unknown as [{ insertId: number }];
      const [tr] = (await conn.query(
        `INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, created_at) VALUES ${users.map(() => "(?, ?, ?, ?, 'seed', UTC_TIMESTAMP(3))").join(', ')}`,
        users.flatMap((u, i) => [`seed:${u}`, companyId, acc.insertId + i, amounts[i]]),
      )) as unknown as [{ insertId: number }];
      await conn.query(
        `INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at) VALUES ${users.map(() => '(?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}`,
        users.flatMap((_, i) => [tr.insertId + i, acc.insertId + i, amounts[i], amounts[i]]),
      );
      await conn.query(
        `INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES ${users.map(() => "(?, ?, ?, 'reward', NULL, ?, 'seed', UTC_TIMESTAMP(3), ?)").join(', ')}`,
        users.flatMap((u, i) => [u.replace(/-/g, '').padEnd(64, '0'), u, day, amounts[i], tr.insertId + i]),
      );
      await conn.query('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amounts.reduce((a, b) => a + b, 0), companyId]);
      // Payments' copy of the employees, with the addresses their report mails go to.
      if (addresses) await conn.query(`INSERT INTO popug_payment_users (user_id, role, name, email, version) VALUES ${users.map(() => "(?, 'employee', NULL, ?, 1)").join(', ')}`, users.flatMap((u) => [u, `${u}@bench.local`]));
      await conn.commit();
    } finally {
      conn.release();
    }
  }
  return total;
}

/**
 * The payout's transfers and entries straight through mysql2, in the transactions Conveyor's payout
 * commits: `batch` employees per transaction (one commit, one fsync, per batch, as Conveyor), each
 * batch locking its accounts and the company in id order, one multi-row INSERT per table (transfers,
 * ledger entries, audit entries) and one UPDATE of the balances. With batch 1 it is the old loop of
 * one transaction per employee. What it leaves out is what Conveyor adds: the closing balance's read
 * of later entries, the already-paid check, the day's figures and cursor,
 * the PaymentMade outbox rows and the inbox reports.
 */
async function rawPayouts(pool: Pool, ownerType: string, companyId: number, day: string, batch: number): Promise<number> {
  const conn = await pool.getConnection();
  const startedAt = performance.now();
  let after = 0;
  const list = (n: number, row: string) => new Array<string>(n).fill(row).join(', ');
  try {
    for (;;) {
      const [rows] = (await conn.query("SELECT id, owner_id FROM accounts WHERE id > ? AND owner_type = ? AND kind = 'popug' ORDER BY id LIMIT ?", [after, ownerType, batch])) as unknown as [{ id: number; owner_id: string }[]];
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      await conn.beginTransaction();
      const ids = [companyId, ...rows.map((r) => r.id)].sort((a, b) => a - b);
      const [locked] = (await conn.query(`SELECT id, balance FROM accounts WHERE id IN (${list(ids.length, '?')}) ORDER BY id FOR UPDATE`, ids)) as unknown as [{ id: number; balance: number }[]];
      const balance = new Map(locked.map((l) => [Number(l.id), Number(l.balance)]));
      const amounts = rows.map((r) => balance.get(r.id)!);
      const total = amounts.reduce((a, b) => a + b, 0);
      const [inserted] = (await conn.query(
        `INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, reference, created_at) VALUES ${list(rows.length, "(?, ?, ?, ?, 'raw', ?, UTC_TIMESTAMP(3))")} RETURNING id, idempotency_key`,
        rows.flatMap((r, i) => [`raw:${r.owner_id}:${day}`, r.id, companyId, amounts[i], day]),
      )) as unknown as [{ id: number; idempotency_key: string }[]];
      const transferOf = new Map(inserted.map((t) => [t.idempotency_key, Number(t.id)]));
      const tids = rows.map((r) => transferOf.get(`raw:${r.owner_id}:${day}`)!);
      await conn.query(
        `UPDATE accounts SET balance = balance + CASE id ${list(rows.length + 1, 'WHEN ? THEN ?').replace(/, /g, ' ')} END, updated_at = UTC_TIMESTAMP(3) WHERE id IN (${list(ids.length, '?')})`,
        [...rows.flatMap((r, i) => [r.id, -amounts[i]!]), companyId, total, ...ids],
      );
      let companyAfter = balance.get(companyId)!;
      await conn.query(
        `INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at) VALUES ${list(rows.length * 2, '(?, ?, ?, ?, UTC_TIMESTAMP(3))')}`,
        rows.flatMap((r, i) => [tids[i], r.id, -amounts[i]!, 0, tids[i], companyId, amounts[i], (companyAfter += amounts[i]!)]),
      );
      await conn.query(
        `INSERT INTO popug_entries (entry_id, user_id, day, kind, amount, description, at, transfer_id) VALUES ${list(rows.length, "(?, ?, ?, 'payout', ?, ?, UTC_TIMESTAMP(3), ?)")}`,
        rows.flatMap((r, i) => [`raw${r.owner_id}`.padEnd(64, '1'), r.owner_id, day, -amounts[i]!, `payout for ${day}`, tids[i]]),
      );
      await conn.commit();
    }
  } finally {
    conn.release();
  }
  return performance.now() - startedAt;
}

async function main(): Promise<void> {
  const busyBefore = await waitForIdle();
  await migratedDatabase(dbUrl);
  const smtp = MAILS ? await countingSmtp() : null;
  const config = loadConfig({ ...(smtp ? { SMTP_URL: smtp.url } : {}), NODE_ENV: 'production', JWT_SECRET, ADMIN_USER: 'bench', ADMIN_PASSWORD: 'bench-password', WS_ORIGINS: 'http://127.0.0.1', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: dbUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', TZ: 'UTC' });
  const running = await start(config, config.roles, { metricsDefaults: false, popug: parsePopugSettings({ payout_cron: '0 0 1 1 *' }) });
  const url = `http://127.0.0.1:${running.port}`;
  const pool = mysql.createPool({ uri: dbUrl, connectionLimit: CONNECTIONS + 2, supportBigNumbers: true });
  const exp = Math.floor(Date.now() / 1000) + 7200;
  const token = async (sub: string, role: 'admin' | 'manager' | 'accountant' | 'employee') => `Bearer ${await signToken(JWT_SECRET, { sub, role, exp })}`;
  const post = (path: string, body: unknown, auth: string) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
  const figures: Record<string, unknown> = {};
  const ratios: Record<string, number> = {};
  const rows: (string | number)[][] = [];
  const today = dayOf(Date.now(), 'UTC');

  try {
    const admin = await token(randomUUID(), 'admin');
    const [company] = (await pool.query("INSERT INTO accounts (owner_type, owner_id, kind, balance, allow_negative, created_at, updated_at) VALUES ('system', 'popug_company', 'system', 0, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))")) as unknown as [{ insertId: number }];
    const companyId = company.insertId;

    const employees: string[] = Array.from({ length: 50 }, () => randomUUID());
    for (const e of employees) await post('/popug/users', { user: e, role: 'employee' }, admin);
    while ((await one(pool, "SELECT COUNT(*) AS n FROM popug_tracker_users WHERE role = 'employee'")) < employees.length) await sleep(100);
    const manager = await token(randomUUID(), 'manager');
    let bar: ReturnType<typeof startPhase>;
    if (STAFF > 0) {
      bar = startPhase(`seeding ${STAFF} more employees in the tracker`);
      for (let i = 0; i < STAFF; i += CHUNK) {
        const ids = Array.from({ length: Math.min(CHUNK, STAFF - i) }, () => randomUUID());
        await pool.query(`INSERT INTO popug_tracker_users (user_id, role, version) VALUES ${ids.map(() => "(?, 'employee', 1)").join(', ')}`, ids);
      }
      // The assignment slots renumbered over every employee, as migration 0027 numbers them.
      await pool.query('DELETE FROM popug_assignees');
      await pool.query("INSERT INTO popug_assignees (slot, user_id) SELECT ROW_NUMBER() OVER (ORDER BY user_id), user_id FROM popug_tracker_users WHERE role = 'employee'");
      await pool.query('UPDATE popug_assignee_count SET n = (SELECT COUNT(*) FROM popug_assignees) WHERE id = 1');
      bar.done();
    }

    // ---- payout --------------------------------------------------------------------------------
    if (PHASES.has('payout')) {
      // The raw loop runs half before Conveyor's payout and half after it (once the report jobs have
      // drained), so a change of machine speed during the run weighs on both sides.
      const half = Math.ceil(EMPLOYEES / 2);
      bar = startPhase(`seeding ${EMPLOYEES} employees with balances (twice: Conveyor and raw)`);
      const total = await seedBalances(pool, 'employee', EMPLOYEES, companyId, MAILS);
      await seedBalances(pool, 'raw_a', half, companyId);
      await seedBalances(pool, 'raw_b', EMPLOYEES - half, companyId);
      if (RAW_SINGLE) await seedBalances(pool, 'raw_one', EMPLOYEES, companyId);
      bar.done();
      bar = startPhase(`raw mysql2 payout, ${RAW_FIRST ? 'both halves' : 'first half'} (${PAYOUT_BATCH} a transaction)`);
      let rawMs = await rawPayouts(pool, 'raw_a', companyId, today, PAYOUT_BATCH);
      if (RAW_FIRST) rawMs += await rawPayouts(pool, 'raw_b', companyId, today, PAYOUT_BATCH);
      bar.done(`${(rawMs / 1000).toFixed(1)} s`);
      bar = startPhase(`payout of ${EMPLOYEES} employees`, { counter: () => 0 });
      const t0 = performance.now();
      await running.services.outbox.transaction((trx) => requestPayout(trx, today, new Date()));
      while ((await one(pool, "SELECT COUNT(*) AS n FROM popug_days WHERE day = ? AND status = 'done'", [today])) === 0) await sleep(100);
      const payoutMs = performance.now() - t0;
      // Conveyor's payout entries (the raw loop's entry ids start with "raw").
      const paid = await one(pool, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'payout' AND day = ? AND entry_id NOT LIKE 'raw%'", [today]);
      const paidTotal = await one(pool, "SELECT COALESCE(-SUM(amount), 0) AS n FROM popug_entries WHERE kind = 'payout' AND day = ? AND entry_id NOT LIKE 'raw%'", [today]);
      bar.done(`${paid} paid in ${(payoutMs / 1000).toFixed(1)} s`);
      if (paid !== EMPLOYEES || paidTotal !== total) throw new Error(`payout paid ${paid} employees ${paidTotal}, expected ${EMPLOYEES} and ${total}`);
      // The report jobs (and topic appends) of the payout run after it; not in the timed figure.
      let drainMs = Number.NaN;
      let topicsMs = Number.NaN;
      if (RAW_FIRST) {
        figures.payout_backlog = { outbox_rows_left: await one(pool, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'done'") };
      } else {
        bar = startPhase("the payout's listener rows (reports, topic appends) being done");
        const td = performance.now();
        for (;;) {
          if (Number.isNaN(topicsMs) && (await one(pool, "SELECT COUNT(*) AS n FROM outbox WHERE queue = 'events.topic-append' AND status <> 'done'")) === 0) topicsMs = performance.now() - td;
          if ((await one(pool, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'done'")) === 0) break;
          await sleep(500);
        }
        drainMs = performance.now() - td;
        bar.done();
      }
      // Before the raw loop's second half, which must not share the cores with the mail jobs.
      if (smtp) {
        bar = startPhase('report mails arriving', { counter: smtp.received, unit: 'mails' });
        const deadline = performance.now() + 30 * 60_000;
        while (smtp.received() < EMPLOYEES && performance.now() < deadline) await sleep(100);
        // Timed to the last mail's arrival, not to this loop's noticing it (nor the phases between).
        const mailsMs = smtp.lastAt() - t0;
        const arrived = smtp.received();
        bar.done(`${arrived} in ${(mailsMs / 1000).toFixed(1)} s from the payout's request`);
        if (arrived !== EMPLOYEES) throw new Error(`${arrived} report mails arrived, expected ${EMPLOYEES}`);
        const inFlight = popugContracts['popug.send-report'].concurrency;
        bar = startPhase(`raw nodemailer, ${EMPLOYEES} mails, ${inFlight} at a time`);
        const rawMailMs = await rawMails(smtp.url, EMPLOYEES, inFlight);
        bar.done(`${(rawMailMs / 1000).toFixed(1)} s`);
        figures.mails = { mails: EMPLOYEES, conveyor_s_from_request: mailsMs / 1000, conveyor_s_after_payout: (mailsMs - payoutMs) / 1000, raw_s: rawMailMs / 1000, in_flight: inFlight };
        ratios.mails = ratio(rawMailMs, mailsMs);
        rows.push([`report mails of that payout (request → last mail arrived)`, (EMPLOYEES / mailsMs) * 1000, (EMPLOYEES / rawMailMs) * 1000, pct(ratios.mails), `last mail ${((mailsMs - payoutMs) / 1000).toFixed(1)} s after the payout's end; raw: nodemailer alone, same receiver, ${inFlight} at a time`]);
      }
      if (!RAW_FIRST) {
        bar = startPhase('raw mysql2 payout, second half');
        rawMs += await rawPayouts(pool, 'raw_b', companyId, today, PAYOUT_BATCH);
        bar.done(`${(rawMs / 1000).toFixed(1)} s both halves`);
      }
      figures.payout = { employees: EMPLOYEES, batch: PAYOUT_BATCH, conveyor_s: payoutMs / 1000, raw_s: rawMs / 1000, outbox_drained_s: drainMs / 1000, topic_appends_drained_s: topicsMs / 1000 };
      ratios.payout = ratio(rawMs, payoutMs);
      rows.push([`payout of ${EMPLOYEES} employees (${PAYOUT_BATCH} a transaction, raw the same)`, (EMPLOYEES / payoutMs) * 1000, (EMPLOYEES / rawMs) * 1000, pct(ratios.payout), `${(payoutMs / 1000).toFixed(1)} s wall; ${RAW_FIRST ? 'raw all before it' : `listener rows done ${(drainMs / 1000).toFixed(1)} s after, topic appends ${(topicsMs / 1000).toFixed(1)} s after`}`]);
      if (RAW_SINGLE) {
        bar = startPhase('raw mysql2 payout, one transaction per employee');
        const singleMs = await rawPayouts(pool, 'raw_one', companyId, today, 1);
        bar.done(`${(singleMs / 1000).toFixed(1)} s`);
        (figures.payout as Record<string, unknown>).raw_one_per_transaction_s = singleMs / 1000;
        ratios.payout_vs_one_per_transaction = ratio(singleMs, payoutMs);
        rows.push(['  beside raw, one transaction per employee', (EMPLOYEES / payoutMs) * 1000, (EMPLOYEES / singleMs) * 1000, pct(ratios.payout_vs_one_per_transaction), 'not the same durability: one commit per employee']);
      }

    }

    // ---- tasks end to end ----------------------------------------------------------------------
    if (PHASES.has('tasks')) {
      const created: { task_id: string; assignee: string }[] = [];
      bar = startPhase(`${TASKS} tasks: create → priced → charged`, { counter: () => created.length, unit: 'tasks' });
      const feesBefore = await one(pool, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'fee'");
      const t1 = performance.now();
      const client = new RawHttpPool({ host: '127.0.0.1', port: running.port, method: 'POST', connections: CONNECTIONS, timeoutMs: 60_000 });
      const postRaw = async (path: string, body: string, auth: string): Promise<unknown> => {
        const res = await client.request(requestBytes('POST', path, `127.0.0.1:${running.port}`, `authorization: ${auth}\r\ncontent-type: application/json\r\n`, body));
        if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${res.body.toString()}`);
        return JSON.parse(res.body.toString()) as unknown;
      };
      let next = 0;
      await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
        while (next < TASKS) {
          next++;
          created.push((await postRaw('/popug/tasks', '{"title":"bench","description":"bench"}', manager)) as { task_id: string; assignee: string });
        }
      }));
      while ((await one(pool, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'fee'")) - feesBefore < TASKS) await sleep(50);
      const createMs = performance.now() - t1;
      bar.done();
      const auths = new Map<string, string>(await Promise.all([...new Set(created.map((t) => t.assignee))].map(async (e) => [e, await token(e, 'employee')] as [string, string])));
      bar = startPhase(`${TASKS} tasks: complete → credited`);
      const t2 = performance.now();
      let k = 0;
      await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
        while (k < created.length) {
          const t = created[k++]!;
          await postRaw(`/popug/tasks/${t.task_id}/complete`, '{}', auths.get(t.assignee)!);
        }
      }));
      client.close();
      while ((await one(pool, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'reward'")) < TASKS) await sleep(50);
      const completeMs = performance.now() - t2;
      bar.done();

      // Raw: the same rows per task (task, price, transfer + entries + audit entry + day), in two
      // transactions per step as Conveyor's request and its consumer, CONNECTIONS at a time.
      const rawAccounts = employees.map(() => randomUUID());
      for (const u of rawAccounts) await pool.query("INSERT INTO accounts (owner_type, owner_id, kind, balance, allow_negative, created_at, updated_at) VALUES ('user', ?, 'popug', 0, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))", [u]);
      const [accRows] = (await pool.query("SELECT id, owner_id FROM accounts WHERE owner_type = 'user' AND owner_id IN (?)", [rawAccounts])) as unknown as [{ id: number; owner_id: string }[]];
      const rawStep = async (kind: 'fee' | 'reward', taskId: string, acc: { id: number; owner_id: string }) => {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          if (kind === 'fee') await conn.query("INSERT INTO popug_tasks (task_id, title, description, status, assignee, created_by, created_at) VALUES (?, 'raw', 'raw', 'open', ?, ?, UTC_TIMESTAMP(3))", [taskId, acc.owner_id, acc.owner_id]);
          else await conn.query("UPDATE popug_tasks SET status = 'done', completed_at = UTC_TIMESTAMP(3) WHERE task_id = ?", [taskId]);
          await conn.commit();
          await conn.beginTransaction();
          if (kind === 'fee') await conn.query('INSERT IGNORE INTO popug_task_prices (task_id, assign_fee, reward, priced_at) VALUES (?, 1500, 3000, UTC_TIMESTAMP(3))', [taskId]);
          const amount = kind === 'fee' ? 1500 : 3000;
          const [from, to] = kind === 'fee' ? [acc.id, companyId] : [companyId, acc.id];
          const [tr] = (await conn.query("INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, created_at) VALUES (?, ?, ?, ?, 'raw', UTC_TIMESTAMP(3))", [`raw:${kind}:${taskId}`, from, to, amount])) as unknown as [{ insertId: number }];
          await conn.query('SELECT id, balance FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE', [from, to]);
          await conn.query('UPDATE accounts SET balance = balance + CASE id WHEN ? THEN ? ELSE ? END WHERE id IN (?, ?)', [from, -amount, amount, from, to]);
          await conn.query('INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at) VALUES (?, ?, ?, 0, UTC_TIMESTAMP(3)), (?, ?, ?, 0, UTC_TIMESTAMP(3))', [tr.insertId, from, -amount, tr.insertId, to, amount]);
          await conn.query(`UPDATE popug_days SET ${kind === 'fee' ? 'fees = fees' : 'rewards = rewards'} + ? WHERE day = ?`, [amount, today]);
          await conn.query('INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), ?)', [`${kind}${taskId}`.padEnd(64, '2'), acc.owner_id, today, kind, taskId, kind === 'fee' ? -amount : amount, 'raw', tr.insertId]);
          await conn.commit();
        } finally {
          conn.release();
        }
      };
      const rawTasks = Array.from({ length: TASKS }, (_, i) => ({ id: randomUUID(), acc: accRows[i % accRows.length]! }));
      const runRaw = async (kind: 'fee' | 'reward') => {
        let i = 0;
        const t = performance.now();
        await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
          while (i < rawTasks.length) {
            const task = rawTasks[i++]!;
            await rawStep(kind, task.id, task.acc);
          }
        }));
        return performance.now() - t;
      };
      bar = startPhase('raw mysql2 task flows');
      const rawCreateMs = await runRaw('fee');
      const rawCompleteMs = await runRaw('reward');
      bar.done();
      ratios.create_charged = ratio(rawCreateMs, createMs);
      ratios.complete_credited = ratio(rawCompleteMs, completeMs);
      figures.tasks = { tasks: TASKS, create_per_s: (TASKS / createMs) * 1000, complete_per_s: (TASKS / completeMs) * 1000, raw_create_per_s: (TASKS / rawCreateMs) * 1000, raw_complete_per_s: (TASKS / rawCompleteMs) * 1000 };
      rows.push([`task create → priced → charged (${CONNECTIONS} in flight)`, (TASKS / createMs) * 1000, (TASKS / rawCreateMs) * 1000, pct(ratios.create_charged), 'tasks/s']);
      rows.push([`task complete → credited (${CONNECTIONS} in flight)`, (TASKS / completeMs) * 1000, (TASKS / rawCompleteMs) * 1000, pct(ratios.complete_credited), 'tasks/s']);

    }

    // ---- dashboard -----------------------------------------------------------------------------
    if (PHASES.has('dashboard')) {
      const have = await one(pool, 'SELECT COUNT(*) AS n FROM popug_entries');
      bar = startPhase(`audit log up to ${ENTRIES} entries`);
      for (let n = have; n < ENTRIES; n += CHUNK * 5) {
        const size = Math.min(CHUNK * 5, ENTRIES - n);
        await pool.query(
          `INSERT INTO popug_entries (entry_id, user_id, day, kind, amount, description, at, transfer_id) VALUES ${Array.from({ length: size }, () => "(?, ?, DATE_SUB(?, INTERVAL FLOOR(RAND() * 365) DAY), 'fee', -1000, 'filler', UTC_TIMESTAMP(3), 0)").join(', ')}`,
          Array.from({ length: size }, () => [randomUUID().replace(/-/g, '').padEnd(64, '3'), randomUUID(), today]).flat(),
        );
      }
      // The aggregates those entries would have left (popug writes them with each entry), and a
      // most expensive task on every day, so the dashboard's reads find a full year.
      await pool.query(
        `INSERT INTO popug_days (day, status, fees, top_task_id, top_reward)
         SELECT day, IF(day < ?, 'done', 'open'), -SUM(amount), UUID(), 1000 + DAYOFYEAR(day) FROM popug_entries WHERE description = 'filler' GROUP BY day
         ON DUPLICATE KEY UPDATE fees = fees + VALUES(fees), top_task_id = COALESCE(top_task_id, VALUES(top_task_id)), top_reward = COALESCE(top_reward, VALUES(top_reward))`,
        [today],
      );
      bar.done();
      // Leftover jobs of the earlier phases would be timed too: wait until the outbox is idle.
      while ((await one(pool, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'done'")) > 0) await sleep(500);
      // The floor of the HTTP path on this machine: plain Koa, no auth or validation, the same three
      // reads through mysql2 at once, the same JSON shape, in this process like Conveyor's server.
      const bare = new Koa();
      bare.use(async (ctx) => {
        const week = today;
        const [[dayRows], [sumRows], [tops]] = (await Promise.all([
          pool.query('SELECT fees, rewards, in_red_at_close FROM popug_days WHERE day = ?', [today]),
          pool.query('SELECT COALESCE(SUM(red_delta), 0) AS n FROM popug_days WHERE day <= ?', ['9999-12-31']),
          pool.query("SELECT DATE_FORMAT(d.day, '%Y-%m-%d') AS day, d.top_task_id, d.top_reward, p.title FROM popug_days d LEFT JOIN popug_task_prices p ON p.task_id = d.top_task_id WHERE d.day BETWEEN ? AND ? AND d.top_task_id IS NOT NULL ORDER BY d.day", [`${today.slice(0, 8)}01`, week]),
        ])) as unknown as [[{ fees: number; rewards: number }[]], [{ n: number }[]], [{ top_task_id: string; top_reward: number; title: string | null }[]]];
        const top = tops.at(-1) ?? null;
        ctx.body = { success: true, day: today, management_income: String(Number(dayRows[0]?.fees ?? 0) - Number(dayRows[0]?.rewards ?? 0)), employees_in_red: Number(sumRows[0]?.n ?? 0), most_expensive: { day: top, week: top, month: top } };
      });
      const bareServer = bare.listen(0, '127.0.0.1');
      await new Promise((resolve) => bareServer.once('listening', resolve));
      const bareUrl = `http://127.0.0.1:${(bareServer.address() as { port: number }).port}/`;
      const accountant = await token(randomUUID(), 'accountant');
      const hist = new LatencyHistogram();
      const histDays = new LatencyHistogram();
      const histBare = new LatencyHistogram();
      const from = dayOf(Date.now() - 365 * 86_400_000, 'UTC');
      const timed = async (h: LatencyHistogram, target: string, headers: Record<string, string>) => {
        const t = performance.now();
        const res = await fetch(target, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${target}: ${res.status}`);
        h.record(performance.now() - t);
      };
      for (let i = 0; i < 50; i++) await timed(new LatencyHistogram(), `${url}/popug/dashboard`, { authorization: accountant });
      for (let i = 0; i < CALLS; i++) {
        await timed(hist, `${url}/popug/dashboard`, { authorization: accountant });
        await timed(histDays, `${url}/popug/dashboard/days?from=${from}&to=${today}`, { authorization: accountant });
        await timed(histBare, bareUrl, {});
      }
      await new Promise((resolve) => bareServer.close(resolve));
      const dash = hist.summary();
      const days = histDays.summary();
      const floor = histBare.summary();
      figures.dashboard = { entries: await one(pool, 'SELECT COUNT(*) AS n FROM popug_entries'), days_with_aggregates: await one(pool, 'SELECT COUNT(*) AS n FROM popug_days'), calls: CALLS, p50_ms: dash.p50, p99_ms: dash.p99, days_p50_ms: days.p50, days_p99_ms: days.p99, bare_koa_p50_ms: floor.p50, bare_koa_p99_ms: floor.p99 };
      rows.push([`GET /popug/dashboard p99 at ${ENTRIES} entries (ms)`, dash.p99, floor.p99, '', `p50 ${dash.p50.toFixed(2)} ms; raw column: plain Koa + the same reads, p50 ${floor.p50.toFixed(2)} ms`]);
      rows.push(['GET /popug/dashboard/days (366 days) p99 (ms)', days.p99, '', '', `p50 ${days.p50.toFixed(2)} ms`]);
    }

    // ---- reshuffle -----------------------------------------------------------------------------
    if (PHASES.has('reshuffle')) {
      bar = startPhase(`seeding ${OPEN} open tasks`);
      await pool.query("UPDATE popug_tasks SET status = 'done'");
      for (let n = 0; n < OPEN; n += CHUNK * 5) {
        const size = Math.min(CHUNK * 5, OPEN - n);
        await pool.query(
          `INSERT INTO popug_tasks (task_id, title, description, status, assignee, created_by, created_at) VALUES ${Array.from({ length: size }, () => "(?, 'seeded', '', 'open', ?, ?, DATE_SUB(UTC_TIMESTAMP(3), INTERVAL 1 MINUTE))").join(', ')}`,
          Array.from({ length: size }, (_, i) => [randomUUID(), employees[i % employees.length]!, employees[0]!]).flat(),
        );
      }
      bar.done();
      bar = startPhase(`reshuffle of ${OPEN} open tasks`);
      const t3 = performance.now();
      const started = (await (await post('/popug/tasks/reshuffle', {}, manager)).json()) as { reshuffle_id: string };
      while ((await one(pool, "SELECT COUNT(*) AS n FROM popug_reshuffles WHERE reshuffle_id = ? AND status = 'done'", [started.reshuffle_id])) === 0) await sleep(200);
      const reshuffleMs = performance.now() - t3;
      bar.done();
      figures.reshuffle = { tasks: OPEN, seconds: reshuffleMs / 1000, tasks_per_s: (OPEN / reshuffleMs) * 1000 };
      rows.push([`reshuffle of ${OPEN} open tasks (tasks/s)`, (OPEN / reshuffleMs) * 1000, '', '', `${(reshuffleMs / 1000).toFixed(1)} s wall; fees charged after, by payments`]);
    }
  } finally {
    await pool.end();
    await running.stop();
    await smtp?.close();
    const redis = benchRedis(redisUrl);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await dropDatabase(dbUrl);
  }

  note('payout and task ratios: the raw mysql2 loop time over Conveyor time (higher is better; target ≥ 50 %)');
  finish({
    bench: 'bench:popug',
    machine: await machineFacts({ redis: redisUrl, mysqlUrl: server, busyBefore }),
    table: { columns: ['what', 'Conveyor per s', 'raw mysql2 per s', 'ratio', 'note'], rows },
    figures,
    ratios,
    params: { employees: EMPLOYEES, tasks: TASKS, entries: ENTRIES, open: OPEN, connections: CONNECTIONS },
    notes: figures.dashboard ? [`dashboard p99 target < 20 ms: ${Number((figures.dashboard as { p99_ms: number }).p99_ms) < 20 ? 'met' : 'missed'}`] : [],
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
