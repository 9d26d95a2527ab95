import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { connectionFromUrl } from './db.ts';
import { redisSeeds } from './redis.ts';

const HOW_TO_START = 'Start Redis and MySQL with `docker compose up -d redis mysql`';
const TIMEOUT_MS = 5_000;

/** The URL without its password, for a message a person reads. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

async function mysqlProblem(url: string): Promise<string | null> {
  try {
    const { host, port, user, password } = connectionFromUrl(url, null);
    const conn = await createConnection({ host, port, user, password, connectTimeout: TIMEOUT_MS });
    await conn.end();
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR') return `MySQL at ${shown(url)} refused the credentials in DATABASE_URL`;
    return `MySQL is not reachable at ${shown(url)} (${reason(err)}). ${HOW_TO_START}, or set DATABASE_URL.`;
  }
}

/** One seed of a cluster's REDIS_URL answering is enough: it shows the client the other nodes. */
async function redisProblem(url: string): Promise<string | null> {
  const problems = await Promise.all(redisSeeds(url).map(seedProblem));
  return problems.some((p) => p === null) ? null : problems.join('; ');
}

async function seedProblem(url: string): Promise<string | null> {
  // One attempt, no retries: the running process's connections retry; this only asks "is it there".
  const redis = new Redis(url, { protocol: 2, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: TIMEOUT_MS, enableOfflineQueue: false });
  // The socket's error (ECONNREFUSED) says more than the "Connection is closed." connect() rejects with.
  let socketError: unknown;
  redis.on('error', (err) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `Redis is not reachable at ${shown(url)} (${reason(socketError ?? err)}). ${HOW_TO_START}, or set REDIS_URL.`;
  } finally {
    redis.disconnect();
  }
}

/** One line per dependency that does not answer; empty when both do. */
export async function dependencyProblems(deps: { databaseUrl?: string; redisUrl?: string }): Promise<string[]> {
  const problems = await Promise.all([
    deps.databaseUrl ? mysqlProblem(deps.databaseUrl) : null,
    deps.redisUrl ? redisProblem(deps.redisUrl) : null,
  ]);
  return problems.filter((p): p is string => p !== null);
}
