import { expect } from 'chai';
import type { Db } from '../../../src/platform/db.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { checkLedger, isLedgerSound } from '../../../src/domain/ledger/index.ts';

const int = (v: unknown) => toSafeInt(v ?? 0, 'figure');

/**
 * Every popug money invariant, recomputed from scratch: each employee's balance is the sum of
 * their audit entries, all balances (company included) sum to zero, the ledger is sound, every
 * entry has its transfer, and each day's aggregates equal a brute-force sum of its entries.
 */
export async function checkPopugInvariants(db: Db): Promise<void> {
  const report = await checkLedger(db);
  expect(isLedgerSound(report), JSON.stringify(report)).to.equal(true);
  const mismatched = await selectRows<{ owner_id: string; balance: unknown; total: unknown }>(
    db,
    `SELECT a.owner_id, a.balance, COALESCE(SUM(e.amount), 0) AS total FROM accounts a LEFT JOIN popug_entries e ON e.user_id = a.owner_id
     WHERE a.owner_type = 'employee' AND a.kind = 'popug' GROUP BY a.owner_id, a.balance HAVING a.balance <> total`,
  );
  expect(mismatched, 'balance = sum of audit entries').to.deep.equal([]);
  const sum = await selectRows<{ total: unknown }>(db, 'SELECT COALESCE(SUM(balance), 0) AS total FROM accounts');
  expect(int(sum[0]?.total)).to.equal(0);
  const orphans = await selectRows(db, 'SELECT e.entry_id FROM popug_entries e LEFT JOIN transfers t ON t.id = e.transfer_id WHERE t.id IS NULL');
  expect(orphans).to.deep.equal([]);
  const days = await selectRows<{ day: string; fees: unknown; rewards: unknown; payouts: unknown; red_delta: unknown }>(
    db,
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, fees, rewards, payouts, red_delta FROM popug_days ORDER BY day",
  );
  const brute = await selectRows<{ day: string; fees: unknown; rewards: unknown; payouts: unknown }>(
    db,
    `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, -SUM(CASE WHEN kind = 'fee' THEN amount ELSE 0 END) AS fees,
       SUM(CASE WHEN kind = 'reward' THEN amount ELSE 0 END) AS rewards, -SUM(CASE WHEN kind = 'payout' THEN amount ELSE 0 END) AS payouts
     FROM popug_entries GROUP BY day ORDER BY day`,
  );
  const byDay = new Map(brute.map((b) => [b.day, b]));
  for (const d of days) {
    const b = byDay.get(d.day);
    expect({ day: d.day, fees: int(d.fees), rewards: int(d.rewards), payouts: int(d.payouts) }).to.deep.equal({
      day: d.day, fees: int(b?.fees), rewards: int(b?.rewards), payouts: int(b?.payouts),
    });
  }
  // Balances below zero now equal the running sum of the days' red deltas.
  const red = await selectRows<{ n: unknown }>(db, "SELECT COUNT(*) AS n FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND balance < 0");
  expect(days.reduce((s, d) => s + int(d.red_delta), 0), 'employees in the red').to.equal(int(red[0]?.n));
}
