import { expect } from 'chai';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../src/platform/errors.ts';
import { withTransaction, type Db } from '../../../src/platform/db.ts';
import {
  checkLedger,
  ensureAccount,
  getBalance,
  isLedgerSound,
  systemAccount,
  transferMany,
  transferMoney,
  type BatchTransferResult,
} from '../../../src/domain/ledger/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const WALLETS = 6;
const KEYS = 40; // few keys, so some operations reuse one: duplicates and conflicts happen

type Op =
  | { type: 'transfer'; from: number; to: number; amount: number; key: number; abort: boolean }
  | { type: 'topUp'; to: number; amount: number; key: number }
  | { type: 'batch'; items: { from: number; to: number; amount: number; key: number }[] };

const wallet = fc.nat({ max: WALLETS - 1 });
const key = fc.nat({ max: KEYS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('transfer' as const), from: wallet, to: wallet, amount: fc.integer({ min: 1, max: 400 }), key, abort: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('topUp' as const), to: wallet, amount: fc.integer({ min: 1, max: 500 }), key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('batch' as const),
      // Payees repeat often (six wallets): batches both fan in to one account and spread over many.
      items: fc.uniqueArray(fc.record({ from: wallet, to: wallet, amount: fc.integer({ min: 1, max: 200 }), key }), { minLength: 1, maxLength: 6, selector: (i) => i.key }),
    }),
  },
);

/** Each wallet's opening balance. */
const seedArb = fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: WALLETS, maxLength: WALLETS });

/** What one operation reported: the money it says it moved, per (run-local) account id. */
interface Moved {
  key: string;
  status: 'applied' | 'duplicate' | 'refused' | 'aborted';
  transferId?: number;
  deltas: [number, number][];
}

class Abort extends Error {}

async function runOp(db: Db, ids: number[], cash: number, run: string, op: Op): Promise<Moved[]> {
  // Transfers and batch items share one key space, so a key may meet both functions.
  const k = (n: number, space: string) => `${run}:${space}:${n}`;
  if (op.type === 'batch') {
    const items = op.items
      .filter((i) => i.from !== i.to)
      .map((i) => ({ idempotencyKey: k(i.key, 'x'), fromAccountId: ids[i.from] as number, toAccountId: ids[i.to] as number, amount: i.amount, reason: 'donation' }));
    if (items.length === 0) return [];
    const results: BatchTransferResult[] = await withTransaction(db, (trx) => transferMany(trx, items));
    return results.map((r, i) => {
      const item = items[i]!;
      if (r.status === 'rejected') return { key: item.idempotencyKey, status: 'refused', deltas: [] };
      const deltas: [number, number][] = r.status === 'applied' ? [[item.fromAccountId, -item.amount], [item.toAccountId, item.amount]] : [];
      return { key: item.idempotencyKey, status: r.status, transferId: r.transferId, deltas };
    });
  }
  const input =
    op.type === 'topUp'
      ? { idempotencyKey: k(op.key, 'u'), fromAccountId: cash, toAccountId: ids[op.to] as number, amount: op.amount, reason: 'top_up' }
      : { idempotencyKey: k(op.key, 'x'), fromAccountId: ids[op.from] as number, toAccountId: ids[op.to] as number, amount: op.amount, reason: 'donation' };
  if (input.fromAccountId === input.toAccountId) return [];
  try {
    const r = await withTransaction(db, async (trx) => {
      const result = await transferMoney(trx, input);
      // The caller gives up after the transfer: the rollback must take all of it back.
      if (op.type === 'transfer' && op.abort && result.status === 'applied') throw new Abort();
      return result;
    });
    const deltas: [number, number][] = r.status === 'applied' ? [[input.fromAccountId, -input.amount], [input.toAccountId, input.amount]] : [];
    return [{ key: input.idempotencyKey, status: r.status, transferId: r.transferId, deltas }];
  } catch (err) {
    if (err instanceof Abort) return [{ key: input.idempotencyKey, status: 'aborted', deltas: [] }];
    if (err instanceof AppError && (err.code === 'insufficient_funds' || err.code === 'idempotency_conflict')) {
      return [{ key: input.idempotencyKey, status: 'refused', deltas: [] }];
    }
    throw err;
  }
}

describe('ledger property: random concurrent transfers (MySQL)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('ledger_property');
  });
  after(async () => {
    await t?.drop();
  });

  it('keeps every invariant after any mix of concurrent transfers, top-ups, batches and aborts', async function () {
    this.timeout(60_000);
    let runs = 0;
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(seedArb, fc.array(opArb, { minLength: 10, maxLength: 40, size: 'max' }), async (seed, ops) => {
        const run = `r${++runs}-${randomUUID().slice(0, 8)}`;
        const { ids, cash } = await withTransaction(t.db, async (trx) => {
          const accounts = [];
          for (let i = 0; i < WALLETS; i++) accounts.push(await ensureAccount(trx, { ownerType: 'client', ownerId: `${run}-${i}`, kind: 'wallet' }));
          return { ids: accounts.map((a) => a.id), cash: (await systemAccount(trx, 'top_up')).id };
        });
        // Some money to start with, so most operations have something to move.
        const start = await Promise.all(
          ids.map((id, i) =>
            withTransaction(t.db, (trx) =>
              transferMoney(trx, { idempotencyKey: `${run}:seed:${i}`, fromAccountId: cash, toAccountId: id, amount: seed[i] ?? 0, reason: 'top_up' }),
            ),
          ),
        );
        expect(start.map((r) => r.status)).to.deep.equal(ids.map(() => 'applied'));

        // Real concurrency: every operation in flight at once, each in its own transaction.
        const moved = (await Promise.all(ops.map((op) => runOp(t.db, ids, cash, run, op)))).flat();

        // Each account holds exactly what the answers say moved, and no wallet is below zero.
        const expected = new Map(ids.map((id, i) => [id, seed[i] ?? 0]));
        for (const m of moved) for (const [id, d] of m.deltas) if (expected.has(id)) expected.set(id, (expected.get(id) ?? 0) + d);
        for (const id of ids) {
          const balance = await getBalance(t.db, id);
          expect(balance, `account ${id}`).to.equal(expected.get(id));
          expect(balance).to.be.at.least(0);
        }
        // A key moved money at most once; every duplicate points at the transfer that did.
        const byKey = new Map<string, Moved[]>();
        for (const m of moved) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
        for (const [k, ms] of byKey) {
          const done = ms.filter((m) => m.status === 'applied');
          expect(done.length, k).to.be.at.most(1);
          const rows = await t.db('transfers').where({ idempotency_key: k }).select('id');
          expect(rows.map((r: { id: number }) => r.id), k).to.deep.equal(done.map((m) => m.transferId));
          for (const dup of ms.filter((m) => m.status === 'duplicate')) expect(dup.transferId, k).to.equal(done[0]?.transferId);
        }
        for (const m of moved) tally[m.status] = (tally[m.status] ?? 0) + 1;

        const report = await checkLedger(t.db);
        expect(report, JSON.stringify(report)).to.satisfy(isLedgerSound);
      }),
      // The database carries state from run to run, so shrinking a failure would mislead: report the first.
      { numRuns: 30, endOnFailure: true },
    );
    // The property must have exercised real transfers, not only refusals.
    expect(tally.applied ?? 0).to.be.greaterThan(250);
    expect(tally.refused ?? 0).to.be.greaterThan(0);
    expect(tally.aborted ?? 0).to.be.greaterThan(0);
  });
});
