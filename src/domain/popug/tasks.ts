import { randomUUID } from 'node:crypto';
import type { Trx } from '../../platform/db.ts';
import { Conflict, Forbidden, NotFound, RuleViolation } from '../../platform/errors.ts';
import { eventJobs, publishEvent, writeOutbox } from '../../../queues/outbox/writer.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { execute, selectRows, type Conn } from '../../platform/sql.ts';
import { TaskAssigned, TaskCompleted, TaskCreated } from './events.ts';
import { randomAssignee } from './assignees.ts';

export interface NewTask {
  title: string;
  description: string;
  jiraId: string | null;
  createdBy: string;
}

/** Creates a task assigned to a random employee; TaskCreated and TaskAssigned go out with it. */
export async function createTask(trx: Trx, input: NewTask, now: Date): Promise<{ taskId: string; assignee: string }> {
  const assignee = await randomAssignee(trx);
  if (!assignee) throw new RuleViolation('there is no employee to assign the task to', 'no_employees');
  const taskId = randomUUID();
  await execute(
    trx,
    `INSERT INTO popug_tasks (task_id, title, jira_id, description, status, assignee, created_by, created_at)
     VALUES (?, ?, ?, ?, 'open', ?, ?, ?)`,
    [taskId, input.title, input.jiraId, input.description, assignee, input.createdBy, now],
  );
  // Both events in one multi-row outbox INSERT, TaskCreated first (outbox id order is publish order).
  await writeOutbox(
    trx,
    [
      ...eventJobs(TaskCreated, makeEnvelope(TaskCreated, { task_id: taskId, title: input.title, jira_id: input.jiraId, description: input.description, created_by: input.createdBy }, now)),
      ...eventJobs(TaskAssigned, makeEnvelope(TaskAssigned, { task_id: taskId, assignee, assignment_id: randomUUID(), at: now.toISOString() }, now)),
    ],
    now,
  );
  return { taskId, assignee };
}

export interface TaskRow {
  task_id: string;
  title: string;
  jira_id: string | null;
  description: string;
  status: 'open' | 'done';
  assignee: string;
  created_at: Date;
  assign_fee: unknown;
  reward: unknown;
}

const TASK_COLUMNS = `t.task_id, t.title, t.jira_id, t.description, t.status, t.assignee, t.created_at, p.assign_fee, p.reward
  FROM popug_tasks t LEFT JOIN popug_task_prices p ON p.task_id = t.task_id`;

export async function getTask(conn: Conn, taskId: string): Promise<TaskRow | null> {
  const rows = await selectRows<TaskRow>(conn, `SELECT ${TASK_COLUMNS} WHERE t.task_id = ?`, [taskId]);
  return rows[0] ?? null;
}

export interface TaskFilter {
  assignee?: string | undefined;
  status?: 'open' | 'done' | undefined;
  /** Page after this task (the last one of the previous page): created_at order, newest first. */
  before?: { createdAt: Date; taskId: string } | undefined;
  limit: number;
}

export async function listTasks(conn: Conn, filter: TaskFilter): Promise<TaskRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.assignee !== undefined) {
    where.push('t.assignee = ?');
    args.push(filter.assignee);
  }
  if (filter.status !== undefined) {
    where.push('t.status = ?');
    args.push(filter.status);
  }
  if (filter.before) {
    where.push('(t.created_at, t.task_id) < (?, ?)');
    args.push(filter.before.createdAt, filter.before.taskId);
  }
  const sql = `SELECT ${TASK_COLUMNS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.created_at DESC, t.task_id DESC LIMIT ?`;
  return selectRows<TaskRow>(conn, sql, [...(args as string[]), filter.limit]);
}

/** Completes a task: only its assignee may, once (409 already_done); TaskCompleted goes out. */
export async function completeTask(trx: Trx, taskId: string, caller: string, now: Date): Promise<void> {
  const rows = await selectRows<{ status: string; assignee: string }>(trx, 'SELECT status, assignee FROM popug_tasks WHERE task_id = ? FOR UPDATE', [taskId]);
  const task = rows[0];
  if (!task) throw new NotFound(`task ${taskId} not found`, 'task_not_found');
  if (task.assignee !== caller) throw new Forbidden('only the assignee may complete this task', 'not_assignee');
  if (task.status === 'done') throw new Conflict('the task is already done', 'already_done');
  await execute(trx, "UPDATE popug_tasks SET status = 'done', completed_at = ? WHERE task_id = ?", [now, taskId]);
  await publishEvent(trx, TaskCompleted, { task_id: taskId, assignee: caller, at: now.toISOString() }, now);
}
