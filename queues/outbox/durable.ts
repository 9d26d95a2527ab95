import { PermanentError } from '../../src/platform/errors.ts';
import { withTransaction, type Db, type Trx } from '../../src/platform/db.ts';

export type DurableOutcome<T> = { done: true; result: T } | { done: false; reason: 'already_done' };

/**
 * Runs a durable job's effect exactly once: locks the job's outbox row, returns at once if it is
 * already done, and marks it done in the same transaction as the effect. A duplicate delivery
 * (relay re-add, reconciler, stalled-job retry) therefore waits on the lock and then sees "done".
 */
export async function runDurable<T>(db: Db, outboxId: string, effect: (trx: Trx) => Promise<T>): Promise<DurableOutcome<T>> {
  return withTransaction(db, async (trx) => {
    const [rows] = (await trx.raw('SELECT status FROM outbox WHERE id = ? FOR UPDATE', [outboxId])) as [{ status: string }[]];
    const row = rows[0];
    if (!row) throw new PermanentError(`outbox row ${outboxId} does not exist`, 'outbox_row_missing');
    if (row.status === 'done') return { done: false, reason: 'already_done' } as const;
    const result = await effect(trx);
    await trx('outbox').where('id', outboxId).update({ status: 'done', done_at: new Date() });
    return { done: true, result } as const;
  });
}
