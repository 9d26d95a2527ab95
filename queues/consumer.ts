import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../src/platform/redis.ts';
import type { Logger } from 'pino';
import { AppError, PermanentError } from '../src/platform/errors.ts';
import { compileSchema } from '../src/platform/validation.ts';
import { traceFields, traceOf, type Trace } from '../src/platform/trace.ts';
import { jobDataFromOutbox } from './outbox/relay.ts';
import { markDead, ownOutboxId } from './outbox/dead.ts';
import { wakeMarker } from './outbox/wake.ts';
import type { Services } from '../src/services.ts';
import { backoffDelay, WAKE_JOB, type Backoff, type JobContract, type JobData } from './contract.ts';
import type { BatchedProcessor, Processor } from './processor.ts';

/** Errors no retry can fix: our PermanentError, and 4xx AppErrors other than "try later" ones. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentError || err instanceof UnrecoverableError) return true;
  return err instanceof AppError && err.status < 500 && err.status !== 429 && err.status !== 408;
}

function isJobData(value: unknown): value is JobData {
  return typeof value === 'object' && value !== null && typeof (value as JobData).v === 'number' && 'payload' in value;
}

/**
 * Wraps a processor with what every job needs: payload validation against its contract (an invalid
 * job fails at once, without retry), a child logger with the job id, metrics, and failure classes.
 */
export function wrapProcessor(services: Services, contract: JobContract, processor: Processor<JobContract>) {
  const one = compileSchema(contract.schema);
  // A batched queue's row may carry a list of events (an event batch row): each must pass.
  const check = Object.assign(
    (payload: unknown) => (contract.batched && Array.isArray(payload) ? payload.length > 0 && payload.every((p) => one(p)) : one(payload)),
    { errors: () => one.errors() },
  );
  const validate = services.config.eventValidation;
  const { metrics } = services;
  const queue = contract.queue;
  const wake = (processor as Partial<BatchedProcessor<JobContract>>).wake;
  return async (job: Job): Promise<unknown> => {
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;

    // The request that caused the job: on its log lines, and handed to the processor for what it writes.
    const trace = traceOf(job.data as { request_id?: unknown; traceparent?: unknown } | null);
    if (job.name === WAKE_JOB) {
      const log = services.log.child({ queue, job_id: job.id, attempt, ...traceFields(trace) });
      if (!contract.batched || !wake) throw new UnrecoverableError(`${queue} takes no wake jobs`);
      // Before the claim: a commit from now on adds a new wake, since this claim may miss its rows.
      await services.queues.commandConnection().del(wakeMarker(services.config.queuePrefix, queue, services.queues.hashTags));
      log.debug('job started');
      return observe(job, log, attempt, maxAttempts, () =>
        wake({ queue, jobId: job.id ?? '', attempt, trace: spanTrace(trace), log, services, lastProgress: job.progress, setProgress: (value) => job.updateProgress(value) }),
      );
    }

    let data: unknown = job.data;
    if (contract.durable && !isJobData(data)) data = (await jobDataFromOutbox(services.db, job.id)) ?? data;
    const dataTrace = trace ?? traceOf(isJobData(data) ? data : null);
    const log = services.log.child({ queue, job_id: job.id, attempt, ...(isJobData(data) && data.event_id ? { event_id: data.event_id } : {}), ...traceFields(dataTrace) });

    // EVENT_VALIDATION=false skips the payload check (to measure its cost), never the shape check.
    if (!isJobData(data) || data.v > contract.version || (validate && !check(data.payload))) {
      const problems = isJobData(data) ? (data.v > contract.version ? [`payload version ${data.v} is newer than ${contract.version}`] : check.errors()) : ['not a job envelope'];
      metrics.jobsProcessed.inc({ queue, outcome: 'invalid' });
      log.error({ problems }, 'job payload fails its contract; not retrying');
      const err = new UnrecoverableError(`invalid payload: ${problems.join('; ')}`);
      await rowDied(job, attempt, err, log);
      throw err;
    }
    const valid = data;
    log.debug({ outbox_id: valid.outbox_id }, 'job started');
    return observe(job, log, attempt, maxAttempts, () =>
      processor({
        payload: valid.payload,
        queue,
        jobId: job.id ?? '',
        attempt,
        maxAttempts,
        eventId: valid.event_id,
        outboxId: valid.outbox_id,
        outboxIds: valid.outbox_ids,
        requestIds: valid.request_ids,
        trace: spanTrace(dataTrace),
        log,
        services,
        updateProgress: (value) => job.updateProgress(value),
      }),
    );
  };

  /** With telemetry on, what the job writes continues its own span (a child of the request's). */
  function spanTrace(trace: Trace | undefined): Trace | undefined {
    const traceparent = trace && services.telemetry?.traceparent();
    return traceparent ? { request_id: trace.request_id, traceparent } : trace;
  }

  /** A durable job that failed for good: its outbox row becomes `dead` (queues/outbox/dead.ts). */
  async function rowDied(job: Job, attempt: number, err: unknown, log: Logger): Promise<void> {
    const outboxId = contract.durable ? ownOutboxId(job.id) : null;
    if (outboxId === null) return;
    await markDead(services.db, outboxId, { attempts: attempt, error: err }).then(
      (marked) => marked && log.warn({ outbox_id: outboxId }, 'outbox row is dead: its job failed for good'),
      (markErr: unknown) => log.warn({ err: markErr, outbox_id: outboxId }, 'outbox row not marked dead'),
    );
  }

  /** Wait and duration metrics, outcome counts and the failure class around one run. */
  async function observe(job: Job, log: Logger, attempt: number, maxAttempts: number, run: () => Promise<unknown>): Promise<unknown> {
    // A job torn by a Redis wipe may have lost its timestamps: no wait figure for it.
    const waitMs = (job.processedOn ?? Date.now()) - (job.timestamp + (job.delay ?? 0));
    if (Number.isFinite(waitMs)) metrics.jobWait.observe({ queue }, Math.max(0, waitMs) / 1000);
    const stopTimer = metrics.jobDuration.startTimer({ queue });
    try {
      const result = await run();
      metrics.jobsProcessed.inc({ queue, outcome: 'completed' });
      return result;
    } catch (err) {
      const permanent = isPermanent(err);
      const final = permanent || attempt >= maxAttempts;
      metrics.jobsProcessed.inc({ queue, outcome: final ? 'failed' : 'retry' });
      log[final ? 'error' : 'warn']({ err, final }, final ? 'job failed for good' : 'job failed; will retry');
      if (final) await rowDied(job, attempt, err, log);
      if (permanent && !(err instanceof UnrecoverableError)) throw new UnrecoverableError((err as Error).message);
      throw err;
    } finally {
      stopTimer();
    }
  }
}

/** The delay before retry n: the job's own backoff (set per integration) or its contract's. */
export function retryDelay(contract: JobContract, attemptsMade: number, job?: { data?: unknown }): number {
  const own = (job?.data as { backoff?: Backoff } | undefined)?.backoff;
  return backoffDelay(own ?? contract.backoff, attemptsMade);
}

export function startWorker(services: Services, connection: RedisClient, contract: JobContract, processor: Processor<JobContract>): Worker {
  const worker = new Worker(services.queues.bullName(contract.queue), wrapProcessor(services, contract, processor), {
    connection,
    prefix: services.config.queuePrefix,
    ...(services.telemetry ? { telemetry: services.telemetry.bullmq } : {}),
    concurrency: contract.concurrency * services.config.workerConcurrencyScale,
    settings: { backoffStrategy: (attemptsMade, _type, _err, job) => retryDelay(contract, attemptsMade, job) },
    // A job whose worker died runs again after its lock lapses and the next stalled check: a crash
    // never loses it (WORKER_LOCK_DURATION, WORKER_STALLED_INTERVAL).
    lockDuration: services.config.worker.lockDurationMs,
    stalledInterval: services.config.worker.stalledIntervalMs,
    maxStalledCount: 5,
  });
  worker.on('error', (err) => services.log.error({ err, queue: contract.queue }, 'worker error'));
  if (contract.globalConcurrency !== undefined) {
    services.queues
      .get(contract.queue)
      .setGlobalConcurrency(contract.globalConcurrency)
      .catch((err: unknown) => services.log.error({ err, queue: contract.queue }, 'could not set the global concurrency'));
  }
  return worker;
}
