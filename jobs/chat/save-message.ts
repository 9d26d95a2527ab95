import { saveMessages } from '../../src/domain/chat/messages.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SaveMessage (and the seed's SendToQueue): stores messages, then tells their rooms. */
export const saveMessageJob = batchJob(chatContracts['chat.save-message'], (trx, batch, outboxId) => saveMessages(trx, batch.payloads, outboxId));
