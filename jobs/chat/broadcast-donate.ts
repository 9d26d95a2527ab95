import { broadcastDonations } from '../../src/domain/chat/transferDonation.ts';
import { appendTopics } from '../../src/domain/events/topicAppend.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { topicDeps } from '../events/carry.ts';

/**
 * SendDonateToQueue for ReceiveMoney rows written before TransferMoney recorded the room's `donate`
 * event itself (docs/DECISIONS.md 25): drains what an upgrade finds, nothing new is written here.
 * This queue carried ReceiveMoney to domain.chat then, and the same batch's UpdateGoal row may have
 * run before the upgrade: the events are appended here too (at least once; readers drop repeats).
 */
export const broadcastDonateJob = batchedJob(
  chatContracts['chat.broadcast-donate'],
  async (trx, batch, services) => {
    const events = await broadcastDonations(trx, batch.payloads, batch.key);
    await appendTopics(topicDeps(services), batch.payloads);
    return events;
  },
  roomEventsAfterCommit,
);
