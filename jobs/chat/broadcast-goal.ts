import { broadcastGoalsReached } from '../../src/domain/chat/goals.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** SendEndGoalToQueue: rooms see that a goal was reached. */
export const broadcastGoalJob = batchedJob(chatContracts['chat.broadcast-goal'], carryingTopics('chat.broadcast-goal', (trx, batch) => broadcastGoalsReached(trx, batch.payloads, batch.key)), roomEventsAfterCommit);
