import { broadcastSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** SendNewSponsorToQueue: rooms see their new sponsor. */
export const broadcastSponsorJob = batchedJob(chatContracts['chat.broadcast-sponsor'], carryingTopics('chat.broadcast-sponsor', (trx, batch) => broadcastSponsors(trx, batch.payloads, batch.key)), roomEventsAfterCommit);
