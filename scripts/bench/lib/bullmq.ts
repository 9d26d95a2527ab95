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
  /** Per-job options (e.g. a job id and a deduplication id each), instead of `opts`. */
  optsAt?: (i: number) => JobsOptions;
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
      Array.from({ length: n }, (_, k) => ({ name: o.name ?? 'bench', data: o.data?.(i + k) ?? { i: i + k }, opts: o.optsAt?.(i + k) ?? o.opts ?? BENCH_JOB_OPTS })),
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
  /**
   * Jobs drained first, unmeasured: a freshly started worker runs at about half speed until
   * the JIT has compiled its hot path. Default 0.
   */
  warmupJobs?: number;
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
  if (o.warmupJobs) {
    await prefillQueue(queue, { ...o, jobs: o.warmupJobs });
    const until = performance.now() + (o.timeoutMs ?? 120_000);
    while ((await unfinished(queue)) > 0 && performance.now() < until) await sleep(20);
  }
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

export interface AddAtRateOptions {
  /** Adds per second, one `Queue.add` each, issued on schedule (not awaited one by one). */
  rate: number;
  durationMs: number;
  name?: string;
  /** The job's data; `t` (the scheduled add time, nowMs()) is added to it for latency. */
  data?: (i: number) => object;
  opts?: JobsOptions;
  /** Job id of the i-th job; BullMQ's own ids when omitted. */
  jobId?: (i: number) => string;
  /** Called just before the i-th add is sent, with its scheduled time. */
  onAdd?: (i: number, scheduledMs: number, jobId: string | undefined) => void;
  /** Adds in flight before further ones are skipped (and counted). Default 5,000. */
  maxInFlight?: number;
  label?: string;
}

export interface AddAtRateResult {
  added: number;
  errors: number;
  /** Adds skipped because maxInFlight was reached: Redis could not take the rate. */
  skipped: number;
}

/**
 * Open-loop producer. Each job carries `t`, its scheduled add time, so a worker can record
 * add → completed latency itself (the raw ceiling worker does, see `latency` command).
 */
export async function addAtRate(queue: Queue, o: AddAtRateOptions): Promise<AddAtRateResult> {
  const maxInFlight = o.maxInFlight ?? 5_000;
  const intervalMs = 1000 / o.rate;
  let added = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const bar = o.label ? startPhase(o.label, { totalMs: o.durationMs, counter: () => added, unit: 'added' }) : undefined;
  const start = nowMs();
  const endAt = start + o.durationMs;
  let i = 0;
  while (nowMs() < endAt) {
    const now = nowMs();
    for (let scheduled = start + i * intervalMs; scheduled <= now && scheduled < endAt; scheduled = start + i * intervalMs) {
      const n = i++;
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      const jobId = o.jobId?.(n);
      o.onAdd?.(n, scheduled, jobId);
      inFlight++;
      queue
        .add(o.name ?? 'bench', { ...(o.data?.(n) ?? { i: n }), t: scheduled }, jobId ? { ...(o.opts ?? BENCH_JOB_OPTS), jobId } : (o.opts ?? BENCH_JOB_OPTS))
        .then(
          () => added++,
          () => errors++,
        )
        .finally(() => inFlight--);
    }
    // setTimeout(1) wakes every ~1 ms; adds that fell due meanwhile go out together.
    await sleep(1);
  }
  const settleUntil = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < settleUntil) await sleep(5);
  bar?.done(`${Math.round((added * 1000) / o.durationMs).toLocaleString('en-US')} adds/s of ${o.rate}${skipped ? `, ${skipped} skipped` : ''}`);
  return { added, errors, skipped };
}

export interface AddLatencyOptions extends Omit<AddAtRateOptions, 'jobId' | 'onAdd'> {
  /** A client for QueueEvents' blocking reads: its own connection, maxRetriesPerRequest null. */
  eventsConnection: Redis;
  /** How long to wait for the last completions. Default 5 s. */
  settleMs?: number;
}

export interface AddLatencyResult extends AddAtRateResult {
  completed: number;
  /** Added jobs whose completion was not seen within settleMs. */
  missing: number;
  latency: LatencySummary;
}

/**
 * add → completed latency for ANY worker (Conveyor's included), seen through QueueEvents.
 * QueueEvents parses every event of the queue in this process, which costs CPU here at high
 * rates (several events per job); above a few thousand jobs/s prefer a worker-side record.
 */
export async function measureAddToCompleted(queue: Queue, o: AddLatencyOptions): Promise<AddLatencyResult> {
  // Start the event stream at "now": QueueEvents' default '$' misses what lands before its first XREAD.
  const events = new QueueEvents(queue.name, { connection: o.eventsConnection, prefix: queue.opts.prefix ?? 'bull', lastEventId: `${Date.now()}-0` });
  await events.waitUntilReady();
  const hist = new LatencyHistogram();
  const sentAt = new Map<string, number>();
  const run = Math.random().toString(36).slice(2, 8);
  let completed = 0;
  events.on('completed', ({ jobId }) => {
    const t = sentAt.get(jobId);
    if (t === undefined) return;
    sentAt.delete(jobId);
    completed++;
    hist.record(nowMs() - t);
  });
  let added: AddAtRateResult;
  try {
    added = await addAtRate(queue, {
      ...o,
      jobId: (i) => `${run}-${i}`,
      onAdd: (_i, scheduled, jobId) => sentAt.set(jobId!, scheduled),
    });
    const settleUntil = nowMs() + (o.settleMs ?? 5_000);
    while (sentAt.size > added.errors && nowMs() < settleUntil) await sleep(10);
  } finally {
    await events.close();
  }
  return { ...added, completed, missing: Math.max(0, sentAt.size - added.errors), latency: hist.summary() };
}
