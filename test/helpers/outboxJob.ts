import { Type } from '@sinclair/typebox';
import { Redis } from 'ioredis';
import { defineJob, type JobContract } from '../../queues/contract.ts';
import { durableJob } from '../../queues/outbox/processors.ts';
import type { OutboxJob } from '../../queues/outbox/writer.ts';
import type { JobContext, Processor } from '../../queues/processor.ts';
import type { Db, Trx } from '../../src/platform/db.ts';
import { TEST_REDIS } from './db.ts';

/**
 * The durable test job the outbox tests share: a payload `{n}`, few quick attempts, and an effect
 * each test writes itself (usually a row per run, so "exactly once" is countable).
 */
export const TestPayload = Type.Object({ n: Type.Integer() }, { additionalProperties: false });

export interface TestJobOptions {
  attempts?: number;
  /** First retry delay; the cap is a few times it, no jitter (tests wait on it). */
  delayMs?: number;
  maxDelayMs?: number;
  concurrency?: number;
  batched?: boolean;
}

export function defineTestJob(queue: string, description: string, opts: TestJobOptions = {}) {
  return defineJob({
    queue,
    description,
    schema: TestPayload,
    version: 1,
    attempts: opts.attempts ?? 3,
    backoff: { delayMs: opts.delayMs ?? 20, maxDelayMs: opts.maxDelayMs ?? 50, jitter: 0 },
    concurrency: opts.concurrency ?? 2,
    durable: true,
    ...(opts.batched ? { batched: true } : {}),
  });
}

export type TestJob = ReturnType<typeof defineTestJob>;

/** The contract map an Outbox, relay or reconciler built for these tests is given. */
export function contractMap(...contracts: JobContract[]): Map<string, JobContract> {
  return new Map(contracts.map((c) => [c.queue, c]));
}

/** A durable processor of the test job, typed for startWorker. */
export function testProcessor(effect: (trx: Trx, ctx: JobContext<{ n: number }>) => Promise<unknown>): Processor<JobContract> {
  return durableJob<TestJob>(effect) as unknown as Processor<JobContract>;
}

/** Outbox rows of the test job, one per n. */
export function testRows(contract: JobContract, ns: readonly number[], availableAt?: Date): OutboxJob[] {
  return ns.map((n) => ({ queue: contract.queue, payload: { n }, version: 1, ...(availableAt ? { availableAt } : {}) }));
}

/** The blocking connection a test's own worker needs. */
export function workerConnection(): Redis {
  return new Redis(TEST_REDIS, { protocol: 2, maxRetriesPerRequest: null });
}

/** The table a test's effect writes a row to per run (`outbox_id`, `n`), so "exactly once" is countable. */
export async function createEffectsTable(db: Db, name: string): Promise<void> {
  await db.schema.createTable(name, (t) => {
    t.increments('id');
    t.string('outbox_id', 32).notNullable();
    t.integer('n').notNullable();
  });
}
