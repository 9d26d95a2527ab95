/**
 * The raw ceilings (Koa, BullMQ, ws with nothing of Conveyor) measured in one run, to
 * sanity-check this machine against ../shared/CEILINGS.md before trusting any ratio.
 * Usage: npx tsx scripts/bench/ceilings.ts [--duration 10] [--connections 64] [--jobs 20000]
 */
import { cliArgs } from './lib/args.ts';
import { leastDisturbed, machineFacts, waitForIdle } from './lib/machine.ts';
import { note } from './lib/progress.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { addToCompletedCeiling, koaHelloCeiling, koaQueueAddCeiling, workerDrainCeiling, wsBroadcastCeiling } from './ceilings/measure.ts';

const args = cliArgs({
  name: 'ceilings',
  summary: 'Raw Koa / BullMQ / ws ceilings on this machine, compared with CEILINGS.md.',
  defaults: { duration: 10, connections: 64 },
  options: {
    'jobs <n>': 'jobs pre-filled for each worker drain (default 20000)',
    'clients <n>': 'ws clients (default 1000)',
    'rooms <n>': 'ws rooms (default 10)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 60)',
    'retries <n>': 're-measure a phase this many times while other processes disturb it (default 2)',
  },
});

// Reference figures from CEILINGS.md (2 vCPU, median of 3): what this run should roughly reproduce.
const REF = { koaHello: 26_400, koaAdd: 10_400, koaAddDraining: 7_900, drain: { 1: 3_300, 10: 15_500, 50: 17_800 } as Record<number, number>, wsMax: 105_000 };

const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const redis = benchRedis(redisUrl);
const prefix = benchPrefix('bench-ceil');
const idleWait = args.num('idle-wait', 60);
note(`waiting (up to ${idleWait} s) for the cores to be idle…`);
const busyBefore = await waitForIdle(idleWait * 1000);
const machine = await machineFacts({ redis, busyBefore });
const base = { durationMs: args.durationMs, connections: args.connections, redisUrl, prefix, monitor: redis };
const jobs = args.num('jobs', 20_000);

try {
  // Each group is re-measured while something outside the benchmark takes more than 0.25 cores.
  const retry = { retries: args.num('retries', 2), onRetry: (n: number, others: number) => note(`other processes used ${others} cores: measuring again (${n})`) };
  const worst = (xs: Array<{ otherCpuCores: number }>) => Math.max(...xs.map((x) => x.otherCpuCores));
  const hello = await leastDisturbed(() => koaHelloCeiling(base), (r) => r.otherCpuCores, retry);
  // A fresh queue per attempt: a retry must not start behind the backlog of the one before.
  let attempt = 0;
  const add = await leastDisturbed(() => koaQueueAddCeiling({ ...base, queue: `seen-${++attempt}` }), (r) => r.otherCpuCores, retry);
  const addDraining = await leastDisturbed(() => koaQueueAddCeiling({ ...base, queue: `seen-drained-${++attempt}`, drainConcurrency: 50 }), (r) => r.otherCpuCores, retry);
  const drains = await leastDisturbed(() => workerDrainCeiling({ ...base, jobs, concurrencies: [1, 10, 50] }), worst, retry);
  const c50 = drains.find((d) => d.concurrency === 50)?.jobsPerSec ?? 1_000;
  const latencies = await leastDisturbed(() => addToCompletedCeiling({ ...base, durationMs: Math.max(2_000, args.durationMs / 2), rates: [1_000, c50 / 2] }), worst, retry);
  const ws = await leastDisturbed(() => wsBroadcastCeiling({ ...base, clients: args.num('clients', 1_000), rooms: args.num('rooms', 10), allRoomsRates: [25] }), worst, retry);

  const ms = (n: number) => n.toFixed(2);
  const vs = (value: number, ref: number | undefined): Cell[] => (ref ? [ref, pct(ratio(value, ref))] : ['', '']);
  const cores = (n: number) => n.toFixed(2);
  const rows: Cell[][] = [
    ['Koa hello world', `${fmt(hello.rps)} req/s`, ms(hello.p50), ms(hello.p99), cores(hello.serverCpuCores), cores(hello.otherCpuCores), ...vs(hello.rps, REF.koaHello)],
    ['Koa POST + one Queue.add', `${fmt(add.rps)} req/s`, ms(add.p50), ms(add.p99), cores(add.serverCpuCores), cores(add.otherCpuCores), ...vs(add.rps, REF.koaAdd)],
    [
      'same, a worker (c=50) draining',
      `${fmt(addDraining.rps)} req/s`,
      ms(addDraining.p50),
      ms(addDraining.p99),
      cores(addDraining.serverCpuCores),
      cores(addDraining.otherCpuCores),
      ...vs(addDraining.rps, REF.koaAddDraining),
    ],
    ...drains.map((d): Cell[] => [`no-op worker drain, c=${d.concurrency}`, `${fmt(d.jobsPerSec)} jobs/s`, '', '', '', cores(d.otherCpuCores), ...vs(d.jobsPerSec, REF.drain[d.concurrency])]),
    ...latencies.map((l): Cell[] => [
      `add → completed at ${fmt(l.rate)}/s (c=50)`,
      `${fmt(l.completed)} jobs${l.skipped ? `, ${fmt(l.skipped)} adds skipped` : ''}`,
      ms(l.p50),
      ms(l.p99),
      cores(l.workerCpuCores),
      cores(l.otherCpuCores),
      '',
      '',
    ]),
    ...ws.map((w, i): Cell[] => [
      w.label,
      `${fmt(w.deliveriesPerSec)} deliveries/s`,
      ms(w.p50),
      ms(w.p99),
      cores(w.serverCpuCores),
      cores(w.otherCpuCores),
      ...vs(w.deliveriesPerSec, i === 0 ? REF.wsMax : undefined),
    ]),
  ];
  const table = { columns: ['ceiling', 'figure', 'p50 ms', 'p99 ms', 'server cores', 'other cores', 'CEILINGS.md', 'ratio'], rows };
  // Cores used by processes outside the benchmark (not Redis): above this, a figure is not the machine's.
  const DISTURBED = 0.25;
  const disturbed = rows.filter((r) => Number(r[5]) > DISTURBED).map((r) => `${String(r[0])} (${String(r[5])})`);

  finish({
    bench: 'ceilings',
    machine,
    table,
    figures: {
      koaHello: hello,
      koaQueueAdd: add,
      koaQueueAddWhileDraining: addDraining,
      workerDrain: Object.fromEntries(drains.map((d) => [`c${d.concurrency}`, d])),
      addBulkPerSec: drains[0]?.addBulkPerSec ?? 0,
      addToCompleted: latencies,
      ws,
    },
    ratios: {
      koaHelloVsReference: ratio(hello.rps, REF.koaHello),
      koaQueueAddVsReference: ratio(add.rps, REF.koaAdd),
      koaQueueAddWhileDrainingVsReference: ratio(addDraining.rps, REF.koaAddDraining),
      ...Object.fromEntries(drains.map((d) => [`workerDrainC${d.concurrency}VsReference`, ratio(d.jobsPerSec, REF.drain[d.concurrency] ?? 0)])),
      wsMaxVsReference: ratio(ws[0]?.deliveriesPerSec ?? 0, REF.wsMax),
      koaQueueAddVsHello: ratio(add.rps, hello.rps),
    },
    params: { duration: args.duration, connections: args.connections, jobs, clients: args.num('clients', 1_000), rooms: args.num('rooms', 10), retries: retry.retries },
    notes: [
      'Reference figures: ../shared/CEILINGS.md (2 vCPU, median of 3 runs). Ratios well under 1 on this kind of machine mean something else is using the cores.',
      ...(busyBefore > 0.15 ? [`${Math.round(busyBefore * 100)} % of the cores were busy with other work when the run started: figures are low.`] : []),
      ...(disturbed.length ? [`Other processes used more than ${DISTURBED} cores during: ${disturbed.join(', ')}. Re-run on a quiet machine before trusting those rows.`] : []),
      '"server cores": CPU of the server (and worker) processes; "other cores": CPU of everything outside the benchmark and Redis.',
    ],
  });
} finally {
  await deletePrefix(redis, prefix);
  redis.disconnect();
}
