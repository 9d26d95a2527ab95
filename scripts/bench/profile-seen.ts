/**
 * Profiles Conveyor's POST /seen (api role) under load: writes a .cpuprofile and prints the
 * functions and files with the most self time. Usage: npx tsx scripts/bench/profile-seen.ts [--duration 10] [--out dir]
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, dropDatabase, ensureDatabase, migrate } from '../../src/platform/db.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { cliArgs } from './lib/args.ts';
import { runHttpLoad } from './lib/http-load.ts';
import { startNodeScript } from './lib/processes.ts';
import { benchPrefix, benchRedis, deletePrefix } from './lib/redis.ts';

const args = cliArgs({ name: 'profile-seen', summary: 'CPU profile of POST /seen', defaults: { duration: 10, connections: 64 }, options: { 'out <dir>': 'profile directory (default /tmp/conveyor-prof)', 'roles <r>': 'roles (default api)' } });
const out = args.str('out', '/tmp/conveyor-prof');
const databaseUrl = `mysql://root@127.0.0.1:3306/conveyor_prof_${randomUUID().slice(0, 8)}`;
const prefix = benchPrefix('bench-prof');
const redis = benchRedis();
await ensureDatabase(databaseUrl);
const db = createDb(databaseUrl, 1);
await migrate(db);
await db.destroy();
const consumer = await startNodeScript<{ port: number }>('scripts/bench/seen/consumer.ts', { name: 'consumer' });
const child = await startNodeScript<{ port: number }>('scripts/bench/seen/conveyor.ts', {
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${out}`],
  args: ['--roles', args.str('roles', 'api'), '--database-url', databaseUrl, '--prefix', prefix, '--consumer', `http://127.0.0.1:${consumer.info.port}/v1/seen`],
});
const token = await signToken('bench-secret-bench-secret-bench-secret', { sub: randomUUID(), role: 'client', user_id: 'u' }, 3600);
let n = 0;
const r = await runHttpLoad({ engine: 'raw', url: `http://127.0.0.1:${child.info.port}/4.0/mark-notify/v1/seen`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: () => `{"tag":"promotions","id":"${++n}"}`, connections: args.connections, durationMs: args.durationMs, label: 'profiling' });
await child.stop();
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
process.stdout.write(`${r.rps.toFixed(0)} req/s\n\nby package/file:\n${top(byFile, 25)}\n\nby function:\n${top(byFn, 30)}\n`);
