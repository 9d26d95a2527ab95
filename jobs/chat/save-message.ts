import { saveMessage } from '../../src/domain/chat/messages.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { roomJob } from './roomJob.ts';

/** SaveMessage (and the seed's SendToQueue): stores the message, then tells the room. */
export const saveMessageJob = roomJob<Contracts['chat.save-message']>((trx, { payload, outboxId }) => saveMessage(trx, payload, outboxId ?? null));
