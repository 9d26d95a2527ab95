/**
 * WebSocket fan-out: Conveyor's ws role (a `--role ws` process, events through Redis pub/sub the
 * way the chat module publishes them) beside a bare `ws` broadcast server measured in the same
 * run, with the same clients, rooms, frames and publish schedule.
 *  1. Conveyor, bare ws, and two Conveyor ws processes sharing the rooms through Redis, taking
 *     turns at rising event rates: delivered frames/s, p50/p99 publish-to-receive;
 *  2. Conveyor and bare ws at half of Conveyor's sustained maximum: p99;
 *  3. one frozen client (stops reading): server memory, Conveyor beside bare ws.
 * The 1,000 clients and the publisher run in this process, each server in its own. Every frame
 * carries a sequence number and its publish time on CLOCK_MONOTONIC, which every process shares:
 * the clients check that each expected delivery came exactly once and measure publish-to-receive.
 * `--publisher-child` publishes from a process of its own instead, so its schedule does not wait
 * on the clients' reads; on 2 cores that extra process cost more p99 than it saved.
 * Usage: npm run bench:ws -- [--duration 5] [--clients-layout 500,100x2,20x10,1x100] [--rates 50,100,...]
 */
import { randomUUID } from 'node:crypto';
import { cliArgs } from './lib/args.ts';
import { serveChild, type Command } from './lib/child.ts';
import { leastDisturbed, machineFacts, waitForIdle } from './lib/machine.ts';
import { startCpuMeter, startNodeScript, type ChildHandle } from './lib/processes.ts';
import { note, startPhase } from './lib/progress.ts';
import { RawHttpPool, requestBytes } from './lib/raw-http.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { MemorySampler, type MemoryReading, type MemoryReport } from './lib/stats.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { connectWsClients, stampMs, type WsClients } from './lib/ws-clients.ts';
import { makeEvent, readEventProbe } from './lib/chat-frames.ts';
import { loadConfig } from '../../src/config.ts';
import { start } from '../../src/runtime.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';
import { toWire } from '../../src/domain/chat/chatEvent.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import { wsExtension } from '../../src/ws/extension.ts';

const args = cliArgs({
  name: 'bench:ws',
  summary: 'ws fan-out: Conveyor (--role ws, Redis pub/sub) beside a bare ws broadcast server, same clients and schedule.',
  defaults: { duration: 5 },
  options: {
    'layout <list>': 'room sizes, "size" or "sizeXcount" (default 500,100x2,20x10,1x100: 1,000 clients in 113 rooms)',
    'rates <list>': 'events/s of the rising phases (default 50,100,200,400,800,1600,3200), doubled further while a target keeps up; a phase that falls behind ends its ramp',
    'refine <n>': 'phases between a target\'s last sustained rate and the first it did not sustain, halving the gap each time (default 2)',
    'bytes <n>': 'frame size in bytes (default 300)',
    'frozen-bytes <n>': 'frame size sent to the frozen client (default 8192)',
    'frozen-rate <n>': 'frames/s sent to the frozen client (default 200)',
    'frozen-seconds <s>': 'length of the frozen-client phase (default 30)',
    'frozen-others <n>': 'events/s to the other rooms meanwhile (default 100)',
    'mysql <url>': 'MySQL server, without a database (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'skip-bare': 'measure Conveyor only',
    'skip-two': 'leave out the two-process Conveyor target',
    'publisher-child': 'publish from a child process of its own instead of this one (beside the clients)',
    'idle-wait <s>': 'wait at most this long for idle cores before starting (default 60)',
  },
});

const SECRET = 'bench-ws-secret-0123456789abcdef-0123456789';
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const LAYOUT = '500,100x2,20x10,1x100';

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

/** Every published event gets the next sequence number; a window remembers the room of each of its own. */
class Ledger {
  private first = 0;
  private rooms: number[] = [];

  /** Opens a window; returns its first sequence number. */
  open(): number {
    this.first += this.rooms.length;
    this.rooms = [];
    return this.first;
  }

  /** The rooms of the window's events, in sequence order (what the publisher reports). */
  record(rooms: number[]): void {
    this.rooms = rooms;
  }

  /** The window's sequence numbers, by room. */
  byRoom(roomCount: number): number[][] {
    const out = Array.from({ length: roomCount }, (): number[] => []);
    this.rooms.forEach((room, k) => out[room]!.push(this.first + k));
    return out;
  }
}

const ledger = new Ledger();

/** Where the publisher sends events: Conveyor's Redis (the chat module's path) or the bare server's HTTP. */
type Destination = { prefix: string } | { port: number };

/** What the publisher child is asked to do; it answers with the room of each event, in sequence order. */
interface PublishPlan {
  to: Destination;
  /** Events/s, spread over durationMs on schedule. */
  rate: number;
  durationMs: number;
  bytes: number;
  /** Sequence number of the first event. */
  firstSeq: number;
  /** The frozen-client phase: this many of the events per second go to `room`, `bytes` long. */
  frozen?: { room: number; rate: number; bytes: number };
}

interface Target {
  name: string;
  servers: Server[];
  clients: WsClients;
  to: Destination;
  /** One for all targets. */
  publisher: Publisher;
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
  /**
   * Expected deliveries that had not come 15 s after the window (a server far past its maximum
   * has them still queued), and receipts beyond exactly one per expected delivery (duplicates,
   * wrong room, protocol errors).
   */
  lost: number;
  extra: number;
  serverCores: number;
  clientCores: number;
  publisherCores: number;
  redisCores: number;
  otherCores: number;
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
  const { clients, publisher } = target;
  const firstSeq = ledger.open();
  clients.reset(firstSeq);
  const cpu = await startCpuMeter([...target.servers, ...(publisher.child ? [publisher.child] : [])], monitor);
  const bar = startPhase(`${target.name} at ${fmt(rate)} events/s`, { totalMs: durationMs, counter: () => clients.delivered, unit: 'frames' });
  const t0 = performance.now();
  const { rooms } = await publisher.request<{ rooms: number[] }>('publish', { to: target.to, rate, durationMs, bytes, firstSeq } satisfies PublishPlan, durationMs + 30_000);
  const inWindow = clients.delivered;
  const seconds = (performance.now() - t0) / 1000;
  const cores = await cpu.stop();
  ledger.record(rooms);
  const expected = rooms.reduce((a, k) => a + layout.sizes[k]!, 0);
  await clients.settle(expected, 15_000, 2_000);
  // Each client's receipts against the events published to its room: exactly once each.
  const byRoom = ledger.byRoom(layout.sizes.length);
  const audit = clients.audit((i) => byRoom[layout.roomOf[i]!]!);
  const lost = audit.missing;
  const extra = audit.duplicates + audit.unexpected + audit.unnumbered + audit.protocolErrors;
  if (extra > 0 || audit.closed > 0) note(`${target.name} at ${fmt(rate)} events/s: ${JSON.stringify(audit)}`);
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
    extra,
    serverCores: target.servers.reduce((a, s) => a + (cores[s.name] ?? 0), 0),
    clientCores: cores.parent ?? 0,
    publisherCores: publisher.child ? (cores[publisher.name] ?? 0) : 0,
    redisCores: cores.redis ?? 0,
    otherCores: cores.others ?? 0,
  };
  bar.done(`${fmt(phase.deliveredPerSec)} frames/s, p99 ${phase.p99.toFixed(1)} ms${lost ? `, ${fmt(lost)} not delivered` : ''}${extra ? `, ${fmt(extra)} extra` : ''}`);
  return phase;
}

/** The best delivery rate among phases that were sustained (the first phase's when none was). */
function sustainedMax(phases: Phase[], sustained: (p: Phase) => boolean): number {
  const kept = phases.filter(sustained);
  return Math.max(...(kept.length > 0 ? kept : phases.slice(0, 1)).map((p) => p.deliveredPerSec));
}

/** The publisher's stamp clock against this process's: the offset, and half the round trip that bounds it. */
async function clockSkew(publisher: Publisher): Promise<{ offsetMs: number; withinMs: number }> {
  let best = { offsetMs: 0, withinMs: Infinity };
  for (let k = 0; k < 20; k++) {
    const sent = stampMs();
    const theirs = await publisher.request<number>('clock');
    const back = stampMs();
    if ((back - sent) / 2 < best.withinMs) best = { offsetMs: theirs - (sent + back) / 2, withinMs: (back - sent) / 2 };
  }
  return best;
}

async function main(): Promise<void> {
  const layout = parseLayout(args.str('layout', LAYOUT));
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
  await migratedDatabase(databaseUrl);
  note(`${layout.clients} clients in ${layout.sizes.length} rooms (${layout.sizes.slice(0, 6).join(', ')}…), ${fmt(fanout)} deliveries per event on average, ${bytes}-byte frames`);

  const roomIds = layout.sizes.map(() => randomUUID());
  const publisher = await startPublisher(!args.flag('publisher-child'));
  await publisher.request('rooms', roomIds);
  const clock = await clockSkew(publisher);
  if (publisher.child) note(`publisher's clock − clients' clock: ${clock.offsetMs.toFixed(3)} ms ± ${clock.withinMs.toFixed(3)}`);
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
      probe: readEventProbe,
      parallel: 50,
    });
    const seen = (await Promise.all(servers.map((s) => s.request<{ connections: number }>('stats')))).reduce((a, s) => a + s.connections, 0);
    if (seen !== layout.clients) throw new Error(`${name} sees ${seen} clients, expected ${layout.clients}`);
    return {
      name,
      servers,
      clients,
      to: { prefix },
      publisher,
      async close() {
        await clients.close();
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
  }

  async function bare(): Promise<Target> {
    const server = await startNodeScript<{ port: number }>('scripts/bench/ceilings/ws-broadcast.ts', { name: 'bare-ws', args: ['--rooms', String(layout.sizes.length)] });
    const clients = await connectWsClients({ count: layout.clients, urlFor: (i) => `ws://127.0.0.1:${server.info.port}/?room=r${layout.roomOf[i]}`, probe: readEventProbe });
    return {
      name: 'bare ws',
      servers: [server],
      clients,
      to: { port: server.info.port },
      publisher,
      async close() {
        await clients.close();
        await publisher.request('forget', server.info.port);
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
    target.clients.freeze(layout.roomOf.indexOf(room));
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
    const plan: PublishPlan = { to: target.to, rate: rate + frozenRate, durationMs: frozenMs, bytes, firstSeq: ledger.open(), frozen: { room, rate: frozenRate, bytes: frozenBytes } };
    ledger.record((await target.publisher.request<{ rooms: number[] }>('publish', plan, frozenMs + 30_000)).rooms);
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
    const two = args.flag('skip-two') ? undefined : await conveyor('conveyor ws ×2', 2, bigCap);
    const targets = [one, ...(b ? [b] : []), ...(two ? [two] : [])];
    // The targets take turns at each rate, so load from outside the benchmark falls on all of them alike.
    const byTarget = new Map<Target, Phase[]>(targets.map((t) => [t, []]));
    /** Per target: the highest rate it sustained and the lowest it did not. */
    const bounds = new Map<Target, { kept: number; failed: number }>(targets.map((t) => [t, { kept: 0, failed: Infinity }]));
    const sustained = (p: Phase) => p.keptUp && p.lost === 0 && p.extra === 0;
    const step = async (t: Target, rate: number) => {
      const phase = await steadyMeasure(t, rate, durationMs, bytes, layout, redis);
      byTarget.get(t)!.push(phase);
      const b = bounds.get(t)!;
      if (sustained(phase)) b.kept = Math.max(b.kept, rate);
      else b.failed = Math.min(b.failed, rate);
    };
    // Warm-up, unmeasured: the first frames run before the JIT has compiled the send path.
    for (const t of targets) await measure(t, rates[0]!, 1_000, bytes, layout, redis);
    // The listed rates, then doubling while a target keeps up: its maximum must be one it could
    // not go past, not the end of the list. A phase that falls behind ends the target's ramp and
    // is kept as its overload figure.
    // (A ceiling on the doubling keeps a broken run from publishing without end.)
    for (let k = 0, rate = rates[0]!; targets.some((t) => bounds.get(t)!.failed === Infinity); k++) {
      rate = k < rates.length ? rates[k]! : rate * 2;
      if (rate > 100_000) break;
      for (const t of targets) if (bounds.get(t)!.failed === Infinity) await step(t, rate);
    }
    // Then the gap between the last sustained rate and the first failed one, halved (geometrically)
    // `refine` times, so a maximum found on a doubling ramp is not understated by up to half.
    for (let r = 0; r < args.num('refine', 2); r++) {
      for (const t of targets) {
        const b = bounds.get(t)!;
        if (b.kept > 0 && Number.isFinite(b.failed)) await step(t, Math.round(Math.sqrt(b.kept * b.failed)));
      }
    }
    for (const list of byTarget.values()) list.sort((x, y) => x.rate - y.rate);
    const convMax = sustainedMax(byTarget.get(one)!, sustained);
    const bareMax = b ? sustainedMax(byTarget.get(b)!, sustained) : 0;
    const twoMax = two ? sustainedMax(byTarget.get(two)!, sustained) : 0;
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
      clients: layout.clients, rooms: layout.sizes.length, fanout, bytes, clockSkew: clock, conveyorMaxFramesPerSec: convMax, bareMaxFramesPerSec: bareMax,
      twoProcessesMaxFramesPerSec: twoMax, halfRate: half, halfP50: halfPhase.p50, halfP99: halfPhase.p99, rampDrops: drops.drops,
      frozen: { rate: memRate, frozenRate, bytes: frozenBytes, conveyor: convFrozen, bare: bareFrozen?.memory },
      phases,
    });
    const table = {
      columns: ['server', 'events/s', 'frames/s', 'p50 ms', 'p99 ms', 'not delivered', 'extra', 'server cores', 'server µs/frame', 'client cores', 'publisher cores', 'redis cores', 'other cores'],
      rows: phases.map((p): Cell[] => [
        p.target, p.rate, p.deliveredPerSec, p.p50.toFixed(1), p.p99.toFixed(1), String(p.lost), String(p.extra), p.serverCores.toFixed(2),
        // CPU time per frame is what outside load disturbs least: it is the server's own cost.
        p.deliveredPerSec > 0 ? ((p.serverCores * 1e6) / p.deliveredPerSec).toFixed(1) : '', p.clientCores.toFixed(2), p.publisherCores.toFixed(2), p.redisCores.toFixed(2), p.otherCores.toFixed(2),
      ]),
    };
    const memoryTable = ['| server, one client frozen | RSS start MB | RSS max MB | RSS end MB | RSS MB/min | heap start → max → after MB | largest socket buffer MB | all buffers max MB | drops |', '|---|--:|--:|--:|--:|--:|--:|--:|---|',
      ...memoryRows.map((r) => `| ${r.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)).join(' | ')} |`)].join('\n');
    const ratios: Record<string, number> = bareMax > 0 ? { 'conveyor / bare ws, max frames/s': ratio(convMax, bareMax), 'two processes / one, max frames/s': ratio(twoMax, convMax) } : {};
    const notes = [
      `${layout.clients} clients in ${layout.sizes.length} rooms; an event goes to a room with probability size/clients (${fmt(fanout)} frames per event on average); ${bytes}-byte frames; the clients in this process, the publisher ${publisher.child ? `in a child of its own (its clock − the clients': ${clock.offsetMs.toFixed(3)} ms ± ${clock.withinMs.toFixed(3)})` : 'too'}.`,
      `Conveyor: ${fmt(convMax)} frames/s max${bareMax ? `, ${pct(ratio(convMax, bareMax))} of bare ws (${fmt(bareMax)}); target ≥ 70 %: ${convMax >= 0.7 * bareMax ? 'met' : 'MISSED'}` : ''}.`,
      `At half max (${fmt(half)} events/s): p99 ${halfPhase.p99.toFixed(1)} ms; target < 50 ms: ${halfPhase.p99 < 50 ? 'met' : 'MISSED'}.`,
      `Two ws processes sharing the rooms: ${fmt(twoMax)} frames/s max.`,
      `A client stops reading while its room gets ${fmt(frozenRate)} frames/s of ${frozenBytes} bytes (${fmt((frozenRate * frozenBytes * frozenMs) / 1000 / 2 ** 20)} MB in ${frozenMs / 1000} s) and the others ${fmt(memRate)} events/s: server RSS max ${convFrozen.memory.rss.maxMB.toFixed(0)} MB (${fmt(convFrozen.memory.rss.maxMB - convFrozen.memory.rss.startMB)} MB over the start) for Conveyor${bareFrozen ? `, ${bareFrozen.memory.rss.maxMB.toFixed(0)} MB (+${fmt(bareFrozen.memory.rss.maxMB - bareFrozen.memory.rss.startMB)}) for bare ws` : ''}:`,
      memoryTable,
      'Ramps run with WS_MAX_BUFFERED_BYTES=64 MiB (the bare server has no cap); the frozen-client phase with the default 1 MiB.',
    ];
    finish({ bench: 'ws fan-out', machine, table, figures, ratios, params: { durationMs, rates, bytes, layout: args.str('layout', LAYOUT) }, notes });
  } finally {
    await publisher.stop();
    for (const prefix of prefixes) await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

/** Publishes on schedule (catching up on late timer ticks) for durationMs; returns how many. */
async function publishAtRate(rate: number, durationMs: number, publish: () => void): Promise<number> {
  const t0 = performance.now();
  const endAt = t0 + durationMs;
  let i = 0;
  while (performance.now() < endAt) {
    const now = performance.now();
    for (; t0 + i * (1000 / rate) <= now; i++) publish();
    await new Promise((r) => setTimeout(r, 1));
  }
  return i;
}

// ---- the publisher (a child process, or with --publisher-in-parent, this one) -----------------

/** The publisher's commands, answered in whichever process it runs. */
function publisherCommands(): { commands: Record<string, Command>; stop: () => Promise<void> } {
  const layout = parseLayout(args.str('layout', LAYOUT));
  const redis = benchRedis(redisUrl);
  const pools = new Map<number, RawHttpPool>();
  let roomIds: string[] = [];

  function send(to: Destination, k: number, bytes: number, seq: number): void {
    const event = makeEvent(roomIds[k]!, bytes, seq);
    if ('prefix' in to) {
      // The chat module's own publishing path (history push + PUBLISH in one script).
      publishChatEvents({ redis, prefix: to.prefix }, [event]).catch((err: unknown) => process.stderr.write(`publish failed: ${String(err)}\n`));
      return;
    }
    let pool = pools.get(to.port);
    if (!pool) pools.set(to.port, (pool = new RawHttpPool({ host: '127.0.0.1', port: to.port, method: 'POST', connections: 8, timeoutMs: 30_000 })));
    // The same frame Conveyor would write, sent verbatim to the room.
    const frame = JSON.stringify(toWire(event));
    pool.request(requestBytes('POST', `/publish?room=r${k}`, `127.0.0.1:${to.port}`, 'content-type: application/json\r\n', frame)).catch(() => undefined);
  }

  return {
    commands: {
      rooms: (ids) => (roomIds = ids as string[]).length,
      clock: () => stampMs(),
      forget: (port) => {
        pools.get(port as number)?.close();
        pools.delete(port as number);
      },
      publish: async (data) => {
        const plan = data as PublishPlan;
        const f = plan.frozen;
        const rooms: number[] = [];
        await publishAtRate(plan.rate, plan.durationMs, () => {
          const n = rooms.length;
          // Spread evenly: event n goes to the frozen room when n·f.rate/rate crosses an integer.
          const frozen = f !== undefined && Math.floor(((n + 1) * f.rate) / plan.rate) > Math.floor((n * f.rate) / plan.rate);
          const k = frozen ? f.room : pickRoom(layout);
          send(plan.to, k, frozen ? f.bytes : plan.bytes, plan.firstSeq + n);
          rooms.push(k);
        });
        return { rooms };
      },
    },
    stop: async () => {
      for (const pool of pools.values()) pool.close();
      redis.disconnect();
    },
  };
}

/** The publisher as the parent sees it, in a child process or in the parent itself. */
interface Publisher {
  name: string;
  /** The child's handle, for the CPU meter; none when the publisher runs in the parent. */
  child?: ChildHandle;
  request<R>(cmd: string, data?: unknown, timeoutMs?: number): Promise<R>;
  stop(): Promise<unknown>;
}

async function startPublisher(inParent: boolean): Promise<Publisher> {
  if (inParent) {
    const { commands, stop } = publisherCommands();
    return { name: 'parent', request: async <R>(cmd: string, data?: unknown) => (await commands[cmd]!(data)) as R, stop };
  }
  const child = await startNodeScript('scripts/bench/ws.ts', { name: 'publisher', args: ['--publish', '--layout', args.str('layout', LAYOUT), '--redis', redisUrl] });
  return { name: child.name, child, request: (cmd, data, timeoutMs) => child.request(cmd, data, timeoutMs), stop: () => child.stop() };
}

// ---- child: a Conveyor process with the ws role alone -----------------------------------------

if (args.flag('publish')) {
  serveChild(publisherCommands()).ready({});
} else if (args.flag('serve')) {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', ROLE: 'ws' });
  const ext = wsExtension();
  const running = await start(config, ['ws'], { metricsDefaults: false, extensions: [ext] });
  const child = serveChild({
    commands: {
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
