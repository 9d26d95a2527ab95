import { transferDonations } from '../../src/domain/chat/transferDonation.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** TransferMoney: moves each donation once (ReceiveMoney follows), or rejects it and tells the sender. */
export const transferMoneyJob = batchJob(chatContracts['chat.transfer-money'], (trx, batch, outboxId) => transferDonations(trx, batch.payloads, outboxId));
