import { expect } from 'chai';
import { GroupCommit } from '../../../src/platform/groupCommit.ts';
import { withTransaction, type Transactor, type Trx } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe('group commit: writes that arrive together share a transaction (real MySQL)', () => {
  let t: TestDatabase;
  const transactions: number[] = [];

  before(async () => {
    t = await createTestDatabase('group_commit');
    await t.db.schema.createTable('gc_rows', (table) => {
      table.increments('id');
      table.integer('n').notNullable().unique();
    });
  });
  after(async () => t?.drop());
  beforeEach(async () => {
    transactions.length = 0;
    await t.db('gc_rows').delete();
  });

  const inTransaction: Transactor = (fn) => withTransaction(t.db, fn);

  /** Inserts each n; the write refuses a batch holding n < 0, as a domain rule would. */
  const write = async (trx: Trx, items: readonly number[]): Promise<number[]> => {
    transactions.push(items.length);
    if (items.some((n) => n < 0)) throw new Error(`negative: ${items.filter((n) => n < 0).join(',')}`);
    await trx('gc_rows').insert(items.map((n) => ({ n })));
    return items.map((n) => n * 10);
  };

  it('writes a lone item at once, alone', async () => {
    const commit = new GroupCommit(inTransaction, write, { concurrency: 2, maxBatch: 50 });
    expect(await commit.submit(7, undefined)).to.equal(70);
    expect(transactions).to.deep.equal([1]);
  });

  it('batches what arrives while transactions run, answers each caller with its own result, in fewer transactions', async () => {
    const commit = new GroupCommit(inTransaction, write, { concurrency: 2, maxBatch: 50 });
    const results = await Promise.all(Array.from({ length: 300 }, (_, n) => commit.submit(n, undefined)));
    expect(results).to.deep.equal(Array.from({ length: 300 }, (_, n) => n * 10));
    const rows = (await t.db('gc_rows').orderBy('n').select('n')) as { n: number }[];
    expect(rows.map((r) => r.n)).to.deep.equal(Array.from({ length: 300 }, (_, n) => n));
    expect(transactions.reduce((a, b) => a + b, 0)).to.equal(300);
    expect(transactions.length).to.be.at.most(2 + Math.ceil(298 / 50) + 2);
    expect(Math.max(...transactions)).to.equal(50);
  });

  it('fails only the bad write of a failed batch: the others are retried alone and commit', async () => {
    const commit = new GroupCommit(inTransaction, write, { concurrency: 1, maxBatch: 50 });
    const outcomes = await Promise.allSettled([1, 2, -3, 4, 5].map((n) => commit.submit(n, undefined)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(((outcomes[2] as PromiseRejectedResult).reason as Error).message).to.equal('negative: -3');
    const rows = (await t.db('gc_rows').orderBy('n').select('n')) as { n: number }[];
    expect(rows.map((r) => r.n)).to.deep.equal([1, 2, 4, 5]);
  });

  it('rolls a failed batch back whole before the retries: no write lands twice', async () => {
    const commit = new GroupCommit(inTransaction, write, { concurrency: 1, maxBatch: 50 });
    await commit.submit(1, undefined);
    // 1 is taken: a batch holding it fails on the unique key after inserting nothing that stays.
    const outcomes = await Promise.allSettled([2, 1, 3].map((n) => commit.submit(n, undefined)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    const rows = (await t.db('gc_rows').orderBy('n').select('n')) as { n: number }[];
    expect(rows.map((r) => r.n)).to.deep.equal([1, 2, 3]);
  });
});
