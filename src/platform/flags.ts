import type { RedisClient } from './redis.ts';
import type { Db } from './db.ts';
import type { Logger } from './logger.ts';

export type FlagValue = string | number | boolean;

export interface FlagRow {
  name: string;
  value: FlagValue;
  updated_at: string;
}

/**
 * Feature flags stored in MySQL (feature_flags), read by producers at runtime. Each process keeps
 * them for at most `ttlMs` (so a change made anywhere is seen within that long without a restart)
 * and forgets them at once when a change is announced on the Redis channel `<prefix>:flags`.
 */
export class FlagStore {
  private cache: { at: number; values: Map<string, FlagValue> } | null = null;
  private loading: Promise<Map<string, FlagValue>> | null = null;
  private subscriber: RedisClient | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly redis: RedisClient,
    private readonly channel: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
    /** Opens the subscriber connection; called on the first read, so a process that never reads flags opens none. */
    private readonly subscribe: (() => RedisClient) | null = null,
  ) {}

  async get(name: string): Promise<FlagValue | undefined> {
    return (await this.values()).get(name);
  }

  async all(): Promise<FlagRow[]> {
    const rows = (await this.db('feature_flags').select('name', 'value', 'updated_at').orderBy('name')) as { name: string; value: string; updated_at: Date }[];
    return rows.map((r) => ({ name: r.name, value: JSON.parse(r.value) as FlagValue, updated_at: r.updated_at.toISOString() }));
  }

  async set(name: string, value: FlagValue, now = new Date()): Promise<void> {
    const json = JSON.stringify(value);
    await this.db.raw('INSERT INTO feature_flags (name, value, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)', [name, json, now]);
    this.cache = null;
    // The TTL is the guarantee; the nudge only makes other processes see it sooner.
    await this.redis.publish(this.channel, name).catch((err: unknown) => this.log.warn({ err }, 'flag change not announced; others see it within the TTL'));
  }

  private async values(): Promise<Map<string, FlagValue>> {
    if (this.cache && Date.now() - this.cache.at < this.ttlMs) return this.cache.values;
    this.watch();
    this.loading ??= (async () => {
      try {
        const at = Date.now();
        const rows = (await this.db('feature_flags').select('name', 'value')) as { name: string; value: string }[];
        const values = new Map(rows.map((r) => [r.name, JSON.parse(r.value) as FlagValue]));
        this.cache = { at, values };
        return values;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  private watch(): void {
    if (this.subscriber || !this.subscribe || this.closed) return;
    const sub = (this.subscriber = this.subscribe());
    sub.on('error', (err) => this.log.warn({ err: err.message }, 'flag subscriber error'));
    sub.on('message', () => {
      this.cache = null;
    });
    sub.subscribe(this.channel).catch((err: unknown) => this.log.warn({ err }, 'flag subscription failed; relying on the TTL'));
  }

  close(): void {
    this.closed = true;
    this.subscriber?.disconnect();
    this.subscriber = null;
  }
}
