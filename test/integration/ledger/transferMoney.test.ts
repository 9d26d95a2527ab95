import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../src/platform/errors.ts';
import { withTransaction, type Db } from '../../../src/platform/db.ts';
import {
  getBalance,
  sumOfBalances,
  systemAccount,
  transferMoney,
  type TransferInput,
} from '../../../src/domain/ledger/index.ts';
import { topUp, useLedgerDatabase, wallet } from './ledgerKit.ts';

/** The error code a promise rejects with, or 'ok'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

async function counts(db: Db, key: string): Promise<{ transfers: number; entries: number }> {
  const rows = await db('transfers').where({ idempotency_key: key }).select('id');
  const ids = rows.map((r: { id: number }) => r.id);
  const entries = ids.length ? await db('ledger_entries').whereIn('transfer_id', ids).count({ n: '*' }) : [{ n: 0 }];
  return { transfers: ids.length, entries: Number(entries[0]?.n) };
}

describe('ledger transferMoney (MySQL)', () => {
  const t = useLedgerDatabase('ledger_transfer');

  it('applies a transfer: two entries, both balances, sum zero', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 10_000);
    const key = `t:${randomUUID()}`;
    const result = await withTransaction(t.db, (trx) =>
      transferMoney(trx, { idempotencyKey: key, fromAccountId: a, toAccountId: b, amount: 1_550, reason: 'donation', reference: 'd-1' }),
    );
    expect(result).to.deep.include({ status: 'applied', fromBalance: 8_450, toBalance: 1_550 });
    expect(await getBalance(t.db, a)).to.equal(8_450);
    expect(await getBalance(t.db, b)).to.equal(1_550);
    if (result.status !== 'applied') throw new Error('unreachable');
    const entries = await t.db('ledger_entries').where({ transfer_id: result.transferId }).orderBy('id');
    expect(entries.map((e: { account_id: number; amount: number; balance_after: number }) => [e.account_id, e.amount, e.balance_after])).to.deep.equal([
      [a, -1_550, 8_450],
      [b, 1_550, 1_550],
    ]);
    const transfer = await t.db('transfers').where({ id: result.transferId }).first();
    expect(transfer).to.include({ idempotency_key: key, from_account_id: a, to_account_id: b, amount: 1_550, reason: 'donation', reference: 'd-1' });
    expect(await sumOfBalances(t.db)).to.equal(0);
  });

  it('answers a repeated key with the first transfer and moves nothing', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    const input: TransferInput = { idempotencyKey: `t:${randomUUID()}`, fromAccountId: a, toAccountId: b, amount: 60, reason: 'donation' };
    const first = await withTransaction(t.db, (trx) => transferMoney(trx, input));
    const second = await withTransaction(t.db, (trx) => transferMoney(trx, input));
    expect(first.status).to.equal('applied');
    // A duplicate even though the funds would no longer suffice: the key is checked before the funds.
    expect(second).to.deep.equal({ status: 'duplicate', transferId: first.transferId });
    expect(await getBalance(t.db, a)).to.equal(40);
    expect(await counts(t.db, input.idempotencyKey)).to.deep.equal({ transfers: 1, entries: 2 });
    // The same key for a different transfer is a caller bug, not a duplicate.
    expect(await outcome(withTransaction(t.db, (trx) => transferMoney(trx, { ...input, amount: 61 })))).to.equal('idempotency_conflict');
  });

  it('refuses an overdraft with insufficient_funds and leaves nothing behind, even if the caller commits', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    const key = `t:${randomUUID()}`;
    const code = await withTransaction(t.db, (trx) =>
      outcome(transferMoney(trx, { idempotencyKey: key, fromAccountId: a, toAccountId: b, amount: 101, reason: 'donation' })),
    );
    expect(code).to.equal('insufficient_funds');
    expect(await getBalance(t.db, a)).to.equal(100);
    expect(await getBalance(t.db, b)).to.equal(0);
    expect(await counts(t.db, key)).to.deep.equal({ transfers: 0, entries: 0 });
    // The key stays usable once the money is there.
    await topUp(t.db, a, 1);
    const retried = await withTransaction(t.db, (trx) => transferMoney(trx, { idempotencyKey: key, fromAccountId: a, toAccountId: b, amount: 101, reason: 'donation' }));
    expect(retried).to.deep.include({ status: 'applied', fromBalance: 0, toBalance: 101 });
  });

  it('refuses bad input before touching anything', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    const base: TransferInput = { idempotencyKey: `t:${randomUUID()}`, fromAccountId: a, toAccountId: b, amount: 10, reason: 'donation' };
    const cases: [Partial<TransferInput>, string][] = [
      [{ toAccountId: a }, 'self_transfer'],
      [{ amount: 0 }, 'bad_amount'],
      [{ amount: -10 }, 'bad_amount'],
      [{ amount: 1.5 }, 'bad_amount'],
      [{ amount: Number.NaN }, 'bad_amount'],
      [{ amount: 2 ** 53 }, 'bad_amount'],
      [{ idempotencyKey: '' }, 'bad_idempotency_key'],
      [{ idempotencyKey: 'k'.repeat(192) }, 'bad_idempotency_key'],
      [{ reason: '' }, 'bad_reason'],
      [{ reference: 'r'.repeat(129) }, 'bad_reference'],
      [{ fromAccountId: 0 }, 'bad_account'],
      [{ toAccountId: 999_999_999 }, 'account_not_found'],
    ];
    for (const [change, code] of cases) {
      expect(await withTransaction(t.db, (trx) => outcome(transferMoney(trx, { ...base, ...change }))), JSON.stringify(change)).to.equal(code);
    }
    expect(await getBalance(t.db, a)).to.equal(100);
    expect(await counts(t.db, base.idempotencyKey)).to.deep.equal({ transfers: 0, entries: 0 });
  });

  it('lets a system account go negative and keeps the sum at zero', async () => {
    const a = await wallet(t.db);
    const before = await withTransaction(t.db, async (trx) => getBalance(trx, (await systemAccount(trx, 'top_up')).id));
    await topUp(t.db, a, 250);
    const after = await withTransaction(t.db, async (trx) => getBalance(trx, (await systemAccount(trx, 'top_up')).id));
    expect(after - before).to.equal(-250);
    expect(await sumOfBalances(t.db)).to.equal(0);
  });
});
