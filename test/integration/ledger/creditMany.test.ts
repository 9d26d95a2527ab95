import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { AppError } from '../../../src/platform/errors.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import {
  creditMany,
  getBalance,
  transferMoney,
  type CreditItem,
} from '../../../src/domain/ledger/index.ts';
import { topUp, useLedgerDatabase, wallet } from './ledgerKit.ts';

describe('ledger creditMany (MySQL)', () => {
  const t = useLedgerDatabase('ledger_credit_many');

  it('applies a batch in order, item by item, against running balances', async () => {
    const model = await wallet(t.db);
    const [p, q] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, p, 100);
    await topUp(t.db, q, 50);
    const done = await withTransaction(t.db, (trx) =>
      transferMoney(trx, { idempotencyKey: 'cm:earlier', fromAccountId: q, toAccountId: model, amount: 5, reason: 'donation' }),
    );
    const items: CreditItem[] = [
      { idempotencyKey: 'cm:1', fromAccountId: p, amount: 60, reason: 'donation' },
      { idempotencyKey: 'cm:2', fromAccountId: q, amount: 20, reason: 'donation', reference: 'r2' },
      { idempotencyKey: 'cm:3', fromAccountId: p, amount: 50, reason: 'donation' }, // 40 left: refused
      { idempotencyKey: 'cm:4', fromAccountId: p, amount: 40, reason: 'donation' },
      { idempotencyKey: 'cm:earlier', fromAccountId: q, amount: 5, reason: 'donation' }, // already applied
      { idempotencyKey: 'cm:5', fromAccountId: 999_999_999, amount: 1, reason: 'donation' },
      { idempotencyKey: 'cm:earlier-other', fromAccountId: q, amount: 1, reason: 'donation' },
    ];
    await withTransaction(t.db, (trx) =>
      transferMoney(trx, { idempotencyKey: 'cm:earlier-other', fromAccountId: q, toAccountId: model, amount: 2, reason: 'donation' }),
    );
    const results = await withTransaction(t.db, (trx) => creditMany(trx, { toAccountId: model, items }));
    expect(results.map((r) => r.status)).to.deep.equal(['applied', 'applied', 'rejected', 'applied', 'duplicate', 'rejected', 'rejected']);
    expect(results[0]).to.deep.include({ fromBalance: 40, toBalance: 67 });
    expect(results[1]).to.deep.include({ fromBalance: 23, toBalance: 87 });
    expect(results[2]).to.deep.equal({ status: 'rejected', code: 'insufficient_funds' });
    expect(results[3]).to.deep.include({ fromBalance: 0, toBalance: 127 });
    expect(results[4]).to.deep.equal({ status: 'duplicate', transferId: done.transferId });
    expect(results[5]).to.deep.equal({ status: 'rejected', code: 'account_not_found' });
    expect(results[6]).to.deep.equal({ status: 'rejected', code: 'idempotency_conflict' });
    expect(await getBalance(t.db, model)).to.equal(127);
    expect(await getBalance(t.db, p)).to.equal(0);
    expect(await getBalance(t.db, q)).to.equal(23);
    // Refused items leave no transfer row, so their keys stay usable.
    expect(await t.db('transfers').whereIn('idempotency_key', ['cm:3', 'cm:5']).select('id')).to.have.length(0);
  });

  it('refuses a batch that repeats a key or credits the payee from itself', async () => {
    const model = await wallet(t.db);
    const p = await wallet(t.db);
    const item = { idempotencyKey: `k:${randomUUID()}`, fromAccountId: p, amount: 1, reason: 'donation' };
    const codes: string[] = [];
    for (const items of [[item, item], [{ ...item, fromAccountId: model }], []]) {
      try {
        await withTransaction(t.db, (trx) => creditMany(trx, { toAccountId: model, items }));
        codes.push('ok');
      } catch (err) {
        codes.push((err as AppError).code);
      }
    }
    expect(codes).to.deep.equal(['bad_batch', 'self_transfer', 'bad_batch']);
  });

  it('concurrent batches and single transfers into one hot account add up exactly', async () => {
    const model = await wallet(t.db);
    const payers = await Promise.all(Array.from({ length: 30 }, () => wallet(t.db)));
    await Promise.all(payers.map((p) => topUp(t.db, p, 1_000)));
    const jobs: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      const items = payers.slice(round, round + 10).map((p) => ({ idempotencyKey: `b:${round}:${p}`, fromAccountId: p, amount: 30, reason: 'donation' }));
      jobs.push(withTransaction(t.db, (trx) => creditMany(trx, { toAccountId: model, items })));
      for (const p of payers.slice(round, round + 3)) {
        jobs.push(withTransaction(t.db, (trx) => transferMoney(trx, { idempotencyKey: `s:${round}:${p}`, fromAccountId: p, toAccountId: model, amount: 11, reason: 'donation' })));
      }
    }
    await Promise.all(jobs);
    expect(await getBalance(t.db, model)).to.equal(10 * 10 * 30 + 10 * 3 * 11);
    const paid = (await Promise.all(payers.map((p) => getBalance(t.db, p)))).reduce((s, b) => s + 1_000 - b, 0);
    expect(paid).to.equal(10 * 10 * 30 + 10 * 3 * 11);
  });
});
