import { transferDonation } from '../../src/domain/chat/transferDonation.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { roomJob } from './roomJob.ts';

/** TransferMoney: moves the donation once (ReceiveMoney follows), or rejects it and tells the sender. */
export const transferMoneyJob = roomJob<Contracts['chat.transfer-money']>((trx, { payload, outboxId }) => transferDonation(trx, payload, outboxId ?? null));
