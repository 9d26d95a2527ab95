import type { Static, TSchema } from '@sinclair/typebox';
import type { Backoff } from '../src/platform/backoff.ts';

export { backoffDelay, type Backoff } from '../src/platform/backoff.ts';


/**
 * Everything a job type is: its queue, payload schema and version, retry policy and concurrency.
 * One queue per job type, so each can be scaled, paused and inspected alone.
 */
export interface JobContract<S extends TSchema = TSchema> {
  queue: string;
  schema: S;
  version: number;
  attempts: number;
  backoff: Backoff;
  concurrency: number;
  /** At most this many jobs of the queue run at once across every worker process (BullMQ global concurrency). */
  globalConcurrency?: number;
  /** Durable jobs are written to the MySQL outbox first; their source of truth survives a Redis wipe. */
  durable: boolean;
  /** Completed jobs kept for Bull Board, by count. */
  keepCompleted?: number;
  /**
   * Its processor handles many outbox rows in one transaction (queues/outbox/runner.ts). Its rows
   * skip the relay: a commit through Outbox.transaction that wrote some adds a payload-less wake
   * job (WAKE_JOB) and that job claims the queue's waiting rows. Rows the relay does handle
   * (delayed ones, or rows written outside Outbox.transaction) go up to CHAT_JOB_BATCH at a time as
   * one job, the job of the first row carrying the others' ids in `outbox_ids`.
   */
  batched?: boolean;
  description: string;
}

export type PayloadOf<C> = C extends JobContract<infer S> ? Static<S> : never;

/** What travels in Redis: the payload plus the contract version it was written against. */
export interface JobData<P = unknown> {
  v: number;
  payload: P;
  /** Set for durable jobs: the outbox row the job was relayed from. */
  outbox_id?: string;
  /** A batched queue's job: every outbox row relayed with it, outbox_id first (see JobContract.batched). */
  outbox_ids?: string[];
  event_id?: string;
  /** The request that caused the job (src/platform/trace.ts); a batch's rows each carry their own. */
  request_id?: string;
  traceparent?: string;
  /** A job made of several requests' items (the seen batch): each item's request id, in item order. */
  request_ids?: (string | null)[];
  /** Overrides the contract's backoff for this job (mark-notify sets it per integration). */
  backoff?: Backoff;
}

export function defineJob<S extends TSchema>(contract: JobContract<S>): JobContract<S> {
  return contract;
}


/** The job name of a batched queue's wake-up: no payload, its processor claims the queue's rows. */
export const WAKE_JOB = 'wake';

/** Outbox job ids: BullMQ rejects integer custom ids, so the row id is prefixed. */
export function outboxJobId(outboxId: string | number): string {
  return `ob-${outboxId}`;
}
