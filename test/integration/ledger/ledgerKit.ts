import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { withTransaction, type Db } from '../../../src/platform/db.ts';
import { checkLedger, ensureAccount, isLedgerSound, systemAccount, transferMoney } from '../../../src/domain/ledger/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

/** A new client wallet; its id. */
export async function wallet(db: Db): Promise<number> {
  return (await withTransaction(db, (trx) => ensureAccount(trx, { ownerType: 'client', ownerId: randomUUID(), kind: 'wallet' }))).id;
}

/** Moves `amount` from the system top-up account, as POST /accounts/top-up does. */
export async function topUp(db: Db, accountId: number, amount: number): Promise<void> {
  const result = await withTransaction(db, async (trx) => {
    const cash = await systemAccount(trx, 'top_up');
    return transferMoney(trx, { idempotencyKey: `top-up:${randomUUID()}`, fromAccountId: cash.id, toAccountId: accountId, amount, reason: 'top_up' });
  });
  expect(result.status).to.equal('applied');
}

/**
 * A fresh database for the enclosing describe block, dropped after it; after every passing test
 * the whole ledger must still be sound (sum zero, entries match balances, no overdraft).
 */
export function useLedgerDatabase(stem: string): { readonly db: Db } {
  let t: TestDatabase | undefined;
  before(async () => {
    t = await createTestDatabase(stem);
  });
  after(async () => {
    await t?.drop();
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'passed' || !t) return;
    const report = await checkLedger(t.db);
    expect(report, JSON.stringify(report)).to.satisfy(isLedgerSound);
  });
  return {
    get db() {
      if (!t) throw new Error('the ledger database is not ready yet');
      return t.db;
    },
  };
}
