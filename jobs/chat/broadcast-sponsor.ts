import { broadcastSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SendNewSponsorToQueue: rooms see their new sponsor. */
export const broadcastSponsorJob = batchJob(chatContracts['chat.broadcast-sponsor'], (trx, batch, outboxId) => broadcastSponsors(trx, batch.payloads, outboxId));
