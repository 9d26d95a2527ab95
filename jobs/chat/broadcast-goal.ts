import { broadcastGoalsReached } from '../../src/domain/chat/goals.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SendEndGoalToQueue: rooms see that a goal was reached. */
export const broadcastGoalJob = batchJob(chatContracts['chat.broadcast-goal'], (trx, batch, outboxId) => broadcastGoalsReached(trx, batch.payloads, outboxId));
