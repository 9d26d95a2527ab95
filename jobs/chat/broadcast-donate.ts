import { broadcastDonations } from '../../src/domain/chat/transferDonation.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SendDonateToQueue: rooms see completed donations (with their messages, if any). */
export const broadcastDonateJob = batchJob(chatContracts['chat.broadcast-donate'], (trx, batch, outboxId) => broadcastDonations(trx, batch.payloads, outboxId));
