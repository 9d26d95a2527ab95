import { NotFound } from '../../platform/errors.ts';
import type { Trx } from '../../platform/db.ts';
import { transferMany, MAX_TRANSFER_BATCH, type BatchTransferResult } from './transferMany.ts';

export interface CreditItem {
  idempotencyKey: string;
  fromAccountId: number;
  amount: number;
  reason: string;
  reference?: string | null;
}

export interface CreditManyInput {
  toAccountId: number;
  items: readonly CreditItem[];
}

/** Per item, in input order. A rejected item moved nothing and left no row. */
export type CreditResult = BatchTransferResult;

export const MAX_CREDIT_BATCH = MAX_TRANSFER_BATCH;

/**
 * Several transfers into one (hot) account: transferMany with one payee, so its row is locked once
 * per batch rather than once per credit. Items fail one by one (insufficient funds, unknown payer,
 * key reused for another transfer) without failing the batch; a missing payee fails it all.
 */
export async function creditMany(trx: Trx, input: CreditManyInput): Promise<CreditResult[]> {
  const results = await transferMany(trx, input.items.map((item) => ({ ...item, toAccountId: input.toAccountId })));
  const applied = results.some((r) => r.status === 'applied' || r.status === 'duplicate');
  if (!applied && results.length > 0 && results.every((r) => r.status === 'rejected' && r.code === 'account_not_found')) {
    const [payee] = (await trx('accounts').where('id', input.toAccountId).select('id')) as unknown[];
    if (!payee) throw new NotFound(`account ${input.toAccountId} not found`, 'account_not_found');
  }
  return results;
}
