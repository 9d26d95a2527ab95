import { applyToGoals } from '../../src/domain/chat/goals.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/durable.ts';

/** UpdateGoal: adds the transfer to the room's goals; a goal that crosses its sum emits EndGoal. */
export const updateGoalJob = durableJob<Contracts['chat.update-goal']>(async (trx, { payload }) => ({ reached: await applyToGoals(trx, payload) }));
