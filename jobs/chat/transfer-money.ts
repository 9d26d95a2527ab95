import { transferDonations } from '../../src/domain/chat/transferDonation.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { roomEventsAfterCommit } from '../../src/domain/chat/roomFeed.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** TransferMoney: moves each donation once (ReceiveMoney follows), or rejects it and tells the sender. */
export const transferMoneyJob = batchedJob(chatContracts['chat.transfer-money'], carryingTopics('chat.transfer-money', (trx, batch) => transferDonations(trx, batch.payloads, batch.key, batch.traces)), roomEventsAfterCommit);
