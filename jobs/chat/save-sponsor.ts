import { saveSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SaveNewSponsor: appends to the rooms' sponsor history. */
export const saveSponsorJob = batchJob(chatContracts['chat.save-sponsor'], (trx, batch) => saveSponsors(trx, batch.payloads));
