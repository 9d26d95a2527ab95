import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Db, Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import { compileSchema } from '../../src/platform/validation.ts';
import { executeLater, placeholders, selectRows } from '../../src/platform/sql.ts';
import { commonTrace, type Trace } from '../../src/platform/trace.ts';
import { PAYLOAD_SQL, payloadsOf, storedRow, writeFor, type StoredPayload } from './writer.ts';
import type { OutboxTransactionOptions } from './outbox.ts';

/**
 * The one way a durable job's effect runs: with its outbox rows locked, once. A job is a batch: of
 * one (a durable job relayed from its row), of the rows the relay sent together, or of the rows a
 * wake job claims (a batched queue: up to `max` rows nobody holds, FOR UPDATE SKIP LOCKED, oldest
 * first). A job made from a row locks that row and the rows sent with it (`relayedWith`, see
 * addRowsToQueues) and, in a batched queue, fills up the same way. The effect handles them all in
 * one transaction, which marks them all done. Each row is handled exactly once: whoever holds its
 * lock handles it and marks it done in that transaction; a later job of a claimed row finds it done.
 *
 * The rows a job was relayed with are locked waiting, not skipped: no other job carries them, so a
 * job that skipped one held by a transaction that then rolled back would leave it to the
 * reconciler. Claimed rows are only ever taken with SKIP LOCKED, so the waits cannot form a cycle.
 *
 * A `dead` row (its job failed for good, see dead.ts) is open to its own job only: a retry from
 * Bull Board runs it and marks it done; claims and carried batches leave it alone.
 *
 * Batched queues run in READ COMMITTED: the claim scans a secondary index, which under REPEATABLE
 * READ would leave gap locks that block every insert into the outbox, and the effects read state
 * they have just locked, which must be the latest committed state, not a snapshot taken when the
 * claim ran.
 */
export interface OutboxBatch<P> {
  /** Outbox ids, ascending; the job's own row among them unless it was already done. */
  ids: number[];
  /**
   * Payloads in outbox id order (the order their events were published in); an event batch row
   * (eventBatchJobs) gives each of its events, in order.
   */
  payloads: P[];
  /** Each payload's request (its row's, or its own in an event batch row of several requests). */
  traces: (Trace | undefined)[];
  /** The batch's first row id: what the batch records for a rerun to find is kept under it. */
  key: string;
}

/** `size`: payloads handled (an event batch row counts its events). */
export type BatchOutcome<R> = { done: true; result: R; size: number; first: number } | { done: false };

export interface BatchOptions {
  queue: string;
  /**
   * The payload schema, for rows other than the job's own (already checked): a row that fails it
   * is left undone, for a job of its own to fail visibly. Without it no other row is taken.
   */
  schema?: TSchema;
  /**
   * Most payloads in one transaction (an event batch row counts its events); 1 claims nothing
   * beyond the job's own rows. A row is never split: the first row is taken whatever its size.
   */
  max: number;
  /** Run on the READ COMMITTED pool (batched queues). */
  readCommitted?: boolean;
  /**
   * Claim only an unbroken run of the queue's oldest open rows: the claim stops at the first row
   * someone else holds (the relay, the reconciler's bookkeeping) instead of skipping past it, so
   * batches follow one another in id order (the topic appender's order per stream).
   */
  inOrder?: boolean;
  attempts?: number;
  /** The job's logger: each row handled gets a debug line with its id and request id. */
  log?: Logger;
}

/** What the runner needs: a plain read, and transactions that hand their outbox writes on (Outbox). */
export interface OutboxTransactions {
  readonly db: Db;
  transaction<T>(fn: (trx: Trx) => Promise<T>, opts?: OutboxTransactionOptions): Promise<T>;
}
export interface OwnRows {
  outboxId: string;
  /** The other rows relayed in this job (ctx.outboxIds); the job's own id may be among them. */
  relayedWith?: readonly string[] | undefined;
}

const checks = new WeakMap<TSchema, ReturnType<typeof compileSchema>>();

function validatorFor(schema: TSchema) {
  let check = checks.get(schema);
  if (!check) checks.set(schema, (check = compileSchema(schema)));
  return check;
}

/**
 * `own`: the rows a relayed job carries, or null for a wake job, which has none and only claims.
 * `beforeCommit` runs inside the transaction after the effect (a wake job whose effect left
 * something to send after the commit notes its first row there, to send it again if it dies
 * after the commit).
 */
export async function runOutboxBatch<P, R>(
  outbox: OutboxTransactions,
  opts: BatchOptions,
  own: OwnRows | null,
  effect: (trx: Trx, batch: OutboxBatch<P>) => Promise<R>,
  beforeCommit?: (batch: OutboxBatch<P>, result: R) => Promise<void>,
): Promise<BatchOutcome<R>> {
  const ownId = own ? Number(own.outboxId) : null;
  const carried = own ? [...new Set([ownId!, ...(own.relayedWith ?? []).map(Number)])].sort((a, b) => a - b) : [];
  if (carried.length > 0) {
    // Most deliveries of rows another job claimed arrive after they are done: a plain read spares
    // them a transaction. The locked re-check below is what decides.
    const open = await selectRows(outbox.db, `SELECT id FROM outbox WHERE id IN (${placeholders(carried.length)}) AND status <> 'done' LIMIT 1`, carried);
    if (open.length === 0) return { done: false };
  }
  const validate = opts.schema ? validatorFor(opts.schema) : () => false;
  return outbox.transaction(
    async (trx): Promise<BatchOutcome<R>> => {
      /** `traces`: each payload's request (an event batch row may serve several). */
      const members: { id: number; payloads: P[]; traces: (Trace | undefined)[] }[] = [];
      let size = 0;
      const take = (id: number, { payloads, traces }: { payloads: P[]; traces: (Trace | undefined)[] }) => {
        members.push({ id, payloads, traces });
        size += payloads.length;
      };
      /** A stored row's payloads and their requests. */
      const read = (row: StoredPayload): { payloads: P[]; traces: (Trace | undefined)[] } => {
        const stored = storedRow(row);
        return { payloads: payloadsOf(stored.payload, row) as P[], traces: stored.traces };
      };
      /** read, or null when a payload breaks the contract. */
      const valid = (row: StoredPayload): { payloads: P[]; traces: (Trace | undefined)[] } | null => {
        const stored = read(row);
        return stored.payloads.length > 0 && stored.payloads.every((p) => validate(p)) ? stored : null;
      };
      if (own) {
        const locked = await selectRows<{ id: unknown; status: string } & StoredPayload>(
          trx,
          `SELECT id, status, ${PAYLOAD_SQL} FROM outbox WHERE id IN (${placeholders(carried.length)}) ORDER BY id FOR UPDATE`,
          carried,
        );
        if (!locked.some((row) => Number(row.id) === ownId)) throw new PermanentError(`outbox row ${own.outboxId} does not exist`, 'outbox_row_missing');
        for (const row of locked) {
          const id = Number(row.id);
          if (row.status === 'done' || (row.status === 'dead' && id !== ownId)) continue;
          // The job's own row was checked against its contract (each event of a batch row) when its
          // job was made. Another invalid row is left undone: the reconciler gives it a job of its
          // own, which fails visibly.
          const stored = id === ownId ? read(row) : valid(row);
          if (stored) take(id, stored);
        }
        // Its own rows are done: another job claimed them. It claims no others (a wake job does).
        if (members.length === 0) return { done: false };
      }
      const wanted = opts.max - size;
      const taken = wanted > 0 ? await claim(trx, opts.queue, new Set(carried), wanted, opts.inOrder ?? false) : [];
      for (const row of taken) {
        // Rows past the batch's size stay locked, untouched, until the commit; the next batch takes them.
        if (size >= opts.max) break;
        // An invalid row is released at commit, for its own job to fail visibly.
        const stored = valid(row);
        if (stored) take(row.id, stored);
      }
      if (members.length === 0) return { done: false };
      members.sort((a, b) => a.id - b.id);
      if (new Set(members.map((m) => m.id)).size !== members.length) throw new Error(`outbox batch of ${opts.queue} holds a row twice`);
      const batch = { ids: members.map((m) => m.id), payloads: members.flatMap((m) => m.payloads), traces: members.flatMap((m) => m.traces), key: String(members[0]!.id) };
      if (opts.log?.isLevelEnabled('debug')) for (const m of members) logHandled(opts.log, m);
      // Rows the effect writes inherit the batch's request when it has one (commonTrace).
      writeFor(trx, commonTrace(batch.traces));
      const result = await effect(trx, batch);
      await beforeCommit?.(batch, result);
      await executeLater(trx, `UPDATE outbox SET status = 'done', done_at = ? WHERE id IN (${placeholders(batch.ids.length)})`, [new Date(), ...batch.ids]);
      return { done: true, result, size: batch.payloads.length, first: batch.ids[0]! };
    },
    { readCommitted: opts.readCommitted ?? false, attempts: opts.attempts ?? 8 },
  );
}

/**
 * A debug line per row handled, with its request; a row of several requests (an event batch row
 * of a group commit) gets a line per event, with the event's id and request.
 */
function logHandled(log: Logger, m: { id: number; payloads: unknown[]; traces: (Trace | undefined)[] }): void {
  const [first] = m.traces;
  if (m.traces.every((t) => t?.request_id === first?.request_id)) {
    log.debug({ outbox_id: m.id, request_id: first?.request_id ?? null, traceparent: first?.traceparent }, 'outbox row handled');
    return;
  }
  m.payloads.forEach((p, i) => {
    const trace = m.traces[i];
    log.debug({ outbox_id: m.id, event_id: (p as { event_id?: unknown }).event_id, request_id: trace?.request_id ?? null, traceparent: trace?.traceparent }, 'outbox row handled');
  });
}

/**
 * Not-done rows of the queue that nobody holds, oldest first. Found by a plain read of the
 * (status, queue, id) index, both statuses in one statement (each branch an ordered index range,
 * so a long backlog costs no sort), then locked by primary key only (SKIP LOCKED), so the claim
 * never holds index-record locks that a row's own job would wait on.
 */
async function claim(trx: Trx, queue: string, held: ReadonlySet<number>, limit: number, inOrder: boolean): Promise<({ id: number } & StoredPayload)[]> {
  // Twice as many candidates as wanted from each status: some are held by other jobs and get skipped.
  const each = limit * 2 + held.size;
  const candidates = (
    await selectRows<{ id: unknown }>(
      trx,
      `(SELECT id FROM outbox WHERE status = 'pending' AND queue = ? ORDER BY id LIMIT ?)
       UNION ALL (SELECT id FROM outbox WHERE status = 'relayed' AND queue = ? ORDER BY id LIMIT ?)`,
      [queue, each, queue, each],
    )
  )
    .map((c) => Number(c.id))
    .filter((id) => !held.has(id))
    .sort((a, b) => a - b);
  if (candidates.length === 0) return [];
  // A row relayed between the two branches' reads may be listed twice; IN () takes it once.
  const rows = await selectRows<{ id: unknown } & StoredPayload>(
    trx,
    `SELECT id, ${PAYLOAD_SQL} FROM outbox WHERE id IN (${placeholders(candidates.length)}) AND status <> 'done' ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
    [...candidates, limit],
  );
  const locked = rows.map((row) => ({ ...row, id: Number(row.id) }));
  if (!inOrder) return locked;
  // The run ends where a candidate was not locked: held elsewhere, or done meanwhile (a shorter batch, harmless).
  let run = 0;
  while (run < locked.length && locked[run]!.id === candidates[run]) run++;
  return locked.slice(0, run);
}
