import type { Db, Trx } from '../../platform/db.ts';
import { formatMoney, getBalance, systemAccount, transferMoney } from '../ledger/index.ts';
import { randomUUID } from 'node:crypto';
import type { Participant } from './participants.ts';

/** The system account top-ups come from; it goes negative so that all balances sum to zero. */
export const TOP_UP_ACCOUNT = 'top_up';

export interface BalanceView {
  uuid: string;
  type: Participant['type'];
  account_id: number;
  balance: string;
}

export async function balanceOf(db: Db | Trx, participant: Participant): Promise<BalanceView> {
  return { uuid: participant.uuid, type: participant.type, account_id: participant.accountId, balance: formatMoney(await getBalance(db, participant.accountId)) };
}

/** POST /accounts/top-up: moves money from the system account onto the participant's wallet. */
export async function topUp(trx: Trx, participant: Participant, sum: number): Promise<{ transfer_id: number; balance: string }> {
  const source = await systemAccount(trx, TOP_UP_ACCOUNT);
  const result = await transferMoney(trx, {
    idempotencyKey: `top_up:${randomUUID()}`,
    fromAccountId: source.id,
    toAccountId: participant.accountId,
    amount: sum,
    reason: 'top_up',
    reference: participant.uuid,
  });
  if (result.status !== 'applied') throw new Error('chat: a fresh top-up key collided');
  return { transfer_id: result.transferId, balance: formatMoney(result.toBalance) };
}
