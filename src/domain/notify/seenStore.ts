import type { Redis } from 'ioredis';

export interface SeenRecord {
  event_id: string;
  seen_at: string;
}

/**
 * Remembers who saw what for the tag's window. The first writer wins (SET NX), which is also how
 * repeats inside the window are recognised and not delivered again.
 */
export class SeenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(seenKey: string): string {
    return `${this.prefix}:seen:${seenKey}`;
  }

  /** Records the fact unless it is already remembered; returns the record that stands. */
  async remember(seenKey: string, record: SeenRecord, ttlMs: number): Promise<{ first: boolean; record: SeenRecord }> {
    const key = this.key(seenKey);
    const set = await this.redis.set(key, JSON.stringify(record), 'PX', ttlMs, 'NX');
    if (set === 'OK') return { first: true, record };
    const existing = await this.redis.get(key);
    // The key can expire between SET and GET; then this record stands.
    return { first: false, record: existing ? (JSON.parse(existing) as SeenRecord) : record };
  }

  async forget(seenKey: string): Promise<void> {
    await this.redis.del(this.key(seenKey));
  }

  async lookup(seenKey: string): Promise<SeenRecord | null> {
    const value = await this.redis.get(this.key(seenKey));
    return value ? (JSON.parse(value) as SeenRecord) : null;
  }
}
