import { createDb, ensureDatabase, migrate } from '../../../src/platform/db.ts';

/** Creates the bench's database when missing and takes every migration, on a pool of its own it closes. */
export async function migratedDatabase(url: string): Promise<void> {
  await ensureDatabase(url);
  const db = createDb(url, 2);
  try {
    await migrate(db);
  } finally {
    await db.destroy();
  }
}
