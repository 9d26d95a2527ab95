import { recordCompleted, recordFailed } from '../../src/domain/hiring/replica.ts';
import type { ExerciseCompletedPayload, ExerciseFailedPayload } from '../../src/domain/hiring/events.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { eventConsumer } from './consumeEvent.ts';

/** Hiring side: a completed (any version, seen as the newest) or failed exercise joins the candidate's progress. */
export const recordAttemptJob = eventConsumer<Contracts['hiring.record-attempt']>('hiring.record-attempt', async (trx, event) => {
  if (event.name === 'ExerciseCompleted') await recordCompleted(trx, event.payload as ExerciseCompletedPayload, event.eventId);
  else await recordFailed(trx, event.payload as ExerciseFailedPayload, event.eventId);
  return { recorded: event.name };
});
