import { BadRequest, Conflict, NotFound, RuleViolation } from '../../platform/errors.ts';
import type { Trx } from '../../platform/db.ts';
import { execute, isDuplicateKey, placeholders, selectRows, toBool, toSafeInt } from '../../platform/sql.ts';

export interface TransferInput {
  /** Unique per intended transfer (e.g. "donation:<id>"); the same key never moves money twice. */
  idempotencyKey: string;
  fromAccountId: number;
  toAccountId: number;
  /** Minor units, a positive safe integer. */
  amount: number;
  /** What the money is for, e.g. 'donation', 'top_up', 'payout'. */
  reason: string;
  /** The domain row it belongs to, e.g. a donation id. */
  reference?: string | null;
}

export type TransferResult =
  | { status: 'applied'; transferId: number; fromBalance: number; toBalance: number }
  | { status: 'duplicate'; transferId: number };

export interface LockedAccount {
  id: number;
  balance: number;
  allowNegative: boolean;
}

/**
 * Moves money between two accounts inside the caller's transaction.
 *
 * The transfer row goes in first: its unique idempotency key is the guard (a concurrent twin waits
 * on the key and then sees a duplicate), and inserting it before the account locks keeps one round
 * trip out of the lock hold time, which is what caps a hot account. Then one SELECT ... FOR UPDATE
 * locks both accounts in id order (no deadlock between A→B and B→A), funds are checked, and one
 * UPDATE plus one two-row INSERT finish the job. Everything is in the transaction, so a deadlock
 * retry from the top (withTransaction) is safe.
 *
 * Throws BadRequest for bad input, NotFound if an account is missing, RuleViolation
 * 'insufficient_funds', Conflict 'idempotency_conflict' if the key was used for another transfer.
 * On those errors nothing is left behind, so the caller may catch and still commit.
 */
export async function transferMoney(trx: Trx, input: TransferInput): Promise<TransferResult> {
  validateTransfer(input);
  const { fromAccountId: fromId, toAccountId: toId, amount } = input;

  const transferId = await insertTransfer(trx, input);
  if (transferId === null) return { status: 'duplicate', transferId: await findTwin(trx, input) };

  const accounts = await lockAccounts(trx, [fromId, toId]);
  const from = accounts.get(fromId);
  const to = accounts.get(toId);
  if (!from || !to) {
    await deleteTransfers(trx, [transferId]);
    throw new NotFound(`account ${from ? toId : fromId} not found`, 'account_not_found');
  }
  const fromBalance = from.balance - amount;
  const toBalance = to.balance + amount;
  if (fromBalance < 0 && !from.allowNegative) {
    await deleteTransfers(trx, [transferId]);
    throw new RuleViolation('insufficient funds', 'insufficient_funds', { account_id: fromId, balance: from.balance, amount });
  }
  if (!Number.isSafeInteger(toBalance) || !Number.isSafeInteger(fromBalance)) {
    await deleteTransfers(trx, [transferId]);
    throw new Error(`ledger: balance overflow on transfer ${transferId}`);
  }

  // Relative, so the stored balance stays right even if the figures above were ever wrong
  // (checkLedger would then flag the entry's balance_after instead).
  await execute(
    trx,
    'UPDATE accounts SET balance = balance + CASE id WHEN ? THEN ? ELSE ? END, updated_at = UTC_TIMESTAMP(3) WHERE id IN (?, ?)',
    [fromId, -amount, amount, fromId, toId],
  );
  await execute(
    trx,
    `INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
     VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3)), (?, ?, ?, ?, UTC_TIMESTAMP(3))`,
    [transferId, fromId, -amount, fromBalance, transferId, toId, amount, toBalance],
  );
  return { status: 'applied', transferId, fromBalance, toBalance };
}

/** Inserts the transfer row; null when its idempotency key is already taken. */
async function insertTransfer(trx: Trx, input: TransferInput): Promise<number | null> {
  try {
    const result = await execute(
      trx,
      `INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount, reason, reference, created_at)
       VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))`,
      [input.idempotencyKey, input.fromAccountId, input.toAccountId, input.amount, input.reason, input.reference ?? null],
    );
    return toSafeInt(result.insertId, 'transfer id');
  } catch (err) {
    if (isDuplicateKey(err)) return null;
    throw err;
  }
}

export interface TransferRow {
  id: unknown;
  idempotency_key: string;
  from_account_id: unknown;
  to_account_id: unknown;
  amount: unknown;
}

/**
 * The committed transfers with these keys. A locking read, because a plain one would read the
 * transaction's snapshot, which may predate the twin's commit.
 */
export async function findTransfersByKey(trx: Trx, keys: readonly string[]): Promise<Map<string, TransferRow>> {
  const rows = await selectRows<TransferRow>(
    trx,
    `SELECT id, idempotency_key, from_account_id, to_account_id, amount FROM transfers
     WHERE idempotency_key IN (${placeholders(keys.length)}) LOCK IN SHARE MODE`,
    keys,
  );
  return new Map(rows.map((row) => [row.idempotency_key, row]));
}

/** The id of the already-applied transfer with this key, after checking it is the same transfer. */
export async function findTwin(trx: Trx, input: TransferInput): Promise<number> {
  const row = (await findTransfersByKey(trx, [input.idempotencyKey])).get(input.idempotencyKey);
  if (!row) throw new Error(`ledger: transfer ${input.idempotencyKey} collided but cannot be found`);
  if (
    toSafeInt(row.from_account_id, 'from') !== input.fromAccountId ||
    toSafeInt(row.to_account_id, 'to') !== input.toAccountId ||
    toSafeInt(row.amount, 'amount') !== input.amount
  ) {
    throw new Conflict(`idempotency key ${input.idempotencyKey} was used for another transfer`, 'idempotency_conflict');
  }
  return toSafeInt(row.id, 'transfer id');
}

/** Locks the accounts with one SELECT ... FOR UPDATE in ascending id order; missing ids are absent. */
export async function lockAccounts(trx: Trx, ids: readonly number[]): Promise<Map<number, LockedAccount>> {
  const unique = [...new Set(ids)];
  const rows = await selectRows<{ id: unknown; balance: unknown; allow_negative: unknown }>(
    trx,
    `SELECT id, balance, allow_negative FROM accounts WHERE id IN (${placeholders(unique.length)}) ORDER BY id FOR UPDATE`,
    unique,
  );
  const locked = new Map<number, LockedAccount>();
  for (const row of rows) {
    const id = toSafeInt(row.id, 'account id');
    locked.set(id, { id, balance: toSafeInt(row.balance, 'balance'), allowNegative: toBool(row.allow_negative) });
  }
  return locked;
}

/** Takes back transfer rows this transaction inserted but did not apply, so a caught error leaves nothing. */
export async function deleteTransfers(trx: Trx, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await execute(trx, `DELETE FROM transfers WHERE id IN (${placeholders(ids.length)})`, ids);
}

/** Shape checks shared with transferMany; widths match the transfers table. */
export function validateTransfer(input: TransferInput): void {
  const { idempotencyKey, fromAccountId, toAccountId, amount, reason, reference } = input;
  if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 191) {
    throw new BadRequest('idempotencyKey must be 1..191 characters', 'bad_idempotency_key');
  }
  if (!isAccountId(fromAccountId) || !isAccountId(toAccountId)) {
    throw new BadRequest('account ids must be positive integers', 'bad_account');
  }
  if (fromAccountId === toAccountId) throw new BadRequest('cannot transfer to the same account', 'self_transfer');
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new BadRequest('amount must be a positive integer of minor units', 'bad_amount');
  }
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > 64) {
    throw new BadRequest('reason must be 1..64 characters', 'bad_reason');
  }
  if (reference !== undefined && reference !== null && (typeof reference !== 'string' || reference.length > 128)) {
    throw new BadRequest('reference must be at most 128 characters', 'bad_reference');
  }
}

function isAccountId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
}
