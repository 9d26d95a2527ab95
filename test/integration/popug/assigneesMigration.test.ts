import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../../src/platform/db.ts';
import { selectRows } from '../../../src/platform/sql.ts';
import { createTestDatabase, migrateUpTo, type TestDatabase } from '../../helpers/db.ts';

describe('popug migration 0027: the assignment slots filled from the tracker users already known', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  before(async () => (t = await createTestDatabase('mig', { migrated: false, pool: 2 })));
  after(() => t.drop());

  it('numbers the current employees 1..n, leaves the other roles out, and counts them', async () => {
    const db = t.db;
    await migrateUpTo(db, '0026_popug_report_mails');
    const employees = Array.from({ length: 5 }, () => randomUUID());
    for (const id of employees) await db('popug_tracker_users').insert({ user_id: id, role: 'employee', version: 1 });
    await db('popug_tracker_users').insert({ user_id: randomUUID(), role: 'manager', version: 2 });
    await migrate(db);
    const slots = await selectRows<{ slot: number; user_id: string }>(db, 'SELECT slot, user_id FROM popug_assignees ORDER BY slot');
    expect(slots.map((s) => s.slot)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(slots.map((s) => s.user_id).sort()).to.deep.equal([...employees].sort());
    expect(await selectRows(db, 'SELECT id, n FROM popug_assignee_count')).to.deep.equal([{ id: 1, n: 5 }]);
  });
});
