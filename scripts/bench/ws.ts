/**
 * WebSocket fan-out: Conveyor's ws role (a `--role ws` process, events through Redis pub/sub the
 * way the chat module publishes them) beside a bare `ws` broadcast server measured in the same
 * run, with the same clients, rooms, frames and publish schedule.
 *  1. Conveyor, bare ws, and two Conveyor ws processes sharing the rooms through Redis, taking
 *     turns at rising event rates: delivered frames/s, p50/p99 publish-to-receive;
 *  2. Conveyor and bare ws at half of Conveyor's sustained maximum: p99;
 *  3. one frozen client (stops reading): server memory, Conveyor beside bare ws.
 * Usage: npm run bench:ws -- [--duration 5] [--clients-layout 500,100x2,20x10,1x100] [--rates 50,100,...]
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { RawData } from 'ws';
import { cliArgs } from './lib/args.ts';
import { serveChild } from './lib/child.ts';
import { leastDisturbed, machineFacts, waitForIdle } from './lib/machine.ts';
import { startCpuMeter, startNodeScript, type ChildHandle } from './lib/processes.ts';
import { note, startPhase } from './lib/progress.ts';
import { RawHttpPool, requestBytes } from './lib/raw-http.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { MemorySampler, nowMs, type MemoryReading, type MemoryReport } from './lib/stats.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { connectWsClients, type WsClients } from './lib/ws-clients.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { createDb, dropDatabase, ensureDatabase, migrate } from '../../src/platform/db.ts';
import { toWire, type ChatEvent } from '../../src/domain/chat/chatEvent.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import { wsExtension } from '../../src/ws/extension.ts';

const args = cliArgs({
  name: 'bench:ws',
  summary: 'ws fan-out: Conveyor (--role ws, Redis pub/sub) beside a bare ws broadcast server, same clients and schedule.',
  defaults: { duration: 5 },
  options: {
    'layout <list>': 'room sizes, "size" or "sizeXcount" (default 500,100x2,20x10,1x100: 1,000 clients in 113 rooms)',
    'rates <list>': 'events/s of the rising phases (default 50,100,200,400,800,1600,3200); a phase that falls behind ends the ramp',
    'bytes <n>': 'frame size in bytes (default 300)',
    'frozen-bytes <n>': 'frame size sent to the frozen client (default 8192)',
    'frozen-rate <n>': 'frames/s sent to the frozen client (default 200)',
    'frozen-seconds <s>': 'length of the frozen-client phase (default 30)',
    'frozen-others <n>': 'events/s to the other rooms meanwhile (default 100)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'skip-bare': 'measure Conveyor only',
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 60)',
  },
});

const SECRET = 'bench-ws-secret-0123456789abcdef-0123456789';
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);

// ---- child: a Conveyor process with the ws role alone -----------------------------------------

if (args.flag('serve')) {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', ROLE: 'ws' });
  const ext = wsExtension();
  const running = await start(config, ['ws'], { metricsDefaults: false, extensions: [ext] });
  const child = serveChild({
    commands: {
      // Live memory: after a full GC (the child runs with --expose-gc), so garbage does not pass for a leak.
      liveMemory: () => {
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
      },
      stats: async () => {
        const drops = await running.services.metrics.wsDrops.get();
        return { ...ext.server!.stats(), drops: Object.fromEntries(drops.values.map((v) => [String(v.labels.reason), v.value])) };
      },
    },
    stop: () => running.stop(),
  });
  child.ready({ port: running.port });
} else {
  await main();
}

// ---- parent -----------------------------------------------------------------------------------

type Server = ChildHandle<{ port: number }>;

interface Layout {
  sizes: number[];
  /** Room index of each client. */
  roomOf: number[];
  /** Cumulative size fractions: an event goes to a room with probability size/clients (every viewer is as chatty). */
  cumulative: number[];
  clients: number;
}

function parseLayout(text: string): Layout {
  const sizes: number[] = [];
  for (const part of text.split(',')) {
    const [size, count = '1'] = part.trim().toLowerCase().split('x');
    for (let i = 0; i < Number(count); i++) sizes.push(Number(size));
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`bad --layout "${text}"`);
  const clients = sizes.reduce((a, b) => a + b, 0);
  const roomOf = sizes.flatMap((size, k) => Array.from({ length: size }, () => k));
  let acc = 0;
  const cumulative = sizes.map((s) => (acc += s / clients));
  return { sizes, roomOf, cumulative, clients };
}

function pickRoom(layout: Layout): number {
  const r = Math.random();
  const k = layout.cumulative.findIndex((c) => r < c);
  return k < 0 ? layout.sizes.length - 1 : k;
}

/** `"t":<ms>` inside the frame's data: found with a byte search, no JSON parse. */
function readJsonStamp(data: RawData): number | undefined {
  if (!Buffer.isBuffer(data)) return undefined;
  const i = data.indexOf('"t":');
  if (i < 0) return undefined;
  const t = parseFloat(data.toString('latin1', i + 4, i + 4 + 24));
  return Number.isFinite(t) ? t : undefined;
}

/** A chat event whose wire frame is `bytes` long and carries its publish time. */
function makeEvent(room: string, bytes: number): ChatEvent {
  const event: ChatEvent = { type: 'message', event_id: randomUUID(), room, at: new Date().toISOString(), data: { t: nowMs(), pad: '' }, audience: null };
  const size = Buffer.byteLength(JSON.stringify(toWire(event)));
  (event.data as { pad: string }).pad = 'x'.repeat(Math.max(0, bytes - size));
  return event;
}

interface Target {
  name: string;
  servers: Server[];
  clients: WsClients;
  /** Publishes one event to room k; returns how many deliveries it should make. */
  publish(k: number, bytes: number): number;
  close(): Promise<void>;
}

interface Phase {
  target: string;
  rate: number;
  deliveredPerSec: number;
  /** Frames/s the published events called for. */
  expectedPerSec: number;
  /** Delivered at least 95 % of that within the window, p99 under a second: the rate was sustained. */
  keptUp: boolean;
  p50: number;
  p99: number;
  lost: number;
  serverCores: number;
  clientCores: number;
  redisCores: number;
  otherCores: number;
}

/** Publishes on schedule (catching up on late timer ticks) for durationMs; returns expected deliveries. */
async function publishAtRate(rate: number, durationMs: number, publish: () => number): Promise<number> {
  const t0 = performance.now();
  const endAt = t0 + durationMs;
  let i = 0;
  let expected = 0;
  while (performance.now() < endAt) {
    const now = performance.now();
    while (t0 + i * (1000 / rate) <= now) {
      expected += publish();
      i++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return expected;
}

/** measure(), again (twice at most) while processes outside the benchmark take more than a quarter core. */
function steadyMeasure(...a: Parameters<typeof measure>): Promise<Phase> {
  return leastDisturbed(() => measure(...a), (p) => p.otherCores, { retries: 2, threshold: 0.25, onRetry });
}

/** The same with more attempts, for the phases a target is judged by. */
function carefulMeasure(...a: Parameters<typeof measure>): Promise<Phase> {
  return leastDisturbed(() => measure(...a), (p) => p.otherCores, { retries: 5, threshold: 0.1, onRetry });
}

function onRetry(n: number, others: number): void {
  note(`other processes used ${others} cores: measuring again (${n})`);
}

async function measure(target: Target, rate: number, durationMs: number, bytes: number, layout: Layout, monitor: ReturnType<typeof benchRedis>): Promise<Phase> {
  const { clients } = target;
  clients.reset();
  const cpu = await startCpuMeter(target.servers, monitor);
  const bar = startPhase(`${target.name} at ${fmt(rate)} events/s`, { totalMs: durationMs, counter: () => clients.delivered, unit: 'frames' });
  const t0 = performance.now();
  const expected = await publishAtRate(rate, durationMs, () => target.publish(pickRoom(layout), bytes));
  const inWindow = clients.delivered;
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.stop();
  await clients.settle(expected, 15_000, 2_000);
  const lost = Math.max(0, expected - clients.delivered);
  const h = clients.histogram;
  const phase: Phase = {
    target: target.name,
    rate,
    deliveredPerSec: inWindow / seconds,
    expectedPerSec: expected / seconds,
    keptUp: inWindow >= 0.95 * expected && h.percentile(99) < 1_000,
    p50: h.percentile(50),
    p99: h.percentile(99),
    lost,
    serverCores: target.servers.reduce((a, s) => a + (cores[s.name] ?? 0), 0),
    clientCores: cores.parent ?? 0,
    redisCores: cores.redis ?? 0,
    otherCores: cores.others ?? 0,
  };
  bar.done(`${fmt(phase.deliveredPerSec)} frames/s, p99 ${phase.p99.toFixed(1)} ms${lost ? `, ${fmt(lost)} not delivered` : ''}`);
  return phase;
}

/** The best delivery rate among phases that kept up (the first phase's when none did). */
function sustainedMax(phases: Phase[]): number {
  const kept = phases.filter((p) => p.keptUp);
  return Math.max(...(kept.length > 0 ? kept : phases.slice(0, 1)).map((p) => p.deliveredPerSec));
}

function freeze(ws: unknown): void {
  (ws as { _socket: Socket })._socket.pause();
}

async function main(): Promise<void> {
  const layout = parseLayout(args.str('layout', '500,100x2,20x10,1x100'));
  const rates = args.str('rates', '50,100,200,400,800,1600,3200').split(',').map(Number);
  const bytes = args.num('bytes', 300);
  const frozenBytes = args.num('frozen-bytes', 8192);
  const frozenRate = args.num('frozen-rate', 200);
  const frozenMs = args.num('frozen-seconds', 30) * 1000;
  const durationMs = args.durationMs;
  const fanout = layout.sizes.reduce((a, s) => a + s * s, 0) / layout.clients;

  const redis = benchRedis(redisUrl);
  const mysqlBase = args.str('mysql', 'mysql://root@127.0.0.1:3306');
  const databaseUrl = `${mysqlBase}/conveyor_bench_ws_${randomUUID().slice(0, 8)}`;
  const idleWait = args.num('idle-wait', 60);
  note(`waiting (up to ${idleWait} s) for idle cores…`);
  const busyBefore = await waitForIdle(idleWait * 1000);
  const machine = await machineFacts({ redis, busyBefore, mysqlUrl: mysqlBase });
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, 2);
  await migrate(db);
  await db.destroy();
  note(`${layout.clients} clients in ${layout.sizes.length} rooms (${layout.sizes.slice(0, 6).join(', ')}…), ${fmt(fanout)} deliveries per event on average, ${bytes}-byte frames`);

  const roomIds = layout.sizes.map(() => randomUUID());
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
  const tokens = await Promise.all(layout.roomOf.map(() => signToken(SECRET, { sub: randomUUID(), role: 'client', exp })));
  const serverEnv = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'development', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: SECRET,
    ADMIN_PASSWORD: 'bench-admin-password', LOG_LEVEL: 'warn', DB_POOL_MAX: '20', ...extra,
  });

  const prefixes: string[] = [];
  /** Conveyor ws processes (1 or 2): client i goes to process i % n. */
  async function conveyor(name: string, processes: number, env: Record<string, string> = {}): Promise<Target> {
    // A prefix per target: targets measured in turn must not hear each other's events.
    const prefix = benchPrefix('bench-ws');
    prefixes.push(prefix);
    const servers: Server[] = [];
    for (let i = 0; i < processes; i++) {
      servers.push(await startNodeScript<{ port: number }>('scripts/bench/ws.ts', { name: `${name}-${i + 1}`, args: ['--serve'], env: { ...serverEnv(env), QUEUE_PREFIX: prefix }, nodeArgs: ['--expose-gc'] }));
    }
    const clients = await connectWsClients({
      count: layout.clients,
      urlFor: (i) => `ws://127.0.0.1:${servers[i % processes]!.info.port}/ws?room=${roomIds[layout.roomOf[i]!]}&token=${tokens[i]}`,
      timestampOf: readJsonStamp,
      parallel: 50,
    });
    const seen = (await Promise.all(servers.map((s) => s.request<{ connections: number }>('stats')))).reduce((a, s) => a + s.connections, 0);
    if (seen !== layout.clients) throw new Error(`${name} sees ${seen} clients, expected ${layout.clients}`);
    return {
      name,
      servers,
      clients,
      publish(k, size) {
        // The chat module's own publishing path (history push + PUBLISH in one script).
        publishChatEvents({ redis, prefix }, [makeEvent(roomIds[k]!, size)]).catch((err: unknown) => note(`publish failed: ${String(err)}`));
        return layout.sizes[k]!;
      },
      async close() {
        await clients.close();
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
  }

  async function bare(): Promise<Target> {
    const server = await startNodeScript<{ port: number }>('scripts/bench/ceilings/ws-broadcast.ts', { name: 'bare-ws', args: ['--rooms', String(layout.sizes.length)] });
    const clients = await connectWsClients({ count: layout.clients, urlFor: (i) => `ws://127.0.0.1:${server.info.port}/?room=r${layout.roomOf[i]}`, timestampOf: readJsonStamp });
    const pool = new RawHttpPool({ host: '127.0.0.1', port: server.info.port, method: 'POST', connections: 8, timeoutMs: 30_000 });
    const host = `127.0.0.1:${server.info.port}`;
    return {
      name: 'bare ws',
      servers: [server],
      clients,
      publish(k, size) {
        // The same frame Conveyor would write, sent verbatim to the room.
        const frame = JSON.stringify(toWire(makeEvent(roomIds[k]!, size)));
        pool.request(requestBytes('POST', `/publish?room=r${k}`, host, 'content-type: application/json\r\n', frame)).catch(() => undefined);
        return layout.sizes[k]!;
      },
      async close() {
        pool.close();
        await clients.close();
        await server.stop();
      },
    };
  }

  /**
   * One client, alone in its room, stops reading while its room gets `frozenBytes` frames at
   * `frozenRate`/s on top of the usual traffic; the server's memory is sampled meanwhile.
   */
  async function frozen(target: Target, rate: number): Promise<{ memory: MemoryReport; maxSocketBufferedMB?: number; maxTotalBufferedMB?: number; after?: MemoryReading; stats?: Record<string, unknown> }> {
    const room = layout.sizes.lastIndexOf(Math.min(...layout.sizes));
    freeze(target.clients.sockets[layout.roomOf.indexOf(room)]);
    // Conveyor's child can run a full GC before each reading, so its heap figure is live memory only.
    const conveyorServer = target.name.startsWith('conveyor') ? target.servers[0]! : undefined;
    const reading = conveyorServer ? () => conveyorServer.request<MemoryReading>('liveMemory') : () => target.servers[0]!.memory();
    const sampler = new MemorySampler(reading, 1_000).start();
    // Conveyor also tells what its sockets hold in userland buffers: the frozen client's cost.
    let maxBuffered = 0;
    let maxTotal = 0;
    const buffers = conveyorServer
      ? setInterval(() => void conveyorServer.request<{ maxSocketBufferedBytes: number; bufferedBytes: number }>('stats').then((st) => {
          maxBuffered = Math.max(maxBuffered, st.maxSocketBufferedBytes);
          maxTotal = Math.max(maxTotal, st.bufferedBytes);
        }, () => undefined), 250)
      : undefined;
    const bar = startPhase(`${target.name}, one frozen client: ${fmt(frozenRate)}/s of ${frozenBytes} bytes to it, ${fmt(rate)} events/s elsewhere`, { totalMs: frozenMs });
    const total = rate + frozenRate;
    let n = 0;
    // Spread evenly: event n goes to the frozen room when n·frozenRate/total crosses an integer.
    const toFrozen = () => Math.floor(((n + 1) * frozenRate) / total) > Math.floor((n++ * frozenRate) / total);
    await publishAtRate(total, frozenMs, () => (toFrozen() ? target.publish(room, frozenBytes) : target.publish(pickRoom(layout), bytes)));
    const memory = await sampler.stop();
    clearInterval(buffers);
    bar.done(`RSS ${memory.rss.startMB.toFixed(0)} → max ${memory.rss.maxMB.toFixed(0)} MB`);
    if (!conveyorServer) return { memory };
    // Once the other clients have read everything, what is left is what the server keeps.
    await target.clients.settle(Number.MAX_SAFE_INTEGER, 10_000, 1_000);
    const after = await conveyorServer.request<MemoryReading>('liveMemory');
    const stats = await conveyorServer.request<Record<string, unknown>>('stats');
    return { memory, stats, after, maxSocketBufferedMB: maxBuffered / 2 ** 20, maxTotalBufferedMB: maxTotal / 2 ** 20 };
  }

  const phases: Phase[] = [];
  const memoryRows: Cell[][] = [];
  const figures: Record<string, unknown> = {};
  try {
    // A high buffer cap for the ramps: clients in this process may lag at top rates, and the bare
    // server has no cap either; the frozen-client phase runs with the default 1 MiB.
    const bigCap = { WS_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024) };
    const one = await conveyor('conveyor ws', 1, bigCap);
    const b = args.flag('skip-bare') ? undefined : await bare();
    const two = await conveyor('conveyor ws ×2', 2, bigCap);
    const targets = [one, ...(b ? [b] : []), two];
    // The targets take turns at each rate, so load from outside the benchmark falls on all of them alike.
    const byTarget = new Map<Target, Phase[]>(targets.map((t) => [t, []]));
    const ramping = new Set(targets);
    // Warm-up, unmeasured: the first frames run before the JIT has compiled the send path.
    for (const t of targets) await measure(t, rates[0]!, 1_000, bytes, layout, redis);
    for (const rate of rates) {
      for (const t of targets) {
        if (!ramping.has(t)) continue;
        const phase = await steadyMeasure(t, rate, durationMs, bytes, layout, redis);
        byTarget.get(t)!.push(phase);
        // A phase that falls behind ends this target's ramp; it is kept as the overload figure.
        if (phase.lost > 0 || !phase.keptUp) ramping.delete(t);
      }
      if (ramping.size === 0) break;
    }
    const convMax = sustainedMax(byTarget.get(one)!);
    const bareMax = b ? sustainedMax(byTarget.get(b)!) : 0;
    const twoMax = sustainedMax(byTarget.get(two)!);
    const half = Math.max(1, Math.round(convMax / fanout / 2));
    byTarget.get(one)!.push({ ...(await carefulMeasure(one, half, durationMs, bytes, layout, redis)), target: 'conveyor ws, half max' });
    if (b) byTarget.get(b)!.push({ ...(await carefulMeasure(b, half, durationMs, bytes, layout, redis)), target: 'bare ws, same rate' });
    for (const t of targets) phases.push(...byTarget.get(t)!);
    const drops = await one.servers[0]!.request<{ drops: Record<string, number> }>('stats');
    for (const t of targets) await t.close();

    // Low enough that the other clients keep up: the phase is about one frozen client, not an overload.
    const memRate = args.num('frozen-others', 100);
    const fc = await conveyor('conveyor ws', 1);
    const convFrozen = await frozen(fc, memRate);
    await fc.close();
    const heap = (m: MemoryReport, after?: MemoryReading) => `${m.heapUsed.startMB.toFixed(0)} → ${m.heapUsed.maxMB.toFixed(0)}${after ? ` → ${(after.heapUsed / 2 ** 20).toFixed(0)} (live, after GC)` : ''}`;
    memoryRows.push(['conveyor ws (1 MiB cap)', convFrozen.memory.rss.startMB, convFrozen.memory.rss.maxMB, convFrozen.memory.rss.endMB, convFrozen.memory.rss.slopeMBPerMin, heap(convFrozen.memory, convFrozen.after), convFrozen.maxSocketBufferedMB ?? 0, convFrozen.maxTotalBufferedMB ?? 0, JSON.stringify((convFrozen.stats as { drops?: unknown })?.drops ?? {})]);
    let bareFrozen: { memory: MemoryReport } | undefined;
    if (!args.flag('skip-bare')) {
      const fb = await bare();
      bareFrozen = await frozen(fb, memRate);
      await fb.close();
      memoryRows.push(['bare ws (no cap)', bareFrozen.memory.rss.startMB, bareFrozen.memory.rss.maxMB, bareFrozen.memory.rss.endMB, bareFrozen.memory.rss.slopeMBPerMin, heap(bareFrozen.memory), 'no cap', '', '']);
    }

    const halfPhase = phases.find((p) => p.target === 'conveyor ws, half max')!;
    Object.assign(figures, {
      clients: layout.clients, rooms: layout.sizes.length, fanout, bytes, conveyorMaxFramesPerSec: convMax, bareMaxFramesPerSec: bareMax,
      twoProcessesMaxFramesPerSec: twoMax, halfRate: half, halfP50: halfPhase.p50, halfP99: halfPhase.p99, rampDrops: drops.drops,
      frozen: { rate: memRate, frozenRate, bytes: frozenBytes, conveyor: convFrozen, bare: bareFrozen?.memory },
      phases,
    });
    const table = {
      columns: ['server', 'events/s', 'frames/s', 'p50 ms', 'p99 ms', 'lost', 'server cores', 'server µs/frame', 'client cores', 'redis cores', 'other cores'],
      rows: phases.map((p): Cell[] => [
        p.target, p.rate, p.deliveredPerSec, p.p50.toFixed(1), p.p99.toFixed(1), String(p.lost), p.serverCores.toFixed(2),
        // CPU time per frame is what outside load disturbs least: it is the server's own cost.
        p.deliveredPerSec > 0 ? ((p.serverCores * 1e6) / p.deliveredPerSec).toFixed(1) : '', p.clientCores.toFixed(2), p.redisCores.toFixed(2), p.otherCores.toFixed(2),
      ]),
    };
    const memoryTable = ['| server, one client frozen | RSS start MB | RSS max MB | RSS end MB | RSS MB/min | heap start → max → after MB | largest socket buffer MB | all buffers max MB | drops |', '|---|--:|--:|--:|--:|--:|--:|--:|---|',
      ...memoryRows.map((r) => `| ${r.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)).join(' | ')} |`)].join('\n');
    const ratios: Record<string, number> = bareMax > 0 ? { 'conveyor / bare ws, max frames/s': ratio(convMax, bareMax), 'two processes / one, max frames/s': ratio(twoMax, convMax) } : {};
    const notes = [
      `${layout.clients} clients in ${layout.sizes.length} rooms; an event goes to a room with probability size/clients (${fmt(fanout)} frames per event on average); ${bytes}-byte frames; clients and publisher in this process.`,
      `Conveyor: ${fmt(convMax)} frames/s max${bareMax ? `, ${pct(ratio(convMax, bareMax))} of bare ws (${fmt(bareMax)}); target ≥ 70 %: ${convMax >= 0.7 * bareMax ? 'met' : 'MISSED'}` : ''}.`,
      `At half max (${fmt(half)} events/s): p99 ${halfPhase.p99.toFixed(1)} ms; target < 50 ms: ${halfPhase.p99 < 50 ? 'met' : 'MISSED'}.`,
      `Two ws processes sharing the rooms: ${fmt(twoMax)} frames/s max.`,
      `A client stops reading while its room gets ${fmt(frozenRate)} frames/s of ${frozenBytes} bytes (${fmt((frozenRate * frozenBytes * frozenMs) / 1000 / 2 ** 20)} MB in ${frozenMs / 1000} s) and the others ${fmt(memRate)} events/s: server RSS max ${convFrozen.memory.rss.maxMB.toFixed(0)} MB (${fmt(convFrozen.memory.rss.maxMB - convFrozen.memory.rss.startMB)} MB over the start) for Conveyor${bareFrozen ? `, ${bareFrozen.memory.rss.maxMB.toFixed(0)} MB (+${fmt(bareFrozen.memory.rss.maxMB - bareFrozen.memory.rss.startMB)}) for bare ws` : ''}:`,
      memoryTable,
      'Ramps run with WS_MAX_BUFFERED_BYTES=64 MiB (the bare server has no cap); the frozen-client phase with the default 1 MiB.',
    ];
    finish({ bench: 'ws fan-out', machine, table, figures, ratios, params: { durationMs, rates, bytes, layout: args.str('layout', '500,100x2,20x10,1x100') }, notes });
  } finally {
    for (const prefix of prefixes) await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}
