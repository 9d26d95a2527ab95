import { calculateSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** CalculateNewSponsor: updates donors' totals; NewSponsor whenever a room's top donor changes. */
export const calculateSponsorJob = batchJob(chatContracts['chat.calculate-sponsor'], async (trx, batch) => {
  await calculateSponsors(trx, batch.payloads);
});
