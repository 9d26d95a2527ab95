/**
 * The double-entry money ledger: accounts with BIGINT minor-unit balances, transfers guarded by a
 * unique idempotency key, two entries per transfer. Functions take the caller's transaction; the
 * caller retries deadlocks with withTransaction.
 */
export { parseMoney, formatMoney, MAX_AMOUNT_MINOR } from './money.ts';
export {
  ensureAccount,
  systemAccount,
  findAccount,
  getBalance,
  type Account,
  type AccountKey,
  type AccountKind,
  type AccountWithBalance,
  type EnsureAccountInput,
  type OwnerType,
} from './accounts.ts';
export { transferMoney, lockAccounts, type LockedAccount, type TransferInput, type TransferResult } from './transferMoney.ts';
export { transferMany, MAX_TRANSFER_BATCH, type BatchTransferResult } from './transferMany.ts';
export { sumOfBalances, checkLedger, isLedgerSound, type LedgerReport } from './invariants.ts';
