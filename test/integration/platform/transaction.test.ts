import { expect } from 'chai';
import { connectionOf, createDb, UNSENT_FLUSH_CHARS, withTransaction, type Db, type SqlConnection, type Trx } from '../../../src/platform/db.ts';
import { execute, executeLater, isDuplicateKey, selectRows } from '../../../src/platform/sql.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

/** withTransaction: BEGIN … COMMIT on a pooled mysql2 connection, statements sent straight to it. */
describe('transactions: commit, rollback, deadlock retry, broken sessions (real MySQL)', function () {
  this.timeout(30_000);
  let t: TestDatabase;
  // One connection: a session left in a bad state would be the next transaction's.
  let one: Db;
  before(async () => {
    t = await createTestDatabase('ctx');
    one = createDb(t.url, 1, { quiet: true });
    await t.db.schema.createTable('tx_probe', (table) => {
      table.integer('id').primary();
      table.integer('v').notNullable();
    });
  });
  after(async () => {
    await one.destroy();
    await t.drop();
  });
  beforeEach(() => t.db('tx_probe').delete());
  const rows = () => selectRows<{ id: number; v: number }>(t.db, 'SELECT id, v FROM tx_probe ORDER BY id');

  it('commits what the function wrote and gives back what it returned', async () => {
    const out = await withTransaction(one, async (trx) => {
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10), (2, 20)');
      await trx('tx_probe').where({ id: 2 }).update({ v: 21 });
      return (await selectRows<{ n: number }>(trx, 'SELECT COUNT(*) AS n FROM tx_probe'))[0]!.n;
    });
    expect(out).to.equal(2);
    expect(await rows()).to.deep.equal([{ id: 1, v: 10 }, { id: 2, v: 21 }]);
  });

  it('rolls back everything when the function throws, and the session serves the next transaction clean', async () => {
    const failed = await withTransaction(one, async (trx) => {
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10)');
      await trx.raw('INSERT INTO tx_probe (id, v) VALUES (2, 20)');
      throw new Error('changed my mind');
    }).catch((err: Error) => err.message);
    expect(failed).to.equal('changed my mind');
    expect(await rows()).to.deep.equal([]);
    // A statement error inside is the function's error too; no transaction is left open on the session.
    const dup = await withTransaction(one, async (trx) => {
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (3, 30)');
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (3, 31)');
    }).catch((err: { code?: string }) => err.code);
    expect(dup).to.equal('ER_DUP_ENTRY');
    await withTransaction(one, (trx) => execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (4, 40)'));
    expect(await rows()).to.deep.equal([{ id: 4, v: 40 }]);
  });

  it('refuses an undefined binding before sending anything', async () => {
    const err = await withTransaction(one, (trx) => execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (?, ?)', [5, undefined as unknown as number])).catch((e: Error) => e.message);
    expect(err).to.match(/undefined binding/);
    expect(await rows()).to.deep.equal([]);
  });

  it('refuses a statement on a transaction that has finished (it would run in another session)', async () => {
    let kept: Trx | undefined;
    await withTransaction(one, async (trx) => {
      kept = trx;
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10)');
    });
    for (const late of [() => execute(kept!, 'INSERT INTO tx_probe (id, v) VALUES (2, 20)'), async () => kept!('tx_probe').insert({ id: 3, v: 30 }), async () => kept!.raw('DELETE FROM tx_probe')]) {
      expect(await late().then(() => 'ran', (e: Error) => e.message)).to.equal('this transaction has already finished');
    }
    expect(await rows()).to.deep.equal([{ id: 1, v: 10 }]);
  });

  for (const [how, write] of [
    ['sent at once', execute],
    ['deferred to the COMMIT', executeLater],
  ] as const) {
    it(`runs a deadlocked transaction again from the top: both commit, each effect once (second write ${how})`, async () => {
      await t.db('tx_probe').insert([{ id: 1, v: 0 }, { id: 2, v: 0 }]);
      const two = createDb(t.url, 2);
      let runs = 0;
      let bothLockedFirst!: () => void;
      const firstLocks = new Promise<void>((resolve) => {
        let n = 0;
        bothLockedFirst = () => ++n === 2 && resolve();
      });
      // Each locks one row, waits until the other has locked its own, then asks for the other's: a deadlock.
      const cross = (first: number, second: number) =>
        withTransaction(two, async (trx) => {
          runs++;
          await execute(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = ?', [first]);
          if (runs <= 2) {
            bothLockedFirst();
            await firstLocks;
          }
          await write(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = ?', [second]);
        });
      try {
        await Promise.all([cross(1, 2), cross(2, 1)]);
      } finally {
        await two.destroy();
      }
      expect(runs).to.equal(3);
      expect(await rows()).to.deep.equal([{ id: 1, v: 2 }, { id: 2, v: 2 }]);
    });
  }

  it('drops a session that broke mid-transaction: the next transaction gets a working one', async () => {
    const err = await withTransaction(one, async (trx) => {
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10)');
      const [me] = await selectRows<{ id: number }>(trx, 'SELECT CONNECTION_ID() AS id');
      // Another session kills this one: its next statement and the ROLLBACK fail.
      await t.db.raw(`KILL CONNECTION ${me!.id}`);
      await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (2, 20)');
    }).catch((e: { fatal?: boolean }) => e);
    expect((err as { fatal?: boolean }).fatal).to.equal(true);
    await withTransaction(one, (trx) => execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (3, 30)'));
    expect(await rows()).to.deep.equal([{ id: 3, v: 30 }]);
  });

  /** Counts the queries the transaction's session sends from here on. */
  function countQueries(trx: Trx): { sent: string[] } {
    const conn = connectionOf(trx) as SqlConnection;
    const seen = { sent: [] as string[] };
    const query = conn.query.bind(conn);
    conn.query = (sql, bindings, cb) => {
      seen.sent.push(sql);
      return query(sql, bindings, cb);
    };
    // Put back at the end of the test's transaction: the pool hands the session on.
    restores.push(() => (conn.query = query));
    return seen;
  }
  const restores: (() => void)[] = [];
  afterEach(() => restores.splice(0).forEach((restore) => restore()));

  describe('BEGIN and deferred writes go out with the next statement', () => {
    it('sends BEGIN, two deferred writes and COMMIT as one query, and commits them in order', async () => {
      let sent: string[] = [];
      await withTransaction(one, async (trx) => {
        sent = countQueries(trx).sent;
        await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (?, ?)', [1, 10]);
        await executeLater(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = ?', [1]);
      });
      expect(sent).to.have.length(1);
      expect(sent[0]).to.match(/^BEGIN;\nINSERT .*;\nUPDATE .*;\nCOMMIT$/s);
      expect(await rows()).to.deep.equal([{ id: 1, v: 11 }]);
    });

    it('a statement after deferred writes goes out with them and sees them; a knex statement runs after them', async () => {
      let sent: string[] = [];
      const seen = await withTransaction(one, async (trx) => {
        sent = countQueries(trx).sent;
        await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10), (2, 20)');
        const [n] = await selectRows<{ n: number }>(trx, 'SELECT COUNT(*) AS n FROM tx_probe');
        await executeLater(trx, 'DELETE FROM tx_probe WHERE id = 1');
        const viaKnex = (await trx('tx_probe').select('id')) as { id: number }[];
        return { n: n!.n, viaKnex: viaKnex.map((r) => r.id) };
      });
      expect(seen).to.deep.equal({ n: 2, viaKnex: [2] });
      // BEGIN + INSERT + SELECT; the DELETE ahead of knex's SELECT; knex's SELECT; COMMIT.
      expect(sent).to.have.length(4);
      expect(await rows()).to.deep.equal([{ id: 2, v: 20 }]);
    });

    it('a deferred write that fails fails the transaction where it went out, and nothing of it stays', async () => {
      await t.db('tx_probe').insert({ id: 1, v: 0 });
      for (const end of ['at the next statement', 'at the commit'] as const) {
        const err = await withTransaction(one, async (trx) => {
          await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (2, 20)');
          await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 10)');
          if (end === 'at the next statement') await selectRows(trx, 'SELECT 1');
        }).catch((e: { code?: string }) => e.code);
        expect(err, end).to.equal('ER_DUP_ENTRY');
        expect(await rows(), end).to.deep.equal([{ id: 1, v: 0 }]);
      }
      // The session is clean: the next transaction on it commits alone.
      await withTransaction(one, (trx) => executeLater(trx, 'UPDATE tx_probe SET v = 5 WHERE id = 1'));
      expect(await rows()).to.deep.equal([{ id: 1, v: 5 }]);
    });

    it('sends deferred writes ahead once they grow large: no query outgrows the server\'s packet limit', async () => {
      let sent: string[] = [];
      const big = 'x'.repeat(Math.ceil(UNSENT_FLUSH_CHARS / 3));
      await withTransaction(one, async (trx) => {
        sent = countQueries(trx).sent;
        await executeLater(trx, 'CREATE TEMPORARY TABLE tx_big (id INT PRIMARY KEY, s LONGTEXT)');
        for (let id = 1; id <= 7; id++) await executeLater(trx, 'INSERT INTO tx_big (id, s) VALUES (?, ?)', [id, big]);
        const [stored] = await selectRows<{ n: number; chars: number }>(trx, 'SELECT COUNT(*) AS n, SUM(CHAR_LENGTH(s)) AS chars FROM tx_big');
        expect(stored).to.deep.equal({ n: 7, chars: 7 * big.length });
        await execute(trx, 'DROP TEMPORARY TABLE tx_big');
      });
      expect(sent.length).to.be.greaterThan(2);
      for (const query of sent) expect(query.length).to.be.below(2 * UNSENT_FLUSH_CHARS);
    });

    it("a statement's own error can be caught and the transaction goes on; a deferred write's error sent with it cannot", async () => {
      await t.db('tx_probe').insert({ id: 1, v: 0 });
      const alreadyThere = (e: unknown) => {
        if (!isDuplicateKey(e)) throw e;
      };
      // Its own duplicate key, taken for "already there": the transaction commits the rest.
      await withTransaction(one, async (trx) => {
        await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (5, 50)');
        await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 11)').catch(alreadyThere);
        await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (6, 60)');
      });
      expect(await rows()).to.deep.equal([{ id: 1, v: 0 }, { id: 5, v: 50 }, { id: 6, v: 60 }]);
      // A deferred write's duplicate key, sent with that statement: the caller's catch does not
      // keep the transaction alive without the write.
      const err = await withTransaction(one, async (trx) => {
        await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (1, 12)');
        await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (7, 70)').catch(alreadyThere);
        await execute(trx, 'INSERT INTO tx_probe (id, v) VALUES (8, 80)');
      }).catch((e: { code?: string }) => e.code);
      expect(err).to.equal('ER_DUP_ENTRY');
      expect(await rows()).to.deep.equal([{ id: 1, v: 0 }, { id: 5, v: 50 }, { id: 6, v: 60 }]);
    });

    it('a knex statement behind deferred writes that deadlocked does not run (it would commit on its own)', async () => {
      await t.db('tx_probe').insert([{ id: 1, v: 0 }, { id: 2, v: 0 }]);
      const two = createDb(t.url, 2);
      let lightRuns = 0;
      let heavyRuns = 0;
      let bothLockedFirst!: () => void;
      const firstLocks = new Promise<void>((resolve) => {
        let n = 0;
        bothLockedFirst = () => ++n === 2 && resolve();
      });
      try {
        await Promise.all([
          // The light one (one row changed): InnoDB makes it the deadlock's victim.
          withTransaction(two, async (trx) => {
            lightRuns++;
            await execute(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = 1');
            if (lightRuns === 1) {
              bothLockedFirst();
              await firstLocks;
            }
            await executeLater(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = 2');
            // Sends the deferred UPDATE ahead of itself; that UPDATE deadlocks.
            await trx('tx_probe').insert({ id: 100 + lightRuns, v: lightRuns });
          }),
          withTransaction(two, async (trx) => {
            heavyRuns++;
            await execute(trx, `INSERT INTO tx_probe (id, v) VALUES ${Array.from({ length: 50 }, (_, i) => `(${1000 + i}, 0)`).join(', ')}`);
            await execute(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = 2');
            if (heavyRuns === 1) {
              bothLockedFirst();
              await firstLocks;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            await execute(trx, 'UPDATE tx_probe SET v = v + 1 WHERE id = 1');
          }),
        ]);
      } finally {
        await two.destroy();
      }
      expect({ lightRuns, heavyRuns }).to.deep.equal({ lightRuns: 2, heavyRuns: 1 });
      // Only the second run's row: the first run's INSERT was never sent.
      expect(await selectRows(t.db, 'SELECT id, v FROM tx_probe WHERE id BETWEEN 100 AND 999 ORDER BY id')).to.deep.equal([{ id: 102, v: 2 }]);
      expect(await selectRows(t.db, 'SELECT id, v FROM tx_probe WHERE id < 100 ORDER BY id')).to.deep.equal([
        { id: 1, v: 2 },
        { id: 2, v: 2 },
      ]);
    });

    it('a transaction that sent nothing sends nothing, not even BEGIN', async () => {
      let sent: string[] = [];
      const out = await withTransaction(one, async (trx) => {
        sent = countQueries(trx).sent;
        return 'nothing to do';
      });
      expect(out).to.equal('nothing to do');
      expect(sent).to.deep.equal([]);
    });

    it('asks for its isolation level in the same query as its first statement, and runs at it', async () => {
      let sent: string[] = [];
      const counts = await withTransaction(
        one,
        async (trx) => {
          sent = countQueries(trx).sent;
          const count = async () => (await selectRows<{ n: number }>(trx, 'SELECT COUNT(*) AS n FROM tx_probe'))[0]!.n;
          const before = await count();
          // Committed by another session meanwhile: READ COMMITTED sees it, a REPEATABLE READ snapshot would not.
          await t.db('tx_probe').insert({ id: 1, v: 10 });
          return [before, await count()];
        },
        { isolationLevel: 'read committed' },
      );
      expect(sent[0]).to.match(/^SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\nBEGIN;\nSELECT/);
      expect(counts).to.deep.equal([0, 1]);
    });

    it('stores quotes, semicolons and comment marks in values verbatim (every statement is escaped on its own)', async () => {
      const nasty = "x'); DELETE FROM tx_probe; -- \\'; /* ? */";
      await withTransaction(one, async (trx) => {
        await executeLater(trx, 'CREATE TEMPORARY TABLE tx_text (s TEXT)');
        await executeLater(trx, 'INSERT INTO tx_text (s) VALUES (?), (?)', [nasty, '?']);
        await executeLater(trx, 'INSERT INTO tx_probe (id, v) VALUES (?, ?)', [7, 70]);
        const stored = await selectRows<{ s: string }>(trx, 'SELECT s FROM tx_text ORDER BY s');
        expect(stored.map((r) => r.s).sort()).to.deep.equal([nasty, '?'].sort());
        await execute(trx, 'DROP TEMPORARY TABLE tx_text');
      });
      expect(await rows()).to.deep.equal([{ id: 7, v: 70 }]);
    });
  });
});
