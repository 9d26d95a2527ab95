import { calculateSponsors } from '../../src/domain/chat/sponsors.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';

/** CalculateNewSponsor: updates donors' totals; NewSponsor whenever a room's top donor changes. */
export const calculateSponsorJob = batchedJob(chatContracts['chat.calculate-sponsor'], async (trx, batch) => {
  await calculateSponsors(trx, batch.payloads);
});
