/**
 * Starts the server under test in a child Node process (through tsx), so the load generator in
 * the parent and the server each get a core of their own instead of sharing one event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { machineCpuTimes, redisCpuSeconds } from './machine.ts';
import type { MemoryReading } from './stats.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The Node flags `npm start` gives Conveyor (package.json's start script, between `node` and
 * `--import`): every server a bench or a chaos run starts, the bare ceilings included, runs with them.
 */
export const START_NODE_FLAGS: readonly string[] = startNodeFlags();

function startNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  const end = start.indexOf('--import');
  if (start[0] !== 'node' || end < 0) throw new Error(`package.json start is not "node <flags> --import tsx ...": ${start.join(' ')}`);
  return start.slice(1, end);
}

export interface StartOptions {
  /** Prefix for the child's forwarded stderr; defaults to the file's base name. */
  name?: string;
  args?: string[];
  env?: Record<string, string>;
  /** How long to wait for `READY`. Default 30 s (tsx compiles on first start). */
  readyTimeoutMs?: number;
  /** Extra node flags, e.g. ['--max-old-space-size=512']. */
  nodeArgs?: string[];
}

export interface ChildHandle<Info = Record<string, unknown>> {
  name: string;
  pid: number;
  /** The JSON the child printed after READY. */
  info: Info;
  /** Sends a command (see child.ts) and resolves with its result. */
  request<R = unknown>(cmd: string, data?: unknown, timeoutMs?: number): Promise<R>;
  /** RSS and heapUsed of the child, for a MemorySampler. */
  memory(): Promise<MemoryReading>;
  /** The child's process.cpuUsage(), in µs. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  /** Called for each `REPORT <kind> <json>` line the child prints. */
  onReport(kind: string, fn: (data: unknown) => void): void;
  /** SIGTERM, wait for exit (SIGKILL after timeoutMs); resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const live = new Set<ChildProcess>();
// A parent that exits normally or on an uncaught error takes its children with it.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startNodeScript<Info = Record<string, unknown>>(file: string, opts: StartOptions = {}): Promise<ChildHandle<Info>> {
  const script = path.isAbsolute(file) ? file : path.join(REPO_ROOT, file);
  const name = opts.name ?? path.basename(script, path.extname(script));
  const child = spawn(process.execPath, [...START_NODE_FLAGS, ...(opts.nodeArgs ?? []), '--import', 'tsx', script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  // Writing to a child that just died raises EPIPE here; its exit is reported through `exited`.
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? 128 : null));
    });
  });

  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const reporters = new Map<string, Array<(data: unknown) => void>>();
  let nextId = 1;
  let onReady: ((info: Info) => void) | undefined;

  createInterface({ input: child.stdout! }).on('line', (line) => {
    const space = line.indexOf(' ');
    const word = space > 0 ? line.slice(0, space) : line;
    const rest = space > 0 ? line.slice(space + 1) : '';
    try {
      if (word === 'READY') {
        onReady?.(JSON.parse(rest || '{}') as Info);
      } else if (word === 'REPLY') {
        const msg = JSON.parse(rest) as { id: number; ok: boolean; result?: unknown; error?: string };
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(`${name}: ${msg.error ?? 'command failed'}`));
      } else if (word === 'REPORT') {
        const sp = rest.indexOf(' ');
        const kind = sp > 0 ? rest.slice(0, sp) : rest;
        const data: unknown = sp > 0 ? JSON.parse(rest.slice(sp + 1)) : null;
        for (const fn of reporters.get(kind) ?? []) fn(data);
      } else {
        process.stderr.write(`[${name}] ${line}\n`);
      }
    } catch (err) {
      process.stderr.write(`[${name}] unreadable line (${String(err)}): ${line}\n`);
    }
  });

  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let info: Info;
  try {
    info = await new Promise<Info>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not print READY within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      onReady = (i) => {
        clearTimeout(timer);
        resolve(i);
      };
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before READY`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  void exited.then(() => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${name} exited`));
      pending.delete(id);
    }
  });

  const request = <R>(cmd: string, data?: unknown, timeoutMs = 30_000): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${name} is not running`));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      child.stdin!.write(`${JSON.stringify({ id, cmd, data })}\n`);
    });

  return {
    name,
    pid: child.pid!,
    info,
    request,
    memory: () => request<MemoryReading>('memory', undefined, 5_000),
    cpuUsage: () => request<NodeJS.CpuUsage>('cpu', undefined, 5_000),
    onReport(kind, fn) {
      reporters.set(kind, [...(reporters.get(kind) ?? []), fn]);
    },
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The share of wall time a child's event loop was busy (`performance.eventLoopUtilization`) from
 * now until `stop`: below 1 while it is saturated elsewhere means it waited on I/O for the rest.
 */
export async function startLoopMeter(child: ChildHandle<unknown>): Promise<{ stop(): Promise<number> }> {
  type Loop = { idle: number; active: number };
  const from = await child.request<Loop>('loop');
  return {
    async stop() {
      const to = await child.request<Loop>('loop');
      const active = to.active - from.active;
      const idle = to.idle - from.idle;
      return active + idle > 0 ? Math.round((active / (active + idle)) * 100) / 100 : 0;
    },
  };
}

export interface CpuMeter {
  /**
   * Cores used since start (1.0 = one core busy throughout): `parent` (this process), each
   * child by name, `redis` when given, `machine` (everything), and `others` = machine minus all
   * of those. `others` well above 0 means something outside the benchmark shared the cores.
   */
  stop(): Promise<Record<string, number>>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** CPU used over a phase, per process: who was saturated, and whether anything else interfered. */
export async function startCpuMeter(children: ReadonlyArray<ChildHandle<unknown>>, redis?: Redis): Promise<CpuMeter> {
  const t0 = performance.now();
  const machine0 = machineCpuTimes();
  const parent0 = process.cpuUsage();
  const child0 = await Promise.all(children.map((c) => c.cpuUsage()));
  const redis0 = redis ? await redisCpuSeconds(redis) : 0;
  return {
    async stop() {
      const child1 = await Promise.all(children.map((c) => c.cpuUsage().catch(() => undefined)));
      const redis1 = redis ? await redisCpuSeconds(redis).catch(() => redis0) : 0;
      const machine1 = machineCpuTimes();
      const ms = performance.now() - t0;
      const usec = (u: NodeJS.CpuUsage) => u.user + u.system;
      const parentUsage = process.cpuUsage(parent0);
      const out: Record<string, number> = { parent: usec(parentUsage) / 1000 / ms };
      children.forEach((c, i) => {
        const end = child1[i];
        if (end) out[c.name] = (out[c.name] ?? 0) + (usec(end) - usec(child0[i]!)) / 1000 / ms;
      });
      if (redis) out.redis = ((redis1 - redis0) * 1000) / ms;
      const measured = Object.values(out).reduce((a, b) => a + b, 0);
      out.machine = (machine1.all - machine1.idle - (machine0.all - machine0.idle)) / ms;
      out.others = Math.max(0, out.machine - measured);
      for (const k of Object.keys(out)) out[k] = round2(out[k]!);
      return out;
    },
  };
}
