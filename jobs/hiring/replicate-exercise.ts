import { applyExerciseState } from '../../src/domain/hiring/replica.ts';
import type { ExerciseState } from '../../src/domain/hiring/events.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { eventConsumer } from './consumeEvent.ts';

/** Hiring side: the replica keeps the newest state of an exercise; an older one is ignored. */
export const replicateExerciseJob = eventConsumer<Contracts['hiring.replicate-exercise']>('hiring.replicate-exercise', async (trx, event) => ({
  applied: await applyExerciseState(trx, event.payload as ExerciseState),
}));
