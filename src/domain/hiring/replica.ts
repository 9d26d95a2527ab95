import type { Db, Trx } from '../../platform/db.ts';
import { PermanentError } from '../../platform/errors.ts';
import type { ExerciseState } from './events.ts';
import { NO_KNOWLEDGE_AREA, knowledgeAreaOut } from './knowledgeArea.ts';
import type { ExerciseCompletedPayload, ExerciseFailedPayload, ReviewerAssignedPayload } from './events.ts';

/**
 * The hiring side: its replica of exercises (from the CUD stream), the attempts and reviewers it
 * learnt from events. It never reads the exercises side's tables.
 */

/** The time a state was current: updated_at, or created_at for a never-updated exercise. */
function stateAt(state: ExerciseState): number {
  const at = Date.parse(state.updated_at ?? state.created_at);
  if (Number.isNaN(at)) throw new PermanentError(`exercise ${state.exercise_id}: ${state.updated_at ?? state.created_at} is not a time`, 'bad_state_time');
  return at;
}

/**
 * Keeps the newest state of each exercise: events may arrive out of order, so a state older than
 * (or as old as) the one held is ignored. Returns whether the replica changed.
 */
export async function applyExerciseState(trx: Trx, state: ExerciseState): Promise<boolean> {
  const at = stateAt(state);
  const row = { exercise_id: state.exercise_id, title: state.title, content: state.content, author_id: state.author_id, created_at: state.created_at, updated_at: state.updated_at ?? null, state_at_ms: at };
  const [result] = (await trx.raw(
    `INSERT INTO hiring_exercises (exercise_id, title, content, author_id, created_at, updated_at, state_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE
       title = IF(VALUES(state_at_ms) > state_at_ms, VALUES(title), title),
       content = IF(VALUES(state_at_ms) > state_at_ms, VALUES(content), content),
       author_id = IF(VALUES(state_at_ms) > state_at_ms, VALUES(author_id), author_id),
       updated_at = IF(VALUES(state_at_ms) > state_at_ms, VALUES(updated_at), updated_at),
       state_at_ms = GREATEST(state_at_ms, VALUES(state_at_ms))`,
    [row.exercise_id, row.title, row.content, row.author_id, row.created_at, row.updated_at, row.state_at_ms],
  )) as [{ affectedRows: number }];
  // MySQL: 1 inserted, 2 updated, 0 unchanged.
  return result.affectedRows > 0;
}

export async function recordCompleted(trx: Trx, payload: ExerciseCompletedPayload, eventId: string): Promise<void> {
  await trx('hiring_attempts').insert({
    candidate_id: payload.candidate_id,
    exercise_id: payload.exercise_id,
    title: payload.title,
    knowledge_area: payload.knowledge_area ?? NO_KNOWLEDGE_AREA,
    outcome: 'completed',
    at: payload.completed_at,
    event_id: eventId,
  });
}

export async function recordFailed(trx: Trx, payload: ExerciseFailedPayload, eventId: string): Promise<void> {
  await trx('hiring_attempts').insert({
    candidate_id: payload.candidate_id,
    exercise_id: payload.exercise_id,
    title: payload.title,
    knowledge_area: NO_KNOWLEDGE_AREA,
    outcome: 'failed',
    at: payload.failed_at,
    event_id: eventId,
  });
}

/** The id only: personal data left the event (US-170) and leaves these tables by migration 0025. */
export async function recordReviewer(trx: Trx, payload: ReviewerAssignedPayload): Promise<void> {
  await trx.raw(
    'INSERT INTO hiring_reviewers (candidate_id, reviewer_id, assigned_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE reviewer_id = VALUES(reviewer_id), assigned_at = VALUES(assigned_at)',
    [payload.candidate_id, payload.reviewer_id, payload.assigned_at],
  );
}

export interface Progress {
  completed: { exercise_id: string; title: string; knowledge_area: string | null; completed_at: string }[];
  failed: { exercise_id: string; title: string; failed_at: string }[];
  reviewer_id: string | null;
}

export async function readProgress(db: Db, candidateId: string): Promise<Progress> {
  const rows = (await db('hiring_attempts').where('candidate_id', candidateId).orderBy('id').select('exercise_id', 'title', 'knowledge_area', 'outcome', 'at')) as {
    exercise_id: string;
    title: string;
    knowledge_area: string | null;
    outcome: 'completed' | 'failed';
    at: string;
  }[];
  const reviewer = (await db('hiring_reviewers').where('candidate_id', candidateId).first('reviewer_id')) as { reviewer_id: string } | undefined;
  return {
    completed: rows.filter((r) => r.outcome === 'completed').map((r) => ({ exercise_id: r.exercise_id, title: r.title, knowledge_area: knowledgeAreaOut(r.knowledge_area), completed_at: r.at })),
    failed: rows.filter((r) => r.outcome === 'failed').map((r) => ({ exercise_id: r.exercise_id, title: r.title, failed_at: r.at })),
    reviewer_id: reviewer?.reviewer_id ?? null,
  };
}
