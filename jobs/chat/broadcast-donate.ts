import { broadcastDonations } from '../../src/domain/chat/transferDonation.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** SendDonateToQueue: rooms see completed donations (with their messages, if any). */
export const broadcastDonateJob = batchedJob(chatContracts['chat.broadcast-donate'], carryingTopics('chat.broadcast-donate', (trx, batch) => broadcastDonations(trx, batch.payloads, batch.key)), roomEventsAfterCommit);
