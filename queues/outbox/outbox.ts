import type { Logger } from 'pino';
import { withTransaction, type Db, type TransactionOptions, type Trx } from '../../src/platform/db.ts';
import { systemClock, type Clock } from '../../src/platform/clock.ts';
import type { QueueSet } from '../producer.ts';
import type { JobContract } from '../contract.ts';
import { OutboxRelay } from './relay.ts';
import { QueueWaker } from './wake.ts';
import type { Trace } from '../../src/platform/trace.ts';
import { recordOutboxWrites, type OutboxWrites } from './writer.ts';

export interface OutboxTransactionOptions extends TransactionOptions {
  /** Run on the pool whose sessions are READ COMMITTED (the batch runner's claims). */
  readCommitted?: boolean;
  /** The request (or the job of one) the transaction writes for: its rows and its wake jobs carry it. */
  trace?: Trace | undefined;
}

export interface OutboxOptions {
  pollMs: number;
  /** Rows per relay pass. */
  batchSize: number;
  /** Rows of a batched queue the relay sends as one job. */
  rowsPerJob?: number;
}

/**
 * The transactional outbox, one per process: the transaction every module writes through, and
 * what moves the rows on. `transaction(fn)` records the rows `fn` writes (writeOutbox,
 * publishEvent) and, once it committed, hands them on by itself: rows for the relay kick it, a
 * batched queue's rows wake it. Nothing else needs to know which queue takes which path; that is
 * read from the contract map this was built with. The poll (start) relays and wakes what a lost
 * hand-on left behind.
 */
export class Outbox {
  readonly relay: OutboxRelay;
  private readonly waker: QueueWaker;
  private readonly claimsOwnRows: (queue: string) => boolean;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dbs: { db: Db; dbReadCommitted?: Db },
    queues: QueueSet,
    contracts: ReadonlyMap<string, JobContract>,
    private readonly log: Logger,
    private readonly opts: OutboxOptions,
    // available_at is written in this clock's time (services.clock), so delays are computed in it too.
    clock: Clock = systemClock,
  ) {
    this.relay = new OutboxRelay(dbs.db, queues, contracts, log, { batchSize: opts.batchSize, ...(opts.rowsPerJob ? { rowsPerJob: opts.rowsPerJob } : {}) }, clock);
    this.waker = new QueueWaker(dbs.db, queues, contracts, log);
    this.claimsOwnRows = (queue) => contracts.get(queue)?.batched === true;
  }

  /** The default pool, for plain reads. */
  get db(): Db {
    return this.dbs.db;
  }

  /**
   * Runs `fn` in a transaction (deadlocks and lock-wait timeouts retried, `fn` run again) and, once
   * it committed, hands on the outbox rows it wrote. A rolled-back transaction hands nothing on.
   */
  async transaction<T>(fn: (trx: Trx) => Promise<T>, opts: OutboxTransactionOptions = {}): Promise<T> {
    const { readCommitted, trace, ...txOpts } = opts;
    const db = readCommitted ? (this.dbs.dbReadCommitted ?? this.dbs.db) : this.dbs.db;
    let written: OutboxWrites | undefined;
    const out = await withTransaction(
      db,
      (trx) => {
        written = recordOutboxWrites(trx, this.claimsOwnRows, trace);
        return fn(trx);
      },
      readCommitted ? { ...txOpts, isolationLevel: 'read committed' } : txOpts,
    );
    if (written) this.relayOrWake(written);
    return out;
  }

  /** Wakes batched queues (the runner's "a full batch likely left rows behind"), for `trace`'s request. */
  wake(queues: Iterable<string>, trace?: Trace): void {
    if (!this.stopped) this.waker.wake(queues, trace);
  }

  private relayOrWake(written: OutboxWrites): void {
    if (written.pending) this.relay.kick();
    this.wake(written.wake, written.trace);
  }

  /** One poll: relay pending rows, wake batched queues with rows waiting. */
  async poll(): Promise<void> {
    await Promise.all([
      this.relay.drain().catch((err: unknown) => this.log.warn({ err }, 'outbox relay pass failed; will retry')),
      this.waker.wakeWaiting().catch((err: unknown) => this.log.warn({ err }, 'outbox wake sweep failed; will retry')),
    ]);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.relay.kick();
      this.waker.wakeWaiting().catch((err: unknown) => this.log.warn({ err }, 'outbox wake sweep failed; will retry'));
      if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    this.timer = setTimeout(tick, this.opts.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.relay.stop();
  }
}
