/**
 * bench:ws-scale's client process: holds a share of the idle sockets (one process cannot hold them
 * all beside its own cores' worth of reading) and reports, per broadcast event, how many of its
 * sockets got it and when the last one did; per frame, publish-to-receive in a histogram.
 * Commands (lib/child.ts): connect, reset, waitFor, summary, close.
 */
import { randomUUID } from 'node:crypto';
import { serveChild } from './lib/child.ts';
import { readEventProbe } from './lib/chat-frames.ts';
import { connectWsClients, stampMs, type ProbeReader, type WsClients } from './lib/ws-clients.ts';
import { LatencyHistogram, type HistogramJson } from './lib/stats.ts';
import { signToken } from '../../src/http/auth/jwt.ts';

export interface ConnectPlan {
  kind: 'conveyor' | 'bare';
  port: number;
  /** Conveyor: the room id (a uuid); bare: its room name. */
  room: string;
  count: number;
  /** Conveyor's JWT secret: each socket gets a token of a viewer of its own. */
  secret?: string;
  /** Loopback source addresses to spread the sockets over (127.0.0.1, .2, …). */
  sources: number;
  /** Handshakes in flight at once. */
  parallel: number;
}

export interface ClientSummary {
  histogram: HistogramJson;
  /** Per event of the window: ms from publish to this process's last receipt (NaN: none came). */
  lastMs: number[];
  /** Per event: receipts (duplicates included). */
  counts: number[];
  missing: number;
  extra: number;
  closed: number;
}

/** One set per connect command: the bench connects in steps, reading memory between them. */
const sets: WsClients[] = [];
let count = 0;
const window = { first: 0, counts: new Uint32Array(0), last: new Float64Array(0) };

// The frame's own probe, plus the per-event tally waitFor and the last-receipt figure read.
const probe: ProbeReader = (buf, start, end, into) => {
  readEventProbe(buf, start, end, into);
  const k = into.seq - window.first;
  if (into.seq < 0 || k < 0 || k >= window.counts.length) return;
  window.counts[k]! += 1;
  const ms = stampMs() - into.stamp;
  if (!(ms <= window.last[k]!)) window.last[k] = ms;
};

async function connect(data: unknown): Promise<{ connected: number; ms: number }> {
  const plan = data as ConnectPlan;
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
  const tokens = plan.kind === 'conveyor' ? await Promise.all(Array.from({ length: plan.count }, () => signToken(plan.secret!, { sub: randomUUID(), role: 'client', exp }))) : [];
  const t0 = performance.now();
  const clients = await connectWsClients({
    count: plan.count,
    urlFor: (i) => (plan.kind === 'conveyor' ? `ws://127.0.0.1:${plan.port}/ws?room=${plan.room}&token=${tokens[i]}` : `ws://127.0.0.1:${plan.port}/?room=${plan.room}`),
    localAddress: plan.sources > 1 ? (i) => `127.0.0.${1 + (i % plan.sources)}` : undefined,
    probe,
    parallel: plan.parallel,
    connectTimeoutMs: 30_000,
  });
  sets.push(clients);
  clients.reset(window.first);
  count += plan.count;
  return { connected: clients.sockets.length, ms: performance.now() - t0 };
}

const closeAll = async (): Promise<null> => {
  await Promise.all(sets.map((c) => c.close()));
  sets.length = 0;
  count = 0;
  return null;
};

serveChild({
  commands: {
    connect,
    /** A new window of `events` events numbered from `firstSeq`. */
    reset: (data) => {
      const { firstSeq, events } = data as { firstSeq: number; events: number };
      for (const c of sets) c.reset(firstSeq);
      window.first = firstSeq;
      window.counts = new Uint32Array(events);
      window.last = new Float64Array(events).fill(NaN);
      return null;
    },
    /** Resolves once every socket here got event `seq` (or after timeoutMs): the receipts so far. */
    waitFor: async (data) => {
      const { seq, timeoutMs } = data as { seq: number; timeoutMs: number };
      const k = seq - window.first;
      const until = performance.now() + timeoutMs;
      while (window.counts[k]! < count && performance.now() < until) await new Promise((r) => setTimeout(r, 2));
      return window.counts[k]!;
    },
    summary: (): ClientSummary => {
      const histogram = new LatencyHistogram();
      const summary = { lastMs: [...window.last], counts: [...window.counts], missing: 0, extra: 0, closed: 0 };
      for (const c of sets) {
        histogram.merge(c.histogram);
        const audit = c.audit(() => Array.from({ length: window.counts.length }, (_, k) => window.first + k));
        summary.missing += audit.missing;
        summary.extra += audit.duplicates + audit.unexpected + audit.unnumbered + audit.protocolErrors;
        summary.closed += audit.closed;
      }
      return { ...summary, histogram: histogram.toJSON() };
    },
    close: closeAll,
  },
  stop: async () => {
    await closeAll();
  },
}).ready({ pid: process.pid });
