import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createDb, dropDatabase, ensureDatabase, migrate, type Db } from '../../../src/platform/db.ts';
import { selectRows } from '../../../src/platform/sql.ts';
import { TEST_MYSQL, uniqueName } from '../../helpers/db.ts';

describe('popug migration 0027: the assignment slots filled from the tracker users already known', function () {
  this.timeout(60_000);
  let db: Db;
  let url: string;

  before(async () => {
    url = `${TEST_MYSQL.replace(/\/$/, '')}/${uniqueName('mig')}`;
    await ensureDatabase(url);
    db = createDb(url, 2);
  });
  after(async () => {
    await db.destroy();
    await dropDatabase(url);
  });

  it('numbers the current employees 1..n, leaves the other roles out, and counts them', async () => {
    for (;;) {
      const [, names] = (await db.migrate.up()) as [number, string[]];
      if (names.includes('0026_popug_report_mails')) break;
      if (names.length === 0) throw new Error('0026 never ran');
    }
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
