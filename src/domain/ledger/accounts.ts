import { BadRequest, NotFound } from '../../platform/errors.ts';
import type { Trx } from '../../platform/db.ts';
import { selectRows, toBool, toSafeInt, type Conn } from '../../platform/sql.ts';

export type OwnerType = 'client' | 'model' | 'user' | 'system' | 'employee';
export type AccountKind = 'wallet' | 'points' | 'system' | 'popug';

export interface AccountKey {
  ownerType: OwnerType;
  /** A uuid, or a system account's name. Compared byte for byte, so normalise uuids first. */
  ownerId: string;
  kind: AccountKind;
}

export interface Account extends AccountKey {
  id: number;
  allowNegative: boolean;
}

export interface AccountWithBalance extends Account {
  balance: number;
}

export interface EnsureAccountInput extends AccountKey {
  /** Defaults to true for kind 'system' only. Applies when the account is created, never later. */
  allowNegative?: boolean;
}

interface AccountRow {
  id: unknown;
  allow_negative: unknown;
}

const KEY_WHERE = 'owner_type = ? AND owner_id = ? AND kind = ?';

/**
 * Returns the account, creating it if missing. Safe against a concurrent creator: the unique
 * (owner_type, owner_id, kind) index decides, and INSERT IGNORE never fails on it.
 * The answer carries no balance on purpose: a plain read here may be stale; use getBalance.
 */
export async function ensureAccount(trx: Trx, input: EnsureAccountInput): Promise<Account> {
  validateKey(input);
  const key = [input.ownerType, input.ownerId, input.kind];
  // Fast path without locks: accounts are created once and read on every transfer.
  const found = await selectRows<AccountRow>(trx, `SELECT id, allow_negative FROM accounts WHERE ${KEY_WHERE}`, key);
  if (found[0]) return toAccount(input, found[0]);

  const allowNegative = input.allowNegative ?? input.kind === 'system';
  const inserted = await selectRows<AccountRow>(
    trx,
    `INSERT IGNORE INTO accounts (owner_type, owner_id, kind, balance, allow_negative, created_at, updated_at)
     VALUES (?, ?, ?, 0, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)) RETURNING id, allow_negative`,
    [...key, allowNegative],
  );
  if (inserted[0]) return toAccount(input, inserted[0]);

  // Someone else created it after this transaction's snapshot was taken: only a locking read
  // sees their committed row. Rare (first sight of an owner, twice at once).
  const raced = await selectRows<AccountRow>(
    trx,
    `SELECT id, allow_negative FROM accounts WHERE ${KEY_WHERE} LOCK IN SHARE MODE`,
    key,
  );
  if (!raced[0]) throw new Error(`ledger: account ${key.join('/')} neither inserted nor found`);
  return toAccount(input, raced[0]);
}

/** A named system account (kind 'system'): the other side of top-ups, grants and payouts; may go negative. */
export async function systemAccount(trx: Trx, name: string): Promise<Account> {
  return ensureAccount(trx, { ownerType: 'system', ownerId: name, kind: 'system', allowNegative: true });
}

/** Looks an account up without creating it (read paths such as GET /accounts/me). */
export async function findAccount(conn: Conn, key: AccountKey): Promise<AccountWithBalance | null> {
  validateKey(key);
  const rows = await selectRows<AccountRow & { balance: unknown }>(
    conn,
    `SELECT id, allow_negative, balance FROM accounts WHERE ${KEY_WHERE}`,
    [key.ownerType, key.ownerId, key.kind],
  );
  const row = rows[0];
  if (!row) return null;
  return { ...toAccount(key, row), balance: toSafeInt(row.balance, 'balance') };
}

/** The committed balance as this connection sees it (inside a transaction: its snapshot). */
export async function getBalance(conn: Conn, accountId: number): Promise<number> {
  const rows = await selectRows<{ balance: unknown }>(conn, 'SELECT balance FROM accounts WHERE id = ?', [accountId]);
  if (!rows[0]) throw new NotFound(`account ${accountId} not found`, 'account_not_found');
  return toSafeInt(rows[0].balance, 'balance');
}

function toAccount(key: AccountKey, row: AccountRow): Account {
  return {
    id: toSafeInt(row.id, 'account id'),
    ownerType: key.ownerType,
    ownerId: key.ownerId,
    kind: key.kind,
    allowNegative: toBool(row.allow_negative),
  };
}

// Column widths of the accounts table; INSERT IGNORE would silently truncate anything longer.
function validateKey(key: AccountKey): void {
  if (typeof key.ownerType !== 'string' || key.ownerType.length === 0 || key.ownerType.length > 16) {
    throw new BadRequest('ownerType must be 1..16 characters', 'bad_account');
  }
  if (typeof key.ownerId !== 'string' || key.ownerId.length === 0 || key.ownerId.length > 64) {
    throw new BadRequest('ownerId must be 1..64 characters', 'bad_account');
  }
  if (typeof key.kind !== 'string' || key.kind.length === 0 || key.kind.length > 16) {
    throw new BadRequest('kind must be 1..16 characters', 'bad_account');
  }
}
