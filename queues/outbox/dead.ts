import type { Db } from '../../src/platform/db.ts';
import { outboxJobId, type JobContract } from '../contract.ts';
import type { QueueSet } from '../producer.ts';
import { addRowsToQueues, type OutboxRow } from './relay.ts';
import { PAYLOAD_COLUMNS, storedPayload } from './writer.ts';

/** The most of an error's text a dead row keeps: enough for the message and the top of a stack. */
export const LAST_ERROR_MAX = 2000;

/** The outbox row a job is the own job of ("ob-<id>"), or null: a copy under another id marks nothing. */
export function ownOutboxId(jobId: string | undefined): number | null {
  const id = /^ob-(\d+)$/.exec(jobId ?? '')?.[1];
  return id ? Number(id) : null;
}

/** `Name (code): message`, the code where the error has one, cut to LAST_ERROR_MAX. */
export function lastErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? `${err.name}${typeof code === 'string' ? ` (${code})` : ''}: ${err.message}` : String(err);
  return text.length > LAST_ERROR_MAX ? `${text.slice(0, LAST_ERROR_MAX - 1)}…` : text;
}

/**
 * Marks the row of a job that failed for good `dead`, with what it tried and why it failed. A row
 * already done stays done (another job did it). Claims and the reconciler leave dead rows alone;
 * the row's own job, retried, still runs it (runner.ts) and marks it done.
 */
export async function markDead(db: Db, outboxId: number, failure: { attempts: number; error: unknown; at?: Date }): Promise<boolean> {
  const [result] = (await db.raw(
    "UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?, dead_at = ? WHERE id = ? AND status IN ('pending', 'relayed', 'dead')",
    [failure.attempts, lastErrorText(failure.error), failure.at ?? new Date(), outboxId],
  )) as [{ affectedRows: number }];
  return result.affectedRows > 0;
}

export interface DeadRow {
  id: number;
  queue: string;
  event_id: string | null;
  event_name: string | null;
  /** The payload as its job carries it (an event's whole envelope). */
  payload: unknown;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  dead_at: Date | null;
}

/** Dead rows, oldest first; of one queue if given. `afterId` pages on. */
export async function listDeadRows(db: Db, opts: { queue?: string; limit?: number; afterId?: number } = {}): Promise<DeadRow[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
  const query = db('outbox')
    .select('id', 'queue', ...PAYLOAD_COLUMNS, 'attempts', 'last_error', 'dead_at')
    .where('status', 'dead')
    .andWhere('id', '>', opts.afterId ?? 0)
    .orderBy('id')
    .limit(limit);
  if (opts.queue) query.andWhere('queue', opts.queue);
  const rows = (await query) as (OutboxRow & { attempts: number; last_error: string | null; dead_at: Date | null })[];
  return rows.map((row) => ({
    id: Number(row.id),
    queue: row.queue,
    event_id: row.event_id,
    event_name: row.event_name,
    payload: storedPayload(row),
    attempts: Number(row.attempts),
    last_error: row.last_error,
    created_at: row.created_at,
    dead_at: row.dead_at,
  }));
}

export interface ReviveDeps {
  db: Db;
  queues: QueueSet;
  contracts: ReadonlyMap<string, JobContract>;
  /** The time base of available_at (services.clock). */
  now?: () => number;
}

export type Revival = 'revived' | 'not_dead' | 'job_running';

/**
 * Gives a dead row's job another run: its failed job is retried in place (Bull Board shows one job
 * with its history), or, if Redis no longer holds it, added again from the row. The row goes back to
 * `relayed` first, so a crash between the two leaves it to the reconciler. Its effect still happens
 * once: the job locks the row and skips it if done. A row that is not dead is left alone, and so is
 * one whose job is still active: a job marks its row dead before BullMQ files it as failed, and a
 * row revived in between would be left `relayed` beside a failed job that nothing runs again.
 */
export async function reviveDeadRow(deps: ReviveDeps, id: number): Promise<Revival> {
  const row = (await deps.db('outbox').select('id', 'queue', ...PAYLOAD_COLUMNS, 'available_at').where({ id, status: 'dead' }).first()) as OutboxRow | undefined;
  if (!row) return 'not_dead';
  const queue = deps.queues.get(row.queue);
  const jobId = outboxJobId(row.id);
  const state = await queue.getJobState(jobId);
  if (state === 'active') return 'job_running';
  const [updated] = (await deps.db.raw("UPDATE outbox SET status = 'relayed', relayed_at = ?, relay_count = relay_count + 1 WHERE id = ? AND status = 'dead'", [new Date(), id])) as [{ affectedRows: number }];
  if (updated.affectedRows === 0) return 'not_dead';
  if (state === 'failed') await (await queue.getJob(jobId))!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  else if (state === 'unknown' || state === 'completed') {
    // A hash left without its list entry would make the add a no-op: deleted first.
    await queue.remove(jobId).catch(() => undefined);
    await deps.queues.commandConnection().del(queue.toKey(jobId));
    await addRowsToQueues(deps.queues, deps.contracts, [row], deps.now?.() ?? Date.now());
  }
  return 'revived';
}
