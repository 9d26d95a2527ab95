import { selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';

/** Sum of every balance, system accounts included. Double entry keeps it at exactly zero. */
export async function sumOfBalances(conn: Conn): Promise<number> {
  const rows = await selectRows<{ total: unknown }>(conn, 'SELECT COALESCE(SUM(balance), 0) AS total FROM accounts');
  return toSafeInt(rows[0]?.total ?? 0, 'sum of balances');
}

export interface LedgerReport {
  sumOfBalances: number;
  /** Accounts below zero that may not be. */
  overdrawn: number[];
  /** Accounts whose balance differs from the sum of their entries. */
  balanceMismatches: { accountId: number; balance: number; entriesSum: number }[];
  /** Entries whose balance_after is not the previous balance_after plus their amount. */
  brokenChains: number[];
  /** Transfers without exactly two entries: -amount on the payer, +amount on the payee. */
  badTransfers: number[];
}

export function isLedgerSound(report: LedgerReport): boolean {
  return (
    report.sumOfBalances === 0 &&
    report.overdrawn.length === 0 &&
    report.balanceMismatches.length === 0 &&
    report.brokenChains.length === 0 &&
    report.badTransfers.length === 0
  );
}

/**
 * Checks every ledger invariant with full scans: for tests, chaos runs and an operator's audit,
 * not for a request path. Run it when no transfer is in flight, or the figures may straddle one.
 */
export async function checkLedger(conn: Conn): Promise<LedgerReport> {
  const overdrawn = await selectRows<{ id: unknown }>(
    conn,
    'SELECT id FROM accounts WHERE balance < 0 AND NOT allow_negative ORDER BY id',
  );
  const mismatches = await selectRows<{ id: unknown; balance: unknown; entries_sum: unknown }>(
    conn,
    `SELECT a.id, a.balance, COALESCE(SUM(e.amount), 0) AS entries_sum
     FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
     GROUP BY a.id, a.balance HAVING a.balance <> entries_sum ORDER BY a.id`,
  );
  // Entry ids are taken while the account is locked, so id order is the order balances moved in.
  const chains = await selectRows<{ id: unknown }>(
    conn,
    `SELECT id FROM (
       SELECT id, amount, balance_after,
              COALESCE(LAG(balance_after) OVER (PARTITION BY account_id ORDER BY id), 0) AS previous
       FROM ledger_entries) e
     WHERE balance_after <> previous + amount ORDER BY id`,
  );
  const transfers = await selectRows<{ id: unknown }>(
    conn,
    `SELECT t.id FROM transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id
     GROUP BY t.id, t.amount, t.from_account_id, t.to_account_id
     HAVING COUNT(e.id) <> 2
         OR COALESCE(SUM(CASE WHEN e.account_id = t.from_account_id THEN e.amount END), 0) <> -t.amount
         OR COALESCE(SUM(CASE WHEN e.account_id = t.to_account_id THEN e.amount END), 0) <> t.amount
     ORDER BY t.id`,
  );
  return {
    sumOfBalances: await sumOfBalances(conn),
    overdrawn: overdrawn.map((r) => toSafeInt(r.id, 'account id')),
    balanceMismatches: mismatches.map((r) => ({
      accountId: toSafeInt(r.id, 'account id'),
      balance: toSafeInt(r.balance, 'balance'),
      entriesSum: toSafeInt(r.entries_sum, 'entries sum'),
    })),
    brokenChains: chains.map((r) => toSafeInt(r.id, 'entry id')),
    badTransfers: transfers.map((r) => toSafeInt(r.id, 'transfer id')),
  };
}
