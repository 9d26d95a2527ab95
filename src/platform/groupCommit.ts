import type { Trx } from './db.ts';
import { commonTrace, type Trace } from './trace.ts';

/** Opens a transaction written for `trace`'s request (none when a batch serves several). */
export type TracedTransactor = <T>(fn: (trx: Trx) => Promise<T>, trace: Trace | undefined) => Promise<T>;

export interface GroupCommitOptions {
  /** Transactions in flight at once; writes that arrive meanwhile wait and go together. */
  concurrency: number;
  /** Most writes in one transaction. */
  maxBatch: number;
}

interface Pending<I, O> {
  item: I;
  /** The request that submitted it: a batch serves several, so `write` gets each item's. */
  trace: Trace | undefined;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes that arrive while `concurrency` transactions are already running wait and
 * then commit together, in one transaction, instead of one transaction (and its BEGIN, statements
 * and COMMIT round trips) each. Under light load a write starts at once, alone, so it waits for
 * nothing; under load the batches grow with the queue, which is where the saved round trips pay.
 *
 * Each write still commits atomically with everything it wrote. `write` gets the items in arrival
 * order and returns one result per item, in that order. When a batch fails (after the deadlock
 * retries of withTransaction), every write in it is retried alone, so a bad write fails only its
 * own caller and the others commit.
 */
export class GroupCommit<I, O> {
  private readonly waiting: Pending<I, O>[] = [];
  private running = 0;

  constructor(
    /** Opens each batch's transaction: the outbox's, so what a batch writes is handed on after its commit. */
    private readonly transact: TracedTransactor,
    private readonly write: (trx: Trx, items: readonly I[], traces: readonly (Trace | undefined)[]) => Promise<O[]>,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** `trace`: the request the item is written for. */
  submit(item: I, trace: Trace | undefined): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, trace, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.opts.maxBatch);
      this.running++;
      void this.commit(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async commit(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.transaction(batch);
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(batch.map((p) => this.transaction([p]).then((out) => p.resolve(out[0]!), p.reject)));
    }
  }

  private async transaction(batch: Pending<I, O>[]): Promise<O[]> {
    const items = batch.map((p) => p.item);
    const traces = batch.map((p) => p.trace);
    // Written for the one request the batch serves, else for none (not for whoever pumped it).
    const out = await this.transact((trx) => this.write(trx, items, traces), commonTrace(traces));
    if (out.length !== items.length) throw new Error(`group commit: ${items.length} writes gave ${out.length} results`);
    return out;
  }
}
