import os from 'node:os';
import { Redis } from 'ioredis';

/** What a figure was measured on, so runs from different machines are never compared blindly. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  /** 1-minute load average when the run started: above ~0.3 something else was using the cores. */
  load1: number;
  /** Fraction of all cores busy just before the run (see waitForIdle), when measured. */
  busyBefore?: number;
  redis?: string;
  mysql?: string;
}

export interface MachineOptions {
  /** Redis URL or a connected client; its `redis_version` is recorded. */
  redis?: string | Redis;
  /** MySQL/MariaDB URL; `SELECT VERSION()` is recorded. */
  mysqlUrl?: string;
  /** Result of waitForIdle(), recorded with the facts. */
  busyBefore?: number;
}

export async function machineFacts(opts: MachineOptions = {}): Promise<MachineFacts> {
  const cpus = os.cpus();
  const facts: MachineFacts = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    load1: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  if (opts.busyBefore !== undefined) facts.busyBefore = opts.busyBefore;
  if (opts.redis !== undefined) facts.redis = await redisVersion(opts.redis);
  if (opts.mysqlUrl !== undefined) facts.mysql = await mysqlVersion(opts.mysqlUrl);
  return facts;
}

async function redisVersion(target: string | Redis): Promise<string> {
  const client = typeof target === 'string' ? new Redis(target, { lazyConnect: true, maxRetriesPerRequest: 1 }) : target;
  try {
    const info = await client.info('server');
    return /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    if (typeof target === 'string') client.disconnect();
  }
}

async function mysqlVersion(url: string): Promise<string> {
  // Loaded on demand: benches without MySQL should not pay for the driver.
  const mysql = await import('mysql2/promise');
  let conn: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
  try {
    conn = await mysql.createConnection({ uri: url, connectTimeout: 5_000 });
    const [rows] = await conn.query('SELECT VERSION() AS v');
    const first = (rows as Array<{ v?: unknown }>)[0];
    return typeof first?.v === 'string' ? first.v : 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/** Machine-wide CPU times in ms, summed over cores. */
export function machineCpuTimes(): { idle: number; all: number } {
  return os.cpus().reduce(
    (a, c) => {
      const t = c.times;
      return { idle: a.idle + t.idle, all: a.all + t.idle + t.user + t.nice + t.sys + t.irq };
    },
    { idle: 0, all: 0 },
  );
}

/** Fraction (0–1) of all cores busy over `sampleMs`, whoever is using them. */
export async function cpuBusy(sampleMs = 1_000): Promise<number> {
  const a = machineCpuTimes();
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = machineCpuTimes();
  const all = b.all - a.all;
  return all > 0 ? Math.round((1 - (b.idle - a.idle) / all) * 100) / 100 : 0;
}

/** Seconds of CPU the Redis server has used since it started (INFO cpu). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const num = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return num('used_cpu_user') + num('used_cpu_sys');
}

/**
 * Waits (at most maxWaitMs) until the machine is nearly idle, so a run does not start while
 * a build or a test suite shares the cores; returns the last busy fraction seen.
 */
export async function waitForIdle(maxWaitMs = 60_000, threshold = 0.15): Promise<number> {
  const until = performance.now() + maxWaitMs;
  let busy = await cpuBusy();
  while (busy > threshold && performance.now() < until) busy = await cpuBusy();
  return busy;
}

export interface DisturbanceOptions {
  /** Extra attempts when a run was disturbed. Default 2. */
  retries?: number;
  /** Cores used by outside processes above which a run counts as disturbed. Default 0.25. */
  threshold?: number;
  /** Called before each retry with the outside load of the attempt just made. */
  onRetry?: (attempt: number, otherCores: number) => void;
}

/**
 * On a shared machine another process can take a core mid-run. Runs `measure` again (at most
 * `retries` times) while `otherCores` of its result is above the threshold, and keeps the least
 * disturbed result, so a figure reflects the code rather than a neighbour's test suite.
 */
export async function leastDisturbed<T>(measure: () => Promise<T>, otherCores: (result: T) => number, o: DisturbanceOptions = {}): Promise<T> {
  const threshold = o.threshold ?? 0.25;
  let best = await measure();
  let last = otherCores(best);
  for (let attempt = 1; attempt <= (o.retries ?? 2) && otherCores(best) > threshold; attempt++) {
    o.onRetry?.(attempt, last);
    const next = await measure();
    last = otherCores(next);
    if (last < otherCores(best)) best = next;
  }
  return best;
}
