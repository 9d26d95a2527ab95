/**
 * Queue-side measurements that work with any worker, raw or Conveyor's: drain rate of a
 * pre-filled queue, and add → completed latency seen through QueueEvents.
 */
import { QueueEvents, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { LatencyHistogram, nowMs, type LatencySummary } from './stats.ts';
import { startPhase } from './progress.ts';

/** Jobs a benchmark leaves behind would fill Redis over a long run; failures are kept for a look. */
export const BENCH_JOB_OPTS: JobsOptions = { removeOnComplete: true, removeOnFail: 1_000 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PrefillOptions {
  jobs: number;
  name?: string;
  data?: (i: number) => object;
  opts?: JobsOptions;
  /** Jobs per addBulk call. Default 1,000. */
  batch?: number;
}

/** addBulk in batches; returns the jobs added per second. */
export async function prefillQueue(queue: Queue, o: PrefillOptions): Promise<number> {
  const batch = o.batch ?? 1_000;
  const t0 = performance.now();
  for (let i = 0; i < o.jobs; i += batch) {
    const n = Math.min(batch, o.jobs - i);
    await queue.addBulk(
      Array.from({ length: n }, (_, k) => ({ name: o.name ?? 'bench', data: o.data?.(i + k) ?? { i: i + k }, opts: o.opts ?? BENCH_JOB_OPTS })),
    );
  }
  return (o.jobs * 1000) / (performance.now() - t0);
}

/** Jobs not yet finished: waiting (paused included), prioritized, delayed or active. */
export async function unfinished(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'waiting-children');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

export interface DrainOptions extends PrefillOptions {
  /** Give up after this long; the result then says how many were left. Default 120 s. */
  timeoutMs?: number;
  label?: string;
}

export interface DrainResult {
  jobs: number;
  left: number;
  seconds: number;
  jobsPerSec: number;
  addBulkPerSec: number;
}

/**
 * Pre-fills a paused queue, resumes it and times until nothing is left. The workers must
 * already be running on `queue` (in another process); pausing keeps them from starting early.
 */
export async function measureDrain(queue: Queue, o: DrainOptions): Promise<DrainResult> {
  await queue.pause();
  let addBulkPerSec: number;
  try {
    addBulkPerSec = await prefillQueue(queue, o);
  } catch (err) {
    await queue.resume();
    throw err;
  }
  const timeoutMs = o.timeoutMs ?? 120_000;
  let left = o.jobs;
  const bar = o.label ? startPhase(o.label, { counter: () => o.jobs - left, unit: 'jobs' }) : undefined;
  const t0 = performance.now();
  await queue.resume();
  // Polling every 10 ms costs Redis little and resolves a one-second drain to about 1 %.
  while (left > 0 && performance.now() - t0 < timeoutMs) {
    await sleep(10);
    left = await unfinished(queue);
  }
  const seconds = (performance.now() - t0) / 1000;
  const done = o.jobs - left;
  const result = { jobs: o.jobs, left, seconds, jobsPerSec: done / seconds, addBulkPerSec };
  bar?.done(`${Math.round(result.jobsPerSec).toLocaleString('en-US')} jobs/s${left ? `, ${left} left (timeout)` : ''}`);
  return result;
}

export interface AddLatencyOptions {
  /** A client for QueueEvents' blocking reads: its own connection, maxRetriesPerRequest null. */
  eventsConnection: Redis;
  /** Adds per second, one `Queue.add` each, not awaited one by one. */
  rate: number;
  durationMs: number;
  name?: string;
  data?: (i: number) => object;
  opts?: JobsOptions;
  /** How long to wait for the last completions. Default 5 s. */
  settleMs?: number;
  label?: string;
}

export interface AddLatencyResult {
  added: number;
  completed: number;
  errors: number;
  /** Added jobs whose completion was not seen within settleMs. */
  missing: number;
  latency: LatencySummary;
}

/**
 * Open-loop adds at a fixed rate, each under a known job id; QueueEvents' `completed` closes the
 * measurement. Latency runs from the scheduled add time, so a slow add counts against the result.
 */
export async function measureAddToCompleted(queue: Queue, o: AddLatencyOptions): Promise<AddLatencyResult> {
  // Start the event stream at "now": QueueEvents' default '$' misses what lands before its first XREAD.
  const events = new QueueEvents(queue.name, { connection: o.eventsConnection, prefix: queue.opts.prefix ?? 'bull', lastEventId: `${Date.now()}-0` });
  await events.waitUntilReady();
  const hist = new LatencyHistogram();
  const sentAt = new Map<string, number>();
  const run = Math.random().toString(36).slice(2, 8);
  let added = 0;
  let errors = 0;
  let completed = 0;
  events.on('completed', ({ jobId }) => {
    const t = sentAt.get(jobId);
    if (t === undefined) return;
    sentAt.delete(jobId);
    completed++;
    hist.record(nowMs() - t);
  });

  const bar = o.label ? startPhase(o.label, { totalMs: o.durationMs, counter: () => completed, unit: 'jobs' }) : undefined;
  const intervalMs = 1000 / o.rate;
  const start = nowMs();
  const endAt = start + o.durationMs;
  let i = 0;
  try {
    while (nowMs() < endAt) {
      const now = nowMs();
      for (let scheduled = start + i * intervalMs; scheduled <= now && scheduled < endAt; scheduled = start + i * intervalMs) {
        const jobId = `${run}-${i}`;
        const data = o.data?.(i) ?? { i };
        i++;
        sentAt.set(jobId, scheduled);
        queue.add(o.name ?? 'bench', data, { ...(o.opts ?? BENCH_JOB_OPTS), jobId }).then(
          () => added++,
          () => {
            errors++;
            sentAt.delete(jobId);
          },
        );
      }
      await sleep(1);
    }
    const settleUntil = nowMs() + (o.settleMs ?? 5_000);
    while (sentAt.size > 0 && nowMs() < settleUntil) await sleep(10);
  } finally {
    await events.close();
  }
  bar?.done(`p50 ${hist.percentile(50).toFixed(2)} ms, p99 ${hist.percentile(99).toFixed(2)} ms`);
  return { added, completed, errors, missing: sentAt.size, latency: hist.summary() };
}
