import { Type } from '@sinclair/typebox';
import {
  COUNT_COMPLETION_QUEUE,
  ExerciseCompletedV0,
  ExerciseCompletedV1,
  ExerciseCreated,
  ExerciseFailed,
  ExerciseUpdated,
  RECORD_ATTEMPT_QUEUE,
  RECORD_REVIEWER_QUEUE,
  REPLICATE_QUEUE,
  ReviewerAssignedV0,
  ReviewerAssignedV1,
} from '../../src/domain/hiring/events.ts';
import { envelopeSchema, type EventDef } from '../outbox/envelope.ts';
import { defineJob } from '../contract.ts';

/**
 * The hiring flow's listener jobs (seed 001), durable (the outbox row is locked and marked done
 * with the effect) and idempotent (each consumer also skips an event whose (event_id, produced_at)
 * it took before). A listener takes every published version of its events, as envelopes; the job
 * upcasts to the newest before the handler. An envelope that fails its schema fails at once,
 * without retry (UnrecoverableError), for manual review.
 */
function listener(queue: string, events: EventDef[], description: string, concurrency: number) {
  return defineJob({
    queue,
    description,
    schema: Type.Union(events.map((e) => envelopeSchema(e))),
    // A job's `v` is its event's version: the newest any of them has.
    version: Math.max(...events.map((e) => e.version)),
    attempts: 25,
    backoff: { delayMs: 500, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency,
    durable: true,
    keepCompleted: 500,
  });
}

export const hiringContracts = {
  'hiring.replicate-exercise': listener(REPLICATE_QUEUE, [ExerciseCreated, ExerciseUpdated], "Keep the hiring side's replica of an exercise (CUD stream; older states ignored)", 4),
  'hiring.record-attempt': listener(RECORD_ATTEMPT_QUEUE, [ExerciseCompletedV0, ExerciseCompletedV1, ExerciseFailed], "Record a candidate's completed or failed exercise on the hiring side", 4),
  'hiring.count-completion': listener(COUNT_COMPLETION_QUEUE, [ExerciseCompletedV0, ExerciseCompletedV1], 'COMM-030: count completions; at the threshold assign a random manager (ReviewerAssigned)', 4),
  'hiring.record-reviewer': listener(RECORD_REVIEWER_QUEUE, [ReviewerAssignedV0, ReviewerAssignedV1], "Record a candidate's reviewer on the hiring side (the id only)", 4),
};
