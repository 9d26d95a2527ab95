import { createDb, type Db } from './db.ts';
import { Unavailable } from './errors.ts';
import type { Logger } from './logger.ts';

interface MysqlConnection {
  stream: { destroy(err?: Error): void };
}

interface KnexInternals {
  acquireConnection(): Promise<unknown>;
  pool?: { used: { resource: MysqlConnection }[] };
}

const internals = (db: Db) => db.client as unknown as KnexInternals;

/**
 * Fails the queries waiting on every connection of the pool that is in use. A MySQL that stops
 * answering (a network partition, a frozen host) leaves them waiting forever: no error comes back.
 */
function failBusyConnections(db: Db): number {
  const used = internals(db).pool?.used ?? [];
  for (const { resource } of used) resource.stream.destroy(Object.assign(new Error('MySQL did not answer'), { code: 'ETIMEDOUT' }));
  return used.length;
}

export interface DbWatchOptions {
  everyMs: number;
  timeoutMs: number;
}

/**
 * Probes MySQL every `everyMs` on a connection of its own. While a probe goes unanswered past
 * `timeoutMs`, the watched pools refuse new queries at once (503 with Retry-After) and the queries
 * stuck on their connections fail, so requests answer within about everyMs + timeoutMs instead
 * of hanging; the first answered probe lets queries through again. Connection and acquire
 * timeouts (DB_CONNECT_TIMEOUT, DB_ACQUIRE_TIMEOUT) bound the rest.
 */
export class DbWatch {
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly probe: Db;
  private running: Promise<string | null> | undefined;

  constructor(
    url: string,
    private readonly pools: Db[],
    private readonly opts: DbWatchOptions,
    private readonly log: Logger,
  ) {
    this.probe = createDb(url, 1, { connectTimeoutMs: opts.timeoutMs, acquireTimeoutMs: opts.timeoutMs, quiet: true });
    for (const db of pools) {
      const client = internals(db);
      const acquire = client.acquireConnection.bind(client);
      client.acquireConnection = () => (this.lastError === null ? acquire() : Promise.reject(new Unavailable(`MySQL is unreachable: ${this.lastError}`)));
    }
  }

  /** null while MySQL answers; else why the last probe failed. */
  get error(): string | null {
    return this.lastError;
  }

  start(): void {
    this.timer = setInterval(() => void (this.running ??= this.check().finally(() => (this.running = undefined))), this.opts.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.probe.destroy();
  }

  /** One probe; also what /readyz asks. */
  async check(): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probe.raw('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs))),
      ]);
      if (this.lastError !== null) this.log.warn('mysql answers again');
      this.lastError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (this.lastError === null) {
        let failed = 0;
        for (const db of this.pools) failed += failBusyConnections(db);
        this.log.error({ err: message, failed }, 'mysql unreachable: failing fast until it answers');
      }
      this.lastError = message;
      failBusyConnections(this.probe);
    } finally {
      clearTimeout(timer);
    }
    return this.lastError;
  }
}

