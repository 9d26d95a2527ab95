import { expect } from 'chai';
import { withTransaction } from '../../../src/platform/db.ts';
import {
  checkLedger,
  ensureAccount,
  isLedgerSound,
  sumOfBalances,
  systemAccount,
  transferMoney,
} from '../../../src/domain/ledger/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

/** checkLedger is what every other ledger test trusts, so it must see each kind of damage. */
describe('ledger checkLedger (MySQL)', () => {
  let t: TestDatabase;
  let a: number;
  let b: number;
  let transferId: number;

  before(async () => {
    t = await createTestDatabase('ledger_invariants');
    await withTransaction(t.db, async (trx) => {
      const cash = await systemAccount(trx, 'top_up');
      a = (await ensureAccount(trx, { ownerType: 'client', ownerId: 'a', kind: 'wallet' })).id;
      b = (await ensureAccount(trx, { ownerType: 'client', ownerId: 'b', kind: 'wallet' })).id;
      await transferMoney(trx, { idempotencyKey: 'seed', fromAccountId: cash.id, toAccountId: a, amount: 1_000, reason: 'top_up' });
      const r = await transferMoney(trx, { idempotencyKey: 'pay', fromAccountId: a, toAccountId: b, amount: 300, reason: 'donation' });
      transferId = r.transferId;
    });
  });
  after(async () => {
    await t?.drop();
  });

  it('finds a sound ledger sound', async () => {
    const report = await checkLedger(t.db);
    expect(report).to.deep.equal({ sumOfBalances: 0, overdrawn: [], balanceMismatches: [], brokenChains: [], badTransfers: [] });
    expect(isLedgerSound(report)).to.equal(true);
  });

  it('notices a balance changed behind the ledger', async () => {
    await t.db('accounts').where({ id: b }).increment('balance', 5);
    try {
      const report = await checkLedger(t.db);
      expect(report.sumOfBalances).to.equal(5);
      expect(report.balanceMismatches).to.deep.equal([{ accountId: b, balance: 305, entriesSum: 300 }]);
      expect(isLedgerSound(report)).to.equal(false);
    } finally {
      await t.db('accounts').where({ id: b }).decrement('balance', 5);
    }
    expect(await sumOfBalances(t.db)).to.equal(0);
  });

  it('notices an entry whose balance_after breaks the running total', async () => {
    const entry = await t.db('ledger_entries').where({ transfer_id: transferId, account_id: a }).first();
    await t.db('ledger_entries').where({ id: entry.id }).update({ balance_after: 701 });
    try {
      expect((await checkLedger(t.db)).brokenChains).to.deep.equal([entry.id]);
    } finally {
      await t.db('ledger_entries').where({ id: entry.id }).update({ balance_after: 700 });
    }
  });

  it('notices a transfer missing an entry or with a wrong amount', async () => {
    const entry = await t.db('ledger_entries').where({ transfer_id: transferId, account_id: b }).first();
    await t.db('ledger_entries').where({ id: entry.id }).update({ amount: 299, balance_after: 299 });
    try {
      expect((await checkLedger(t.db)).badTransfers).to.deep.equal([transferId]);
      await t.db('ledger_entries').where({ id: entry.id }).delete();
      const report = await checkLedger(t.db);
      expect(report.badTransfers).to.deep.equal([transferId]);
      expect(report.balanceMismatches).to.deep.equal([{ accountId: b, balance: 300, entriesSum: 0 }]);
    } finally {
      await t.db('ledger_entries').insert({ ...entry, amount: 300, balance_after: 300 });
    }
    expect(isLedgerSound(await checkLedger(t.db))).to.equal(true);
  });

  it('notices an overdrawn wallet (possible only without the CHECK constraint)', async () => {
    await t.db.raw('ALTER TABLE accounts DROP CONSTRAINT accounts_no_overdraft');
    await t.db('accounts').where({ id: a }).update({ balance: -1 });
    expect((await checkLedger(t.db)).overdrawn).to.deep.equal([a]);
  });
});
