import http from 'node:http';
import { LatencyHistogram, type LatencySummary } from './stats.ts';
import { startPhase } from './progress.ts';
import { RawHttpPool, requestBytes } from './raw-http.ts';

export interface HttpLoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Called per request, so each can carry a fresh id or timestamp. */
  body?: () => string | Buffer;
  /** Per-request path and query (e.g. a random room), replacing the URL's; same host and port. */
  path?: () => string;
  /** Per-request extra headers (e.g. a different token each time); raw engine only. */
  headersFor?: () => Record<string, string>;
  /** Keep-alive sockets (and, closed-loop, requests in flight). */
  connections: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Load before measuring, so the JIT and the pools are warm; not counted. Default 0. */
  warmupMs?: number;
  /** Per-request timeout; a timeout counts as an error. Default 10 s. */
  timeoutMs?: number;
  /** Sees every measured response; the body is read only when this is given. */
  onResponse?: (status: number, body: Buffer, latencyMs: number) => void;
  /** Progress-bar label; no bar without it. */
  label?: string;
  /**
   * 'raw' (default): the lean socket client of raw-http.ts. 'node': node:http with a keep-alive
   * Agent, ~3× the CPU per request; fine for slow endpoints, the bottleneck for fast ones.
   */
  engine?: 'raw' | 'node';
}

export interface HttpLoadResult {
  /** Responses received in the window, any status. */
  requests: number;
  /** 2xx responses in the window. */
  ok: number;
  /** Network errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  /** 2xx per second: failures must not pass for throughput. */
  rps: number;
  durationMs: number;
  latency: LatencySummary;
  histogram: LatencyHistogram;
  /**
   * CPU the load generator (this process) used over the run, in cores. Near 1 means the
   * generator, not the server, may have been the limit.
   */
  clientCpuCores: number;
}

export interface OpenLoopOptions extends HttpLoadOptions {
  /** Requests per second, issued on schedule whether or not earlier ones have answered. */
  rate: number;
  /** Requests allowed in flight before new ones are skipped (and counted). Default 10,000. */
  maxInFlight?: number;
}

export interface OpenLoopResult extends HttpLoadResult {
  targetRate: number;
  /** Scheduled requests skipped because maxInFlight was reached: the rate was not sustainable. */
  skipped: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

class Recorder {
  readonly histogram = new LatencyHistogram();
  readonly statusCounts: Record<string, number> = {};
  requests = 0;
  ok = 0;
  errors = 0;
  measuring = false;

  response(status: number, latencyMs: number): void {
    if (!this.measuring) return;
    this.requests++;
    if (status >= 200 && status < 300) this.ok++;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    this.histogram.record(latencyMs);
  }

  error(): void {
    if (this.measuring) this.errors++;
  }

  result(durationMs: number, clientCpuCores: number): HttpLoadResult {
    return {
      requests: this.requests,
      ok: this.ok,
      errors: this.errors,
      statusCounts: this.statusCounts,
      rps: durationMs > 0 ? (this.ok * 1000) / durationMs : 0,
      durationMs,
      latency: this.histogram.summary(),
      histogram: this.histogram,
      clientCpuCores,
    };
  }
}

interface Engine {
  send(): Promise<{ status: number; body: Buffer }>;
  close(): void;
  timeoutMs: number;
}

function engine(opts: HttpLoadOptions): Engine {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:') throw new Error(`only http: URLs are supported, got ${opts.url}`);
  // Benchmarks hammer whatever they point at; only ever this machine.
  if (!LOOPBACK.has(url.hostname)) throw new Error(`load is only generated against loopback, got ${url.hostname}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const method = opts.method ?? (opts.body ? 'POST' : 'GET');
  const fixedPath = url.pathname + url.search;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const readBody = opts.onResponse !== undefined;

  if ((opts.engine ?? 'raw') === 'raw') {
    const pool = new RawHttpPool({ host, port, method, connections: opts.connections, timeoutMs });
    const headerLines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const hostHeader = url.host;
    const fixed = !opts.body && !opts.path && !opts.headersFor ? requestBytes(method, fixedPath, hostHeader, headerLines) : undefined;
    const linesFor = opts.headersFor ? () => headerLines + Object.entries(opts.headersFor!()).map(([k, v]) => `${k}: ${v}\r\n`).join('') : () => headerLines;
    return {
      timeoutMs,
      send: () => pool.request(fixed ?? requestBytes(method, opts.path?.() ?? fixedPath, hostHeader, linesFor(), opts.body?.())),
      close: () => pool.close(),
    };
  }

  if (opts.headersFor) throw new Error('headersFor needs the raw engine');
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections, maxFreeSockets: opts.connections });
  const base: http.RequestOptions = { agent, host, port, path: fixedPath, method, headers };
  return {
    timeoutMs,
    close: () => agent.destroy(),
    send: () =>
      new Promise((resolve, reject) => {
        const payload = opts.body?.();
        let options = base;
        if (payload !== undefined) options = { ...options, headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) } };
        if (opts.path) options = { ...options, path: opts.path() };
        const req = http.request(options, (res) => {
          const chunks: Buffer[] = [];
          if (readBody) res.on('data', (c: Buffer) => chunks.push(c));
          else res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: readBody ? Buffer.concat(chunks) : EMPTY }));
          res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error('request timeout')));
        req.on('error', reject);
        req.end(payload);
      }),
  };
}

const EMPTY = Buffer.alloc(0);

function cpuCores(since: NodeJS.CpuUsage, startedAt: number): number {
  const used = process.cpuUsage(since);
  return Math.round(((used.user + used.system) / 1000 / (performance.now() - startedAt)) * 100) / 100;
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Closed loop: `connections` clients, each sending its next request when the last one answers. */
export async function runHttpLoad(opts: HttpLoadOptions): Promise<HttpLoadResult> {
  const t = engine(opts);
  const cpu0 = process.cpuUsage();
  const rec = new Recorder();
  const warmupMs = opts.warmupMs ?? 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const endAt = measureFrom + opts.durationMs;
  const bar = opts.label ? startPhase(opts.label, { totalMs: warmupMs + opts.durationMs, counter: () => rec.ok, unit: 'ok' }) : undefined;
  const warmup = setTimeout(() => (rec.measuring = true), warmupMs);
  rec.measuring = warmupMs === 0;

  const client = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const res = await t.send();
        const t1 = performance.now();
        // A response that lands after the window belongs to no measured second.
        if (t1 <= endAt) {
          rec.response(res.status, t1 - t0);
          if (rec.measuring) opts.onResponse?.(res.status, res.body, t1 - t0);
        }
      } catch {
        if (performance.now() <= endAt) rec.error();
        // A refused connection fails in microseconds; don't spin on it.
        await sleep(10);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: opts.connections }, client));
  } finally {
    clearTimeout(warmup);
    t.close();
  }
  const result = rec.result(opts.durationMs, cpuCores(cpu0, start));
  bar?.done(`${Math.round(result.rps).toLocaleString('en-US')} req/s, p99 ${result.latency.p99.toFixed(2)} ms`);
  return result;
}

/**
 * Open loop at a fixed rate. Latency is measured from each request's scheduled time, so a
 * stalled server shows as latency instead of silently lowering the rate (coordinated omission).
 */
export async function runHttpLoadAtRate(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const t = engine(opts);
  const cpu0 = process.cpuUsage();
  const rec = new Recorder();
  const warmupMs = opts.warmupMs ?? 0;
  const maxInFlight = opts.maxInFlight ?? 10_000;
  const intervalMs = 1000 / opts.rate;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const endAt = measureFrom + opts.durationMs;
  const bar = opts.label ? startPhase(opts.label, { totalMs: warmupMs + opts.durationMs, counter: () => rec.ok, unit: 'ok' }) : undefined;
  rec.measuring = warmupMs === 0;

  let inFlight = 0;
  let skipped = 0;
  let sent = 0;

  const fire = (scheduled: number): void => {
    const measured = scheduled >= measureFrom;
    inFlight++;
    void t.send().then(
      (res) => {
        const t1 = performance.now();
        if (measured && t1 <= endAt) {
          rec.response(res.status, t1 - scheduled);
          opts.onResponse?.(res.status, res.body, t1 - scheduled);
        }
      },
      () => {
        if (measured) rec.error();
      },
    ).finally(() => inFlight--);
  };

  try {
    while (performance.now() < endAt) {
      const now = performance.now();
      if (!rec.measuring && now >= measureFrom) rec.measuring = true;
      while (true) {
        const scheduled = start + sent * intervalMs;
        if (scheduled > now || scheduled >= endAt) break;
        sent++;
        if (inFlight >= maxInFlight) {
          if (scheduled >= measureFrom) skipped++;
          continue;
        }
        fire(scheduled);
      }
      // setTimeout(1) wakes every ~1 ms; requests due meanwhile are sent together, on their own schedule times.
      await sleep(1);
    }
    // Answers arriving after the window are not counted, but let them land before closing the sockets;
    // each request times out on its own, so this wait is bounded.
    const giveUpAt = performance.now() + t.timeoutMs + 1_000;
    while (inFlight > 0 && performance.now() < giveUpAt) await sleep(5);
  } finally {
    t.close();
  }
  const result = { ...rec.result(opts.durationMs, cpuCores(cpu0, start)), targetRate: opts.rate, skipped };
  bar?.done(`${Math.round(result.rps).toLocaleString('en-US')} req/s of ${opts.rate}, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms`);
  return result;
}
