import type { Logger } from 'pino';
import { withTransaction, type Db } from '../../src/platform/db.ts';
import { executeLater, placeholders, selectRows } from '../../src/platform/sql.ts';
import { systemClock, type Clock } from '../../src/platform/clock.ts';
import type { QueueSet } from '../producer.ts';
import { outboxJobId } from '../contract.ts';
import { PAYLOAD_COLUMNS, PAYLOAD_SQL, storedPayload, type StoredPayload } from './writer.ts';
import type { JobContract } from '../contract.ts';
import { traceFields, traceOf } from '../../src/platform/trace.ts';

export interface OutboxRow extends StoredPayload {
  id: number;
  queue: string;
  available_at: Date;
}

/** The job data an outbox row becomes. */
export function rowJobData(row: Pick<OutboxRow, 'id' | keyof StoredPayload>) {
  return {
    v: row.payload_version,
    payload: storedPayload(row),
    outbox_id: String(row.id),
    ...(row.event_id ? { event_id: row.event_id } : {}),
    ...traceFields(traceOf(row)),
  };
}

/**
 * The data of a durable job read back from its outbox row, for a job whose Redis hash lost its
 * data (a wipe that raced the worker): the row, not Redis, is the source of truth.
 */
export async function jobDataFromOutbox(db: Db, jobId: string | undefined) {
  const id = /^ob-(\d+)$/.exec(jobId ?? '')?.[1];
  if (!id) return null;
  const row = (await db('outbox').select('id', ...PAYLOAD_COLUMNS).where('id', id).first()) as OutboxRow | undefined;
  return row ? rowJobData(row) : null;
}

/**
 * Adds outbox rows to BullMQ. jobId = "ob-<row id>", so adding a row twice is harmless.
 *
 * Rows of a batched queue (JobContract.batched) go up to `rowsPerJob` at a time as one job: the
 * job of the first row, whose data also lists the others' ids (`outbox_ids`); its processor
 * handles them all in one transaction. The other rows have no job of their own: if that job is
 * lost, the reconciler finds them relayed, not done and absent from Redis, and adds them alone.
 * Delayed rows always travel alone.
 */
export async function addRowsToQueues(
  queues: QueueSet,
  contracts: ReadonlyMap<string, JobContract>,
  rows: OutboxRow[],
  now = Date.now(),
  rowsPerJob = 1,
): Promise<void> {
  const byQueue = new Map<string, OutboxRow[]>();
  for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
  await Promise.all(
    [...byQueue].map(([name, queueRows]) => {
      const contract = contracts.get(name);
      const groups = groupRows(queueRows, contract?.batched ? rowsPerJob : 1, now);
      return queues.get(name).addBulk(
        groups.map(([first, ...rest]) => ({
          name,
          data: { ...rowJobData(first!), ...(rest.length > 0 ? { outbox_ids: [first!, ...rest].map((r) => String(r.id)) } : {}) },
          opts: {
            jobId: outboxJobId(first!.id),
            attempts: contract?.attempts ?? 10,
            backoff: { type: 'contract' },
            removeOnComplete: { count: contract?.keepCompleted ?? 1000 },
            removeOnFail: { count: 10_000 },
            ...(first!.available_at.getTime() > now ? { delay: first!.available_at.getTime() - now } : {}),
            // With telemetry on, the job's spans continue its row's trace, not the relay pass's.
            ...(queues.telemetry && first!.traceparent ? { telemetry: { metadata: JSON.stringify({ traceparent: first!.traceparent }) } } : {}),
          },
        })),
      );
    }),
  );
}

/** Consecutive rows due now, in groups of at most `size`; a delayed row makes a group of its own. */
function groupRows(rows: OutboxRow[], size: number, now: number): OutboxRow[][] {
  const groups: OutboxRow[][] = [];
  let open: OutboxRow[] = [];
  for (const row of rows) {
    if (row.available_at.getTime() > now) {
      groups.push([row]);
      continue;
    }
    open.push(row);
    if (open.length >= size) {
      groups.push(open);
      open = [];
    }
  }
  if (open.length > 0) groups.push(open);
  return groups;
}

/**
 * Moves pending outbox rows into BullMQ. Runs in every api and worker process: kicked right after a
 * commit that wrote rows (Outbox.transaction), and on the outbox's poll for rows whose kick was
 * lost. SKIP LOCKED lets many relays share the table without waiting on each other.
 */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly queues: QueueSet,
    private readonly contracts: ReadonlyMap<string, JobContract>,
    private readonly log: Logger,
    /** batchSize: rows per relay pass; rowsPerJob: rows of a batched queue sent as one job. */
    private readonly opts: { batchSize: number; rowsPerJob?: number },
    // available_at is written in this clock's time (services.clock), so delays are computed in it too.
    private readonly clock: Clock = systemClock,
  ) {}

  /** Relay now; if a pass is under way, run one more right after it so nothing written meanwhile waits. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.log.warn({ err }, 'outbox relay pass failed; will retry'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Relays batches until none is full. Returns when the backlog seen at the start is gone. */
  async drain(): Promise<void> {
    while ((await this.relayBatch()) === this.opts.batchSize && !this.stopped);
  }

  async relayBatch(): Promise<number> {
    // READ COMMITTED: under REPEATABLE READ the locking SELECT took next-key locks up to the
    // supremum (blocking every job that publishes an event, i.e. inserts an outbox row) and the
    // UPDATE by id list could scan and lock rows that jobs hold: a deadlock under load.
    return withTransaction(this.db, async (trx) => {
      const rows = await selectRows<OutboxRow>(
        trx,
        `SELECT id, queue, ${PAYLOAD_SQL}, available_at FROM outbox
         WHERE status = 'pending' ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [this.opts.batchSize],
      );
      if (rows.length === 0) return 0;
      // Adding before marking: a crash in between leaves the rows pending and they are added again,
      // which the jobId makes a no-op.
      await addRowsToQueues(this.queues, this.contracts, rows, this.clock.now(), this.opts.rowsPerJob ?? 1);
      await executeLater(trx, `UPDATE outbox SET status = 'relayed', relayed_at = ?, relay_count = relay_count + 1 WHERE id IN (${placeholders(rows.length)})`, [new Date(), ...rows.map((r) => r.id)]);
      return rows.length;
    }, { isolationLevel: 'read committed', attempts: 1 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
