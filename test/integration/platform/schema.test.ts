import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Db } from '../../../src/platform/db.ts';
import { migrate } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const SNAPSHOT = 'test/snapshots/schema.sql';

async function schemaOf(db: Db): Promise<string> {
  const [tables] = (await db.raw("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT LIKE 'knex_migrations%' ORDER BY table_name")) as [{ name: string }[]];
  const parts: string[] = [];
  for (const { name } of tables) {
    const [[row]] = (await db.raw('SHOW CREATE TABLE ??', [name])) as [[Record<string, string>]];
    parts.push(`${row['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '')};`);
  }
  return `${parts.join('\n\n')}\n`;
}

/**
 * The schema the migrations build is committed, so a change to it shows up in review.
 * After changing a migration on purpose: `npm run schema:snapshot`.
 */
describe('database schema', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  before(async () => (t = await createTestDatabase('cschema')));
  after(() => t.drop());

  it('matches the committed snapshot', async () => {
    const schema = await schemaOf(t.db);
    if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(SNAPSHOT, schema);
    expect(existsSync(SNAPSHOT), `${SNAPSHOT} is missing: run npm run schema:snapshot`).to.equal(true);
    expect(schema).to.equal(readFileSync(SNAPSHOT, 'utf8'));
  });

  it('rolls every migration back cleanly and forward again to the same schema', async () => {
    const before = await schemaOf(t.db);
    await t.db.migrate.rollback(undefined, true);
    expect(await schemaOf(t.db)).to.equal('\n');
    await migrate(t.db);
    expect(await schemaOf(t.db)).to.equal(before);
  });
});
