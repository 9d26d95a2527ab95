import { saveDonates } from '../../src/domain/chat/donations.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';

/** SaveDonate: stores donations' attached messages and links them to the donations. */
export const saveDonateJob = batchedJob(chatContracts['chat.save-donate'], (trx, batch) => saveDonates(trx, batch.payloads));
