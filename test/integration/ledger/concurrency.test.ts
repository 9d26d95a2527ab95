import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../src/platform/errors.ts';
import { withTransaction, type Db, type Trx } from '../../../src/platform/db.ts';
import {
  getBalance,
  transferMoney,
  type TransferInput,
  type TransferResult,
} from '../../../src/domain/ledger/index.ts';
import { topUp, useLedgerDatabase, wallet } from './ledgerKit.ts';

/** Runs a transfer through withTransaction, counting how many attempts it took. */
function attempt(db: Db, input: TransferInput, stats: { runs: number }): Promise<TransferResult | string> {
  return withTransaction(db, (trx: Trx) => {
    stats.runs++;
    return transferMoney(trx, input);
  }).catch((err: unknown) => {
    if (err instanceof AppError) return err.code;
    throw err;
  });
}

describe('ledger under concurrency (MySQL)', () => {
  const t = useLedgerDatabase('ledger_concurrency');

  it('50 concurrent transfers of 10 from a balance of 100: exactly 10 applied, 40 insufficient_funds', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100);
    const stats = { runs: 0 };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        attempt(t.db, { idempotencyKey: `spend:${a}:${i}`, fromAccountId: a, toAccountId: b, amount: 10, reason: 'donation' }, stats),
      ),
    );
    const applied = results.filter((r) => typeof r !== 'string' && r.status === 'applied');
    expect(applied).to.have.length(10);
    expect(results.filter((r) => r === 'insufficient_funds')).to.have.length(40);
    expect(await getBalance(t.db, a)).to.equal(0);
    expect(await getBalance(t.db, b)).to.equal(100);
    // Serialised by the lock: the payer's balances after each applied transfer are 90, 80, ..., 0.
    const after = applied.map((r) => (r as { fromBalance: number }).fromBalance).sort((x, y) => y - x);
    expect(after).to.deep.equal([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    const transfers = await t.db('transfers').where({ from_account_id: a }).count({ n: '*' });
    expect(Number(transfers[0]?.n)).to.equal(10);
  });

  it('200 transfers A→B and 200 B→A in parallel all complete, no deadlock escapes', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 100_000);
    await topUp(t.db, b, 100_000);
    const stats = { runs: 0 };
    const jobs: Promise<TransferResult | string>[] = [];
    for (let i = 0; i < 200; i++) {
      jobs.push(attempt(t.db, { idempotencyKey: `ab:${a}:${i}`, fromAccountId: a, toAccountId: b, amount: 7, reason: 'test' }, stats));
      jobs.push(attempt(t.db, { idempotencyKey: `ba:${b}:${i}`, fromAccountId: b, toAccountId: a, amount: 3, reason: 'test' }, stats));
    }
    const results = await Promise.all(jobs);
    expect(results.filter((r) => typeof r !== 'string' && r.status === 'applied')).to.have.length(400);
    expect(await getBalance(t.db, a)).to.equal(100_000 - 200 * 7 + 200 * 3);
    expect(await getBalance(t.db, b)).to.equal(100_000 + 200 * 7 - 200 * 3);
    // Locking in id order means the two directions never deadlock, so nothing had to be retried.
    expect(stats.runs).to.equal(400);
  });

  it('the same idempotency key applied by 20 transactions at once moves money once', async () => {
    const [a, b] = [await wallet(t.db), await wallet(t.db)];
    await topUp(t.db, a, 1_000);
    const input: TransferInput = { idempotencyKey: `once:${randomUUID()}`, fromAccountId: a, toAccountId: b, amount: 300, reason: 'donation' };
    const stats = { runs: 0 };
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(t.db, input, stats)));
    const applied = results.filter((r) => typeof r !== 'string' && r.status === 'applied') as { transferId: number }[];
    const duplicates = results.filter((r) => typeof r !== 'string' && r.status === 'duplicate') as { transferId: number }[];
    expect(applied).to.have.length(1);
    expect(duplicates).to.have.length(19);
    expect(new Set(duplicates.map((d) => d.transferId))).to.deep.equal(new Set([applied[0]?.transferId]));
    expect(await getBalance(t.db, a)).to.equal(700);
    expect(await getBalance(t.db, b)).to.equal(300);
    const rows = await t.db('transfers').where({ idempotency_key: input.idempotencyKey }).select('id');
    expect(rows).to.have.length(1);
    const entries = await t.db('ledger_entries').where({ transfer_id: rows[0].id }).select('amount');
    expect(entries.map((e: { amount: number }) => e.amount).sort((x, y) => x - y)).to.deep.equal([-300, 300]);
  });

  it('a hot payee receiving from 40 payers at once ends with the exact total', async () => {
    const hot = await wallet(t.db);
    const payers = await Promise.all(Array.from({ length: 40 }, () => wallet(t.db)));
    await Promise.all(payers.map((p) => topUp(t.db, p, 500)));
    const stats = { runs: 0 };
    const results = await Promise.all(
      payers.flatMap((p) =>
        [1, 2, 3].map((n) => attempt(t.db, { idempotencyKey: `hot:${p}:${n}`, fromAccountId: p, toAccountId: hot, amount: 100 * n, reason: 'donation' }, stats)),
      ),
    );
    // 100 + 200 + 300 = 600 > 500: per payer, at least one of the three is refused, whatever the order.
    const applied = results.filter((r) => typeof r !== 'string' && r.status === 'applied') as { fromBalance: number; toBalance: number }[];
    const refused = results.filter((r) => r === 'insufficient_funds');
    expect(applied.length + refused.length).to.equal(120);
    expect(refused.length).to.be.at.least(40);
    const total = (await Promise.all(payers.map((p) => getBalance(t.db, p)))).reduce((s, x) => s + 500 - x, 0);
    expect(await getBalance(t.db, hot)).to.equal(total);
    expect(Math.max(...applied.map((r) => r.toBalance))).to.equal(total);
  });
});
