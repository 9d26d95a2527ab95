import { applyToGoals } from '../../src/domain/chat/goals.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** UpdateGoal: adds transfers to their rooms' goals; a goal that crosses its sum emits EndGoal. */
export const updateGoalJob = batchedJob(
  chatContracts['chat.update-goal'],
  carryingTopics('chat.update-goal', async (trx, batch) => {
    await applyToGoals(trx, batch.payloads);
  }),
);
