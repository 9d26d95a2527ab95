import { saveMessages } from '../../src/domain/chat/messages.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** SaveMessage (and the seed's SendToQueue): stores messages, then tells their rooms. */
export const saveMessageJob = batchedJob(chatContracts['chat.save-message'], carryingTopics('chat.save-message', (trx, batch) => saveMessages(trx, batch.payloads, batch.key)), roomEventsAfterCommit);
