/**
 * ws scale on one process: many idle sockets on one Conveyor ws process (`--role ws`, events
 * through Redis the way the chat module publishes them) and, in the same run, on a bare `ws`
 * broadcast server with the same sockets, frames and schedule.
 *  1. memory per socket: the server's RSS, heap and off-heap buffers after a full GC, before and
 *     after the sockets connect (a warm-up connect/broadcast/close first, so code loading and JIT
 *     do not count), divided by the sockets;
 *  2. broadcast: one room holds every socket; events are published one at a time (the next once
 *     every socket got the last, after a short gap), each frame timed from publish to receipt on
 *     CLOCK_MONOTONIC (every process shares it): p50/p99 per frame, and per event the time to
 *     the last socket.
 * The sockets live in client processes of their own (file descriptors and reading spread out),
 * on loopback only, spread over source addresses 127.0.0.x when one would run out of ports.
 * Usage: npm run bench:ws-scale -- [--sockets 10000] [--events 50] [--client-processes 2]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliArgs } from './lib/args.ts';
import { makeEvent } from './lib/chat-frames.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { startNodeScript, type ChildHandle } from './lib/processes.ts';
import { note, startPhase } from './lib/progress.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { LatencyHistogram } from './lib/stats.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import type { ClientSummary, ConnectPlan } from './wsScaleClients.ts';
import { toWire } from '../../src/domain/chat/chatEvent.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';

const args = cliArgs({
  name: 'bench:ws-scale',
  summary: 'Idle sockets on one ws process: memory per socket and broadcast latency to all of them; Conveyor beside bare ws, same run.',
  options: {
    'sockets <n>': 'idle sockets per server (default 10000)',
    'events <n>': 'broadcast events measured per server (default 50), one at a time',
    'gap-ms <ms>': 'pause between one event reaching every socket and the next publish (default 100)',
    'bytes <n>': 'frame size in bytes (default 300)',
    'client-processes <n>': 'processes holding the sockets (default 2)',
    'sources <n>': 'loopback source addresses 127.0.0.1… to spread sockets over (default: enough for the ephemeral port range)',
    'parallel <n>': 'handshakes in flight per client process (default 50)',
    'warmup-sockets <n>': 'sockets connected, broadcast to and closed before the memory baseline (default 200)',
    'idle-seconds <s>': 'idle time after connecting, before the memory reading (default 3)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'skip-bare': 'measure Conveyor only',
    'conveyor-env <list>': 'extra environment of the Conveyor server, K=V,K=V (e.g. WS_HEARTBEAT=0)',
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 30)',
  },
});

const SECRET = 'bench-ws-scale-secret-0123456789abcdef-0123';
const sockets = args.num('sockets', 10_000);
const events = args.num('events', 50);
const gapMs = args.num('gap-ms', 100);
const bytes = args.num('bytes', 300);
const processes = Math.max(1, Math.min(args.num('client-processes', 2), sockets));
const parallel = args.num('parallel', 50);
const warmup = args.num('warmup-sockets', 200);
const idleMs = args.num('idle-seconds', 3) * 1000;
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const KB = 1024;
const conveyorEnv = Object.fromEntries(args.str('conveyor-env', '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/** The soft limit on open files every process of the run inherits. */
function openFilesLimit(): number {
  const n = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  return Number.isFinite(n) ? n : Infinity;
}

/** Ephemeral ports one source address has towards one server port. */
function ephemeralPorts(): number {
  try {
    const [lo, hi] = execFileSync('cat', ['/proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return hi! - lo! + 1;
  } catch {
    return 28_000;
  }
}

interface MemoryNow {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  newSpace: number;
  oldSpace: number;
  external: number;
  arrayBuffers: number;
}

interface Result {
  server: string;
  connectPerSec: number;
  before: MemoryNow;
  /** With the first half of the sockets connected: the second half's cost is the marginal one. */
  half: MemoryNow;
  after: MemoryNow;
  /** Frame publish-to-receipt over all sockets and events. */
  frame: { p50: number; p99: number; max: number };
  /** Per event, publish to the last socket's receipt. */
  last: { p50: number; p99: number; max: number };
  /** Server CPU per delivered frame during the broadcasts. */
  serverUsPerFrame: number;
  missing: number;
  extra: number;
  closed: number;
}

const firstHalf = Math.floor(sockets / 2);
const perSocketKB = (r: Result, key: keyof MemoryNow) => (r.after[key] - r.before[key]) / sockets / KB;
/** What a socket costs once the process has grown to serve many (pools, caches, heap slack already there). */
const marginalKB = (r: Result, key: keyof MemoryNow) => (r.after[key] - r.half[key]) / (sockets - firstHalf) / KB;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const limit = openFilesLimit();
  const perClient = Math.ceil(sockets / processes);
  if (sockets + 200 > limit || perClient + 200 > limit) {
    throw new Error(`${sockets} sockets need an open-files limit above ${sockets + 200} for the server process (ulimit -n is ${limit}): raise it or lower --sockets`);
  }
  // Both targets may hold their sockets' ports in TIME_WAIT at once; half the range per target.
  const sources = args.num('sources', Math.max(1, Math.ceil(sockets / (ephemeralPorts() / 2))));

  const redis = benchRedis(redisUrl);
  const mysqlBase = args.str('mysql', 'mysql://root@127.0.0.1:3306');
  const databaseUrl = `${mysqlBase}/conveyor_bench_wsscale_${randomUUID().slice(0, 8)}`;
  const idleWait = args.num('idle-wait', 30);
  note(`waiting (up to ${idleWait} s) for idle cores…`);
  const busyBefore = await waitForIdle(idleWait * 1000);
  const machine = await machineFacts({ redis, busyBefore, mysqlUrl: mysqlBase });
  await migratedDatabase(databaseUrl);
  note(`${fmt(sockets)} sockets in one room over ${processes} client processes and ${sources} source address(es); open-files limit ${limit}; ${events} events of ${bytes} bytes`);

  const clients: ChildHandle[] = [];
  const prefixes: string[] = [];
  let seq = 0;
  try {
    for (let k = 0; k < processes; k++) clients.push(await startNodeScript('scripts/bench/wsScaleClients.ts', { name: `clients-${k + 1}` }));

    /** Connects `n` sockets spread over the client processes; resolves with the elapsed ms. */
    const connectAll = async (plan: Omit<ConnectPlan, 'count'>, n: number): Promise<number> => {
      const t0 = performance.now();
      await Promise.all(clients.map((c, k) => {
        const share = Math.floor(n / processes) + (k < n % processes ? 1 : 0);
        return share > 0 ? c.request('connect', { ...plan, count: share } satisfies ConnectPlan, 600_000) : Promise.resolve();
      }));
      return performance.now() - t0;
    };
    const closeAll = () => Promise.all(clients.map((c) => c.request('close', undefined, 60_000)));

    /** Publishes `n` events one at a time; each waits until every socket got the last one. */
    const broadcast = async (n: number, publish: (seq: number) => Promise<void>, label: string): Promise<ClientSummary[]> => {
      const firstSeq = seq;
      await Promise.all(clients.map((c) => c.request('reset', { firstSeq, events: n })));
      let done = 0;
      const bar = startPhase(label, { counter: () => done, unit: 'events' });
      for (let k = 0; k < n; k++, seq++) {
        await publish(seq);
        await Promise.all(clients.map((c) => c.request('waitFor', { seq, timeoutMs: 30_000 }, 40_000)));
        done++;
        await sleep(gapMs);
      }
      bar.done();
      return Promise.all(clients.map((c) => c.request<ClientSummary>('summary', undefined, 60_000)));
    };

    async function measure(kind: 'conveyor' | 'bare'): Promise<Result> {
      let server: ChildHandle<{ port: number }>;
      let room: string;
      let publish: (seq: number) => Promise<void>;
      if (kind === 'conveyor') {
        const prefix = benchPrefix('bench-wsscale');
        prefixes.push(prefix);
        room = randomUUID();
        server = await startNodeScript<{ port: number }>('scripts/bench/ws.ts', {
          name: 'conveyor-ws',
          args: ['--serve'],
          nodeArgs: ['--expose-gc'],
          env: { NODE_ENV: 'development', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: SECRET, ADMIN_PASSWORD: 'bench-admin-password', LOG_LEVEL: 'warn', DB_POOL_MAX: '20', QUEUE_PREFIX: prefix, ...conveyorEnv },
        });
        // The chat module's own publishing path (history push + PUBLISH in one script).
        publish = (n) => publishChatEvents({ redis, prefix }, [makeEvent(room, bytes, n)]);
      } else {
        room = 'r0';
        server = await startNodeScript<{ port: number }>('scripts/bench/ceilings/ws-broadcast.ts', { name: 'bare-ws', args: ['--rooms', '1'], nodeArgs: ['--expose-gc'] });
        // The frame Conveyor would write, posted verbatim to the room.
        publish = async (n) => {
          const res = await fetch(`http://127.0.0.1:${server.info.port}/publish?room=${room}`, { method: 'POST', body: JSON.stringify(toWire(makeEvent(room, bytes, n))) });
          await res.arrayBuffer();
        };
      }
      const name = kind === 'conveyor' ? 'conveyor ws' : 'bare ws';
      try {
        const plan = { kind, port: server.info.port, room, secret: SECRET, sources, parallel };
        // Warm-up: the first connections and frames load and compile code no socket should be charged for.
        await connectAll(plan, warmup);
        await broadcast(3, publish, `${name}: warm-up, ${warmup} sockets`);
        await closeAll();
        await sleep(1_000);
        const before = await server.request<MemoryNow>('liveMemory');

        const held = async () => (kind === 'conveyor' ? (await server.request<{ connections: number }>('stats')).connections : (await server.request<{ clients: number }>('stats')).clients);
        let connectMs = 0;
        const readings: MemoryNow[] = [];
        for (const [from, to] of [[0, firstHalf], [firstHalf, sockets]] as const) {
          const bar = startPhase(`${name}: connecting sockets ${from + 1}–${to}`);
          const ms = await connectAll(plan, to - from);
          connectMs += ms;
          const seen = await held();
          if (seen !== to) throw new Error(`${name} holds ${seen} sockets, expected ${to}`);
          bar.done(`${fmt(((to - from) * 1000) / ms)} sockets/s`);
          await sleep(idleMs);
          readings.push(await server.request<MemoryNow>('liveMemory'));
        }
        const [half, after] = readings as [MemoryNow, MemoryNow];
        const mb = (k: keyof MemoryNow) => `${k} ${(before[k] / 2 ** 20).toFixed(1)} → ${(half[k] / 2 ** 20).toFixed(1)} → ${(after[k] / 2 ** 20).toFixed(1)} MB`;
        note(`${name}: ${(['rss', 'heapUsed', 'heapTotal', 'newSpace', 'oldSpace', 'external'] as const).map(mb).join(', ')}`);

        const cpu0 = await server.cpuUsage();
        const summaries = await broadcast(events, publish, `${name}: ${events} broadcasts to ${fmt(sockets)} sockets`);
        const cpu1 = await server.cpuUsage();

        const histogram = new LatencyHistogram();
        for (const s of summaries) histogram.merge(s.histogram);
        // Per event: the last receipt over every client process; an event some socket never got has none.
        const lastPerEvent: number[] = [];
        for (let k = 0; k < events; k++) {
          const all = summaries.map((s) => s.lastMs[k]);
          if (all.every((v): v is number => typeof v === 'number')) lastPerEvent.push(Math.max(...all));
        }
        lastPerEvent.sort((a, b) => a - b);
        const frames = summaries.reduce((a, s) => a + s.counts.reduce((x, y) => x + y, 0), 0);
        const f = histogram.summary();
        await closeAll();
        return {
          server: name,
          connectPerSec: (sockets * 1000) / connectMs,
          before,
          half,
          after,
          frame: { p50: f.p50, p99: f.p99, max: f.max },
          last: { p50: quantile(lastPerEvent, 0.5), p99: quantile(lastPerEvent, 0.99), max: lastPerEvent.at(-1) ?? NaN },
          serverUsPerFrame: frames > 0 ? (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / frames : NaN,
          missing: summaries.reduce((a, s) => a + s.missing, 0),
          extra: summaries.reduce((a, s) => a + s.extra, 0),
          closed: summaries.reduce((a, s) => a + s.closed, 0),
        };
      } finally {
        await closeAll().catch(() => undefined);
        await server.stop();
      }
    }

    const results: Result[] = [await measure('conveyor')];
    if (!args.flag('skip-bare')) results.push(await measure('bare'));

    const [conv, bare] = results as [Result, Result | undefined];
    const convRss = perSocketKB(conv, 'rss');
    const table = {
      columns: ['server', 'sockets', 'connects/s', 'RSS MB before → half → all', 'RSS KB/socket', 'heap KB/socket', 'RSS KB/socket, 2nd half', 'heap KB/socket, 2nd half', 'frame p50 ms', 'frame p99 ms', 'last socket p50 ms', 'last socket p99 ms', 'server µs/frame', 'missing', 'extra'],
      rows: results.map((r): Cell[] => [
        r.server, sockets, r.connectPerSec, [r.before, r.half, r.after].map((m) => (m.rss / 2 ** 20).toFixed(0)).join(' → '),
        perSocketKB(r, 'rss').toFixed(2), perSocketKB(r, 'heapUsed').toFixed(2), marginalKB(r, 'rss').toFixed(2), marginalKB(r, 'heapUsed').toFixed(2),
        r.frame.p50.toFixed(1), r.frame.p99.toFixed(1), r.last.p50.toFixed(1), r.last.p99.toFixed(1), r.serverUsPerFrame.toFixed(2), String(r.missing), String(r.extra + r.closed),
      ]),
    };
    const ratios: Record<string, number> = bare
      ? {
          'conveyor / bare ws, RSS per socket': ratio(convRss, perSocketKB(bare, 'rss')),
          'conveyor / bare ws, frame p99': ratio(conv.frame.p99, bare.frame.p99),
          'conveyor / bare ws, last socket p99': ratio(conv.last.p99, bare.last.p99),
        }
      : {};
    const notes = [
      `${fmt(sockets)} idle sockets in one room on one server process, held by ${processes} client processes; ${events} events of ${bytes} bytes published one at a time (the next ${gapMs} ms after every socket got the last).`,
      `Conveyor: ${convRss.toFixed(2)} KB RSS per socket (heap ${perSocketKB(conv, 'heapUsed').toFixed(2)} KB); target ≤ 20 KB: ${convRss <= 20 ? 'met' : 'MISSED'}${bare ? `; bare ws ${perSocketKB(bare, 'rss').toFixed(2)} KB (${pct(ratio(convRss, perSocketKB(bare, 'rss')))})` : ''}.`,
      `Broadcast to all ${fmt(sockets)}: frame p99 ${conv.frame.p99.toFixed(1)} ms, last socket p50 ${conv.last.p50.toFixed(1)} / p99 ${conv.last.p99.toFixed(1)} ms${bare ? `; bare ws ${bare.frame.p99.toFixed(1)} ms, ${bare.last.p50.toFixed(1)} / ${bare.last.p99.toFixed(1)} ms` : ''}.`,
      'Memory is the server process after a full GC, before connecting, with half and with all the sockets (kernel socket buffers are not in RSS); per socket = growth ÷ sockets, "2nd half" = the growth of the second half ÷ its sockets. Latency includes the client processes reading every frame on the same cores.',
    ];
    finish({
      bench: 'ws scale (idle sockets, one process)',
      machine,
      table,
      figures: { sockets, events, bytes, processes, sources, results },
      ratios,
      params: { sockets, events, gapMs, bytes, processes, sources, parallel, warmup, idleMs },
      notes,
    });
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    for (const prefix of prefixes) await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

await main();
