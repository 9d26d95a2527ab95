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

/**
 * A fresh database, migrated unless `migrated: false` (a migration test takes it step by step:
 * migrateUpTo, migrateDownThrough); drop() destroys the pool and the database.
 */
export async function createTestDatabase(stem = 'ct', opts: { migrated?: boolean; pool?: number } = {}): Promise<TestDatabase> {
  const url = `${TEST_MYSQL.replace(/\/$/, '')}/${uniqueName(stem)}`;
  await ensureDatabase(url);
  const db = createDb(url, opts.pool ?? 40);
  if (opts.migrated ?? true) await migrate(db);
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}

/** Runs the migrations one at a time until `name` has run. */
export async function migrateUpTo(db: Db, name: string): Promise<void> {
  for (;;) {
    const [, names] = (await db.migrate.up()) as [number, string[]];
    if (names.includes(name)) return;
    if (names.length === 0) throw new Error(`${name} never ran`);
  }
}

/** Rolls the migrations back one at a time (the latest first) until `name` has been rolled back. */
export async function migrateDownThrough(db: Db, name: string): Promise<void> {
  for (;;) {
    const [, names] = (await db.migrate.down()) as [number, string[]];
    if (names.includes(name)) return;
    if (names.length === 0) throw new Error(`${name} was never rolled back`);
  }
}
