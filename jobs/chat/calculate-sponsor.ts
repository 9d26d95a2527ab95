import { calculateSponsor } from '../../src/domain/chat/sponsors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/durable.ts';

/** CalculateNewSponsor: updates the donor's total; NewSponsor when the top donor changes. */
export const calculateSponsorJob = durableJob<Contracts['chat.calculate-sponsor']>(async (trx, { payload }) => ({ sponsor: await calculateSponsor(trx, payload) }));
