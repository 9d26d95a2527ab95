import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../../src/platform/db.ts';
import { selectRows } from '../../../src/platform/sql.ts';
import { createTestDatabase, migrateDownThrough, type TestDatabase } from '../../helpers/db.ts';

describe('popug migration 0028: the payout record is its audit entry; down fills popug_payouts from the entries', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  before(async () => (t = await createTestDatabase('mig', { migrated: false, pool: 2 })));
  after(() => t.drop());

  it('drops the table, and brings it back with a row per payout entry (fees and rewards left out)', async () => {
    const db = t.db;
    await migrate(db);
    expect(await db.schema.hasTable('popug_payouts')).to.equal(false);
    const user = randomUUID();
    const at = new Date('2026-12-01T23:00:00.000Z');
    const entry = (id: string, kind: string, amount: number) => ({ entry_id: id.padEnd(64, '0'), user_id: user, day: '2026-12-01', kind, task_id: null, amount, description: kind, at, transfer_id: 1 });
    await db('popug_entries').insert([entry('a', 'reward', 2500), entry('b', 'payout', -2500)]);
    await migrateDownThrough(db, '0028_popug_payouts_drop');
    const rows = await selectRows<{ user_id: string; day: string; amount: unknown; entry_id: string; paid_at: Date }>(db, "SELECT user_id, DATE_FORMAT(day, '%Y-%m-%d') AS day, amount, entry_id, paid_at FROM popug_payouts");
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.include({ user_id: user, day: '2026-12-01', entry_id: 'b'.padEnd(64, '0') });
    expect(Number(rows[0]!.amount)).to.equal(2500);
    expect(rows[0]!.paid_at.toISOString()).to.equal(at.toISOString());
    await migrate(db);
    expect(await db.schema.hasTable('popug_payouts')).to.equal(false);
  });
});
