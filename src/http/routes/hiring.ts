import { Type } from '@sinclair/typebox';
import { emittedVersion } from '../../domain/events/emit.ts';
import { completeExercise, createExercise, failExercise, readExercise, updateExercise } from '../../domain/hiring/exercises.ts';
import { readProgress } from '../../domain/hiring/replica.ts';
import { rememberUser } from '../../domain/hiring/users.ts';
import { Forbidden } from '../../platform/errors.ts';
import type { Services } from '../../services.ts';
import type { Claims } from '../auth/claims.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ExerciseBody = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 500 }), content: Type.String({ minLength: 1, maxLength: 60_000 }) },
  { additionalProperties: false },
);
const Exercise = Type.Object({
  success: Type.Literal(true),
  exercise_id: Type.String(),
  title: Type.String(),
  content: Type.String(),
  author_id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Accepted = Type.Object({ success: Type.Literal(true), event_id: Type.String(), event_name: Type.String(), event_version: Type.Integer() });

/** Hiring users are known on first sight of a valid token. */
function seen(services: Services, claims: Claims): Promise<void> {
  const extra = claims as Claims & Record<string, unknown>;
  return rememberUser(services.db, { id: claims.sub, role: claims.role, name: extra.name, email: extra.email }, new Date(services.clock.now()));
}

const now = (services: Services) => new Date(services.clock.now());

export function hiringRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/hiring/exercises', tag: 'hiring', auth: ['author'],
      summary: 'Create an exercise; streams ExerciseCreated v0 to topic datarep.exercise',
      body: ExerciseBody,
      responses: { 201: { description: 'created', schema: Type.Object({ success: Type.Literal(true), exercise_id: Type.String() }) } },
      handler: async ({ body, claims, services, trace }) => {
        await seen(services, claims);
        const exercise = await services.outbox.transaction((trx) => createExercise(trx, { title: body.title, content: body.content, authorId: claims.sub }, now(services)), { trace });
        return { status: 201, body: { exercise_id: exercise.exercise_id } };
      },
    }),
    defineRoute({
      method: 'put', path: '/hiring/exercises/:id', tag: 'hiring', auth: ['author'],
      summary: 'Change an exercise (its author only); streams ExerciseUpdated v0 with the new updated_at',
      params: Id,
      body: ExerciseBody,
      responses: {
        200: { description: 'changed', schema: Type.Object({ success: Type.Literal(true), exercise_id: Type.String(), updated_at: Type.String({ format: 'date-time' }) }) },
        403: { description: 'not_author' },
        404: { description: 'unknown_exercise' },
      },
      handler: async ({ params, body, claims, services, trace }) => {
        await seen(services, claims);
        const exercise = await services.outbox.transaction((trx) => updateExercise(trx, params.id, { title: body.title, content: body.content, authorId: claims.sub }, now(services)), { trace });
        return { body: { exercise_id: exercise.exercise_id, updated_at: exercise.updated_at } };
      },
    }),
    defineRoute({
      method: 'get', path: '/api/v0/exercise/:id', tag: 'hiring', auth: ['author', 'candidate', 'manager'],
      summary: 'An exercise as the exercises side holds it (the pull alternative to the datarep.exercise stream)',
      params: Id,
      responses: { 200: { description: 'the exercise', schema: Exercise }, 404: { description: 'unknown_exercise' } },
      handler: async ({ params, claims, services }) => {
        await seen(services, claims);
        return { body: { ...(await readExercise(services.db, params.id)) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/hiring/exercises/:id/complete', tag: 'hiring', auth: ['candidate'],
      summary: 'Complete an exercise: ExerciseCompleted on topic domain.candidate_attempt, v0 or v1 as the flag events.ExerciseCompleted.version says',
      params: Id,
      body: Type.Object({ knowledge_area: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { additionalProperties: false }),
      responses: { 202: { description: 'the event is recorded and on its way', schema: Accepted }, 404: { description: 'unknown_exercise' } },
      handler: async ({ params, body, claims, services, trace }) => {
        await seen(services, claims);
        const def = await emittedVersion(services.flags, 'ExerciseCompleted', services.log);
        const eventId = await services.outbox.transaction((trx) =>
          completeExercise(trx, def, { exerciseId: params.id, candidateId: claims.sub, knowledgeArea: body?.knowledge_area ?? null }, now(services)),
          { trace },
        );
        return { status: 202, body: { event_id: eventId, event_name: def.name, event_version: def.version } };
      },
    }),
    defineRoute({
      method: 'post', path: '/hiring/exercises/:id/fail', tag: 'hiring', auth: ['candidate'],
      summary: 'Fail an exercise: ExerciseFailed v0 on topic domain.candidate_attempt',
      params: Id,
      responses: { 202: { description: 'the event is recorded and on its way', schema: Accepted }, 404: { description: 'unknown_exercise' } },
      handler: async ({ params, claims, services, trace }) => {
        await seen(services, claims);
        const eventId = await services.outbox.transaction((trx) => failExercise(trx, { exerciseId: params.id, candidateId: claims.sub }, now(services)), { trace });
        return { status: 202, body: { event_id: eventId, event_name: 'ExerciseFailed', event_version: 0 } };
      },
    }),
    defineRoute({
      method: 'get', path: '/hiring/candidates/:id/progress', tag: 'hiring', auth: ['candidate', 'manager', 'admin'],
      summary: "A candidate's completed and failed exercises and reviewer, as the hiring side recorded them from events",
      params: Id,
      responses: {
        200: {
          description: 'progress (knowledge_area null for events without one, e.g. ExerciseCompleted v0)',
          schema: Type.Object({
            success: Type.Literal(true),
            completed: Type.Array(Type.Object({ exercise_id: Type.String(), title: Type.String(), knowledge_area: Type.Union([Type.String(), Type.Null()]), completed_at: Type.String() })),
            failed: Type.Array(Type.Object({ exercise_id: Type.String(), title: Type.String(), failed_at: Type.String() })),
            reviewer_id: Type.Union([Type.String(), Type.Null()]),
          }),
        },
        403: { description: 'forbidden: another candidate' },
      },
      handler: async ({ params, claims, services }) => {
        if (claims.role === 'candidate' && claims.sub !== params.id) throw new Forbidden("a candidate sees only their own progress", 'forbidden');
        if (claims.role !== 'admin') await seen(services, claims);
        return { body: { ...(await readProgress(services.db, params.id)) } };
      },
    }),
  ];
}
