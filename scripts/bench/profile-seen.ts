/**
 * Profiles Conveyor's mark-notify path under load: writes a .cpuprofile and prints the functions
 * and files with the most self time.
 *   --side api (default): the api role while POST /seen is driven at full speed.
 *   --side worker: facts queued through the api role (the batch jobs it makes), then the worker
 *     role is profiled while it delivers them all to a consumer that answers at once.
 * Usage: npx tsx scripts/bench/profile-seen.ts [--side api|worker] [--duration 10] [--out dir]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { cliArgs } from './lib/args.ts';
import { runHttpLoad, runHttpLoadAtRate } from './lib/http-load.ts';
import { startCpuMeter, startNodeScript } from './lib/processes.ts';
import { benchPrefix, benchRedis, deletePrefix } from './lib/redis.ts';
import { fillThroughApi } from './seen/fill.ts';

const args = cliArgs({
  name: 'profile-seen',
  summary: 'CPU profile of POST /seen (api side) or of its deliveries (worker side)',
  defaults: { duration: 10, connections: 64 },
  options: { 'out <dir>': 'profile directory (default /tmp/conveyor-prof)', 'side <s>': 'api (default) or worker', 'roles <r>': 'roles of the profiled api process (default api; api,worker profiles both)', 'jobs <n>': 'worker side: facts to deliver (default 50,000)' },
});
const side = args.str('side', 'api');
const out = args.str('out', '/tmp/conveyor-prof');
// Profiles of earlier runs would be mistaken for this one's.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const databaseUrl = `mysql://root@127.0.0.1:3306/conveyor_prof_${randomUUID().slice(0, 8)}`;
const prefix = benchPrefix('bench-prof');
const redis = benchRedis();
await migratedDatabase(databaseUrl);
const consumer = await startNodeScript<{ port: number }>('scripts/bench/seen/consumer.ts', { name: 'consumer' });
const conveyor = (roles: string, profiled: boolean) =>
  startNodeScript<{ port: number }>('scripts/bench/seen/conveyor.ts', {
    name: `conveyor[${roles}]`,
    nodeArgs: profiled ? ['--cpu-prof', `--cpu-prof-dir=${out}`] : [],
    args: ['--roles', roles, '--database-url', databaseUrl, '--prefix', prefix, '--consumer', `http://127.0.0.1:${consumer.info.port}/v1/seen`],
  });
const token = await signToken('bench-secret-bench-secret-bench-secret', { sub: randomUUID(), role: 'client', user_id: 'u' }, 3600);
let n = 0;
const load = (port: number, label: string) => {
  const o = { url: `http://127.0.0.1:${port}/4.0/mark-notify/v1/seen`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: () => `{"tag":"promotions","id":"${++n}"}`, connections: args.connections, durationMs: args.durationMs, label };
  // --rate: open loop at that rate (e.g. with --roles api,worker, the latency phase's load).
  return args.rate ? runHttpLoadAtRate({ ...o, rate: args.rate }) : runHttpLoad(o);
};

let headline: string;
if (side === 'worker') {
  // Facts queued as production queues them: through the api role (not profiled, no worker), in
  // the batch jobs it makes; then the worker role is profiled while it delivers them all.
  const queued = args.num('jobs', 50_000);
  const filler = await conveyor('api', false);
  const fill = await fillThroughApi({ redis, prefix, url: `http://127.0.0.1:${filler.info.port}/4.0/mark-notify/v1/seen`, facts: queued, connections: args.connections, body: () => `{"tag":"promotions","id":"${++n}"}`, headersFor: () => ({ authorization: `Bearer ${token}` }), label: 'queueing facts' });
  await filler.stop();
  await consumer.request('reset');
  const worker = await conveyor('worker', true);
  const cpu = await startCpuMeter([worker, consumer], redis);
  const t0 = performance.now();
  while (((await consumer.request('stats')) as { count: number }).count < fill.facts) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.stop();
  await worker.stop();
  headline = `${(fill.facts / seconds).toFixed(0)} deliveries/s (${fill.facts} facts in ${fill.jobs} jobs, ${(fill.facts / fill.jobs).toFixed(1)} per job, in ${seconds.toFixed(1)} s); cores ${JSON.stringify(cores)}`;
} else {
  const api = await conveyor(args.str('roles', 'api'), true);
  const cpu = await startCpuMeter([api], redis);
  const r = await load(api.info.port, 'profiling');
  const cores = await cpu.stop();
  await api.stop();
  headline = `${r.rps.toFixed(0)} req/s; cores ${JSON.stringify(cores)}`;
}
await consumer.stop();
await deletePrefix(redis, prefix);
redis.disconnect();
await dropDatabase(databaseUrl);

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }
// tsx's loader thread writes a profile too; the main thread's is the largest.
const file = readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => statSync(join(out, b)).size - statSync(join(out, a)).size)[0]!;
const prof = JSON.parse(readFileSync(join(out, file), 'utf8')) as { nodes: Node[] };
const total = prof.nodes.reduce((s, x) => s + x.hitCount, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const x of prof.nodes) {
  const where = x.callFrame.url.replace(/^file:\/\/.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/main\//, '');
  const key = `${x.callFrame.functionName || '(anon)'} ${where}:${x.callFrame.lineNumber}`;
  byFn.set(key, (byFn.get(key) ?? 0) + x.hitCount);
  const pkg = where.startsWith('nm:') ? where.split('/').slice(0, where.startsWith('nm:@') ? 2 : 1).join('/') : where || x.callFrame.functionName;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + x.hitCount);
}
const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, h]) => `${((h / total) * 100).toFixed(1).padStart(5)} %  ${name}`).join('\n');
process.stdout.write(`${headline}\nprofile: ${join(out, file)}\n\nby package/file:\n${top(byFile, 25)}\n\nby function:\n${top(byFn, 40)}\n`);
