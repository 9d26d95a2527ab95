import type { RedisClient } from '../../src/platform/redis.ts';
import type { Db, Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import { selectRows } from '../../src/platform/sql.ts';
import type { Services } from '../../src/services.ts';
import type { Trace } from '../../src/platform/trace.ts';
import type { QueueSet } from '../producer.ts';
import type { JobContract, PayloadOf } from '../contract.ts';
import type { BatchedProcessor, JobContext, Processor, WakeContext } from '../processor.ts';
import { runOutboxBatch, type BatchOptions, type BatchOutcome, type OutboxBatch, type OwnRows } from './runner.ts';

/** What sending after a commit may use. */
export interface SendDeps {
  db: Db;
  redis: RedisClient;
  prefix: string;
  /** Jobs a batch queues after its commit (report mails). */
  queues: QueueSet;
  /** The request of the job that sends, if one caused it: for the jobs it queues. */
  trace: Trace | undefined;
}

/**
 * What a batch handler returns for the runner to send once its transaction committed (room events
 * to publish), and how to find it again: a job that committed and died before sending is run again,
 * finds its rows done, and sends what `filed` reads back for the batch's key. Sent at least once;
 * readers drop repeats.
 */
export interface SendAfterCommit<E> {
  send(deps: SendDeps, items: readonly E[]): Promise<void>;
  filed(deps: SendDeps, key: string): Promise<E[]>;
}

/** What a wake job notes before its commit, when it has something to send: its batch's first row. */
interface Claimed {
  first: number;
  rows: number;
}

function isClaimed(value: unknown): value is Claimed {
  return typeof value === 'object' && value !== null && typeof (value as Claimed).first === 'number';
}

function ownRows(ctx: JobContext<unknown>): OwnRows {
  if (!ctx.outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
  return { outboxId: ctx.outboxId, relayedWith: ctx.outboxIds };
}

/**
 * A durable job's processor: a batch of one. Its effect runs in one transaction with the outbox row
 * lock and the "done" mark, so it happens exactly once however often the job is delivered; rows the
 * effect writes are handed on after the commit (Outbox.transaction).
 */
export function durableJob<C extends JobContract>(effect: (trx: Trx, ctx: JobContext<PayloadOf<C>>) => Promise<unknown>): Processor<C> {
  return async (ctx) => {
    const outcome = await runOutboxBatch(ctx.services.outbox, { queue: ctx.queue, max: 1, log: ctx.log }, ownRows(ctx), (trx) => effect(trx, ctx));
    if (!outcome.done) return duplicate(ctx.services, ctx.queue, ctx);
    return outcome.result ?? null;
  };
}

function duplicate(services: Services, queue: string, ctx?: { log: JobContext<unknown>['log'] }) {
  ctx?.log.info('already done; skipping the duplicate delivery');
  services.metrics.jobsProcessed.inc({ queue, outcome: 'duplicate' });
  return { duplicate: true };
}

export interface BatchedJobOptions {
  /** Most payloads in one job; default CHAT_JOB_BATCH. */
  batchSize?: (services: Services) => number;
  /** Batches strictly in outbox id order (BatchOptions.inOrder); a row's own job claims like a wake. */
  inOrder?: boolean;
}

/**
 * The processor of a batched queue (JobContract.batched): each job handles up to `batchSize` of
 * the queue's rows in one transaction. Most jobs are wake jobs (a commit that wrote the queue's rows
 * adds one); jobs the relay or the reconciler made from a row run the same way with their rows
 * first. A full batch wakes the queue again for the rest. What the effect returns is sent after the
 * commit through `after` (room events), and sent again by a rerun that finds its batch committed.
 */
export function batchedJob<C extends JobContract, E = never>(
  contract: C,
  effect: (trx: Trx, batch: OutboxBatch<PayloadOf<C>>, services: Services) => Promise<E[] | void>,
  after?: SendAfterCommit<E>,
  opts: BatchedJobOptions = {},
): BatchedProcessor<C> {
  const batchSize = opts.batchSize ?? ((services: Services) => services.config.chat.jobBatch);
  const inOrder = opts.inOrder ?? false;
  const options = (services: Services, log: JobContext<unknown>['log']): BatchOptions => ({ queue: contract.queue, schema: contract.schema, max: batchSize(services), readCommitted: true, inOrder, log });
  const sendDeps = (services: Services, trace: Trace | undefined): SendDeps => ({ db: services.db, redis: services.redis, prefix: services.config.queuePrefix, queues: services.queues, trace });

  /** `rowKey`: a row's job, whose row may have committed before (a wake job has none). */
  async function finish({ services, trace }: { services: Services; trace: Trace | undefined }, outcome: BatchOutcome<E[] | void>, rowKey: string | null) {
    if (!outcome.done) {
      // A wake that found every row taken has nothing to do; a row's job that finds it done is a duplicate.
      if (!rowKey) return { empty: true };
      duplicate(services, contract.queue);
    }
    // A full batch likely left rows behind: another wake takes them, beside this job's next one.
    else if (outcome.size >= batchSize(services)) services.outbox.wake([contract.queue], trace);
    const items = outcome.done ? (outcome.result ?? []) : rowKey && after ? await after.filed(sendDeps(services, trace), rowKey) : [];
    if (after && items.length > 0) await after.send(sendDeps(services, trace), items);
    return outcome.done ? { batch: outcome.size, first: outcome.first, sent: items.length } : { duplicate: true, sent: items.length };
  }

  const processor = async (ctx: JobContext<PayloadOf<C>>) => {
    const own = ownRows(ctx);
    if (inOrder) {
      // A row's job must not put its rows ahead of older waiting ones: unless its row is dead (a
      // retry from Bull Board runs it alone), it takes the oldest rows like a wake, its own in turn.
      const [row] = await selectRows<{ status: string }>(ctx.services.db, 'SELECT status FROM outbox WHERE id = ?', [Number(own.outboxId)]);
      if (!row) throw new PermanentError(`outbox row ${own.outboxId} does not exist`, 'outbox_row_missing');
      if (row.status === 'done') return finish(ctx, { done: false }, own.outboxId);
      if (row.status !== 'dead') return finish(ctx, await runOutboxBatch<PayloadOf<C>, E[] | void>(ctx.services.outbox, options(ctx.services, ctx.log), null, (trx, batch) => effect(trx, batch, ctx.services)), null);
      const alone = await runOutboxBatch<PayloadOf<C>, E[] | void>(ctx.services.outbox, { ...options(ctx.services, ctx.log), max: 1 }, { ...own, relayedWith: undefined }, (trx, batch) => effect(trx, batch, ctx.services));
      return finish(ctx, alone, own.outboxId);
    }
    const outcome = await runOutboxBatch<PayloadOf<C>, E[] | void>(ctx.services.outbox, options(ctx.services, ctx.log), own, (trx, batch) => effect(trx, batch, ctx.services));
    return finish(ctx, outcome, own.outboxId);
  };

  const wake = async (ctx: WakeContext) => {
    const earlier = isClaimed(ctx.lastProgress) ? ctx.lastProgress : null;
    // Only a batch with something to send has anything to send again: the others skip the round trip.
    const outcome = await runOutboxBatch(ctx.services.outbox, options(ctx.services, ctx.log), null, (trx, batch: OutboxBatch<PayloadOf<C>>) => effect(trx, batch, ctx.services), async (batch, items) => {
      if (after && items && items.length > 0) await ctx.setProgress({ first: batch.ids[0]!, rows: batch.ids.length } satisfies Claimed);
    });
    // A rerun after a commit whose send was lost: send what the earlier run filed.
    if (after && earlier && (!outcome.done || outcome.first !== earlier.first)) {
      const deps = sendDeps(ctx.services, ctx.trace);
      await after.send(deps, await after.filed(deps, String(earlier.first)));
    }
    return finish(ctx, outcome, null);
  };

  return Object.assign(processor, { wake });
}
