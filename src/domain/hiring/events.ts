import { Type, type Static } from '@sinclair/typebox';
import { defineEvent } from '../../../queues/outbox/envelope.ts';

/**
 * The hiring flow's events (seed 001). Field titles and descriptions follow the seed's documents:
 * ExerciseCompleted v0 and ExerciseCreated v0 are published exactly as the seed wrote them.
 * Listener names are queue names; queues/contracts/hiring.ts checks them.
 */

import { TOPIC_APPEND_QUEUE } from '../events/topics.ts';

export { TOPIC_APPEND_QUEUE };
export const REPLICATE_QUEUE = 'hiring.replicate-exercise';
export const RECORD_ATTEMPT_QUEUE = 'hiring.record-attempt';
export const COUNT_COMPLETION_QUEUE = 'hiring.count-completion';
export const RECORD_REVIEWER_QUEUE = 'hiring.record-reviewer';

const Str = (title: string) => Type.String({ title });

const exerciseState = {
  exercise_id: Str('Exercise Id'),
  title: Str('Title'),
  content: Str('Content'),
  author_id: Str('Author Id'),
  created_at: Str('Created At'),
};

export const ExerciseCreated = defineEvent({
  name: 'ExerciseCreated',
  version: 0,
  description: 'An exercise was created: its whole state (CUD stream of the exercises side, COMM-020)',
  schema: Type.Object(
    {
      ...exerciseState,
      updated_at: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null, title: 'Updated At' })),
    },
    { title: 'ExerciseCreated', description: 'ExerciseCreated payload' },
  ),
  listeners: [REPLICATE_QUEUE, TOPIC_APPEND_QUEUE],
});

export const ExerciseUpdated = defineEvent({
  name: 'ExerciseUpdated',
  version: 0,
  description: 'An exercise changed: its whole new state; a replica keeps the one with the latest updated_at',
  schema: Type.Object({ ...exerciseState, updated_at: Str('Updated At') }, { title: 'ExerciseUpdated', description: 'ExerciseUpdated payload' }),
  listeners: [REPLICATE_QUEUE, TOPIC_APPEND_QUEUE],
});

const completedV0 = {
  exercise_id: Str('Exercise Id'),
  title: Str('Title'),
  author_id: Str('Author Id'),
  candidate_id: Str('Candidate Id'),
  completed_at: Str('Completed At'),
};

const attemptListeners = [RECORD_ATTEMPT_QUEUE, COUNT_COMPLETION_QUEUE, TOPIC_APPEND_QUEUE];

export const ExerciseCompletedV0 = defineEvent({
  name: 'ExerciseCompleted',
  version: 0,
  description: 'Initial json schema for exercise completed event',
  schema: Type.Object(completedV0, { title: 'ExerciseCompleted', description: 'Exercise completed event payload' }),
  listeners: attemptListeners,
});

export const ExerciseCompletedV1 = defineEvent({
  name: 'ExerciseCompleted',
  version: 1,
  description: 'Exercise completed event with the knowledge area of the exercise (US-160)',
  schema: Type.Object(
    {
      ...completedV0,
      knowledge_area: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        title: 'Knowledge Area',
        description: 'null: not known (every event upcast from v0)',
      }),
    },
    { title: 'ExerciseCompleted', description: 'Exercise completed event payload' },
  ),
  listeners: attemptListeners,
});

export const ExerciseFailed = defineEvent({
  name: 'ExerciseFailed',
  version: 0,
  description: 'A candidate failed an exercise',
  schema: Type.Object(
    {
      exercise_id: Str('Exercise Id'),
      title: Str('Title'),
      author_id: Str('Author Id'),
      candidate_id: Str('Candidate Id'),
      failed_at: Str('Failed At'),
    },
    { title: 'ExerciseFailed', description: 'Exercise failed event payload' },
  ),
  // The exercises side counts completions only.
  listeners: [RECORD_ATTEMPT_QUEUE, TOPIC_APPEND_QUEUE],
});

const reviewerBase = {
  candidate_id: Str('Candidate Id'),
  reviewer_id: Str('Reviewer Id'),
  assigned_at: Str('Assigned At'),
};

export const ReviewerAssignedV0 = defineEvent({
  name: 'ReviewerAssigned',
  version: 0,
  description: "A manager was assigned to review a candidate (COMM-030), with the manager's name and e-mail",
  schema: Type.Object(
    {
      ...reviewerBase,
      reviewer_name: Type.Union([Type.String(), Type.Null()], { title: 'Reviewer Name' }),
      reviewer_email: Type.Union([Type.String(), Type.Null()], { title: 'Reviewer Email' }),
    },
    { title: 'ReviewerAssigned', description: 'Reviewer assigned event payload' },
  ),
  listeners: [RECORD_REVIEWER_QUEUE, TOPIC_APPEND_QUEUE],
});

export const ReviewerAssignedV1 = defineEvent({
  name: 'ReviewerAssigned',
  version: 1,
  description: 'A manager was assigned to review a candidate (COMM-030); the id only, no personal data (US-170)',
  schema: Type.Object(reviewerBase, { title: 'ReviewerAssigned', description: 'Reviewer assigned event payload' }),
  listeners: [RECORD_REVIEWER_QUEUE, TOPIC_APPEND_QUEUE],
});

export type ExerciseState = Static<typeof ExerciseCreated.schema>;
export type ExerciseCompletedV0Payload = Static<typeof ExerciseCompletedV0.schema>;
export type ExerciseCompletedPayload = Static<typeof ExerciseCompletedV1.schema>;
export type ExerciseFailedPayload = Static<typeof ExerciseFailed.schema>;
export type ReviewerAssignedV0Payload = Static<typeof ReviewerAssignedV0.schema>;
export type ReviewerAssignedPayload = Static<typeof ReviewerAssignedV1.schema>;

/** v0 → v1: a v0 event never knew its knowledge area. */
export function upcastExerciseCompletedV0(payload: ExerciseCompletedV0Payload): ExerciseCompletedPayload {
  return { ...payload, knowledge_area: null };
}

/** v0 → v1: the manager's personal data leaves the event (US-170). */
export function upcastReviewerAssignedV0(payload: ReviewerAssignedV0Payload): ReviewerAssignedPayload {
  return { candidate_id: payload.candidate_id, reviewer_id: payload.reviewer_id, assigned_at: payload.assigned_at };
}

export const hiringEvents = [ExerciseCreated, ExerciseUpdated, ExerciseCompletedV0, ExerciseCompletedV1, ExerciseFailed, ReviewerAssignedV0, ReviewerAssignedV1] as const;
