import { saveSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';

/** SaveNewSponsor: appends to the rooms' sponsor history. */
export const saveSponsorJob = batchedJob(chatContracts['chat.save-sponsor'], (trx, batch) => saveSponsors(trx, batch.payloads));
