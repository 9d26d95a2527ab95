import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { repeatEvery, type Repeating } from '../src/platform/repeat.ts';
import type { JobContract, PayloadOf } from './contract.ts';
import { jobData, jobOptions, type QueueSet } from './producer.ts';

export interface Schedule<C extends JobContract = JobContract> {
  /** Stable id: registering the same id again replaces, never duplicates. */
  id: string;
  contract: C;
  /** Cron pattern, with an optional leading seconds field. */
  pattern: string;
  payload: PayloadOf<C>;
}

export function schedule<C extends JobContract>(s: Schedule<C>): Schedule {
  return s as unknown as Schedule;
}

/**
 * Registers BullMQ job schedulers idempotently, and registers them again when Redis has lost them
 * (a wipe, a failover without AOF): a sentinel key written with the schedulers disappears with them.
 */
export class Scheduler {
  private loop: Repeating | undefined;

  constructor(
    private readonly queues: QueueSet,
    private readonly redis: Redis,
    private readonly schedules: Schedule[],
    private readonly log: Logger,
    private readonly opts: { tz: string; checkEveryMs: number },
  ) {}

  private get sentinel(): string {
    return `${this.queues.prefix}:schedulers:registered`;
  }

  async registerAll(): Promise<void> {
    for (const s of this.schedules) {
      await this.queues.get(s.contract.queue).upsertJobScheduler(
        s.id,
        { pattern: s.pattern, tz: this.opts.tz },
        { name: s.contract.queue, data: jobData(s.contract, s.payload), opts: jobOptions(s.contract) },
      );
    }
    await this.redis.set(this.sentinel, String(Date.now()));
    this.log.info({ schedules: this.schedules.map((s) => `${s.id} ${s.pattern}`) }, 'job schedulers registered');
  }

  /** Re-registers if the sentinel is gone; returns whether it did. */
  async check(): Promise<boolean> {
    if ((await this.redis.exists(this.sentinel)) === 1) return false;
    this.log.warn('job schedulers missing from Redis; registering them again');
    await this.registerAll();
    return true;
  }

  async start(): Promise<void> {
    await this.registerAll();
    this.loop = repeatEvery(this.opts.checkEveryMs, () => this.check(), this.log, 'scheduler check');
  }

  stop(): void {
    this.loop?.stop();
  }
}
