import { randomUUID } from 'node:crypto';
import type { Db, Trx } from '../../platform/db.ts';
import { Forbidden, NotFound } from '../../platform/errors.ts';
import type { EventDef } from '../../../queues/outbox/envelope.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import { ExerciseCreated, ExerciseFailed, ExerciseUpdated, type ExerciseState } from './events.ts';

/**
 * The exercises side: the source of truth of exercises, streamed as CUD events (ExerciseCreated /
 * ExerciseUpdated, topic datarep.exercise), and where candidates complete or fail them.
 */

interface ExerciseRow {
  exercise_id: string;
  title: string;
  content: string;
  author_id: string;
  created_at: Date;
  updated_at: Date | null;
}

export interface Exercise {
  exercise_id: string;
  title: string;
  content: string;
  author_id: string;
  created_at: string;
  updated_at: string | null;
}

function state(row: ExerciseRow): Exercise {
  return {
    exercise_id: row.exercise_id,
    title: row.title,
    content: row.content,
    author_id: row.author_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at ? row.updated_at.toISOString() : null,
  };
}

export async function createExercise(trx: Trx, input: { title: string; content: string; authorId: string }, now: Date): Promise<Exercise> {
  const row: ExerciseRow = { exercise_id: randomUUID(), title: input.title, content: input.content, author_id: input.authorId, created_at: now, updated_at: null };
  await trx('exercises').insert(row);
  const exercise = state(row);
  await publishEvent(trx, ExerciseCreated, exercise satisfies ExerciseState, now);
  return exercise;
}

/**
 * Its author changes an exercise; the event carries the whole new state. updated_at strictly
 * grows per exercise (at least 1 ms past the last), so replicas can order the states they get.
 */
export async function updateExercise(trx: Trx, id: string, input: { title: string; content: string; authorId: string }, now: Date): Promise<Exercise> {
  const row = (await trx('exercises').where('exercise_id', id).forUpdate().first()) as ExerciseRow | undefined;
  if (!row) throw new NotFound(`no exercise ${id}`, 'unknown_exercise');
  if (row.author_id !== input.authorId) throw new Forbidden('only the author of an exercise may change it', 'not_author');
  const last = (row.updated_at ?? row.created_at).getTime();
  const updatedAt = new Date(Math.max(now.getTime(), last + 1));
  await trx('exercises').where('exercise_id', id).update({ title: input.title, content: input.content, updated_at: updatedAt });
  const exercise = state({ ...row, title: input.title, content: input.content, updated_at: updatedAt });
  await publishEvent(trx, ExerciseUpdated, { ...exercise, updated_at: updatedAt.toISOString() }, now);
  return exercise;
}

export async function readExercise(db: Db | Trx, id: string): Promise<Exercise> {
  const row = (await db('exercises').where('exercise_id', id).first()) as ExerciseRow | undefined;
  if (!row) throw new NotFound(`no exercise ${id}`, 'unknown_exercise');
  return state(row);
}

/**
 * A candidate completed an exercise: ExerciseCompleted in the version the flag chose (v0 has no
 * knowledge_area; v1 carries the one given, or null).
 */
export async function completeExercise(
  trx: Trx,
  def: EventDef,
  input: { exerciseId: string; candidateId: string; knowledgeArea: string | null },
  now: Date,
): Promise<string> {
  const exercise = await readExercise(trx, input.exerciseId);
  const base = { exercise_id: exercise.exercise_id, title: exercise.title, author_id: exercise.author_id, candidate_id: input.candidateId, completed_at: now.toISOString() };
  const payload = def.version === 0 ? base : { ...base, knowledge_area: input.knowledgeArea };
  const envelope = await publishEvent(trx, def, payload, now);
  return envelope.event_id;
}

export async function failExercise(trx: Trx, input: { exerciseId: string; candidateId: string }, now: Date): Promise<string> {
  const exercise = await readExercise(trx, input.exerciseId);
  const envelope = await publishEvent(
    trx,
    ExerciseFailed,
    { exercise_id: exercise.exercise_id, title: exercise.title, author_id: exercise.author_id, candidate_id: input.candidateId, failed_at: now.toISOString() },
    now,
  );
  return envelope.event_id;
}
