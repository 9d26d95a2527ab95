import { broadcastGoalReached } from '../../src/domain/chat/goals.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { roomJob } from './roomJob.ts';

/** SendEndGoalToQueue: the room sees that a goal was reached. */
export const broadcastGoalJob = roomJob<Contracts['chat.broadcast-goal']>((trx, { payload, outboxId }) => broadcastGoalReached(trx, payload, outboxId ?? null));
