import { emittedVersion } from '../../src/domain/events/emit.ts';
import { countCompletion } from '../../src/domain/hiring/review.ts';
import type { ExerciseCompletedPayload } from '../../src/domain/hiring/events.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { eventConsumer } from './consumeEvent.ts';

/** Exercises side, COMM-030: count the completion; at the threshold assign a reviewer. */
export const countCompletionJob = eventConsumer<Contracts['hiring.count-completion']>('hiring.count-completion', async (trx, event, { services }) =>
  countCompletion(
    trx,
    event.payload as ExerciseCompletedPayload,
    { threshold: services.hiring.reviewThreshold, reviewerDef: () => emittedVersion(services.flags, 'ReviewerAssigned', services.log) },
    new Date(services.clock.now()),
  ),
);
