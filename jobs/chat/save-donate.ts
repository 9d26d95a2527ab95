import { saveDonate } from '../../src/domain/chat/donations.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/durable.ts';

/** SaveDonate: stores a donation's attached message and links it to the donation. */
export const saveDonateJob = durableJob<Contracts['chat.save-donate']>((trx, { payload }) => saveDonate(trx, payload));
