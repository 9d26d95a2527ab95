import type { Logger } from 'pino';
import type { JobContract, PayloadOf } from './contract.ts';
import type { Services } from '../src/services.ts';
import type { Trace } from '../src/platform/trace.ts';

export interface JobContext<P> {
  payload: P;
  /** The job's queue (one per job type). */
  queue: string;
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  eventId: string | undefined;
  /** Set for durable jobs: the outbox row the job was relayed from (the runner locks it). */
  outboxId: string | undefined;
  /** A batched queue's job: the outbox rows relayed with it, outboxId first; else undefined. */
  outboxIds: string[] | undefined;
  /** A job of several requests' items (the seen batch): each item's request id, in item order. */
  requestIds?: (string | null)[] | undefined;
  /** The request that caused the job, if one did: hand it to what the job writes (src/platform/trace.ts). */
  trace: Trace | undefined;
  log: Logger;
  services: Services;
  /** Shows how far a long job got (job progress in Bull Board); absent outside a worker. */
  updateProgress?: (value: object) => Promise<void>;
}

export type Processor<C extends JobContract> = (ctx: JobContext<PayloadOf<C>>) => Promise<unknown>;

/** A batched queue's wake job (WAKE_JOB): no payload; its handler claims the queue's waiting rows. */
export interface WakeContext {
  queue: string;
  jobId: string;
  attempt: number;
  /** The request whose commit woke the queue, if one did; the rows it claims carry their own. */
  trace: Trace | undefined;
  log: Logger;
  services: Services;
  /** The progress an earlier run of this job set, or undefined on the first run. */
  lastProgress: unknown;
  /** Sets the job's progress (shown in Bull Board), for a later run of it to read. */
  setProgress: (value: object) => Promise<void>;
}

/** The processor of a batched queue: its rows' jobs, plus the wake jobs that claim them. */
export type BatchedProcessor<C extends JobContract> = Processor<C> & { wake: (ctx: WakeContext) => Promise<unknown> };

/** One processor per contract; a missing key is a type error in jobs/index.ts. */
export type ProcessorMap<Cs extends Record<string, JobContract>> = { [K in keyof Cs]: Processor<Cs[K]> };
