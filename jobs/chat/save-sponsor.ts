import { saveSponsor } from '../../src/domain/chat/sponsors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/durable.ts';

/** SaveNewSponsor: appends to the room's sponsor history. */
export const saveSponsorJob = durableJob<Contracts['chat.save-sponsor']>((trx, { payload }) => saveSponsor(trx, payload));
