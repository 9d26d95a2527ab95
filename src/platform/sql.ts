import type { Knex } from 'knex';
import { connectionOf, deferOn, isPool, queryPool, statementOn, type Db, type Trx } from './db.ts';

/** Anything that can run a query: the pool or a transaction. */
export type Conn = Db | Trx;

interface WriteResult {
  affectedRows: number;
  insertId: number;
}

/**
 * One statement: on the transaction's own connection when withTransaction made it, on a pooled
 * connection for a pool made by createDb, through knex raw otherwise (a knex transaction, a
 * migration's).
 */
async function run(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[], prepared = false): Promise<unknown> {
  const own = connectionOf(conn);
  if (own) return statementOn(own, sql, bindings, prepared);
  if (isPool(conn)) return queryPool(conn, sql, bindings, prepared);
  // mysql2 answers raw queries with [rows, fields].
  const [result] = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown as [unknown, unknown];
  return result;
}

/** Runs a SELECT (or a statement with RETURNING) and gives back its rows. */
export async function selectRows<T>(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  return (await run(conn, sql, bindings)) as T[];
}

/** Runs an INSERT/UPDATE/DELETE and gives back mysql2's result header. */
export async function execute(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<WriteResult> {
  return (await run(conn, sql, bindings)) as WriteResult;
}

/**
 * execute for a write whose answer nobody reads, in a transaction made by withTransaction: it goes
 * out with the transaction's next statement or its COMMIT, in order, saving a round trip. It fails
 * the transaction there if it fails, so it is for writes whose errors no one handles on the spot
 * (not an INSERT whose duplicate key is caught). Elsewhere (the pool, a knex transaction) it runs now.
 */
export async function executeLater(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<void> {
  const own = connectionOf(conn);
  if (!own) await run(conn, sql, bindings);
  else await deferOn(own, sql, bindings);
}

/**
 * execute for a statement that carries large values (hundreds of KB of event payloads): sent as a
 * prepared statement, so mysql2 does not escape the values and MariaDB does not parse them as SQL
 * (npm run bench:sql measures both ways). The statement stays prepared on its
 * connection, keyed by its text: only for statements with few distinct texts (the server caps how
 * many it keeps, max_prepared_stmt_count).
 */
export async function executeLarge(conn: Conn, sql: string, bindings: readonly Knex.RawBinding[]): Promise<WriteResult> {
  return (await run(conn, sql, bindings, true)) as WriteResult;
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
