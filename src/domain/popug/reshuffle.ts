import { randomUUID } from 'node:crypto';
import type { Transactor, Trx } from '../../platform/db.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { TOPIC_APPEND_QUEUE } from '../events/topics.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { execute, isDuplicateKey, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { TaskAssigned } from './events.ts';
import { randomAssignees } from './assignees.ts';

export const RESHUFFLE_QUEUE = 'popug.reshuffle';

export interface ReshuffleView {
  reshuffle_id: string;
  status: 'running' | 'done';
  tasks_total: number;
  tasks_done: number;
}

interface ReshuffleRow {
  reshuffle_id: string;
  status: 'running' | 'done';
  tasks_total: unknown;
  tasks_done: unknown;
  after_task_id: string | null;
  started_at: Date;
}

function view(row: ReshuffleRow): ReshuffleView {
  return { reshuffle_id: row.reshuffle_id, status: row.status, tasks_total: toSafeInt(row.tasks_total, 'total'), tasks_done: toSafeInt(row.tasks_done, 'done') };
}

export async function getReshuffle(conn: Conn, id: string): Promise<ReshuffleView | null> {
  const rows = await selectRows<ReshuffleRow>(conn, 'SELECT * FROM popug_reshuffles WHERE reshuffle_id = ?', [id]);
  return rows[0] ? view(rows[0]) : null;
}

/**
 * Starts a reshuffle, or answers the running one: the unique `running` column lets one row
 * hold it, so two requests (on any api processes) can never start two. The job goes into the
 * outbox with the row.
 */
export async function startReshuffle(trx: Trx, requestedBy: string, now: Date): Promise<ReshuffleView & { started: boolean }> {
  const running = await selectRows<ReshuffleRow>(trx, 'SELECT * FROM popug_reshuffles WHERE running = 1 LOCK IN SHARE MODE');
  if (running[0]) return { ...view(running[0]), started: false };
  const id = randomUUID();
  const total = await selectRows<{ n: unknown }>(trx, "SELECT COUNT(*) AS n FROM popug_tasks WHERE status = 'open'");
  await execute(
    trx,
    "INSERT INTO popug_reshuffles (reshuffle_id, running, status, tasks_total, tasks_done, requested_by, started_at) VALUES (?, 1, 'running', ?, 0, ?, ?)",
    [id, toSafeInt(total[0]?.n ?? 0, 'open tasks'), requestedBy, now],
  );
  await writeOutbox(trx, [{ queue: RESHUFFLE_QUEUE, payload: { reshuffle_id: id }, version: 1 }], now);
  return { reshuffle_id: id, status: 'running', tasks_total: toSafeInt(total[0]?.n ?? 0, 'open tasks'), tasks_done: 0, started: true };
}

/** startReshuffle with its race settled: the loser of two concurrent inserts answers the winner. */
export async function requestReshuffle(transaction: <T>(fn: (trx: Trx) => Promise<T>) => Promise<T>, requestedBy: string, now: Date): Promise<ReshuffleView & { started: boolean }> {
  for (let i = 0; ; i++) {
    try {
      return await transaction((trx) => startReshuffle(trx, requestedBy, now));
    } catch (err) {
      if (!isDuplicateKey(err) || i >= 5) throw err;
    }
  }
}

/**
 * One batch: reassigns up to `batch` open tasks after the cursor (in id order, created before the
 * reshuffle began) to random current employees, publishing a TaskAssigned for each, and moves the
 * cursor in the same transaction. A run killed mid-way resumes after the last committed batch, so
 * no task is reassigned (or charged) twice by one reshuffle. Returns whether it finished.
 */
export async function reshuffleBatch(transaction: Transactor, id: string, batch: number, now: () => Date): Promise<{ done: boolean; progress: ReshuffleView }> {
  return transaction(async (trx) => {
    const rows = await selectRows<ReshuffleRow>(trx, 'SELECT * FROM popug_reshuffles WHERE reshuffle_id = ? FOR UPDATE', [id]);
    const row = rows[0];
    if (!row) throw new Error(`reshuffle ${id} does not exist`);
    if (row.status === 'done') return { done: true, progress: view(row) };
    const tasks = await selectRows<{ task_id: string; assignee: string }>(
      trx,
      `SELECT task_id, assignee FROM popug_tasks WHERE status = 'open' AND task_id > ? AND created_at <= ?
       ORDER BY task_id LIMIT ? FOR UPDATE`,
      [row.after_task_id ?? '', row.started_at, batch],
    );
    // Drawn from the assignment slots: two reads however many employees there are.
    const assignees = await randomAssignees(trx, tasks.length);
    const at = now();
    if (tasks.length > 0 && assignees.length > 0) {
      const moves = tasks.map((t, i) => ({ taskId: t.task_id, assignee: assignees[i]! }));
      await execute(
        trx,
        `UPDATE popug_tasks SET assignee = CASE task_id ${moves.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE task_id IN (${moves.map(() => '?').join(', ')})`,
        [...moves.flatMap((m) => [m.taskId, m.assignee]), ...moves.map((m) => m.taskId)],
      );
      // Every TaskAssigned of the batch in one multi-row outbox INSERT: a row per event for
      // payments, one event batch row for the topic appender.
      const envelopes = moves.map((m) => makeEnvelope(TaskAssigned, { task_id: m.taskId, assignee: m.assignee, assignment_id: id, at: at.toISOString() }, at));
      await writeOutbox(trx, eventBatchJobs(TaskAssigned, envelopes, { batchRowsFor: [TOPIC_APPEND_QUEUE] }), at);
    }
    const finished = tasks.length < batch || assignees.length === 0;
    const done = toSafeInt(row.tasks_done, 'done') + tasks.length;
    await execute(
      trx,
      `UPDATE popug_reshuffles SET after_task_id = ?, tasks_done = ?, status = ?, running = ?, finished_at = ? WHERE reshuffle_id = ?`,
      [tasks.at(-1)?.task_id ?? row.after_task_id, done, finished ? 'done' : 'running', finished ? null : 1, finished ? at : null, id],
    );
    return { done: finished, progress: { ...view(row), tasks_done: done, status: finished ? ('done' as const) : ('running' as const) } };
  });
}
