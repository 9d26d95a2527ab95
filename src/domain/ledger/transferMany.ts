import { BadRequest } from '../../platform/errors.ts';
import type { Trx } from '../../platform/db.ts';
import { executeLater, placeholders, selectRows, toSafeInt } from '../../platform/sql.ts';
import {
  deleteTransfers,
  findTransfersByKey,
  lockAccounts,
  validateTransfer,
  type LockedAccount,
  type TransferInput,
  type TransferResult,
} from './transferMoney.ts';

/** Per transfer, in input order. A rejected transfer moved nothing and left no row. */
export type BatchTransferResult =
  | TransferResult
  | { status: 'rejected'; code: 'insufficient_funds' | 'account_not_found' | 'idempotency_conflict' };

/** Keeps one statement's bindings far below the server's limits. */
export const MAX_TRANSFER_BATCH = 500;

/**
 * Applies many transfers, between any accounts, in one transaction and the same five statements as
 * a single transfer: the transfer rows go in (the unique key guards each, as in transferMoney),
 * every involved account is locked once in one SELECT ... FOR UPDATE in id order, funds are checked
 * against running balances in input order, then one UPDATE moves every balance and one INSERT
 * writes every entry. A hot account is therefore locked once per batch rather than once per
 * transfer, and a batch over many accounts costs no more statements than a batch over two.
 *
 * Transfers fail one by one (insufficient funds, unknown account, key reused for another transfer)
 * without failing the batch. Bad input (a repeated key, a self transfer, a bad amount) refuses the
 * whole batch with BadRequest before anything is written.
 *
 * `locked`: every account of the batch, already held FOR UPDATE by the caller in this transaction
 * (lockAccounts) and not moved since: they are not locked again; an account missing from it counts
 * as not found, as it would when locking.
 */
export async function transferMany(trx: Trx, transfers: readonly TransferInput[], locked?: ReadonlyMap<number, LockedAccount>): Promise<BatchTransferResult[]> {
  validateBatch(transfers);
  const results: (BatchTransferResult | undefined)[] = new Array(transfers.length);

  // IGNORE turns a taken key into a skipped row. Rows go in key order, so two batches sharing keys
  // wait on each other instead of deadlocking.
  const byKey = [...transfers].sort((x, y) => (x.idempotencyKey < y.idempotencyKey ? -1 : 1));
  const inserted = await selectRows<{ id: unknown; idempotency_key: string }>(
    trx,
    `INSERT IGNORE INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, reference, created_at)
     VALUES ${byKey.map(() => '(?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ')} RETURNING id, idempotency_key`,
    byKey.flatMap((t) => [t.idempotencyKey, t.fromAccountId, t.toAccountId, t.amount, t.reason, t.reference ?? null]),
  );
  const newIds = new Map(inserted.map((row) => [row.idempotency_key, toSafeInt(row.id, 'transfer id')]));

  const taken = transfers.filter((t) => !newIds.has(t.idempotencyKey));
  if (taken.length > 0) {
    const twins = await findTransfersByKey(trx, taken.map((t) => t.idempotencyKey));
    transfers.forEach((t, i) => {
      if (newIds.has(t.idempotencyKey)) return;
      const twin = twins.get(t.idempotencyKey);
      if (!twin) throw new Error(`ledger: transfer ${t.idempotencyKey} collided but cannot be found`);
      const same =
        toSafeInt(twin.from_account_id, 'from') === t.fromAccountId &&
        toSafeInt(twin.to_account_id, 'to') === t.toAccountId &&
        toSafeInt(twin.amount, 'amount') === t.amount;
      results[i] = same
        ? { status: 'duplicate', transferId: toSafeInt(twin.id, 'transfer id') }
        : { status: 'rejected', code: 'idempotency_conflict' };
    });
  }
  if (newIds.size === 0) return results as BatchTransferResult[];

  const fresh = transfers.filter((t) => newIds.has(t.idempotencyKey));
  const accounts = locked ?? (await lockAccounts(trx, fresh.flatMap((t) => [t.fromAccountId, t.toAccountId])));

  // Apply in input order against running balances, so each entry's balance_after is exact.
  const balances = new Map([...accounts].map(([id, a]) => [id, a.balance]));
  const deltas = new Map<number, number>();
  const entries: number[] = [];
  const rejected: number[] = [];
  for (const [i, t] of transfers.entries()) {
    const transferId = newIds.get(t.idempotencyKey);
    if (transferId === undefined) continue;
    const payer = accounts.get(t.fromAccountId);
    const payee = accounts.get(t.toAccountId);
    if (!payer || !payee) {
      rejected.push(transferId);
      results[i] = { status: 'rejected', code: 'account_not_found' };
      continue;
    }
    const fromBalance = balances.get(payer.id)! - t.amount;
    const toBalance = balances.get(payee.id)! + t.amount;
    if (fromBalance < 0 && !payer.allowNegative) {
      rejected.push(transferId);
      results[i] = { status: 'rejected', code: 'insufficient_funds' };
      continue;
    }
    if (!Number.isSafeInteger(toBalance) || !Number.isSafeInteger(fromBalance)) {
      await deleteTransfers(trx, [...newIds.values()]);
      throw new Error(`ledger: balance overflow on transfer ${transferId}`);
    }
    balances.set(payer.id, fromBalance);
    balances.set(payee.id, toBalance);
    deltas.set(payer.id, (deltas.get(payer.id) ?? 0) - t.amount);
    deltas.set(payee.id, (deltas.get(payee.id) ?? 0) + t.amount);
    entries.push(transferId, payer.id, -t.amount, fromBalance, transferId, payee.id, t.amount, toBalance);
    results[i] = { status: 'applied', transferId, fromBalance, toBalance };
  }

  await deleteTransfers(trx, rejected);
  if (deltas.size > 0) {
    const ids = [...deltas.keys()].filter((id) => deltas.get(id) !== 0);
    if (ids.length > 0) {
      await executeLater(
        trx,
        `UPDATE accounts SET balance = balance + CASE id ${ids.map(() => 'WHEN ? THEN ?').join(' ')} END,
         updated_at = UTC_TIMESTAMP(3) WHERE id IN (${placeholders(ids.length)})`,
        [...ids.flatMap((id) => [id, deltas.get(id) ?? 0]), ...ids],
      );
    }
    await executeLater(
      trx,
      `INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
       VALUES ${new Array<string>(entries.length / 4).fill('(?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}`,
      entries,
    );
  }
  return results as BatchTransferResult[];
}

function validateBatch(transfers: readonly TransferInput[]): void {
  if (transfers.length === 0 || transfers.length > MAX_TRANSFER_BATCH) {
    throw new BadRequest(`a transfer batch holds 1..${MAX_TRANSFER_BATCH} transfers`, 'bad_batch');
  }
  const keys = new Set<string>();
  for (const t of transfers) {
    validateTransfer(t);
    if (keys.has(t.idempotencyKey)) throw new BadRequest(`idempotency key ${t.idempotencyKey} repeats in the batch`, 'bad_batch');
    keys.add(t.idempotencyKey);
  }
}
