import { Redis } from 'ioredis';
import { loadConfig, type Config, type Role } from '../../src/config.ts';
import { signToken, tokenRules } from '../../src/http/auth/jwt.ts';
import type { Claims } from '../../src/http/auth/claims.ts';
import { start, type Running, type StartOptions } from '../../src/runtime.ts';
import { createTestDatabase, TEST_REDIS, uniqueName, type TestDatabase } from './db.ts';
import { notStopped } from './rootHooks.ts';

export interface TestConveyor {
  config: Config;
  running: Running;
  database: TestDatabase;
  prefix: string;
  url: string;
  token(claims: Omit<Claims, 'exp'> & Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  /** POSTs JSON (or a raw string) and returns status, headers and the parsed body. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** Stops it, deletes its keys and drops its database; `keep` leaves both for a post-mortem. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { protocol: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function answer(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * Starts Conveyor in this process on a fresh database and a unique queue prefix, with roles as
 * given (all by default) and the HTTP server on a free port.
 */
export async function startConveyor(
  opts: { roles?: Role[]; env?: Record<string, string>; /** The URL the app uses for its (fresh) database, e.g. through a proxy. */ databaseVia?: (url: string) => string } & StartOptions = {},
): Promise<TestConveyor> {
  const database = await createTestDatabase();
  const prefix = uniqueName('t');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: opts.databaseVia ? opts.databaseVia(database.url) : database.url,
    REDIS_URL: TEST_REDIS,
    QUEUE_PREFIX: prefix,
    OUTBOX_POLL: '100ms',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const running = await start(config, opts.roles ?? config.roles, { metricsDefaults: false, ...opts });
  const url = `http://127.0.0.1:${running.port}`;
  // Checked after the run (rootHooks.ts): its keys must not outlive the tests.
  if (config.redisUrl === TEST_REDIS) notStopped.set(prefix, new Error().stack?.split('\n').find((line) => line.includes('.test.ts'))?.trim() ?? 'unknown test');
  return {
    config,
    running,
    database,
    prefix,
    url,
    token: (claims, ttl) => signToken(tokenRules(config), claims, ttl),
    async post(path, body, headers = {}) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      return answer(await fetch(url + path, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } }));
    },
    async get(path, headers = {}) {
      return answer(await fetch(url + path, { headers }));
    },
    async stop({ keep = false } = {}) {
      await running.stop();
      notStopped.delete(prefix);
      if (keep) return;
      await deleteKeys(TEST_REDIS, prefix);
      await database.drop();
    },
  };
}
