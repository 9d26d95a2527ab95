import { randomBytes } from 'node:crypto';
import { createDb, dropDatabase, ensureDatabase, migrate, type Db } from '../../src/platform/db.ts';

/** The MySQL server tests use; each test file gets a database of its own on it. */
export const TEST_MYSQL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database; drop() destroys the pool and the database. */
export async function createTestDatabase(stem = 'ct'): Promise<TestDatabase> {
  const url = `${TEST_MYSQL.replace(/\/$/, '')}/${uniqueName(stem)}`;
  await ensureDatabase(url);
  const db = createDb(url, 40);
  await migrate(db);
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
