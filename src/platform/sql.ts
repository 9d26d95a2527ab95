import type { Knex } from 'knex';
import type { Db, Trx } from './db.ts';

/** Anything that can run a query: the pool or a transaction. */
export type Conn = Db | Trx;

interface WriteResult {
  affectedRows: number;
  insertId: number;
}

/** Runs a SELECT (or a statement with RETURNING) through knex raw and gives back its rows. */
export async function selectRows<T>(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  // mysql2 answers raw queries with [rows, fields].
  const [rows] = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown as [T[], unknown];
  return rows;
}

/** Runs an INSERT/UPDATE/DELETE through knex raw and gives back mysql2's result header. */
export async function execute(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<WriteResult> {
  const [header] = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown as [WriteResult, unknown];
  return header;
}

/** "?, ?, ?" for n values. */
export function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

/**
 * BIGINT columns arrive as numbers when they fit (supportBigNumbers without bigNumberStrings) and
 * as strings when they do not; a ledger figure past 2^53 must fail loudly, not round.
 */
export function toSafeInt(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${what} is not a safe integer: ${String(value)}`);
  return n;
}

/** TINYINT(1) arrives as 0/1. */
export function toBool(value: unknown): boolean {
  return value === true || Number(value) === 1;
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ER_DUP_ENTRY';
}
