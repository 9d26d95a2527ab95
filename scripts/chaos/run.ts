/**
 * `npm run chaos [-- <scenario>... | --quick]`: real faults against a running deployment, then the
 * invariants. Starts its own Redis and MariaDB, never the shared ones; tears everything down at
 * the end, on failure and on Ctrl-C.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createDb, type Db } from '../../src/platform/db.ts';
import { ConsumerLog } from './consumer.ts';
import { Deployment } from './deployment.ts';
import { OwnMariaDb, OwnRedis, sleep } from './infra.ts';
import { checkAll, drained, isDoomed, type Check } from './invariants.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { TcpProxy } from './tcpProxy.ts';
import { Traffic } from './traffic.ts';
import { Viewer } from './wsClients.ts';
import { printRow, printSummary, type Row } from './table.ts';
import type { Ctx, Scenario } from './context.ts';

const PREFIX = 'chaos';
const DRAIN_TIMEOUT_MS = 120_000;

function pick(argv: string[]): Scenario[] {
  if (argv.includes('--quick')) return SCENARIOS.filter((s) => s.quick);
  const names = argv.filter((a) => !a.startsWith('-'));
  if (names.length === 0) return SCENARIOS;
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n || String(s.n) === n));
  if (unknown.length) {
    process.stderr.write(`unknown scenario ${unknown.join(', ')}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  return SCENARIOS.filter((s) => names.includes(s.name) || names.includes(String(s.n)));
}

async function main(): Promise<number> {
  const chosen = pick(process.argv.slice(2));
  const redis = new OwnRedis();
  const mariadb = new OwnMariaDb();
  const consumer = new ConsumerLog();
  const redisProxy = new TcpProxy('redis', () => redis.port);
  const mysqlProxy = new TcpProxy('mysql', () => mariadb.port);
  let deployment: Deployment | undefined;
  let db: Db | undefined;
  let client: Redis | undefined;
  const teardown = async () => {
    await deployment?.stopAll().catch(() => undefined);
    // The processes' logs live in a temp dir that goes with the teardown; CHAOS_LOG keeps a copy.
    if (process.env.CHAOS_LOG && deployment) copyFileSync(join(redis.dir, 'conveyor.log'), process.env.CHAOS_LOG);
    await db?.destroy().catch(() => undefined);
    client?.disconnect();
    await Promise.all([redisProxy.stop(), mysqlProxy.stop(), consumer.stop()]).catch(() => undefined);
    // CHAOS_KEEP: the servers stop all the same; only their temp dirs (data, the deployment's log) stay.
    if (process.env.CHAOS_KEEP) await Promise.all([redis.kill9(), mariadb.kill9()]);
    else await Promise.all([redis.destroy(), mariadb.destroy()]);
  };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    process.stderr.write('\ninterrupted: tearing down\n');
    void teardown().finally(() => process.exit(130));
  });

  const rows: Row[] = [];
  const knownLost = new Set<string>();
  try {
    const t0 = Date.now();
    await Promise.all([redis.start(), mariadb.start(), consumer.start()]);
    await Promise.all([redisProxy.start(), mysqlProxy.start()]);
    deployment = new Deployment(redis.dir, {
      databaseUrl: `mysql://root@127.0.0.1:${mysqlProxy.port}`,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      consumerUrl: consumer.url,
      extraEnv: { CHAT_HISTORY_SIZE: '1000', ...(process.env.CHAOS_LOG_LEVEL ? { LOG_LEVEL: process.env.CHAOS_LOG_LEVEL } : {}) },
    });
    await deployment.startAll();
    db = createDb(`${mariadb.url}/chaos`, 4);
    client = new Redis(redis.url, { protocol: 2, maxRetriesPerRequest: 2 });
    // Down on purpose in some scenarios; the checks retry.
    client.on('error', () => undefined);
    const dep = deployment;
    const traffic = new Traffic(() => dep.apiUrls());
    await traffic.setup();
    process.stdout.write(`deployment up in ${Date.now() - t0} ms (logs: ${redis.dir}/conveyor.log)\n`);
    const ctx: Ctx = { redis, mariadb, redisProxy, mysqlProxy, deployment, traffic, consumer, db: () => db!, redisClient: () => client!, prefix: PREFIX };

    for (const scenario of chosen) {
      if (interrupted) break;
      process.stdout.write(`\n▶ ${scenario.n}. ${scenario.name}\n`);
      await traffic.topUpAll('20.00');
      const viewers = await joinViewers(ctx, dep);
      const from = traffic.attempts.length;
      const started = Date.now();
      let fault = '';
      let checks: Check[] = [];
      let recoverMs = -1;
      try {
        const outcome = await scenario.run(ctx);
        fault = outcome.fault;
        checks.push(...(outcome.checks ?? []));
        const faultEnd = Date.now();
        recoverMs = await drained(db, client, PREFIX, consumer, traffic, DRAIN_TIMEOUT_MS, knownLost).then(() => Date.now() - faultEnd, () => -1);
        await sleep(1000);
        checks = [...(await checkAll(db, client, PREFIX, traffic, viewers, consumer)), ...checks];
        for (const id of checks.find((c) => c.name === 'ACKED')?.missing ?? []) knownLost.add(id);
      } catch (err) {
        checks.push({ name: 'RAN', ok: false, detail: (err as Error).stack ?? String(err) });
      } finally {
        for (const v of viewers) v.close();
      }
      // Whatever the scenario did, the next one starts with every process up.
      for (const name of ['api1', 'api2', 'worker1', 'worker2', 'ws', 'scheduler']) {
        const p = dep.get(name);
        p.child.kill('SIGCONT');
        if (!dep.alive().includes(name)) await dep.spawn(name, p.role);
      }
      const mine = traffic.attempts.slice(from);
      const ok = (s: number) => s >= 200 && s < 300;
      rows.push({
        n: scenario.n,
        name: scenario.name,
        fault,
        traffic: `${mine.length} requests in ${Math.round((Date.now() - started) / 1000)} s`,
        acknowledged: mine.filter((a) => ok(a.status)).length,
        refused: mine.filter((a) => !ok(a.status)).length,
        // This scenario's acknowledged writes that are missing (the check itself covers the whole run).
        lost: mine.filter((a) => ok(a.status) && [a.key, String(a.body?.donation_id), String(a.body?.event_id)].some((id) => checks.find((c) => c.name === 'ACKED')?.missing?.has(id))).length,
        duplicated: checks.find((c) => c.name === 'ONCE')?.ok === false ? 1 : 0,
        redelivered: consumer.redeliveries(),
        checks,
        recoverMs,
        doomed: mine.filter(isDoomed).length,
      });
      printRow(rows[rows.length - 1]!);
    }
  } catch (err) {
    process.stderr.write(`harness failed: ${(err as Error).stack ?? String(err)}\n`);
    if (deployment) process.stderr.write(`conveyor logs: ${redis.dir}/conveyor.log\n`);
    rows.push({ n: 0, name: 'harness', fault: 'setup', traffic: '', acknowledged: 0, refused: 0, lost: 0, duplicated: 0, redelivered: 0, checks: [{ name: 'SETUP', ok: false, detail: String(err) }], recoverMs: -1, doomed: 0 });
  } finally {
    await teardown();
    if (process.env.CHAOS_KEEP) process.stdout.write(`kept: ${redis.dir} ${mariadb.dir}\n`);
  }
  printSummary(rows);
  const failed = rows.filter((r) => r.checks.some((c) => !c.ok)).length;
  process.stdout.write(`\n${rows.length - failed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

async function joinViewers(ctx: Ctx, dep: Deployment): Promise<Viewer[]> {
  const wsUrl = () => `ws://127.0.0.1:${dep.get('ws').port}`;
  const viewers: Viewer[] = [];
  const [room0, room1] = ctx.traffic.rooms;
  const plan = [
    [room0!, room0!],
    [ctx.traffic.clients[0]!, room0!],
    [ctx.traffic.clients[1]!, room1!],
    [room1!, room1!],
  ] as const;
  for (const [who, room] of plan) {
    const [row] = (await ctx.db()('chat_events').where('room', room.uuid).max({ id: 'id' })) as { id: number | null }[];
    const v = new Viewer(who, room.uuid, wsUrl);
    v.baseline = Number(row?.id ?? 0);
    v.connect();
    viewers.push(v);
  }
  await Promise.all(viewers.map((v) => Promise.race([v.connectedOnce, sleep(10_000)])));
  return viewers;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
