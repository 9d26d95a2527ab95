import { saveDonates } from '../../src/domain/chat/donations.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SaveDonate: stores donations' attached messages and links them to the donations. */
export const saveDonateJob = batchJob(chatContracts['chat.save-donate'], (trx, batch) => saveDonates(trx, batch.payloads));
