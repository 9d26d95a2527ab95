import { Queue, type JobsOptions, type Telemetry as BullTelemetry } from 'bullmq';
import { hashTag, type RedisClient } from '../src/platform/redis.ts';
import type { Backoff, JobContract, JobData, PayloadOf } from './contract.ts';
import { traceFields, type Trace } from '../src/platform/trace.ts';

export interface EnqueueOptions {
  jobId?: string;
  delayMs?: number;
  attempts?: number;
  eventId?: string;
  outboxId?: string;
  backoff?: Backoff;
  /** BullMQ deduplication: no second job with this id inside ttl ms (throttle mode). */
  deduplication?: { id: string; ttl: number };
  /** The request the job is for (src/platform/trace.ts); none if not given. */
  trace?: Trace;
  /** A job of several requests' items: each item's request id, in item order. */
  requestIds?: (string | null)[];
}

/** Retry policy lives in the contract; BullMQ calls our custom strategy for the delay (see consumer.ts). */
export function jobOptions(contract: JobContract, opts: EnqueueOptions = {}): JobsOptions {
  return {
    attempts: opts.attempts ?? contract.attempts,
    backoff: { type: 'contract' },
    removeOnComplete: { count: contract.keepCompleted ?? 1000 },
    removeOnFail: { count: 10_000 },
    ...(opts.jobId ? { jobId: opts.jobId } : {}),
    ...(opts.delayMs && opts.delayMs > 0 ? { delay: opts.delayMs } : {}),
    ...(opts.deduplication ? { deduplication: opts.deduplication } : {}),
  };
}

export function jobData<P>(contract: JobContract, payload: P, opts: EnqueueOptions = {}): JobData<P> {
  return {
    v: contract.version,
    payload,
    ...(opts.outboxId ? { outbox_id: opts.outboxId } : {}),
    ...(opts.eventId ? { event_id: opts.eventId } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...traceFields(opts.trace),
    ...(opts.requestIds ? { request_ids: opts.requestIds } : {}),
  };
}

/** One BullMQ Queue per contract, created on first use, all sharing one producer connection. */
export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: RedisClient,
    readonly prefix: string,
    /** OpenTelemetry (bullmq-otel) when on: adds carry the active trace to the job. */
    readonly telemetry?: BullTelemetry,
    /** Redis Cluster: each queue's keys carry its own hash tag (`prefix:{name}:…`), see bullName. */
    readonly hashTags = false,
  ) {}

  /**
   * The BullMQ name of a queue: its contract name, wrapped in braces on a Cluster so that all its
   * keys share one slot (BullMQ's scripts touch several keys of a queue at once) while different
   * queues spread over the masters.
   */
  bullName(queue: string): string {
    return hashTag(this.hashTags, queue);
  }

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(this.bullName(name), { connection: this.connection, prefix: this.prefix, ...(this.telemetry ? { telemetry: this.telemetry } : {}) });
      // Errors surface on the awaited call; this only keeps an idle queue's error from crashing the process.
      queue.on('error', () => {});
      this.queues.set(name, queue);
      // BullMQ keeps a failed first handshake (its INFO timed out: Redis down or slow at start) for
      // the Queue's life: forget such a Queue, so the next call builds a new one instead of failing forever.
      const created = queue;
      created.waitUntilReady().catch(() => {
        if (this.queues.get(name) === created) this.queues.delete(name);
      });
    }
    return queue;
  }

  /** Typed enqueue: the payload type comes from the contract, so a producer cannot send the wrong shape. */
  async enqueue<C extends JobContract>(contract: C, payload: PayloadOf<C>, opts: EnqueueOptions = {}): Promise<string> {
    const job = await this.get(contract.queue).add(contract.queue, jobData(contract, payload, opts), jobOptions(contract, opts));
    return job.id ?? '';
  }

  /** Typed enqueue of many jobs of one contract in one round trip (addBulk). */
  async enqueueMany<C extends JobContract>(contract: C, jobs: readonly { payload: PayloadOf<C>; opts?: EnqueueOptions }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.get(contract.queue).addBulk(jobs.map(({ payload, opts }) => ({ name: contract.queue, data: jobData(contract, payload, opts), opts: jobOptions(contract, opts) })));
  }

  /**
   * BullMQ's producer connection (no auto-pipelining), for the few plain commands that go with
   * queue work: the reconciler's pipelined deletes, the wake markers (QueueWaker).
   */
  commandConnection(): RedisClient {
    return this.connection;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}
