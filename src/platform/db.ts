import knexFactory, { type Knex } from 'knex';
import { migrations } from '../db/migrations/index.ts';
import { MigrationRefused } from '../db/pendingEvents.ts';
import { binaryCollation } from './collation.ts';

export type Db = Knex;

// mysql2's number for utf8mb4_bin: a session collation every server knows.
const UTF8MB4_BIN = 46;

/**
 * A transaction: `trx(table)` and `trx.raw(sql)` build knex queries that run on its connection.
 * withTransaction makes them; a knex transaction (`db.transaction`) is one too.
 */
export interface Trx {
  (table: string): Knex.QueryBuilder;
  raw: Knex['raw'];
}
/** Runs a function in a transaction and returns what it returned (withTransaction, or a wrapper around it). */
export type Transactor = <T>(fn: (trx: Trx) => Promise<T>) => Promise<T>;

export function connectionFromUrl(url: string, database: string | null, connectTimeoutMs = 10_000): Knex.MySql2ConnectionConfig {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    ...(database ? { database } : {}),
    // The session collation by number, not `charset`: knex copies a `charset` into every CREATE
    // TABLE as `DEFAULT CHARACTER SET utf8mb4`, whose default collation (utf8mb4_general_ci)
    // overrides the database's. Without it new tables take the database default (binaryCollation).
    charsetNumber: UTF8MB4_BIN,
    timezone: 'Z',
    connectTimeout: connectTimeoutMs,
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    // A transaction sends its BEGIN and its unanswered writes with its next statement, in one
    // round trip (runTransaction). Every statement is built from placeholders, never from input.
    multipleStatements: true,
  };
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(name)) throw new Error(`bad database name in DATABASE_URL: "${name}"`);
  return name;
}

// Pools whose sessions run READ COMMITTED (createDb's readCommitted): withTransaction skips the
// per-transaction SET TRANSACTION round trip there.
const readCommittedPools = new WeakSet<Db>();

// Every pool createDb made: sql.ts sends their statements straight to mysql2 (queryPool).
const pools = new WeakSet<Db>();

/** A pool made by createDb (not a knex transaction, not another knex instance). */
export function isPool(conn: unknown): conn is Db {
  return pools.has(conn as Db);
}

/**
 * `readCommitted`: every session of the pool runs READ COMMITTED, for hot paths that ask for it on
 * every transaction (the outbox batch runner): their BEGIN is then one statement, not two.
 */
export interface DbOptions {
  readCommitted?: boolean;
  /** How long opening a connection (TCP and MySQL handshake) may take. */
  connectTimeoutMs?: number;
  /** How long a query may wait for a free connection of the pool (a new one included). */
  acquireTimeoutMs?: number;
  /** No knex warnings on the console (a probe that reports failures itself). */
  quiet?: boolean;
}

const silent = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };

export function createDb(url: string, poolMax = 20, opts: DbOptions = {}): Db {
  const db = knexFactory({
    client: 'mysql2',
    connection: connectionFromUrl(url, databaseName(url), opts.connectTimeoutMs),
    pool: {
      min: 0,
      max: poolMax,
      ...(opts.readCommitted
        ? {
            afterCreate: (conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) =>
              conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err) => done(err, conn)),
          }
        : {}),
    },
    acquireConnectionTimeout: opts.acquireTimeoutMs ?? 10_000,
    ...(opts.quiet ? { log: silent } : {}),
    migrations: { migrationSource: migrationSource(), tableName: 'knex_migrations' },
  });
  pools.add(db);
  if (opts.readCommitted) readCommittedPools.add(db);
  return db;
}

/** Creates the database named in the URL if it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const admin = knexFactory({ client: 'mysql2', connection: connectionFromUrl(url, null), pool: { min: 0, max: 1 } });
  try {
    const collation = await binaryCollation(admin);
    await admin.raw(`CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE ${collation}`, [databaseName(url)]);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const admin = knexFactory({ client: 'mysql2', connection: connectionFromUrl(url, null), pool: { min: 0, max: 1 } });
  try {
    await admin.raw('DROP DATABASE IF EXISTS ??', [databaseName(url)]);
  } finally {
    await admin.destroy();
  }
}

/** Migrations come from an explicit list, not a directory scan, so a missing file fails to typecheck. */
function migrationSource(): Knex.MigrationSource<(typeof migrations)[number]> {
  return {
    getMigrations: async () => migrations,
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: m.up, down: m.down }),
  };
}

/**
 * Runs every pending migration. A contract migration that refuses (MigrationRefused) does not hold
 * back the ones after it: they run, then the first refusal throws.
 */
export async function migrate(db: Db): Promise<string[]> {
  const { applied, refused } = await migrateAroundRefused(db);
  if (refused[0]) throw refused[0];
  return applied;
}

/**
 * Runs pending migrations one at a time, in order, and steps over each one that refuses to run yet
 * (a contract step waiting for old events to drain), returning the refusals instead of throwing:
 * `npm start` goes on without those steps, whose code works on both sides of them, but with every
 * migration after them (a later table must not wait for a column drop). A contract step is
 * therefore never what a later migration needs. Any other error throws.
 */
export async function migrateAroundRefused(db: Db): Promise<{ applied: string[]; refused: MigrationRefused[] }> {
  const applied: string[] = [];
  const refused: MigrationRefused[] = [];
  // Pending ones come back as this source's entries (migrationSource), in their order.
  const [, pending] = (await db.migrate.list()) as [unknown, (typeof migrations)[number][]];
  for (const { name } of pending) {
    try {
      const [, names] = (await db.migrate.up({ name })) as [number, string[]];
      applied.push(...names);
    } catch (err) {
      if (!(err instanceof MigrationRefused)) throw err;
      refused.push(err);
    }
  }
  return { applied, refused };
}

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CHECKREAD']);

export function isRetryableTxError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && RETRYABLE.has(code);
}

export interface TransactionOptions {
  attempts?: number;
  isolationLevel?: 'read committed' | 'repeatable read';
}

/** The mysql2 connection of a pooled session, as knex's pool hands it out. */
export interface SqlConnection {
  query(sql: string, bindings: readonly unknown[], cb: (err: Error | null, result: unknown) => void): unknown;
  /** A prepared statement (cached on the connection by its text), values sent in the binary protocol. */
  execute(sql: string, bindings: readonly unknown[], cb: (err: Error | null, result: unknown) => void): void;
  /** The statement with its values escaped in, as query() would send it. */
  format(sql: string, bindings: readonly unknown[]): string;
  /** Set when the session broke (knex's pool then drops it instead of reusing it). */
  __knex__disposed?: unknown;
}

interface PoolClient {
  acquireConnection(): Promise<SqlConnection>;
  releaseConnection(conn: SqlConnection): Promise<unknown>;
}

const poolOf = (db: Db) => db.client as unknown as PoolClient;

// The connection each of our transactions holds, for sql.ts to run statements on it directly.
const connections = new WeakMap<Trx, SqlConnection>();

/** The connection a transaction made by withTransaction holds (undefined for a pool or a knex transaction). */
export function connectionOf(conn: Db | Trx): SqlConnection | undefined {
  return connections.get(conn);
}

/**
 * One statement on a connection, straight through mysql2: what knex's raw does, without its
 * builder, runner and events. `execute` prepares it: the values go in the binary protocol, neither
 * escaped nor parsed as SQL. An undefined binding is refused (knex refuses it too; mysql2 would
 * send NULL).
 */
function send(conn: SqlConnection, how: 'query' | 'execute', sql: string, bindings: readonly unknown[]): Promise<unknown> {
  const undefinedBinding = refuseUndefined(sql, bindings);
  if (undefinedBinding) return Promise.reject(undefinedBinding);
  return new Promise((resolve, reject) => conn[how](sql, bindings, (err, result) => (err ? reject(err) : resolve(result))));
}

function refuseUndefined(sql: string, bindings: readonly unknown[]): Error | null {
  for (const b of bindings) if (b === undefined) return new Error(`undefined binding in: ${sql.slice(0, 200)}`);
  return null;
}

/**
 * What a transaction made by withTransaction has not sent yet: its opening (BEGIN, after SET
 * TRANSACTION when it asks for an isolation level) and the writes whose answers nobody reads
 * (deferOn). They go out in front of its next statement, as one multi-statement query, or in front
 * of its COMMIT: one round trip where there were several, in the same order, on the same session.
 * A deferred write that fails fails the statement or the COMMIT it went out with, and so the
 * transaction; MySQL runs nothing after the failed statement of a multi-statement query.
 */
interface Unsent {
  /** BEGIN (after SET TRANSACTION when asked) until it goes out; null once it has: the session is in the transaction. */
  opening: string[] | null;
  /** Deferred writes not sent yet, in order. */
  writes: string[];
  /** Characters in `writes`. */
  chars: number;
  /** Why a deferred write failed: the transaction fails with it, at its next statement or COMMIT. */
  failed?: unknown;
}

const unsentOf = new WeakMap<SqlConnection, Unsent>();

function hasUnsent(unsent: Unsent | undefined): unsent is Unsent {
  return unsent !== undefined && (unsent.opening !== null || unsent.writes.length > 0);
}

function takeUnsent(unsent: Unsent): string[] {
  const statements = [...(unsent.opening ?? []), ...unsent.writes];
  unsent.opening = null;
  unsent.writes = [];
  unsent.chars = 0;
  return statements;
}

/**
 * A multi-statement query: resolves with the last statement's result. On an error MySQL ran none
 * of the statements after the failed one; `failedAt` says which one it was.
 */
function sendAll(conn: SqlConnection, statements: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const command = conn.query(statements.join(';\n'), [], (err, results) => {
      if (!err) resolve(statements.length > 1 ? (results as unknown[])[statements.length - 1] : results);
      else {
        // mysql2 counts the statements it has seen answered: the failed one is the next.
        failedAt.set(err, (command as { _resultIndex?: number } | undefined)?._resultIndex ?? 0);
        reject(err);
      }
    });
  });
}

const failedAt = new WeakMap<Error, number>();

/**
 * One statement of a transaction made by withTransaction (sql.ts), sent with what the transaction
 * has not sent yet. A prepared statement cannot share a query: what is unsent goes first, alone.
 */
export async function statementOn(conn: SqlConnection, sql: string, bindings: readonly unknown[], prepared: boolean): Promise<unknown> {
  const unsent = unsentOf.get(conn);
  if (unsent?.failed !== undefined) throw unsent.failed;
  if (!hasUnsent(unsent)) return send(conn, prepared ? 'execute' : 'query', sql, bindings);
  const undefinedBinding = refuseUndefined(sql, bindings);
  if (undefinedBinding) throw undefinedBinding;
  if (prepared) {
    await sendAll(conn, takeUnsent(unsent)).catch((err: unknown) => {
      unsent.failed ??= err;
      throw err;
    });
    return send(conn, 'execute', sql, bindings);
  }
  const statements = [...takeUnsent(unsent), conn.format(sql, bindings)];
  try {
    return await sendAll(conn, statements);
  } catch (err) {
    // A deferred write failed, not this statement: whoever catches this statement's errors (a
    // duplicate key taken for "already there") must not carry on without that write. The
    // transaction fails at its next statement or its COMMIT whatever the caller does.
    if ((failedAt.get(err as Error) ?? 0) < statements.length - 1) unsent.failed ??= err;
    throw err;
  }
}

/**
 * Queues a write of a transaction made by withTransaction: it goes out with the transaction's next
 * statement or its COMMIT. For writes whose answer (affected rows, insert id, a duplicate key) no
 * one reads: a failure fails the transaction later, at that statement. Returns a promise to await
 * when the queue grew large and went out now (null otherwise).
 */
export function deferOn(conn: SqlConnection, sql: string, bindings: readonly unknown[]): Promise<unknown> | null {
  const unsent = unsentOf.get(conn);
  if (!unsent) throw new Error('deferOn: not a connection of a withTransaction transaction');
  const undefinedBinding = refuseUndefined(sql, bindings);
  if (undefinedBinding) throw undefinedBinding;
  const statement = conn.format(sql, bindings);
  unsent.writes.push(statement);
  unsent.chars += statement.length;
  // One query must fit the server's max_allowed_packet (16 MiB by default).
  return unsent.chars >= UNSENT_FLUSH_CHARS ? sendAll(conn, takeUnsent(unsent)) : null;
}

/** Characters of deferred statements from which they go out without waiting for the next statement. */
export const UNSENT_FLUSH_CHARS = 1 << 20;

/**
 * The connection a knex statement of the transaction runs on. What is unsent goes out ahead of it
 * (mysql2 runs a session's queries in order). When that includes deferred writes, the knex
 * statement waits for their answer and fails with their error: after a deadlock InnoDB has rolled
 * the transaction back, and a statement sent behind it would run, and commit, on its own.
 */
function connectionForKnex(conn: SqlConnection): SqlConnection {
  const unsent = unsentOf.get(conn);
  if (!hasUnsent(unsent)) return conn;
  const openingOnly = unsent.writes.length === 0;
  const ahead = sendAll(conn, takeUnsent(unsent));
  ahead.catch((err: unknown) => (unsent.failed ??= err));
  if (openingOnly) return conn;
  const gated = Object.create(conn) as SqlConnection;
  gated.query = (sql, bindings, cb) => {
    ahead.then(
      () => {
        conn.query(sql, bindings, cb);
      },
      (err: Error) => cb(err, undefined),
    );
  };
  return gated;
}

/** One statement on a connection of the pool, taken for it alone. */
export async function queryPool(db: Db, sql: string, bindings: readonly unknown[] = [], prepared = false): Promise<unknown> {
  const pool = poolOf(db);
  const conn = await pool.acquireConnection();
  try {
    return await send(conn, prepared ? 'execute' : 'query', sql, bindings);
  } finally {
    await pool.releaseConnection(conn);
  }
}

/** A transaction on `conn`, and what ends it: after `close` every statement on it is refused. */
function bind(db: Db, conn: SqlConnection): { trx: Trx; close: () => void } {
  let open = true;
  // A statement sent after the end would run in whatever the pool's next user does with the session.
  const using = () => {
    if (!open) throw new Error('this transaction has already finished');
    return connectionForKnex(conn);
  };
  const trx = Object.assign((table: string) => db(table).connection(using()), {
    raw: ((sql: string, bindings?: readonly Knex.RawBinding[]) => (bindings ? db.raw(sql, bindings) : db.raw(sql)).connection(using())) as Knex['raw'],
  });
  connections.set(trx, conn);
  return {
    trx,
    close: () => {
      open = false;
      connections.delete(trx);
    },
  };
}

/**
 * BEGIN, fn, COMMIT on one connection of the pool (ROLLBACK if fn throws). A knex transaction
 * does the same at several times the CPU: a knex instance built per transaction, and its
 * runner around every statement. BEGIN goes out with fn's first statement and deferred writes
 * with the statement after them or with COMMIT (Unsent), so a transaction of three writes is one
 * round trip.
 */
async function runTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>, isolationLevel: string | undefined): Promise<T> {
  const pool = poolOf(db);
  const conn = await pool.acquireConnection();
  const bound = bind(db, conn);
  const opening = isolationLevel ? [`SET TRANSACTION ISOLATION LEVEL ${isolationLevel === 'read committed' ? 'READ COMMITTED' : 'REPEATABLE READ'}`, 'BEGIN'] : ['BEGIN'];
  const unsent: Unsent = { opening, writes: [], chars: 0 };
  unsentOf.set(conn, unsent);
  try {
    let out: T;
    try {
      out = await fn(bound.trx);
      if (unsent.failed !== undefined) throw unsent.failed;
    } catch (err) {
      // A session whose ROLLBACK failed is broken (its server went away): never reuse it.
      if (unsent.opening === null) await send(conn, 'query', 'ROLLBACK', []).catch((rollbackErr: unknown) => (conn.__knex__disposed = rollbackErr));
      throw err;
    }
    // A transaction that sent nothing and left nothing to send has nothing to commit.
    if (unsent.opening !== null && unsent.writes.length === 0) return out;
    try {
      await sendAll(conn, [...takeUnsent(unsent), 'COMMIT']);
    } catch (err) {
      // The outcome of a COMMIT without an answer is unknown; this session is not reused. A
      // deferred write that failed ahead of it left the transaction open: end it.
      if (isServerError(err)) await send(conn, 'query', 'ROLLBACK', []).catch((rollbackErr: unknown) => (conn.__knex__disposed = rollbackErr));
      else conn.__knex__disposed = err;
      throw err;
    }
    return out;
  } finally {
    unsentOf.delete(conn);
    bound.close();
    await pool.releaseConnection(conn);
  }
}

/** An error the server answered with (a statement failed), not a lost connection. */
function isServerError(err: unknown): boolean {
  return typeof (err as { errno?: unknown } | null)?.errno === 'number' && (err as { fatal?: boolean }).fatal !== true;
}

/**
 * Runs fn in a transaction, retrying the whole transaction on deadlock or lock-wait timeout.
 * InnoDB rolls the victim back, so retrying from the top is safe.
 */
export async function withTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  const sessionHasIt = opts.isolationLevel === 'read committed' && readCommittedPools.has(db);
  const isolationLevel = sessionHasIt ? undefined : opts.isolationLevel;
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransaction(db, fn, isolationLevel);
    } catch (err) {
      if (!isRetryableTxError(err) || attempt >= attempts) throw err;
      // Jittered pause so the two deadlocked transactions do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
