import type { Knex } from 'knex';

/**
 * Identifiers compare byte for byte: binary and NO PAD, so 'abc' ≠ 'ABC' and 'k' ≠ 'k '.
 * utf8mb4_bin itself pads (trailing spaces are ignored); MariaDB and MySQL 8 name the NO PAD one
 * differently. In preference order; the first the server has is the database default.
 */
const BINARY_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];

/** The exact-comparison collation of this server (see BINARY_COLLATIONS). */
export async function binaryCollation(db: Knex): Promise<string> {
  const [rows] = (await db.raw(`SHOW COLLATION WHERE Collation IN (${BINARY_COLLATIONS.map(() => '?').join(', ')})`, BINARY_COLLATIONS)) as [{ Collation: string }[]];
  const have = new Set(rows.map((r) => r.Collation));
  return BINARY_COLLATIONS.find((c) => have.has(c)) ?? 'utf8mb4_bin';
}
