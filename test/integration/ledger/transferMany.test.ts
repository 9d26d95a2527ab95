import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { AppError } from '../../../src/platform/errors.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { getBalance, lockAccounts, sumOfBalances, transferMany, transferMoney, type BatchTransferResult, type TransferInput } from '../../../src/domain/ledger/index.ts';
import { topUp, useLedgerDatabase, wallet } from './ledgerKit.ts';

describe('ledger transferMany: many payers, many payees, one transaction (MySQL)', () => {
  const t = useLedgerDatabase('ledger_transfer_many');

  it('applies transfers between any accounts in input order, each against the running balances', async () => {
    const [a, b, c, d] = [await wallet(t.db), await wallet(t.db), await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    await withTransaction(t.db, (trx) => transferMoney(trx, { idempotencyKey: 'tm:earlier', fromAccountId: a, toAccountId: d, amount: 10, reason: 'donation' }));
    const batch: TransferInput[] = [
      { idempotencyKey: 'tm:1', fromAccountId: a, toAccountId: b, amount: 60, reason: 'donation' },
      // b holds nothing before the batch: this one lives on the 60 the line above gave it.
      { idempotencyKey: 'tm:2', fromAccountId: b, toAccountId: c, amount: 50, reason: 'donation' },
      { idempotencyKey: 'tm:3', fromAccountId: b, toAccountId: d, amount: 20, reason: 'donation' }, // 10 left: refused
      { idempotencyKey: 'tm:4', fromAccountId: c, toAccountId: a, amount: 5, reason: 'donation', reference: 'r4' },
      { idempotencyKey: 'tm:earlier', fromAccountId: a, toAccountId: d, amount: 10, reason: 'donation' }, // already applied
      { idempotencyKey: 'tm:earlier-other', fromAccountId: a, toAccountId: c, amount: 10, reason: 'donation' },
      { idempotencyKey: 'tm:5', fromAccountId: a, toAccountId: 999_999_999, amount: 1, reason: 'donation' }, // no such payee
    ];
    await withTransaction(t.db, (trx) => transferMoney(trx, { idempotencyKey: 'tm:earlier-other', fromAccountId: a, toAccountId: b, amount: 1, reason: 'donation' }));
    const results = await withTransaction(t.db, (trx) => transferMany(trx, batch));
    expect(results.map((r) => r.status)).to.deep.equal(['applied', 'applied', 'rejected', 'applied', 'duplicate', 'rejected', 'rejected']);
    expect(results[0]).to.deep.include({ fromBalance: 29, toBalance: 61 });
    expect(results[1]).to.deep.include({ fromBalance: 11, toBalance: 50 });
    expect(results[2]).to.deep.equal({ status: 'rejected', code: 'insufficient_funds' });
    expect(results[3]).to.deep.include({ fromBalance: 45, toBalance: 34 });
    expect(results[5]).to.deep.equal({ status: 'rejected', code: 'idempotency_conflict' });
    expect(results[6]).to.deep.equal({ status: 'rejected', code: 'account_not_found' });
    expect(await Promise.all([a, b, c, d].map((id) => getBalance(t.db, id)))).to.deep.equal([34, 11, 45, 10]);
    // Refused transfers leave no row, so their keys stay usable.
    expect(await t.db('transfers').whereIn('idempotency_key', ['tm:3', 'tm:5']).select('id')).to.have.length(0);
  });

  it('uses accounts its caller locked in the same transaction, and counts one it did not lock as not found', async () => {
    const [a, b, c] = [await wallet(t.db), await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    const results = await withTransaction(t.db, async (trx) => {
      const locked = await lockAccounts(trx, [a, b]);
      return transferMany(
        trx,
        [
          { idempotencyKey: `l:${a}:1`, fromAccountId: a, toAccountId: b, amount: 70, reason: 'donation' },
          { idempotencyKey: `l:${a}:2`, fromAccountId: a, toAccountId: b, amount: 40, reason: 'donation' }, // 30 left: refused
          { idempotencyKey: `l:${a}:3`, fromAccountId: a, toAccountId: c, amount: 5, reason: 'donation' }, // c not locked
        ],
        locked,
      );
    });
    expect(results[0]).to.include({ status: 'applied', fromBalance: 30, toBalance: 70 });
    expect((results[0] as { transferId: unknown }).transferId).to.be.a('number');
    expect(results.slice(1)).to.deep.equal([
      { status: 'rejected', code: 'insufficient_funds' },
      { status: 'rejected', code: 'account_not_found' },
    ]);
    expect(await Promise.all([a, b, c].map((id) => getBalance(t.db, id)))).to.deep.equal([30, 70, 0]);
  });

  it('refuses a batch with bad input as a whole, writing nothing', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 10);
    const ok = { idempotencyKey: `k:${randomUUID()}`, fromAccountId: a, toAccountId: b, amount: 1, reason: 'donation' };
    const codes: string[] = [];
    for (const batch of [[ok, ok], [ok, { ...ok, idempotencyKey: 'k:self', toAccountId: a }], [{ ...ok, amount: 0 }], []]) {
      codes.push(await withTransaction(t.db, (trx) => transferMany(trx, batch)).then(() => 'ok', (err: AppError) => err.code));
    }
    expect(codes).to.deep.equal(['bad_batch', 'self_transfer', 'bad_amount', 'bad_batch']);
    expect(await getBalance(t.db, a)).to.equal(10);
  });

  it('concurrent batches and single transfers into one hot account add up exactly', async () => {
    const model = await wallet(t.db);
    const payers = await Promise.all(Array.from({ length: 30 }, () => wallet(t.db)));
    await Promise.all(payers.map((p) => topUp(t.db, p, 1_000)));
    const jobs: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = payers.slice(round, round + 10).map((p) => ({ idempotencyKey: `b:${round}:${p}`, fromAccountId: p, toAccountId: model, amount: 30, reason: 'donation' }));
      jobs.push(withTransaction(t.db, (trx) => transferMany(trx, batch)));
      for (const p of payers.slice(round, round + 3)) {
        jobs.push(withTransaction(t.db, (trx) => transferMoney(trx, { idempotencyKey: `s:${round}:${p}`, fromAccountId: p, toAccountId: model, amount: 11, reason: 'donation' })));
      }
    }
    await Promise.all(jobs);
    expect(await getBalance(t.db, model)).to.equal(10 * 10 * 30 + 10 * 3 * 11);
    const paid = (await Promise.all(payers.map((p) => getBalance(t.db, p)))).reduce((s, b) => s + 1_000 - b, 0);
    expect(paid).to.equal(10 * 10 * 30 + 10 * 3 * 11);
  });

  it('concurrent batches over overlapping accounts, beside single transfers, move each key once and conserve the sum', async function () {
    this.timeout(30_000);
    const wallets = await Promise.all(Array.from({ length: 12 }, () => wallet(t.db)));
    await Promise.all(wallets.map((w) => topUp(t.db, w, 500)));
    const before = await sumOfBalances(t.db);
    const pick = () => wallets[Math.floor(Math.random() * wallets.length)]!;
    const keys = Array.from({ length: 300 }, (_, i) => `hammer:${i}`);
    const plan = keys.map((key) => {
      const from = pick();
      let to = pick();
      while (to === from) to = pick();
      return { idempotencyKey: key, fromAccountId: from, toAccountId: to, amount: 1 + Math.floor(Math.random() * 90), reason: 'donation' };
    });
    // Every key goes out twice: in a batch and, for a third of them, alone at the same time too.
    const batches: Promise<BatchTransferResult[]>[] = [];
    for (let i = 0; i < plan.length; i += 15) batches.push(withTransaction(t.db, (trx) => transferMany(trx, plan.slice(i, i + 15))));
    const singles = plan.filter((_, i) => i % 3 === 0).map((input) =>
      withTransaction(t.db, (trx) => transferMoney(trx, input)).then((r): BatchTransferResult => r, (err: AppError) => ({ status: 'rejected', code: err.code as 'insufficient_funds' })),
    );
    const results = [...(await Promise.all(batches)).flat(), ...(await Promise.all(singles))];
    expect(results.filter((r) => r.status === 'applied').length).to.be.greaterThan(100);

    // Each key moved money at most once, and balances are exactly what the applied transfers say.
    const rows = (await t.db('transfers').whereIn('idempotency_key', keys).select('idempotency_key', 'from_account_id', 'to_account_id', 'amount')) as { idempotency_key: string; from_account_id: number; to_account_id: number; amount: number }[];
    expect(new Set(rows.map((r) => r.idempotency_key)).size).to.equal(rows.length);
    const expected = new Map(wallets.map((w) => [w, 500]));
    for (const r of rows) {
      expected.set(Number(r.from_account_id), expected.get(Number(r.from_account_id))! - Number(r.amount));
      expected.set(Number(r.to_account_id), expected.get(Number(r.to_account_id))! + Number(r.amount));
    }
    for (const w of wallets) {
      const balance = await getBalance(t.db, w);
      expect(balance, `wallet ${w}`).to.equal(expected.get(w));
      expect(balance).to.be.at.least(0);
    }
    expect(await sumOfBalances(t.db)).to.equal(before);
  });
});
