import type { Knex } from 'knex';
import { binaryCollation } from '../../platform/collation.ts';

// What the tables were created with before this migration (knex's `DEFAULT CHARACTER SET utf8mb4`).
const BEFORE = 'utf8mb4_general_ci';

async function tables(knex: Knex): Promise<string[]> {
  const [rows] = (await knex.raw(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'knex\\_migrations%' ORDER BY table_name",
  )) as [{ name: string }[]];
  return rows.map((r) => r.name);
}

/**
 * Every identifier and key (uuids, ids held as strings, Idempotency-Keys, event ids, tags) compares
 * byte for byte: whole tables move to the binary NO PAD collation, and so does the database
 * default, which tables created later inherit (src/platform/db.ts keeps knex from overriding it).
 * Under utf8mb4_general_ci 'ABC' = 'abc ' — another caller's wallet or idempotency answer.
 */
export async function up(knex: Knex): Promise<void> {
  const collation = await binaryCollation(knex);
  await knex.raw(`ALTER DATABASE CHARACTER SET utf8mb4 COLLATE ${collation}`);
  for (const name of await tables(knex)) await knex.raw(`ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`, [name]);
}

// The database default stays binary: the tables rolled back to must not be recreated loosely.
export async function down(knex: Knex): Promise<void> {
  for (const name of await tables(knex)) await knex.raw(`ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE ${BEFORE}`, [name]);
}
