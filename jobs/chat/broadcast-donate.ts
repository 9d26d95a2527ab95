import { broadcastDonations } from '../../src/domain/chat/transferDonation.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';

/**
 * SendDonateToQueue for ReceiveMoney rows written before TransferMoney recorded the room's `donate`
 * event itself (docs/DECISIONS.md 25): drains what an upgrade finds, nothing new is written here.
 * Their events reach domain.chat through the same batch's UpdateGoal row.
 */
export const broadcastDonateJob = batchedJob(chatContracts['chat.broadcast-donate'], (trx, batch) => broadcastDonations(trx, batch.payloads, batch.key), roomEventsAfterCommit);
