import type { Logger } from 'pino';
import type { RedisClient } from '../src/platform/redis.ts';
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
 * (a wipe, a failover without AOF: a sentinel key written with the schedulers disappears with them)
 * or when one was removed on its own (Bull Board's delete): each check looks each one up.
 */
export class Scheduler {
  private loop: Repeating | undefined;

  constructor(
    private readonly queues: QueueSet,
    private readonly redis: RedisClient,
    private readonly schedules: Schedule[],
    private readonly log: Logger,
    private readonly opts: { tz: string; checkEveryMs: number },
  ) {}

  private get sentinel(): string {
    return `${this.queues.prefix}:schedulers:registered`;
  }

  private async register(schedules: Schedule[]): Promise<void> {
    for (const s of schedules) {
      await this.queues.get(s.contract.queue).upsertJobScheduler(
        s.id,
        { pattern: s.pattern, tz: this.opts.tz },
        { name: s.contract.queue, data: jobData(s.contract, s.payload), opts: jobOptions(s.contract) },
      );
    }
    await this.redis.set(this.sentinel, String(Date.now()));
  }

  async registerAll(): Promise<void> {
    await this.register(this.schedules);
    this.log.info({ schedules: this.schedules.map((s) => `${s.id} ${s.pattern}`) }, 'job schedulers registered');
  }

  /** The schedules whose job scheduler Redis does not have. */
  private async missing(): Promise<Schedule[]> {
    const found = await Promise.all(this.schedules.map((s) => this.queues.get(s.contract.queue).getJobScheduler(s.id)));
    return this.schedules.filter((_, i) => !found[i]);
  }

  /** Registers again what Redis lost or someone removed; returns whether it had to. */
  async check(): Promise<boolean> {
    const wiped = (await this.redis.exists(this.sentinel)) === 0;
    // Only the missing ones: upserting a present scheduler would move its next run.
    const missing = wiped ? this.schedules : await this.missing();
    if (missing.length === 0) return false;
    this.log.warn(
      { schedules: missing.map((s) => s.id) },
      wiped ? 'job schedulers missing from Redis; registering them again' : 'job schedulers removed (Bull Board?); registering them again',
    );
    await this.register(missing);
    return true;
  }

  async start(): Promise<void> {
    // Redis may not answer yet (a cluster still settling its slots, a restart): the process starts
    // anyway, and the first check that reaches Redis finds the sentinel missing and registers all.
    await this.registerAll().catch((err: unknown) => this.log.warn({ err }, 'job schedulers not registered yet; the next check will'));
    this.loop = repeatEvery(this.opts.checkEveryMs, () => this.check(), this.log, 'scheduler check');
  }

  stop(): void {
    this.loop?.stop();
  }
}
