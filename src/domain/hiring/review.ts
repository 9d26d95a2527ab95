import type { Trx } from '../../platform/db.ts';
import type { EventDef } from '../../../queues/outbox/envelope.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import type { ExerciseCompletedPayload } from './events.ts';

/**
 * COMM-030 as a reaction (exercises side): each ExerciseCompleted counts for its candidate; at
 * `threshold` completions a random manager becomes the candidate's reviewer, announced by
 * ReviewerAssigned in the version `reviewerDef` is (v0 with the manager's name and e-mail, v1 the id only).
 * No manager known yet: the next completion tries again.
 */
export async function countCompletion(
  trx: Trx,
  payload: ExerciseCompletedPayload,
  opts: { threshold: number; reviewerDef: () => Promise<EventDef> },
  now: Date,
): Promise<{ completed: number; reviewer: string | null }> {
  await trx.raw('INSERT INTO candidate_completions (candidate_id, completed) VALUES (?, 1) ON DUPLICATE KEY UPDATE completed = completed + 1', [payload.candidate_id]);
  const row = (await trx('candidate_completions').where('candidate_id', payload.candidate_id).forUpdate().first()) as { completed: number; reviewer_id: string | null };
  if (row.completed < opts.threshold || row.reviewer_id !== null) return { completed: row.completed, reviewer: row.reviewer_id };
  const [managers] = (await trx.raw("SELECT user_id, name, email FROM hiring_users WHERE role = 'manager' ORDER BY RAND() LIMIT 1")) as [
    { user_id: string; name: string | null; email: string | null }[],
  ];
  const manager = managers[0];
  if (!manager) return { completed: row.completed, reviewer: null };
  await trx('candidate_completions').where('candidate_id', payload.candidate_id).update({ reviewer_id: manager.user_id });
  const def = await opts.reviewerDef();
  const base = { candidate_id: payload.candidate_id, reviewer_id: manager.user_id, assigned_at: now.toISOString() };
  await publishEvent(trx, def, def.version === 0 ? { ...base, reviewer_name: manager.name, reviewer_email: manager.email } : base, now);
  return { completed: row.completed, reviewer: manager.user_id };
}
